"""Hosts, bindings and times read back for identification without SQLAlchemy's conversion:
the same values and types as the ORM columns give, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from medsec.inventory import Store
from medsec.inventory.device_rows import _stored_time, bindings, hosts
from medsec.inventory.models import Binding, Host

T0 = datetime(2026, 1, 5, 8, 0, 0, 123456, tzinfo=UTC)


def test_hosts_and_bindings_read_as_the_orm_reads_them(store: Store) -> None:
    with store._write() as conn:
        conn.execute(
            insert(Host),
            [
                {"ip": ip, "ip_key": ip, "internal": internal, "first_seen": T0,
                 "last_seen": T0 + timedelta(seconds=n, microseconds=n), "packets_sent": 1,
                 "packets_received": 1, "bytes_sent": 1, "bytes_received": 1,
                 "flows_as_client": 1, "flows_as_server": 0}
                for n, (ip, internal) in enumerate([("10.0.0.1", True), ("8.8.8.8", False)])
            ],
        )  # fmt: skip
        conn.execute(
            insert(Binding),
            [{"ip": "10.0.0.1", "mac": "00:09:fb:00:00:01", "vlan": 10, "first_seen": T0,
              "last_seen": T0 + timedelta(days=1), "packets": 3, "from_arp": True,
              "from_frames": True}],
        )  # fmt: skip
    with store._read() as conn:
        found_hosts, found_bindings = hosts(conn), bindings(conn)
        orm_hosts = [tuple(r) for r in conn.execute(select(Host.ip, Host.internal,
                     Host.first_seen, Host.last_seen))]  # fmt: skip
        orm_bindings = [tuple(r) for r in conn.execute(select(Binding.ip, Binding.mac,
                        Binding.vlan, Binding.first_seen, Binding.last_seen))]  # fmt: skip
    assert found_hosts == orm_hosts and found_bindings == orm_bindings
    for got, orm in zip(found_hosts + found_bindings, orm_hosts + orm_bindings, strict=True):
        assert [type(v) for v in got] == [type(v) for v in orm]  # bool, not SQLite's 0 or 1
        assert [getattr(v, "tzinfo", None) for v in got] == [
            getattr(v, "tzinfo", None) for v in orm
        ]


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05 08:00:00.123456",
        "2026-01-05T08:00:00.123456",
        "2026-01-05 08:00:00.000000",
        "2026-01-05 08:00:00",
        "2026-01-05 08:00:00.12+0100",  # an offset of its own, in the stored width
        "2026-01-05 08:00:00.12-05:00",
        "2026-01-05",
    ],
)
def test_stored_text_reads_as_fromisoformat_in_utc(text: str) -> None:
    assert _stored_time(text) == datetime.fromisoformat(text).replace(tzinfo=UTC)
    assert _stored_time(text).tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05 08:00:00.１２３４５６",
        "2026-01-05 25:00:00.000000",
        "2026-01-05 08:00:00.1234Z00",
    ],
)
def test_stored_text_that_is_no_time_fails_as_fromisoformat_fails(text: str) -> None:
    with pytest.raises(ValueError):
        datetime.fromisoformat(text)
    with pytest.raises(ValueError):
        _stored_time(text)


def test_stored_datetimes_come_back_in_utc() -> None:
    naive = datetime(2026, 1, 5, 8, 0)
    assert _stored_time(naive) == naive.replace(tzinfo=UTC)
    other = datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert _stored_time(other) == other and _stored_time(other).tzinfo is UTC
