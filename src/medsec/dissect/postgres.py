"""PostgreSQL frontend/backend protocol 3.0 on TCP 5432: the start of a connection.

Client side: the first message - StartupMessage (protocol version and parameters: ``user``,
``database``, ``application_name``, ``client_encoding``...), SSLRequest, GSSENCRequest or
CancelRequest - and the kind of the password message that follows it (``md5``, SASL, or a
cleartext password, stated as ``CleartextCredentials``); the database name and every
password are never kept. Server side: the answer to SSLRequest/GSSENCRequest, the
authentication it asks for, ParameterStatus ``server_version``/``server_encoding`` and the
SQLSTATE of an ErrorResponse (PostgreSQL documentation, chapter 55 "Frontend/Backend
Protocol", Message Formats).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.cleartext import CleartextCredentials
from medsec.model.observations.services import PostgresServerResponse, PostgresStartup

logger = logging.getLogger(__name__)

PROTOCOL_3 = 196608
"""StartupMessage protocol version 3.0 (3 << 16)."""
REQUESTS = {80877103: "ssl", 80877104: "gssenc", 80877102: "cancel"}
MAX_PARAMETERS = 32
MAX_MESSAGES = 64
"""Backend messages walked at the start of a stream."""
MAX_STARTUP = 10000
"""Longest StartupMessage accepted (the server's own limit is 10000 bytes)."""
AUTHENTICATION = {
    0: "ok",
    2: "kerberos5",
    3: "cleartext",
    5: "md5",
    6: "scm",
    7: "gss",
    9: "sspi",
    10: "sasl",
}
_BACKEND_TYPES = frozenset(b"RSKZENCTDIs123nvtAGHW")
_MD5 = re.compile(rb"md5[0-9a-f]{32}\x00\Z")
_SASL_MECHANISM = re.compile(rb"[A-Z0-9-]{4,40}(?:-PLUS)?\x00")


class PostgresError(DissectError):
    """A PostgreSQL protocol message that breaks its format."""


def _text(raw: bytes, limit: int = 128) -> str:
    return raw[:limit].decode("utf-8", "backslashreplace")


def _password_kind(body: bytes) -> str | None:
    """``md5``, ``sasl`` or ``cleartext`` for the body of a PasswordMessage-family 'p'
    message sent right after the startup; None for a binary GSSAPI/SSPI token."""
    if _MD5.match(body):
        return "md5"
    sasl = _SASL_MECHANISM.match(body)
    if sasl and len(body) >= sasl.end() + 4:
        return "sasl"
    if body.endswith(b"\x00") and body.count(b"\x00") == 1 and body[:-1].isascii():
        return "cleartext"
    return None


def parse_startup(payload: bytes, ctx: PacketContext) -> list[Observation]:
    length = int.from_bytes(payload[:4], "big")
    code = int.from_bytes(payload[4:8], "big")
    if code in REQUESTS:
        out: list[Observation] = [PostgresStartup(ctx=ctx, request=REQUESTS[code])]
        rest = payload[length:]
        if code == 80877103 and len(rest) >= 8 and rest[0] == 0:
            out.extend(parse_startup(rest, ctx))  # the server refused TLS ('N')
        return out
    if code != PROTOCOL_3 and code >> 16 != 3:
        raise PostgresError(f"protocol version {code >> 16}.{code & 0xFFFF}")
    if length < 9 or length > MAX_STARTUP:
        raise PostgresError(f"startup message length {length}")
    body = payload[8:length]
    params: dict[str, bytes] = {}
    names: list[str] = []
    parts = body.split(b"\x00")
    for i in range(0, min(len(parts) - 1, 2 * MAX_PARAMETERS), 2):
        if not parts[i]:
            break
        name = _text(parts[i], 64)
        names.append(name)
        params[name] = parts[i + 1] if i + 1 < len(parts) else b""
    kind: str | None = None
    after = payload[length:]
    if after[:1] == b"p" and len(after) >= 5:
        size = int.from_bytes(after[1:5], "big")
        if 4 <= size <= 1024 and len(after) >= 1 + size:
            kind = _password_kind(after[5 : 1 + size])
    user = _text(params["user"]) if "user" in params else None
    out = [
        PostgresStartup(
            ctx=ctx,
            request="startup",
            protocol_version=f"{code >> 16}.{code & 0xFFFF}",
            parameter_names=tuple(names),
            user=user,
            database_given="database" in params,
            application_name=_text(params["application_name"])
            if "application_name" in params
            else None,
            client_encoding=_text(params["client_encoding"], 32)
            if "client_encoding" in params
            else None,
            password_message=kind,
        )
    ]
    if kind == "cleartext":
        out.append(
            CleartextCredentials(
                ctx=ctx, protocol="postgres", mechanism="PasswordMessage", user=user
            )
        )
    return out


def parse_backend(payload: bytes, ctx: PacketContext) -> PostgresServerResponse | None:
    pos = 0
    answer: str | None = None
    if payload[:1] in (b"S", b"N", b"G") and (len(payload) == 1 or payload[1] != 0):
        answer = chr(payload[0])
        if answer != "N":
            return PostgresServerResponse(ctx=ctx, encryption_answer=answer)
        pos = 1
    auth: str | None = None
    mechanisms: tuple[str, ...] = ()
    status: dict[str, str] = {}
    error: str | None = None
    for _ in range(MAX_MESSAGES):
        if pos + 5 > len(payload):
            break
        kind = payload[pos]
        size = int.from_bytes(payload[pos + 1 : pos + 5], "big")
        if kind not in _BACKEND_TYPES or size < 4:
            if pos == 0 and answer is None:
                return None  # not a backend stream
            raise PostgresError(f"backend message {kind:#x} of length {size}")
        end = pos + 1 + size
        if end > len(payload):
            break
        body = payload[pos + 5 : end]
        if kind == ord("R") and len(body) >= 4:
            code = int.from_bytes(body[:4], "big")
            if code in AUTHENTICATION and auth is None:
                auth = AUTHENTICATION[code]
                if code == 10:
                    mechanisms = tuple(_text(m, 40) for m in body[4:].split(b"\x00")[:8] if m)
        elif kind == ord("S"):
            name, _, value = body.partition(b"\x00")
            if name in (b"server_version", b"server_encoding"):
                status[name.decode()] = _text(value.rstrip(b"\x00"))
        elif kind == ord("E"):
            for field in body.split(b"\x00")[:32]:
                if field[:1] == b"C":
                    error = _text(field[1:], 5)
                    break
        elif kind == ord("Z"):
            break
        pos = end
    if answer is None and auth is None and not status and error is None:
        return None
    return PostgresServerResponse(
        ctx=ctx,
        encryption_answer=answer,
        authentication=auth,
        sasl_mechanisms=mechanisms,
        server_version=status.get("server_version"),
        server_encoding=status.get("server_encoding"),
        error_code=error,
    )


class PostgresDissector:
    """PostgreSQL connection start on TCP 5432 (and wherever a StartupMessage or SSLRequest
    starts a stream)."""

    name: ClassVar[str] = "postgres"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({5432})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 4096
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """A StartupMessage (version 3.0) or an SSL/GSSENC/cancel request."""
        if len(head) < 8:
            return False
        length = int.from_bytes(head[:4], "big")
        code = int.from_bytes(head[4:8], "big")
        if code in REQUESTS:
            return length == (16 if code == 80877102 else 8)
        return code == PROTOCOL_3 and 9 <= length <= MAX_STARTUP and head[8:9].isalpha()

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) >= 8 and payload[0] == 0:
            yield from parse_startup(payload, ctx)
            return
        response = parse_backend(payload, ctx)
        if response is not None:
            yield response
