"""SSH-2 (RFC 4253): version banners, KEXINIT, curve25519 key exchange, then encrypted
packets that are random bytes of plausible length."""

from __future__ import annotations

import random
import struct

KEXINIT = 20
NEWKEYS = 21
KEX_ECDH_INIT = 30
KEX_ECDH_REPLY = 31

KEX = (
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "diffie-hellman-group14-sha256"
)
HOST_KEYS = "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256"
CIPHERS = (
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com"
)
MACS = (
    "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
    "hmac-sha2-512-etm@openssh.com,hmac-sha2-256"
)
COMPRESSION = "none,zlib@openssh.com"


def banner(software: str) -> bytes:
    """The identification string, ``SSH-2.0-<software>\\r\\n``."""
    return f"SSH-2.0-{software}\r\n".encode()


def _string(value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("!I", len(raw)) + raw


def packet(payload: bytes, rng: random.Random, block: int = 8) -> bytes:
    """An unencrypted binary packet with random padding to the cipher block size."""
    padding = block - (len(payload) + 5) % block
    if padding < 4:
        padding += block
    return (
        struct.pack("!IB", len(payload) + padding + 1, padding) + payload + rng.randbytes(padding)
    )


def kexinit(rng: random.Random, ciphers: str = CIPHERS) -> bytes:
    """A KEXINIT packet offering OpenSSH-like algorithm lists."""
    lists = [KEX, HOST_KEYS, ciphers, ciphers, MACS, MACS, COMPRESSION, COMPRESSION, "", ""]
    payload = bytes([KEXINIT]) + rng.randbytes(16) + b"".join(_string(n) for n in lists)
    return packet(payload + b"\x00" + b"\x00\x00\x00\x00", rng)


def ecdh_init(rng: random.Random) -> bytes:
    return packet(bytes([KEX_ECDH_INIT]) + _string(rng.randbytes(32)), rng)


def ecdh_reply(rng: random.Random) -> bytes:
    """Host key, server ephemeral key, signature, then NEWKEYS."""
    host_key = _string("ssh-ed25519") + _string(rng.randbytes(32))
    signature = _string("ssh-ed25519") + _string(rng.randbytes(64))
    payload = bytes([KEX_ECDH_REPLY]) + _string(host_key) + _string(rng.randbytes(32))
    payload += _string(signature)
    return packet(payload, rng) + newkeys(rng)


def newkeys(rng: random.Random) -> bytes:
    return packet(bytes([NEWKEYS]), rng)


def encrypted(size: int, rng: random.Random) -> bytes:
    """An encrypted packet carrying about ``size`` bytes (length, padding, 16-byte MAC)."""
    body = (size + 5 + 15) // 16 * 16
    return rng.randbytes(body + 16)
