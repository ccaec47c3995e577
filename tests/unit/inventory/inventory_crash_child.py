"""Child process of test_store_crash: ingests a big synthetic capture and reports when its
write transaction has reached a given point; the test then kills it with SIGKILL.

    python inventory_crash_child.py URL FLOWS SEED POINT

POINT: ``capture`` (capture row inserted), ``flows`` (some flows written), ``observations``
(some observations written; on PostgreSQL, whose COPY is invisible here, both are written),
``edges``, ``edge_apps``, ``hosts``, ``bindings`` (that upsert ran), ``commit`` (just
before COMMIT) - the child
prints ``IN-TRANSACTION`` there and waits to be killed; ``random`` prints it after the
capture row and carries on, so the kill lands wherever the ingest happens to be.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from inventory_synth import big_summary
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from medsec.inventory import Store
from medsec.model.config import SiteNetworks


def main() -> None:
    url, flows, seed, point = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    summary = big_summary(flows, seed=seed)
    store = Store.open(url)
    state = {"capture": False, "flow_batches": 0, "observation_batches": 0}

    def reached() -> None:
        sys.stdout.write("IN-TRANSACTION\n")
        sys.stdout.flush()
        if point != "random":
            time.sleep(600)

    @event.listens_for(Engine, "after_cursor_execute")
    def after(
        conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        head = statement.lstrip()
        if head.startswith("INSERT INTO captures"):
            state["capture"] = True
            if conn.dialect.name == "sqlite":
                # A tiny page cache: the transaction spills pages into the WAL long before
                # COMMIT, so the kill leaves uncommitted data on disk to be ignored.
                cursor.connection.execute("PRAGMA cache_size = 20")
            if point in ("capture", "random"):
                reached()
        elif head.startswith("INSERT INTO flows"):  # SQLite: one executemany per batch
            state["flow_batches"] += 1
            if point == "flows" and state["flow_batches"] == 1:
                reached()
        elif head.startswith("INSERT INTO observations"):  # SQLite: one executemany per batch
            state["observation_batches"] += 1
            if point == "observations" and state["observation_batches"] == 1:
                reached()
        elif head.startswith("CREATE TEMPORARY TABLE") and point in ("flows", "observations"):
            reached()  # PostgreSQL: all flows and observations COPYed, first staging table
        elif point in ("edges", "edge_apps", "hosts", "bindings") and head.startswith(
            f"INSERT INTO {point} "
        ):
            reached()

    @event.listens_for(Engine, "commit")
    def commit(conn: Connection) -> None:
        if point == "commit" and state["capture"]:
            reached()

    store.ingest(summary, SiteNetworks.default())
    sys.stdout.write("DONE\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
