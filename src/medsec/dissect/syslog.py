"""Syslog (RFC 5424, the BSD format of RFC 3164) on UDP 514, and on TCP 514 with octet
counting (RFC 6587 3.4.1) or newline framing (3.4.2).

Only the header is stated: PRI (facility, severity), hostname, application name / tag,
process id, message id, and the RFC 5424 ``origin`` structured data (software and version).
The free-text message is never kept: on some devices it holds patient data. TCP 514 is
also rsh; a stream that does not start like syslog gives nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.management import SyslogMessage

logger = logging.getLogger(__name__)

MAX_TCP_MESSAGES = 64
"""Messages read from one TCP stream head."""
MAX_SD_ELEMENTS = 16
"""Structured-data elements walked per RFC 5424 message."""

_BSD_TIMESTAMP = re.compile(
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d\d:\d\d:\d\d(?:\.\d+)? "
)
_ISO_TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S{0,20} ")
_TAG = re.compile(rb"([A-Za-z0-9_./()-]{1,48})(?:\[([^\]\s]{1,32})\])?:")
_OCTET_COUNT = re.compile(rb"[1-9]\d{0,9} <")
_PARAM = re.compile(rb' ([^= \]"]{1,32})="((?:[^"\\]|\\.){0,255})"')


class SyslogError(DissectError):
    """A syslog message is malformed (no PRI, PRI out of range)."""


def _field(raw: bytes) -> str | None:
    return None if raw in (b"-", b"") else raw.decode("utf-8", "backslashreplace")


def _origin(sd: bytes) -> dict[str, str]:
    """The params of the ``origin`` SD element, if any, from the structured data."""
    pos = 0
    for _ in range(MAX_SD_ELEMENTS):
        if pos >= len(sd) or sd[pos] != 0x5B:  # '['
            return {}
        close = pos + 1
        while close < len(sd) and sd[close] != 0x5D:  # ']' not escaped
            close += 2 if sd[close] == 0x5C else 1
        element = sd[pos + 1 : close]
        pos = close + 1
        sd_id, _, _ = element.partition(b" ")
        if sd_id == b"origin":
            return {
                m.group(1).decode("ascii", "backslashreplace"): re.sub(
                    rb"\\(.)", rb"\1", m.group(2)
                ).decode("utf-8", "backslashreplace")
                for m in _PARAM.finditer(element)
            }
    return {}


def parse_message(msg: bytes, ctx: PacketContext) -> SyslogMessage:
    """The header of one syslog message."""
    if not msg.startswith(b"<"):
        raise SyslogError("no PRI")
    close = msg.find(b">", 1, 5)
    if close < 2 or not msg[1:close].isdigit():
        raise SyslogError("PRI is not 1-3 digits in angle brackets")
    pri = int(msg[1:close])
    if pri > 191:
        raise SyslogError(f"PRI {pri} above 191")
    rest = msg[close + 1 :]
    facility, severity = divmod(pri, 8)
    if rest[:2] == b"1 ":
        parts = rest.split(b" ", 6)
        if len(parts) < 6:
            raise SyslogError("RFC 5424 header cut short")
        origin = _origin(parts[6]) if len(parts) > 6 else {}
        return SyslogMessage(
            ctx=ctx,
            facility=facility,
            severity=severity,
            format="rfc5424",
            hostname=_field(parts[2][:255]),
            app_name=_field(parts[3][:48]),
            procid=_field(parts[4][:128]),
            msgid=_field(parts[5][:32]),
            origin_software=origin.get("software"),
            origin_sw_version=origin.get("swVersion"),
            origin_enterprise_id=origin.get("enterpriseId"),
        )
    hostname: str | None = None
    head = rest[:400]
    stamp = _BSD_TIMESTAMP.match(head) or _ISO_TIMESTAMP.match(head)
    pos = stamp.end() if stamp else 0
    tag = _TAG.match(head, pos)
    if stamp and tag is None:
        space = head.find(b" ", pos)
        token = head[pos:space] if space > pos else b""
        if token and len(token) <= 255 and token.isascii() and not token.endswith(b":"):
            hostname = token.decode("ascii")
            tag = _TAG.match(head, space + 1)
    if tag is not None and not any(chr(b).isalpha() for b in tag.group(1)):
        tag = None  # a sequence number (``123:``), not a program name
    return SyslogMessage(
        ctx=ctx,
        facility=facility,
        severity=severity,
        format="rfc3164",
        hostname=hostname,
        app_name=None if tag is None else tag.group(1).decode("ascii"),
        procid=None if tag is None or tag.group(2) is None else _field(tag.group(2)),
    )


def _stream_messages(payload: bytes) -> Iterator[bytes]:
    """Whole messages of a TCP stream head, octet-counted or newline-framed."""
    pos = 0
    size = len(payload)
    for _ in range(MAX_TCP_MESSAGES):
        if pos >= size:
            return
        if payload[pos : pos + 1].isdigit():
            space = payload.find(b" ", pos, pos + 11)
            if space < 0 or not payload[pos:space].isdigit():
                raise SyslogError("octet count not followed by a space")
            end = space + 1 + int(payload[pos:space])
            if end > size:
                return  # cut short by the stream head
            yield payload[space + 1 : end]
            pos = end
        else:
            end = payload.find(b"\n", pos)
            if end < 0:
                return
            line = payload[pos:end].rstrip(b"\r\x00")
            if line:
                yield line
            pos = end + 1


class SyslogDissector:
    """Syslog on UDP 514 and TCP 514."""

    name: ClassVar[str] = "syslog"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp", "tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({514})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 8192
    datagrams: ClassVar[int] = 16

    def signature(self, head: bytes) -> bool:
        """``<PRI>`` (optionally after an octet count) followed by an RFC 5424 version or
        an RFC 3164 timestamp."""
        if head[:1].isdigit():
            space = head.find(b" ", 0, 11)
            if space < 0 or not head[:space].isdigit():
                return False
            head = head[space + 1 :]
        close = head.find(b">", 1, 5)
        if not head.startswith(b"<") or close < 2 or not head[1:close].isdigit():
            return False
        rest = head[close + 1 : close + 40]
        return (
            rest[:2] == b"1 "
            or _BSD_TIMESTAMP.match(rest) is not None
            or _ISO_TIMESTAMP.match(rest) is not None
        )

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if ctx.transport != "tcp":
            yield parse_message(payload, ctx)
            return
        if not payload.startswith(b"<") and _OCTET_COUNT.match(payload) is None:
            return  # rsh (also TCP 514) or another protocol: not syslog
        for msg in _stream_messages(payload):
            yield parse_message(msg, ctx)
