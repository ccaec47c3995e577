"""Byte-level builders for the frames the simulator writes: Ethernet II with an 802.1Q tag,
ARP, IPv4 (with fragments), IPv6, TCP, UDP, ICMP and ICMPv6.

Every builder returns the finished bytes with correct lengths and checksums. Frames are padded
to the Ethernet minimum of 60 bytes (the capture holds no FCS).
"""

from __future__ import annotations

import ipaddress
import struct

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_VLAN = 0x8100
ETHERTYPE_IPV6 = 0x86DD

IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_ICMPV6 = 58

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_PSH = 0x08
TCP_ACK = 0x10

ETH_MIN_FRAME = 60
ETH_HEADER_LEN = 18
"""Destination, source, 802.1Q tag and EtherType: every simulated frame is tagged."""
IPV4_HEADER_LEN = 20
UDP_HEADER_LEN = 8

BROADCAST_MAC = b"\xff" * 6
ZERO_MAC = b"\x00" * 6


def mac_bytes(mac: str) -> bytes:
    """``"00:09:fb:12:34:56"`` -> 6 bytes."""
    return bytes.fromhex(mac.replace(":", ""))


def mac_text(mac: bytes) -> str:
    """6 bytes -> lower-case colon-separated text."""
    return ":".join(f"{b:02x}" for b in mac)


def ip4(address: str) -> bytes:
    """Dotted IPv4 text -> 4 bytes."""
    return ipaddress.IPv4Address(address).packed


def ip6(address: str) -> bytes:
    """IPv6 text -> 16 bytes."""
    return ipaddress.IPv6Address(address).packed


def ones_complement_sum(data: bytes) -> int:
    """The 16-bit one's complement sum of ``data`` (odd lengths padded with a zero byte)."""
    if len(data) % 2:
        data += b"\x00"
    total = int.from_bytes(data, "big") % 0xFFFF
    return total if total or not any(data) else 0xFFFF


def fold_checksum(total: int) -> int:
    """Fold a sum of 16-bit words into a finished Internet checksum."""
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def internet_checksum(data: bytes) -> int:
    """RFC 1071 checksum of ``data``."""
    return fold_checksum(ones_complement_sum(data))


def ethernet(dst: bytes, src: bytes, vlan: int, ethertype: int, payload: bytes) -> bytes:
    """An 802.1Q-tagged Ethernet II frame (priority 0), padded to 60 bytes."""
    frame = dst + src + struct.pack("!HHH", ETHERTYPE_VLAN, vlan & 0x0FFF, ethertype) + payload
    if len(frame) < ETH_MIN_FRAME:
        frame += b"\x00" * (ETH_MIN_FRAME - len(frame))
    return frame


def arp(op: int, sender_mac: bytes, sender_ip: bytes, target_mac: bytes, target_ip: bytes) -> bytes:
    """An ARP packet for IPv4 over Ethernet (op 1 request, 2 reply)."""
    return struct.pack("!HHBBH", 1, ETHERTYPE_IPV4, 6, 4, op) + (
        sender_mac + sender_ip + target_mac + target_ip
    )


def ipv4_header(
    src: bytes,
    dst: bytes,
    protocol: int,
    payload_len: int,
    *,
    ident: int,
    ttl: int,
    dont_fragment: bool = True,
    more_fragments: bool = False,
    fragment_offset: int = 0,
    dscp: int = 0,
) -> bytes:
    """A 20-byte IPv4 header with a valid checksum; ``fragment_offset`` counts bytes."""
    flags = (0x4000 if dont_fragment else 0) | (0x2000 if more_fragments else 0)
    flags |= (fragment_offset // 8) & 0x1FFF
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        dscp << 2,
        IPV4_HEADER_LEN + payload_len,
        ident & 0xFFFF,
        flags,
        ttl,
        protocol,
        0,
        src,
        dst,
    )
    checksum = internet_checksum(header)
    return header[:10] + struct.pack("!H", checksum) + header[12:]


def ipv4(
    src: bytes, dst: bytes, protocol: int, payload: bytes, *, ident: int, ttl: int, dscp: int = 0
) -> bytes:
    """A complete unfragmented IPv4 packet (DF set)."""
    return ipv4_header(src, dst, protocol, len(payload), ident=ident, ttl=ttl, dscp=dscp) + payload


def pseudo_header_sum(src: bytes, dst: bytes, protocol: int, length: int) -> int:
    """One's complement sum of the IPv4 or IPv6 pseudo header."""
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, protocol, length)
    else:
        pseudo = src + dst + struct.pack("!IxxxB", length, protocol)
    return ones_complement_sum(pseudo)


def tcp(
    src: bytes,
    dst: bytes,
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    window: int,
    payload: bytes = b"",
    options: bytes = b"",
) -> bytes:
    """A TCP segment with a valid checksum over the IPv4/IPv6 pseudo header."""
    if len(options) % 4:
        options += b"\x00" * (4 - len(options) % 4)
    offset = (20 + len(options)) // 4
    header = struct.pack(
        "!HHIIBBHHH",
        sport,
        dport,
        seq & 0xFFFFFFFF,
        ack & 0xFFFFFFFF,
        offset << 4,
        flags,
        window,
        0,
        0,
    )
    segment = header + options + payload
    total = pseudo_header_sum(src, dst, IPPROTO_TCP, len(segment)) + ones_complement_sum(segment)
    checksum = fold_checksum(total)
    return segment[:16] + struct.pack("!H", checksum) + segment[18:]


def udp(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> bytes:
    """A UDP datagram with a valid checksum (0 is sent as 0xffff)."""
    length = UDP_HEADER_LEN + len(payload)
    datagram = struct.pack("!HHHH", sport, dport, length, 0) + payload
    total = pseudo_header_sum(src, dst, IPPROTO_UDP, length) + ones_complement_sum(datagram)
    checksum = fold_checksum(total) or 0xFFFF
    return datagram[:6] + struct.pack("!H", checksum) + datagram[8:]


def icmp_echo(request: bool, ident: int, sequence: int, payload: bytes) -> bytes:
    """An ICMP echo request (type 8) or reply (type 0)."""
    message = struct.pack("!BBHHH", 8 if request else 0, 0, 0, ident, sequence) + payload
    checksum = internet_checksum(message)
    return message[:2] + struct.pack("!H", checksum) + message[4:]


def ipv6(src: bytes, dst: bytes, next_header: int, payload: bytes, *, hop_limit: int) -> bytes:
    """An IPv6 packet without extension headers."""
    header = struct.pack("!IHBB", 6 << 28, len(payload), next_header, hop_limit)
    return header + src + dst + payload


def icmpv6(src: bytes, dst: bytes, icmp_type: int, body: bytes) -> bytes:
    """An ICMPv6 message (code 0) with its checksum over the IPv6 pseudo header."""
    message = struct.pack("!BBH", icmp_type, 0, 0) + body
    total = pseudo_header_sum(src, dst, IPPROTO_ICMPV6, len(message)) + ones_complement_sum(message)
    return message[:2] + struct.pack("!H", fold_checksum(total)) + message[4:]


def solicited_node_multicast(address: bytes) -> bytes:
    """ff02::1:ffXX:XXXX for the last 24 bits of ``address``."""
    return bytes.fromhex("ff0200000000000000000001ff") + address[13:]


def multicast_mac_v6(address: bytes) -> bytes:
    """33:33:xx:xx:xx:xx for an IPv6 multicast group."""
    return b"\x33\x33" + address[12:]


def eui64_link_local(mac: bytes) -> bytes:
    """The fe80::/64 address a host derives from its MAC (modified EUI-64)."""
    interface_id = bytes([mac[0] ^ 0x02]) + mac[1:3] + b"\xff\xfe" + mac[3:]
    return b"\xfe\x80" + b"\x00" * 6 + interface_id
