"""Builders of NetBIOS datagrams (RFC 1002 4.4) and the browser frames ([MS-BRWS]) they carry,
byte by byte from the specifications, for the datagram dissector's tests."""

from __future__ import annotations

import struct


def nb_name(name: str, suffix: int, scope: bytes = b"") -> bytes:
    """First-level encoding (RFC 1001 14.1): 15 bytes space-padded + suffix, each nibble as a
    letter 'A'..'P', as one 32-byte label, then the scope labels and the root label."""
    raw = name.encode("latin-1").ljust(15, b" ")[:15] + bytes([suffix])
    letters = b"".join(bytes([0x41 + (b >> 4), 0x41 + (b & 15)]) for b in raw)
    return b"\x20" + letters + scope + b"\x00"


def datagram(
    user_data: bytes,
    *,
    source: tuple[str, int] = ("WS-RADIOLOGY1", 0x00),
    destination: tuple[str, int] = ("HOSPITAL", 0x1D),
    msg_type: int = 0x11,
    flags: int = 0x02,  # F (first fragment), no M, B node
    source_ip: bytes = bytes([10, 1, 2, 3]),
    source_port: int = 138,
) -> bytes:
    """A direct/broadcast datagram (0x10-0x12): header, source and destination names."""
    names = nb_name(*source) + nb_name(*destination)
    body = names + user_data
    return (
        struct.pack("!BBH", msg_type, flags, 0x8001)
        + source_ip
        + struct.pack("!HHH", source_port, len(body), 0)
        + body
    )


def mailslot_write(
    data: bytes, mailslot: str = "\\MAILSLOT\\BROWSE", *, reply: bool = False
) -> bytes:
    """An SMB1 Trans request (command 0x25, [MS-CIFS] 2.2.4.33.1) writing ``data`` to a
    mailslot: 17 parameter words (14 + 3 setup words: opcode 1 write, priority 1, class 2)."""
    header = b"\xffSMB" + bytes([0x25]) + bytes(4) + bytes([0x80 if reply else 0x00])
    header += bytes(32 - len(header))
    name = mailslot.encode("ascii") + b"\x00"
    data_offset = 32 + 1 + 2 * 17 + 2 + len(name)
    words = struct.pack(
        "<HHHHBBHIHHHHHBB3H",
        0,  # TotalParameterCount
        len(data),  # TotalDataCount
        0,  # MaxParameterCount
        0,  # MaxDataCount
        0,  # MaxSetupCount
        0,  # Reserved1
        0,  # Flags
        0,  # Timeout
        0,  # Reserved2
        0,  # ParameterCount
        data_offset,  # ParameterOffset
        len(data),  # DataCount
        data_offset,  # DataOffset
        3,  # SetupCount
        0,  # Reserved3
        1,  # Setup: mailslot write
        1,  # priority
        2,  # class: unreliable / broadcast
    )
    return header + bytes([17]) + words + struct.pack("<H", len(name) + len(data)) + name + data


def host_announcement(
    server: str,
    os_version: tuple[int, int],
    server_type: int,
    comment: bytes = b"",
    *,
    opcode: int = 1,
    browser_version: tuple[int, int] = (15, 1),
    signature: int = 0xAA55,
    periodicity: int = 720000,
    update_count: int = 0,
) -> bytes:
    """HostAnnouncement (1, [MS-BRWS] 2.2.1) or LocalMasterAnnouncement (15, 2.2.9)."""
    return (
        struct.pack("<BBI", opcode, update_count, periodicity)
        + server.encode("latin-1").ljust(16, b"\x00")[:16]
        + struct.pack("<BBIBBH", *os_version, server_type, *browser_version, signature)
        + comment
        + b"\x00"
    )


def domain_announcement(group: str, master: str, server_type: int = 0x80001000) -> bytes:
    """DomainAnnouncement (12, [MS-BRWS] 2.2.7), as Samba sends it (config version 4.9)."""
    return (
        struct.pack("<BBI", 12, 0, 300000)
        + group.encode("latin-1").ljust(16, b"\x00")
        + struct.pack("<BBIBBH", 4, 9, server_type, 15, 1, 0xAA55)
        + master.encode("latin-1")
        + b"\x00"
    )


def election_request(server: str, criteria: int, uptime: int = 1000) -> bytes:
    """RequestElection (8, [MS-BRWS] 2.2.3): version, criteria, uptime, unused, name."""
    return struct.pack("<BBIII", 8, 1, criteria, uptime, 0) + server.encode() + b"\x00"


def lanman_announcement(
    server: str, os_version: tuple[int, int], server_type: int, comment: str
) -> bytes:
    """A LAN Manager host announcement to \\MAILSLOT\\LANMAN (as Samba's nmbd sends it):
    opcode 1 (16 bits), server type, OS major/minor, interval in seconds, name, comment."""
    return (
        struct.pack("<HIBBH", 1, server_type, *os_version, 720)
        + server.encode()
        + b"\x00"
        + comment.encode()
        + b"\x00"
    )
