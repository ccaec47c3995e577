"""The inventory store: one SQL database (SQLite file or PostgreSQL) behind one class.

``Store.ingest`` writes a capture in ONE transaction: the capture row, its flows and
observations, and the merged edges (with their applications), hosts and address bindings
(dialect upserts, executemany batches; COPY on PostgreSQL). A crash at any moment leaves
either the whole capture or nothing of it; a re-run completes it. The capture fingerprint
makes ingesting the same capture twice a no-op.

SQLite runs in WAL mode (readers - the web UI - keep reading while a capture is written),
``synchronous=NORMAL`` (a crash of the process loses nothing committed; a power cut may lose
the last transaction but never corrupts), foreign keys on, a 30 s busy timeout, and writes
take the lock up front (``BEGIN IMMEDIATE``) so two writers queue instead of deadlocking.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    Insert,
    MetaData,
    Select,
    Table,
    and_,
    create_engine,
    distinct,
    event,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import aliased
from sqlalchemy.pool import ConnectionPoolEntry

from medsec.identify.facts import Fact
from medsec.inventory import device_rows, finding_rows, migrate, vuln_rows
from medsec.inventory.aggregate import (
    BINDING_COLUMNS,
    BINDING_KEY,
    EDGE_APP_COLUMNS,
    EDGE_APP_KEY,
    EDGE_COLUMNS,
    EDGE_KEY,
    FLOW_COLUMNS,
    HOST_COLUMNS,
    HOST_KEY,
    OBSERVATION_COLUMNS,
    Row,
    capture_rows,
    host_key,
    network_key_range,
)
from medsec.inventory.device_rows import DeviceRow, ServiceRow
from medsec.inventory.models import (
    Binding,
    Capture,
    Device,
    DeviceAddress,
    Edge,
    EdgeApp,
    Flow,
    Host,
    ObservationRow,
    aware_time,
    sqlite_time,
)
from medsec.inventory.views import (
    ALL_DEVICES,
    CaptureStatus,
    CaptureView,
    DeviceAddressView,
    DeviceQuery,
    DeviceView,
    EdgeQuery,
    EdgeView,
    FlowQuery,
    FlowView,
    HostBinding,
    HostQuery,
    HostView,
    IngestResult,
    ObservationQuery,
    ObservationView,
    Totals,
)
from medsec.model.config import SiteNetworks
from medsec.model.errors import InventoryError
from medsec.model.traffic import CaptureStats, CaptureSummary
from medsec.model.vulns import (
    Advisory,
    Component,
    EpssScore,
    FeedRecord,
    KevEntry,
    VexStatement,
    Vulnerability,
)

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 30.0
POSTGRES_CONNECT_TIMEOUT_S = 10
FLOW_BATCH = 10_000
"""Flow rows per executemany call (bounds the memory of the parameter lists)."""
OBSERVATION_BATCH = 10_000
"""Observation rows per executemany call or COPY batch."""
UPSERT_BATCH = 10_000
MIGRATION_LOCK = 0x6D6564736563
FORWARDED_IPS = 2
"""ARP-owned addresses a MAC must forward for before it counts as a gateway."""
"""PostgreSQL advisory lock key held while migrating ('medsec' in ASCII)."""

Dialect = Literal["sqlite", "postgresql"]

ALL_HOSTS = HostQuery()
ALL_EDGES = EdgeQuery()
ALL_FLOWS = FlowQuery()
ALL_OBSERVATIONS = ObservationQuery()


@dataclass(frozen=True, slots=True)
class IdentificationInputs:
    bindings: list[tuple[str, str, int, datetime, datetime]]
    """(ip, mac, vlan, first seen, last seen) of every address binding."""
    hosts: list[tuple[str, bool, datetime, datetime]]
    """(ip, internal, first seen, last seen) of every host."""
    gateways: frozenset[str]
    facts: list[Fact]
    services: list[ServiceRow]


def _device_order(d: DeviceView) -> tuple[bool, str, str, str]:
    first = d.ips[0] if d.ips else (d.macs[0] if d.macs else d.key)
    return (not d.medical, d.category, host_key(first) or first, d.key)


def _reason(exc: BaseException) -> str:
    """The driver's message of a database error, on one line."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _copy(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """``COPY table (columns) FROM STDIN`` on the connection's psycopg connection, inside
    the current transaction (the fastest way to load rows into PostgreSQL)."""
    from psycopg import sql

    query = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(query) as copy:
        for row in rows:
            copy.write_row(row)


# --------------------------------------------------------------------------- engines


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy, not the sqlite3 module, emit BEGIN (the module would not for DDL).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        _sqlite_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA cache_size = -32768")  # 32 MiB: big captures spill less
    finally:
        cursor.close()


def _sqlite_wal(cursor: Any) -> None:
    """Switch the file to WAL (once per file; the mode is persistent).

    Switching takes an exclusive lock without the busy handler: when several processes
    open a new file at once, the losers get SQLITE_BUSY and retry until one has switched.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() in ("wal", "memory"):
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_on_begin(connection: Connection) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def _check_sqlite_path(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = os.path.abspath(database)
    parent = os.path.dirname(path)
    if os.path.isdir(path):
        raise InventoryError(f"cannot open database {path}: it is a directory")
    if not os.path.isdir(parent):
        raise InventoryError(f"cannot open database {path}: directory {parent} does not exist")


def _engine(url: URL) -> tuple[Engine, Dialect]:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InventoryError(
            f"unsupported database {backend!r}; use sqlite:///PATH or postgresql+psycopg://..."
        )
    driver = url.get_driver_name()
    if backend == "sqlite":
        if driver != "pysqlite":
            raise InventoryError(f"unsupported SQLite driver {driver!r}; use sqlite:///PATH")
        _check_sqlite_path(url)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine, "sqlite"
    if driver != "psycopg":
        raise InventoryError(
            f"unsupported PostgreSQL driver {driver!r}; use postgresql+psycopg://..."
        )
    engine = create_engine(
        url,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
            "application_name": "medsec",
        },
    )
    return engine, "postgresql"


# --------------------------------------------------------------------------- the store


class Store:
    """The inventory database. Open with :meth:`open`; close (or use ``with``) when done."""

    def __init__(self, engine: Engine, dialect: Dialect) -> None:
        self._engine = engine
        self._dialect: Dialect = dialect
        self._insert: Callable[[Table], Any] = (
            sqlite.insert if dialect == "sqlite" else postgresql.insert
        )
        least, greatest = (
            (func.min, func.max) if dialect == "sqlite" else (func.least, func.greatest)
        )
        self._least = least
        self._greatest = greatest

    # -- lifecycle ------------------------------------------------------------------

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to ``url`` (see ``database_url``) and bring its schema up to date.

        Raises ``InventoryError`` for every problem of the user's making: malformed or
        unsupported URL, missing driver, unreachable server, unwritable file, a file that is
        no database, a schema written by a newer medsec.
        """
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise InventoryError(
                "not a valid database URL (expected a file path, sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST/DB)"
            ) from exc
        if parsed.drivername in ("postgres", "postgresql"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        shown = parsed.render_as_string(hide_password=True)
        try:
            engine, dialect = _engine(parsed)
        except NoSuchModuleError as exc:
            raise InventoryError(f"unsupported database URL {shown}") from exc
        except ImportError as exc:
            raise InventoryError(f"the database driver for {shown} is not installed") from exc
        store = cls(engine, dialect)
        try:
            store._migrate()
        except DBAPIError as exc:
            engine.dispose()
            raise InventoryError(f"cannot open database {shown}: {_reason(exc)}") from exc
        except BaseException:
            engine.dispose()
            raise
        logger.debug("opened inventory %s", shown)
        return store

    def _migrate(self) -> None:
        with self._write() as conn:
            if self._dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            if migrate.upgrade(conn):
                logger.info("inventory schema migrated to %s", migrate.head_revision())

    def close(self) -> None:
        """Release every connection."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def dialect(self) -> Dialect:
        """``sqlite`` or ``postgresql``."""
        return self._dialect

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    # -- transactions -----------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it holds the write lock from its start."""
        with self._engine.connect() as conn:
            if self._dialect == "sqlite":
                conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read transaction: one snapshot for all its statements."""
        with self._engine.connect() as conn:
            if self._dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise InventoryError(f"cannot {action} ({self.url}): {_reason(exc)}") from exc

    # -- writing ----------------------------------------------------------------------

    def capture_status(self, fingerprint: str) -> CaptureStatus | None:
        """``complete`` / ``partial`` for a stored capture, ``None`` if it is not stored."""
        with self._errors("read the inventory"), self._read() as conn:
            status = conn.execute(
                select(Capture.status).where(Capture.fingerprint == fingerprint)
            ).scalar_one_or_none()
        return cast(CaptureStatus | None, status)

    def ingest(self, summary: CaptureSummary, site: SiteNetworks) -> IngestResult:
        """Store a capture and merge it into edges, hosts and bindings, in one transaction.

        A capture whose fingerprint is already stored changes nothing (``skipped``).
        ``site`` decides which hosts are internal and which edges external; rows a capture
        touches take the classification of the site configuration it was ingested with.
        """
        started = time.perf_counter()
        if self.capture_status(summary.fingerprint) is not None:
            return self._skipped(summary.fingerprint)
        rows = capture_rows(
            summary,
            site,
            datetime.now(UTC),
            sqlite_time if self._dialect == "sqlite" else aware_time,
        )
        with self._errors("write the inventory"), self._write() as conn:
            captures = _table(Capture)
            stmt = (
                self._insert(captures)
                .values(rows.capture)
                .on_conflict_do_nothing(index_elements=[captures.c.fingerprint])
                .returning(captures.c.id)
            )
            capture_id = conn.execute(stmt).scalar_one_or_none()
            if capture_id is None:  # another writer stored it since we looked
                existing = conn.execute(
                    select(Capture.id).where(Capture.fingerprint == summary.fingerprint)
                ).scalar_one()
                logger.info("capture %s stored meanwhile as #%d", summary.fingerprint, existing)
                return IngestResult(
                    capture_id=existing, fingerprint=summary.fingerprint, skipped=True
                )
            flows = _table(Flow)
            for batch in rows.flow_rows(capture_id, FLOW_BATCH):
                self._insert_rows(conn, flows, FLOW_COLUMNS, batch)
            observations = _table(ObservationRow)
            for batch in rows.observation_rows(capture_id, OBSERVATION_BATCH):
                self._insert_rows(conn, observations, OBSERVATION_COLUMNS, batch)
            self._upsert(
                conn,
                Edge,
                rows.edges,
                EDGE_COLUMNS,
                EDGE_KEY,
                add=("flows", "packets", "bytes"),
                union=("cleartext", "phi", "credentials_in_clear"),
                replace=("external",),
                known=("destination_name",),
            )
            self._upsert(
                conn, EdgeApp, rows.edge_apps, EDGE_APP_COLUMNS, EDGE_APP_KEY, add=("flows",)
            )
            self._upsert(
                conn,
                Host,
                rows.hosts,
                HOST_COLUMNS,
                HOST_KEY,
                add=(
                    "packets_sent",
                    "packets_received",
                    "bytes_sent",
                    "bytes_received",
                    "flows_as_client",
                    "flows_as_server",
                ),
                replace=("internal",),
            )
            self._upsert(
                conn,
                Binding,
                rows.bindings,
                BINDING_COLUMNS,
                BINDING_KEY,
                add=("packets",),
                union=("from_arp", "from_frames"),
            )
        result = IngestResult(
            capture_id=capture_id,
            fingerprint=summary.fingerprint,
            skipped=False,
            flows=len(rows.flows),
            edges=len(rows.edges),
            hosts=len(rows.hosts),
            bindings=len(rows.bindings),
            observations=len(rows.observations),
        )
        logger.info(
            "capture %s ingested as #%d: %d flows, %d observations, %d edges, %d hosts, "
            "%d bindings in %.2f s",
            summary.fingerprint,
            capture_id,
            result.flows,
            result.observations,
            result.edges,
            result.hosts,
            result.bindings,
            time.perf_counter() - started,
        )
        return result

    def _skipped(self, fingerprint: str) -> IngestResult:
        with self._errors("read the inventory"), self._read() as conn:
            existing = conn.execute(
                select(Capture.id).where(Capture.fingerprint == fingerprint)
            ).scalar_one()
        logger.info("capture %s already stored as #%d, skipped", fingerprint, existing)
        return IngestResult(capture_id=existing, fingerprint=fingerprint, skipped=True)

    @staticmethod
    def _executemany(
        conn: Connection, stmt: Insert, columns: tuple[str, ...], rows: Sequence[Row]
    ) -> None:
        """Run ``stmt`` once per row straight through the driver's executemany.

        SQLAlchemy compiles the statement (dialect-neutral SQL); the rows are already in the
        driver's types (``aggregate`` converted the times), so Core's per-row parameter
        processing - most of the cost of a large ingest - is skipped.
        """
        if not rows:
            return
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
        params: list[Any]
        if compiled.positional:
            order = tuple(compiled.positiontup or ())
            if order == columns:
                params = list(rows)
            else:
                index = [columns.index(name) for name in order]
                params = [tuple(row[i] for i in index) for row in rows]
        else:
            params = [dict(zip(columns, row, strict=True)) for row in rows]
        conn.exec_driver_sql(compiled.string, params)

    def _insert_rows(
        self, conn: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[Row]
    ) -> None:
        """Append rows: COPY on PostgreSQL, executemany on SQLite."""
        if self._dialect == "postgresql":
            _copy(conn, table.name, columns, rows)
        else:
            self._executemany(conn, insert(table), columns, rows)

    def _upsert(
        self,
        conn: Connection,
        model: type[Any],
        rows: Sequence[Row],
        columns: tuple[str, ...],
        key: tuple[str, ...],
        *,
        add: tuple[str, ...] = (),
        union: tuple[str, ...] = (),
        replace: tuple[str, ...] = (),
        known: tuple[str, ...] = (),
    ) -> None:
        """Insert rows, or merge them into existing ones: counters added, flags OR-ed,
        ``first_seen`` the earliest, ``last_seen`` the latest (for tables that have them),
        ``replace`` columns overwritten, ``known`` columns overwritten unless the new value
        is NULL.

        SQLite: ``INSERT .. VALUES .. ON CONFLICT DO UPDATE`` by executemany. PostgreSQL: the
        rows are COPYed into a temporary table, then one ``INSERT .. SELECT .. ORDER BY key
        ON CONFLICT DO UPDATE`` merges them (the order makes concurrent writers lock rows in
        the same order, so they queue instead of deadlocking).
        """
        if not rows:
            return
        table = _table(model)
        if self._dialect == "postgresql":
            stage = Table(
                f"medsec_stage_{table.name}",
                MetaData(),
                *(Column(c, table.c[c].type) for c in columns),
            )
            conn.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {stage.name} ON COMMIT DROP AS "
                f"SELECT {', '.join(columns)} FROM {table.name} WITH NO DATA"
            )
            _copy(conn, stage.name, columns, rows)
            source = select(*(stage.c[c] for c in columns)).order_by(*(stage.c[c] for c in key))
            pg = postgresql.insert(table).from_select(list(columns), source)
            changes = self._merge(
                table, pg.excluded, add=add, union=union, replace=replace, known=known
            )
            conn.execute(pg.on_conflict_do_update(index_elements=list(key), set_=changes))
            conn.exec_driver_sql(f"DROP TABLE {stage.name}")
            return
        lite = sqlite.insert(table)
        changes = self._merge(
            table, lite.excluded, add=add, union=union, replace=replace, known=known
        )
        stmt = lite.on_conflict_do_update(index_elements=list(key), set_=changes)
        for start in range(0, len(rows), UPSERT_BATCH):
            self._executemany(conn, stmt, columns, rows[start : start + UPSERT_BATCH])

    def _merge(
        self,
        table: Table,
        new: Any,
        *,
        add: tuple[str, ...],
        union: tuple[str, ...],
        replace: tuple[str, ...],
        known: tuple[str, ...] = (),
    ) -> dict[str, ColumnElement[Any]]:
        old = table.c
        changes: dict[str, ColumnElement[Any]] = {c: old[c] + new[c] for c in add}
        changes.update({c: or_(old[c], new[c]) for c in union})
        changes.update({c: new[c] for c in replace})
        changes.update({c: func.coalesce(new[c], old[c]) for c in known})
        if "first_seen" in old:
            changes["first_seen"] = self._least(old.first_seen, new.first_seen)
        if "last_seen" in old:
            changes["last_seen"] = self._greatest(old.last_seen, new.last_seen)
        return changes

    # -- reading ----------------------------------------------------------------------

    def gateway_macs(self, threshold: int) -> frozenset[str]:
        """MACs bound via frames to more than ``threshold`` distinct IPs: routers."""
        with self._errors("read the inventory"), self._read() as conn:
            return self._gateway_macs(conn, threshold)

    @staticmethod
    def _gateway_macs(conn: Connection, threshold: int) -> frozenset[str]:
        """MACs that forward other hosts' traffic: routers, firewalls, VLAN gateways.

        A MAC is a gateway when it sourced frames for more distinct IPs than ``threshold``,
        or when it sourced frames (and never ARP) for at least ``FORWARDED_IPS`` addresses
        that ARP announced under another MAC - the router of a VLAN carrying replies from
        servers that live, and answer ARP, elsewhere. One such address alone is not enough:
        a device that took over a DHCP lease looks like that too.
        """
        many = (
            select(Binding.mac)
            .where(Binding.from_frames)
            .group_by(Binding.mac)
            .having(func.count(distinct(Binding.ip)) > threshold)
        )
        owner = aliased(Binding)
        forwarding = (
            select(Binding.mac)
            .join(
                owner,
                and_(owner.ip == Binding.ip, owner.from_arp, owner.mac != Binding.mac),
            )
            .where(Binding.from_frames, ~Binding.from_arp)
            .group_by(Binding.mac)
            .having(func.count(distinct(Binding.ip)) >= FORWARDED_IPS)
        )
        return frozenset(conn.execute(many).scalars()) | frozenset(
            conn.execute(forwarding).scalars()
        )

    def hosts(self, q: HostQuery = ALL_HOSTS) -> list[HostView]:
        """Hosts matching ``q``, by IP (numeric order, IPv4 first)."""
        with self._errors("read the inventory"), self._read() as conn:
            gateways = self._gateway_macs(conn, q.gateway_mac_threshold)
            counts = or_(Binding.from_arp, Binding.mac.not_in(gateways))
            stmt: Select[Any] = select(_table(Host))
            if q.internal is not None:
                stmt = stmt.where(Host.internal == q.internal)
            if q.network is not None:
                low, high = network_key_range(q.network)
                stmt = stmt.where(Host.ip_key.between(low, high))
            if q.mac is not None:
                stmt = stmt.where(
                    Host.ip.in_(select(Binding.ip).where(Binding.mac == q.mac, counts))
                )
            if q.vlan is not None:
                stmt = stmt.where(
                    Host.ip.in_(select(Binding.ip).where(Binding.vlan == q.vlan, counts))
                )
            if q.since is not None:
                stmt = stmt.where(Host.last_seen >= q.since)
            if q.until is not None:
                stmt = stmt.where(Host.first_seen <= q.until)
            stmt = stmt.order_by(Host.ip_key, Host.ip)
            if q.limit is not None:
                stmt = stmt.limit(q.limit)
            hosts = conn.execute(stmt).all()
            if not hosts:
                return []
            ips = stmt.with_only_columns(Host.ip)
            bindings: dict[str, list[HostBinding]] = {}
            for b in conn.execute(
                select(_table(Binding))
                .where(Binding.ip.in_(ips))
                .order_by(Binding.mac, Binding.vlan)
            ):
                bindings.setdefault(b.ip, []).append(
                    HostBinding(
                        mac=b.mac,
                        vlan=b.vlan,
                        first_seen=b.first_seen,
                        last_seen=b.last_seen,
                        packets=b.packets,
                        from_arp=b.from_arp,
                        from_frames=b.from_frames,
                        gateway=b.mac in gateways,
                    )
                )
        views = []
        for h in hosts:
            own = bindings.get(h.ip, [])
            counted = [b for b in own if b.from_arp or not b.gateway]
            views.append(
                HostView(
                    ip=h.ip,
                    internal=h.internal,
                    first_seen=h.first_seen,
                    last_seen=h.last_seen,
                    packets_sent=h.packets_sent,
                    packets_received=h.packets_received,
                    bytes_sent=h.bytes_sent,
                    bytes_received=h.bytes_received,
                    flows_as_client=h.flows_as_client,
                    flows_as_server=h.flows_as_server,
                    macs=tuple(sorted({b.mac for b in counted})),
                    vlans=tuple(sorted({b.vlan for b in counted})),
                    bindings=tuple(own),
                )
            )
        return views

    def edges(self, q: EdgeQuery = ALL_EDGES) -> list[EdgeView]:
        """Edges matching ``q``, largest (bytes) first, with their applications."""
        stmt = select(_table(Edge))
        if q.host is not None:
            stmt = stmt.where(or_(Edge.client_ip == q.host, Edge.server_ip == q.host))
        if q.client is not None:
            stmt = stmt.where(Edge.client_ip == q.client)
        if q.server is not None:
            stmt = stmt.where(Edge.server_ip == q.server)
        if q.port is not None:
            stmt = stmt.where(Edge.server_port == q.port)
        if q.transport is not None:
            stmt = stmt.where(Edge.transport == q.transport)
        if q.external is not None:
            stmt = stmt.where(Edge.external == q.external)
        if q.min_bytes is not None:
            stmt = stmt.where(Edge.bytes >= q.min_bytes)
        if q.phi is not None:
            stmt = stmt.where(Edge.phi == q.phi)
        if q.cleartext is not None:
            stmt = stmt.where(Edge.cleartext == q.cleartext)
        if q.credentials_in_clear is not None:
            stmt = stmt.where(Edge.credentials_in_clear == q.credentials_in_clear)
        if q.app is not None:
            stmt = stmt.where(
                select(EdgeApp.id)
                .where(*(_table(EdgeApp).c[c] == _table(Edge).c[c] for c in EDGE_KEY))
                .where(EdgeApp.app == q.app)
                .exists()
            )
        stmt = stmt.order_by(
            Edge.bytes.desc(), Edge.client_ip, Edge.server_ip, Edge.transport, Edge.server_port
        )
        if q.limit is not None:
            stmt = stmt.limit(q.limit)
        with self._errors("read the inventory"), self._read() as conn:
            edges = conn.execute(stmt).all()
            if not edges:
                return []
            apps = self._edge_apps(conn, stmt)
        views = []
        for e in edges:
            named = apps.get((e.client_ip, e.server_ip, e.transport, e.server_port), ())
            views.append(
                EdgeView(
                    client=e.client_ip,
                    server=e.server_ip,
                    transport=e.transport,
                    server_port=e.server_port,
                    flows=e.flows,
                    packets=e.packets,
                    bytes=e.bytes,
                    first_seen=e.first_seen,
                    last_seen=e.last_seen,
                    external=e.external,
                    apps=named,
                    app=named[0] if named else None,
                    cleartext=e.cleartext,
                    phi=e.phi,
                    credentials_in_clear=e.credentials_in_clear,
                    destination_name=e.destination_name,
                )
            )
        return views

    @staticmethod
    def _edge_apps(
        conn: Connection, edges: Select[Any]
    ) -> dict[tuple[str, str, str, int], tuple[str, ...]]:
        """The applications of the edges ``edges`` selects: most flows first, then name
        (sorted here, not by the database's collation, so both engines agree)."""
        chosen = edges.with_only_columns(*(_table(Edge).c[c] for c in EDGE_KEY)).subquery()
        apps = _table(EdgeApp)
        stmt = select(*(apps.c[c] for c in EDGE_APP_COLUMNS)).join(
            chosen, and_(*(apps.c[c] == chosen.c[c] for c in EDGE_KEY))
        )
        found: dict[tuple[str, str, str, int], list[tuple[int, str]]] = {}
        for client, server, transport, port, app, flows in conn.execute(stmt):
            found.setdefault((client, server, transport, port), []).append((-flows, app))
        return {key: tuple(app for _, app in sorted(named)) for key, named in found.items()}

    def flows(self, q: FlowQuery = ALL_FLOWS) -> list[FlowView]:
        """Flows matching ``q``, oldest first."""
        stmt = select(_table(Flow))
        if q.host is not None:
            stmt = stmt.where(or_(Flow.client_ip == q.host, Flow.server_ip == q.host))
        if q.client is not None:
            stmt = stmt.where(Flow.client_ip == q.client)
        if q.server is not None:
            stmt = stmt.where(Flow.server_ip == q.server)
        if q.port is not None:
            stmt = stmt.where(Flow.server_port == q.port)
        if q.transport is not None:
            stmt = stmt.where(Flow.transport == q.transport)
        if q.capture_id is not None:
            stmt = stmt.where(Flow.capture_id == q.capture_id)
        if q.app is not None:
            stmt = stmt.where(Flow.app == q.app)
        stmt = stmt.order_by(Flow.first_seen, Flow.id)
        if q.limit is not None:
            stmt = stmt.limit(q.limit)
        with self._errors("read the inventory"), self._read() as conn:
            return [FlowView(**row._asdict()) for row in conn.execute(stmt)]

    def observations(self, q: ObservationQuery = ALL_OBSERVATIONS) -> list[ObservationView]:
        """Observations matching ``q``, oldest first (ties in capture order)."""
        o = ObservationRow
        stmt = select(_table(o))
        if q.host is not None:
            stmt = stmt.where(or_(o.src_ip == q.host, o.dst_ip == q.host))
        if q.mac is not None:
            stmt = stmt.where(or_(o.src_mac == q.mac, o.dst_mac == q.mac))
        if q.protocol is not None:
            stmt = stmt.where(o.protocol == q.protocol)
        if q.kind is not None:
            stmt = stmt.where(o.kind == q.kind)
        if q.capture_id is not None:
            stmt = stmt.where(o.capture_id == q.capture_id)
        if q.since is not None:
            stmt = stmt.where(o.ts >= q.since)
        if q.until is not None:
            stmt = stmt.where(o.ts <= q.until)
        stmt = stmt.order_by(o.ts, o.id)
        if q.limit is not None:
            stmt = stmt.limit(q.limit)
        with self._errors("read the inventory"), self._read() as conn:
            return [ObservationView(**row._asdict()) for row in conn.execute(stmt)]

    # -- devices ----------------------------------------------------------------------

    def identification_inputs(self, gateway_mac_threshold: int) -> IdentificationInputs:
        """Everything identification reads, from one snapshot."""
        with self._errors("read the inventory"), self._read() as conn:
            return IdentificationInputs(
                bindings=device_rows.bindings(conn),
                hosts=device_rows.hosts(conn),
                gateways=self._gateway_macs(conn, gateway_mac_threshold),
                facts=device_rows.facts(conn),
                services=device_rows.services(conn),
            )

    def replace_devices(self, rows: Sequence[DeviceRow]) -> int:
        """Store the devices of a re-identification (one transaction; ids kept by key/MAC)."""
        with self._errors("write the inventory"), self._write() as conn:
            return device_rows.replace_devices(conn, rows, datetime.now(UTC))

    def devices(self, q: DeviceQuery = ALL_DEVICES) -> list[DeviceView]:
        """Devices matching ``q``: medical first, then by category, then by first address."""
        stmt: Select[Any] = select(_table(Device))
        if q.category is not None:
            stmt = stmt.where(Device.category == q.category)
        if q.vendor is not None:
            stmt = stmt.where(func.lower(Device.vendor).contains(q.vendor.lower()))
        if q.medical is not None:
            stmt = stmt.where(Device.medical == q.medical)
        if q.handles_phi is not None:
            stmt = stmt.where(Device.handles_phi == q.handles_phi)
        if q.vlan is not None:
            stmt = stmt.where(
                Device.id.in_(select(DeviceAddress.device_id).where(DeviceAddress.vlan == q.vlan))
            )
        if q.network is not None:
            low, high = network_key_range(q.network)
            stmt = stmt.where(
                Device.id.in_(
                    select(DeviceAddress.device_id).where(DeviceAddress.ip_key.between(low, high))
                )
            )
        with self._errors("read the inventory"), self._read() as conn:
            return self._device_views(conn, stmt, q.limit)

    def device(self, ref: str) -> list[DeviceView]:
        """Devices named by ``ref``: a device id, an IP or a MAC it held (an IP handed to
        several devices over time names each of them)."""
        text = ref.strip().lower()
        stmt: Select[Any] = select(_table(Device))
        if text.isascii() and text.isdigit() and len(text) <= 18:  # an id the column can hold
            stmt = stmt.where(Device.id == int(text))
        else:
            stmt = stmt.where(
                Device.id.in_(
                    select(DeviceAddress.device_id).where(
                        DeviceAddress.value == text.replace("-", ":")
                    )
                )
            )
        with self._errors("read the inventory"), self._read() as conn:
            return self._device_views(conn, stmt, None)

    @staticmethod
    def _device_views(conn: Connection, stmt: Select[Any], limit: int | None) -> list[DeviceView]:
        devices = conn.execute(stmt).all()
        if not devices:
            return []
        ids = [d.id for d in devices]
        addresses: dict[int, list[DeviceAddressView]] = {}
        a = DeviceAddress
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in conn.execute(
                select(a.device_id, a.kind, a.value, a.vlan, a.first_seen, a.last_seen)
                .where(a.device_id.in_(chunk))
                .order_by(a.device_id, a.first_seen, a.value)
            ):
                addresses.setdefault(row.device_id, []).append(
                    DeviceAddressView(
                        kind=row.kind,
                        value=row.value,
                        vlan=row.vlan,
                        first_seen=row.first_seen,
                        last_seen=row.last_seen,
                    )
                )
        views = [
            DeviceView(
                id=d.id,
                key=d.key,
                first_seen=d.first_seen,
                last_seen=d.last_seen,
                category=d.category,
                medical=d.medical,
                vendor=d.vendor,
                model=d.model,
                os=d.os,
                handles_phi=d.handles_phi,
                addresses=tuple(addresses.get(d.id, ())),
                record=d.record if isinstance(d.record, dict) else {},
            )
            for d in devices
        ]
        views.sort(key=_device_order)
        return views[:limit] if limit is not None else views

    def captures(self) -> list[CaptureView]:
        """Every stored capture, in ingestion order."""
        stat_fields = {f.name for f in fields(CaptureStats)}
        with self._errors("read the inventory"), self._read() as conn:
            rows = conn.execute(select(_table(Capture)).order_by(Capture.id)).all()
            return [
                CaptureView(
                    id=c.id,
                    fingerprint=c.fingerprint,
                    source=c.source,
                    format=c.format,
                    status=cast(CaptureStatus, c.status),
                    error=c.error,
                    packets=c.packets,
                    bytes=c.bytes,
                    first_seen=c.first_seen,
                    last_seen=c.last_seen,
                    ingested_at=c.ingested_at,
                    stats=CaptureStats(**{k: v for k, v in c.stats.items() if k in stat_fields}),
                )
                for c in rows
            ]

    def totals(self) -> Totals:
        """How big the inventory is."""
        with self._errors("read the inventory"), self._read() as conn:
            captures, packets, nbytes = conn.execute(
                select(
                    func.count(Capture.id),
                    func.coalesce(func.sum(Capture.packets), 0),
                    func.coalesce(func.sum(Capture.bytes), 0),
                )
            ).one()
            hosts, internal = conn.execute(
                select(
                    func.count(Host.id),
                    func.count(Host.id).filter(Host.internal),
                )
            ).one()
            edges = conn.execute(select(func.count(Edge.id))).scalar_one()
            flows = conn.execute(select(func.count(Flow.id))).scalar_one()
            observations = conn.execute(select(func.count(ObservationRow.id))).scalar_one()
        return Totals(
            captures=captures,
            hosts=hosts,
            internal_hosts=int(internal),
            external_hosts=hosts - int(internal),
            edges=edges,
            flows=flows,
            observations=observations,
            packets=int(packets),
            bytes=int(nbytes),
        )

    # -- vulnerability intelligence ---------------------------------------------------

    def import_feed_records(self, records: Sequence[FeedRecord], *, source: str = "") -> int:
        """Upsert feed records (one transaction: all of them or, on error, none); how many.
        Importing the same records again updates them and never duplicates."""
        if not records:
            return 0
        with self._errors("write the inventory"), self._write() as conn:
            written = vuln_rows.write_records(
                conn, self._insert, records, datetime.now(UTC), source=source
            )
        return sum(written.values())

    def record_feed_import(
        self,
        *,
        path: str,
        format: str,
        records: int,
        skipped: int,
        status: str,
        error: str | None,
        started_at: datetime,
    ) -> None:
        """Remember one import of one file."""
        with self._errors("write the inventory"), self._write() as conn:
            vuln_rows.record_import(
                conn,
                path=path,
                format=format,
                records=records,
                skipped=skipped,
                status=status,
                error=error,
                started_at=started_at,
                finished_at=datetime.now(UTC),
            )

    def feed_totals(self) -> dict[str, int]:
        """How many vulnerabilities, advisories, KEV and EPSS entries, SBOMs (and their
        components) and VEX statements the store holds."""
        with self._errors("read the inventory"), self._read() as conn:
            return vuln_rows.counts(conn)

    def has_vulnerability_feeds(self) -> bool:
        """Whether any vulnerability or advisory was imported (anything to match devices
        against): one cheap query."""
        with self._errors("read the inventory"), self._read() as conn:
            return vuln_rows.anything_to_match(conn)

    def vulnerabilities_for_products(self, pairs: Iterable[tuple[str, str]]) -> list[Vulnerability]:
        """Stored vulnerabilities naming one of the (vendor, product) CPE tokens."""
        with self._errors("read the inventory"), self._read() as conn:
            return vuln_rows.vulnerabilities_for(conn, pairs)

    def advisories_for_vendors(self, vendors: Iterable[str]) -> list[Advisory]:
        """Stored advisories with a product of one of the vendors (lowercase tokens)."""
        with self._errors("read the inventory"), self._read() as conn:
            return vuln_rows.advisories_for(conn, vendors)

    def vex_statements(self, cves: Iterable[str]) -> list[VexStatement]:
        """The VEX statements about the CVEs."""
        with self._errors("read the inventory"), self._read() as conn:
            return vuln_rows.vex_for(conn, cves)

    def exploitation(self, cves: Iterable[str]) -> tuple[dict[str, KevEntry], dict[str, EpssScore]]:
        """KEV entries and EPSS scores of the CVEs."""
        with self._errors("read the inventory"), self._read() as conn:
            return vuln_rows.exploitation(conn, cves)

    def vulnerabilities_for_product_names(self, products: Iterable[str]) -> list[Vulnerability]:
        """Stored vulnerabilities naming one of the product tokens, of any vendor."""
        with self._errors("read the inventory"), self._read() as conn:
            return vuln_rows.vulnerabilities_for_names(conn, products)

    # -- SBOMs ------------------------------------------------------------------------

    def sboms(self, *, attached_only: bool = False) -> list[vuln_rows.SbomView]:
        """The imported SBOMs by id, with their component counts and attachments."""
        with self._errors("read the inventory"), self._read() as conn:
            return vuln_rows.sboms(conn, attached_only=attached_only)

    def sbom(self, ref: str) -> vuln_rows.SbomView | None:
        """The SBOM named by its id or its key (serial number, ``file:<path>``), if any."""
        with self._errors("read the inventory"), self._read() as conn:
            return vuln_rows.sbom(conn, ref)

    def attach_sbom(
        self, sbom_id: int, kind: vuln_rows.AttachedKind, to: str
    ) -> vuln_rows.SbomView | None:
        """Attach an SBOM to a device model (``to`` = ``Vendor|Model``) or to one device (its
        id), replacing what it was attached to; None when there is no such SBOM."""
        with self._errors("write the inventory"), self._write() as conn:
            return vuln_rows.attach_sbom(conn, sbom_id, kind, to)

    def detach_sbom(self, sbom_id: int) -> vuln_rows.SbomView | None:
        """Attach the SBOM to nothing; None when there is no such SBOM."""
        with self._errors("write the inventory"), self._write() as conn:
            return vuln_rows.attach_sbom(conn, sbom_id, None, None)

    def sbom_components(self, sbom_ids: Iterable[int]) -> dict[int, list[Component]]:
        """The components of the SBOMs, by SBOM id."""
        with self._errors("read the inventory"), self._read() as conn:
            return vuln_rows.sbom_components(conn, sbom_ids)

    def sbom_components_for_device(
        self, device_id: int, models: Iterable[str] = ()
    ) -> dict[int, list[Component]]:
        """The components of the SBOMs attached to the device, and to the models ``models``
        (``Vendor|Model`` as attached: deciding which models a device is, with vendor names
        normalised, is the caller's), by SBOM id."""
        wanted = set(models)
        with self._errors("read the inventory"), self._read() as conn:
            ids = [
                s.id
                for s in vuln_rows.sboms(conn, attached_only=True)
                if (s.attached_kind == "device" and s.attached_to == str(device_id))
                or (s.attached_kind == "model" and s.attached_to in wanted)
            ]
            return vuln_rows.sbom_components(conn, ids)

    # -- findings ---------------------------------------------------------------------

    def finding_first_seen(self) -> dict[tuple[str, str], datetime]:
        """When each stored finding, by (device key, CVE), was first seen."""
        with self._errors("read the inventory"), self._read() as conn:
            return finding_rows.first_seen(conn)

    def refresh_findings(
        self,
        seen: Sequence[finding_rows.FindingFacts],
        present: Iterable[str],
        *,
        now: datetime | None = None,
        cleared: Mapping[tuple[str, str], str] | None = None,
    ) -> finding_rows.RefreshCounts:
        """Write what the matching sees now on the devices whose keys are ``present`` (one
        transaction): new findings open, known ones updated, open ones whose match has gone
        closed as remediated by medsec (``cleared``: why, by device key and CVE, a VEX
        statement took a match away - the history says so); a status a person set is never
        changed."""
        with self._errors("write the inventory"), self._write() as conn:
            return finding_rows.refresh(
                conn, self._insert, seen, present, now or datetime.now(UTC), cleared
            )

    def findings(
        self, q: finding_rows.FindingQuery | None = None
    ) -> list[finding_rows.FindingView]:
        """Findings matching ``q`` (all when None), by id."""
        with self._errors("read the inventory"), self._read() as conn:
            return finding_rows.findings(conn, q or finding_rows.FindingQuery())

    def finding(self, finding_id: int) -> finding_rows.FindingView | None:
        with self._errors("read the inventory"), self._read() as conn:
            return finding_rows.finding(conn, finding_id)

    def finding_history(self, finding_id: int) -> list[finding_rows.FindingChange]:
        """The finding's status changes, oldest first (its creation included)."""
        with self._errors("read the inventory"), self._read() as conn:
            return finding_rows.history(conn, finding_id)

    def set_finding_status(
        self, finding_id: int, change: finding_rows.StatusChange
    ) -> finding_rows.FindingView:
        """A person's status change, checked against the workflow and kept in the history
        (``UnknownFinding``, ``InvalidTransition``)."""
        with self._errors("write the inventory"), self._write() as conn:
            return finding_rows.set_status(conn, finding_id, change)
