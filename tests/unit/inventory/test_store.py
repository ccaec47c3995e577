"""Store behaviour on SQLite and PostgreSQL: ingest, merge, derivations, filters, errors."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest
from inventory_synth import (
    ROUTER_MAC,
    T0,
    Part,
    SynthBeacon,
    SynthHello,
    at,
    big_summary,
    binding,
    ctx,
    flow,
    hello,
    snapshot,
    summary,
)

import medsec.inventory
from medsec.inventory import (
    EdgeQuery,
    FlowQuery,
    HostQuery,
    HostView,
    IngestResult,
    InvalidQuery,
    ObservationQuery,
    ObservationView,
    Store,
    database_url,
)
from medsec.model.config import SiteNetworks
from medsec.model.errors import InventoryError
from medsec.model.observations import Observation, observation
from medsec.model.traffic import CaptureStats

DAY = timedelta(days=1)
MAC_A = "02:00:00:00:00:0a"
MAC_B = "02:00:00:00:00:0b"


def host(store: Store, ip: str, **query: Any) -> HostView:
    (found,) = [h for h in store.hosts(HostQuery(**query)) if h.ip == ip]
    return found


def test_public_api_is_locked() -> None:
    assert sorted(medsec.inventory.__all__) == [
        "CaptureStatus",
        "CaptureView",
        "DeviceQuery",
        "DeviceView",
        "EdgeQuery",
        "EdgeView",
        "FlowQuery",
        "FlowView",
        "HostBinding",
        "HostQuery",
        "HostView",
        "IngestResult",
        "InvalidQuery",
        "ObservationQuery",
        "ObservationView",
        "Store",
        "Totals",
        "database_url",
    ]


def test_empty_store(store: Store) -> None:
    assert store.hosts() == []
    assert store.edges() == []
    assert store.flows() == []
    assert store.captures() == []
    assert store.observations() == []
    totals = store.totals()
    assert (
        totals.captures,
        totals.hosts,
        totals.edges,
        totals.flows,
        totals.observations,
        totals.packets,
    ) == (0, 0, 0, 0, 0, 0)
    assert store.capture_status("nope") is None


def test_ingest_is_idempotent(store: Store, site: SiteNetworks) -> None:
    s = summary(
        "cap-1",
        [
            flow("10.0.0.1", "10.0.0.2", 104, app="dicom"),
            flow("10.0.0.1", "8.8.8.8", 53, transport="udp"),
        ],
        [binding("10.0.0.1", MAC_A)],
        observations=[hello(ctx(0.5), 1), SynthBeacon(ctx=ctx(0.7, None, None), serial="S")],
    )
    first = store.ingest(s, site)
    assert not first.skipped
    assert (first.flows, first.edges, first.hosts, first.bindings, first.observations) == (
        2,
        2,
        3,
        1,
        2,
    )
    before = snapshot(store)
    assert len(before["observations"]) == 2
    again = store.ingest(s, site)
    assert again.skipped
    assert again.capture_id == first.capture_id
    assert (again.flows, again.edges, again.hosts, again.bindings, again.observations) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert snapshot(store) == before
    assert store.totals().observations == 2
    assert store.capture_status("cap-1") == "complete"


def test_two_captures_merge_and_move_first_last_seen(store: Store, site: SiteNetworks) -> None:
    day2 = summary(
        "day-2",
        [
            flow(
                "10.0.0.1",
                "10.0.0.2",
                104,
                start=3600,
                end=3700,
                packets=(10, 20),
                nbytes=(1000, 2000),
                base=T0 + DAY,
            )
        ],
        [binding("10.0.0.1", MAC_A, vlan=5, start=3600, end=3700, packets=7, base=T0 + DAY)],
    )
    day1 = summary(
        "day-1",
        [
            flow("10.0.0.1", "10.0.0.2", 104, start=10, end=20, packets=(1, 2), nbytes=(100, 200)),
            flow("10.0.0.1", "10.0.0.2", 104, start=5, end=8, packets=(3, 4), nbytes=(300, 400)),
        ],
        [
            binding("10.0.0.1", MAC_A, vlan=5, start=5, end=20, packets=3, arp=True, frames=False),
        ],
    )
    store.ingest(day2, site)  # the later day first: the earlier one must move first_seen back
    store.ingest(day1, site)

    (edge,) = store.edges()
    assert (edge.client, edge.server, edge.transport, edge.server_port) == (
        "10.0.0.1",
        "10.0.0.2",
        "tcp",
        104,
    )
    assert edge.flows == 3
    assert edge.packets == 30 + 3 + 7
    assert edge.bytes == 3000 + 300 + 700
    assert edge.first_seen == at(5)
    assert edge.last_seen == at(3700, T0 + DAY)
    assert not edge.external

    client = host(store, "10.0.0.1")
    assert client.first_seen == at(5)
    assert client.last_seen == at(3700, T0 + DAY)
    assert (client.packets_sent, client.packets_received) == (10 + 1 + 3, 20 + 2 + 4)
    assert (client.bytes_sent, client.bytes_received) == (1000 + 100 + 300, 2000 + 200 + 400)
    assert (client.flows_as_client, client.flows_as_server) == (3, 0)
    server = host(store, "10.0.0.2")
    assert (server.packets_sent, server.bytes_received) == (20 + 2 + 4, 1000 + 100 + 300)
    assert (server.flows_as_client, server.flows_as_server) == (0, 3)

    (b,) = client.bindings
    assert (b.mac, b.vlan, b.packets) == (MAC_A, 5, 10)
    assert b.from_arp and b.from_frames  # OR of both captures
    assert (b.first_seen, b.last_seen) == (at(5), at(3700, T0 + DAY))

    totals = store.totals()
    assert (totals.captures, totals.flows, totals.edges, totals.hosts) == (2, 3, 1, 2)
    assert totals.packets == day1.stats.packets + day2.stats.packets
    assert [c.fingerprint for c in store.captures()] == ["day-2", "day-1"]


def test_hosts_are_unicast_addresses_of_flows_and_bindings(
    store: Store, site: SiteNetworks
) -> None:
    s = summary(
        "cap",
        [
            flow("10.0.0.1", "224.0.0.251", 5353, transport="udp"),
            flow("0.0.0.0", "255.255.255.255", 67, transport="udp", client_port=68),
            flow("fe80::1", "ff02::fb", 5353, transport="udp"),
            flow("::", "ff02::1:2", 547, transport="udp", client_port=546),
            flow("10.0.0.1", "93.184.216.34", 443),
            flow("fd00::5", "2001:db8::1", 443),
        ],
        [
            binding("10.0.0.9", MAC_B, vlan=3),  # known only from its frames/ARP
            binding("0.0.0.0", MAC_B, vlan=3),  # a DHCP client before its lease: no host
        ],
    )
    result = store.ingest(s, site)
    ips = [h.ip for h in store.hosts()]
    assert ips == ["10.0.0.1", "10.0.0.9", "93.184.216.34", "2001:db8::1", "fd00::5", "fe80::1"]
    assert result.hosts == 6
    assert result.bindings == 1
    # Non-host addresses still are edge endpoints.
    assert len(store.edges()) == 6
    assert {e.server for e in store.edges(EdgeQuery(client="0.0.0.0"))} == {"255.255.255.255"}

    only_bound = host(store, "10.0.0.9")
    assert (only_bound.packets_sent, only_bound.flows_as_client, only_bound.flows_as_server) == (
        0,
        0,
        0,
    )
    assert only_bound.macs == (MAC_B,)
    assert only_bound.vlans == (3,)
    assert (only_bound.first_seen, only_bound.last_seen) == (at(0), at(1))

    assert host(store, "10.0.0.1").internal
    assert host(store, "fd00::5").internal
    assert not host(store, "93.184.216.34").internal
    assert not host(store, "2001:db8::1").internal
    assert host(store, "fe80::1").internal is False  # fe80::/10 is not in this site's list

    external = {(e.client, e.server) for e in store.edges(EdgeQuery(external=True))}
    assert external == {
        ("10.0.0.1", "93.184.216.34"),
        ("fd00::5", "2001:db8::1"),
        ("fe80::1", "ff02::fb"),
    }
    internal = {(e.client, e.server) for e in store.edges(EdgeQuery(external=False))}
    assert ("10.0.0.1", "224.0.0.251") in internal  # multicast counts as internal
    assert ("0.0.0.0", "255.255.255.255") in internal
    totals = store.totals()
    assert (totals.hosts, totals.internal_hosts, totals.external_hosts) == (6, 3, 3)


def test_gateway_macs_are_not_host_macs(store: Store, site: SiteNetworks) -> None:
    remote = [f"203.0.113.{i}" for i in range(1, 10)]  # 9 IPs behind the router MAC
    s = summary(
        "cap",
        [flow("10.0.0.5", ip, 443, client_mac=MAC_A, server_mac=ROUTER_MAC) for ip in remote],
        [binding(ip, ROUTER_MAC, vlan=1, packets=2) for ip in remote]
        + [
            binding("10.0.0.1", ROUTER_MAC, vlan=1, arp=True, frames=False),
            binding("10.0.0.5", MAC_A, vlan=1),
            binding("10.0.0.5", MAC_A, vlan=2),
        ],
    )
    store.ingest(s, site)
    assert store.gateway_macs(8) == frozenset({ROUTER_MAC})
    assert store.gateway_macs(9) == frozenset()  # "more than" the threshold

    behind = host(store, "203.0.113.4")
    assert behind.macs == ()
    assert behind.vlans == ()
    (b,) = behind.bindings
    assert (b.mac, b.vlan, b.gateway, b.from_frames, b.from_arp) == (
        ROUTER_MAC,
        1,
        True,
        True,
        False,
    )
    router = host(store, "10.0.0.1")
    assert router.macs == (ROUTER_MAC,)  # announced in ARP: its own address
    assert router.vlans == (1,)
    device = host(store, "10.0.0.5")
    assert device.macs == (MAC_A,)
    assert device.vlans == (1, 2)

    # With a higher threshold the router MAC counts as the remote hosts' MAC.
    relaxed = host(store, "203.0.113.4", gateway_mac_threshold=20)
    assert relaxed.macs == (ROUTER_MAC,)
    assert relaxed.vlans == (1,)
    assert not relaxed.bindings[0].gateway

    by_router = [h.ip for h in store.hosts(HostQuery(mac=ROUTER_MAC))]
    assert by_router == ["10.0.0.1"]
    assert [h.ip for h in store.hosts(HostQuery(mac=ROUTER_MAC, gateway_mac_threshold=20))] == [
        "10.0.0.1",
        *remote,
    ]


def test_host_filters_and_order(store: Store, site: SiteNetworks) -> None:
    ips = ["10.0.0.10", "10.0.0.9", "10.0.1.1", "192.168.1.1", "8.8.8.8", "fd00::2", "2001:db8::1"]
    flows = [
        flow("10.0.0.9", ip, 80, start=i * 100, end=i * 100 + 10)
        for i, ip in enumerate(ips)
        if ip != "10.0.0.9"
    ]
    bindings = [
        binding("10.0.0.10", MAC_A, vlan=10),
        binding("10.0.1.1", MAC_B, vlan=20, start=200, end=210),
        binding("10.0.0.9", MAC_B, vlan=10),
    ]
    store.ingest(summary("cap", flows, bindings), site)

    assert [h.ip for h in store.hosts()] == [
        "8.8.8.8",
        "10.0.0.9",
        "10.0.0.10",
        "10.0.1.1",
        "192.168.1.1",
        "2001:db8::1",
        "fd00::2",
    ]
    ips_of = lambda **q: [h.ip for h in store.hosts(HostQuery(**q))]  # noqa: E731
    assert ips_of(internal=False) == ["8.8.8.8", "2001:db8::1"]
    assert ips_of(internal=True) == ["10.0.0.9", "10.0.0.10", "10.0.1.1", "192.168.1.1", "fd00::2"]
    assert ips_of(network="10.0.0.0/24") == ["10.0.0.9", "10.0.0.10"]
    assert ips_of(network="10.0.0.0/8") == ["10.0.0.9", "10.0.0.10", "10.0.1.1"]
    assert ips_of(network="fd00::/8") == ["fd00::2"]
    assert ips_of(network="0.0.0.0/0") == [
        "8.8.8.8",
        "10.0.0.9",
        "10.0.0.10",
        "10.0.1.1",
        "192.168.1.1",
    ]
    assert ips_of(vlan=10) == ["10.0.0.9", "10.0.0.10"]
    assert ips_of(vlan=99) == []
    assert ips_of(mac=MAC_B.upper()) == ["10.0.0.9", "10.0.1.1"]
    assert ips_of(mac="02-00-00-00-00-0a") == ["10.0.0.10"]
    # 10.0.0.9 is in every flow (0..610 s); "fd00::2" only in the flow at 500..510 s.
    assert ips_of(since=at(500)) == ["10.0.0.9", "2001:db8::1", "fd00::2"]
    assert ips_of(until=at(50)) == ["10.0.0.9", "10.0.0.10"]
    assert ips_of(since=at(150), until=at(250)) == ["10.0.0.9", "10.0.1.1"]
    assert ips_of(limit=2) == ["8.8.8.8", "10.0.0.9"]
    assert ips_of(internal=True, network="10.0.0.0/8", vlan=10, limit=1) == ["10.0.0.9"]


def test_edge_filters_and_order(store: Store, site: SiteNetworks) -> None:
    flows = [
        flow("10.0.0.1", "10.0.0.2", 104, nbytes=(500, 500)),
        flow("10.0.0.1", "10.0.0.2", 104, nbytes=(100, 0)),
        flow("10.0.0.3", "10.0.0.2", 104, nbytes=(600, 0)),
        flow("10.0.0.1", "10.0.0.4", 2575, nbytes=(50, 50)),
        flow("10.0.0.1", "8.8.8.8", 53, transport="udp", nbytes=(60, 40)),
        flow("10.0.0.5", "10.0.0.1", 22, nbytes=(5000, 5000)),
    ]
    store.ingest(summary("cap", flows), site)
    keys = lambda **q: [(e.client, e.server, e.server_port) for e in store.edges(EdgeQuery(**q))]  # noqa: E731
    assert keys() == [
        ("10.0.0.5", "10.0.0.1", 22),
        ("10.0.0.1", "10.0.0.2", 104),  # 1100 bytes over 2 flows
        ("10.0.0.3", "10.0.0.2", 104),  # 600
        ("10.0.0.1", "10.0.0.4", 2575),  # 100, tie: ordered by key
        ("10.0.0.1", "8.8.8.8", 53),  # 100
    ]
    assert store.edges(EdgeQuery(client="10.0.0.1", port=104))[0].flows == 2
    assert keys(host="10.0.0.1") == [k for k in keys() if "10.0.0.1" in k[:2]]
    assert keys(server="10.0.0.2") == [("10.0.0.1", "10.0.0.2", 104), ("10.0.0.3", "10.0.0.2", 104)]
    assert keys(port=104, client="10.0.0.3") == [("10.0.0.3", "10.0.0.2", 104)]
    assert keys(transport="udp") == [("10.0.0.1", "8.8.8.8", 53)]
    assert keys(external=True) == [("10.0.0.1", "8.8.8.8", 53)]
    assert len(keys(external=False)) == 4
    assert keys(min_bytes=600) == keys()[:3]
    assert keys(limit=1) == keys()[:1]
    assert keys(host="10.9.9.9") == []


def test_flow_filters_and_round_trip(store: Store, site: SiteNetworks) -> None:
    one = [
        flow("10.0.0.1", "10.0.0.2", 104, start=30, end=40, vlan=7, client_mac=MAC_A),
        flow("10.0.0.3", "10.0.0.2", 2575, start=10, end=20, server_mac=MAC_B),
    ]
    two = [flow("10.0.0.1", "8.8.8.8", 53, transport="udp", start=20, end=21)]
    first = store.ingest(summary("one", one), site)
    second = store.ingest(summary("two", two), site)

    stored = store.flows()
    assert [f.record() for f in stored] == [one[1], two[0], one[0]]  # by first_seen
    assert [f.capture_id for f in stored] == [
        first.capture_id,
        second.capture_id,
        first.capture_id,
    ]
    records = lambda **q: [f.record() for f in store.flows(FlowQuery(**q))]  # noqa: E731
    assert records(capture_id=second.capture_id) == two
    assert records(host="10.0.0.1") == [two[0], one[0]]
    assert records(client="10.0.0.3") == [one[1]]
    assert records(server="10.0.0.2", port=104) == [one[0]]
    assert records(transport="udp") == two
    assert records(limit=1) == [one[1]]


def test_flow_app_round_trip(store: Store, site: SiteNetworks) -> None:
    flows = [
        flow("10.0.0.1", "10.0.0.2", 104, start=1, app="dicom"),
        flow("10.0.0.1", "10.0.0.2", 8080, start=2, app="hl7"),  # by content, not port
        flow("10.0.0.1", "10.0.0.2", 443, start=3),
    ]
    store.ingest(summary("apps", flows), site)
    stored = store.flows()
    assert [f.app for f in stored] == ["dicom", "hl7", None]
    assert [f.record() for f in stored] == flows
    assert [f.server_port for f in store.flows(FlowQuery(app="hl7"))] == [8080]
    assert store.flows(FlowQuery(app="tls")) == []


def test_edge_apps_merge_across_captures(store: Store, site: SiteNetworks) -> None:
    a, b = ("10.0.0.1", "10.0.0.2", 104), ("10.0.0.3", "10.0.0.2", 104)
    one = [
        flow(*a, app="dicom"),
        flow(*a, app="dicom"),
        flow(*a, app="http"),
        flow(*a),
        flow(*b, app="hl7"),
        flow(*b, app="dicom"),  # a tie: by name
        flow("10.0.0.1", "10.0.0.9", 22),  # nothing recognised
    ]
    two = [
        flow(*a, app="http", base=T0 + DAY),
        flow(*a, app="http", base=T0 + DAY),
        flow(*a, app="http", base=T0 + DAY),
        flow(*a, app="hl7", base=T0 + DAY),
    ]
    store.ingest(summary("one", one), site)
    after_one = {(e.client, e.server_port): e for e in store.edges()}
    assert after_one[("10.0.0.1", 104)].apps == ("dicom", "http")
    assert after_one[("10.0.0.1", 104)].app == "dicom"
    store.ingest(summary("two", two), site)

    edges = {(e.client, e.server, e.server_port): e for e in store.edges()}
    first = edges[a]
    assert first.flows == 8  # every flow counts, recognised or not
    assert first.apps == ("http", "dicom", "hl7")  # 4, 2, 1 flows
    assert first.app == "http"
    assert (edges[b].apps, edges[b].app) == (("dicom", "hl7"), "dicom")
    unknown = edges[("10.0.0.1", "10.0.0.9", 22)]
    assert (unknown.apps, unknown.app) == ((), None)

    # The same captures into a fresh store in the other order give the same edges.
    with Store.open("sqlite://") as other:
        other.ingest(summary("two", two), site)
        other.ingest(summary("one", one), site)
        assert sorted(other.edges(), key=lambda e: e.client) == sorted(
            store.edges(), key=lambda e: e.client
        )


def test_edge_app_filter(store: Store, site: SiteNetworks) -> None:
    flows = [
        flow("10.0.0.1", "10.0.0.2", 104, app="dicom", nbytes=(900, 0)),
        flow("10.0.0.1", "10.0.0.2", 104, app="dicom", nbytes=(900, 0)),
        flow("10.0.0.1", "10.0.0.2", 104, app="hl7", nbytes=(900, 0)),
        flow("10.0.0.3", "10.0.0.2", 2575, app="hl7", nbytes=(500, 0)),
        flow("10.0.0.3", "10.0.0.4", 2575, nbytes=(400, 0)),
        flow("10.0.0.5", "10.0.0.2", 11112, app="dicom", transport="udp", nbytes=(100, 0)),
    ]
    store.ingest(summary("cap", flows), site)
    keys = lambda **q: [(e.client, e.server_port) for e in store.edges(EdgeQuery(**q))]  # noqa: E731
    assert keys(app="hl7") == [("10.0.0.1", 104), ("10.0.0.3", 2575)]  # not only the first app
    assert keys(app="dicom") == [("10.0.0.1", 104), ("10.0.0.5", 11112)]
    assert keys(app=" dicom ") == keys(app="dicom")
    assert keys(app="dicom", transport="udp") == [("10.0.0.5", 11112)]
    assert keys(app="dicom", limit=1) == [("10.0.0.1", 104)]
    assert keys(app="hl7", server="10.0.0.4") == []
    assert keys(app="tls") == []
    (limited,) = store.edges(EdgeQuery(app="hl7", limit=1))
    assert limited.apps == ("dicom", "hl7")  # a filter does not hide the edge's other apps


def test_observations_round_trip(store: Store, site: SiteNetworks) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    where = ctx(
        12.000001,
        "10.0.0.5",
        "10.0.0.6",
        transport="tcp",
        ports=(40000, 104),
        macs=("02:00:00:00:00:AA", MAC_B),
        vlan=12,
        flow_id=77,
    )
    rich = SynthHello(
        ctx=where,
        names=("CT_SCANNER", "PACS"),
        seen=datetime(2025, 3, 1, 15, 0, tzinfo=ist),
        raw=b"\x00\x01\xfe",
        part=Part(name="ct", syntaxes=("1.2.840.10008.1.2",)),
        parts=(Part(name="x", syntaxes=()),),
        note=None,
        flag=True,
        count=2**40,
    )
    lldp = SynthBeacon(
        ctx=ctx(3, None, None, transport="l2", ports=(0, 0), macs=(MAC_A, None), flow_id=-1),
        serial="ü-\x00-SN",
    )
    result = store.ingest(summary("obs", observations=[rich, lldp]), site)
    assert result.observations == 2

    first, second = store.observations()  # by time: the beacon first
    assert isinstance(first, ObservationView)
    assert first.capture_id == result.capture_id
    assert (first.protocol, first.kind, first.transport) == ("beacon", "SynthBeacon", "l2")
    assert (first.src_ip, first.dst_ip, first.src_mac, first.dst_mac) == (None, None, MAC_A, None)
    assert first.facts == {"serial": "ü-\x00-SN", "mode": "active"}
    assert first.flow_id == -1
    assert second.id < first.id  # stored in capture order, listed by time
    assert (second.protocol, second.kind) == ("synth", "SynthHello")
    assert second.ts == at(12.000001)  # nanoseconds truncated to microseconds
    assert second.ts.tzinfo is not None and second.ts.utcoffset() == timedelta(0)
    assert (second.src_ip, second.dst_ip, second.src_port, second.dst_port) == (
        "10.0.0.5",
        "10.0.0.6",
        40000,
        104,
    )
    assert (second.src_mac, second.dst_mac) == ("02:00:00:00:00:aa", MAC_B)  # lower-case
    assert (second.vlan, second.flow_id, second.transport) == (12, 77, "tcp")
    assert second.facts == {
        "names": ["CT_SCANNER", "PACS"],
        "seen": "2025-03-01T09:30:00+00:00",
        "raw": "0001fe",
        "part": {"name": "ct", "syntaxes": ["1.2.840.10008.1.2"], "mode": None},
        "parts": [{"name": "x", "syntaxes": [], "mode": None}],
        "note": None,
        "flag": True,
        "count": 2**40,
    }
    hash(second)  # a frozen value, hashable although ``facts`` is a dict
    assert store.totals().observations == 2


def test_observation_filters_and_order(store: Store, site: SiteNetworks) -> None:
    one = [
        hello(ctx(30, "10.0.0.1", "10.0.0.2", macs=(MAC_A, MAC_B)), 1),
        hello(ctx(10, "10.0.0.3", "10.0.0.1", macs=(None, MAC_A)), 2),
        SynthBeacon(ctx=ctx(10, "10.0.0.3", "10.0.0.4"), serial="tie"),  # same time: by id
        SynthBeacon(ctx=ctx(20, None, None, transport="l2", macs=(MAC_B, None)), serial="l2"),
    ]
    two = [hello(ctx(5, "10.0.0.9", "10.0.0.1", base=T0 + DAY), 3)]
    c1 = store.ingest(summary("one", observations=one), site).capture_id
    c2 = store.ingest(summary("two", observations=two), site).capture_id

    def counts(**q: Any) -> list[Any]:
        found = store.observations(ObservationQuery(**q))
        return [o.facts.get("count", o.facts.get("serial")) for o in found]

    assert counts() == [2, "tie", "l2", 1, 3]
    assert counts(host="10.0.0.1") == [2, 1, 3]
    assert counts(host="10.0.0.3") == [2, "tie"]
    assert counts(mac=MAC_A.upper()) == [2, 1]
    assert counts(mac=MAC_B) == ["l2", 1]
    assert counts(protocol="beacon") == ["tie", "l2"]
    assert counts(kind="SynthHello") == [2, 1, 3]
    assert counts(kind="SynthHello", protocol="beacon") == []
    assert counts(capture_id=c2) == [3]
    assert counts(capture_id=c1, host="10.0.0.1") == [2, 1]
    assert counts(since=at(20)) == ["l2", 1, 3]
    assert counts(until=at(20)) == [2, "tie", "l2"]
    assert counts(since=at(10), until=at(10)) == [2, "tie"]  # both ends included
    assert counts(
        since=datetime(2025, 3, 1, 13, 30, 20, tzinfo=timezone(timedelta(hours=5.5)))
    ) == [
        "l2",
        1,
        3,
    ]
    assert counts(limit=2) == [2, "tie"]
    assert counts(host="10.9.9.9") == []


def test_times_round_trip_as_aware_utc(
    store_url: str, site: SiteNetworks, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A session time zone far from UTC must not leak into what comes back.
    monkeypatch.setenv("PGTZ", "Asia/Kolkata")
    ist = timezone(timedelta(hours=5, minutes=30))
    pst = timezone(timedelta(hours=-8))
    start = datetime(2025, 6, 30, 23, 59, 59, 123456, tzinfo=pst)  # 07:59:59.123456 UTC
    f = dataclasses.replace(
        flow("10.0.0.1", "10.0.0.2", 104),
        first_seen=start,
        last_seen=datetime(2025, 7, 1, 13, 30, 0, 1, tzinfo=ist),  # 08:00:00.000001 UTC
    )
    with Store.open(store_url) as store:
        store.ingest(summary("tz", [f]), site)
        (stored,) = store.flows()
        for value in (stored.first_seen, stored.last_seen):
            assert value.tzinfo is not None
            assert value.utcoffset() == timedelta(0)
        assert stored.first_seen == datetime(2025, 7, 1, 7, 59, 59, 123456, tzinfo=UTC)
        assert stored.last_seen == datetime(2025, 7, 1, 8, 0, 0, 1, tzinfo=UTC)
        (h,) = store.hosts(HostQuery(network="10.0.0.1/32"))
        assert h.first_seen == start and h.first_seen.tzinfo is UTC
        (capture,) = store.captures()
        assert capture.first_seen == start
        assert capture.ingested_at.tzinfo is UTC
        assert abs(datetime.now(UTC) - capture.ingested_at) < timedelta(minutes=5)
        # Filters take any zone too.
        assert store.hosts(HostQuery(since=datetime(2025, 7, 1, 13, 30, tzinfo=ist))) != []
        assert store.hosts(HostQuery(since=datetime(2025, 7, 1, 13, 31, tzinfo=ist))) == []


def test_naive_times_are_refused_and_store_nothing(store: Store, site: SiteNetworks) -> None:
    naive = dataclasses.replace(
        flow("10.0.0.1", "10.0.0.2", 104),
        first_seen=datetime(2025, 1, 1),
        last_seen=datetime(2025, 1, 1),
    )
    with pytest.raises(ValueError, match="naive"):
        store.ingest(summary("naive", [naive]), site)
    assert store.totals().captures == 0
    assert store.capture_status("naive") is None


@observation
class AnObservationWhoseClassNameIsFarTooLongToBeStoredInTheKindColumnOfTheTable(Observation):
    PROTOCOL: ClassVar[str] = "long"


def test_names_too_long_are_refused_on_every_engine(store: Store, site: SiteNetworks) -> None:
    long_app = flow("10.0.0.1", "10.0.0.2", 104, app="a" * 33)
    with pytest.raises(ValueError, match="longer than 32"):
        store.ingest(summary("app", [long_app]), site)
    long_kind = AnObservationWhoseClassNameIsFarTooLongToBeStoredInTheKindColumnOfTheTable(
        ctx=ctx(0)
    )
    with pytest.raises(ValueError, match="longer than 64"):
        store.ingest(summary("kind", observations=[long_kind]), site)
    assert store.totals().captures == 0
    store.ingest(summary("fits", [dataclasses.replace(long_app, app="a" * 32)]), site)
    assert store.flows()[0].app == "a" * 32


def test_partial_capture_and_stats(store: Store, site: SiteNetworks) -> None:
    s = dataclasses.replace(
        summary("broken", [flow("10.0.0.1", "10.0.0.2", 104)]),
        complete=False,
        error="truncated record at byte offset 4096",
        stats=CaptureStats(packets=9, bytes=900, ipv4=8, arp=1, tcp=8, truncated=1),
        format="pcapng.gz",
        source="/data/ward7.pcapng.gz",
    )
    store.ingest(s, site)
    assert store.capture_status("broken") == "partial"
    (c,) = store.captures()
    assert (c.status, c.error, c.format, c.source) == (
        "partial",
        "truncated record at byte offset 4096",
        "pcapng.gz",
        "/data/ward7.pcapng.gz",
    )
    assert (c.packets, c.bytes) == (9, 900)
    assert c.stats == s.stats
    assert (c.first_seen, c.last_seen) == (s.first_seen, s.last_seen)


def test_empty_capture(store: Store, site: SiteNetworks) -> None:
    empty = summary("empty", [], [], packets=0)
    assert empty.first_seen is None
    result = store.ingest(empty, site)
    assert not result.skipped
    (c,) = store.captures()
    assert (c.first_seen, c.last_seen, c.packets) == (None, None, 0)
    assert store.totals().captures == 1


def test_big_counters(store: Store, site: SiteNetworks) -> None:
    huge = 3 * 2**40  # past 32 bits
    store.ingest(summary("big", [flow("10.0.0.1", "10.0.0.2", 445, nbytes=(huge, huge))]), site)
    store.ingest(summary("big2", [flow("10.0.0.1", "10.0.0.2", 445, nbytes=(huge, huge))]), site)
    (edge,) = store.edges()
    assert edge.bytes == 4 * huge
    assert host(store, "10.0.0.1").bytes_sent == 2 * huge
    assert store.totals().bytes == 4 * huge


def test_site_classification_follows_the_latest_ingest(store: Store) -> None:
    narrow = SiteNetworks.parse(["10.0.0.0/24"])
    wide = SiteNetworks.parse(["10.0.0.0/8"])
    store.ingest(summary("a", [flow("10.0.0.1", "10.1.0.1", 80)]), narrow)
    assert store.edges()[0].external
    assert not host(store, "10.1.0.1").internal
    store.ingest(summary("b", [flow("10.0.0.1", "10.1.0.1", 80, start=5)]), wide)
    assert not store.edges()[0].external
    assert host(store, "10.1.0.1").internal


def test_reopen_keeps_data(store_url: str, site: SiteNetworks) -> None:
    with Store.open(store_url) as store:
        store.ingest(summary("keep", [flow("10.0.0.1", "10.0.0.2", 104)]), site)
        before = snapshot(store)
    with Store.open(store_url) as store:
        assert snapshot(store) == before
        assert store.ingest(summary("keep", [flow("10.0.0.1", "10.0.0.2", 104)]), site).skipped


@pytest.mark.parametrize(
    ("query", "kwargs", "message"),
    [
        (HostQuery, {"network": "10.0.0.0/33"}, "CIDR"),
        (HostQuery, {"mac": "zz:00:00:00:00:00"}, "MAC"),
        (HostQuery, {"mac": "00:00:00:00:00"}, "MAC"),
        (HostQuery, {"vlan": 5000}, "VLAN"),
        (HostQuery, {"limit": -1}, "limit"),
        (HostQuery, {"since": datetime(2025, 1, 1)}, "timezone"),
        (HostQuery, {"gateway_mac_threshold": 0}, "threshold"),
        (EdgeQuery, {"host": "10.0.0.256"}, "IP address"),
        (EdgeQuery, {"port": 70000}, "port"),
        (EdgeQuery, {"transport": "sctp"}, "transport"),
        (EdgeQuery, {"min_bytes": -5}, "min_bytes"),
        (FlowQuery, {"client": "host.example"}, "IP address"),
        (FlowQuery, {"app": ""}, "app"),
        (EdgeQuery, {"app": "  "}, "app"),
        (ObservationQuery, {"host": "10.0.0"}, "IP address"),
        (ObservationQuery, {"mac": "02:00:00:00:00"}, "MAC"),
        (ObservationQuery, {"protocol": ""}, "protocol"),
        (ObservationQuery, {"kind": " "}, "kind"),
        (ObservationQuery, {"since": datetime(2025, 1, 1)}, "timezone"),
        (ObservationQuery, {"until": datetime(2025, 1, 1)}, "timezone"),
        (ObservationQuery, {"limit": -1}, "limit"),
    ],
)
def test_invalid_queries(query: type[Any], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        query(**kwargs)
    assert issubclass(InvalidQuery, InventoryError)


def test_query_values_are_normalised() -> None:
    assert HostQuery(network="10.1.2.3/8").network == "10.0.0.0/8"
    assert HostQuery(mac="2:0:0:0:0:A").mac == "02:00:00:00:00:0a"
    assert EdgeQuery(host="2001:DB8:0::1").host == "2001:db8::1"


# --------------------------------------------------------------------------- open errors


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nosuchdb://x/y", "unsupported database"),
        ("mysql+pymysql://user:secret@localhost/db", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://u@localhost/db", "use postgresql\\+psycopg"),
        ("sqlite+aiosqlite:///x.db", "unsupported SQLite driver"),
        ("://nothing", "not a valid database URL"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(InventoryError, match=message) as info:
        Store.open(url)
    assert "\n" not in str(info.value)
    assert "secret" not in str(info.value)


def test_unreachable_server() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://medsec:secret@127.0.0.1:{port}/medsec"
    with pytest.raises(InventoryError, match="cannot open database") as info:
        Store.open(url)
    assert "\n" not in str(info.value)
    assert "secret" not in str(info.value)
    assert f":{port}/medsec" in str(info.value)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="does not exist"):
        Store.open(database_url(str(tmp_path / "no" / "such" / "medsec.db")))


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="is a directory"):
        Store.open(database_url(str(tmp_path)))


def test_unwritable_location() -> None:
    # /proc refuses new files even to root.
    with pytest.raises(InventoryError, match="cannot open database") as info:
        Store.open(database_url("/proc/medsec-test.db"))
    assert "\n" not in str(info.value)


def test_read_only_directory(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(InventoryError, match="cannot open database"):
            Store.open(database_url(str(ro / "medsec.db")))
    finally:
        ro.chmod(0o700)


def test_file_that_is_no_database(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(InventoryError, match="not a database"):
        Store.open(database_url(str(bogus)))


# --------------------------------------------------------------------------- concurrency


def run_threads(*targets: Callable[[], object]) -> list[object]:
    results: list[object] = [None] * len(targets)
    barrier = threading.Barrier(len(targets))

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = targets[i]()
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_writers_merge_overlapping_captures(store_url: str, tmp_path: Path) -> None:
    site = SiteNetworks.default()
    captures = [big_summary(3000, seed=seed) for seed in range(4)]
    stores = [Store.open(store_url) for _ in captures]
    try:
        results = run_threads(
            *(lambda s=s, c=c: s.ingest(c, site) for s, c in zip(stores, captures, strict=True))
        )
        assert all(isinstance(r, IngestResult) and not r.skipped for r in results), results
        with Store.open(database_url(str(tmp_path / "serial.db"))) as serial:
            for c in captures:
                serial.ingest(c, site)
            expected = snapshot(serial)
        actual = snapshot(stores[0])
        assert actual["hosts"] == expected["hosts"]
        assert actual["edges"] == expected["edges"]
        assert actual["totals"] == expected["totals"]
    finally:
        for s in stores:
            s.close()


def test_same_capture_from_two_writers_is_stored_once(store_url: str) -> None:
    site = SiteNetworks.default()
    capture = big_summary(2000, seed=9)
    stores = [Store.open(store_url) for _ in range(3)]
    try:
        results = run_threads(*(lambda s=s: s.ingest(capture, site) for s in stores))
        assert all(isinstance(r, IngestResult) for r in results), results
        assert sorted(r.skipped for r in results if isinstance(r, IngestResult)) == [
            False,
            True,
            True,
        ]
        assert len({r.capture_id for r in results if isinstance(r, IngestResult)}) == 1
        totals = stores[0].totals()
        assert (totals.captures, totals.flows) == (1, 2000)
    finally:
        for s in stores:
            s.close()


def test_capture_stored_between_check_and_write_is_skipped(
    store: Store, site: SiteNetworks, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = summary("raced", [flow("10.0.0.1", "10.0.0.2", 104)])
    first = store.ingest(s, site)
    before = snapshot(store)
    # As if another writer committed it after this one's pre-check: the insert conflicts.
    monkeypatch.setattr(Store, "capture_status", lambda self, fingerprint: None)
    again = store.ingest(s, site)
    assert again.skipped
    assert again.capture_id == first.capture_id
    assert snapshot(store) == before
