"""LDAP (RFC 4511) on TCP 389 and 3268 (the Active Directory Global Catalog), and
connectionless LDAP on UDP 389 (Active Directory's "LDAP ping", MS-ADTS 3.1.1.3.1.10).

Each direction's head is walked LDAPMessage by LDAPMessage (a BER SEQUENCE of an INTEGER
messageID and an [APPLICATION n] protocolOp). It gives one ``LdapMessages`` (the operations,
so which end is the server and on which port, and whether the sender writes every message
length in four octets as Windows' LDAP does) and facts of the messages that describe their
ends: bind requests (version, authentication kind, SASL mechanism, the form of the bind
name), bind results, extended operations (StartTLS is also stated as ``StartTlsRequest``),
root DSE searches and the root DSE entry a server returns (RFC 3045 vendorName and
vendorVersion, supportedCapabilities, Active Directory functional levels).

A simple bind with a password, or a SASL PLAIN bind, states ``CleartextCredentials``; the
password is never read. Filters and search bases are skipped unread. Parsing is bounded: the
structure walked is fixed (no recursion), BER lengths have at most four octets and must fit
their container, and at most ``MAX_MESSAGES`` messages, ``MAX_ATTRIBUTES`` attributes and
``MAX_VALUES`` values each are read. A head that stops parsing after its first message (a
message cut at the head's end, TLS after StartTLS, SASL-wrapped traffic after a GSSAPI bind)
ends quietly; only a first message that is not an LDAPMessage is malformed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.cleartext import CleartextCredentials, StartTlsRequest
from medsec.model.observations.directory import (
    LdapBindRequest,
    LdapBindResponse,
    LdapExtendedOperation,
    LdapMessages,
    LdapRootDse,
    LdapSearchRequest,
)

logger = logging.getLogger(__name__)

PORTS = frozenset({389, 3268})
MAX_MESSAGES = 64
MAX_ATTRIBUTES = 64
MAX_VALUES = 64
MAX_REQUESTED = 32
MAX_TEXT = 256
START_TLS = "1.3.6.1.4.1.1466.20037"

OPERATIONS = {
    0: "bindRequest",
    1: "bindResponse",
    2: "unbindRequest",
    3: "searchRequest",
    4: "searchResEntry",
    5: "searchResDone",
    6: "modifyRequest",
    7: "modifyResponse",
    8: "addRequest",
    9: "addResponse",
    10: "delRequest",
    11: "delResponse",
    12: "modDNRequest",
    13: "modDNResponse",
    14: "compareRequest",
    15: "compareResponse",
    16: "abandonRequest",
    19: "searchResRef",
    23: "extendedReq",
    24: "extendedResp",
    25: "intermediateResponse",
}
"""protocolOp [APPLICATION n] choices of RFC 4511 4.2 (17, 18, 20-22 are not assigned)."""
PRIMITIVE_OPERATIONS = frozenset({2, 10, 16})
"""unbindRequest (NULL), delRequest (LDAPDN) and abandonRequest (MessageID) are primitive."""
REQUESTS = frozenset({0, 2, 3, 6, 8, 10, 12, 14, 16, 23})
RESULT_NAMES = {
    0: "success",
    1: "operationsError",
    2: "protocolError",
    3: "timeLimitExceeded",
    4: "sizeLimitExceeded",
    5: "compareFalse",
    6: "compareTrue",
    7: "authMethodNotSupported",
    8: "strongerAuthRequired",
    10: "referral",
    11: "adminLimitExceeded",
    12: "unavailableCriticalExtension",
    13: "confidentialityRequired",
    14: "saslBindInProgress",
    16: "noSuchAttribute",
    17: "undefinedAttributeType",
    18: "inappropriateMatching",
    19: "constraintViolation",
    20: "attributeOrValueExists",
    21: "invalidAttributeSyntax",
    32: "noSuchObject",
    33: "aliasProblem",
    34: "invalidDNSyntax",
    36: "aliasDereferencingProblem",
    48: "inappropriateAuthentication",
    49: "invalidCredentials",
    50: "insufficientAccessRights",
    51: "busy",
    52: "unavailable",
    53: "unwillingToPerform",
    54: "loopDetect",
    64: "namingViolation",
    65: "objectClassViolation",
    66: "notAllowedOnNonLeaf",
    67: "notAllowedOnRDN",
    68: "entryAlreadyExists",
    69: "objectClassModsProhibited",
    71: "affectsMultipleDSAs",
    80: "other",
}
"""resultCode names of RFC 4511 4.1.9."""
AUTHENTICATION = {
    0: "simple",
    3: "sasl",
    9: "sicily-discovery",
    10: "sicily-negotiate",
    11: "sicily-response",
}
"""AuthenticationChoice tags: RFC 4511 4.2 (simple [0], sasl [3]) and MS-ADTS 5.1.1.1
(Sicily NTLM binds [9]-[11])."""
SCOPES = {0: "baseObject", 1: "singleLevel", 2: "wholeSubtree"}

_TEXT_ATTRIBUTES = frozenset({"vendorname", "vendorversion", "dnshostname", "servername"})
_INT_ATTRIBUTES = frozenset(
    {"domaincontrollerfunctionality", "domainfunctionality", "forestfunctionality"}
)
_LIST_ATTRIBUTES = frozenset(
    {"supportedcapabilities", "supportedextension", "supportedsaslmechanisms", "objectclass"}
)
"""Root DSE attributes read, by lower-case type (attribute types are case-insensitive)."""
_PRINTABLE = bytes(range(0x20, 0x7F))


class LdapError(DissectError):
    """Bytes that claim to be an LDAPMessage but break BER or RFC 4511."""


# ------------------------------------------------------------------ BER


def _header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(identifier octet, content start, content end) of the element at ``pos``, which must
    end by ``end``. Single-octet tags and definite lengths of at most four octets only."""
    if pos + 2 > end:
        raise LdapError(f"element header at {pos} runs past its container")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise LdapError(f"multi-octet tag at {pos}")
    first = data[pos + 1]
    start = pos + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise LdapError(f"length form {first:#04x} at {pos}")
        if start + count > end:
            raise LdapError(f"length octets at {pos} run past their container")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    stop = start + length
    if stop > end:
        raise LdapError(f"element at {pos} of {length} bytes runs past its container")
    return tag, start, stop


def _expect(data: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    found, start, stop = _header(data, pos, end)
    if found != tag:
        raise LdapError(f"{what}: tag {found:#04x}, expected {tag:#04x}")
    return start, stop


def _integer(raw: bytes) -> int:
    if not 1 <= len(raw) <= 8:
        raise LdapError(f"INTEGER of {len(raw)} octets")
    return int.from_bytes(raw, "big", signed=True)


def _text(raw: bytes, limit: int = MAX_TEXT) -> str | None:
    """Printable text of a string value (UTF-8, control characters escaped), or None."""
    text = raw[:limit].decode("utf-8", "backslashreplace").strip()
    if not text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return None
    return text


def _name(raw: bytes) -> str | None:
    """An attribute type or OID: printable ASCII of at most 64 characters."""
    if not 0 < len(raw) <= 64 or raw.translate(None, _PRINTABLE):
        return None
    return raw.decode("ascii")


def _name_form(name: bytes) -> str | None:
    if not name:
        return None
    if b"=" in name:
        return "dn"
    if b"\\" in name:
        return "domain\\user"
    if b"@" in name:
        return "user@domain"
    return "other"


# ------------------------------------------------------------------ messages


class _Message:
    """One LDAPMessage: its protocolOp number and the content range of the operation."""

    __slots__ = ("end", "op", "op_end", "op_start", "primitive")

    def __init__(self, op: int, primitive: bool, op_start: int, op_end: int, end: int) -> None:
        self.op = op
        self.primitive = primitive
        self.op_start = op_start
        self.op_end = op_end
        self.end = end


def _message(data: bytes, pos: int) -> tuple[_Message, bool]:
    """The LDAPMessage at ``pos`` and whether its length had four length octets."""
    start, end = _expect(data, pos, len(data), 0x30, "LDAPMessage")
    four = data[pos + 1] == 0x84
    id_start, id_end = _expect(data, start, end, 0x02, "messageID")
    if _integer(data[id_start:id_end]) < 0:
        raise LdapError("negative messageID")
    tag, op_start, op_end = _header(data, id_end, end)
    number = tag & 0x1F
    primitive = not tag & 0x20
    if tag & 0xC0 != 0x40 or number not in OPERATIONS:
        raise LdapError(f"protocolOp tag {tag:#04x}")
    if primitive != (number in PRIMITIVE_OPERATIONS):
        raise LdapError(f"protocolOp {OPERATIONS[number]} with the wrong form")
    return _Message(number, primitive, op_start, op_end, end), four


def looks_like_ldap(head: bytes) -> bool:
    """An LDAPMessage starts ``head``: SEQUENCE, messageID, a known protocolOp tag, lengths
    consistent with each other (the message itself may continue past the head)."""
    if len(head) < 7 or head[0] != 0x30:
        return False
    first = head[1]
    if first < 0x80:
        length, pos = first, 2
    else:
        count = first & 0x7F
        if not 1 <= count <= 4 or len(head) < 2 + count:
            return False
        length, pos = int.from_bytes(head[2 : 2 + count], "big"), 2 + count
    end = pos + length
    if length < 5 or head[pos : pos + 1] != b"\x02" or len(head) < pos + 2:
        return False
    id_length = head[pos + 1]
    if not 1 <= id_length <= 4 or head[pos + 2] & 0x80:
        return False
    pos += 2 + id_length
    if pos + 2 > min(end, len(head)):
        return False
    tag = head[pos]
    number = tag & 0x1F
    if tag & 0xC0 != 0x40 or number not in OPERATIONS:
        return False
    if (not tag & 0x20) != (number in PRIMITIVE_OPERATIONS):
        return False
    first = head[pos + 1]
    if first < 0x80:
        op_length, op_start = first, pos + 2
    else:
        count = first & 0x7F
        if not 1 <= count <= 4 or len(head) < pos + 2 + count:
            return False
        op_length = int.from_bytes(head[pos + 2 : pos + 2 + count], "big")
        op_start = pos + 2 + count
    return op_start + op_length <= end


def _cut_operation(data: bytes, pos: int) -> int | None:
    """The protocolOp number of an LDAPMessage that starts well at ``pos`` but whose
    declared length runs past the end of ``data``; None otherwise."""
    head = data[pos:]
    if not looks_like_ldap(head):
        return None
    first = head[1]
    count = first & 0x7F if first >= 0x80 else 0
    length = int.from_bytes(head[2 : 2 + count], "big") if count else first
    if 2 + count + length <= len(head):
        return None  # whole: its error lies inside
    op_at = 2 + count + 2 + head[2 + count + 1]
    return head[op_at] & 0x1F


class LdapDissector:
    """LDAP on TCP 389/3268 and UDP 389 (and wherever an LDAPMessage starts a stream)."""

    name: ClassVar[str] = "ldap"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp", "udp"})
    ports: ClassVar[frozenset[int]] = PORTS
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 8192
    datagrams: ClassVar[int] = 4

    def signature(self, head: bytes) -> bool:
        return looks_like_ldap(head)

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        messages: list[_Message] = []
        cut_ops: list[int] = []
        four_byte = True
        pos = 0
        for _ in range(MAX_MESSAGES):
            if pos >= len(payload):
                break
            try:
                message, four = _message(payload, pos)
            except LdapError:
                cut = _cut_operation(payload, pos)
                if cut is not None:  # the head ends inside this message: its kind only
                    cut_ops.append(cut)
                    four_byte = four_byte and payload[pos + 1] == 0x84
                elif not messages:
                    raise
                break  # else no longer LDAP (TLS after StartTLS, SASL-wrapped messages)
            messages.append(message)
            four_byte = four_byte and four
            pos = message.end
            if message.op == 23 and _extended_name(payload, message) == START_TLS:
                break  # TLS follows
        ops = [m.op for m in messages] + cut_ops
        if all(op in REQUESTS for op in ops):
            role: str | None = "client"
            server_port: int | None = ctx.dst_port
        elif not any(op in REQUESTS for op in ops):
            role, server_port = "server", ctx.src_port
        else:
            role, server_port = None, None
        facts: list[Observation] = [
            LdapMessages(
                ctx=ctx,
                role=role,
                server_port=server_port,
                operations=tuple(OPERATIONS[op] for op in dict.fromkeys(ops)),
                four_byte_lengths=four_byte,
            )
        ]
        seen: set[Observation] = set()
        for message in messages:
            try:
                found = _facts(payload, message, ctx, server_port)
            except LdapError as exc:
                logger.debug("LDAP %s on flow %d: %s", OPERATIONS[message.op], ctx.flow_id, exc)
                continue  # one odd operation does not spoil the others
            for fact in found:
                if fact not in seen:
                    seen.add(fact)
                    facts.append(fact)
        yield from facts


def _extended_name(data: bytes, message: _Message) -> str | None:
    """requestName of an ExtendedRequest ([0] LDAPOID), None if it does not parse."""
    try:
        start, stop = _expect(data, message.op_start, message.op_end, 0x80, "requestName")
    except LdapError:
        return None
    return _name(data[start:stop])


def _facts(
    data: bytes, message: _Message, ctx: PacketContext, server_port: int | None
) -> list[Observation]:
    op = message.op
    if op == 0:
        return _bind_request(data, message.op_start, message.op_end, ctx, server_port)
    if op == 1:
        return [_bind_response(data, message.op_start, message.op_end, ctx, server_port)]
    if op == 3:
        return [_search_request(data, message.op_start, message.op_end, ctx, server_port)]
    if op == 4:
        entry = _root_dse(data, message.op_start, message.op_end, ctx, server_port)
        return [entry] if entry is not None else []
    if op == 23:
        name = _extended_name(data, message)
        out: list[Observation] = [
            LdapExtendedOperation(ctx=ctx, response=False, name=name, server_port=server_port)
        ]
        if name == START_TLS:
            out.append(StartTlsRequest(ctx=ctx, protocol="ldap", command=START_TLS))
        return out
    if op == 24:
        code, _, _, pos = _result(data, message.op_start, message.op_end)
        name = None
        while pos < message.op_end:
            tag, start, stop = _header(data, pos, message.op_end)
            if tag == 0x8A:  # responseName [10]
                name = _name(data[start:stop])
            pos = stop
        return [
            LdapExtendedOperation(
                ctx=ctx, response=True, name=name, result_code=code, server_port=server_port
            )
        ]
    return []


def _bind_request(
    data: bytes, pos: int, end: int, ctx: PacketContext, server_port: int | None
) -> list[Observation]:
    start, stop = _expect(data, pos, end, 0x02, "version")
    version = _integer(data[start:stop])
    if not 1 <= version <= 127:
        raise LdapError(f"bind version {version}")
    start, stop = _expect(data, stop, end, 0x04, "bind name")
    name = data[start:stop]
    tag, start, stop = _header(data, stop, end)
    if tag & 0xC0 != 0x80:
        raise LdapError(f"authentication tag {tag:#04x}")
    number = tag & 0x1F
    authentication = AUTHENTICATION.get(number, f"[{number}]")
    mechanism: str | None = None
    password = False
    user = _text(name)
    out: list[Observation] = []
    if number == 0 and tag == 0x80:  # simple [0] OCTET STRING: the password, never read
        password = stop > start
        if password:
            out.append(
                CleartextCredentials(ctx=ctx, protocol="ldap", mechanism="simple bind", user=user)
            )
    elif number == 3 and tag == 0xA3:  # SaslCredentials: mechanism, credentials OPTIONAL
        m_start, m_stop = _expect(data, start, stop, 0x04, "SASL mechanism")
        mechanism = _name(data[m_start:m_stop])
        if mechanism is not None and mechanism.upper() == "PLAIN" and m_stop < stop:
            c_start, c_stop = _expect(data, m_stop, stop, 0x04, "SASL credentials")
            # RFC 4616: authzid NUL authcid NUL passwd; the authcid is the user
            parts = data[c_start:c_stop].split(b"\x00")
            if len(parts) == 3 and parts[2]:
                out.append(
                    CleartextCredentials(
                        ctx=ctx, protocol="ldap", mechanism="SASL PLAIN", user=_text(parts[1])
                    )
                )
    out.insert(
        0,
        LdapBindRequest(
            ctx=ctx,
            version=version,
            authentication=authentication,
            name_form=_name_form(name),
            password_given=password,
            sasl_mechanism=mechanism,
            server_port=server_port,
        ),
    )
    return out


def _result(data: bytes, pos: int, end: int) -> tuple[int, bytes, bytes, int]:
    """LDAPResult components: resultCode, matchedDN, diagnosticMessage, the position after."""
    start, stop = _expect(data, pos, end, 0x0A, "resultCode")
    code = _integer(data[start:stop])
    start, stop = _expect(data, stop, end, 0x04, "matchedDN")
    matched = data[start:stop]
    start, stop = _expect(data, stop, end, 0x04, "diagnosticMessage")
    return code, matched, data[start:stop], stop


def _bind_response(
    data: bytes, pos: int, end: int, ctx: PacketContext, server_port: int | None
) -> LdapBindResponse:
    code, matched, diagnostic, _ = _result(data, pos, end)
    message = _text(diagnostic, 201)
    return LdapBindResponse(
        ctx=ctx,
        result_code=code,
        result_name=RESULT_NAMES.get(code),
        matched_dn_given=bool(matched),
        diagnostic_message=message if message is not None and len(message) <= 200 else None,
        server_port=server_port,
    )


def _search_request(
    data: bytes, pos: int, end: int, ctx: PacketContext, server_port: int | None
) -> LdapSearchRequest:
    start, stop = _expect(data, pos, end, 0x04, "baseObject")
    base_empty = start == stop
    start, stop = _expect(data, stop, end, 0x0A, "scope")
    scope_value = _integer(data[start:stop])
    for what, tag in (("derefAliases", 0x0A), ("sizeLimit", 0x02), ("timeLimit", 0x02)):
        _, stop = _expect(data, stop, end, tag, what)
    _, stop = _expect(data, stop, end, 0x01, "typesOnly")
    tag, _, stop = _header(data, stop, end)  # the filter: skipped, it names users
    if tag & 0xC0 != 0x80:
        raise LdapError(f"filter tag {tag:#04x}")
    start, stop = _expect(data, stop, end, 0x30, "attributes")
    attributes: list[str] = []
    at = start
    while at < stop and len(attributes) < MAX_REQUESTED:
        a_start, a_stop = _expect(data, at, stop, 0x04, "attribute selector")
        name = _name(data[a_start:a_stop])
        if name is not None:
            attributes.append(name)
        at = a_stop
    return LdapSearchRequest(
        ctx=ctx,
        root_dse=base_empty and scope_value == 0,
        scope=SCOPES.get(scope_value, f"[{scope_value}]"),
        attributes=tuple(attributes),
        server_port=server_port,
    )


def _values(data: bytes, pos: int, end: int) -> list[bytes]:
    """The values of a SET OF AttributeValue (at most ``MAX_VALUES``)."""
    start, stop = _expect(data, pos, end, 0x31, "vals")
    out: list[bytes] = []
    at = start
    while at < stop and len(out) < MAX_VALUES:
        v_start, v_stop = _expect(data, at, stop, 0x04, "AttributeValue")
        out.append(data[v_start:v_stop])
        at = v_stop
    return out


def _root_dse(
    data: bytes, pos: int, end: int, ctx: PacketContext, server_port: int | None
) -> LdapRootDse | None:
    """The root DSE entry (objectName empty), else None: other entries are never read."""
    start, stop = _expect(data, pos, end, 0x04, "objectName")
    if stop > start:
        return None
    start, stop = _expect(data, stop, end, 0x30, "PartialAttributeList")
    names: list[str] = []
    texts: dict[str, str | None] = {}
    numbers: dict[str, int] = {}
    lists: dict[str, tuple[str, ...]] = {}
    versions: list[int] = []
    global_catalog: bool | None = None
    at = start
    while at < stop and len(names) < MAX_ATTRIBUTES:
        a_start, a_stop = _expect(data, at, stop, 0x30, "PartialAttribute")
        at = a_stop
        t_start, t_stop = _expect(data, a_start, a_stop, 0x04, "attribute type")
        kind = _name(data[t_start:t_stop])
        if kind is None:
            continue
        names.append(kind)
        values = _values(data, t_stop, a_stop)
        key = kind.lower()
        if key in _TEXT_ATTRIBUTES and values:
            texts.setdefault(key, _text(values[0]))
        elif key in _INT_ATTRIBUTES and values and values[0].isdigit() and len(values[0]) < 10:
            numbers.setdefault(key, int(values[0]))
        elif key in _LIST_ATTRIBUTES:
            lists.setdefault(key, tuple(n for n in map(_name, values) if n is not None))
        elif key == "supportedldapversion":
            versions.extend(int(v) for v in values if v.isdigit() and len(v) < 4)
        elif key == "isglobalcatalogready" and values and global_catalog is None:
            global_catalog = {b"TRUE": True, b"FALSE": False}.get(values[0].upper())
    return LdapRootDse(
        ctx=ctx,
        attribute_names=tuple(names),
        vendor_name=texts.get("vendorname"),
        vendor_version=texts.get("vendorversion"),
        dns_host_name=texts.get("dnshostname"),
        server_name=texts.get("servername"),
        domain_controller_functionality=numbers.get("domaincontrollerfunctionality"),
        domain_functionality=numbers.get("domainfunctionality"),
        forest_functionality=numbers.get("forestfunctionality"),
        is_global_catalog_ready=global_catalog,
        supported_ldap_versions=tuple(versions),
        supported_capabilities=lists.get("supportedcapabilities", ()),
        supported_extensions=lists.get("supportedextension", ()),
        supported_sasl_mechanisms=lists.get("supportedsaslmechanisms", ()),
        object_classes=lists.get("objectclass", ()),
        server_port=server_port,
    )
