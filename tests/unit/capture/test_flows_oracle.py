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
            if isinstance(ip, dpkt.ip.IP):
                if ip.offset:
                    continue
                proto = ip.p
            elif isinstance(ip, dpkt.ip6.IP6):
                if any(
                    isinstance(h, dpkt.ip6.IP6FragmentHeader)
                    for h in ip.extension_hdrs.values()
                    if h
                ):
                    return None
                proto = ip.p  # the protocol after the extension headers
            else:
                continue
            l4 = ip.data
            sport = dport = 0
            if proto in (6, 17):
                if not isinstance(l4, dpkt.tcp.TCP | dpkt.udp.UDP):
                    return None
                sport, dport = l4.sport, l4.dport
            a, b = sorted([_endpoint(ip.src, sport), _endpoint(ip.dst, dport)])
            outer = vlans[0] if vlans else 0
            inner = vlans[1] if len(vlans) > 1 else 0
            counts[(a, b, proto, outer, inner)] += 1
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
