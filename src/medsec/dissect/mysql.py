"""MySQL / MariaDB client/server protocol on TCP 3306: the connection phase.

The server speaks first with its initial handshake (Protocol::HandshakeV10: protocol version,
server version string, capabilities, default auth plugin); the client answers with
Protocol::HandshakeResponse41 (capabilities, user name, auth plugin, connection attributes
such as ``_os``, ``_client_name``, ``_client_version``, ``program_name``) or, when it wants
TLS, a 32-byte SSLRequest after which everything is encrypted. The auth response (a scramble,
or the password itself with ``mysql_clear_password``) is skipped, never kept; a
``mysql_clear_password`` login outside TLS is stated as ``CleartextCredentials``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.cleartext import CleartextCredentials
from medsec.model.observations.services import MysqlClientHandshake, MysqlServerGreeting

logger = logging.getLogger(__name__)

CLIENT_CONNECT_WITH_DB = 0x00000008
CLIENT_PROTOCOL_41 = 0x00000200
CLIENT_SSL = 0x00000800
CLIENT_SECURE_CONNECTION = 0x00008000
CLIENT_PLUGIN_AUTH = 0x00080000
CLIENT_CONNECT_ATTRS = 0x00100000
CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 0x00200000
MAX_ATTRIBUTES = 32
"""Connection attributes read from one handshake response."""
_KEPT_ATTRIBUTES = {
    "_os": "client_os",
    "_client_name": "client_name",
    "_client_version": "client_version",
    "_platform": "platform",
    "program_name": "program_name",
}


class MysqlError(DissectError):
    """A MySQL connection-phase packet that breaks its format."""


def _text(raw: bytes, limit: int = 128) -> str:
    return raw[:limit].decode("utf-8", "backslashreplace")


class _Reader:
    """Bounds-checked reads over one packet payload."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise MysqlError("packet cut short")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "little")

    def cstring(self) -> bytes:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise MysqlError("string without its NUL")
        out = self.data[self.pos : end]
        self.pos = end + 1
        return out

    def lenenc(self) -> int:
        first = self.uint(1)
        if first < 0xFB:
            return first
        if first == 0xFC:
            return self.uint(2)
        if first == 0xFD:
            return self.uint(3)
        if first == 0xFE:
            return self.uint(8)
        raise MysqlError(f"length-encoded integer starts with {first:#x}")

    def lenenc_bytes(self) -> bytes:
        return self.take(self.lenenc())

    @property
    def left(self) -> int:
        return len(self.data) - self.pos


def _packet(data: bytes) -> tuple[int, bytes] | None:
    """Sequence id and payload of the first packet; None when the head is cut short."""
    if len(data) < 4:
        return None
    length = int.from_bytes(data[:3], "little")
    if len(data) < 4 + length:
        return None
    return data[3], data[4 : 4 + length]


def _looks_like_greeting(head: bytes) -> bool:
    if len(head) < 8 or head[3] != 0 or head[4] not in (9, 10):
        return False
    length = int.from_bytes(head[:3], "little")
    version = head[5 : 5 + 48]
    end = version.find(b"\x00")
    return (
        16 <= length <= 1024
        and end >= 1
        and version[:1].isdigit()
        and all(0x20 <= b < 0x7F for b in version[:end])
    )


def parse_greeting(payload: bytes, ctx: PacketContext) -> MysqlServerGreeting:
    r = _Reader(payload)
    protocol = r.uint(1)
    version = _text(r.cstring())
    r.take(4)  # connection id
    if protocol == 9:
        return MysqlServerGreeting(
            ctx=ctx, protocol_version=9, server_version=version, capability_flags=0
        )
    r.take(8)  # auth-plugin-data-part-1 (scramble): not kept
    r.take(1)  # filler
    caps = r.uint(2)
    charset: int | None = None
    plugin: str | None = None
    if r.left >= 16:
        charset = r.uint(1)
        r.take(2)  # status flags
        caps |= r.uint(2) << 16
        data_len = r.uint(1)
        r.take(10)  # reserved
        if caps & CLIENT_SECURE_CONNECTION:
            r.take(min(max(13, data_len - 8), r.left))  # auth-plugin-data-part-2
        if caps & CLIENT_PLUGIN_AUTH and r.left:
            end = payload.find(b"\x00", r.pos)
            plugin = _text(payload[r.pos : end if end >= 0 else len(payload)], 64) or None
    return MysqlServerGreeting(
        ctx=ctx,
        protocol_version=protocol,
        server_version=version,
        capability_flags=caps,
        character_set=charset,
        auth_plugin_name=plugin,
    )


def parse_response(payload: bytes, ctx: PacketContext) -> list[Observation]:
    r = _Reader(payload)
    caps = r.uint(2)
    if not caps & CLIENT_PROTOCOL_41:
        r.take(3)  # max packet size (HandshakeResponse320)
        user = _text(r.cstring())
        return [MysqlClientHandshake(ctx=ctx, capability_flags=caps, ssl_request=False, user=user)]
    caps |= r.uint(2) << 16
    r.take(4 + 1 + 23)  # max packet size, character set, filler
    if caps & CLIENT_SSL and r.left == 0:
        return [MysqlClientHandshake(ctx=ctx, capability_flags=caps, ssl_request=True)]
    user = _text(r.cstring())
    if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
        r.lenenc_bytes()  # auth response: skipped, never kept
    elif caps & CLIENT_SECURE_CONNECTION:
        r.take(r.uint(1))
    else:
        r.cstring()
    database = False
    if caps & CLIENT_CONNECT_WITH_DB and r.left:
        r.cstring()
        database = True
    plugin: str | None = None
    if caps & CLIENT_PLUGIN_AUTH and r.left:
        plugin = _text(r.cstring(), 64) or None
    names: list[str] = []
    kept: dict[str, str] = {}
    if caps & CLIENT_CONNECT_ATTRS and r.left:
        attrs = _Reader(r.lenenc_bytes())
        for _ in range(MAX_ATTRIBUTES):
            if not attrs.left:
                break
            key = _text(attrs.lenenc_bytes(), 64)
            value = attrs.lenenc_bytes()
            names.append(key)
            if key in _KEPT_ATTRIBUTES:
                kept[_KEPT_ATTRIBUTES[key]] = _text(value)
    out: list[Observation] = [
        MysqlClientHandshake(
            ctx=ctx,
            capability_flags=caps,
            ssl_request=False,
            user=user,
            database_given=database,
            auth_plugin_name=plugin,
            attribute_names=tuple(names),
            **kept,
        )
    ]
    if plugin == "mysql_clear_password":
        out.append(
            CleartextCredentials(
                ctx=ctx, protocol="mysql", mechanism="mysql_clear_password", user=user
            )
        )
    return out


class MysqlDissector:
    """MySQL / MariaDB connection phase on TCP 3306 (and wherever a server greeting starts
    the stream)."""

    name: ClassVar[str] = "mysql"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({3306})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 2048
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """A HandshakeV10/V9 packet: sequence 0, protocol 9/10, a printable version string
        starting with a digit."""
        return _looks_like_greeting(head)

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        first = _packet(payload)
        if first is None:
            return
        seq, body = first
        if not body:
            raise MysqlError("empty packet")
        if seq == 0 and body[0] in (9, 10):
            yield parse_greeting(body, ctx)
        elif seq == 1:
            yield from parse_response(body, ctx)
