"""Reading and writing devices: the store's side of re-identification.

Identification is recomputed from everything stored (bindings, hosts, observations), so
new rules or a new capture apply to all history. ``replace_devices`` writes the result in
one transaction and keeps ids stable: a device keeps its id while its key (first MAC, or
IP) stays, and a device merged into another (a second MAC linked by DHCP) hands its id to
the merged device when that one is new.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Connection,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)

from medsec.identify.facts import Fact, stored_fact
from medsec.inventory.aggregate import host_key
from medsec.inventory.models import (
    Binding,
    Device,
    DeviceAddress,
    Flow,
    Host,
    ObservationRow,
    sqlite_time,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ns(value: datetime) -> int:
    """A stored time as nanoseconds since the epoch (microsecond precision)."""
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One device to store (built by the service from an identity)."""

    key: str
    first_seen: datetime
    last_seen: datetime
    category: str
    medical: bool
    vendor: str | None
    model: str | None
    os: str | None
    handles_phi: bool
    record: dict[str, Any]
    addresses: tuple[tuple[str, str, int, datetime, datetime], ...]
    """(kind, value, vlan, first seen, last seen)."""


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """A service some host answered on: flows with a reply, grouped."""

    server_ip: str
    transport: str
    port: int
    app: str | None
    flows: int
    first_seen: datetime
    last_seen: datetime


def bindings(conn: Connection) -> list[tuple[str, str, int, datetime, datetime]]:
    stmt = select(Binding.ip, Binding.mac, Binding.vlan, Binding.first_seen, Binding.last_seen)
    return [
        (ip, mac, vlan, _stored_time(first), _stored_time(last))
        for ip, mac, vlan, first, last in _untyped_rows(conn, stmt)
    ]


def hosts(conn: Connection) -> list[tuple[str, bool, datetime, datetime]]:
    stmt = select(Host.ip, Host.internal, Host.first_seen, Host.last_seen)
    return [
        (ip, bool(internal), _stored_time(first), _stored_time(last))  # SQLite's 0 or 1
        for ip, internal, first, last in _untyped_rows(conn, stmt)
    ]


def _untyped_rows(conn: Connection, stmt: ClauseElement) -> list[Any]:
    """Every row of ``stmt`` (without parameters) from the driver's own cursor, values as
    the driver gives them: SQLAlchemy's conversion per value costs more than the reading
    (3M bench: bindings and hosts 5.6 -> 2.5 ms)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(stmt.compile(dialect=conn.dialect)))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def facts(conn: Connection, batch: int = 10_000) -> list[Fact]:
    """Every stored observation as a ``Fact``, oldest first (those of one time in the order
    they were stored).

    The columns are read untyped (no per-row conversion by SQLAlchemy): the time comes as
    SQLite's naive UTC text or PostgreSQL's aware datetime, the facts as JSON text, parsed
    once per distinct text - devices repeat themselves. Rows come in storing order (the
    primary key's, no sort by the database: it would sort the whole rows) and are ordered
    by time here, a stable sort keeping that order among equal times.
    """
    names = (
        "kind",
        "protocol",
        "ts",
        "transport",
        "src_ip",
        "dst_ip",
        "src_port",
        "dst_port",
        "src_mac",
        "dst_mac",
        "vlan",
        "flow_id",
    )
    table = ObservationRow.__tablename__
    columns: list[ColumnElement[Any]] = [literal_column(f"{table}.{n}") for n in names]
    columns.append(cast(ObservationRow.facts, Text).label("facts"))
    stmt = select(*columns).select_from(ObservationRow).order_by(ObservationRow.id)
    sql = str(stmt.compile(dialect=conn.dialect))
    # the driver's own cursor: SQLAlchemy's result machinery costs more than the rows do
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        out = list(_facts_of(_batches(cursor, batch)))
    finally:
        cursor.close()
    out.sort(key=_time_of)
    return out


def _batches(cursor: Any, size: int) -> Iterator[Any]:
    while rows := cursor.fetchmany(size):
        yield from rows


_time_of = attrgetter("ts_ns")


_decode_json = json.JSONDecoder().raw_decode


def _json(text: object) -> Any:
    """``json.loads(text)``, without its per-call overhead for the text we write: one JSON
    value from the first character to the last (3,433 texts of the 3M bench: 19 -> 15 ms).
    Anything else (whitespace or data around it, a byte order mark, a bad value, no text)
    is left to ``json.loads``, for the same answer or error as before."""
    if type(text) is str:
        try:
            value, end = _decode_json(text)
        except ValueError:
            pass
        else:
            if end == len(text):
                return value
    return json.loads(text)  # type: ignore[arg-type]


def _facts_of(rows: Iterable[Any]) -> Iterator[Fact]:
    parsed: dict[str, Any] = {}
    ts_ns = _time_reader()
    for kind, protocol, ts, transport, src_ip, dst_ip, sp, dp, smac, dmac, vlan, fid, text in rows:
        fields = parsed.get(text)
        if fields is None:
            try:
                fields = _json(text)
            except (TypeError, ValueError):
                fields = {}
            if not isinstance(fields, dict):
                fields = {}
            if len(parsed) < 100_000:
                parsed[text] = fields
        # by position, in Fact's field order (test_device_facts holds it), without the frozen
        # constructor: thousands of facts
        yield stored_fact(kind, protocol, ts_ns(ts), transport, src_ip, dst_ip, sp, dp, smac,
                          dmac, vlan, fid, fields)  # fmt: skip


def _time_reader() -> Callable[[datetime | str], int]:
    """``ns(_stored_time(value))`` as one function.

    SQLite's text (``2026-01-05 08:00:00.123456``, fixed width) is parsed once per second
    and the microseconds added: observations come many per second.
    """
    seconds: dict[str, int] = {}

    def ts_ns(value: datetime | str) -> int:
        if type(value) is str and len(value) == 26 and value[19] == ".":
            micros = value[20:]
            if micros.isascii() and micros.isdigit():
                head = value[:19]
                base = seconds.get(head)
                if base is None:
                    if len(seconds) >= 65536:
                        seconds.clear()
                    base = seconds[head] = ns(_stored_time(head))
                return base + int(micros) * 1000
        return ns(_stored_time(value))

    return ts_ns


def _stored_time(value: datetime | str) -> datetime:
    """A time as the engine returned it untyped (aware datetime, or SQLite's UTC text) in
    UTC, as the ``UtcDateTime`` column type reads it."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if len(value) == 26 and value[19] == ".":  # as SQLite stores them: parsed as UTC at once
        try:  # (8x faster than .replace(tzinfo=...); text with an offset of its own fails)
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def services(conn: Connection) -> list[ServiceRow]:
    """Server ports that answered (flows with packets back), per server, port and app;
    ordered by server, transport, port and app (no app first)."""
    f = Flow
    stmt = (
        select(
            f.server_ip,
            f.transport,
            f.server_port,
            f.app,
            func.count(),
            func.min(f.first_seen),
            func.max(f.last_seen),
        )
        .where(f.packets_s2c > 0, f.transport.in_(("tcp", "udp")))
        # grouped by server first, SQLite walks the flows in the order of their server_ip
        # index, reading the table out of order, and still sorts the groups: a scan is
        # faster (3M bench: 44 -> 33 ms from a cold page cache, 28 -> 25 ms from a warm
        # one), and the few hundred services are sorted here
        .group_by(f.transport, f.server_port, f.app, f.server_ip)
    )
    return sorted((ServiceRow(*r) for r in conn.execute(stmt)), key=_service_order)


def _service_order(s: ServiceRow) -> tuple[str, str, int, bool, str]:
    return s.server_ip, s.transport, s.port, s.app is not None, s.app or ""


def replace_devices(conn: Connection, rows: Sequence[DeviceRow], now: datetime) -> int:
    """Store ``rows`` as the devices; returns how many devices are stored."""
    old_ids: dict[str, int] = dict(conn.execute(select(Device.key, Device.id)).all())
    mac_owner: dict[str, int] = {}
    for value, owner in conn.execute(
        select(DeviceAddress.value, DeviceAddress.device_id).where(DeviceAddress.kind == "mac")
    ):
        mac_owner[value] = min(owner, mac_owner.get(value, owner))
    claimed: set[int] = set()
    assigned: list[int | None] = []
    for row in rows:
        candidates = []
        if row.key in old_ids:
            candidates.append(old_ids[row.key])
        candidates += sorted(
            {mac_owner[a[1]] for a in row.addresses if a[0] == "mac" and a[1] in mac_owner}
        )
        chosen = next((c for c in candidates if c not in claimed), None)
        if chosen is not None:
            claimed.add(chosen)
        assigned.append(chosen)
    stale = set(old_ids.values()) - claimed
    conn.execute(delete(DeviceAddress))
    if stale:
        conn.execute(delete(Device).where(Device.id.in_(sorted(stale))))
    # a reused id may carry another key now: free keys first, then write in bulk
    reused = [{"b_id": i, "b_key": f"~{i}"} for i in assigned if i is not None]
    if reused:
        conn.execute(
            update(Device).where(Device.id == bindparam("b_id")).values(key=bindparam("b_key")),
            reused,
        )
    values = [
        {
            "key": row.key,
            "first_seen": row.first_seen,
            "last_seen": row.last_seen,
            "category": row.category,
            "medical": row.medical,
            "vendor": row.vendor,
            "model": row.model,
            "os": row.os,
            "handles_phi": row.handles_phi,
            "record": row.record,
            "identified_at": now,
        }
        for row in rows
    ]
    updates = [{"b_id": i, **v} for i, v in zip(assigned, values, strict=True) if i is not None]
    if updates:
        conn.execute(
            update(Device)
            .where(Device.id == bindparam("b_id"))
            .values({c: bindparam(c) for c in values[0]}),
            updates,
        )
    fresh = [v for i, v in zip(assigned, values, strict=True) if i is None]
    if fresh:
        # one executemany, then every id by its device's key (unique, and the table now
        # holds exactly these devices): an INSERT ... RETURNING that keeps the rows' order
        # runs one statement per row on SQLite
        if conn.dialect.name == "sqlite":
            _sqlite_insert(conn, Device, _DEVICE_COLUMNS, [_device_params(v) for v in fresh])
        else:
            conn.execute(insert(Device), fresh)
        by_key: dict[str, int] = dict(conn.execute(select(Device.key, Device.id)).all())
        ids = [by_key[row.key] for row in rows]
    else:
        ids = [i for i in assigned if i is not None]
    addresses = [
        (device_id, kind, value, host_key(value) if kind == "ip" else None, vlan, first, last)
        for row, device_id in zip(rows, ids, strict=True)
        for kind, value, vlan, first, last in row.addresses
    ]
    if addresses and conn.dialect.name == "sqlite":
        params = [(*a[:5], sqlite_time(a[5]), sqlite_time(a[6])) for a in addresses]
        _sqlite_insert(conn, DeviceAddress, _ADDRESS_COLUMNS, params)
    elif addresses:
        conn.execute(
            insert(DeviceAddress), [dict(zip(_ADDRESS_COLUMNS, a, strict=True)) for a in addresses]
        )
    return len(rows)


_DEVICE_COLUMNS = ("key", "first_seen", "last_seen", "category", "medical", "vendor", "model",
                   "os", "handles_phi", "record", "identified_at")  # fmt: skip
_ADDRESS_COLUMNS = ("device_id", "kind", "value", "ip_key", "vlan", "first_seen", "last_seen")


def _device_params(v: dict[str, Any]) -> tuple[Any, ...]:
    """A device's values (``_DEVICE_COLUMNS``) as SQLAlchemy's types would bind them on
    SQLite: times as ``sqlite_time``'s text, flags as integers, the record as ``json.dumps``'s
    text (the JSON type's serializer on SQLite)."""
    return (
        v["key"],
        sqlite_time(v["first_seen"]),
        sqlite_time(v["last_seen"]),
        v["category"],
        _sqlite_flag(v["medical"]),
        v["vendor"],
        v["model"],
        v["os"],
        _sqlite_flag(v["handles_phi"]),
        json.dumps(v["record"]),
        sqlite_time(v["identified_at"]),
    )


def _sqlite_flag(value: bool | None) -> int | None:
    """A ``Boolean`` as SQLAlchemy binds it on SQLite: an integer (refusing what it refuses)."""
    if value is None:
        return None
    if value not in (True, False):
        raise TypeError(f"Not a boolean value: {value!r}")
    return int(value)


def _sqlite_insert(
    conn: Connection, model: type[Any], columns: tuple[str, ...], params: list[tuple[Any, ...]]
) -> None:
    """``INSERT`` rows of values already in the driver's types through its executemany:
    SQLAlchemy's processing per value costs more than the writing (3M bench: replacing 415
    devices with 933 addresses 36.5 -> 23.1 ms)."""
    compiled = insert(model).compile(dialect=conn.dialect, column_keys=list(columns))
    assert tuple(compiled.positiontup or ()) == columns, compiled.positiontup
    conn.exec_driver_sql(compiled.string, params)
