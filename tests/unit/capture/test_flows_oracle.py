"""Flows agree with an independent decoder (dpkt) on every real Ethernet capture we have."""

from __future__ import annotations

import ipaddress
from collections import Counter
from pathlib import Path

import dpkt
import pytest

from medsec.capture.reader import read_capture

from tests_support import shared_pcaps

Key = tuple[object, ...]


def _endpoint(ip: bytes, port: int) -> tuple[str, int]:
    return (str(ipaddress.ip_address(ip)), port)


def _inner_frame(data: bytes) -> dpkt.ethernet.Ethernet | None:
    try:
        return dpkt.ethernet.Ethernet(data)
    except (dpkt.UnpackError, dpkt.NeedData):
        return None


def _gre_inner(data: bytes) -> dpkt.Packet | None:
    """What a version-0 GRE packet carries: an IP packet or an Ethernet frame (ERSPAN)."""
    if len(data) < 4 or data[1] & 0x7:
        return None
    flags, kind = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big")
    at = 4 + 4 * sum(1 for bit in (0x8000, 0x2000, 0x1000) if flags & bit)
    try:
        if kind == 0x0800:
            return dpkt.ip.IP(data[at:])
        if kind == 0x86DD:
            return dpkt.ip6.IP6(data[at:])
    except (dpkt.UnpackError, dpkt.NeedData):
        return None
    if kind == 0x6558:
        return _inner_frame(data[at:])
    if kind == 0x88BE:
        return _inner_frame(data[at + 8 :] if flags & 0x1000 else data[at:])
    if kind == 0x22EB and len(data) >= at + 12:
        return _inner_frame(data[at + 12 + (8 if data[at + 11] & 1 else 0) :])
    return None


def _count(ip: dpkt.Packet, vlans: list[int], counts: Counter[Key], depth: int) -> bool:
    """Count one IP packet's flow, then (as the kernel does) its tunnel's inner packet."""
    if isinstance(ip, dpkt.ip.IP):
        if ip.offset:
            return True
        proto = ip.p
    elif isinstance(ip, dpkt.ip6.IP6):
        if any(isinstance(h, dpkt.ip6.IP6FragmentHeader) for h in ip.extension_hdrs.values() if h):
            return False
        proto = ip.p  # the protocol after the extension headers
    else:
        return True
    l4 = ip.data
    sport = dport = 0
    inner: dpkt.Packet | None = None
    if proto in (6, 17):
        if not isinstance(l4, dpkt.tcp.TCP | dpkt.udp.UDP):
            return False
        sport, dport = l4.sport, l4.dport
        data = bytes(l4.data)
        if proto == 17 and dport == 4789 and len(data) >= 8 and data[0] & 0x08:
            inner = _inner_frame(data[8:])
    elif proto in (4, 41):
        inner = l4 if isinstance(l4, dpkt.ip.IP | dpkt.ip6.IP6) else None
    elif proto == 47:
        inner = _gre_inner(bytes(l4))
    if depth >= 2:
        inner = None
    a, b = sorted([_endpoint(ip.src, sport), _endpoint(ip.dst, dport)])
    outer = vlans[0] if vlans else 0
    second = vlans[1] if len(vlans) > 1 else 0
    counts[(a, b, proto, outer, second)] += 1
    if isinstance(inner, dpkt.ethernet.Ethernet):
        inner = inner.data
    if inner is not None:
        return _count(inner, vlans, counts, depth + 1)
    return True


def dpkt_flows(path: Path) -> Counter[Key] | None:
    """Packets per undirected (endpoints, protocol, vlans) key; None if not plain Ethernet."""
    counts: Counter[Key] = Counter()
    with open(path, "rb") as f:
        try:
            reader = dpkt.pcap.Reader(f)
        except ValueError:
            return None  # pcapng: covered by the reader tests
        if reader.datalink() != dpkt.pcap.DLT_EN10MB:
            return None
        for _ts, buf in reader:
            try:
                eth = dpkt.ethernet.Ethernet(buf)
            except (dpkt.UnpackError, dpkt.NeedData):
                return None  # dpkt gives up where we decode: not a usable oracle here
            vlans = [t.id for t in getattr(eth, "vlan_tags", [])]
            ip = eth.data
            if isinstance(ip, dpkt.pppoe.PPPoE):  # session stage: PPP carries IP
                ip = getattr(ip.data, "data", None)
            if not _count(ip, vlans, counts, 0):
                return None
    return counts


@pytest.mark.parametrize("name", [n for n in shared_pcaps.names() if n.endswith(".pcap")], ids=str)
def test_flows_match_dpkt(shared_data: Path, name: str) -> None:
    path = shared_pcaps.path(shared_data, name)
    expected = dpkt_flows(path)
    if expected is None:
        pytest.skip("dpkt cannot decode this capture completely; no oracle")
    summary = read_capture(path)
    got: Counter[Key] = Counter()
    for f in summary.flows:
        a, b = sorted([(f.client_ip, f.client_port), (f.server_ip, f.server_port)])
        got[(a, b, f.ip_protocol, f.vlan, f.inner_vlan)] += f.packets_c2s + f.packets_s2c
    assert got == expected
