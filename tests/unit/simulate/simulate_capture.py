"""Independent reading of simulated captures with dpkt, for comparison with the truth file.

Nothing here reuses the simulator's code: flows are rebuilt from the bytes (client = sender
of the pure SYN for TCP, the side on a service port for UDP, the echo requester for ICMP).
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import json
import socket
import struct
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dpkt

from medsec.simulate import SimulationResult

UDP_SERVICE_PORTS = {53, 67, 123, 161, 514, 24105}


def open_capture(path: Path) -> bytes:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw


def records(path: Path) -> Iterator[tuple[float, bytes]]:
    reader = dpkt.pcap.Reader(io.BytesIO(open_capture(path)))
    yield from reader


def ip_text(raw: bytes) -> str:
    return str(ipaddress.ip_address(raw))


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


@dataclass
class FlowStats:
    packets: int = 0
    bytes: int = 0
    client: tuple[str, int] | None = None
    endpoints: tuple[tuple[str, int], tuple[str, int]] = (("", 0), ("", 0))
    transport: str = ""


@dataclass
class CaptureView:
    packets: int = 0
    bytes: int = 0
    fragments: int = 0
    arp: int = 0
    flows: dict[tuple[Any, ...], FlowStats] = field(default_factory=dict)
    bindings: set[tuple[str, str, int]] = field(default_factory=set)
    """(MAC, IP, VLAN) seen as frame source with that IP source or ARP sender."""
    timestamps_ordered: bool = True

    def edges(self) -> dict[tuple[str, str, str, int], tuple[int, int, int]]:
        """(client, server, transport, port) -> (flows, packets, bytes)."""
        out: dict[tuple[str, str, str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
        for stats in self.flows.values():
            assert stats.client is not None, stats
            a, b = stats.endpoints
            server = b if a == stats.client else a
            key = (stats.client[0], server[0], stats.transport, server[1])
            row = out[key]
            row[0] += 1
            row[1] += stats.packets
            row[2] += stats.bytes
        return {key: (row[0], row[1], row[2]) for key, row in out.items()}


def read_view(path: Path) -> CaptureView:
    view = CaptureView()
    last = 0.0
    for ts, buf in records(path):
        view.packets += 1
        view.bytes += len(buf)
        if ts < last:
            view.timestamps_ordered = False
        last = ts
        eth = dpkt.ethernet.Ethernet(buf)
        vlan = eth.vlan_tags[0].id if eth.vlan_tags else 0
        payload = eth.data
        if isinstance(payload, dpkt.arp.ARP):
            view.arp += 1
            view.bindings.add((mac_text(payload.sha), ip_text(payload.spa), vlan))
            continue
        if isinstance(payload, dpkt.ip6.IP6):
            src, dst = ip_text(payload.src), ip_text(payload.dst)
            key = ("icmpv6", vlan, src, dst)
            stats = view.flows.setdefault(key, FlowStats(transport="icmpv6"))
            stats.endpoints = ((src, 0), (dst, 0))
            stats.client = (src, 0)
            stats.packets += 1
            stats.bytes += len(buf)
            continue
        assert isinstance(payload, dpkt.ip.IP), type(payload)
        src, dst = socket.inet_ntoa(payload.src), socket.inet_ntoa(payload.dst)
        view.bindings.add((mac_text(eth.src), src, vlan))
        if payload.offset:
            view.fragments += 1
            continue
        body = bytes(payload.data) if not isinstance(payload.data, bytes) else payload.data
        if payload.p == dpkt.ip.IP_PROTO_TCP:
            sport, dport = struct.unpack("!HH", body[:4])
            flags = body[13]
            transport = "tcp"
        elif payload.p == dpkt.ip.IP_PROTO_UDP:
            sport, dport = struct.unpack("!HH", body[:4])
            flags = 0
            transport = "udp"
        elif payload.p == dpkt.ip.IP_PROTO_ICMP:
            sport = dport = 0
            flags = body[0]
            transport = "icmp"
        else:  # pragma: no cover
            raise AssertionError(f"unexpected IP protocol {payload.p}")
        a, b = sorted([(src, sport), (dst, dport)])
        key = (transport, vlan, a, b)
        stats = view.flows.setdefault(key, FlowStats(transport=transport))
        stats.endpoints = (a, b)
        stats.packets += 1
        stats.bytes += len(buf)
        if transport == "tcp" and flags & 0x12 == 0x02:
            stats.client = (src, sport)
        elif transport == "udp" and stats.client is None:
            if dport in UDP_SERVICE_PORTS:
                stats.client = (src, sport)
            elif sport in UDP_SERVICE_PORTS:
                stats.client = (dst, dport)
        elif transport == "icmp" and flags == 8:
            stats.client = (src, 0)
    return view


def tcp_streams(path: Path, port: int) -> dict[tuple[Any, ...], tuple[bytes, bytes]]:
    """Client and server payload bytes of each TCP connection to ``port`` (capture order)."""
    return tcp_streams_by_port(path, (port,))[port]


def tcp_streams_by_port(
    path: Path, ports: tuple[int, ...]
) -> dict[int, dict[tuple[Any, ...], tuple[bytes, bytes]]]:
    """:func:`tcp_streams` for several server ports in one pass over the capture."""
    parts: dict[int, dict[tuple[Any, ...], list[bytearray]]] = {port: {} for port in ports}
    for _, buf in records(path):
        eth = dpkt.ethernet.Ethernet(buf)
        ip = eth.data
        if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, dpkt.tcp.TCP):
            continue
        tcp = ip.data
        if tcp.dport in parts:
            port, key, side = tcp.dport, (ip.src, tcp.sport, ip.dst), 0
        elif tcp.sport in parts:
            port, key, side = tcp.sport, (ip.dst, tcp.dport, ip.src), 1
        else:
            continue
        parts[port].setdefault(key, [bytearray(), bytearray()])[side] += tcp.data
    return {
        port: {key: (bytes(c), bytes(s)) for key, (c, s) in streams.items()}
        for port, streams in parts.items()
    }


def udp_payloads(path: Path, port: int) -> list[tuple[bytes, bytes]]:
    """(frame, UDP payload) of every datagram from or to ``port``."""
    out = []
    for _, buf in records(path):
        eth = dpkt.ethernet.Ethernet(buf)
        ip = eth.data
        if isinstance(ip, dpkt.ip.IP) and isinstance(ip.data, dpkt.udp.UDP):
            if port in (ip.data.sport, ip.data.dport):
                out.append((buf, bytes(ip.data.data)))
    return out


class Generated:
    def __init__(self, result: SimulationResult) -> None:
        self.result = result
        self.truth: dict[str, Any] = json.loads(result.truth.read_text())
        self._view: CaptureView | None = None

    @property
    def view(self) -> CaptureView:
        if self._view is None:
            self._view = read_view(self.result.pcap)
        return self._view


def split_pdus(stream: bytes) -> list[bytes]:
    pdus, offset = [], 0
    while offset < len(stream):
        length = struct.unpack("!I", stream[offset + 2 : offset + 6])[0]
        pdus.append(stream[offset : offset + 6 + length])
        offset += 6 + length
    assert offset == len(stream)
    return pdus


def check_tcp_progression(generated: Generated) -> None:
    """Every segment continues its direction's sequence space; ACKs never run ahead."""
    next_seq: dict[tuple[Any, ...], int] = {}
    handshakes = 0
    for _, buf in records(generated.result.pcap):
        ip = dpkt.ethernet.Ethernet(buf).data
        if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, dpkt.tcp.TCP):
            continue
        tcp = ip.data
        forward = (ip.src, tcp.sport, ip.dst, tcp.dport)
        backward = (ip.dst, tcp.dport, ip.src, tcp.sport)
        if tcp.flags & dpkt.tcp.TH_SYN:
            handshakes += tcp.flags == dpkt.tcp.TH_SYN
            assert forward not in next_seq
        else:
            assert tcp.seq == next_seq[forward], forward
        if tcp.flags & dpkt.tcp.TH_ACK:
            assert tcp.ack == next_seq[backward]
        length = len(tcp.data) + (1 if tcp.flags & (dpkt.tcp.TH_SYN | dpkt.tcp.TH_FIN) else 0)
        next_seq[forward] = (tcp.seq + length) & 0xFFFFFFFF
    assert handshakes
