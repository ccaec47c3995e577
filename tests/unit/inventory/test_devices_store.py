"""Devices in the store, on SQLite and PostgreSQL: replace, keep ids, merge, query, look up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from medsec.inventory import InvalidQuery, Store
from medsec.inventory.device_rows import DeviceRow
from medsec.inventory.views import DeviceQuery

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
A, B, C = "00:09:fb:00:00:0a", "00:09:fb:00:00:0b", "00:50:56:00:00:0c"


def row(key: str, category: str, *addresses: tuple[str, str, int], **extra: Any) -> DeviceRow:
    return DeviceRow(
        key=key,
        first_seen=T0,
        last_seen=T0 + timedelta(hours=1),
        category=category,
        medical=category == "patient_monitor",
        vendor=extra.get("vendor"),
        model=extra.get("model"),
        os=extra.get("os"),
        handles_phi=extra.get("phi", False),
        record={"attributes": {"category": {"value": category, "confidence": 70}}, "n": [1, 2]},
        addresses=tuple((k, v, vlan, T0, T0 + timedelta(hours=1)) for k, v, vlan in addresses),
    )


def test_replace_keeps_ids_and_reads_back(store: Store) -> None:
    monitor = row(f"mac:{A}", "patient_monitor", ("mac", A, 10), ("ip", "10.10.0.5", 10),
                  vendor="Philips", phi=True)  # fmt: skip
    server = row(f"mac:{C}", "server", ("mac", C, 50), ("ip", "10.50.0.2", 50), vendor="VMware")
    assert store.replace_devices([monitor, server]) == 2
    first = {d.key: d.id for d in store.devices()}
    store.replace_devices([server, monitor])  # same devices, other order: same ids
    assert {d.key: d.id for d in store.devices()} == first
    (shown,) = store.device("10.10.0.5")
    assert shown.category == "patient_monitor" and shown.medical and shown.handles_phi
    assert shown.vendor == "Philips" and shown.ips == ["10.10.0.5"] and shown.macs == [A]
    assert shown.record["n"] == [1, 2]
    assert shown.addresses[0].first_seen == T0  # aware UTC on both engines
    assert [d.id for d in store.device(A.upper().replace(":", "-"))] == [shown.id]
    assert [d.id for d in store.device(str(shown.id))] == [shown.id]
    assert store.device("10.99.0.1") == []
    assert [d.key for d in store.devices()] == [f"mac:{A}", f"mac:{C}"]  # medical first


def test_a_merged_device_keeps_the_id_of_one_it_absorbs(store: Store) -> None:
    store.replace_devices(
        [row(f"mac:{A}", "unknown", ("mac", A, 0)), row(f"mac:{B}", "unknown", ("mac", B, 0))]
    )
    ids = {d.key: d.id for d in store.devices()}
    store.replace_devices([row(f"mac:{A}", "it_workstation", ("mac", A, 0), ("mac", B, 0))])
    (merged,) = store.devices()
    assert merged.id == ids[f"mac:{A}"] and set(merged.macs) == {A, B}
    # split again: A keeps its id, B gets a new one (its old id was absorbed)
    store.replace_devices(
        [row(f"mac:{A}", "unknown", ("mac", A, 0)), row(f"mac:{B}", "unknown", ("mac", B, 0))]
    )
    again = {d.key: d.id for d in store.devices()}
    assert again[f"mac:{A}"] == ids[f"mac:{A}"] and again[f"mac:{B}"] != ids[f"mac:{A}"]


def test_queries(store: Store) -> None:
    store.replace_devices(
        [
            row(f"mac:{A}", "patient_monitor", ("mac", A, 10), ("ip", "10.10.0.5", 10),
                vendor="Philips", phi=True),
            row(f"mac:{C}", "server", ("mac", C, 50), ("ip", "10.50.0.2", 50), vendor="VMware"),
            row("ip:10.60.0.9", "printer", ("ip", "10.60.0.9", 0)),
        ]
    )  # fmt: skip

    def keys(**q: Any) -> set[str]:
        return {d.key for d in store.devices(DeviceQuery(**q))}

    assert keys(category="server") == {f"mac:{C}"}
    assert keys(vendor="phil") == {f"mac:{A}"}
    assert keys(vlan=50) == {f"mac:{C}"}
    assert keys(network="10.60.0.0/24") == {"ip:10.60.0.9"}
    assert keys(medical=True) == keys(handles_phi=True) == {f"mac:{A}"}
    assert len(store.devices(DeviceQuery(limit=2))) == 2
    with pytest.raises(InvalidQuery):
        DeviceQuery(network="not-a-net")
