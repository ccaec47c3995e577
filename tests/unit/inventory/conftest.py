"""Inventory fixtures: every store test runs on SQLite and on a throw-away PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medsec.inventory import Store, database_url
from medsec.model.config import SiteNetworks


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database: a SQLite file, or a fresh database in the PG cluster."""
    if request.param == "sqlite":
        return database_url(str(tmp_path / "inventory.db"))
    return str(request.getfixturevalue("postgres_db"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        yield opened


@pytest.fixture
def site() -> SiteNetworks:
    return SiteNetworks.parse(["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"])
