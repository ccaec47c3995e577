"""SSH: identification strings (RFC 4253 §4.2) and the first KEXINIT (§7.1) of each side.

A server may send other lines before its identification string; up to a few are skipped.
The KEXINIT follows in clear in the first binary packet; its lists give HASSH (client) or
HASSH-S (server) fingerprints (github.com/salesforce/hassh).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.ssh import SshBanner, SshKexInit

logger = logging.getLogger(__name__)


class SshError(DissectError):
    """An SSH identification string or KEXINIT packet that breaks its format."""


_MAX_LINE = 255  # RFC 4253 §4.2, CR LF included
_MAX_PRE_LINES = 16
_MSG_KEXINIT = 20
_MAX_PACKET = 35000  # RFC 4253 §6.1
_MAX_LIST = 4096
_PRODUCT = re.compile(r"(.*?)[_-]v?(\d[\w.+~-]*)")


class SshDissector:
    """SSH banners and key-exchange offers, on any port where ``SSH-`` starts the stream."""

    name: ClassVar[str] = "ssh"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({22, 2222, 830})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 4096
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """The identification string ``SSH-<digit>``."""
        return head.startswith(b"SSH-") and len(head) > 4 and head[4:5].isdigit()

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        out: list[Observation] = []
        try:
            _walk(payload, ctx, out)
        except DissectError:
            if not out:
                raise
            logger.debug("ssh flow %d: malformed after the banner", ctx.flow_id)
        yield from out


def _walk(data: bytes, ctx: PacketContext, out: list[Observation]) -> None:
    pos = 0
    for _ in range(_MAX_PRE_LINES + 1):
        end = data.find(b"\n", pos, pos + 1024)
        if end < 0:
            if data.startswith(b"SSH-", pos) and len(data) - pos >= 1024:
                raise SshError("identification string without end of line")
            return  # no complete line here (not SSH, or cut short)
        line = data[pos:end].rstrip(b"\r")
        if line.startswith(b"SSH-"):
            found = banner(line, ctx)
            out.append(found)
            if found.protocol_version in ("2.0", "1.99"):
                _kexinit(data, end + 1, ctx, out)
            return
        if not _printable(line):
            return  # binary: not the text lines a server may send before its banner
        pos = end + 1


_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t"


def _printable(line: bytes) -> bool:
    """Only printable ASCII and tabs (nothing left once those are deleted)."""
    return not line.translate(None, _PRINTABLE)


def banner(line: bytes, ctx: PacketContext) -> SshBanner:
    """An ``SshBanner`` from an identification line (without CR LF)."""
    if len(line) > _MAX_LINE or not _printable(line):
        raise SshError("identification string too long or not printable ASCII")
    text = line.decode("ascii")
    parts = text[4:].split("-", 1)
    if len(parts) != 2 or not parts[0]:
        raise SshError(f"identification string without versions: {text!r}")
    protocol_version, rest = parts
    software, _, comments = rest.partition(" ")
    if not software:
        raise SshError("identification string without software version")
    match = _PRODUCT.fullmatch(software)
    return SshBanner(
        ctx=ctx,
        banner=text,
        protocol_version=protocol_version,
        software_version=software,
        comments=comments.strip() or None,
        product=match.group(1) if match and match.group(1) else software,
        product_version=match.group(2) if match and match.group(1) else None,
    )


def _role(ctx: PacketContext) -> str:
    """``client`` or ``server``: the flow direction when known, else the side on an SSH port,
    else the side on the lower port."""
    if ctx.from_client is not None:
        return "client" if ctx.from_client else "server"
    src, dst = ctx.src_port in SshDissector.ports, ctx.dst_port in SshDissector.ports
    if src != dst:
        return "server" if src else "client"
    return "server" if ctx.src_port < ctx.dst_port else "client"


def _kexinit(data: bytes, pos: int, ctx: PacketContext, out: list[Observation]) -> None:
    if pos + 6 > len(data):
        return
    packet_length = int.from_bytes(data[pos : pos + 4], "big")
    padding = data[pos + 4]
    if packet_length > _MAX_PACKET or padding + 1 > packet_length:
        return  # not an SSH-2 binary packet (an SSH-1 reply to a 1.99 banner, say)
    if pos + 4 + packet_length > len(data):
        return  # cut short
    payload_end = pos + 4 + packet_length - padding
    if data[pos + 5] != _MSG_KEXINIT:
        return
    cursor = pos + 6 + 16  # message type, cookie
    lists: list[tuple[str, ...]] = []
    for _ in range(10):
        if cursor + 4 > payload_end:
            raise SshError("KEXINIT name-list truncated")
        length = int.from_bytes(data[cursor : cursor + 4], "big")
        cursor += 4
        if length > _MAX_LIST or cursor + length > payload_end:
            raise SshError("KEXINIT name-list runs past the packet")
        raw = data[cursor : cursor + length]
        cursor += length
        if not _printable(raw):
            raise SshError("KEXINIT name-list is not ASCII")
        lists.append(tuple(raw.decode("ascii").split(",")) if raw else ())
    kex, host_key, enc_cs, enc_sc, mac_cs, mac_sc, cmp_cs, cmp_sc = lists[:8]
    role = _role(ctx)
    if role == "client":
        chosen = (kex, enc_cs, mac_cs, cmp_cs)
    else:
        chosen = (kex, enc_sc, mac_sc, cmp_sc)
    algorithms = ";".join(",".join(part) for part in chosen)
    out.append(
        SshKexInit(
            ctx=ctx,
            role=role,
            kex_algorithms=kex,
            server_host_key_algorithms=host_key,
            encryption_client_to_server=enc_cs,
            encryption_server_to_client=enc_sc,
            mac_client_to_server=mac_cs,
            mac_server_to_client=mac_sc,
            compression_client_to_server=cmp_cs,
            compression_server_to_client=cmp_sc,
            hassh_algorithms=algorithms,
            hassh=hashlib.md5(algorithms.encode("ascii"), usedforsecurity=False).hexdigest(),
        )
    )
