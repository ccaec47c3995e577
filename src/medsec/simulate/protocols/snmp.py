"""SNMPv2c GetRequest / GetBulkRequest and their responses (RFC 3416), BER encoded."""

from __future__ import annotations

from medsec.simulate.protocols import asn1

GET_REQUEST = 0xA0
GET_RESPONSE = 0xA2
GET_BULK = 0xA5
TIMETICKS = 0x43
VERSION_2C = 1

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
HR_SW_INSTALLED_NAME = "1.3.6.1.2.1.25.6.3.1.2"

Value = str | int | tuple[str, str] | None
"""Octet string, TimeTicks, ``("oid", dotted)`` or NULL."""


def _value(value: Value) -> bytes:
    if value is None:
        return asn1.null()
    if isinstance(value, int):
        return asn1.unsigned(value, TIMETICKS)
    if isinstance(value, tuple):
        return asn1.oid(value[1])
    return asn1.octets(value)


def _message(community: str, pdu_tag: int, request_id: int, a: int, b: int, binds: bytes) -> bytes:
    pdu = asn1.sequence(
        asn1.integer(request_id),
        asn1.integer(a),
        asn1.integer(b),
        asn1.sequence(binds),
        tag=pdu_tag,
    )
    return asn1.sequence(asn1.integer(VERSION_2C), asn1.octets(community), pdu)


def get_request(community: str, request_id: int, oids: list[str]) -> bytes:
    binds = b"".join(asn1.sequence(asn1.oid(o), asn1.null()) for o in oids)
    return _message(community, GET_REQUEST, request_id, 0, 0, binds)


def get_bulk(community: str, request_id: int, oid: str, max_repetitions: int) -> bytes:
    binds = asn1.sequence(asn1.oid(oid), asn1.null())
    return _message(community, GET_BULK, request_id, 0, max_repetitions, binds)


def response(community: str, request_id: int, bindings: list[tuple[str, Value]]) -> bytes:
    binds = b"".join(asn1.sequence(asn1.oid(o), _value(v)) for o, v in bindings)
    return _message(community, GET_RESPONSE, request_id, 0, 0, binds)
