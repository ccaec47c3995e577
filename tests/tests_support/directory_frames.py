"""Builders of LDAP messages (RFC 4511, BER per X.690) and DRDA DSS/DDM objects (DRDA Vol. 3)
for dissector tests: spec vectors with their decoded meaning, and round trips."""

from __future__ import annotations

from collections.abc import Sequence

# ------------------------------------------------------------------ BER / LDAP


def ber_length(n: int, *, four: bool = False) -> bytes:
    """A definite length: short form, or long form (``four``: always four octets)."""
    if four:
        return b"\x84" + n.to_bytes(4, "big")
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, content: bytes, *, four: bool = False) -> bytes:
    return bytes([tag]) + ber_length(len(content), four=four) + content


def integer(value: int, tag: int = 0x02) -> bytes:
    size = max(1, (value.bit_length() + 8) // 8)
    return tlv(tag, value.to_bytes(size, "big", signed=True))


def octets(value: bytes | str, tag: int = 0x04) -> bytes:
    return tlv(tag, value.encode() if isinstance(value, str) else value)


def message(message_id: int, op: bytes, *, four: bool = False) -> bytes:
    """LDAPMessage ::= SEQUENCE { messageID, protocolOp }."""
    return tlv(0x30, integer(message_id) + op, four=four)


def bind_simple(name: str, password: bytes, version: int = 3) -> bytes:
    """BindRequest [APPLICATION 0] { version, name, simple [0] password }."""
    return tlv(0x60, integer(version) + octets(name) + octets(password, 0x80))


def bind_sasl(mechanism: str, credentials: bytes | None = None, name: str = "") -> bytes:
    """BindRequest with sasl [3] SaslCredentials { mechanism, credentials OPTIONAL }."""
    sasl = octets(mechanism) + (octets(credentials) if credentials is not None else b"")
    return tlv(0x60, integer(3) + octets(name) + tlv(0xA3, sasl))


def result(
    tag: int, code: int, matched: str = "", diagnostic: str = "", extra: bytes = b""
) -> bytes:
    """An LDAPResult-based response: resultCode, matchedDN, diagnosticMessage (and more)."""
    return tlv(tag, integer(code, 0x0A) + octets(matched) + octets(diagnostic) + extra)


def search(base: str, scope: int, attributes: Sequence[str], filter_: bytes | None = None) -> bytes:
    """SearchRequest [APPLICATION 3]: derefAliases never, no limits, typesOnly FALSE, the
    filter (default (objectClass=*), a present [7] filter) and the attributes."""
    present = filter_ if filter_ is not None else octets("objectClass", 0x87)
    return tlv(
        0x63,
        octets(base) + integer(scope, 0x0A) + integer(0, 0x0A) + integer(0) + integer(0)
        + tlv(0x01, b"\x00") + present
        + tlv(0x30, b"".join(octets(a) for a in attributes)),
    )  # fmt: skip


def entry(dn: str, attributes: Sequence[tuple[str, Sequence[bytes | str]]]) -> bytes:
    """SearchResultEntry [APPLICATION 4] { objectName, PartialAttributeList }."""
    items = b"".join(
        tlv(0x30, octets(kind) + tlv(0x31, b"".join(octets(v) for v in values)))
        for kind, values in attributes
    )
    return tlv(0x64, octets(dn) + tlv(0x30, items))


def extended_request(oid: str, value: bytes | None = None) -> bytes:
    """ExtendedRequest [APPLICATION 23] { requestName [0], requestValue [1] OPTIONAL }."""
    return tlv(0x77, octets(oid, 0x80) + (octets(value, 0x81) if value is not None else b""))


# ------------------------------------------------------------------ DRDA

EBCDIC = "cp500"


def ddm(codepoint: int, body: bytes) -> bytes:
    """A DDM object or parameter: 2-byte length (itself included), 2-byte code point."""
    return (4 + len(body)).to_bytes(2, "big") + codepoint.to_bytes(2, "big") + body


def dss(obj: bytes, correlation: int = 1, kind: int = 1, chained: bool = False) -> bytes:
    """A DSS header: length, magic 0xD0, format (chaining bits, type: 1 request, 2 reply,
    3 object), request correlation id; then the DDM object."""
    fmt = (0x40 if chained else 0) | kind
    return (
        (6 + len(obj)).to_bytes(2, "big")
        + bytes([0xD0, fmt])
        + correlation.to_bytes(2, "big")
        + obj
    )


def text(codepoint: int, value: str, encoding: str = EBCDIC) -> bytes:
    return ddm(codepoint, value.encode(encoding))


def manager_levels(levels: Sequence[tuple[int, int]]) -> bytes:
    """MGRLVLLS 0x1404: (manager code point, level) pairs."""
    return ddm(0x1404, b"".join(m.to_bytes(2, "big") + v.to_bytes(2, "big") for m, v in levels))


def excsat(
    extnam: str | None = None,
    srvnam: str | None = None,
    srvclsnm: str | None = None,
    srvrlslv: str | None = None,
    levels: Sequence[tuple[int, int]] = ((0x1403, 7), (0x2407, 7), (0x240F, 7), (0x1440, 7)),
    *,
    reply: bool = False,
    encoding: str = EBCDIC,
) -> bytes:
    """EXCSAT (0x1041) or EXCSATRD (0x1443) with its text parameters."""
    params = b""
    for cp, value in ((0x115E, extnam), (0x116D, srvnam), (0x1147, srvclsnm), (0x115A, srvrlslv)):
        if value is not None:
            params += text(cp, value, encoding)
    params += manager_levels(levels)
    return ddm(0x1443 if reply else 0x1041, params)


def secmec(value: int) -> bytes:
    return ddm(0x11A2, value.to_bytes(2, "big"))
