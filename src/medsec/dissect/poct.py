"""POCT1-A (CLSI POCT1-A2) device messages: XML documents sent back to back over TCP.

Each message is one XML document whose root element names its type (``HEL.R01``,
``DST.R01``, ``OBS.R01``, ``ACK.R01``, ``EOT.R01``...), optionally preceded by an XML
declaration; element values sit in a ``V`` attribute (``<DEV.vendor_id V="NOVABIO"/>``),
occasionally in the element text. The hello names the device; other messages are recorded
by type, and patient elements only by their presence.

XML is parsed defensively: no DTD, entity or notation declaration is accepted (so no entity
expansion and no external fetch), each document is cut out of the stream by its root's
closing tag before the standard library parser sees it, and the stream head is bounded.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.poct import PoctHello, PoctMessage

logger = logging.getLogger(__name__)

_MAX_MESSAGES = 128
_MAX_VALUE = 256  # characters kept of a value
_WHITESPACE = b" \t\r\n\x00"
_BOM = b"\xef\xbb\xbf"
_ENCODINGS = {  # declared encoding -> Python codec; anything else is read as UTF-8
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "iso-8859-1": "latin-1",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "windows-1252": "cp1252",
    "cp1252": "cp1252",
}


def _is_message_type(name: bytes) -> bool:
    """``ABC.R01``: three capitals, ``.R``, two digits (the POCT1-A message naming)."""
    return (
        len(name) == 7
        and all(0x41 <= b <= 0x5A for b in name[:3])
        and name[3:5] == b".R"
        and all(0x30 <= b <= 0x39 for b in name[5:])
    )


def _skip_space(data: bytes, pos: int) -> int:
    if data.startswith(_BOM, pos):
        pos += len(_BOM)
    while pos < len(data) and data[pos] in _WHITESPACE:
        pos += 1
    return pos


def _root_name(data: bytes, pos: int) -> bytes:
    """The element name of a start tag at ``data[pos] == '<'`` (empty if none)."""
    end = pos + 1
    limit = min(len(data), pos + 64)
    while end < limit and data[end] not in b" \t\r\n/>":
        end += 1
    return data[pos + 1 : end] if end < len(data) else b""


def _declared_codec(declaration: bytes) -> str:
    at = declaration.find(b"encoding=")
    if at < 0:
        return "utf-8"
    rest = declaration[at + 9 : at + 40]
    if not rest or rest[:1] not in (b'"', b"'"):
        return "utf-8"
    name = rest[1:].split(rest[:1], 1)[0].decode("latin-1").strip().lower()
    return _ENCODINGS.get(name, "utf-8")


def _refuse_declarations(document: bytes) -> None:
    """Only comments and CDATA may use ``<!``: no DOCTYPE, ENTITY, ATTLIST, NOTATION."""
    at = document.find(b"<!")
    while at >= 0:
        if not (document.startswith(b"<!--", at) or document.startswith(b"<![CDATA[", at)):
            raise DissectError("POCT1-A: XML declarations (DOCTYPE/ENTITY) are refused")
        at = document.find(b"<!", at + 2)


def _documents(payload: bytes) -> Iterator[tuple[bytes, bytes, str]]:
    """(message type, document bytes, codec) of each complete XML document in ``payload``."""
    codec = "utf-8"
    pos = 0
    count = 0
    while count < _MAX_MESSAGES:
        pos = _skip_space(payload, pos)
        if pos >= len(payload):
            return
        if payload.startswith(b"<?", pos):
            end = payload.find(b"?>", pos)
            if end < 0:
                return  # cut inside the declaration
            codec = _declared_codec(payload[pos:end])
            pos = end + 2
            continue
        if payload.startswith(b"<!--", pos):
            end = payload.find(b"-->", pos)
            if end < 0:
                return
            pos = end + 3
            continue
        if payload[pos] != 0x3C:  # '<'
            raise DissectError("POCT1-A: bytes between messages are not XML")
        name = _root_name(payload, pos)
        if not name:
            return  # cut inside the start tag
        if not _is_message_type(name):
            raise DissectError("POCT1-A: root element is no POCT1-A message type")
        close = b"</" + name + b">"
        end = payload.find(close, pos)
        if end < 0:
            return  # the stream head ends inside this message
        end += len(close)
        yield name, payload[pos:end], codec
        codec = "utf-8"
        pos = end
        count += 1


def _value(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    value = (element.get("V") or "").strip() or (element.text or "").strip()
    return value[:_MAX_VALUE] or None


def _number(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def _parse(document: bytes, codec: str) -> ET.Element:
    _refuse_declarations(document)
    try:
        return ET.fromstring(document.decode(codec, "replace"))
    except (ET.ParseError, ValueError) as exc:
        raise DissectError(f"POCT1-A: malformed XML: {exc}") from exc


def _hello(root: ET.Element, ctx: PacketContext) -> PoctHello:
    def first(tag: str) -> str | None:
        return _value(next(root.iter(tag), None))

    def every(tag: str) -> tuple[str, ...]:
        return tuple(v for element in root.iter(tag) if (v := _value(element)) is not None)

    return PoctHello(
        ctx=ctx,
        version_id=first("HDR.version_id"),
        device_id=first("DEV.device_id"),
        vendor_id=first("DEV.vendor_id"),
        model_id=first("DEV.model_id"),
        serial_id=first("DEV.serial_id"),
        manufacturer_name=first("DEV.manufacturer_name"),
        hw_version=first("DEV.hw_version"),
        sw_version=first("DEV.sw_version"),
        device_name=first("DEV.device_name"),
        application_timeout=_number(first("DCP.application_timeout")),
        connection_profile_cd=first("DSC.connection_profile_cd"),
        topics_supported_cd=every("DSC.topics_supported_cd"),
        directives_supported_cd=every("DSC.directives_supported_cd"),
        max_message_sz=_number(first("DSC.max_message_sz")),
    )


def _has_patient(root: ET.Element) -> bool:
    return any(el.tag == "PT" or el.tag.startswith("PT.") for el in root.iter())


class PoctDissector:
    """POCT1-A device messages (XML over TCP)."""

    name: ClassVar[str] = "poct1a"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset()
    """None: vendors pick the port (5000 is common but shared with AirPlay, UPnP and
    development web servers), so flows are routed here by ``signature`` alone."""
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 32768
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """An optional XML declaration, then a root element named like ``HEL.R01``."""
        pos = _skip_space(head, 0)
        if head.startswith(b"<?xml", pos):
            end = head.find(b"?>", pos, pos + 256)
            if end < 0:
                return False
            pos = _skip_space(head, end + 2)
        if not head.startswith(b"<", pos):
            return False
        name = _root_name(head, pos)
        return _is_message_type(name) and head[pos + 1 + len(name)] in b" \t\r\n/>"

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        found: list[Observation] = []
        try:
            for name, document, codec in _documents(payload):
                root = _parse(document, codec)
                message_type = name.decode("ascii")
                if message_type == "HEL.R01":
                    found.append(_hello(root, ctx))
                else:
                    found.append(
                        PoctMessage(
                            ctx=ctx, message_type=message_type, carries_phi=_has_patient(root)
                        )
                    )
        except DissectError as exc:
            if not found:
                raise
            logger.debug(
                "poct1a flow %d: stopped after %d messages: %s", ctx.flow_id, len(found), exc
            )
        yield from found
