"""SMB/CIFS over TCP (445 direct, 139 NetBIOS session service) and the NTLM messages inside.

Per message of the stream head (4-byte NetBIOS/direct-TCP framing, RFC 1002 §4.3):

* NetBIOS session request (139): called and calling names;
* SMB1 ([MS-CIFS]): NEGOTIATE dialects offered and the chosen index, security mode, domain
  and server name; SESSION_SETUP_ANDX native OS / LAN manager strings; TREE_CONNECT_ANDX path;
* SMB2/3 ([MS-SMB2]): NEGOTIATE dialects offered and chosen, GUIDs, signing, NETNAME;
  TREE_CONNECT path; compounded messages are followed through NextCommand;
* NTLMSSP ([MS-NLMP]) in session setup security blobs: NEGOTIATE/CHALLENGE/AUTHENTICATE names
  and VERSION. ``ntlm_observation`` is shared with other carriers (HTTP).

SMB3 transform (encrypted) or compression headers end the walk. All integers are
little-endian, as the specifications define.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.smb import (
    NetbiosSessionRequest,
    NtlmAuthenticate,
    NtlmChallenge,
    NtlmNegotiate,
    SmbNegotiateRequest,
    SmbNegotiateResponse,
    SmbSessionSetup,
    SmbTreeConnect,
)

logger = logging.getLogger(__name__)


class SmbError(DissectError):
    """Bytes framed as SMB whose header or command structure is broken."""


_SMB1 = b"\xffSMB"
_SMB2 = b"\xfeSMB"
_SMB3_TRANSFORM = b"\xfdSMB"
_SMB_COMPRESSED = b"\xfcSMB"
_MAX_MESSAGES = 64
_MAX_COMPOUND = 16
_MAX_DIALECTS = 64

_NB_SESSION_MESSAGE = 0x00
_NB_SESSION_REQUEST = 0x81
_NB_FRAMES = frozenset({0x00, 0x81, 0x82, 0x83, 0x84, 0x85})

_SMB1_NEGOTIATE = 0x72
_SMB1_SESSION_SETUP_ANDX = 0x73
_SMB1_TREE_CONNECT_ANDX = 0x75
_SMB1_FLAGS_REPLY = 0x80
_SMB1_FLAGS2_UNICODE = 0x8000
_SMB1_CAP_EXTENDED_SECURITY = 0x80000000

_SMB2_NEGOTIATE = 0x0000
_SMB2_SESSION_SETUP = 0x0001
_SMB2_TREE_CONNECT = 0x0003
_SMB2_FLAGS_RESPONSE = 0x00000001
_SMB2_NETNAME_CONTEXT = 0x0005

SMB2_DIALECTS = {
    0x0202: "2.0.2",
    0x0210: "2.1",
    0x02FF: "2.???",
    0x0300: "3.0",
    0x0302: "3.0.2",
    0x0311: "3.1.1",
}

_NTLMSSP = b"NTLMSSP\x00"
_NTLM_UNICODE = 0x00000001
_NTLM_VERSION = 0x02000000
_AV_NAMES = {
    1: "nb_computer_name",
    2: "nb_domain_name",
    3: "dns_computer_name",
    4: "dns_domain_name",
    5: "dns_tree_name",
}
_MAX_AV_PAIRS = 64


class SmbDissector:
    """SMB1/SMB2/SMB3 negotiation and session setup facts, NTLM names."""

    name: ClassVar[str] = "smb"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({139, 445})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 16384
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """Direct-TCP/NetBIOS framing around an SMB1 or SMB2 header."""
        return len(head) >= 8 and head[0] == 0 and head[4:8] in (_SMB1, _SMB2)

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        out: list[Observation] = []
        try:
            _walk(payload, ctx, out)
        except DissectError:
            if not out:
                raise
            logger.debug("smb flow %d: malformed after %d observations", ctx.flow_id, len(out))
        yield from out


def _walk(data: bytes, ctx: PacketContext, out: list[Observation]) -> None:
    if len(data) < 4 or data[0] not in _NB_FRAMES:
        return  # not NetBIOS/direct-TCP framing: not SMB
    pos = 0
    for _ in range(_MAX_MESSAGES):
        if pos + 4 > len(data):
            return
        frame_type = data[pos]
        length = int.from_bytes(data[pos + 1 : pos + 4], "big")
        if frame_type not in _NB_FRAMES:
            raise SmbError(f"bad NetBIOS frame type 0x{frame_type:02x} at offset {pos}")
        end = pos + 4 + length
        if end > len(data):
            return  # message continues beyond the stream head
        message = data[pos + 4 : end]
        if frame_type == _NB_SESSION_REQUEST:
            _session_request(message, ctx, out)
        elif frame_type == _NB_SESSION_MESSAGE and message:
            magic = message[:4]
            if magic == _SMB1:
                _smb1(message, ctx, out)
            elif magic == _SMB2:
                _smb2(message, ctx, out)
            elif magic in (_SMB3_TRANSFORM, _SMB_COMPRESSED):
                return  # encrypted or compressed from here on
            elif pos == 0:
                return  # framing matched by chance: not SMB
            else:
                raise SmbError(f"session message without an SMB header at offset {pos}")
        pos = end


# --- helpers -------------------------------------------------------------------------------


def _u16(data: bytes, pos: int) -> int:
    if pos < 0 or pos + 2 > len(data):
        raise SmbError("16-bit field past the end of the message")
    return int.from_bytes(data[pos : pos + 2], "little")


def _u32(data: bytes, pos: int) -> int:
    if pos < 0 or pos + 4 > len(data):
        raise SmbError("32-bit field past the end of the message")
    return int.from_bytes(data[pos : pos + 4], "little")


def _guid(raw: bytes) -> str:
    if len(raw) != 16:
        raise SmbError("GUID truncated")
    return str(uuid.UUID(bytes_le=raw))


def _cstring(
    data: bytes, pos: int, end: int, unicode: bool, *, align: bool = True
) -> tuple[str, int]:
    """A NUL-terminated string at ``pos`` and the offset after it. Unicode strings are aligned
    to 2 bytes from the SMB header (``data`` starts there) unless ``align`` is false. A missing
    terminator ends the string at ``end``."""
    if unicode:
        if align and pos % 2:
            pos += 1
        stop = pos
        while stop + 1 < end and data[stop : stop + 2] != b"\x00\x00":
            stop += 2
        text = data[pos : min(stop, end)].decode("utf-16-le", "replace")
        return text, min(stop + 2, end)
    stop = data.find(b"\x00", pos, end)
    if stop < 0:
        stop = end
    return data[pos:stop].decode("latin-1"), min(stop + 1, end)


def _optional(text: str) -> str | None:
    """The stripped text, or None when empty or not printable (a misread binary field)."""
    text = text.strip()
    return text if text and text.isprintable() else None


# --- NetBIOS -------------------------------------------------------------------------------


def _netbios_name(data: bytes, pos: int) -> tuple[str, int, int]:
    """First-level decoded NetBIOS name (RFC 1001 §14.1), its suffix, and the offset after."""
    if pos >= len(data) or data[pos] != 32 or pos + 34 > len(data):
        raise SmbError("bad NetBIOS name in session request")
    encoded = data[pos + 1 : pos + 33]
    raw = bytearray()
    for i in range(0, 32, 2):
        hi, lo = encoded[i] - 0x41, encoded[i + 1] - 0x41
        if not (0 <= hi < 16 and 0 <= lo < 16):
            raise SmbError("NetBIOS name is not half-ASCII encoded")
        raw.append((hi << 4) | lo)
    # the label is followed by the scope: a zero-length label when there is none
    end = pos + 33
    while end < len(data) and data[end] != 0 and end - pos < 256:
        end += data[end] + 1
    return raw[:15].decode("latin-1").rstrip(), raw[15], end + 1


def _session_request(message: bytes, ctx: PacketContext, out: list[Observation]) -> None:
    called, called_suffix, pos = _netbios_name(message, 0)
    calling, calling_suffix, _ = _netbios_name(message, pos)
    out.append(
        NetbiosSessionRequest(
            ctx=ctx,
            called_name=called,
            called_suffix=called_suffix,
            calling_name=calling,
            calling_suffix=calling_suffix,
        )
    )


# --- SMB1 ----------------------------------------------------------------------------------


def _smb1(msg: bytes, ctx: PacketContext, out: list[Observation]) -> None:
    if len(msg) < 35:
        raise SmbError("SMB1 header truncated")
    command = msg[4]
    reply = bool(msg[9] & _SMB1_FLAGS_REPLY)
    unicode = bool(_u16(msg, 10) & _SMB1_FLAGS2_UNICODE)
    word_count = msg[32]
    words_end = 33 + 2 * word_count
    byte_count = _u16(msg, words_end)
    bytes_start = words_end + 2
    bytes_end = min(bytes_start + byte_count, len(msg))
    if command == _SMB1_NEGOTIATE:
        if reply:
            out.append(
                _smb1_negotiate_response(msg, word_count, bytes_start, bytes_end, unicode, ctx)
            )
            _ntlm_in(msg[bytes_start:bytes_end], ctx, out)
        else:
            out.append(_smb1_negotiate_request(msg, bytes_start, bytes_end, ctx))
    elif command == _SMB1_SESSION_SETUP_ANDX:
        setup = _smb1_session_setup(msg, word_count, bytes_start, bytes_end, unicode, reply, ctx)
        _ntlm_in(msg[bytes_start:bytes_end], ctx, out)
        if setup is not None:
            out.append(setup)
    elif command == _SMB1_TREE_CONNECT_ANDX and not reply and word_count == 4:
        password_length = _u16(msg, 33 + 6)
        pos = bytes_start + password_length
        if pos <= bytes_end:
            path, pos = _cstring(msg, pos, bytes_end, unicode)
            service, _ = _cstring(msg, pos, bytes_end, False)
            if path:
                out.append(SmbTreeConnect(ctx=ctx, path=path, service=_optional(service)))


def _smb1_negotiate_request(
    msg: bytes, start: int, end: int, ctx: PacketContext
) -> SmbNegotiateRequest:
    dialects: list[str] = []
    pos = start
    while pos < end and len(dialects) < _MAX_DIALECTS:
        if msg[pos] != 0x02:
            raise SmbError("SMB1 dialect without its 0x02 buffer format")
        text, pos = _cstring(msg, pos + 1, end, False)
        dialects.append(text)
    return SmbNegotiateRequest(
        ctx=ctx,
        smb_version=1,
        dialects=tuple(dialects),
        dialect_revisions=(),
        client_guid=None,
        signing_required=None,
        netname=None,
    )


def _smb1_negotiate_response(
    msg: bytes, word_count: int, start: int, end: int, unicode: bool, ctx: PacketContext
) -> SmbNegotiateResponse:
    dialect_index = _u16(msg, 33)
    server_guid: str | None = None
    domain: str | None = None
    server_name: str | None = None
    signing_enabled = signing_required = False
    capabilities = 0
    if word_count == 17:  # NT LM 0.12
        security_mode = msg[35]
        signing_enabled = bool(security_mode & 0x04)
        signing_required = bool(security_mode & 0x08)
        capabilities = _u32(msg, 52)
        challenge_length = msg[66]
        if capabilities & _SMB1_CAP_EXTENDED_SECURITY:
            if end - start >= 16:
                server_guid = _guid(msg[start : start + 16])
        elif start + challenge_length <= end:
            # DomainName and ServerName follow the challenge, without alignment padding
            text, pos = _cstring(msg, start + challenge_length, end, unicode, align=False)
            domain = _optional(text)
            if pos < end:
                server_name = _optional(_cstring(msg, pos, end, unicode, align=False)[0])
    elif word_count == 13:  # LANMAN 2.x: PrimaryDomain (OEM) follows the challenge
        challenge_length = _u16(msg, 55)
        if start + challenge_length <= end:
            domain = _optional(_cstring(msg, start + challenge_length, end, False)[0])
    elif word_count != 1:
        raise SmbError(f"SMB1 negotiate response with {word_count} words")
    return SmbNegotiateResponse(
        ctx=ctx,
        smb_version=1,
        dialect_revision=None,
        dialect=None,
        dialect_index=dialect_index,
        server_guid=server_guid,
        signing_enabled=signing_enabled,
        signing_required=signing_required,
        capabilities=capabilities,
        domain=domain,
        server_name=server_name,
    )


def _smb1_session_setup(
    msg: bytes,
    word_count: int,
    start: int,
    end: int,
    unicode: bool,
    reply: bool,
    ctx: PacketContext,
) -> SmbSessionSetup | None:
    words = 33
    account: str | None = None
    if reply:
        if word_count == 4:  # extended security: SecurityBlobLength is the 4th word
            pos = start + _u16(msg, words + 6)
        elif word_count == 3:
            pos = start
        else:
            return None
    elif word_count == 12:  # extended security: the blob, then the strings
        pos = start + _u16(msg, words + 14)
    elif word_count in (10, 13):
        # LANMAN 2.x has one password field, NT LM 0.12 two; AccountName follows them
        pos = start + _u16(msg, words + 14)
        if word_count == 13:
            pos += _u16(msg, words + 16)
        name, pos = _cstring(msg, min(pos, end), end, unicode)
        account = _optional(name)
    else:
        return None
    if pos > end:
        raise SmbError("session setup strings start past the message")
    texts: list[str] = []
    for _ in range(3):
        if pos >= end:
            break
        text, pos = _cstring(msg, pos, end, unicode)
        texts.append(text)
    first, second, third = (texts + ["", "", ""])[:3]
    if not reply and word_count != 12:
        # a request without extended security: PrimaryDomain, NativeOS, NativeLanMan
        domain, native_os, lan_manager = first, second, third
    else:
        native_os, lan_manager, domain = first, second, third
    if not (native_os or lan_manager or domain or account):
        return None
    return SmbSessionSetup(
        ctx=ctx,
        response=reply,
        native_os=_optional(native_os),
        native_lan_manager=_optional(lan_manager),
        primary_domain=_optional(domain),
        account_name=account,
    )


# --- SMB2/3 --------------------------------------------------------------------------------


def _smb2(msg: bytes, ctx: PacketContext, out: list[Observation]) -> None:
    offset = 0
    for _ in range(_MAX_COMPOUND):
        if offset + 64 > len(msg) or msg[offset : offset + 4] != _SMB2:
            raise SmbError("SMB2 header truncated")
        if _u16(msg, offset + 4) != 64:
            raise SmbError("SMB2 header StructureSize is not 64")
        command = _u16(msg, offset + 12)
        response = bool(_u32(msg, offset + 16) & _SMB2_FLAGS_RESPONSE)
        next_command = _u32(msg, offset + 20)
        end = offset + next_command if next_command else len(msg)
        if end > len(msg) or (next_command and next_command < 64):
            raise SmbError("SMB2 NextCommand outside the message")
        # offsets inside a command are relative to its own header
        one = msg[offset:end]
        if command == _SMB2_NEGOTIATE:
            negotiate = _smb2_negotiate(one, response, ctx)
            if negotiate is not None:
                out.append(negotiate)
            _ntlm_in(one[64:], ctx, out)
        elif command == _SMB2_SESSION_SETUP:
            _ntlm_in(one[64:], ctx, out)
        elif command == _SMB2_TREE_CONNECT and not response and _u16(one, 64) == 9:
            path_offset, path_length = _u16(one, 68), _u16(one, 70)
            if path_offset + path_length <= len(one) and path_length:
                path = one[path_offset : path_offset + path_length].decode("utf-16-le", "replace")
                out.append(SmbTreeConnect(ctx=ctx, path=path, service=None))
        if not next_command:
            return
        offset = end


def _smb2_negotiate(
    msg: bytes, response: bool, ctx: PacketContext
) -> SmbNegotiateRequest | SmbNegotiateResponse | None:
    b = 64
    structure_size = _u16(msg, b)
    if response:
        if structure_size != 65:
            return None  # an error response
        security_mode = _u16(msg, b + 2)
        revision = _u16(msg, b + 4)
        return SmbNegotiateResponse(
            ctx=ctx,
            smb_version=2,
            dialect_revision=revision,
            dialect=SMB2_DIALECTS.get(revision),
            dialect_index=None,
            server_guid=_guid(msg[b + 8 : b + 24]),
            signing_enabled=bool(security_mode & 0x01),
            signing_required=bool(security_mode & 0x02),
            capabilities=_u32(msg, b + 24),
            domain=None,
            server_name=None,
        )
    if structure_size != 36:
        raise SmbError("SMB2 NEGOTIATE request StructureSize is not 36")
    count = _u16(msg, b + 2)
    if count > _MAX_DIALECTS:
        raise SmbError("too many SMB2 dialects")
    security_mode = _u16(msg, b + 4)
    client_guid = _guid(msg[b + 12 : b + 28])
    revisions = tuple(_u16(msg, b + 36 + 2 * i) for i in range(count))
    netname: str | None = None
    if 0x0311 in revisions:
        netname = _netname(msg, _u32(msg, b + 28), _u16(msg, b + 32))
    return SmbNegotiateRequest(
        ctx=ctx,
        smb_version=2,
        dialects=tuple(SMB2_DIALECTS.get(r, f"0x{r:04x}") for r in revisions),
        dialect_revisions=revisions,
        client_guid=client_guid,
        signing_required=bool(security_mode & 0x02),
        netname=netname,
    )


def _netname(msg: bytes, offset: int, count: int) -> str | None:
    """The NETNAME negotiate context of an SMB 3.1.1 request ([MS-SMB2] 2.2.3.1.4)."""
    pos = offset
    for _ in range(min(count, 32)):
        if pos + 8 > len(msg):
            return None
        context_type, length = _u16(msg, pos), _u16(msg, pos + 2)
        data = msg[pos + 8 : pos + 8 + length]
        if context_type == _SMB2_NETNAME_CONTEXT:
            return _optional(data.decode("utf-16-le", "replace"))
        pos += 8 + length
        pos += -pos % 8  # contexts are 8-byte aligned
    return None


# --- NTLMSSP -------------------------------------------------------------------------------


def _ntlm_in(blob: bytes, ctx: PacketContext, out: list[Observation], carrier: str = "smb") -> None:
    start = blob.find(_NTLMSSP)
    if start >= 0:
        found = ntlm_observation(blob[start:], ctx, carrier)
        if found is not None:
            out.append(found)


def _ntlm_field(msg: bytes, pos: int, unicode: bool) -> str | None:
    """A (Len, MaxLen, BufferOffset) string field; None when empty or out of bounds."""
    length = _u16(msg, pos)
    offset = _u32(msg, pos + 4)
    if not length or offset + length > len(msg):
        return None
    raw = msg[offset : offset + length]
    return raw.decode("utf-16-le" if unicode else "latin-1", "replace")


def _ntlm_version(msg: bytes, pos: int, flags: int, fields: tuple[int, ...]) -> str | None:
    """The VERSION structure at ``pos`` when the flag says so and no payload starts there
    (some clients set the flag without sending the field); ``fields`` are the offsets of the
    message's (Len, MaxLen, Offset) fields."""
    if not flags & _NTLM_VERSION or pos + 8 > len(msg):
        return None
    for field in fields:
        if _u16(msg, field) and _u32(msg, field + 4) < pos + 8:
            return None
    major, minor, build = msg[pos], msg[pos + 1], _u16(msg, pos + 2)
    if major == 0:
        return None
    return f"{major}.{minor}.{build}"


def ntlm_observation(msg: bytes, ctx: PacketContext, carrier: str) -> Observation | None:
    """The fact stated by an NTLMSSP message that starts ``msg``; None for other bytes.

    ``SmbError`` (a ``DissectError``) when the message is cut short.
    """
    if not msg.startswith(_NTLMSSP) or len(msg) < 12:
        return None
    message_type = _u32(msg, 8)
    if message_type == 1:
        flags = _u32(msg, 12)
        unicode = False  # NEGOTIATE strings are OEM ([MS-NLMP] 2.2.1.1)
        return NtlmNegotiate(
            ctx=ctx,
            carrier=carrier,
            flags=flags,
            domain=_ntlm_field(msg, 16, unicode) if len(msg) >= 32 else None,
            workstation=_ntlm_field(msg, 24, unicode) if len(msg) >= 32 else None,
            os_version=_ntlm_version(msg, 32, flags, (16, 24)) if len(msg) >= 32 else None,
        )
    if message_type == 2:
        flags = _u32(msg, 20)
        unicode = bool(flags & _NTLM_UNICODE)
        names: dict[str, str] = {}
        if len(msg) >= 48:
            names = _av_pairs(msg, _u16(msg, 40), _u32(msg, 44))
        return NtlmChallenge(
            ctx=ctx,
            carrier=carrier,
            flags=flags,
            target_name=_ntlm_field(msg, 12, unicode),
            nb_computer_name=names.get("nb_computer_name"),
            nb_domain_name=names.get("nb_domain_name"),
            dns_computer_name=names.get("dns_computer_name"),
            dns_domain_name=names.get("dns_domain_name"),
            dns_tree_name=names.get("dns_tree_name"),
            os_version=_ntlm_version(msg, 48, flags, (12, 40)) if len(msg) >= 48 else None,
        )
    if message_type == 3:
        flags = _u32(msg, 60)
        unicode = bool(flags & _NTLM_UNICODE)
        nt_length = _u16(msg, 20)
        kind = "anonymous" if nt_length == 0 else "NTLMv1" if nt_length == 24 else "NTLMv2"
        return NtlmAuthenticate(
            ctx=ctx,
            carrier=carrier,
            flags=flags,
            user_name=_ntlm_field(msg, 36, unicode),
            domain_name=_ntlm_field(msg, 28, unicode),
            workstation=_ntlm_field(msg, 44, unicode),
            response_kind=kind,
            os_version=_ntlm_version(msg, 64, flags, (12, 20, 28, 36, 44, 52)),
        )
    raise SmbError(f"unknown NTLMSSP message type {message_type}")


def _av_pairs(msg: bytes, length: int, offset: int) -> dict[str, str]:
    """Names in the TargetInfo AV_PAIR list ([MS-NLMP] 2.2.2.1)."""
    out: dict[str, str] = {}
    end = min(offset + length, len(msg))
    pos = offset
    for _ in range(_MAX_AV_PAIRS):
        if pos + 4 > end:
            break
        av_id, av_len = _u16(msg, pos), _u16(msg, pos + 2)
        if av_id == 0:  # MsvAvEOL
            break
        value = msg[pos + 4 : pos + 4 + av_len]
        key = _AV_NAMES.get(av_id)
        if key is not None:
            out[key] = value.decode("utf-16-le", "replace")
        pos += 4 + av_len
    return out
