"""SSDP (UPnP Device Architecture; HTTP-formatted messages over UDP 1900).

NOTIFY announcements, M-SEARCH requests and search responses give one ``SsdpMessage`` with
the identifying headers (SERVER, USER-AGENT, USN, NT, NTS, ST, LOCATION).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.discovery import SsdpMessage

logger = logging.getLogger(__name__)

MAX_HEADERS = 64
"""Header lines read per message."""
MAX_VALUE = 1024
"""Characters kept of a header value."""

_METHODS = (b"NOTIFY * HTTP/1.", b"M-SEARCH * HTTP/1.")
_WANTED = frozenset({"server", "user-agent", "usn", "nt", "nts", "st", "location"})


class SsdpError(DissectError):
    """An SSDP datagram has no valid start line."""


class SsdpDissector:
    """SSDP on UDP 1900 (multicast 239.255.255.250 / ff0x::c and unicast responses)."""

    name: ClassVar[str] = "ssdp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({1900})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 8

    def signature(self, head: bytes) -> bool:
        """A NOTIFY/M-SEARCH request line, or an HTTP/1.x 200 response carrying USN or ST."""
        if head.startswith(_METHODS):
            return True
        if not head.startswith(b"HTTP/1.") or head[8:13] != b" 200 ":
            return False
        lower = head[:2048].lower()
        return b"\nusn:" in lower or b"\nst:" in lower

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        end = payload.find(b"\n")
        if end < 0:
            raise SsdpError("no line end after the start line")
        start = payload[:end].rstrip(b"\r")
        method: str | None = None
        status: int | None = None
        if start.startswith(_METHODS):
            method = start.split(b" ", 1)[0].decode("ascii")
        elif start.startswith(b"HTTP/1.") and len(start) >= 12 and start[9:12].isdigit():
            status = int(start[9:12])
        else:
            raise SsdpError("start line is neither an SSDP request nor an HTTP status line")
        headers: dict[str, str] = {}
        pos = end + 1
        for _ in range(MAX_HEADERS):
            if pos >= len(payload):
                break
            nl = payload.find(b"\n", pos)
            line = payload[pos : len(payload) if nl < 0 else nl].rstrip(b"\r")
            pos = len(payload) if nl < 0 else nl + 1
            if not line:
                break  # blank line: end of the header
            name, colon, value = line.partition(b":")
            if not colon:
                continue
            key = name.strip().decode("latin-1").lower()
            if key in _WANTED and key not in headers:
                text = value.strip().decode("utf-8", "backslashreplace")
                headers[key] = text[:MAX_VALUE]
        yield SsdpMessage(
            ctx=ctx,
            method=method,
            status_code=status,
            server=headers.get("server"),
            user_agent=headers.get("user-agent"),
            usn=headers.get("usn"),
            nt=headers.get("nt"),
            nts=headers.get("nts"),
            st=headers.get("st"),
            location=headers.get("location"),
        )
