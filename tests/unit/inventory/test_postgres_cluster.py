"""The throw-away PostgreSQL fixture skips, or fails when required, without binaries."""

from __future__ import annotations

import pytest

import postgres_cluster


def test_missing_binaries_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_cluster, "find_bindir", lambda: None)
    monkeypatch.delenv("MEDSEC_REQUIRE_POSTGRES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL server binaries"):
        postgres_cluster.require_postgres()


def test_missing_binaries_fail_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_cluster, "find_bindir", lambda: None)
    monkeypatch.setenv("MEDSEC_REQUIRE_POSTGRES", "1")
    with pytest.raises(pytest.fail.Exception, match="MEDSEC_REQUIRE_POSTGRES=1"):
        postgres_cluster.require_postgres()


def test_binaries_are_found_when_installed() -> None:
    bindir = postgres_cluster.find_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL installed here")
    assert (bindir / "initdb").is_file()
