"""Property: however captures are ingested (any order, each twice), the store holds their sum.

An independent model recomputes edges (with their applications), hosts and bindings from the
summaries; the store's views and totals must equal it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from inventory_synth import T0, SynthBeacon, ctx, summary

from medsec.inventory import Store, Totals
from medsec.model.config import SiteNetworks
from medsec.model.traffic import AddressBinding, CaptureSummary, FlowRecord, Transport

SITE = SiteNetworks.parse(["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"])
IPS = [
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.10",
    "192.168.1.7",
    "8.8.8.8",
    "2001:db8::1",
    "fd00::1",
    "224.0.0.251",
    "255.255.255.255",
    "0.0.0.0",
    "::",
]
MACS = ["02:00:00:00:00:01", "02:00:00:00:00:02", "00:00:5e:00:01:01"]
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]

times = st.builds(
    lambda s, zone: (T0 + timedelta(microseconds=s)).astimezone(zone),
    st.integers(0, 3 * 86_400 * 10**6),
    st.sampled_from(ZONES),
)
counts = st.integers(0, 2**40)


@st.composite
def flows(draw: st.DrawFn) -> FlowRecord:
    a, b = sorted([draw(times), draw(times)])
    transport: Transport = draw(st.sampled_from(["tcp", "udp"]))
    return FlowRecord(
        transport=transport,
        ip_protocol=6 if transport == "tcp" else 17,
        client_ip=draw(st.sampled_from(IPS)),
        server_ip=draw(st.sampled_from(IPS)),
        client_port=draw(st.integers(1024, 65535)),
        server_port=draw(st.sampled_from([53, 104, 443])),
        vlan=draw(st.integers(0, 2)),
        inner_vlan=0,
        client_mac=draw(st.sampled_from([None, *MACS])),
        server_mac=draw(st.sampled_from([None, *MACS])),
        first_seen=a,
        last_seen=b,
        packets_c2s=draw(counts),
        packets_s2c=draw(counts),
        bytes_c2s=draw(counts),
        bytes_s2c=draw(counts),
        tcp_flags_c2s=draw(st.integers(0, 63)),
        tcp_flags_s2c=draw(st.integers(0, 63)),
        state="established" if transport == "tcp" else "none",
        initiator="syn" if transport == "tcp" else "port",
        app=draw(st.sampled_from([None, None, "dicom", "hl7", "tls"])),
    )


@st.composite
def bindings(draw: st.DrawFn) -> AddressBinding:
    a, b = sorted([draw(times), draw(times)])
    return AddressBinding(
        ip=draw(st.sampled_from(IPS)),
        mac=draw(st.sampled_from(MACS)),
        vlan=draw(st.integers(0, 2)),
        first_seen=a,
        last_seen=b,
        packets=draw(st.integers(0, 1000)),
        from_arp=draw(st.booleans()),
        from_frames=draw(st.booleans()),
    )


@st.composite
def captures(draw: st.DrawFn) -> tuple[list[CaptureSummary], list[int]]:
    n = draw(st.integers(1, 4))
    summaries = [
        summary(
            f"cap-{i}",
            draw(st.lists(flows(), max_size=8)),
            draw(st.lists(bindings(), max_size=4)),
            packets=draw(st.integers(0, 10**9)),
            observations=[
                SynthBeacon(ctx=ctx(t), serial=f"{i}-{t}")
                for t in draw(st.lists(st.integers(0, 100), max_size=3))
            ],
        )
        for i in range(n)
    ]
    order = draw(st.permutations([i for i in range(n) for _ in (0, 1)]))
    return summaries, list(order)


def is_host(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    return not (addr.is_multicast or addr.is_unspecified or ip == "255.255.255.255")


@dataclass
class Expected:
    edges: dict[tuple[str, str, str, int], list[object]] = field(default_factory=dict)
    apps: dict[tuple[str, str, str, int], dict[str, int]] = field(default_factory=dict)
    hosts: dict[str, list[object]] = field(default_factory=dict)
    bindings: dict[tuple[str, str, int], list[object]] = field(default_factory=dict)


def span(entry: list[object], first: datetime, last: datetime) -> None:
    entry[0] = min(entry[0], first)  # type: ignore[call-overload]
    entry[1] = max(entry[1], last)  # type: ignore[call-overload]


def model(summaries: list[CaptureSummary]) -> Expected:
    exp = Expected()
    for s in summaries:
        for f in s.flows:
            key = (f.client_ip, f.server_ip, f.transport, f.server_port)
            e = exp.edges.setdefault(key, [f.first_seen, f.last_seen, 0, 0, 0])
            span(e, f.first_seen, f.last_seen)
            e[2] += 1  # type: ignore[operator]
            e[3] += f.packets_c2s + f.packets_s2c  # type: ignore[operator]
            e[4] += f.bytes_c2s + f.bytes_s2c  # type: ignore[operator]
            apps = exp.apps.setdefault(key, {})
            if f.app is not None:
                apps[f.app] = apps.get(f.app, 0) + 1
            for ip, sent, recv, bsent, brecv, role in (
                (f.client_ip, f.packets_c2s, f.packets_s2c, f.bytes_c2s, f.bytes_s2c, 6),
                (f.server_ip, f.packets_s2c, f.packets_c2s, f.bytes_s2c, f.bytes_c2s, 7),
            ):
                if not is_host(ip):
                    continue
                h = exp.hosts.setdefault(ip, [f.first_seen, f.last_seen, 0, 0, 0, 0, 0, 0])
                span(h, f.first_seen, f.last_seen)
                for i, v in ((2, sent), (3, recv), (4, bsent), (5, brecv), (role, 1)):
                    h[i] += v  # type: ignore[operator]
        for b in s.bindings:
            if not is_host(b.ip):
                continue
            h = exp.hosts.setdefault(b.ip, [b.first_seen, b.last_seen, 0, 0, 0, 0, 0, 0])
            span(h, b.first_seen, b.last_seen)
            m = exp.bindings.setdefault(
                (b.ip, b.mac, b.vlan), [b.first_seen, b.last_seen, 0, False, False]
            )
            span(m, b.first_seen, b.last_seen)
            m[2] += b.packets  # type: ignore[operator]
            m[3] = m[3] or b.from_arp
            m[4] = m[4] or b.from_frames
    return exp


@settings(max_examples=60, deadline=None)
@given(captures())
def test_any_order_twice_equals_the_sum(case: tuple[list[CaptureSummary], list[int]]) -> None:
    summaries, order = case
    with Store.open("sqlite://") as store:
        results = [store.ingest(summaries[i], SITE) for i in order]
        assert sum(not r.skipped for r in results) == len(summaries)
        exp = model(summaries)

        edges = {
            (e.client, e.server, e.transport, e.server_port): [
                e.first_seen,
                e.last_seen,
                e.flows,
                e.packets,
                e.bytes,
            ]
            for e in store.edges()
        }
        assert edges == exp.edges
        assert {
            (e.client, e.server, e.transport, e.server_port): e.apps for e in store.edges()
        } == {
            key: tuple(sorted(apps, key=lambda a: (-apps[a], a))) for key, apps in exp.apps.items()
        }
        assert [e.app for e in store.edges()] == [
            e.apps[0] if e.apps else None for e in store.edges()
        ]
        hosts = store.hosts()
        assert {
            h.ip: [
                h.first_seen,
                h.last_seen,
                h.packets_sent,
                h.packets_received,
                h.bytes_sent,
                h.bytes_received,
                h.flows_as_client,
                h.flows_as_server,
            ]
            for h in hosts
        } == exp.hosts
        assert {
            (h.ip, b.mac, b.vlan): [b.first_seen, b.last_seen, b.packets, b.from_arp, b.from_frames]
            for h in hosts
            for b in h.bindings
        } == exp.bindings
        internal = sum(SITE.is_internal(ip) for ip in exp.hosts)
        assert store.totals() == Totals(
            captures=len(summaries),
            hosts=len(exp.hosts),
            internal_hosts=internal,
            external_hosts=len(exp.hosts) - internal,
            edges=len(exp.edges),
            flows=sum(len(s.flows) for s in summaries),
            observations=sum(len(s.observations) for s in summaries),
            packets=sum(s.stats.packets for s in summaries),
            bytes=sum(s.stats.bytes for s in summaries),
        )
