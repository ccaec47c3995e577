"""DNS queries and A-record responses (RFC 1035)."""

from __future__ import annotations

import struct

from medsec.simulate import frames as f

TYPE_A = 1
CLASS_IN = 1


def _name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def query(txid: int, name: str) -> bytes:
    """A recursive A query for ``name``."""
    header = struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0)
    return header + _name(name) + struct.pack("!HH", TYPE_A, CLASS_IN)


def response(txid: int, name: str, addresses: list[str], ttl: int) -> bytes:
    """The answer to :func:`query`; no addresses gives NXDOMAIN."""
    rcode = 0 if addresses else 3
    header = struct.pack("!HHHHHH", txid, 0x8180 | rcode, 1, len(addresses), 0, 0)
    body = _name(name) + struct.pack("!HH", TYPE_A, CLASS_IN)
    for address in addresses:
        body += struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, ttl, 4) + f.ip4(address)
    return header + body
