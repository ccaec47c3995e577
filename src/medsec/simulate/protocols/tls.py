"""TLS 1.2 and 1.3 handshakes and records (RFC 5246, RFC 8446) as seen on the wire.

The ClientHello is complete (SNI, ALPN, supported_versions, groups, key share); what follows
the ServerHello is random bytes with correct record framing, as an observer of encrypted
traffic would see it.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass

from medsec.simulate.protocols import x509

HANDSHAKE = 22
CHANGE_CIPHER_SPEC = 20
ALERT = 21
APPLICATION_DATA = 23

TLS12 = 0x0303
TLS13 = 0x0304

X25519 = 0x001D
SECP256R1 = 0x0017


@dataclass(frozen=True, slots=True)
class TlsClientProfile:
    """What a client's TLS library offers."""

    name: str
    tls13: bool
    cipher_suites: tuple[int, ...]
    groups: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    alpn: tuple[str, ...]


SCHANNEL = TlsClientProfile(
    "schannel",
    True,
    (
        0x1302,
        0x1301,
        0xC02C,
        0xC02B,
        0xC030,
        0xC02F,
        0xC024,
        0xC023,
        0xC028,
        0xC027,
        0xC00A,
        0xC009,
        0xC014,
        0xC013,
        0x009D,
        0x009C,
        0x003D,
        0x003C,
        0x0035,
        0x002F,
    ),
    (X25519, SECP256R1, 0x0018),
    (0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0403, 0x0503, 0x0603, 0x0201),
    ("h2", "http/1.1"),
)
OPENSSL = TlsClientProfile(
    "openssl",
    True,
    (
        0x1302,
        0x1303,
        0x1301,
        0xC02C,
        0xC030,
        0x009F,
        0xCCA9,
        0xCCA8,
        0xCCAA,
        0xC02B,
        0xC02F,
        0x009E,
        0xC024,
        0xC028,
        0x006B,
        0xC023,
        0xC027,
        0x0067,
        0x00FF,
    ),
    (X25519, SECP256R1, 0x001E, 0x0019, 0x0018),
    (0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601),
    ("http/1.1",),
)
EMBEDDED = TlsClientProfile(
    "mbedtls",
    False,
    (0xC02B, 0xC02F, 0xC023, 0xC027, 0x009C, 0x003C, 0x002F),
    (SECP256R1, 0x0018),
    (0x0403, 0x0401, 0x0503, 0x0501),
    ("http/1.1",),
)


def record(content_type: int, body: bytes, version: int = TLS12) -> bytes:
    return struct.pack("!BHH", content_type, version, len(body)) + body


def handshake(kind: int, body: bytes) -> bytes:
    return struct.pack("!B", kind) + len(body).to_bytes(3, "big") + body


def _ext(kind: int, body: bytes) -> bytes:
    return struct.pack("!HH", kind, len(body)) + body


def _u16_list(values: tuple[int, ...]) -> bytes:
    return struct.pack(f"!H{len(values)}H", 2 * len(values), *values)


def client_hello(profile: TlsClientProfile, server_name: str, rng: random.Random) -> bytes:
    """A ClientHello record offering what ``profile`` supports, with SNI ``server_name``."""
    name = server_name.encode()
    extensions = _ext(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name)
    extensions += _ext(23, b"")
    extensions += _ext(0xFF01, b"\x00")
    extensions += _ext(10, _u16_list(profile.groups))
    extensions += _ext(11, b"\x01\x00")
    extensions += _ext(35, b"")
    protocols = b"".join(bytes([len(p)]) + p.encode() for p in profile.alpn)
    extensions += _ext(16, struct.pack("!H", len(protocols)) + protocols)
    extensions += _ext(13, _u16_list(profile.signature_algorithms))
    if profile.tls13:
        share = struct.pack("!HH", X25519, 32) + rng.randbytes(32)
        extensions += _ext(51, struct.pack("!H", len(share)) + share)
        extensions += _ext(45, b"\x01\x01")
        extensions += _ext(43, b"\x04" + struct.pack("!HH", TLS13, TLS12))
    session_id = rng.randbytes(32) if profile.tls13 else b""
    body = struct.pack("!H", TLS12) + rng.randbytes(32)
    body += bytes([len(session_id)]) + session_id
    body += _u16_list(profile.cipher_suites) + b"\x01\x00"
    body += struct.pack("!H", len(extensions)) + extensions
    return record(HANDSHAKE, handshake(1, body), version=0x0301)


def server_certificate(server_name: str, rng: random.Random) -> bytes:
    """A certificate for ``server_name`` from the simulated hospital's issuing CA."""
    return x509.certificate(server_name, "Hospital Sim Issuing CA", "Simulated", rng)


def server_flight(
    client: TlsClientProfile,
    certificate: bytes,
    server_tls13: bool,
    rng: random.Random,
) -> tuple[bytes, bool]:
    """The server's first flight and whether TLS 1.3 was chosen; a TLS 1.2 flight shows
    ``certificate`` in clear (a server presents the same one on every connection)."""
    tls13 = client.tls13 and server_tls13
    session_id = rng.randbytes(32) if client.tls13 else b""
    if tls13:
        suite = 0x1302
        extensions = _ext(43, struct.pack("!H", TLS13))
        extensions += _ext(51, struct.pack("!HH", X25519, 32) + rng.randbytes(32))
    else:
        suite = next(s for s in client.cipher_suites if s in {0xC02F, 0xC02B, 0xC030, 0xC02C})
        extensions = _ext(0xFF01, b"\x00") + _ext(11, b"\x01\x00") + _ext(23, b"")
        alpn = client.alpn[-1].encode()
        extensions += _ext(16, struct.pack("!HB", len(alpn) + 1, len(alpn)) + alpn)
    hello = struct.pack("!H", TLS12) + rng.randbytes(32) + bytes([len(session_id)]) + session_id
    hello += struct.pack("!HB", suite, 0) + struct.pack("!H", len(extensions)) + extensions
    flight = record(HANDSHAKE, handshake(2, hello))
    if tls13:
        flight += record(CHANGE_CIPHER_SPEC, b"\x01")
        flight += record(APPLICATION_DATA, rng.randbytes(rng.randrange(2400, 4200)))
        return flight, True
    certificates = len(certificate).to_bytes(3, "big") + certificate
    messages = handshake(11, len(certificates).to_bytes(3, "big") + certificates)
    point = b"\x04" + rng.randbytes(64)
    signature = rng.randbytes(71)
    key_exchange = struct.pack("!BHB", 3, SECP256R1, len(point)) + point
    key_exchange += struct.pack("!HH", 0x0403, len(signature)) + signature
    messages += handshake(12, key_exchange) + handshake(14, b"")
    return flight + record(HANDSHAKE, messages), False


def client_finish(tls13: bool, rng: random.Random) -> bytes:
    """Client key exchange (1.2), ChangeCipherSpec and the encrypted Finished."""
    if tls13:
        return record(CHANGE_CIPHER_SPEC, b"\x01") + record(APPLICATION_DATA, rng.randbytes(53))
    point = b"\x04" + rng.randbytes(64)
    out = record(HANDSHAKE, handshake(16, bytes([len(point)]) + point))
    return out + record(CHANGE_CIPHER_SPEC, b"\x01") + record(HANDSHAKE, rng.randbytes(40))


def server_finish(rng: random.Random) -> bytes:
    """TLS 1.2 server ChangeCipherSpec and encrypted Finished."""
    return record(CHANGE_CIPHER_SPEC, b"\x01") + record(HANDSHAKE, rng.randbytes(40))


def application_data(size: int, rng: random.Random, max_record: int = 16384) -> bytes:
    """``size`` bytes of plaintext as encrypted records (AEAD tag and nonce overhead)."""
    out = b""
    while size > 0:
        chunk = min(size, max_record)
        out += record(APPLICATION_DATA, rng.randbytes(chunk + 24))
        size -= chunk
    return out


def close_notify(tls13: bool, rng: random.Random) -> bytes:
    """The encrypted close_notify alert."""
    if tls13:
        return record(APPLICATION_DATA, rng.randbytes(19))
    return record(ALERT, rng.randbytes(26))
