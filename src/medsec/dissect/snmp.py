"""SNMP v1, v2c and v3 (RFC 1157, RFC 3416, RFC 3412/3414) on UDP 161/162.

A minimal BER reader walks the fixed message structure (no generic recursion): version,
community, PDU and its variable bindings; for v3 the global header, the USM security
parameters (engine id, user name) and, when not encrypted, the scoped PDU. Definite lengths
of at most four bytes only; single-byte tags only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar, Literal, TypedDict

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.management import SnmpMessage

logger = logging.getLogger(__name__)

MAX_VARBINDS = 64
"""Variable bindings read (and OIDs listed) per PDU."""
MAX_OID_BYTES = 128
"""Longest OID encoding accepted."""

PDU_TYPES: dict[int, str] = {
    0xA0: "get-request",
    0xA1: "get-next-request",
    0xA2: "get-response",
    0xA3: "set-request",
    0xA4: "trap",
    0xA5: "get-bulk-request",
    0xA6: "inform-request",
    0xA7: "snmpV2-trap",
    0xA8: "report",
}
VERSIONS = {0: "1", 1: "2c", 3: "3"}
_SystemField = Literal["sys_descr", "sys_object_id", "sys_contact", "sys_name", "sys_location"]
SYSTEM_OIDS: dict[str, _SystemField] = {
    "1.3.6.1.2.1.1.1.0": "sys_descr",
    "1.3.6.1.2.1.1.2.0": "sys_object_id",
    "1.3.6.1.2.1.1.4.0": "sys_contact",
    "1.3.6.1.2.1.1.5.0": "sys_name",
    "1.3.6.1.2.1.1.6.0": "sys_location",
}

_SEQUENCE = 0x30
_INTEGER = 0x02
_OCTET_STRING = 0x04
_OID = 0x06
_IP_ADDRESS = 0x40


class _Fields(TypedDict, total=False):
    """The ``SnmpMessage`` fields found in a message."""

    pdu_type: str
    request_id: int
    error_status: int
    varbind_oids: tuple[str, ...]
    sys_descr: str
    sys_object_id: str
    sys_contact: str
    sys_name: str
    sys_location: str
    enterprise: str
    agent_addr: str
    generic_trap: int
    msg_authoritative_engine_id: str | None
    msg_user_name: str | None
    msg_flags: int


class SnmpError(DissectError):
    """An SNMP message is malformed (bad BER, unexpected type, unknown version)."""


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """Tag, value start and value end of the BER element at ``pos`` (within ``end``)."""
    if pos + 2 > end:
        raise SnmpError(f"BER element at {pos} cut short")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise SnmpError(f"multi-byte BER tag at {pos}")
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if not 1 <= k <= 4:
            raise SnmpError(f"BER length of {k} bytes (indefinite or too long)")
        if pos + k > end:
            raise SnmpError("BER length cut short")
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    if pos + n > end:
        raise SnmpError(f"BER element of {n} bytes runs past its container")
    return tag, pos, pos + n


def _expect(data: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    got, start, stop = _tlv(data, pos, end)
    if got != tag:
        raise SnmpError(f"{what}: tag 0x{got:02x}, 0x{tag:02x} expected")
    return start, stop


def _integer(data: bytes, start: int, stop: int) -> int:
    if not 1 <= stop - start <= 9:
        raise SnmpError(f"INTEGER of {stop - start} bytes")
    return int.from_bytes(data[start:stop], "big", signed=True)


_OIDS: dict[bytes, str] = {}
"""Dotted text of the OIDs seen (agents answer the same system-group OIDs again and again)."""


def _oid(raw: bytes) -> str:
    text = _OIDS.get(raw)
    if text is None:
        if len(_OIDS) >= 4096:
            _OIDS.clear()
        text = _OIDS[raw] = _oid_text(raw)
    return text


def _oid_text(raw: bytes) -> str:
    if not raw or len(raw) > MAX_OID_BYTES:
        raise SnmpError(f"OID of {len(raw)} bytes")
    arcs: list[int] = []
    value = 0
    for b in raw:
        value = value << 7 | (b & 0x7F)
        if not b & 0x80:
            arcs.append(value)
            value = 0
    if raw[-1] & 0x80:
        raise SnmpError("OID ends inside a sub-identifier")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("utf-8", "backslashreplace")


def _pdu(data: bytes, pos: int, end: int) -> _Fields:
    """The PDU at ``pos``: its type, ids, varbind OIDs and the system group values."""
    tag, start, stop = _tlv(data, pos, end)
    pdu_type = PDU_TYPES.get(tag)
    if pdu_type is None:
        raise SnmpError(f"unknown PDU tag 0x{tag:02x}")
    out = _Fields(pdu_type=pdu_type)
    pos = start
    if tag == 0xA4:  # v1 trap: enterprise, agent-addr, generic, specific, time-stamp
        s, e = _expect(data, pos, stop, _OID, "enterprise")
        out["enterprise"] = _oid(data[s:e])
        s, e = _expect(data, e, stop, _IP_ADDRESS, "agent-addr")
        if e - s != 4:
            raise SnmpError(f"agent-addr of {e - s} bytes")
        out["agent_addr"] = ".".join(str(b) for b in data[s:e])
        s, e = _expect(data, e, stop, _INTEGER, "generic-trap")
        out["generic_trap"] = _integer(data, s, e)
        _, _, e = _tlv(data, e, stop)  # specific-trap
        _, _, pos = _tlv(data, e, stop)  # time-stamp
    else:
        s, e = _expect(data, pos, stop, _INTEGER, "request-id")
        out["request_id"] = _integer(data, s, e)
        s, e = _expect(data, e, stop, _INTEGER, "error-status")
        out["error_status"] = _integer(data, s, e)
        _, _, pos = _tlv(data, e, stop)  # error-index (max-repetitions in GetBulk)
    vstart, vstop = _expect(data, pos, stop, _SEQUENCE, "variable-bindings")
    oids: list[str] = []
    pos = vstart
    while pos < vstop and len(oids) < MAX_VARBINDS:
        bstart, bstop = _expect(data, pos, vstop, _SEQUENCE, "variable binding")
        pos = bstop
        s, e = _expect(data, bstart, bstop, _OID, "variable binding name")
        oid = _oid(data[s:e])
        oids.append(oid)
        field = SYSTEM_OIDS.get(oid)
        if field is None:
            continue
        vtag, s, e = _tlv(data, e, bstop)
        if vtag == _OCTET_STRING:
            out[field] = _text(data[s:e])
        elif vtag == _OID:
            out[field] = _oid(data[s:e])
    out["varbind_oids"] = tuple(oids)
    return out


def _v3(data: bytes, pos: int, end: int) -> _Fields:
    """msgGlobalData, USM security parameters, and the scoped PDU when in clear."""
    out = _Fields()
    gstart, gstop = _expect(data, pos, end, _SEQUENCE, "msgGlobalData")
    _, _, e = _tlv(data, gstart, gstop)  # msgID
    _, _, e = _tlv(data, e, gstop)  # msgMaxSize
    s, e = _expect(data, e, gstop, _OCTET_STRING, "msgFlags")
    if e - s != 1:
        raise SnmpError(f"msgFlags of {e - s} bytes")
    out["msg_flags"] = data[s]
    s, e = _expect(data, e, gstop, _INTEGER, "msgSecurityModel")
    model = _integer(data, s, e)
    sstart, sstop = _expect(data, gstop, end, _OCTET_STRING, "msgSecurityParameters")
    if model == 3 and sstop > sstart:  # USM
        ustart, ustop = _expect(data, sstart, sstop, _SEQUENCE, "UsmSecurityParameters")
        s, e = _expect(data, ustart, ustop, _OCTET_STRING, "msgAuthoritativeEngineID")
        out["msg_authoritative_engine_id"] = data[s:e].hex() or None
        _, _, e = _tlv(data, e, ustop)  # engine boots
        _, _, e = _tlv(data, e, ustop)  # engine time
        s, e = _expect(data, e, ustop, _OCTET_STRING, "msgUserName")
        out["msg_user_name"] = _text(data[s:e]) or None
    tag, dstart, dstop = _tlv(data, sstop, end)
    if tag == _SEQUENCE:  # plaintext ScopedPDU: contextEngineID, contextName, PDU
        _, _, e = _tlv(data, dstart, dstop)
        _, _, e = _tlv(data, e, dstop)
        out.update(_pdu(data, e, dstop))
    elif tag != _OCTET_STRING:
        raise SnmpError(f"msgData tag 0x{tag:02x}")
    return out


class SnmpDissector:
    """SNMP on UDP 161 (agent) and 162 (trap receiver)."""

    name: ClassVar[str] = "snmp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({161, 162})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 8

    def signature(self, head: bytes) -> bool:
        """A BER SEQUENCE that fills the datagram, starting with version 0, 1 or 3, then a
        community OCTET STRING (v1/v2c) or a header SEQUENCE (v3)."""
        try:
            tag, start, stop = _tlv(head, 0, len(head))
            if tag != _SEQUENCE or stop != len(head):
                return False
            s, e = _expect(head, start, stop, _INTEGER, "version")
            version = _integer(head, s, e)
            next_tag = _tlv(head, e, stop)[0]
        except SnmpError:
            return False
        return (version in (0, 1) and next_tag == _OCTET_STRING) or (
            version == 3 and next_tag == _SEQUENCE
        )

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        start, stop = _expect(payload, 0, len(payload), _SEQUENCE, "message")
        s, e = _expect(payload, start, stop, _INTEGER, "version")
        number = _integer(payload, s, e)
        version = VERSIONS.get(number)
        if version is None:
            raise SnmpError(f"unknown SNMP version {number}")
        if version == "3":
            fields = _v3(payload, e, stop)
            community = None
        else:
            s, e = _expect(payload, e, stop, _OCTET_STRING, "community")
            community = payload[s:e].decode("utf-8", "backslashreplace")
            fields = _pdu(payload, e, stop)
        yield SnmpMessage(ctx=ctx, version=version, community=community, **fields)
