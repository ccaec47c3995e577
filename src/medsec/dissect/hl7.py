"""HL7 version 2 messages in a TCP stream head, framed by MLLP or sent bare.

MLLP (HL7 "Minimal Lower Layer Protocol", Release 2) wraps each message as
``0x0B <message> 0x1C 0x0D``. Inside, segments end with ``\\r`` (also
accepted: ``\\n`` and ``\\r\\n``); MSH-1 gives the field separator and MSH-2 the encoding
characters, so custom separators are honoured. Batches (FHS/BHS ... BTS/FTS) give one
observation per MSH.

Only MSH fields, MSA-1 and segment IDs are read. The split is hand-written and bounded
rather than python-hl7's ``hl7.parse`` (which builds every field of every segment, patient
segments included, and raises assorted exceptions on hostile text); python-hl7 serves as
the test oracle.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.hl7 import Hl7Message

logger = logging.getLogger(__name__)

_START_BLOCK = 0x0B
_END_BLOCK = 0x1C
_HEADERS = (b"MSH", b"FHS", b"BHS")
_BATCH_SEGMENTS = frozenset({"FHS", "BHS", "BTS", "FTS"})
_PHI_SEGMENTS = frozenset(
    {"PID", "PD1", "NK1", "PV1", "PV2", "MRG", "GT1", "IN1", "IN2", "IN3", "QRD"}
)
_MAX_MESSAGES = 256  # per stream head
_MAX_SEGMENT_IDS = 512  # per message
_MAX_FIELD = 256  # characters kept of a header field


def _is_separator(byte: int) -> bool:
    """Separators are printable ASCII punctuation (never letters, digits or space)."""
    return 0x21 <= byte <= 0x7E and not (
        0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A
    )


_SEPARATORS = frozenset(b for b in range(256) if _is_separator(b))
"""``_is_separator`` as a set: the header check tests up to ten bytes a line."""
_SEGMENT_ID = re.compile("[A-Z][A-Z0-9]{2}")
"""A segment ID: an ASCII capital, then two ASCII capitals or digits."""


def _header_ok(head: bytes | memoryview) -> bool:
    """``MSH``/``FHS``/``BHS``, a field separator, 1-5 encoding characters, the separator."""
    if len(head) < 6 or bytes(head[:3]) not in _HEADERS:
        return False
    sep = head[3]
    if sep not in _SEPARATORS:
        return False
    for i in range(4, min(len(head), 10)):
        byte = head[i]
        if byte == sep:
            return i >= 5
        if byte not in _SEPARATORS:
            return False
    return False


def _segment_id(segment: str, sep: str) -> str | None:
    """The segment ID (``PID``, ``ZPI``) if ``segment`` starts with a well-formed one."""
    if _SEGMENT_ID.match(segment) is None:
        return None
    if len(segment) > 3 and segment[3] != sep:
        return None
    return segment[:3]


def _field(fields: list[str], index: int, component: str) -> str | None:
    if index >= len(fields):
        return None
    value = fields[index][:_MAX_FIELD]
    if component != "^":
        value = value.replace(component, "^")
    return value.rstrip("^") or None


def _message(segments: list[str], complete: bool, ctx: PacketContext) -> Hl7Message:
    """One message from its segments; ``segments[0]`` is a well-formed MSH."""
    msh = segments[0]
    sep = msh[3]
    fields = msh.split(sep, 13)
    encoding = fields[1][:5] if len(fields) > 1 else ""
    component = encoding[0] if encoding else "^"
    ids: list[str] = []
    ack: str | None = None
    for segment in segments:
        ident = _segment_id(segment, sep)
        if ident is None or ident in _BATCH_SEGMENTS:
            continue
        if len(ids) < _MAX_SEGMENT_IDS:
            ids.append(ident)
        if ident == "MSA" and ack is None:
            msa = segment.split(sep, 2)
            ack = (msa[1][:_MAX_FIELD] or None) if len(msa) > 1 else None
    message_type = _field(fields, 8, component)
    parts = message_type.split("^") if message_type else []
    return Hl7Message(
        ctx=ctx,
        field_separator=sep,
        encoding_characters=encoding,
        sending_application=_field(fields, 2, component),
        sending_facility=_field(fields, 3, component),
        receiving_application=_field(fields, 4, component),
        receiving_facility=_field(fields, 5, component),
        message_type=message_type,
        message_code=(parts[0] or None) if parts else None,
        trigger_event=(parts[1] or None) if len(parts) > 1 else None,
        message_structure=(parts[2] or None) if len(parts) > 2 else None,
        processing_id=_field(fields, 10, component),
        version_id=_field(fields, 11, component),
        segment_ids=tuple(ids),
        acknowledgment_code=ack,
        carries_phi=not _PHI_SEGMENTS.isdisjoint(ids),
        complete=complete,
    )


def _messages(block: bytes, complete: bool, ctx: PacketContext) -> Iterator[Hl7Message]:
    """Messages of one MLLP block (or of a bare stream); ``complete`` False if cut short."""
    start = 0
    while start < len(block) and block[start] in b" \t\r\n":
        start += 1
    if not _header_ok(block[start : start + 10]):
        raise DissectError("HL7: block does not start with an MSH/FHS/BHS header")
    text = block[start:].decode("utf-8", "replace")
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    # A cut block's last line may be a partial segment: a cut MSH is no header at all.
    ended = complete or text.endswith(("\r", "\n"))
    current: list[str] = []
    for number, line in enumerate(lines):
        is_last = number == len(lines) - 1
        if line.startswith("MSH") and _header_ok(line[:10].encode("latin-1", "replace")):
            if current:
                yield _message(current, True, ctx)
            current = [] if (is_last and not ended) else [line]
        elif current and line:
            current.append(line)
    if current:
        yield _message(current, complete, ctx)


class Hl7Dissector:
    """HL7 v2 message headers over MLLP (or bare TCP)."""

    name: ClassVar[str] = "hl7"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({2575, 6661})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 65536
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """MLLP start block then an MSH (or FHS/BHS batch) header, or a bare MSH header."""
        if head[:1] == b"\x0b":
            return _header_ok(head[1:11])
        return head[:3] == b"MSH" and _header_ok(head[:10])

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if not payload:
            return
        if payload[0] != _START_BLOCK:
            # Bare HL7 on TCP: one block; cut if the engine stopped collecting at our limit.
            yield from _messages(payload, len(payload) < self.stream_bytes, ctx)
            return
        found: list[Observation] = []
        off = 0
        try:
            while off < len(payload) and len(found) < _MAX_MESSAGES:
                start = payload.find(_START_BLOCK, off)
                if start < 0:
                    break
                end = payload.find(_END_BLOCK, start + 1)
                if end < 0:
                    found.extend(_messages(payload[start + 1 :], False, ctx))
                    break
                found.extend(_messages(payload[start + 1 : end], True, ctx))
                off = end + 1
        except DissectError as exc:
            if not found:
                raise
            logger.debug("hl7 flow %d: stopped after %d messages: %s", ctx.flow_id, len(found), exc)
        yield from found[:_MAX_MESSAGES]
