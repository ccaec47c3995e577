"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

pytest_plugins = ["postgres_cluster"]  # tests/postgres_cluster.py: a throw-away cluster

REPO = Path(__file__).resolve().parent.parent
# The parsed-rules cache of this test session lives in a directory of its own, not in ~/.cache.
os.environ.setdefault(
    "MEDSEC_CACHE", os.path.join(tempfile.gettempdir(), f"medsec-test-cache-{os.getpid()}")
)

SHARED_DATA = Path(os.environ.get("MEDSEC_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The third-party test data beside the repository (``../shared/data``)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"no shared test data at {SHARED_DATA} (a plain clone has no ../shared)")
    return SHARED_DATA


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden expected files from the current output (review the diff)",
    )
