"""Ids of new and kept devices when both come in one replacement, on SQLite and PostgreSQL:
new devices are inserted in bulk and their ids read back by key, so each address must still
land on its own device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from medsec.inventory import Store
from medsec.inventory.device_rows import DeviceRow

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def mac(n: int) -> str:
    return f"00:09:fb:00:01:{n:02x}"


def row(n: int, *macs: int) -> DeviceRow:
    """Device ``mac:<mac(n)>`` holding the MACs ``macs`` (its own by default) and one IP."""
    held = macs or (n,)
    return DeviceRow(
        key=f"mac:{mac(n)}",
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=n),
        category="unknown",
        medical=False,
        vendor=f"vendor {n}",
        model=None,
        os=None,
        handles_phi=False,
        record={"n": n},
        addresses=(
            *(("mac", mac(m), 0, T0, T0 + timedelta(minutes=n)) for m in held),
            ("ip", f"10.0.1.{n}", 0, T0, T0 + timedelta(minutes=n)),
        ),
    )


def stored(store: Store) -> dict[str, tuple[int, str | None, list[str], list[str]]]:
    return {d.key: (d.id, d.vendor, sorted(d.macs), d.ips) for d in store.devices()}


def test_new_devices_between_kept_ones_get_their_own_addresses(store: Store) -> None:
    assert store.replace_devices([row(1), row(2), row(3)]) == 3
    first = stored(store)
    # new devices before, between and after kept ones; 3 gone, 2 now also holds 3's MAC
    rows = [row(7), row(2, 2, 3), row(5), row(1), row(6)]
    assert store.replace_devices(rows) == 5
    now = stored(store)
    assert set(now) == {r.key for r in rows}
    assert now[f"mac:{mac(1)}"][0] == first[f"mac:{mac(1)}"][0]
    assert now[f"mac:{mac(2)}"][0] == first[f"mac:{mac(2)}"][0]
    assert len({v[0] for v in now.values()}) == 5
    for r in rows:
        _, vendor, macs, ips = now[r.key]
        assert vendor == f"vendor {r.record['n']}"
        assert macs == sorted(a[1] for a in r.addresses if a[0] == "mac")
        assert ips == [a[1] for a in r.addresses if a[0] == "ip"]


def test_only_new_devices(store: Store) -> None:
    rows = [row(n) for n in (4, 2, 9)]
    store.replace_devices(rows)
    now = stored(store)
    assert len({v[0] for v in now.values()}) == 3
    for r in rows:
        assert now[r.key][2] == [mac(r.record["n"])]
