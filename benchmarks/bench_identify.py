#!/usr/bin/env python3
"""CPU time of each phase of device identification (``identify_inventory``), as
``medsec discover`` runs it after storing a capture.

Usage::

    python benchmarks/bench_identify.py                          # the 3M-packet bench capture
    python benchmarks/bench_identify.py --capture F.pcap --runs 9
    python benchmarks/bench_identify.py --db inventory.db         # an inventory already made

The capture is discovered once (with payload inspection) into a temporary SQLite database,
with the rule cache in a temporary directory too. Its devices are then deleted, so each run
finds what discover's identification finds: everything stored, no device yet (``fresh``);
``--again`` measures re-identification instead (``medsec identify``: the devices stored).
Every run is a new process (cold: nothing cached in memory; the rule cache on disk is warm,
written by discover or by an unmeasured first run) that imports what the CLI imports, sets up
the cyclic collector as discover does (the CLI's threshold, the startup heap frozen), reads
the database once into SQLite's page cache as ingest leaves it (not with ``--cold-pages``),
then times each phase with ``time.process_time()`` around the real functions. Each phase
shows the fastest of ``--runs`` runs (the VM is noisy); ``digest`` names the devices stored,
so two versions can be checked to agree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_capture import bench_capture

PHASES = ("facts", "services", "other inputs", "load_rules", "engine", "device rows", "replace")


def child(db: str, cold_pages: bool) -> None:
    """One measured identification of ``db``; prints the phase times as JSON."""
    import gc
    import time

    from sqlalchemy.orm import configure_mappers

    import medsec.cli.main  # everything discover has imported by then
    import medsec.service.devices as service
    from medsec.identify.flow_labels import label_rules
    from medsec.inventory import device_rows
    from medsec.inventory.store import Store
    from medsec.model.config import load_settings
    from medsec.service.inventory import open_inventory

    spent: dict[str, float] = {}

    def timed(owner: object, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            started = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - started

        setattr(owner, name, wrapper)

    timed(device_rows, "facts", "facts")
    timed(device_rows, "services", "services")
    timed(Store, "identification_inputs", "inputs")
    timed(service, "load_rules", "load_rules")
    timed(service, "identify_devices", "engine")
    timed(service, "device_row", "device rows")
    timed(Store, "replace_devices", "replace")
    settings = load_settings(None)
    store = open_inventory(settings, db)
    configure_mappers()  # discover's ingest has used the ORM by then
    label_rules()  # and labelled the edges with the flow labels
    if not cold_pages and store.dialect == "sqlite":
        # ingest leaves the database in the page cache of the pooled connection (32 MiB):
        # a check that reads every page of every table and index puts it there
        with store._read() as conn:
            conn.exec_driver_sql("PRAGMA quick_check").all()
    # the collector as discover leaves it: the CLI's threshold, the startup heap frozen
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(medsec.cli.main.GC_YOUNG_THRESHOLD, older, oldest)
    gc.freeze()
    started = time.process_time()
    service.identify_inventory(store, settings)
    spent["total"] = time.process_time() - started
    spent["other inputs"] = spent.pop("inputs") - spent["facts"] - spent["services"]
    print(json.dumps(spent))


def digest(db: Path) -> str:
    """The stored devices and their addresses (not when they were identified)."""
    h = hashlib.sha256()
    conn = sqlite3.connect(db)
    try:
        for row in conn.execute(
            "SELECT id, key, first_seen, last_seen, category, medical, vendor, model, os, "
            "handles_phi, record FROM devices ORDER BY id"
        ):
            h.update(repr(row).encode())
        for row in conn.execute("SELECT * FROM device_addresses ORDER BY id"):
            h.update(repr(row).encode())
    finally:
        conn.close()
    return h.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--capture", type=Path, help="default: the simulated 3M-packet capture (bench_capture.py)"
    )
    parser.add_argument("--db", type=Path, help="an inventory to identify (skip discover)")
    parser.add_argument("--runs", type=int, default=7, help="fresh processes (default 7)")
    parser.add_argument("--again", action="store_true", help="keep the stored devices")
    parser.add_argument(
        "--cold-pages", action="store_true", help="start with an empty SQLite page cache"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.cold_pages)
        return
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    with tempfile.TemporaryDirectory(prefix="bench-identify-") as tmp:
        env = {**os.environ, "MEDSEC_CACHE": os.path.join(tmp, "cache")}
        env.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tmp, "pyc"))
        base = Path(tmp) / "base.db"
        if args.db is not None:  # a consistent copy, write-ahead log included
            source, copy = sqlite3.connect(args.db), sqlite3.connect(base)
            source.backup(copy)
            source.close()
            copy.close()
        else:
            capture = args.capture or bench_capture(3_000_000, 400)
            print(f"discovering {capture} ...", file=sys.stderr, flush=True)
            cli = "import sys; from medsec.cli.main import main; sys.argv[0] = 'medsec'; main()"
            subprocess.run(
                [sys.executable, "-c", cli, "--db", str(base), "discover", str(capture)]
                + ["--json", "--inspect"],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        # the last connection to close folds the write-ahead log into the file, so the
        # file alone is the whole database when copied
        conn = sqlite3.connect(base)
        if not args.again:
            with conn:
                conn.execute("DELETE FROM device_addresses")
                conn.execute("DELETE FROM devices")
        conn.close()
        best: dict[str, float] = {}
        digests = set()
        for n in range(args.runs + 1):  # run 0 warms the rule cache and the page cache
            run_db = Path(tmp) / f"run{n}.db"  # a new name: no log left by the last run
            shutil.copyfile(base, run_db)
            out = subprocess.run(
                [*pin, sys.executable, __file__, "--child", str(run_db)]
                + (["--cold-pages"] if args.cold_pages else []),
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            times = json.loads(out.strip().splitlines()[-1])
            digests.add(digest(run_db))
            for leftover in Path(tmp).glob(f"{run_db.name}*"):  # with its -wal and -shm
                leftover.unlink()
            if n == 0:
                continue
            for phase, seconds in times.items():
                best[phase] = min(seconds, best.get(phase, seconds))
            print(f"run {n}: total {times['total']:.3f} s", file=sys.stderr, flush=True)
    mode = "again (devices stored)" if args.again else "fresh (no device stored)"
    mode += ", cold page cache" if args.cold_pages else ""
    print(f"identify_inventory CPU seconds, min of {args.runs} fresh processes, {mode}:")
    for phase in (*PHASES, "total"):
        print(f"  {phase:<13} {best.get(phase, 0.0):.3f}")
    print(f"  digest        {', '.join(sorted(digests))}")


if __name__ == "__main__":
    main()
