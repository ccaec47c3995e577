"""Remote access: RDP connection negotiation ([MS-RDPBCGR]) and VNC/RFB handshakes (RFC 6143).

RDP: the X.224 Connection Request (cookie, requested security protocols) and Confirm
(selected protocol or failure); with standard RDP security the MCS Connect Initial/Response
that follow in clear give the client's name and build and the server's RDP version. When TLS
or CredSSP was negotiated, the TLS handshake that follows is read by the TLS parser.

VNC: each side's ProtocolVersion; from the server, the security types offered and, when it
can be located, the ServerInit desktop name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.dissect.tls import tls_observations
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.remote import (
    RdpClientCoreData,
    RdpConnectionConfirm,
    RdpConnectionRequest,
    RdpServerCoreData,
    RfbProtocolVersion,
    RfbSecurityTypes,
    RfbServerInit,
)

logger = logging.getLogger(__name__)


class RemoteAccessError(DissectError):
    """An RDP or RFB message that breaks its framing."""


# --- RDP -----------------------------------------------------------------------------------

_TPKT_VERSION = 3
_X224_CR = 0xE0
_X224_CC = 0xD0
_X224_DT = 0xF0
_NEG_REQ, _NEG_RSP, _NEG_FAILURE = 1, 2, 3
_PROTOCOL_FLAGS = ((0x1, "TLS"), (0x2, "CredSSP"), (0x4, "RDSTLS"), (0x8, "CredSSP-EX"),
                   (0x10, "RDSAAD"))  # fmt: skip
_SELECTED = {0: "RDP", 1: "TLS", 2: "CredSSP", 4: "RDSTLS", 8: "CredSSP-EX", 0x10: "RDSAAD"}
_CS_CORE = 0xC001
_SC_CORE = 0x0C01
_MAX_TPKTS = 16
_MAX_BLOCKS = 32


def _tpkt(data: bytes, pos: int) -> tuple[bytes, int] | None:
    """The TPKT payload at ``pos`` and the offset after it; None when not a complete TPKT."""
    if pos + 4 > len(data) or data[pos] != _TPKT_VERSION or data[pos + 1] != 0:
        return None
    length = int.from_bytes(data[pos + 2 : pos + 4], "big")
    if length < 7 or pos + length > len(data):
        return None
    return data[pos + 4 : pos + length], pos + length


def _x224_code(tpdu: bytes) -> int | None:
    if len(tpdu) < 2 or tpdu[0] + 1 > len(tpdu):
        return None
    return tpdu[1] & 0xF0


def _is_rdp_connection(tpdu: bytes) -> bool:
    """An X.224 CR/CC whose variable part is RDP's (cookie / negotiation), not ISO-TSAP's."""
    code = _x224_code(tpdu)
    if code not in (_X224_CR, _X224_CC) or len(tpdu) < 7:
        return False
    variable = tpdu[7:]
    if not variable:
        return True  # bare CR/CC (old RDP clients and servers)
    if variable.startswith(b"Cookie: "):
        return True
    return (
        len(variable) >= 8
        and variable[0] in (_NEG_REQ, _NEG_RSP, _NEG_FAILURE)
        and (int.from_bytes(variable[2:4], "little") == 8)
    )


def _protocol_names(flags: int) -> tuple[str, ...]:
    if flags == 0:
        return ("RDP",)
    return tuple(name for bit, name in _PROTOCOL_FLAGS if flags & bit)


class RdpDissector:
    """RDP connection setup on 3389, or wherever a TPKT-framed RDP X.224 CR/CC starts."""

    name: ClassVar[str] = "rdp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({3389})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 8192
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """TPKT + X.224 Connection Request/Confirm carrying an RDP cookie or negotiation."""
        if len(head) < 11 or head[0] != _TPKT_VERSION or head[1] != 0:
            return False
        length = int.from_bytes(head[2:4], "big")
        return _is_rdp_connection(head[4 : min(length, len(head))])

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        out: list[Observation] = []
        try:
            _rdp(payload, ctx, out)
        except DissectError:
            if not out:
                raise
            logger.debug("rdp flow %d: malformed after %d observations", ctx.flow_id, len(out))
        yield from out


def _rdp(data: bytes, ctx: PacketContext, out: list[Observation]) -> None:
    first = _tpkt(data, 0)
    if first is None:
        return  # not TPKT (or cut short)
    tpdu, pos = first
    if not _is_rdp_connection(tpdu):
        return  # another ISO-on-TCP protocol
    if _x224_code(tpdu) == _X224_CR:
        out.append(_connection_request(tpdu[7:], ctx))
    else:
        out.append(_connection_confirm(tpdu[7:], ctx))
    if data[pos : pos + 2] == b"\x16\x03":  # TLS / CredSSP negotiated: the handshake follows
        out.extend(tls_observations(data[pos:], ctx))
        return
    for _ in range(_MAX_TPKTS):  # standard RDP security: MCS in clear
        found = _tpkt(data, pos)
        if found is None:
            return
        tpdu, pos = found
        if _x224_code(tpdu) == _X224_DT:
            core = _mcs_core(tpdu, ctx)
            if core is not None:
                out.append(core)
                return


def _connection_request(variable: bytes, ctx: PacketContext) -> RdpConnectionRequest:
    cookie: str | None = None
    routing = False
    rest = variable
    if variable.startswith(b"Cookie: "):
        end = variable.find(b"\r\n")
        if end < 0:
            raise RemoteAccessError("RDP cookie without CR LF")
        text = variable[8:end].decode("latin-1")
        rest = variable[end + 2 :]
        if text.startswith("mstshash="):
            cookie = text[9:].strip() or None
        else:
            routing = True
    requested: int | None = None
    if len(rest) >= 8 and rest[0] == _NEG_REQ:
        requested = int.from_bytes(rest[4:8], "little")
    return RdpConnectionRequest(
        ctx=ctx,
        cookie=cookie,
        routing_token=routing,
        requested_protocols=requested,
        protocols=_protocol_names(requested) if requested is not None else (),
    )


def _connection_confirm(variable: bytes, ctx: PacketContext) -> RdpConnectionConfirm:
    selected: int | None = None
    failure: int | None = None
    if len(variable) >= 8:
        value = int.from_bytes(variable[4:8], "little")
        if variable[0] == _NEG_RSP:
            selected = value
        elif variable[0] == _NEG_FAILURE:
            failure = value
    return RdpConnectionConfirm(
        ctx=ctx,
        selected_protocol=selected,
        protocol=_SELECTED.get(selected, f"0x{selected:x}") if selected is not None else None,
        failure_code=failure,
    )


def _mcs_core(tpdu: bytes, ctx: PacketContext) -> Observation | None:
    """Client or server core data in the GCC user data of an MCS Connect PDU."""
    for marker, wanted in ((b"Duca", _CS_CORE), (b"McDn", _SC_CORE)):
        start = tpdu.find(marker)
        if start < 0:
            continue
        pos = start + 4
        if pos >= len(tpdu):
            return None
        pos += 2 if tpdu[pos] & 0x80 else 1  # PER length of the user data
        for _ in range(_MAX_BLOCKS):
            if pos + 4 > len(tpdu):
                return None
            block_type = int.from_bytes(tpdu[pos : pos + 2], "little")
            length = int.from_bytes(tpdu[pos + 2 : pos + 4], "little")
            if length < 4 or pos + length > len(tpdu):
                raise RemoteAccessError("GCC user data block runs past the PDU")
            block = tpdu[pos + 4 : pos + length]
            if block_type == wanted:
                return _client_core(block, ctx) if wanted == _CS_CORE else _server_core(block, ctx)
            pos += length
    return None


def _client_core(block: bytes, ctx: PacketContext) -> RdpClientCoreData:
    if len(block) < 52:
        raise RemoteAccessError("TS_UD_CS_CORE too short")
    name = block[20:52].decode("utf-16-le", "replace").split("\x00", 1)[0].strip()
    return RdpClientCoreData(
        ctx=ctx,
        version=int.from_bytes(block[0:4], "little"),
        desktop_width=int.from_bytes(block[4:6], "little"),
        desktop_height=int.from_bytes(block[6:8], "little"),
        keyboard_layout=int.from_bytes(block[12:16], "little"),
        client_build=int.from_bytes(block[16:20], "little"),
        client_name=name,
    )


def _server_core(block: bytes, ctx: PacketContext) -> RdpServerCoreData:
    if len(block) < 4:
        raise RemoteAccessError("TS_UD_SC_CORE too short")
    return RdpServerCoreData(ctx=ctx, version=int.from_bytes(block[0:4], "little"))


# --- VNC / RFB -----------------------------------------------------------------------------

_RFB_SECURITY_NAMES = {
    0: "Invalid",
    1: "None",
    2: "VNC Authentication",
    5: "RA2",
    6: "RA2ne",
    16: "Tight",
    17: "Ultra",
    18: "TLS",
    19: "VeNCrypt",
    20: "SASL",
    21: "MD5 hash",
    22: "xvp",
    30: "Apple Remote Desktop",
}
_MAX_DESKTOP_NAME = 1024


class VncDissector:
    """VNC/RFB handshakes on 5900-5906, or wherever ``RFB 00x.00y`` starts the stream."""

    name: ClassVar[str] = "vnc"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset(range(5900, 5907))
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 2048
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """The 12-byte ProtocolVersion ``RFB xxx.yyy\\n``."""
        return _rfb_version(head) is not None

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        version = _rfb_version(payload)
        if version is None:
            return
        text, major, minor = version
        yield RfbProtocolVersion(ctx=ctx, version=text, major=major, minor=minor)
        if _from_server(ctx):
            yield from _rfb_security(payload, ctx, (major, minor))


def _from_server(ctx: PacketContext) -> bool:
    """Whether the payload was sent by the VNC server: the flow direction when known, else
    the side on a VNC port (or, failing that, on the lower port)."""
    if ctx.from_client is not None:
        return not ctx.from_client
    src, dst = ctx.src_port in VncDissector.ports, ctx.dst_port in VncDissector.ports
    if src != dst:
        return src
    return ctx.src_port < ctx.dst_port


def _rfb_version(data: bytes) -> tuple[str, int, int] | None:
    head = data[:12]
    if len(head) < 12 or not head.startswith(b"RFB ") or head[7:8] != b"." or head[11] != 0x0A:
        return None
    major, minor = head[4:7], head[8:11]
    if not (major.isdigit() and minor.isdigit()):
        return None
    return head[4:11].decode("ascii"), int(major), int(minor)


def _names(types: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(_RFB_SECURITY_NAMES.get(t, f"type {t}") for t in types)


def _rfb_security(data: bytes, ctx: PacketContext, version: tuple[int, int]) -> list[Observation]:
    """Security types (and ServerInit) in a server's stream."""
    rest = data[12:]
    if not rest:
        return []
    out: list[Observation] = []
    candidates: list[int] = []
    if version == (3, 3) or (len(rest) >= 4 and rest[0] == 0 and rest[1:3] == b"\x00\x00"):
        # RFB 3.3 (or a newer server talking 3.3 to its client): one 32-bit type
        if len(rest) < 4:
            return []
        chosen = int.from_bytes(rest[:4], "big")
        if chosen > 255:
            raise RemoteAccessError(f"RFB 3.3 security type {chosen} out of range")
        types: tuple[int, ...] = (chosen,) if chosen else ()
        out.append(RfbSecurityTypes(ctx=ctx, types=types, names=_names(types)))
        if chosen == 1:
            candidates = [16]  # ServerInit straight after the type
        elif chosen == 2:
            candidates = [16 + 16 + 4]  # after the challenge and the SecurityResult
    else:
        count = rest[0]
        if len(rest) < 1 + count:
            return []
        types = tuple(rest[1 : 1 + count])
        if count == 0 or not all(1 <= t <= 255 for t in types):
            return []  # a refusal reason, or a client's choice: nothing certain to state
        out.append(RfbSecurityTypes(ctx=ctx, types=types, names=_names(types)))
        after = 13 + count
        candidates = [after, after + 4, after + 16 + 4]  # None (3.7), None (3.8), VNC auth
    for offset in candidates:  # offsets into ``data``
        init = _server_init(data, offset, ctx)
        if init is not None:
            out.append(init)
            break
    return out


def _server_init(data: bytes, pos: int, ctx: PacketContext) -> RfbServerInit | None:
    """A plausible ServerInit at ``pos``: sane size, pixel format, and a printable name."""
    if pos + 24 > len(data):
        return None
    width = int.from_bytes(data[pos : pos + 2], "big")
    height = int.from_bytes(data[pos + 2 : pos + 4], "big")
    bits, depth, big_endian, true_colour = data[pos + 4 : pos + 8]
    name_length = int.from_bytes(data[pos + 20 : pos + 24], "big")
    if not (0 < width <= 16384 and 0 < height <= 16384 and bits in (8, 16, 32)):
        return None
    if depth > bits or big_endian > 1 or true_colour > 1 or name_length > _MAX_DESKTOP_NAME:
        return None
    raw = data[pos + 24 : pos + 24 + name_length]
    if len(raw) < name_length:
        return None
    name = raw.decode("utf-8", "replace")
    if not all(ch.isprintable() for ch in name):
        return None
    return RfbServerInit(ctx=ctx, width=width, height=height, desktop_name=name)
