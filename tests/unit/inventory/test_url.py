"""database_url: what users type -> SQLAlchemy URLs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medsec.inventory import Store, database_url


def test_default_is_medsec_db_in_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert database_url(None) == f"sqlite:///{tmp_path}/medsec.db"
    assert database_url("") == f"sqlite:///{tmp_path}/medsec.db"


def test_paths_become_absolute_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert database_url("data/inv.db") == f"sqlite:///{tmp_path}/data/inv.db"
    assert database_url("/var/lib/medsec/medsec.db") == "sqlite:////var/lib/medsec/medsec.db"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert database_url("~/x.db") == f"sqlite:///{tmp_path}/x.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:////srv/medsec.db", "sqlite:////srv/medsec.db"),
        ("postgresql+psycopg://u:p@db/medsec", "postgresql+psycopg://u:p@db/medsec"),
        ("postgresql://u@db:5433/medsec", "postgresql+psycopg://u@db:5433/medsec"),
        ("postgres://u@db/medsec", "postgresql+psycopg://u@db/medsec"),
        (":memory:", "sqlite://"),
    ],
)
def test_urls(given: str, expected: str) -> None:
    assert database_url(given) == expected


def test_the_default_file_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Store.open(database_url(None)) as store:
        assert store.dialect == "sqlite"
    assert os.path.isfile(tmp_path / "medsec.db")


def test_in_memory_store() -> None:
    with Store.open(database_url(":memory:")) as store:
        assert store.totals().captures == 0
