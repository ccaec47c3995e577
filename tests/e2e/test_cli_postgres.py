"""The same commands against PostgreSQL, chosen by URL through ``--db`` and ``MEDSEC_DB``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medsec.simulate import generate

pytestmark = pytest.mark.postgres


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "medsec", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_discover_into_postgres_matches_sqlite(tmp_path: Path, postgres_db: str) -> None:
    result = generate(tmp_path / "h.pcap", devices=12, minutes=2, seed=5)
    sqlite_db = str(tmp_path / "s.db")
    run("--db", postgres_db, "discover", str(result.pcap))
    run("--db", sqlite_db, "discover", str(result.pcap))
    env = dict(os.environ, MEDSEC_DB=postgres_db)
    pg_edges = json.loads(run("map", "--json", env=env).stdout)
    lite_edges = json.loads(run("--db", sqlite_db, "map", "--json").stdout)

    def key(e: dict[str, object]) -> tuple[str, str, str, int]:
        return (str(e["client"]), str(e["server"]), str(e["transport"]), int(str(e["server_port"])))

    assert sorted(pg_edges, key=key) == sorted(lite_edges, key=key)
    truth = json.loads(result.truth.read_text())
    assert len(pg_edges) == len(truth["edges"])
    pg_hosts = json.loads(run("hosts", "--json", env=env).stdout)
    assert pg_hosts == json.loads(run("--db", sqlite_db, "hosts", "--json").stdout)
    again = json.loads(run("discover", str(result.pcap), "--json", env=env).stdout)
    assert again["captures"][0]["skipped"] is True
