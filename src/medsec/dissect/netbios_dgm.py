"""NetBIOS datagram service (RFC 1002 4.4) on UDP 138 and the CIFS Browser Protocol
([MS-BRWS]) it carries.

A direct or broadcast datagram (MSG_TYPE 0x10-0x12) holds the sender's and the
destination's NetBIOS names (first-level encoded, as in the name service) and user data;
browser frames are SMB1 Trans requests (command 0x25) writing to the mailslot
``\\MAILSLOT\\BROWSE``, or LAN Manager announcements to ``\\MAILSLOT\\LANMAN``:

* HostAnnouncement (1) and LocalMasterAnnouncement (15) -> ``BrowserHostAnnouncement``:
  server name, OS version, server type bits, browser version, signature, comment;
* DomainAnnouncement (12) -> ``BrowserDomainAnnouncement``;
* RequestElection (8) -> ``BrowserElectionRequest``;
* AnnouncementRequest (2), GetBackupList (9, 10), BecomeBackup (11), MasterAnnouncement
  (13), ResetStateRequest (14) -> ``BrowserMessage``.

Other datagrams (other mailslots, errors 0x13, queries 0x14-0x16, later fragments) give a
``NetbiosDatagram`` with what their header says.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from typing import ClassVar, TypedDict

from medsec.dissect.netbios import NetbiosError, decode_name
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.browser import (
    BrowserDomainAnnouncement,
    BrowserElectionRequest,
    BrowserHostAnnouncement,
    BrowserMessage,
    NetbiosDatagram,
)

logger = logging.getLogger(__name__)

MSG_TYPES: dict[int, str] = {
    0x10: "direct_unique",
    0x11: "direct_group",
    0x12: "broadcast",
    0x13: "error",
    0x14: "query_request",
    0x15: "positive_query_response",
    0x16: "negative_query_response",
}
"""RFC 1002 4.4.1 MSG_TYPE values."""
FLAG_FIRST = 0x02
"""F bit of the datagram FLAGS: the first fragment (user data starts here)."""

SV_TYPES: tuple[tuple[int, str], ...] = (
    (0x00000001, "SV_TYPE_WORKSTATION"),
    (0x00000002, "SV_TYPE_SERVER"),
    (0x00000004, "SV_TYPE_SQLSERVER"),
    (0x00000008, "SV_TYPE_DOMAIN_CTRL"),
    (0x00000010, "SV_TYPE_DOMAIN_BAKCTRL"),
    (0x00000020, "SV_TYPE_TIME_SOURCE"),
    (0x00000040, "SV_TYPE_AFP"),
    (0x00000080, "SV_TYPE_NOVELL"),
    (0x00000100, "SV_TYPE_DOMAIN_MEMBER"),
    (0x00000200, "SV_TYPE_PRINTQ_SERVER"),
    (0x00000400, "SV_TYPE_DIALIN_SERVER"),
    (0x00000800, "SV_TYPE_XENIX_SERVER"),
    (0x00001000, "SV_TYPE_NT"),
    (0x00002000, "SV_TYPE_WFW"),
    (0x00004000, "SV_TYPE_SERVER_MFPN"),
    (0x00008000, "SV_TYPE_SERVER_NT"),
    (0x00010000, "SV_TYPE_POTENTIAL_BROWSER"),
    (0x00020000, "SV_TYPE_BACKUP_BROWSER"),
    (0x00040000, "SV_TYPE_MASTER_BROWSER"),
    (0x00080000, "SV_TYPE_DOMAIN_MASTER"),
    (0x00100000, "SV_TYPE_SERVER_OSF"),
    (0x00200000, "SV_TYPE_SERVER_VMS"),
    (0x00400000, "SV_TYPE_WINDOWS"),
    (0x00800000, "SV_TYPE_DFS"),
    (0x01000000, "SV_TYPE_CLUSTER_NT"),
    (0x02000000, "SV_TYPE_TERMINALSERVER"),
    (0x04000000, "SV_TYPE_CLUSTER_VS_NT"),
    (0x10000000, "SV_TYPE_DCE"),
    (0x20000000, "SV_TYPE_ALTERNATE_XPORT"),
    (0x40000000, "SV_TYPE_LOCAL_LIST_ONLY"),
    (0x80000000, "SV_TYPE_DOMAIN_ENUM"),
)
"""[MS-SRVS] 2.2.2.7 software type flags (SV_TYPE_XENIX_SERVER is also SV_TYPE_SERVER_UNIX)."""

OPCODE_NAMES: dict[int, str] = {
    1: "host_announcement",
    2: "announcement_request",
    8: "request_election",
    9: "get_backup_list_request",
    10: "get_backup_list_response",
    11: "become_backup",
    12: "domain_announcement",
    13: "master_announcement",
    14: "reset_state_request",
    15: "local_master_announcement",
}
"""[MS-BRWS] 2.2 browser frame opcodes."""

BROWSE = "\\MAILSLOT\\BROWSE"
LANMAN = "\\MAILSLOT\\LANMAN"
SMB_TRANS = 0x25
MAX_NAME_OCTETS = 255
"""Longest encoded NetBIOS name with its scope (RFC 1002 4.1, as DNS names)."""
MAX_MAILSLOT = 256
"""Longest mailslot name read from a Trans request."""
MAX_COMMENT = 128
"""Characters of a comment kept."""
MAX_LIST = 32
"""Server names read from a GetBackupListResponse."""


class NetbiosDatagramError(DissectError):
    """A NetBIOS datagram or the browser frame inside it is malformed."""


class _Frame(TypedDict):
    """The fields every browser frame observation shares."""

    ctx: PacketContext
    opcode: int
    mailslot: str
    source_name: str
    source_suffix: int
    destination_name: str
    destination_suffix: int


def server_type_names(server_type: int) -> tuple[str, ...]:
    """The SV_TYPE_* names of the bits set in ``server_type``, lowest bit first."""
    return tuple(name for bit, name in SV_TYPES if server_type & bit)


def _name(msg: bytes, pos: int) -> tuple[str, int, int]:
    """The NetBIOS name (scope dropped) at ``pos``, its suffix, and the offset after it."""
    if pos >= len(msg) or msg[pos] != 0x20:
        raise NetbiosDatagramError(f"NetBIOS name at {pos} is not a 32-byte encoded label")
    label = msg[pos + 1 : pos + 33]
    try:
        name, suffix = decode_name(label)
    except NetbiosError as exc:
        raise NetbiosDatagramError(str(exc)) from exc
    end = pos + 33
    octets = 33
    while True:  # scope labels up to the root; each step consumes at least one byte
        if end >= len(msg):
            raise NetbiosDatagramError(f"NetBIOS name at {pos} runs past the end")
        n = msg[end]
        if n == 0:
            return name, suffix, end + 1
        if n & 0xC0:
            raise NetbiosDatagramError(f"NetBIOS name at {pos}: label type 0x{n & 0xC0:02x}")
        octets += n + 1
        if octets > MAX_NAME_OCTETS:
            raise NetbiosDatagramError(f"NetBIOS name at {pos} longer than {MAX_NAME_OCTETS}")
        end += n + 1


def _text(raw: bytes) -> str:
    """An OEM string as ASCII (other bytes ``\\xNN``), trailing spaces removed."""
    return raw.decode("ascii", "backslashreplace").rstrip(" ")


def _cstring(data: bytes, pos: int, limit: int) -> tuple[bytes, int]:
    """The NUL-terminated string at ``pos`` (at most ``limit`` bytes; unterminated at the
    end of ``data`` is accepted) and the offset after its terminator."""
    end = data.find(b"\x00", pos, pos + limit + 1)
    if end < 0:
        if len(data) - pos <= limit:
            return data[pos:], len(data)
        raise NetbiosDatagramError(f"string at {pos} longer than {limit} bytes")
    return data[pos:end], end + 1


def _comment(raw: bytes) -> str | None:
    text = "".join(chr(b) for b in raw if 0x20 <= b < 0x7F)[:MAX_COMMENT].strip()
    return text or None


def _fixed_name(raw: bytes) -> str:
    """A 16-byte NUL-padded name field."""
    return _text(raw.split(b"\x00", 1)[0])


def _mailslot_write(smb: bytes) -> tuple[str, bytes] | None:
    """Mailslot name and data of an SMB1 Trans request ([MS-CIFS] 2.2.4.33.1), or None
    when ``smb`` is no Trans request."""
    if len(smb) < 33 or smb[:4] != b"\xffSMB" or smb[4] != SMB_TRANS or smb[9] & 0x80:
        return None  # not SMB1, not Trans, or a reply (FLAGS reply bit)
    words = smb[32]
    if words < 14:
        raise NetbiosDatagramError(f"Trans request with {words} parameter words")
    params = 33
    after_words = params + 2 * words
    if after_words + 2 > len(smb):
        raise NetbiosDatagramError("Trans request parameter words run past the end")
    data_count, data_offset = struct.unpack_from("<HH", smb, params + 22)
    byte_count = struct.unpack_from("<H", smb, after_words)[0]
    name_at = after_words + 2
    name, _ = _cstring(smb[: name_at + byte_count], name_at, MAX_MAILSLOT)
    if data_offset + data_count > len(smb) or (data_count and data_offset < name_at):
        raise NetbiosDatagramError("Trans data outside the request")
    mailslot = name.decode("ascii", "backslashreplace")
    return mailslot, smb[data_offset : data_offset + data_count]


class NetbiosDgmDissector:
    """NetBIOS datagram service on UDP 138, with the browser frames it carries."""

    name: ClassVar[str] = "netbios-dgm"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({138})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 16

    def signature(self, head: bytes) -> bool:
        """A direct or broadcast datagram whose source name is 32 letters ``A``..``P``."""
        if len(head) < 82 or head[0] not in (0x10, 0x11, 0x12) or head[14] != 0x20:
            return False
        return all(0x41 <= b <= 0x50 for b in head[15:47])

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        msg = payload
        if len(msg) < 10:
            raise NetbiosDatagramError(f"datagram of {len(msg)} bytes")
        msg_type = msg[0]
        kind = MSG_TYPES.get(msg_type)
        if kind is None:
            raise NetbiosDatagramError(f"unknown MSG_TYPE 0x{msg_type:02x}")
        flags = msg[1]
        source_ip = f"{msg[4]}.{msg[5]}.{msg[6]}.{msg[7]}"
        source_port = (msg[8] << 8) | msg[9]
        if msg_type == 0x13:
            if len(msg) < 11:
                raise NetbiosDatagramError("error datagram without an error code")
            yield NetbiosDatagram(
                ctx=ctx,
                msg_type=msg_type,
                msg_type_name=kind,
                source_ip=source_ip,
                source_port=source_port,
                error_code=msg[10],
            )
            return
        if msg_type >= 0x14:
            dest, dest_suffix, _ = _name(msg, 10)
            yield NetbiosDatagram(
                ctx=ctx,
                msg_type=msg_type,
                msg_type_name=kind,
                source_ip=source_ip,
                source_port=source_port,
                destination_name=dest,
                destination_suffix=dest_suffix,
            )
            return
        if len(msg) < 14:
            raise NetbiosDatagramError("datagram header cut short")
        source, source_suffix, pos = _name(msg, 14)
        dest, dest_suffix, pos = _name(msg, pos)
        user_data = msg[pos:]  # the UDP length bounds it; DGM_LENGTH is not trusted
        found = None
        if flags & FLAG_FIRST and user_data:
            found = _mailslot_write(user_data)
        mailslot, data = found if found is not None else (None, b"")
        if mailslot is not None and data and mailslot.upper() in (BROWSE, LANMAN):
            frame = _browser_frame(
                data,
                ctx,
                mailslot=mailslot.upper(),
                source_name=source,
                source_suffix=source_suffix,
                destination_name=dest,
                destination_suffix=dest_suffix,
            )
            if frame is not None:
                yield frame
                return
        yield NetbiosDatagram(
            ctx=ctx,
            msg_type=msg_type,
            msg_type_name=kind,
            source_ip=source_ip,
            source_port=source_port,
            source_name=source,
            source_suffix=source_suffix,
            destination_name=dest,
            destination_suffix=dest_suffix,
            mailslot=mailslot,
        )


def _browser_frame(
    data: bytes,
    ctx: PacketContext,
    *,
    mailslot: str,
    source_name: str,
    source_suffix: int,
    destination_name: str,
    destination_suffix: int,
) -> Observation | None:
    """The observation of one browser frame; None for an opcode [MS-BRWS] does not define."""
    opcode = data[0]
    common = _Frame(
        ctx=ctx,
        opcode=opcode,
        mailslot=mailslot,
        source_name=source_name,
        source_suffix=source_suffix,
        destination_name=destination_name,
        destination_suffix=destination_suffix,
    )
    if mailslot == LANMAN:
        return _lanman_announcement(data, common) if opcode == 1 else None
    if opcode in (1, 15):
        if len(data) < 32:
            raise NetbiosDatagramError(f"host announcement of {len(data)} bytes")
        update_count, periodicity = struct.unpack_from("<BI", data, 1)
        os_major, os_minor, server_type, br_major, br_minor, signature = struct.unpack_from(
            "<BBIBBH", data, 22
        )
        comment, _ = _cstring(data, 32, max(len(data) - 32, 0))
        return BrowserHostAnnouncement(
            **common,
            announcement="host" if opcode == 1 else "local_master",
            update_count=update_count,
            periodicity=periodicity,
            server_name=_fixed_name(data[6:22]),
            os_version_major=os_major,
            os_version_minor=os_minor,
            server_type=server_type,
            server_type_names=server_type_names(server_type),
            browser_version_major=br_major,
            browser_version_minor=br_minor,
            signature=signature,
            comment=_comment(comment),
        )
    if opcode == 12:
        if len(data) < 32:
            raise NetbiosDatagramError(f"domain announcement of {len(data)} bytes")
        update_count, periodicity = struct.unpack_from("<BI", data, 1)
        cfg_major, cfg_minor, server_type, br_major, br_minor, signature = struct.unpack_from(
            "<BBIBBH", data, 22
        )
        master, _ = _cstring(data, 32, max(len(data) - 32, 0))
        return BrowserDomainAnnouncement(
            **common,
            update_count=update_count,
            periodicity=periodicity,
            machine_group=_fixed_name(data[6:22]),
            browser_config_version_major=cfg_major,
            browser_config_version_minor=cfg_minor,
            server_type=server_type,
            server_type_names=server_type_names(server_type),
            browser_version_major=br_major,
            browser_version_minor=br_minor,
            signature=signature,
            local_master_browser_name=_text(master[:16]) or None,
        )
    if opcode == 8:
        if len(data) < 14:
            raise NetbiosDatagramError(f"election request of {len(data)} bytes")
        version, criteria, uptime = struct.unpack_from("<BII", data, 1)
        server, _ = _cstring(data, 14, max(len(data) - 14, 0))
        return BrowserElectionRequest(
            **common,
            version=version,
            criteria=criteria,
            criteria_os=criteria >> 24,
            criteria_browser_version_major=(criteria >> 8) & 0xFF,
            criteria_browser_version_minor=(criteria >> 16) & 0xFF,
            criteria_desire=criteria & 0xFF,
            uptime=uptime,
            server_name=_text(server[:16]) or None,
        )
    name = OPCODE_NAMES.get(opcode)
    if name is None:
        return None
    names: tuple[str, ...] = ()
    token = None
    if opcode == 2 and len(data) >= 2:  # Reserved, ResponseName
        names = _names(data, 2, 1)
    elif opcode == 9:  # RequestedCount, Token
        if len(data) < 6:
            raise NetbiosDatagramError(f"backup list request of {len(data)} bytes")
        token = struct.unpack_from("<I", data, 2)[0]
    elif opcode == 10:  # BackupServerCount, Token, BackupServerList
        if len(data) < 6:
            raise NetbiosDatagramError(f"backup list response of {len(data)} bytes")
        token = struct.unpack_from("<I", data, 2)[0]
        names = _names(data, 6, min(data[1], MAX_LIST))
    elif opcode in (11, 13):  # BrowserToPromote, MasterBrowserServerName
        names = _names(data, 1, 1)
    return BrowserMessage(**common, opcode_name=name, names=names, token=token)


def _names(data: bytes, pos: int, count: int) -> tuple[str, ...]:
    """Up to ``count`` NUL-terminated names of at most 16 bytes from ``pos``."""
    out = []
    for _ in range(count):
        if pos >= len(data):
            break
        raw, pos = _cstring(data, pos, max(len(data) - pos, 0))
        text = _text(raw[:16])
        if text:
            out.append(text)
    return tuple(out)


def _lanman_announcement(data: bytes, common: _Frame) -> Observation:
    """A LAN Manager host announcement (Samba nmbd ``send_lm_announcement``): opcode (16
    bits), server type, OS major/minor, periodicity in seconds (16 bits), then the server
    name and comment as NUL-terminated strings."""
    if len(data) < 11:
        raise NetbiosDatagramError(f"LAN Manager announcement of {len(data)} bytes")
    server_type, os_major, os_minor, seconds = struct.unpack_from("<IBBH", data, 2)
    server, pos = _cstring(data, 10, max(len(data) - 10, 0))
    comment, _ = _cstring(data, pos, max(len(data) - pos, 0)) if pos < len(data) else (b"", 0)
    return BrowserHostAnnouncement(
        **common,
        announcement="host",
        update_count=data[1],
        periodicity=seconds * 1000,
        server_name=_text(server[:16]),
        os_version_major=os_major,
        os_version_minor=os_minor,
        server_type=server_type,
        server_type_names=server_type_names(server_type),
        comment=_comment(comment),
    )
