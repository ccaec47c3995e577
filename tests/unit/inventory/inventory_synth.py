"""Hand-built ``CaptureSummary`` values for the inventory tests (no capture engine needed)."""

from __future__ import annotations

import dataclasses
import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from medsec.inventory import Store
from medsec.model.observations import Observation, PacketContext, observation
from medsec.model.traffic import AddressBinding, CaptureStats, CaptureSummary, FlowRecord

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ROUTER_MAC = "00:00:5e:00:01:01"


def at(seconds: float, base: datetime = T0) -> datetime:
    return base + timedelta(seconds=seconds)


# --------------------------------------------------------------------------- observations
# Ad-hoc observation classes: the store must handle any ``Observation`` subclass.


class Mode(enum.Enum):
    ACTIVE = "active"
    STANDBY = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """A nested value (like ``DicomPresentationContext``)."""

    name: str
    syntaxes: tuple[str, ...]
    mode: Mode | None = None


@observation
class SynthHello(Observation):
    """Every kind of field the facts serialiser knows."""

    PROTOCOL: ClassVar[str] = "synth"
    names: tuple[str, ...]
    seen: datetime
    raw: bytes
    part: Part
    parts: tuple[Part, ...] = ()
    note: str | None = None
    flag: bool = False
    count: int = 0


@observation
class SynthBeacon(Observation):
    """A second protocol, a layer-2 fact."""

    PROTOCOL: ClassVar[str] = "beacon"
    serial: str
    mode: Mode = Mode.ACTIVE


def ctx(
    seconds: float,
    src: str | None = "10.0.0.1",
    dst: str | None = "10.0.0.2",
    *,
    transport: str = "udp",
    ports: tuple[int, int] = (50000, 104),
    macs: tuple[str | None, str | None] = (None, None),
    vlan: int = 0,
    flow_id: int = 0,
    base: datetime = T0,
) -> PacketContext:
    when = at(seconds, base)
    return PacketContext(
        ts_ns=(when - EPOCH) // timedelta(microseconds=1) * 1000 + 789,  # the 789 ns: dropped
        transport=transport,  # type: ignore[arg-type]
        src_ip=src,
        dst_ip=dst,
        src_port=ports[0],
        dst_port=ports[1],
        src_mac=macs[0],
        dst_mac=macs[1],
        vlan=vlan,
        ethertype=0x88CC if src is None else 0x86DD if ":" in src else 0x0800,
        from_client=True,
        flow_id=flow_id,
    )


def hello(context: PacketContext, n: int = 0, **fields: Any) -> SynthHello:
    values: dict[str, Any] = {
        "names": (f"ae-{n}", "ward-7"),
        "seen": datetime(2025, 3, 1, 9, 30, n % 60, tzinfo=UTC),
        "raw": bytes([n % 256, 0xAB, 0x00]),
        "part": Part(name=f"p{n}", syntaxes=("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")),
        "count": n,
    }
    values.update(fields)
    return SynthHello(ctx=context, **values)


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
    app: str | None = None,
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
        app=app,
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
    observations: Sequence[Observation] = (),
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
        observations=tuple(observations),
        complete=complete,
        error=error,
    )


def mac_of(i: int) -> str:
    return "02:00:" + ":".join(f"{(i >> s) & 0xFF:02x}" for s in (24, 16, 8, 0))


APPS = {104: "dicom", 11112: "dicom", 2575: "hl7", 443: "tls", 80: "http", 53: "dns"}


def big_summary(
    n_flows: int,
    seed: int = 1,
    fingerprint: str | None = None,
    n_observations: int | None = None,
) -> CaptureSummary:
    """A hospital-sized capture: ~n/20 internal hosts on 20 VLANs, some internet peers seen
    through the router MAC, ARP and frame bindings; most flows on a known port carry an
    application (some on the wrong port); ``n_observations`` (default: one per flow) facts
    about the flows' first packets."""
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
        port = rnd.choice(ports)
        app = APPS.get(port) if rnd.random() < 0.8 else rnd.choice([None, "http", "tls"])
        flows.append(
            flow(
                client,
                server,
                port,
                transport=transport,
                start=start,
                end=start + rnd.uniform(0, 300),
                packets=(rnd.randint(1, 50), rnd.randint(0, 50)),
                nbytes=(rnd.randint(60, 90_000), rnd.randint(0, 90_000)),
                client_port=1024 + n % 60_000,
                vlan=vlans[client],
                client_mac=macs[client],
                server_mac=server_mac,
                app=app,
            )
        )
    observations: list[Observation] = []
    for n in range(n_flows if n_observations is None else n_observations):
        i = rnd.randrange(n_flows)
        f = flows[i]
        where = ctx(
            (f.first_seen - T0).total_seconds(),
            f.client_ip,
            f.server_ip,
            transport=f.transport,
            ports=(f.client_port, f.server_port),
            macs=(f.client_mac, f.server_mac),
            vlan=f.vlan,
            flow_id=i,
        )
        if n % 10 == 9:
            observations.append(SynthBeacon(ctx=where, serial=f"SN{n:08d}", mode=Mode.STANDBY))
        else:
            observations.append(hello(where, n, note=None if n % 3 else "first"))
    observations.sort(key=lambda o: o.ctx.ts_ns)
    bindings = [
        binding(ip, macs[ip], vlan=i % 20 + 1, start=i, end=i + 3600, packets=i % 97 + 1)
        for i, ip in enumerate(internal)
    ]
    bindings += [binding(ip, ROUTER_MAC, vlan=1, packets=5) for ip in external]
    bindings.append(binding("10.0.0.1", ROUTER_MAC, vlan=1, arp=True, frames=False))
    return summary(
        fingerprint or f"big-{n_flows}-{seed}", flows, bindings, observations=observations
    )


def snapshot(store: Store) -> dict[str, Any]:
    """Everything the store shows, minus row ids and ingestion times, in an order that does
    not depend on the engine (so SQLite and PostgreSQL snapshots compare equal).
    Observations name their capture by fingerprint."""
    fingerprints = {c.id: c.fingerprint for c in store.captures()}
    return {
        "hosts": store.hosts(),
        "edges": sorted(
            store.edges(), key=lambda e: (e.client, e.server, e.transport, e.server_port)
        ),
        "flows": sorted(
            (f.record() for f in store.flows()),
            key=lambda r: (r.first_seen, r.client_ip, r.client_port, r.server_ip, r.server_port),
        ),
        "observations": [
            (fingerprints[o.capture_id], dataclasses.replace(o, id=0, capture_id=0))
            for o in store.observations()
        ],
        "captures": [dataclasses.replace(c, id=0, ingested_at=T0) for c in store.captures()],
        "totals": store.totals(),
    }
