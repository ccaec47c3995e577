"""Modbus/TCP (Modbus Messaging on TCP/IP Implementation Guide v1.0b; Modbus Application
Protocol v1.1b3) on TCP 502: PLCs, building controllers, meters, drives and gateways.

Each ADU is an MBAP header (transaction id, protocol id 0, length, unit id) and a PDU
(function code, data; an exception sets bit 7 of the code and carries one exception code).
The head of each direction of a connection is walked ADU by ADU and gives one
``ModbusMessages`` with the unit ids, function codes and exception codes seen. A Read Device
Identification answer (function 43, MEI type 14) names the device: VendorName, ProductCode,
MajorMinorRevision, VendorUrl, ProductName, ModelName (objects 0-5). Register values are
process data and are never kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.infrastructure import ModbusMessages

logger = logging.getLogger(__name__)

PORT = 502
MAX_ADUS = 256
REQUEST_CODES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43})
"""Public function codes (Modbus Application Protocol v1.1b3 section 5.1)."""
DEVICE_OBJECTS = {
    0: "vendor_name",
    1: "product_code",
    2: "major_minor_revision",
    3: "vendor_url",
    4: "product_name",
    5: "model_name",
}


MAX_SIGNATURE_ADUS = 16
_BER_INTEGER_LENGTHS = (b"\x01", b"\x02", b"\x03", b"\x04")
EXCEPTION_CODES = frozenset({1, 2, 3, 4, 5, 6, 8, 10, 11})
"""Exception codes of Modbus Application Protocol v1.1b3 section 7."""
_FIXED = {
    # function code: (request PDU size, response PDU size); None: counted by a byte count
    5: (5, 5),
    6: (5, 5),
    7: (1, 2),
    11: (1, 5),
    12: (1, None),
    15: (None, 5),
    16: (None, 5),
    17: (1, None),
    22: (7, 7),
}


def pdu_fits(pdu: bytes) -> bool:
    """Whether ``pdu`` has the size its function code gives a request or a response
    (Modbus Application Protocol v1.1b3 section 6), or is an exception response (section 7).
    Byte counts must account for the rest of the PDU exactly."""
    n = len(pdu)
    if n == 0:
        return False
    code = pdu[0]
    if code & 0x80:
        return code & 0x7F in REQUEST_CODES and n == 2 and pdu[1] in EXCEPTION_CODES
    if code not in REQUEST_CODES:
        return False
    counted = n >= 2 and n == 2 + pdu[1]  # function code, byte count, that many bytes
    if code in (1, 2, 3, 4):  # read coils/inputs/registers: start and quantity, or values
        return n == 5 or (counted and n >= 3 and (code <= 2 or n % 2 == 0))
    if code in _FIXED:
        request, response = _FIXED[code]
        if n in (request, response):
            return True
        if code in (15, 16):  # write multiple: start, quantity, byte count, values
            return n >= 7 and n == 6 + pdu[5]
        return response is None and counted
    if code == 8:  # diagnostics: sub-function 0-20 and 2-byte data words, echoed back
        return n >= 5 and n % 2 == 1 and pdu[1] == 0 and pdu[2] <= 20
    if code in (20, 21):  # file record: byte count and sub-requests, both ways
        return counted and n >= 3
    if code == 23:  # read/write multiple registers: 4 words, byte count, values; or values
        return (n >= 12 and n == 10 + pdu[9]) or (counted and n >= 4 and n % 2 == 0)
    if code == 24:  # read FIFO queue: pointer address; or 2-byte byte count, count, values
        return n == 3 or (n >= 5 and n == 3 + int.from_bytes(pdu[1:3], "big"))
    # 43: encapsulated interface transport, MEI 13 (CANopen) or 14 (device identification)
    return n >= 2 and pdu[1] in (13, 14) and (pdu[1] == 13 or n == 4 or n >= 7)


class ModbusError(DissectError):
    """A Modbus/TCP stream is malformed (protocol id not 0, length out of range)."""


def _device_identification(pdu: bytes) -> dict[str, str]:
    """Function 43 / MEI 14 response: MEI type, read device id code, conformity level,
    more follows, next object id, number of objects, then (id, length, value) objects."""
    if len(pdu) < 7:
        return {}
    count = pdu[6]
    pos = 7
    found: dict[str, str] = {}
    for _ in range(count):
        if pos + 2 > len(pdu):
            raise ModbusError("device identification object cut short")
        object_id, length = pdu[pos], pdu[pos + 1]
        value = pdu[pos + 2 : pos + 2 + length]
        if len(value) < length:
            raise ModbusError(f"device identification object {object_id} runs past the ADU")
        pos += 2 + length
        name = DEVICE_OBJECTS.get(object_id)
        if name is not None:
            text = value.rstrip(b"\x00").decode("utf-8", "backslashreplace").strip()
            if text:
                found.setdefault(name, text[:256])
    return found


class ModbusDissector:
    """Modbus/TCP on TCP 502."""

    name: ClassVar[str] = "modbus"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({PORT})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 2048
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """Whole ADUs back to back up to the end of the payload (at most ``MAX_SIGNATURE_ADUS``),
        each with protocol id 0, a length of 2-254, a unit id that is not reserved and a PDU
        whose size is the one its public function code gives a request or a response (or an
        exception with a defined code). A BER SEQUENCE with a four-byte length (``30 84 00 00
        LL LL``, Active Directory's LDAP answers) has an MBAP-like header, and its INTEGER
        messageID (``02 01``-``02 04``) reads as unit 2 and a read function: such a head is
        not taken even when its PDU size happens to fit (Modbus transaction id 0x3084 with
        unit 2 is the price)."""
        if head[:2] == b"\x30\x84" and head[6:7] == b"\x02" and head[7:8] in _BER_INTEGER_LENGTHS:
            return False
        pos = 0
        for _ in range(MAX_SIGNATURE_ADUS):
            if pos + 8 > len(head) or head[pos + 2 : pos + 4] != b"\x00\x00":
                return False
            length = int.from_bytes(head[pos + 4 : pos + 6], "big")
            end = pos + 6 + length
            if not 2 <= length <= 254 or end > len(head) or 248 <= head[pos + 6] <= 254:
                return False
            if not pdu_fits(head[pos + 7 : end]):
                return False
            if end == len(head):
                return True
            pos = end
        return False

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) < 8:
            raise ModbusError(f"stream head of {len(payload)} bytes")
        if ctx.src_port == PORT:
            role: str | None = "server"
        elif ctx.dst_port == PORT:
            role = "client"
        else:
            role = None
        units: dict[int, None] = {}
        codes: dict[int, None] = {}
        exceptions: dict[int, None] = {}
        identity: dict[str, str] = {}
        pos = 0
        for _ in range(MAX_ADUS):
            if pos + 8 > len(payload):
                break  # the head ends (inside an ADU or exactly at its end)
            if payload[pos + 2 : pos + 4] != b"\x00\x00":
                raise ModbusError(f"protocol id {payload[pos + 2 : pos + 4].hex()} at {pos}")
            length = int.from_bytes(payload[pos + 4 : pos + 6], "big")
            if not 2 <= length <= 254:
                raise ModbusError(f"MBAP length {length} at {pos}")
            unit = payload[pos + 6]
            pdu = payload[pos + 7 : pos + 6 + length]
            pos += 6 + length
            units.setdefault(unit)
            code = pdu[0]
            codes.setdefault(code & 0x7F)
            if code & 0x80:
                if len(pdu) >= 2:
                    exceptions.setdefault(pdu[1])
            elif code == 43 and pdu[1:2] == b"\x0e" and role != "client" and len(pdu) >= 7:
                for name, value in _device_identification(pdu).items():
                    identity.setdefault(name, value)
        yield ModbusMessages(
            ctx=ctx,
            role=role,
            unit_ids=tuple(units),
            function_codes=tuple(codes),
            exception_codes=tuple(exceptions),
            vendor_name=identity.get("vendor_name"),
            product_code=identity.get("product_code"),
            major_minor_revision=identity.get("major_minor_revision"),
            vendor_url=identity.get("vendor_url"),
            product_name=identity.get("product_name"),
            model_name=identity.get("model_name"),
        )
