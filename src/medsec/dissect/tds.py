"""Microsoft SQL Server TDS ([MS-TDS]) on TCP 1433: packet types, PRELOGIN and LOGIN7.

A client opens with PRELOGIN (its library VERSION, the ENCRYPTION it offers, the instance
name) and the server answers in a tabular-result packet with its product VERSION
(``15.0.4153`` = SQL Server 2019) and the ENCRYPTION it chose. What follows is usually a TLS
handshake and an encrypted LOGIN7; only when encryption is not supported does LOGIN7 cross
in clear - then the client's host, application and library names are read and, for SQL
authentication, ``CleartextCredentials`` is stated (LOGIN7 only scrambles the password; it
is never read). The packet types a direction starts with say which end is the server
(tabular results) and which the client (SQL batches, RPC). TDS 8.0 (TLS first) gives
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.cleartext import CleartextCredentials
from medsec.model.observations.services import TdsLogin, TdsPackets, TdsPrelogin

logger = logging.getLogger(__name__)

PACKET_TYPES = {
    1: "sql-batch",
    2: "pre-tds7-login",
    3: "rpc",
    4: "tabular-result",
    6: "attention",
    7: "bulk-load",
    8: "fedauth-token",
    14: "transaction-manager",
    16: "login7",
    17: "sspi",
    18: "prelogin",
}
PRELOGIN = 18
LOGIN7 = 16
TABULAR_RESULT = 4
HEADER = 8
MAX_PACKETS = 16
"""Packets walked at the start of a stream."""
MAX_OPTIONS = 16
"""PRELOGIN option tokens read."""
ENCRYPTION = {0: "off", 1: "on", 2: "not-supported", 3: "required"}
_LOGIN_FIELDS = (
    "hostname",
    "user",
    "password",
    "app_name",
    "server_name",
    "extension",
    "library_name",
)
"""LOGIN7 offset/length pairs from ibHostName, in order ([MS-TDS] 2.2.6.4)."""


class TdsError(DissectError):
    """A TDS packet, PRELOGIN or LOGIN7 record that breaks its format."""


def _header(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(type, status, length) of a plausible packet header at ``pos``."""
    if pos + HEADER > len(data):
        return None
    kind, status = data[pos], data[pos + 1]
    length = int.from_bytes(data[pos + 2 : pos + 4], "big")
    if kind not in PACKET_TYPES or status > 0x1F or not HEADER <= length <= 32768:
        return None
    return kind, status, length


def parse_prelogin(payload: bytes, ctx: PacketContext, *, response: bool) -> TdsPrelogin:
    options: dict[int, bytes] = {}
    pos = 0
    for _ in range(MAX_OPTIONS):
        if pos >= len(payload):
            raise TdsError("PRELOGIN option list without its terminator")
        token = payload[pos]
        if token == 0xFF:
            break
        if pos + 5 > len(payload):
            raise TdsError("PRELOGIN option cut short")
        offset = int.from_bytes(payload[pos + 1 : pos + 3], "big")
        length = int.from_bytes(payload[pos + 3 : pos + 5], "big")
        if offset + length > len(payload):
            raise TdsError(f"PRELOGIN option {token} beyond the packet")
        options.setdefault(token, payload[offset : offset + length])
        pos += 5
    version: str | None = None
    raw = options.get(0, b"")
    if len(raw) >= 6:
        build = int.from_bytes(raw[2:4], "big")
        sub = int.from_bytes(raw[4:6], "little")
        version = f"{raw[0]}.{raw[1]}.{build}.{sub}"
    encryption: str | None = None
    if options.get(1):
        value = options[1][0]
        encryption = ENCRYPTION.get(value & 0x7F, f"{value:#x}")
        if value & 0x80:
            encryption = "client-cert"
    instance = options.get(2, b"").split(b"\x00", 1)[0]
    mars = options.get(4)
    return TdsPrelogin(
        ctx=ctx,
        response=response,
        version=version,
        encryption=encryption,
        instance=instance[:128].decode("latin-1") or None,
        mars=bool(mars[0]) if mars else None,
    )


def parse_login7(payload: bytes, ctx: PacketContext) -> list[Observation]:
    if len(payload) < 36 + 4 * len(_LOGIN_FIELDS):
        raise TdsError("LOGIN7 shorter than its fixed part")
    length = int.from_bytes(payload[:4], "little")
    if length > len(payload) or length < 36 + 4 * len(_LOGIN_FIELDS):
        raise TdsError(f"LOGIN7 length {length}")
    values: dict[str, str | None] = {}
    sizes: dict[str, int] = {}
    for i, field in enumerate(_LOGIN_FIELDS):
        at = 36 + 4 * i
        offset = int.from_bytes(payload[at : at + 2], "little")
        chars = int.from_bytes(payload[at + 2 : at + 4], "little")
        sizes[field] = chars
        if field in ("password", "extension"):
            continue  # the password is never read
        end = offset + 2 * chars
        if chars and end > length:
            raise TdsError(f"LOGIN7 {field} beyond the record")
        text = payload[offset:end].decode("utf-16-le", "backslashreplace")[:128]
        values[field] = text or None
    integrated = bool(payload[25] & 0x80)  # OptionFlags2.fIntSecurity
    login = TdsLogin(
        ctx=ctx,
        tds_version=payload[4:8][::-1].hex(),
        client_program_version=payload[12:16][::-1].hex(),
        hostname=values["hostname"],
        user=values["user"],
        app_name=values["app_name"],
        server_name=values["server_name"],
        library_name=values["library_name"],
        integrated_security=integrated,
    )
    out: list[Observation] = [login]
    if sizes["password"] and not integrated:
        out.append(
            CleartextCredentials(ctx=ctx, protocol="tds", mechanism="LOGIN7", user=login.user)
        )
    return out


class TdsDissector:
    """TDS on TCP 1433 (and wherever a PRELOGIN or LOGIN7 packet starts a stream)."""

    name: ClassVar[str] = "tds"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({1433})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 4096
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """TDS packets back to back (window 0; a whole first packet, a later one possibly
        cut), or a PRELOGIN/LOGIN7 packet."""
        pos = 0
        for index in range(MAX_PACKETS):
            header = _header(head, pos)
            if header is None or head[pos + 7] != 0:
                return False
            pos += header[2]
            if pos >= len(head):
                return pos == len(head) or index > 0 or header[0] in (PRELOGIN, LOGIN7)
        return True

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if payload[:1] in (b"\x16", b"\x17"):
            return  # TDS 8.0: TLS from the first byte
        if _header(payload, 0) is None:
            raise TdsError("not a TDS packet header")
        kinds: list[int] = []
        out: list[Observation] = []
        login = b""
        login_done = False
        pos = 0
        for index in range(MAX_PACKETS):
            header = _header(payload, pos)
            if header is None:
                break  # TLS records or the end of the stream head
            kind, status, length = header
            body = payload[pos + HEADER : pos + length]
            cut = pos + length > len(payload)
            if kind not in kinds:
                kinds.append(kind)
            if index == 0 and kind == PRELOGIN and not cut:
                out.append(parse_prelogin(body, ctx, response=False))
            elif index == 0 and kind == TABULAR_RESULT and body[:1] in bytes(range(9)) and not cut:
                out.append(parse_prelogin(body, ctx, response=True))
            elif kind == LOGIN7 and not login_done:
                login += body
                if status & 0x01 and not cut:
                    out.extend(parse_login7(login, ctx))
                    login_done = True
            if cut:
                break
            pos += length
        yield from out
        yield TdsPackets(ctx=ctx, packet_types=tuple(PACKET_TYPES[k] for k in kinds))
