"""Writers of pcap and pcapng containers for tests, in every byte order and resolution.

Frames themselves are built with dpkt (``frame``); this module only wraps them in the
record and block layouts of the two formats.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import dpkt

LINKTYPE_ETHERNET = 1


def frame(
    src_ip: str,
    dst_ip: str,
    sport: int = 0,
    dport: int = 0,
    *,
    proto: str = "tcp",
    flags: int = dpkt.tcp.TH_ACK,
    payload: bytes = b"",
    src_mac: str = "02:00:00:00:00:01",
    dst_mac: str = "02:00:00:00:00:02",
    vlans: Sequence[int] = (),
) -> bytes:
    """An Ethernet frame carrying IPv4 or IPv6 (chosen by the address form)."""
    import ipaddress

    v6 = ipaddress.ip_address(src_ip).version == 6
    if proto == "tcp":
        l4: dpkt.Packet = dpkt.tcp.TCP(sport=sport, dport=dport, flags=flags, data=payload)
        number = 6
    elif proto == "udp":
        l4 = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
        l4.ulen = 8 + len(payload)
        number = 17
    elif proto == "icmp":
        l4 = dpkt.icmp.ICMP(type=8, code=0, data=dpkt.icmp.ICMP.Echo(id=1, seq=1, data=payload))
        number = 1
    else:
        raise ValueError(proto)
    if v6:
        ip: dpkt.Packet = dpkt.ip6.IP6(
            src=ipaddress.ip_address(src_ip).packed,
            dst=ipaddress.ip_address(dst_ip).packed,
            nxt=number,
            hlim=64,
            data=l4,
        )
        ip.plen = len(bytes(l4))
        ethertype = 0x86DD
    else:
        ip = dpkt.ip.IP(
            src=ipaddress.ip_address(src_ip).packed,
            dst=ipaddress.ip_address(dst_ip).packed,
            p=number,
            data=l4,
        )
        ip.len = 20 + len(bytes(l4))
        ethertype = 0x0800
    return ethernet(src_mac, dst_mac, ethertype, bytes(ip), vlans)


def ethernet(
    src_mac: str, dst_mac: str, ethertype: int, payload: bytes, vlans: Sequence[int] = ()
) -> bytes:
    """Ethernet header (with 802.1ad outer + 802.1Q inner tags when several VLANs)."""
    out = mac_bytes(dst_mac) + mac_bytes(src_mac)
    for i, vid in enumerate(vlans):
        tpid = 0x88A8 if (i == 0 and len(vlans) > 1) else 0x8100
        out += struct.pack(">HH", tpid, vid)
    return out + struct.pack(">H", ethertype) + payload


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def arp(sender_mac: str, sender_ip: str, target_ip: str, *, reply: bool = False) -> bytes:
    import ipaddress

    body = struct.pack(
        ">HHBBH6s4s6s4s",
        1,
        0x0800,
        6,
        4,
        2 if reply else 1,
        mac_bytes(sender_mac),
        ipaddress.ip_address(sender_ip).packed,
        b"\x00" * 6,
        ipaddress.ip_address(target_ip).packed,
    )
    return ethernet(sender_mac, "ff:ff:ff:ff:ff:ff", 0x0806, body)


@dataclass
class Packet:
    ts_ns: int
    data: bytes
    origlen: int | None = None
    interface: int = 0


def pcap_bytes(
    packets: Iterable[Packet],
    *,
    linktype: int = LINKTYPE_ETHERNET,
    big_endian: bool = False,
    nanosecond: bool = False,
    snaplen: int = 65535,
) -> bytes:
    o = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = bytearray(struct.pack(o + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
    for p in packets:
        sec, frac = divmod(p.ts_ns, 1_000_000_000)
        if not nanosecond:
            frac //= 1000
        out += struct.pack(o + "IIII", sec, frac, len(p.data), p.origlen or len(p.data))
        out += p.data
    return bytes(out)


@dataclass
class Iface:
    linktype: int
    tsresol: int = 6
    tsoffset: int = 0
    snaplen: int = 0


@dataclass
class Section:
    interfaces: list[Iface]
    packets: list[Packet]
    big_endian: bool = False
    block: str = "epb"
    """epb, spb (simple packet blocks) or pb (obsolete packet blocks)."""
    extra_blocks: list[tuple[int, bytes]] = field(default_factory=list)
    """Other blocks (type, body) written after the interfaces, e.g. NRB or custom."""


def _block(o: str, btype: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(o + "II", btype, n) + body + struct.pack(o + "I", n)


def _units(ts_ns: int, iface: Iface) -> int:
    if iface.tsresol & 0x80:
        shift = iface.tsresol & 0x7F
        return (ts_ns - iface.tsoffset * 1_000_000_000) * (1 << shift) // 1_000_000_000
    k = iface.tsresol
    ns = ts_ns - iface.tsoffset * 1_000_000_000
    return ns // 10 ** (9 - k) if k <= 9 else ns * 10 ** (k - 9)


def pcapng_bytes(sections: Iterable[Section]) -> bytes:
    out = bytearray()
    for s in sections:
        o = ">" if s.big_endian else "<"
        out += _block(o, 0x0A0D0D0A, struct.pack(o + "IHHq", 0x1A2B3C4D, 1, 0, -1))
        for itf in s.interfaces:
            opts = b""
            if itf.tsresol != 6:
                opts += struct.pack(o + "HH", 9, 1) + bytes([itf.tsresol]) + b"\x00" * 3
            if itf.tsoffset:
                opts += struct.pack(o + "HHq", 14, 8, itf.tsoffset)
            if opts:
                opts += struct.pack(o + "HH", 0, 0)
            out += _block(o, 1, struct.pack(o + "HHI", itf.linktype, 0, itf.snaplen) + opts)
        for btype, body in s.extra_blocks:
            out += _block(o, btype, body)
        for p in s.packets:
            orig = p.origlen or len(p.data)
            if s.block == "spb":
                out += _block(o, 3, struct.pack(o + "I", orig) + p.data)
                continue
            units = _units(p.ts_ns, s.interfaces[p.interface])
            hi, lo = units >> 32, units & 0xFFFFFFFF
            if s.block == "pb":
                head = struct.pack(o + "HHIIII", p.interface, 0, hi, lo, len(p.data), orig)
                out += _block(o, 2, head + p.data)
            else:
                head = struct.pack(o + "IIIII", p.interface, hi, lo, len(p.data), orig)
                out += _block(o, 6, head + p.data)
    return bytes(out)
