"""Tuya LAN discovery: the beacons Tuya-based smart devices broadcast every few seconds.

Framing (as the open-source tinytuya and tuyapi clients read it):

* protocol 3.1-3.4: ``00 00 55 AA``, sequence, command, length (4-byte big-endian words),
  a 4-byte return code, the payload, a CRC-32 (or HMAC) and the suffix ``00 00 AA 55``;
  the length counts everything after itself. On UDP 6666 (protocol 3.1) the payload is JSON
  in the clear; on UDP 6667 it is AES-128-ECB (PKCS#7) under the key every Tuya device and
  client shares, md5("yGAdlopoPVldABfn") - published by tuya-convert, so the beacons are
  not secret;
* protocol 3.5: ``00 00 66 99``, 2 reserved bytes, sequence, command, length, a 12-byte IV,
  AES-128-GCM ciphertext under the same key with the 14 header bytes after the prefix as
  associated data, the 16-byte tag and the suffix ``00 00 99 66`` (UDP 6667 and 7000; the
  Tuya app broadcasts the same way on 7000).

The JSON names the device (``gwId``), its product (``productKey``), protocol ``version``,
``ip`` and whether it encrypts its LAN control traffic. Each datagram gives one
``TuyaDiscovery``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
from collections.abc import Iterator
from typing import Any, ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.infrastructure import TuyaDiscovery

logger = logging.getLogger(__name__)

PREFIX_55AA = b"\x00\x00\x55\xaa"
SUFFIX_55AA = b"\x00\x00\xaa\x55"
PREFIX_6699 = b"\x00\x00\x66\x99"
SUFFIX_6699 = b"\x00\x00\x99\x66"
UDP_KEY = hashlib.md5(b"yGAdlopoPVldABfn", usedforsecurity=False).digest()
"""The discovery key all Tuya devices share (tuya-convert, tinytuya ``udpkey``)."""
MAX_JSON = 4096
"""Longest discovery JSON read (beacons are about 200 bytes)."""


class TuyaError(DissectError):
    """A Tuya frame is malformed (length past the datagram, undecryptable, not JSON)."""


def _ecb_decrypt(data: bytes) -> bytes:
    if not data or len(data) % 16:
        raise TuyaError(f"encrypted payload of {len(data)} bytes is not whole AES blocks")
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # only if used

    decryptor = Cipher(algorithms.AES(UDP_KEY), modes.ECB()).decryptor()  # noqa: S305
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
        raise TuyaError("bad PKCS#7 padding: not the discovery key")
    return plain[:-pad]


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw[:MAX_JSON])
    except (ValueError, RecursionError):
        return False
    return True


def _frame_55aa(payload: bytes) -> tuple[int, bytes, bool]:
    """Command, JSON bytes and whether they were encrypted, from a 0x55AA frame."""
    if len(payload) < 24:
        raise TuyaError(f"0x55AA frame of {len(payload)} bytes")
    _, _, command, length = struct.unpack_from("!4I", payload)
    if length < 8 or 16 + length > len(payload):
        raise TuyaError(f"0x55AA length {length} in a datagram of {len(payload)} bytes")
    if payload[16 + length - 4 : 16 + length] != SUFFIX_55AA:
        raise TuyaError("0x55AA frame without its 0x0000AA55 suffix")
    body = payload[16 : 16 + length - 8]
    for clear in (body[4:], body):  # return code, then JSON in the clear (3.1); or no code
        if clear[:1] == b"{" and _is_json(clear):
            return command, clear, False  # (AES blocks may start with "{" by chance)
    if len(body) % 16 == 4:
        body = body[4:]  # the return code before the AES blocks
    return command, _ecb_decrypt(body), True


def _frame_6699(payload: bytes) -> tuple[int, bytes, bool]:
    """Command and JSON bytes from a 0x6699 (protocol 3.5) frame."""
    if len(payload) < 18 + 12 + 16 + 4:
        raise TuyaError(f"0x6699 frame of {len(payload)} bytes")
    _, _, _, command, length = struct.unpack_from("!IHIII", payload)
    end = 18 + length
    if length < 28 or end + 4 > len(payload):
        raise TuyaError(f"0x6699 length {length} in a datagram of {len(payload)} bytes")
    if payload[end : end + 4] != SUFFIX_6699:
        raise TuyaError("0x6699 frame without its 0x00009966 suffix")
    iv = payload[18:30]
    from cryptography.exceptions import InvalidTag  # cryptography: only when a frame is read
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        plain = AESGCM(UDP_KEY).decrypt(iv, payload[30:end], payload[4:18])
    except InvalidTag as exc:
        raise TuyaError("0x6699 frame does not open with the discovery key") from exc
    if plain[:1] != b"{" and plain[4:5] == b"{":
        plain = plain[4:]  # return code
    return command, plain.rstrip(b"\x00"), True


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)[:256]


class TuyaDissector:
    """Tuya discovery beacons on UDP 6666/6667 (and 0x6699 frames on any port, e.g. 7000)."""

    name: ClassVar[str] = "tuya"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({6666, 6667})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 2

    def signature(self, head: bytes) -> bool:
        """A 0x55AA or 0x6699 frame whose length word fits the datagram and whose suffix
        sits where the length says."""
        if head.startswith(PREFIX_55AA) and len(head) >= 24:
            length = int.from_bytes(head[12:16], "big")
            return 8 <= length and head[12 + length : 16 + length] == SUFFIX_55AA
        if head.startswith(PREFIX_6699) and len(head) >= 50:
            length = int.from_bytes(head[14:18], "big")
            return 28 <= length and head[18 + length : 22 + length] == SUFFIX_6699
        return False

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if payload.startswith(PREFIX_55AA):
            command: int | None
            command, raw, encrypted = _frame_55aa(payload)
            frame_format = "55aa"
        elif payload.startswith(PREFIX_6699):
            command, raw, encrypted = _frame_6699(payload)
            frame_format = "6699"
        elif payload[:1] == b"{":
            command, raw, encrypted, frame_format = None, payload, False, "json"
        else:
            return  # not a Tuya frame
        try:
            found = json.loads(raw[:MAX_JSON])
        except (ValueError, RecursionError) as exc:
            if frame_format == "json":
                return  # some other JSON-ish datagram on the port
            raise TuyaError("the frame's payload is not JSON") from exc
        if not isinstance(found, dict):
            if frame_format == "json":
                return
            raise TuyaError("the frame's JSON is not an object")
        gw_id = _text(found.get("gwId")) or _text(found.get("devId"))
        sender = _text(found.get("from"))
        if frame_format == "json" and gw_id is None and sender is None:
            return  # JSON, but not a Tuya beacon
        encrypt = found.get("encrypt")
        yield TuyaDiscovery(
            ctx=ctx,
            frame_format=frame_format,
            command=command,
            encrypted=encrypted,
            gw_id=gw_id,
            product_key=_text(found.get("productKey")),
            version=_text(found.get("version")),
            ip=_text(found.get("ip")),
            encrypt=encrypt if isinstance(encrypt, bool) else None,
            sender=sender,
        )
