"""NTPv4 client requests and server responses (RFC 5905)."""

from __future__ import annotations

import struct

NTP_EPOCH_OFFSET = 2_208_988_800


def timestamp(micros: int) -> bytes:
    """64-bit NTP timestamp of a Unix time in microseconds."""
    seconds, rest = divmod(micros, 1_000_000)
    fraction = rest * (1 << 32) // 1_000_000
    return struct.pack("!II", seconds + NTP_EPOCH_OFFSET, fraction)


def request(now: int) -> bytes:
    """Mode 3 (client), version 4."""
    return struct.pack("!BBbb", 0x23, 0, 6, -20) + b"\x00" * 36 + timestamp(now)


def response(
    request_sent: int, received: int, sent: int, *, stratum: int, reference: bytes
) -> bytes:
    """Mode 4 (server) answer to a request sent at ``request_sent``."""
    header = struct.pack("!BBbb", 0x24, stratum, 6, -23)
    header += struct.pack("!II", 0x00000200, 0x00000400) + reference
    return (
        header
        + timestamp(sent - 30_000_000)
        + timestamp(request_sent)
        + (timestamp(received) + timestamp(sent))
    )
