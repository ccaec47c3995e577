"""Syslog (RFC 5424, the BSD format of RFC 3164) on UDP 514, and on TCP 514 with octet
counting (RFC 6587 3.4.1) or newline framing (3.4.2).

Only the header is stated: PRI (facility, severity), hostname, application name / tag,
process id, message id, the RFC 5424 SD-IDs and ``origin`` structured data (software and
version). Where a vendor's log format puts structured facts at a fixed place, anchored
patterns read them and nothing else: the Cisco ``%FACILITY-SEVERITY-MNEMONIC:`` tag (and
its IOS XML form), FortiOS ``devid``/``devname``, the ScreenOS ``NetScreen device_id``, the
PAN-OS serial number and log type, and the vendor/product/version of a CEF or LEEF header.
The free-text message is never kept: on some devices it holds patient data. TCP 514 is
also rsh; a stream that does not start like syslog gives nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

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
VENDOR_HEAD = 512
"""Bytes of a message read for vendor facts (they sit at its start)."""
MAX_KV_TOKENS = 24
"""``key=value`` tokens walked at the start of a FortiOS message."""

# Cisco message prefix: sequence number, origin id, IOS [syslog@9 ...] element, timestamp
# (IOS/ASA ``*Mar  1 2024 00:00:00.123 UTC``, NX-OS ``2024 Mar  1 00:00:00 UTC``, uptime
# ``00:01:23`` / ``1w2d``) with an ASA device id, IOS XR node (``RP/0/RSP0/CPU0:``) and
# process (``ifmgr[227]: ``).
_TIMESTAMP = (
    rb"[*.]?(?:[A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d\d:\d\d:\d\d(?:\.\d{1,6})?(?: [A-Za-z]{2,6})?"
    rb"|\d{4} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,6})?(?: [A-Za-z]{2,6})?"
    rb"|\d{1,3}:\d\d:\d\d(?:\.\d{1,6})?|\d{1,3}[wdy]\d{1,2}[dh])"
)
_ORIGIN = rb"[^\s:%<]{1,64}: "
_CISCO_PREFIX = (
    rb" ?(?:: )?(?:\d{1,10}: )?(?:" + _ORIGIN + rb")?(?:[A-Z0-9]{1,4}(?:/[A-Z0-9]{1,8}){1,4}:)?"
    rb"(?:\[syslog@9 [^\]]{0,80}\]: )?"
    rb"(?:" + _TIMESTAMP + rb"(?: [^\s:%<]{1,64})? ?: )?(?:" + _ORIGIN + rb")?"
)
_FACILITY = rb"[A-Z][A-Z0-9_]{0,31}(?:-[A-Z][A-Z0-9_]{0,31}){0,2}"
_MNEMONIC = rb"[A-Z0-9][A-Z0-9_]{0,39}"
_PERCENT_TAG = re.compile(
    _CISCO_PREFIX + rb"%(" + _FACILITY + rb")-([0-7])-(" + _MNEMONIC + rb") ?:"
)
_IOS_XML = re.compile(
    _CISCO_PREFIX + rb"<ios-log-msg><facility>(" + _FACILITY + rb")</facility>"
    rb"<severity>([0-7])</severity><msg-id>(" + _MNEMONIC + rb")</msg-id>"
)
_KV = re.compile(rb'([a-z_]{1,32})=(?:"([^"]{0,128})"|([^\s"]{0,128}))(?: |$)')
_SCREENOS = re.compile(rb" ?NetScreen device_id=([0-9A-Za-z-]{1,32})")
_PANOS = re.compile(rb" ?1,\d{4}/\d\d/\d\d \d\d:\d\d:\d\d,([0-9A-Za-z]{1,20}),([A-Z]{3,20}),")
_CEF_FIELD = rb"((?:[^|\\\r\n]|\\.){0,63})"
_EVENT = re.compile(
    rb" ?(CEF|LEEF):\d{1,2}(?:\.\d{1,2})?\|"
    + _CEF_FIELD
    + rb"\|"
    + _CEF_FIELD
    + rb"\|"
    + _CEF_FIELD
    + rb"\|"
)


class SyslogError(DissectError):
    """A syslog message is malformed (no PRI, PRI out of range)."""


def _field(raw: bytes) -> str | None:
    return None if raw in (b"-", b"") else raw.decode("utf-8", "backslashreplace")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _structured_data(sd: bytes) -> tuple[tuple[str, ...], dict[str, str], int]:
    """SD-IDs, the params of the ``origin`` element, and where the message begins."""
    if sd[:1] == b"-":
        return (), {}, 2
    pos = 0
    ids: list[str] = []
    origin: dict[str, str] = {}
    for _ in range(MAX_SD_ELEMENTS):
        if pos >= len(sd) or sd[pos] != 0x5B:  # '['
            break
        close = pos + 1
        while close < len(sd) and sd[close] != 0x5D:  # ']' not escaped
            close += 2 if sd[close] == 0x5C else 1
        element = sd[pos + 1 : close]
        pos = close + 1
        sd_id, _, _ = element.partition(b" ")
        ids.append(sd_id[:64].decode("ascii", "backslashreplace"))
        if sd_id == b"origin" and not origin:
            origin = {
                m.group(1).decode("ascii", "backslashreplace"): _text(
                    re.sub(rb"\\(.)", rb"\1", m.group(2))
                )
                for m in _PARAM.finditer(element)
            }
    return tuple(ids), origin, pos + 1 if ids else 0


def _fortios(head: bytes, start: int) -> dict[str, Any]:
    """``devid``/``devname`` among the ``key=value`` tokens a FortiOS message starts with."""
    pos = start + 1 if head[start : start + 1] == b" " else start
    found: dict[str, Any] = {}
    for _ in range(MAX_KV_TOKENS):
        m = _KV.match(head, pos)
        if m is None or m.end() == pos:
            break
        key = m.group(1)
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if key in (b"devid", b"devname") and value:
            found[f"fortios_{key.decode()}"] = _text(value)
        pos = m.end()
    return found


def _vendor_facts(head: bytes, starts: Iterable[int]) -> dict[str, Any]:
    """Structured vendor facts at the start of the message (tried at each candidate start:
    after the tag, and where the tag would begin)."""
    for start in starts:
        m = _PERCENT_TAG.match(head, start)
        form = "percent"
        if m is None:
            m = _IOS_XML.match(head, start)
            form = "ios-xml"
        if m is not None:
            return {
                "tag_format": form,
                "tag_facility": m.group(1).decode("ascii"),
                "tag_severity": int(m.group(2)),
                "tag_mnemonic": m.group(3).decode("ascii"),
            }
        if m := _SCREENOS.match(head, start):
            return {"screenos_device_id": m.group(1).decode("ascii")}
        if m := _PANOS.match(head, start):
            return {
                "panos_serial": m.group(1).decode("ascii"),
                "panos_type": m.group(2).decode("ascii"),
            }
        if m := _EVENT.match(head, start):
            return {
                "event_format": m.group(1).decode("ascii"),
                "event_vendor": _text(re.sub(rb"\\(.)", rb"\1", m.group(2))),
                "event_product": _text(re.sub(rb"\\(.)", rb"\1", m.group(3))),
                "event_version": _text(re.sub(rb"\\(.)", rb"\1", m.group(4))),
            }
        if found := _fortios(head, start):
            return found
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
        sd_ids: tuple[str, ...] = ()
        origin: dict[str, str] = {}
        vendor: dict[str, Any] = {}
        if len(parts) > 6:
            sd_ids, origin, begins = _structured_data(parts[6])
            vendor = _vendor_facts(parts[6][begins : begins + VENDOR_HEAD], (0,))
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
            sd_ids=sd_ids,
            **vendor,
        )
    hostname: str | None = None
    head = rest[:VENDOR_HEAD]
    stamp = _BSD_TIMESTAMP.match(head) or _ISO_TIMESTAMP.match(head)
    pos = stamp.end() if stamp else 0
    tag = _TAG.match(head, pos)
    if stamp and tag is None:
        space = head.find(b" ", pos)
        token = head[pos:space] if space > pos else b""
        if token and len(token) <= 255 and token.isascii() and not token.endswith(b":"):
            hostname = token.decode("ascii")
            pos = space + 1
            tag = _TAG.match(head, pos)
    if tag is not None and not any(chr(b).isalpha() for b in tag.group(1)):
        tag = None  # a sequence number (``123:``), not a program name
    starts = (pos,) if tag is None else (tag.end(), pos)
    return SyslogMessage(
        ctx=ctx,
        facility=facility,
        severity=severity,
        format="rfc3164",
        hostname=hostname,
        app_name=None if tag is None else tag.group(1).decode("ascii"),
        procid=None if tag is None or tag.group(2) is None else _field(tag.group(2)),
        **_vendor_facts(head, starts),
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
