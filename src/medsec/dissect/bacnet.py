"""BACnet/IP (ASHRAE 135 Annex J) on UDP 47808 (0xBAC0): building automation controllers,
HVAC units, lighting and access panels and the workstations that supervise them.

A datagram is a BVLL header (type 0x81, function, length), for the NPDU-carrying functions an
NPDU (version 1, control, optional destination/source network addresses, hop count) and
either a network layer message (routers) or an APDU. The APDU's service is named; I-Am
(the device instance and the ASHRAE-assigned vendor id of its maker), Who-Is ranges and
ReadProperty requests and answers are read. ReadProperty-ACKs of the device object's
vendor-name (121), model-name (70), firmware-revision (44) and application-software-version
(12) give the device's own description. Each datagram gives one ``BacnetMessage``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.infrastructure import BacnetMessage

logger = logging.getLogger(__name__)

NPDU_FUNCTIONS = {0x04, 0x09, 0x0A, 0x0B}
"""Forwarded-NPDU, Distribute-Broadcast-To-Network, Original-Unicast/-Broadcast-NPDU."""
UNCONFIRMED = {
    0: "i-am", 1: "i-have", 2: "unconfirmed-cov-notification",
    3: "unconfirmed-event-notification", 4: "unconfirmed-private-transfer",
    5: "unconfirmed-text-message", 6: "time-synchronization", 7: "who-has", 8: "who-is",
    9: "utc-time-synchronization", 10: "write-group",
}  # fmt: skip
CONFIRMED = {
    0: "acknowledge-alarm", 1: "confirmed-cov-notification", 2: "confirmed-event-notification",
    5: "subscribe-cov", 6: "atomic-read-file", 7: "atomic-write-file", 10: "create-object",
    11: "delete-object", 12: "read-property", 14: "read-property-multiple",
    15: "write-property", 16: "write-property-multiple", 17: "device-communication-control",
    18: "confirmed-private-transfer", 20: "reinitialize-device", 26: "read-range",
    28: "subscribe-cov-property",
}  # fmt: skip
STRING_PROPERTIES = {
    121: "vendor_name",
    70: "model_name",
    44: "firmware_revision",
    12: "application_software_version",
}
MAX_TAGS = 64


class BacnetError(DissectError):
    """A BACnet/IP datagram is malformed (bad BVLL type or length, NPDU or tags cut short)."""


def _tag(data: bytes, pos: int) -> tuple[int, bool, int, int]:
    """One BACnet tag at ``pos``: (number, context class, length/value/type, value start)."""
    if pos >= len(data):
        raise BacnetError(f"tag at {pos} past the APDU")
    first = data[pos]
    number, context, lvt = first >> 4, bool(first & 0x08), first & 0x07
    pos += 1
    if number == 15:
        if pos >= len(data):
            raise BacnetError("extended tag number cut short")
        number = data[pos]
        pos += 1
    if context and lvt in (6, 7):
        return number, context, 0, pos  # opening or closing tag
    if lvt == 5:
        if pos >= len(data):
            raise BacnetError("extended length cut short")
        lvt = data[pos]
        pos += 1
        if lvt in (254, 255):
            size = 2 if lvt == 254 else 4
            if pos + size > len(data):
                raise BacnetError("extended length cut short")
            lvt = int.from_bytes(data[pos : pos + size], "big")
            pos += size
    return number, context, lvt, pos


def _unsigned(data: bytes, pos: int, length: int) -> int:
    if length > 4 or pos + length > len(data):
        raise BacnetError(f"unsigned of {length} bytes at {pos}")
    return int.from_bytes(data[pos : pos + length], "big")


def _character_string(raw: bytes) -> str | None:
    """Application tag 7: an encoding byte (0 UTF-8/ANSI X3.4, 4 UCS-2, 5 ISO 8859-1), text."""
    if not raw:
        return None
    encoding, text = raw[0], raw[1:]
    if encoding == 4:
        return text.decode("utf-16-be", "replace")[:256]
    if encoding == 5:
        return text.decode("latin-1")[:256]
    return text.decode("utf-8", "backslashreplace")[:256]


class BacnetDissector:
    """BACnet/IP on UDP 47808."""

    name: ClassVar[str] = "bacnet"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({47808})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 8

    def signature(self, head: bytes) -> bool:
        """BVLL type 0x81, a known function and a length equal to the datagram's; NPDU
        version 1 for the NPDU-carrying functions."""
        if len(head) < 4 or head[0] != 0x81 or head[1] > 0x0C:
            return False
        if int.from_bytes(head[2:4], "big") != len(head):
            return False
        if head[1] in NPDU_FUNCTIONS:
            at = 10 if head[1] == 0x04 else 4
            return len(head) > at + 1 and head[at] == 0x01
        return True

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) < 4:
            raise BacnetError(f"datagram of {len(payload)} bytes")
        if payload[0] != 0x81:
            raise BacnetError(f"BVLL type {payload[0]:#04x} is not BACnet/IP (0x81)")
        function = payload[1]
        length = int.from_bytes(payload[2:4], "big")
        if length < 4 or length > len(payload):
            raise BacnetError(f"BVLL length {length} in a datagram of {len(payload)} bytes")
        data = payload[:length]
        if function not in NPDU_FUNCTIONS:
            yield BacnetMessage(ctx=ctx, bvlc_function=function)
            return
        pos = 10 if function == 0x04 else 4
        yield self._npdu(data, pos, function, ctx)

    def _npdu(self, data: bytes, pos: int, function: int, ctx: PacketContext) -> BacnetMessage:
        if pos + 2 > len(data):
            raise BacnetError("NPDU cut short")
        if data[pos] != 0x01:
            raise BacnetError(f"NPDU version {data[pos]}")
        control = data[pos + 1]
        pos += 2
        if control & 0x20:  # DNET, DLEN, DADR
            if pos + 3 > len(data):
                raise BacnetError("destination address cut short")
            pos += 3 + data[pos + 2]
        if control & 0x08:  # SNET, SLEN, SADR
            if pos + 3 > len(data):
                raise BacnetError("source address cut short")
            pos += 3 + data[pos + 2]
        if control & 0x20:
            pos += 1  # hop count
        if pos > len(data):
            raise BacnetError("NPDU addresses run past the datagram")
        if control & 0x80:
            return BacnetMessage(ctx=ctx, bvlc_function=function, network_message=True)
        return self._apdu(data, pos, function, ctx)

    def _apdu(self, data: bytes, pos: int, function: int, ctx: PacketContext) -> BacnetMessage:
        if pos >= len(data):
            raise BacnetError("NPDU without an APDU")
        apdu_type = data[pos] >> 4
        fields: dict[str, Any] = {}
        service: str | None = None
        if apdu_type == 1:  # Unconfirmed-Request: type, service choice
            if pos + 2 > len(data):
                raise BacnetError("unconfirmed request cut short")
            choice = data[pos + 1]
            service = UNCONFIRMED.get(choice, f"unconfirmed-{choice}")
            if choice == 0:
                fields = self._i_am(data, pos + 2)
        elif apdu_type in (0, 3):  # Confirmed-Request, ComplexACK
            segmented = bool(data[pos] & 0x08)
            head = (4 if apdu_type == 0 else 3) + (2 if segmented else 0)
            if pos + head > len(data):
                raise BacnetError("confirmed request or ComplexACK cut short")
            choice = data[pos + head - 1]
            service = CONFIRMED.get(choice, f"confirmed-{choice}")
            if choice == 12 and not segmented:
                fields = self._read_property(data, pos + head, ack=apdu_type == 3)
        elif apdu_type in (2, 5):  # SimpleACK, Error: type, invoke id, service
            if pos + 3 > len(data):
                raise BacnetError("SimpleACK or Error cut short")
            service = CONFIRMED.get(data[pos + 2], f"confirmed-{data[pos + 2]}")
        message = BacnetMessage(
            ctx=ctx, bvlc_function=function, apdu_type=apdu_type, service=service
        )
        return replace(message, **fields) if fields else message

    @staticmethod
    def _i_am(data: bytes, pos: int) -> dict[str, Any]:
        """Object identifier (application 12), max APDU (2), segmentation (9), vendor (2)."""
        values: list[int] = []
        for _ in range(4):
            number, context, length, start = _tag(data, pos)
            if context or number not in (12, 2, 9):
                raise BacnetError(f"I-Am parameter with tag {number}")
            values.append(_unsigned(data, start, length))
            pos = start + length
        object_id, max_apdu, segmentation, vendor = values
        if object_id >> 22 != 8:
            raise BacnetError(f"I-Am for object type {object_id >> 22}, not a device")
        return {
            "device_instance": object_id & 0x3FFFFF,
            "max_apdu_length": max_apdu,
            "segmentation": segmentation,
            "vendor_id": vendor,
        }

    @staticmethod
    def _read_property(data: bytes, pos: int, *, ack: bool) -> dict[str, Any]:
        """Context 0 object identifier, 1 property identifier, [2 array index]; an ACK then
        opens context 3 around the value."""
        number, context, length, start = _tag(data, pos)
        if not context or number != 0 or length != 4:
            raise BacnetError("ReadProperty without an object identifier")
        object_id = _unsigned(data, start, 4)
        number, context, length, start = _tag(data, start + 4)
        if not context or number != 1:
            raise BacnetError("ReadProperty without a property identifier")
        prop = _unsigned(data, start, length)
        out: dict[str, Any] = {"object_type": object_id >> 22, "property_id": prop}
        name = STRING_PROPERTIES.get(prop)
        if not ack or name is None or object_id >> 22 != 8:
            return out
        pos = start + length
        for _ in range(MAX_TAGS):
            if pos >= len(data):
                break
            if data[pos] == 0x3E:  # opening tag 3: the value follows
                number, context, length, start = _tag(data, pos + 1)
                if not context and number == 7 and start + length <= len(data):
                    out[name] = _character_string(data[start : start + length])
                break
            number, context, length, start = _tag(data, pos)
            pos = start + length
        return out
