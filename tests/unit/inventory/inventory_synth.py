"""Hand-built ``CaptureSummary`` values for the inventory tests (no capture engine needed)."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from medsec.inventory import Store
from medsec.model.traffic import AddressBinding, CaptureStats, CaptureSummary, FlowRecord

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
ROUTER_MAC = "00:00:5e:00:01:01"


def at(seconds: float, base: datetime = T0) -> datetime:
    return base + timedelta(seconds=seconds)


def flow(
    client: str,
    server: str,
    port: int,
    *,
    transport: str = "tcp",
    start: float = 0.0,
    end: float = 1.0,
    packets: tuple[int, int] = (3, 2),
    nbytes: tuple[int, int] = (300, 200),
    client_port: int = 50000,
    vlan: int = 0,
    client_mac: str | None = None,
    server_mac: str | None = None,
    base: datetime = T0,
) -> FlowRecord:
    proto = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}.get(transport, 47)
    return FlowRecord(
        transport=transport,  # type: ignore[arg-type]
        ip_protocol=proto,
        client_ip=client,
        server_ip=server,
        client_port=client_port if transport in ("tcp", "udp") else 0,
        server_port=port,
        vlan=vlan,
        inner_vlan=0,
        client_mac=client_mac,
        server_mac=server_mac,
        first_seen=at(start, base),
        last_seen=at(end, base),
        packets_c2s=packets[0],
        packets_s2c=packets[1],
        bytes_c2s=nbytes[0],
        bytes_s2c=nbytes[1],
        tcp_flags_c2s=0x1B if transport == "tcp" else 0,
        tcp_flags_s2c=0x1B if transport == "tcp" else 0,
        state="established" if transport == "tcp" else "none",
        initiator="syn" if transport == "tcp" else "port",
    )


def binding(
    ip: str,
    mac: str,
    *,
    vlan: int = 0,
    start: float = 0.0,
    end: float = 1.0,
    packets: int = 1,
    arp: bool = False,
    frames: bool = True,
    base: datetime = T0,
) -> AddressBinding:
    return AddressBinding(
        ip=ip,
        mac=mac,
        vlan=vlan,
        first_seen=at(start, base),
        last_seen=at(end, base),
        packets=packets,
        from_arp=arp,
        from_frames=frames,
    )


def summary(
    fingerprint: str,
    flows: list[FlowRecord] | tuple[FlowRecord, ...] = (),
    bindings: list[AddressBinding] | tuple[AddressBinding, ...] = (),
    *,
    packets: int | None = None,
    complete: bool = True,
    error: str | None = None,
    source: str | None = None,
) -> CaptureSummary:
    times = [f.first_seen for f in flows] + [f.last_seen for f in flows]
    times += [b.first_seen for b in bindings] + [b.last_seen for b in bindings]
    total_packets = sum(f.packets_c2s + f.packets_s2c for f in flows)
    total_bytes = sum(f.bytes_c2s + f.bytes_s2c for f in flows)
    return CaptureSummary(
        source=source or f"/captures/{fingerprint}.pcap",
        fingerprint=fingerprint,
        format="pcap",
        stats=CaptureStats(
            packets=total_packets if packets is None else packets,
            bytes=total_bytes,
            ipv4=total_packets,
            tcp=total_packets,
        ),
        first_seen=min(times) if times else None,
        last_seen=max(times) if times else None,
        flows=tuple(flows),
        bindings=tuple(bindings),
        complete=complete,
        error=error,
    )


def mac_of(i: int) -> str:
    return "02:00:" + ":".join(f"{(i >> s) & 0xFF:02x}" for s in (24, 16, 8, 0))


def big_summary(n_flows: int, seed: int = 1, fingerprint: str | None = None) -> CaptureSummary:
    """A hospital-sized capture: ~n/20 internal hosts on 20 VLANs, some internet peers seen
    through the router MAC, ARP and frame bindings."""
    rnd = random.Random(seed)
    n_hosts = max(10, n_flows // 20)
    internal = [f"10.{(i >> 16) & 0xFF}.{(i >> 8) & 0xFF}.{i & 0xFF}" for i in range(1, n_hosts)]
    external = [f"203.0.{(i >> 8) & 0xFF}.{i & 0xFF}" for i in range(1, max(2, n_hosts // 10))]
    servers = internal[: max(2, len(internal) // 50)]
    ports = [104, 2575, 443, 80, 22, 161, 53, 11112]
    flows = []
    macs: dict[str, str] = {ip: mac_of(i) for i, ip in enumerate(internal)}
    vlans: dict[str, int] = {ip: i % 20 + 1 for i, ip in enumerate(internal)}
    for n in range(n_flows):
        client = rnd.choice(internal)
        if rnd.random() < 0.1:
            server = rnd.choice(external)
            server_mac = ROUTER_MAC
        else:
            server = rnd.choice(servers)
            server_mac = macs[server]
        start = rnd.uniform(0, 86_000)
        transport = "udp" if rnd.random() < 0.2 else "tcp"
        flows.append(
            flow(
                client,
                server,
                rnd.choice(ports),
                transport=transport,
                start=start,
                end=start + rnd.uniform(0, 300),
                packets=(rnd.randint(1, 50), rnd.randint(0, 50)),
                nbytes=(rnd.randint(60, 90_000), rnd.randint(0, 90_000)),
                client_port=1024 + n % 60_000,
                vlan=vlans[client],
                client_mac=macs[client],
                server_mac=server_mac,
            )
        )
    bindings = [
        binding(ip, macs[ip], vlan=i % 20 + 1, start=i, end=i + 3600, packets=i % 97 + 1)
        for i, ip in enumerate(internal)
    ]
    bindings += [binding(ip, ROUTER_MAC, vlan=1, packets=5) for ip in external]
    bindings.append(binding("10.0.0.1", ROUTER_MAC, vlan=1, arp=True, frames=False))
    return summary(fingerprint or f"big-{n_flows}-{seed}", flows, bindings)


def snapshot(store: Store) -> dict[str, Any]:
    """Everything the store shows, minus row ids and ingestion times, in an order that does
    not depend on the engine (so SQLite and PostgreSQL snapshots compare equal)."""
    return {
        "hosts": store.hosts(),
        "edges": sorted(
            store.edges(), key=lambda e: (e.client, e.server, e.transport, e.server_port)
        ),
        "flows": sorted(
            (f.record() for f in store.flows()),
            key=lambda r: (r.first_seen, r.client_ip, r.client_port, r.server_ip, r.server_port),
        ),
        "captures": [dataclasses.replace(c, id=0, ingested_at=T0) for c in store.captures()],
        "totals": store.totals(),
    }
