"""DRDA (The Open Group DRDA Vol. 3, DDM) on TCP 50000 (IBM Db2 for Linux, UNIX and Windows),
446 (the DRDA well-known port: Db2 for z/OS and for i) and 1527 (Apache Derby's network
server).

A stream is a sequence of DSS (data stream structure) segments: a 6-byte header (length,
magic 0xD0, format: chaining flags and the type - 1 request, 2 reply, 3 object, 4
communication, 5 request without reply), then one DDM object (length, code point,
parameters as length/code point/data triples). The head of each direction is walked DSS by
DSS: EXCSAT/EXCSATRD give ``DrdaServerAttributes`` (SRVCLSNM, SRVRLSLV, SRVNAM, EXTNAM,
MGRLVLLS), ACCSEC/ACCSECRD/SECCHK give ``DrdaSecurity`` (SECMEC, whether a user id and a
password were sent - a password in clear, SECMEC 3 or 5, is also stated as
``CleartextCredentials``; it is never read), ACCRDB/ACCRDBRM give ``DrdaAccessRdb`` (PRDID,
TYPDEFNAM). DDM character strings are EBCDIC (CCSID 500) as DRDA specifies; some
implementations send ASCII or UTF-8: each value is decoded as printable ASCII, else
EBCDIC, else UTF-8, else not kept. SQL statements, query data and database names are never
read.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.cleartext import CleartextCredentials
from medsec.model.observations.database import DrdaAccessRdb, DrdaSecurity, DrdaServerAttributes

logger = logging.getLogger(__name__)

PORTS = frozenset({446, 1527, 50000})
MAGIC = 0xD0
DSS_HEADER = 6
MAX_DSS = 64
MAX_PARAMETERS = 64
MAX_TEXT = 255

EXCSAT, EXCSATRD = 0x1041, 0x1443
ACCSEC, ACCSECRD, SECCHK = 0x106D, 0x14AC, 0x106E
ACCRDB, ACCRDBRM = 0x2001, 0x2201
EXTNAM, SRVNAM, SRVCLSNM, SRVRLSLV, MGRLVLLS = 0x115E, 0x116D, 0x1147, 0x115A, 0x1404
USRID, PASSWORD, SECMEC = 0x11A0, 0x11A1, 0x11A2
PRDID, TYPDEFNAM = 0x112E, 0x002F

MANAGERS = {
    0x1403: "AGENT",
    0x143C: "SUPERVISOR",
    0x1440: "SECMGR",
    0x1444: "CMNAPPC",
    0x1458: "DICTIONARY",
    0x1474: "CMNTCPIP",
    0x147C: "CMNSYNCPT",
    0x14C0: "SYNCPTMGR",
    0x14C1: "RSYNCMGR",
    0x14CC: "CCSIDMGR",
    0x1C01: "XAMGR",
    0x1C08: "UNICODEMGR",
    0x2407: "SQLAM",
    0x240F: "RDB",
}
"""DDM manager code points of MGRLVLLS (DRDA Vol. 3, DDM terms of the same names)."""
SECURITY_MECHANISMS = {
    1: "DCESEC",
    3: "USRIDPWD",
    4: "USRIDONL",
    5: "USRIDNWPWD",
    6: "USRSBSPWD",
    7: "USRENCPWD",
    8: "USRSSBPWD",
    9: "EUSRIDPWD",
    10: "EUSRIDNWPWD",
    11: "KERSEC",
    12: "EUSRIDDTA",
    13: "EUSRPWDDTA",
    14: "EUSRNPWDDTA",
    15: "PLGIN",
    16: "EUSRIDONL",
}
"""SECMEC values (DRDA Vol. 3, DDM term SECMEC)."""
CLEAR_PASSWORD_MECHANISMS = frozenset({3, 5})
"""USRIDPWD and USRIDNWPWD: the password (and a new one) cross in clear."""
KNOWN_OBJECTS = frozenset(
    {EXCSAT, EXCSATRD, ACCSEC, ACCSECRD, SECCHK, ACCRDB, ACCRDBRM}
    | {0x1219, 0x220C, 0x2408}  # SECCHKRM, ENDUOWRM, SQLCARD
    | set(range(0x2002, 0x2020))  # SQL application manager commands (OPNQRY, EXCSQLSTT...)
)
"""DDM objects a stream may start with; the signature takes no other first object."""
_PRODUCT_ID = re.compile(r"([A-Z]{3})(\d{2})(\d{2})([0-9A-Z])([0-9A-Z])?")


class DrdaError(DissectError):
    """A DSS or DDM object that breaks DRDA framing."""


def _printable_prefix(text: str) -> str:
    for i, char in enumerate(text):
        if not char.isprintable():
            return text[:i]
    return text


def decode_text(raw: bytes) -> str | None:
    """A DDM character value: EBCDIC (CCSID 500) as DRDA specifies, or ASCII/UTF-8 as some
    implementations send - whichever reads more bytes as printable text from the start (ties
    go to UTF-8); a binary tail (a JDBC driver's EXTNAM ends with a correlation token) is
    cut. Trimmed; None when empty, or when less than 3 printable characters start a value."""
    raw = raw[:MAX_TEXT].rstrip(b"\x00")
    if not raw:
        return None
    try:
        utf8 = _printable_prefix(raw.decode("utf-8"))
    except UnicodeDecodeError:
        utf8 = _printable_prefix(raw.decode("ascii", "replace").replace("\ufffd", "\x00"))
    ebcdic = _printable_prefix(raw.decode("cp500"))
    text = ebcdic if len(ebcdic) > len(utf8.encode()) else utf8  # compared in bytes read
    if len(text) < min(3, len(raw)):
        return None
    return text.strip() or None


def product_id(value: str | None) -> tuple[str | None, str | None]:
    """(ppp, ``vv.rr.m[.f]``) of an IBM product identifier ``pppvvrrm[f]`` (what precedes a
    ``/`` - Derby appends its build); (None, None) for another form."""
    if value is None:
        return None, None
    m = _PRODUCT_ID.fullmatch(value.split("/", 1)[0].strip())
    if m is None:
        return None, None
    code, version, release, modification, fix = m.groups()
    text = f"{int(version)}.{int(release)}.{modification}"
    return code, text + (f".{fix}" if fix else "")


def _dss_header(data: bytes, pos: int) -> tuple[int, int] | None:
    """(DSS length, DDM code point) of a plausible DSS at ``pos`` whose one DDM object fills
    it; None otherwise. The DSS may run past ``data``."""
    if pos + 10 > len(data) or data[pos + 2] != MAGIC:
        return None
    fmt = data[pos + 3]
    if fmt & 0x80 or not 1 <= fmt & 0x0F <= 5:
        return None
    length = int.from_bytes(data[pos : pos + 2], "big")
    ddm_length = int.from_bytes(data[pos + 6 : pos + 8], "big")
    if length & 0x8000 or length < 10 or ddm_length != length - DSS_HEADER:
        return None
    return length, int.from_bytes(data[pos + 8 : pos + 10], "big")


def _parameters(body: bytes) -> dict[int, bytes]:
    """The first value of each parameter (length, code point, data) of a DDM object."""
    found: dict[int, bytes] = {}
    pos = 0
    for _ in range(MAX_PARAMETERS):
        if pos >= len(body):
            break
        if pos + 4 > len(body):
            raise DrdaError("parameter header cut short")
        length = int.from_bytes(body[pos : pos + 2], "big")
        if length < 4 or pos + length > len(body):
            raise DrdaError(f"parameter of length {length} at {pos}")
        found.setdefault(
            int.from_bytes(body[pos + 2 : pos + 4], "big"), body[pos + 4 : pos + length]
        )
        pos += length
    return found


def _manager_levels(raw: bytes) -> tuple[str, ...]:
    pairs = (raw[i : i + 4] for i in range(0, len(raw) - len(raw) % 4, 4))
    return tuple(
        f"{MANAGERS.get(int.from_bytes(p[:2], 'big'), p[:2].hex())}={int.from_bytes(p[2:], 'big')}"
        for p in list(pairs)[:32]
    )


def _mechanisms(raw: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2))[:16]


class DrdaDissector:
    """DRDA on TCP 50000, 446 and 1527 (and wherever a DSS starts a stream)."""

    name: ClassVar[str] = "drda"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = PORTS
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 4096
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """A DSS header (magic 0xD0, a defined format) whose DDM object fills it, and a DDM
        object a conversation starts with (EXCSAT, ACCSEC, their replies...)."""
        header = _dss_header(head, 0)
        return header is not None and header[1] in KNOWN_OBJECTS

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if _dss_header(payload, 0) is None:
            raise DrdaError("not a DSS header")
        out: list[Observation] = []
        pos = 0
        for index in range(MAX_DSS):
            header = _dss_header(payload, pos)
            if header is None:
                break  # the head's end, a continuation, or a large object's extended length
            length, codepoint = header
            if pos + length > len(payload):
                break  # cut
            body = payload[pos + 10 : pos + length]
            pos += length
            try:
                out.extend(_facts(codepoint, body, ctx))
            except DrdaError as exc:
                if index == 0:
                    raise  # the stream's first object is broken
                # a later object stays unread; the facts of the earlier ones stand
                logger.debug("DRDA object %#06x on flow %d: %s", codepoint, ctx.flow_id, exc)
        yield from out


def _facts(codepoint: int, body: bytes, ctx: PacketContext) -> list[Observation]:
    if codepoint in (EXCSAT, EXCSATRD):
        params = _parameters(body)
        release = decode_text(params.get(SRVRLSLV, b""))
        code, version = product_id(release)
        return [
            DrdaServerAttributes(
                ctx=ctx,
                reply=codepoint == EXCSATRD,
                server_class_name=decode_text(params.get(SRVCLSNM, b"")),
                server_release_level=release,
                server_name=decode_text(params.get(SRVNAM, b"")),
                external_name=decode_text(params.get(EXTNAM, b"")),
                product_code=code,
                product_version=version,
                manager_levels=_manager_levels(params.get(MGRLVLLS, b"")),
            )
        ]
    if codepoint in (ACCSEC, ACCSECRD, SECCHK):
        params = _parameters(body)
        numbers = _mechanisms(params.get(SECMEC, b""))
        user = decode_text(params.get(USRID, b""))
        password = bool(params.get(PASSWORD))
        command = {ACCSEC: "ACCSEC", ACCSECRD: "ACCSECRD", SECCHK: "SECCHK"}[codepoint]
        out: list[Observation] = [
            DrdaSecurity(
                ctx=ctx,
                command=command,
                security_mechanisms=tuple(SECURITY_MECHANISMS.get(n, str(n)) for n in numbers),
                user_given=USRID in params,
                password_given=password,
            )
        ]
        if codepoint == SECCHK and password and CLEAR_PASSWORD_MECHANISMS & set(numbers):
            mechanism = SECURITY_MECHANISMS[min(CLEAR_PASSWORD_MECHANISMS & set(numbers))]
            out.append(
                CleartextCredentials(
                    ctx=ctx, protocol="drda", mechanism=f"SECCHK {mechanism}", user=user
                )
            )
        return out
    if codepoint in (ACCRDB, ACCRDBRM):
        params = _parameters(body)
        prdid = decode_text(params.get(PRDID, b""))
        code, version = product_id(prdid)
        return [
            DrdaAccessRdb(
                ctx=ctx,
                reply=codepoint == ACCRDBRM,
                product_id=prdid,
                product_code=code,
                product_version=version,
                type_definition_name=decode_text(params.get(TYPDEFNAM, b"")),
            )
        ]
    return []
