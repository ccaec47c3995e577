"""DHCP (RFC 2131/2132) messages: client DISCOVER/REQUEST and relayed OFFER/ACK."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from medsec.simulate import frames as f
from medsec.simulate.catalog import DOMAIN, DhcpProfile

MAGIC_COOKIE = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, DECLINE, ACK = 1, 2, 3, 4, 5
LEASE_SECONDS = 86400
MIN_BOOTP_SIZE = 300


@dataclass(frozen=True, slots=True)
class Lease:
    """What the server hands out."""

    address: str
    netmask: str
    router: str
    server_id: str
    dns_server: str
    ntp_server: str


def _option(code: int, value: bytes) -> bytes:
    return bytes([code, len(value)]) + value


def message(
    op: int,
    xid: int,
    chaddr: bytes,
    options: bytes,
    *,
    secs: int = 0,
    ciaddr: str = "0.0.0.0",
    yiaddr: str = "0.0.0.0",
    siaddr: str = "0.0.0.0",
    giaddr: str = "0.0.0.0",
    hops: int = 0,
) -> bytes:
    """A BOOTP message with DHCP options (END appended, padded to 300 bytes)."""
    header = struct.pack("!BBBBIHH", op, 1, 6, hops, xid, secs, 0)
    header += f.ip4(ciaddr) + f.ip4(yiaddr) + f.ip4(siaddr) + f.ip4(giaddr)
    header += chaddr + b"\x00" * 10 + b"\x00" * 64 + b"\x00" * 128
    body = header + MAGIC_COOKIE + options + b"\xff"
    if len(body) < MIN_BOOTP_SIZE:
        body += b"\x00" * (MIN_BOOTP_SIZE - len(body))
    return body


def client_options(
    kind: int,
    profile: DhcpProfile,
    mac: bytes,
    hostname: str,
    *,
    requested: str | None = None,
    server_id: str | None = None,
) -> bytes:
    """Options of a DISCOVER or REQUEST in a typical client order."""
    out = _option(53, bytes([kind]))
    out += _option(61, b"\x01" + mac)
    if requested is not None:
        out += _option(50, f.ip4(requested))
    if server_id is not None:
        out += _option(54, f.ip4(server_id))
    if profile.max_message_size is not None:
        out += _option(57, struct.pack("!H", profile.max_message_size))
    out += _option(12, hostname.encode())
    if profile.vendor_class is not None:
        out += _option(60, profile.vendor_class.encode())
    out += _option(55, bytes(profile.parameter_list))
    return out


def server_options(kind: int, lease: Lease, requested: tuple[int, ...]) -> bytes:
    """Options of an OFFER or ACK: type, server id, lease times, then what was asked."""
    out = _option(53, bytes([kind]))
    out += _option(54, f.ip4(lease.server_id))
    out += _option(51, struct.pack("!I", LEASE_SECONDS))
    out += _option(58, struct.pack("!I", LEASE_SECONDS // 2))
    out += _option(59, struct.pack("!I", LEASE_SECONDS * 7 // 8))
    values = {
        1: f.ip4(lease.netmask),
        3: f.ip4(lease.router),
        6: f.ip4(lease.dns_server),
        15: DOMAIN.encode(),
        42: f.ip4(lease.ntp_server),
        44: f.ip4(lease.dns_server),
        119: b"\x08hospital\x05local\x00",
    }
    for code in (1, 3, 6, 15, 42, 44, 119):
        if code in requested or code in (1, 3, 6):
            out += _option(code, values[code])
    return out
