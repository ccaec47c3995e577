"""NTP (RFC 5905, and RFC 1305 mode 6/7 control and private messages) on UDP 123.

Each packet gives an ``NtpMessage``: version, mode, stratum and the reference id (a
four-letter reference clock or kiss code at stratum 0/1, else the upstream server's IPv4
address). Mode 6 and 7 packets (``ntpq``/``ntpdc``, e.g. monlist) have another layout; only
their version and mode are stated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.management import NtpMessage

logger = logging.getLogger(__name__)

MODES = (
    "reserved",
    "symmetric-active",
    "symmetric-passive",
    "client",
    "server",
    "broadcast",
    "control",
    "private",
)
HEADER = 48
"""Bytes of the NTP header (extension fields and MAC may follow)."""


class NtpError(DissectError):
    """An NTP packet is malformed (short header, version 0 or above 4)."""


def _reference_id(stratum: int, raw: bytes) -> str | None:
    if raw == b"\x00\x00\x00\x00":
        return None
    if stratum <= 1:
        code = raw.rstrip(b"\x00")
        if code and all(0x20 <= b < 0x7F for b in code):
            return code.decode("ascii")
        return raw.hex()
    return f"{raw[0]}.{raw[1]}.{raw[2]}.{raw[3]}"


class NtpDissector:
    """NTP on UDP 123."""

    name: ClassVar[str] = "ntp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({123})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 4
    edge_flows: ClassVar[int] = 1
    """Every poll restates the same header: an edge's first flow tells it all."""

    def signature(self, head: bytes) -> bool:
        """A 48-byte header (optionally with a 20/24-byte MAC) of version 3/4, mode 1-5,
        stratum at most 16 and a sane poll exponent."""
        if len(head) not in (48, 68, 72):
            return False
        version = (head[0] >> 3) & 7
        mode = head[0] & 7
        return version in (3, 4) and 1 <= mode <= 5 and head[1] <= 16 and head[2] <= 17

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if not payload:
            raise NtpError("empty datagram")
        version = (payload[0] >> 3) & 7
        mode = payload[0] & 7
        if not 1 <= version <= 4:
            raise NtpError(f"NTP version {version}")
        if mode >= 6:
            yield NtpMessage(
                ctx=ctx, version=version, mode=mode, mode_name=MODES[mode], leap_indicator=None
            )
            return
        if len(payload) < HEADER:
            raise NtpError(f"{len(payload)} bytes is shorter than the NTP header")
        stratum = payload[1]
        yield NtpMessage(
            ctx=ctx,
            version=version,
            mode=mode,
            mode_name=MODES[mode],
            leap_indicator=payload[0] >> 6,
            stratum=stratum,
            reference_id=_reference_id(stratum, payload[12:16]),
            poll=payload[2] - 256 if payload[2] > 127 else payload[2],
        )
