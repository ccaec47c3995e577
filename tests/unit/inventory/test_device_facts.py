"""Stored observation rows become facts field by field: ``_facts_of`` builds a ``Fact`` by
position, so this holds it to ``Fact``'s field order."""

from __future__ import annotations

import dataclasses

from medsec.identify.facts import Fact
from medsec.inventory.device_rows import _facts_of, _stored_time, ns


def test_each_column_lands_in_its_field() -> None:
    ts = "2026-01-05 08:00:01.000002"
    row = ("Kind", "proto", ts, "udp", "10.0.0.1", "10.0.0.2", 1001, 1002,
           "00:00:00:00:00:01", "00:00:00:00:00:02", 7, 42, '{"a": 1}')  # fmt: skip
    (fact,) = _facts_of([row])
    assert fact == Fact(
        kind="Kind",
        protocol="proto",
        ts_ns=ns(_stored_time(ts)),
        transport="udp",
        src_ip="10.0.0.1",
        dst_ip="10.0.0.2",
        src_port=1001,
        dst_port=1002,
        src_mac="00:00:00:00:00:01",
        dst_mac="00:00:00:00:00:02",
        vlan=7,
        flow_id=42,
        fields={"a": 1},
    )
    assert [f.name for f in dataclasses.fields(Fact)] == [
        "kind", "protocol", "ts_ns", "transport", "src_ip", "dst_ip", "src_port", "dst_port",
        "src_mac", "dst_mac", "vlan", "flow_id", "fields",
    ]  # fmt: skip
