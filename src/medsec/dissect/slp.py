"""Service Location Protocol: version 1 (RFC 2165) and version 2 (RFC 2608) on UDP and TCP
427. Printers, NAS boxes, VMware ESXi, Novell and HP Jetdirect services announce and answer
service types, URLs and attribute lists (an HP printer's attributes carry its IEEE 1284
device id: ``MFG:Hewlett-Packard;MDL:...;CLS:PRINTER``).

Version 2: version, function, 24-bit length, flags, next extension offset, XID, language tag,
then the function's body of length-prefixed strings. Version 1: version, function, 16-bit
length, flags, dialect, language code, character encoding, XID, then the body. Each message
gives one ``SlpMessage`` (over TCP, the first message of the stream head). Authentication
blocks are skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.infrastructure import SlpMessage

logger = logging.getLogger(__name__)

FUNCTIONS = {
    1: "SrvRqst", 2: "SrvRply", 3: "SrvReg", 4: "SrvDeReg", 5: "SrvAck", 6: "AttrRqst",
    7: "AttrRply", 8: "DAAdvert", 9: "SrvTypeRqst", 10: "SrvTypeRply", 11: "SAAdvert",
}  # fmt: skip
MAX_ATTRIBUTES = 4096
MAX_ENTRIES = 64


class SlpError(DissectError):
    """An SLP message is malformed (unknown version or function, string past the message)."""


class _Reader:
    """Length-prefixed fields of one SLP message body."""

    def __init__(self, data: bytes, pos: int, *, utf16: bool = False) -> None:
        self.data, self.pos, self.utf16 = data, pos, utf16

    def uint(self, size: int) -> int:
        if self.pos + size > len(self.data):
            raise SlpError(f"field at {self.pos} runs past the message")
        value = int.from_bytes(self.data[self.pos : self.pos + size], "big")
        self.pos += size
        return value

    def string(self) -> str:
        length = self.uint(2)
        raw = self.data[self.pos : self.pos + length]
        if len(raw) < length:
            raise SlpError(f"string of {length} bytes at {self.pos} runs past the message")
        self.pos += length
        if self.utf16:
            return raw.decode("utf-16-be", "replace")
        return raw.decode("utf-8", "backslashreplace")

    def url_entry(self, version: int) -> str:
        """v2: reserved, lifetime, URL, auth blocks; v1: lifetime, URL."""
        if version == 2:
            self.uint(1)
        self.uint(2)
        url = self.string()
        if version == 2:
            self.skip_auths()
        return url

    def skip_auths(self) -> None:
        for _ in range(self.uint(1)):
            self.uint(2)  # block structure descriptor
            length = self.uint(2)  # the whole block, BSD and length included
            if length < 4:
                raise SlpError(f"authentication block of {length} bytes")
            self.pos += length - 4
            if self.pos > len(self.data):
                raise SlpError("authentication block runs past the message")


def _split(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())[:MAX_ENTRIES]


class SlpDissector:
    """SLP v1/v2 on UDP and TCP 427."""

    name: ClassVar[str] = "slp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp", "tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({427})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 8192
    datagrams: ClassVar[int] = 4

    def signature(self, head: bytes) -> bool:
        """Version 1 or 2, a known function and a length field equal to the datagram's."""
        if len(head) < 12 or head[1] not in FUNCTIONS:
            return False
        if head[0] == 2:
            return int.from_bytes(head[2:5], "big") == len(head) and len(head) >= 16
        if head[0] == 1:
            # RADIUS has the same first four bytes (code, id, length): SLPv1 also carries a
            # zero dialect and a two-letter language code (RFC 2165 section 7)
            return (
                int.from_bytes(head[2:4], "big") == len(head)
                and head[5] == 0
                and head[6:8].isalpha()
            )
        return False

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) < 12:
            raise SlpError(f"message of {len(payload)} bytes")
        version, function = payload[0], payload[1]
        if version not in (1, 2):
            raise SlpError(f"version {version}")
        name = FUNCTIONS.get(function)
        if name is None:
            raise SlpError(f"function {function}")
        if version == 2:
            length = int.from_bytes(payload[2:5], "big")
            if length < 16 or length > len(payload):
                raise SlpError(f"length {length} in {len(payload)} bytes")
            message = payload[:length]
            reader = _Reader(message, 12)
            language: str | None = reader.string()
        else:
            length = int.from_bytes(payload[2:4], "big")
            if length < 12 or length > len(payload):
                raise SlpError(f"length {length} in {len(payload)} bytes")
            message = payload[:length]
            language = message[6:8].decode("ascii", "replace").strip("\x00") or None
            encoding = int.from_bytes(message[8:10], "big")
            reader = _Reader(message, 12, utf16=encoding == 1000)
        yield self._body(version, function, name, language, reader, ctx)

    @staticmethod
    def _body(
        version: int,
        function: int,
        name: str,
        language: str | None,
        r: _Reader,
        ctx: PacketContext,
    ) -> SlpMessage:
        error: int | None = None
        types: tuple[str, ...] = ()
        urls: list[str] = []
        scopes: tuple[str, ...] = ()
        attributes: str | None = None
        if name == "SrvRqst":
            r.string()  # previous responder list
            if version == 2:
                types = _split(r.string())
                scopes = _split(r.string())
            else:
                request = r.string()  # "service-type/scope/where"
                service_type, _, rest = request.partition("/")
                types = _split(service_type)
                scopes = _split(rest.partition("/")[0])
        elif name == "SrvRply":
            error = r.uint(2)
            urls.extend(r.url_entry(version) for _ in range(min(r.uint(2), MAX_ENTRIES)))
        elif name in ("SrvReg", "SrvDeReg"):
            if version == 2 and name == "SrvDeReg":
                scopes = _split(r.string())
                urls.append(r.url_entry(version))
            else:
                urls.append(r.url_entry(version))
                if version == 2:
                    types = _split(r.string())
                    scopes = _split(r.string())
                attributes = r.string()
        elif name == "SrvAck":
            error = r.uint(2)
        elif name == "AttrRqst":
            r.string()  # previous responder list
            target = r.string()  # a URL or a service type
            if "://" in target or target.count(":") > 2:
                urls.append(target)
            else:
                types = _split(target)
            scopes = _split(r.string())
        elif name == "AttrRply":
            error = r.uint(2)
            attributes = r.string()
        elif name == "DAAdvert":
            error = r.uint(2)
            if version == 2:
                r.uint(4)  # boot timestamp
            urls.append(r.string())
            scopes = _split(r.string())
            if version == 2:
                attributes = r.string()
        elif name == "SrvTypeRqst":
            r.string()  # previous responder list
            authority = r.uint(2)
            if authority != 0xFFFF:
                r.pos += authority
            scopes = _split(r.string())
        elif name == "SrvTypeRply":
            error = r.uint(2)
            if version == 2:
                types = _split(r.string())
            else:
                types = tuple(r.string() for _ in range(min(r.uint(2), MAX_ENTRIES)))
        elif name == "SAAdvert":
            urls.append(r.string())
            scopes = _split(r.string())
            attributes = r.string()
        return SlpMessage(
            ctx=ctx,
            version=version,
            function=function,
            function_name=name,
            language=language,
            error_code=error,
            service_types=types,
            urls=tuple(urls),
            scopes=scopes,
            attributes=None if attributes is None else attributes[:MAX_ATTRIBUTES],
        )
