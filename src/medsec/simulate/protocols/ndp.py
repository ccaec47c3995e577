"""IPv6 neighbour discovery (RFC 4861): duplicate address detection and router solicitation,
ready-made tagged frames."""

from __future__ import annotations

import struct

from medsec.simulate import frames as f

NEIGHBOR_SOLICITATION = 135
ROUTER_SOLICITATION = 133
ALL_ROUTERS = bytes.fromhex("ff020000000000000000000000000002")
UNSPECIFIED = b"\x00" * 16


def dad_solicitation(vlan: int, mac: bytes) -> tuple[bytes, bytes, bytes]:
    """(frame, source, destination) of a DAD probe for the host's link-local address."""
    target = f.eui64_link_local(mac)
    group = f.solicited_node_multicast(target)
    message = f.icmpv6(UNSPECIFIED, group, NEIGHBOR_SOLICITATION, b"\x00" * 4 + target)
    packet = f.ipv6(UNSPECIFIED, group, f.IPPROTO_ICMPV6, message, hop_limit=255)
    frame = f.ethernet(f.multicast_mac_v6(group), mac, vlan, f.ETHERTYPE_IPV6, packet)
    return frame, UNSPECIFIED, group


def router_solicitation(vlan: int, mac: bytes) -> tuple[bytes, bytes, bytes]:
    """(frame, source, destination) of a router solicitation from the link-local address."""
    source = f.eui64_link_local(mac)
    body = b"\x00" * 4 + struct.pack("!BB", 1, 1) + mac
    message = f.icmpv6(source, ALL_ROUTERS, ROUTER_SOLICITATION, body)
    packet = f.ipv6(source, ALL_ROUTERS, f.IPPROTO_ICMPV6, message, hop_limit=255)
    frame = f.ethernet(f.multicast_mac_v6(ALL_ROUTERS), mac, vlan, f.ETHERTYPE_IPV6, packet)
    return frame, source, ALL_ROUTERS
