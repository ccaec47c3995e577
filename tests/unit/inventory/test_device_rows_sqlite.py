"""Devices and their addresses go to SQLite through the driver with their values already in
its types: the same values SQLAlchemy's column types bind, so the same stored bytes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.dialects import sqlite

from medsec.inventory import Store
from medsec.inventory.aggregate import host_key
from medsec.inventory.device_rows import (
    _ADDRESS_COLUMNS,
    _DEVICE_COLUMNS,
    DeviceRow,
    _device_params,
    _sqlite_flag,
)
from medsec.inventory.models import Device, DeviceAddress, sqlite_time

DIALECT = sqlite.dialect()


def bound(model: type[Any], values: dict[str, Any]) -> tuple[Any, ...]:
    """The values SQLAlchemy's column types bind on SQLite, in the dict's order."""
    table = model.__table__
    out = []
    for name, value in values.items():
        process = table.c[name].type._cached_bind_processor(DIALECT)
        out.append(process(value) if process is not None else value)
    return tuple(out)


times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
) | st.datetimes(timezones=st.just(timezone(timedelta(hours=-5, minutes=-30)))).filter(
    lambda t: datetime(1, 1, 2) < t.replace(tzinfo=None) < datetime(9999, 12, 30)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300)
@given(
    times,
    times,
    times,
    st.booleans(),
    st.none() | st.text(),
    st.dictionaries(st.text(), json_values, max_size=4),
)
def test_device_values_as_the_column_types_bind_them(
    first: datetime, last: datetime, now: datetime, flag: bool, text: str | None, record: Any
) -> None:
    values = {
        "key": "ip:10.0.0.1",
        "first_seen": first,
        "last_seen": last,
        "category": "server",
        "medical": flag,
        "vendor": text,
        "model": None,
        "os": text,
        "handles_phi": not flag,
        "record": record,
        "identified_at": now,
    }
    assert tuple(values) == _DEVICE_COLUMNS
    assert _device_params(values) == bound(Device, values)


@given(times)
def test_address_times_as_the_column_type_binds_them(when: datetime) -> None:
    values = dict(
        zip(_ADDRESS_COLUMNS, (1, "ip", "10.0.0.1", "40a000001", 0, when, when), strict=True)
    )
    assert (*tuple(values.values())[:5], sqlite_time(when), sqlite_time(when)) == bound(
        DeviceAddress, values
    )


def test_flags_refused_as_the_boolean_type_refuses_them() -> None:
    assert _sqlite_flag(True) == 1 and _sqlite_flag(False) == 0 and _sqlite_flag(None) is None
    with pytest.raises(TypeError):
        _sqlite_flag("yes")  # type: ignore[arg-type]


def test_stored_as_core_stores_them(tmp_path: Path) -> None:
    """The same rows written by ``replace_devices`` and by a Core insert: the same bytes."""
    t0 = datetime(2026, 1, 5, 8, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    rows = [
        DeviceRow(
            key=f"ip:10.0.0.{i}",
            first_seen=t0,
            last_seen=t0 + timedelta(seconds=i),
            category="server",
            medical=i % 2 == 0,
            vendor="Ä" if i else None,
            model=None,
            os=None,
            handles_phi=bool(i % 3),
            record={"n": [i, 1.5, None], "s": "é\u2028"},
            addresses=(
                ("ip", f"10.0.0.{i}", 0, t0, t0),
                ("mac", f"00:00:00:00:00:0{i}", 2, t0, t0 + timedelta(microseconds=1)),
            ),
        )  # fmt: skip
        for i in range(4)
    ]
    fast, core = tmp_path / "fast.db", tmp_path / "core.db"
    with Store.open(f"sqlite:///{fast}") as store:
        store.replace_devices(rows)
    with Store.open(f"sqlite:///{core}") as store, store._write() as conn:
        conn.execute(insert(Device), [
            {c: getattr(r, c) for c in _DEVICE_COLUMNS[:-1]} | {"identified_at": t0} for r in rows
        ])  # fmt: skip
        conn.execute(insert(DeviceAddress), [
            dict(zip(_ADDRESS_COLUMNS, (n + 1, k, v, host_key(v) if k == "ip" else None, vlan,
                                        first, last), strict=True))
            for n, r in enumerate(rows) for k, v, vlan, first, last in r.addresses
        ])  # fmt: skip

    def dump(path: Path, query: str) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(path)
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()

    devices = ", ".join(f"{c}, typeof({c})" for c in _DEVICE_COLUMNS[:-1])
    query = f"SELECT id, {devices}, typeof(identified_at) FROM devices ORDER BY id"
    assert dump(fast, query) == dump(core, query)
    addresses = ", ".join(f"{c}, typeof({c})" for c in _ADDRESS_COLUMNS)
    query = f"SELECT id, {addresses} FROM device_addresses ORDER BY id"
    assert dump(fast, query) == dump(core, query)
