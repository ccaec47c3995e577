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
    # digits that are no id the column holds: nothing found, no error from int() or the engine
    assert store.device("²") == store.device("١") == store.device("9" * 40) == []
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


def test_identification_reads_back_what_discovery_stored(store: Store, tmp_path: Any) -> None:
    """The untyped read of stored observations (times and JSON facts) gives, on both
    engines, the facts of the capture's observations as the dissectors made them."""
    import json
    from collections import Counter

    from medsec.capture.reader import read_capture
    from medsec.dissect import default_dissectors
    from medsec.dissect.pipeline import DissectPipeline
    from medsec.identify.facts import Fact
    from medsec.inventory.facts import facts_json
    from medsec.model.config import Settings
    from medsec.service.devices import identify_inventory
    from medsec.service.discover import discover_file
    from medsec.simulate import generate

    sim = generate(tmp_path / "h.pcap", devices=12, minutes=1, seed=5)
    settings = Settings()
    discover_file(sim.pcap, store, settings, dissect=True)
    pipeline = DissectPipeline(default_dissectors())
    read_capture(sim.pcap, sink=pipeline)

    def key(f: Fact, fields: Any) -> tuple[Any, ...]:
        return (f.kind, f.ts_ns // 1000, f.src_ip, f.dst_ip, f.src_port, f.dst_port,
                f.src_mac, f.vlan, json.dumps(fields, sort_keys=True))  # fmt: skip

    from medsec.identify.facts import fact_of

    fresh = Counter(key(fact_of(o), json.loads(facts_json(o))) for o in pipeline.observations)
    stored = Counter(key(f, f.fields) for f in store.identification_inputs(8).facts)
    assert stored == fresh and sum(stored.values()) > 100
    outcome = identify_inventory(store, settings)
    assert outcome.facts == sum(stored.values()) and outcome.identified > 0


@pytest.mark.parametrize(
    "stored",
    [
        "2026-01-05 08:00:00.123456",
        "2026-01-05 08:00:00.000000",
        "1970-01-01 00:00:00.000001",
        "2026-01-05 08:00:00",  # no fraction: the slow path
        "2026-01-05T08:00:00.5+00:00",
        datetime(2026, 1, 5, 8, 0, 0, 7, tzinfo=UTC),
        datetime(2026, 1, 5, 8, 0, 0, 7),  # naive: UTC
    ],
)
def test_stored_times_read_per_second_as_parsed_whole(stored: Any) -> None:
    from medsec.inventory.device_rows import _stored_time, _time_reader, ns

    read = _time_reader()
    assert read(stored) == ns(_stored_time(stored))
    assert read(stored) == ns(_stored_time(stored))  # the second of the cache


def test_stored_times_with_bad_digits_fail_like_the_parser() -> None:
    from medsec.inventory.device_rows import _time_reader

    with pytest.raises(ValueError):
        _time_reader()("2026-01-05 08:00:00.12345x")


def test_facts_come_oldest_first_and_in_storing_order_within_a_time(
    store: Store, tmp_path: Any
) -> None:
    """Two captures of the same minutes: facts in the order ``ORDER BY ts, id`` gives."""
    from sqlalchemy import select

    from medsec.inventory.device_rows import facts, ns
    from medsec.inventory.models import ObservationRow
    from medsec.model.config import Settings
    from medsec.service.discover import discover_file
    from medsec.simulate import generate

    for seed in (5, 6):
        sim = generate(tmp_path / f"h{seed}.pcap", devices=10, minutes=1, seed=seed)
        discover_file(sim.pcap, store, Settings(), dissect=True)
    o = ObservationRow
    with store._read() as conn:  # noqa: SLF001 (the store's own connection)
        expected = [
            (r.kind, ns(r.ts), r.src_ip, r.dst_ip, r.src_port, r.flow_id)
            for r in conn.execute(
                select(o.kind, o.ts, o.src_ip, o.dst_ip, o.src_port, o.flow_id).order_by(o.ts, o.id)
            )
        ]
        got = [(f.kind, f.ts_ns, f.src_ip, f.dst_ip, f.src_port, f.flow_id) for f in facts(conn)]
    assert got == expected and len(got) > 100
    assert len({t for _, t, *_ in got}) < len(got)  # times shared: the order among them counts
