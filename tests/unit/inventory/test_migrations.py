"""The Alembic migrations create exactly the models' schema, on both engines."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from inventory_synth import SynthBeacon, binding, ctx, flow, snapshot, summary
from sqlalchemy import Connection, MetaData, create_engine, insert, inspect, text

from medsec.inventory import EdgeQuery, Store
from medsec.inventory.aggregate import (
    BINDING_COLUMNS,
    EDGE_COLUMNS,
    FLOW_COLUMNS,
    HOST_COLUMNS,
    capture_rows,
)
from medsec.inventory.migrate import MIGRATIONS, alembic_config, current_revisions, head_revision
from medsec.inventory.models import Base
from medsec.model.config import SiteNetworks
from medsec.model.errors import InventoryError
from medsec.model.traffic import CaptureSummary

TABLES_0001 = {"alembic_version", "captures", "flows", "edges", "hosts", "bindings"}


@contextmanager
def connection(url: str) -> Iterator[Connection]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def test_migrations_are_up_to_date_with_models(store_url: str) -> None:
    Store.open(store_url).close()
    with connection(store_url) as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_heads() == (head_revision(),)


def test_one_linear_history_without_model_imports() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert revision.path is not None
        lines = Path(revision.path).read_text(encoding="utf-8").splitlines()
        imports = [line for line in lines if line.startswith(("import ", "from "))]
        assert not [line for line in imports if "medsec" in line], (
            f"{revision.path}: revisions are frozen and must not import medsec"
        )
    assert (MIGRATIONS / "env.py").is_file()


def test_downgrade_to_base_and_back(store_url: str) -> None:
    Store.open(store_url).close()
    with connection(store_url) as conn:
        with conn.begin():
            command.downgrade(alembic_config(conn), "base")
        with conn.begin():
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        with conn.begin():
            command.upgrade(alembic_config(conn), "head")
        with conn.begin():
            assert set(inspect(conn).get_table_names()) == TABLES_0001 | {
                "edge_apps",
                "observations",
                "devices",
                "device_addresses",
                *VULN_TABLES_0004,
                *FINDING_TABLES_0005,
            }


VULN_TABLES_0004 = {
    "vulnerabilities",
    "vulnerability_products",
    "advisories",
    "advisory_products",
    "advisory_cves",
    "kev_entries",
    "epss_scores",
    "sboms",
    "sbom_components",
    "vex_statements",
    "feed_imports",
}
FINDING_TABLES_0005 = {"findings", "finding_history"}

EDGE_0001 = EDGE_COLUMNS.index("external") + 1
"""Edge columns at revision 0001 (the labels came with 0003)."""


def store_as_0001(conn: Connection, s: CaptureSummary, site: SiteNetworks) -> None:
    """Write a capture the way medsec did at revision 0001 (no applications, observations)."""
    tables = MetaData()
    tables.reflect(conn)
    rows = capture_rows(s, site, s.last_seen or s.first_seen, lambda t: t)  # type: ignore[arg-type]
    capture_id = conn.execute(
        insert(tables.tables["captures"])
        .values(rows.capture)
        .returning(tables.tables["captures"].c.id)
    ).scalar_one()
    old_flow_columns = FLOW_COLUMNS[:-1]
    assert FLOW_COLUMNS[-1] == "app"
    for table, columns, found in (
        ("flows", old_flow_columns, [r[:-1] for b in rows.flow_rows(capture_id, 100) for r in b]),
        ("edges", EDGE_COLUMNS[:EDGE_0001], [r[:EDGE_0001] for r in rows.edges]),
        ("hosts", HOST_COLUMNS, rows.hosts),
        ("bindings", BINDING_COLUMNS, rows.bindings),
    ):
        conn.execute(
            insert(tables.tables[table]), [dict(zip(columns, r, strict=True)) for r in found]
        )


def test_upgrade_from_0001_keeps_data_and_downgrades(store_url: str) -> None:
    site = SiteNetworks.default()
    old = summary(
        "old",
        [
            flow("10.0.0.1", "10.0.0.2", 104),
            flow("10.0.0.1", "10.0.0.2", 104, start=5),
            flow("10.0.0.3", "8.8.8.8", 53, transport="udp"),
        ],
        [binding("10.0.0.1", "02:00:00:00:00:01", vlan=3)],
    )
    with connection(store_url) as conn:
        with conn.begin():
            command.upgrade(alembic_config(conn), "0001")
        with conn.begin():
            assert current_revisions(conn) == ("0001",)
            store_as_0001(conn, old, site)
    # What a store written at head from the same capture shows.
    with Store.open("sqlite://") as fresh:
        fresh.ingest(old, site)
        expected = snapshot(fresh)

    with Store.open(store_url) as store:  # upgrades to head
        upgraded = snapshot(store)
        assert upgraded == expected
        assert [f.app for f in store.flows()] == [None, None, None]
        assert [(e.apps, e.app) for e in store.edges()] == [((), None), ((), None)]
        assert store.observations() == []
        assert store.totals().observations == 0
        # The upgraded store takes new captures with applications and observations.
        new = summary(
            "new",
            [flow("10.0.0.1", "10.0.0.2", 104, start=9, app="dicom")],
            observations=[SynthBeacon(ctx=ctx(9), serial="x")],
        )
        assert store.ingest(new, site).observations == 1
        assert store.ingest(old, site).skipped
        (edge,) = store.edges(EdgeQuery(app="dicom"))
        assert (edge.flows, edge.apps) == (3, ("dicom",))

    with connection(store_url) as conn:
        with conn.begin():
            command.downgrade(alembic_config(conn), "0001")
        with conn.begin():
            inspector = inspect(conn)
            assert set(inspector.get_table_names()) == TABLES_0001
            assert "app" not in {c["name"] for c in inspector.get_columns("flows")}
            assert {i["name"] for i in inspector.get_indexes("flows")} == {
                "ix_flows_capture_id",
                "ix_flows_client_ip",
                "ix_flows_server_ip",
            }
            assert conn.execute(text("SELECT count(*) FROM flows")).scalar() == 4
            assert conn.execute(text("SELECT count(*) FROM captures")).scalar() == 2
    with Store.open(store_url) as store:  # and up again: the applications are gone
        assert [f.app for f in store.flows()] == [None] * 4
        assert store.edges(EdgeQuery(app="dicom")) == []
        assert store.totals().flows == 4


def test_newer_schema_is_refused(store_url: str) -> None:
    Store.open(store_url).close()
    with connection(store_url) as conn, conn.begin():
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(InventoryError, match="newer than this medsec"):
        Store.open(store_url)
    with connection(store_url) as conn:  # and left untouched
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"


def test_concurrent_first_opens_migrate_once(store_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_store() -> None:
        try:
            barrier.wait()
            Store.open(store_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with connection(store_url) as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
