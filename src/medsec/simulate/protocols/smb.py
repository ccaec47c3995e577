"""SMB2/3 over direct TCP (port 445): NEGOTIATE, then encrypted (transform) messages."""

from __future__ import annotations

import random
import struct

from medsec.simulate.protocols import asn1

NEGOTIATE = 0x0000
DIALECTS = (0x0202, 0x0210, 0x0300, 0x0302)
FILETIME_EPOCH_OFFSET = 11_644_473_600
SPNEGO = "1.3.6.1.5.5.2"
KERBEROS = "1.2.840.113554.1.2.2"
NTLMSSP = "1.3.6.1.4.1.311.2.2.10"


def spnego_hint() -> bytes:
    """The GSS-API/SPNEGO negTokenInit a server offers: Kerberos and NTLMSSP."""
    mechanisms = asn1.sequence(asn1.oid(KERBEROS), asn1.oid(NTLMSSP))
    token = asn1.tlv(0xA0, asn1.sequence(asn1.tlv(0xA0, mechanisms)))
    return asn1.tlv(0x60, asn1.oid(SPNEGO) + token)


def _session(message: bytes) -> bytes:
    """NetBIOS session service framing (RFC 1002 type 0 with a 24-bit length)."""
    return struct.pack("!I", len(message)) + message


def _header(command: int, message_id: int, response: bool, credits: int) -> bytes:
    flags = 0x00000001 if response else 0
    return b"\xfeSMB" + struct.pack(
        "<HHIHHIIQIIQ16s",
        64,
        1 if response else 0,
        0,
        command,
        credits,
        flags,
        0,
        message_id,
        0xFEFF,
        0,
        0,
        b"\x00" * 16,
    )


def negotiate_request(client_guid: bytes) -> bytes:
    body = struct.pack(
        "<HHHHI16sQ", 36, len(DIALECTS), 0x01, 0, 0x7F, client_guid, 0
    ) + struct.pack(f"<{len(DIALECTS)}H", *DIALECTS)
    return _session(_header(NEGOTIATE, 0, False, 1) + body)


def filetime(micros: int) -> int:
    return (micros // 1_000_000 + FILETIME_EPOCH_OFFSET) * 10_000_000 + micros % 1_000_000 * 10


def negotiate_response(server_guid: bytes, now: int) -> bytes:
    security = spnego_hint()
    body = struct.pack(
        "<HHHH16sIIIIQQHHI",
        65,
        0x01,
        0x0302,
        0,
        server_guid,
        0x2F,
        8_388_608,
        8_388_608,
        8_388_608,
        filetime(now),
        filetime(now - 86_400_000_000),
        64 + 64,
        len(security),
        0,
    )
    return _session(_header(NEGOTIATE, 0, True, 1) + body + security)


def encrypted(size: int, session_id: int, rng: random.Random) -> bytes:
    """An SMB3 TRANSFORM_HEADER message wrapping ``size`` bytes of ciphertext."""
    header = b"\xfdSMB" + rng.randbytes(16) + rng.randbytes(11) + b"\x00" * 5
    header += struct.pack("<IHHQ", size, 0, 1, session_id)
    return _session(header + rng.randbytes(size))
