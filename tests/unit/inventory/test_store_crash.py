"""kill -9 during an ingest leaves a consistent database that a re-run completes.

A child process ingests a large synthetic capture (flows with applications, observations)
into a store that already holds one; it signals once its write transaction has reached a
chosen point and is killed with SIGKILL there. Afterwards the database must pass SQLite's
integrity check, hold nothing of the killed capture (and the earlier capture unchanged),
and re-ingesting the capture must give exactly what a clean run gives.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from inventory_synth import big_summary, snapshot

from medsec.inventory import Store, database_url
from medsec.model.config import SiteNetworks

HERE = Path(__file__).resolve().parent
FLOWS = 10_000
SITE = SiteNetworks.default()
POINTS = [
    "capture",
    "flows",
    "observations",
    "edges",
    "edge_apps",
    "hosts",
    "bindings",
    "commit",
    "random-1",
    "random-2",
]
WRITTEN = ("flows", "observations", "edges", "edge_apps", "hosts", "bindings", "commit")
"""Points by which the killed transaction has spilled data to disk (SQLite)."""


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Snapshots of a clean run: the first capture alone, then both."""
    path = tmp_path_factory.mktemp("clean") / "clean.db"
    with Store.open(database_url(str(path))) as store:
        store.ingest(big_summary(FLOWS, seed=1), SITE)
        first = snapshot(store)
        store.ingest(big_summary(FLOWS, seed=2), SITE)
        both = snapshot(store)
    return {"first": first, "both": both}


def child_env() -> dict[str, str]:
    paths = [str(HERE), *sys.path]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def wait_for_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        raise AssertionError(f"child gave no sign within {timeout} s")
    line = proc.stdout.readline().strip()
    if not line:
        proc.wait()
        assert proc.stderr is not None
        raise AssertionError(f"child ended early ({proc.returncode}): {proc.stderr.read()}")
    return line


def sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_kill_9_during_ingest(store_url: str, point: str, clean: dict[str, Any]) -> None:
    with Store.open(store_url) as store:
        store.ingest(big_summary(FLOWS, seed=1), SITE)
        assert snapshot(store) == clean["first"]
    victim = big_summary(FLOWS, seed=2)

    proc = subprocess.Popen(
        [sys.executable, str(HERE / "inventory_crash_child.py"), store_url, str(FLOWS), "2",
         point.split("-")[0]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )  # fmt: skip
    try:
        assert wait_for_line(proc, timeout=120) == "IN-TRANSACTION"
        if point.startswith("random"):
            time.sleep(random.Random(point).uniform(0.0, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()
    if point.startswith("random"):
        assert proc.returncode in (-signal.SIGKILL, 0)  # 0: the ingest beat the kill
    else:
        assert proc.returncode == -signal.SIGKILL

    path = sqlite_path(store_url)
    if path is not None:
        wal = path.with_name(path.name + "-wal")
        if point in WRITTEN:
            # The kill really hit a transaction with data on disk (spilled, uncommitted).
            assert wal.exists() and wal.stat().st_size > 64 * 1024
        check = sqlite3.connect(path)
        try:
            assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert check.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            check.close()

    with Store.open(store_url) as store:
        if store.capture_status(victim.fingerprint) is None:
            assert snapshot(store) == clean["first"]  # nothing of the killed capture
            assert not store.ingest(victim, SITE).skipped
        else:  # "random" only: the kill came after the commit
            assert point.startswith("random")
            assert store.ingest(victim, SITE).skipped
        assert snapshot(store) == clean["both"]
