"""Tuya discovery dissector: frames built by the tinytuya framing, and nDPI's capture."""

from __future__ import annotations

import binascii
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from medsec.dissect.tuya import UDP_KEY, TuyaDissector
from medsec.model.errors import DissectError
from medsec.model.observations.infrastructure import TuyaDiscovery

from tests_support.dissect_harness import ctx, payloads

D = TuyaDissector()
UDP = ctx(transport="udp", src_port=49154, dst_port=6667, dst_ip="255.255.255.255")
BEACON = {
    "ip": "192.0.2.7", "gwId": "bf0123456789abcdef01", "active": 2, "ability": 0, "mode": 0,
    "encrypt": True, "productKey": "keyexampleproduct", "version": "3.3",
}  # fmt: skip


def ecb(plain: bytes) -> bytes:
    pad = 16 - len(plain) % 16
    enc = Cipher(algorithms.AES(UDP_KEY), modes.ECB()).encryptor()
    return enc.update(plain + bytes([pad]) * pad) + enc.finalize()


def frame_55aa(body: bytes, command: int = 0x13) -> bytes:
    """Prefix, sequence 0, command, length; return code 0, body, CRC-32, suffix."""
    data = b"\x00\x00\x55\xaa" + struct.pack("!3I", 0, command, 4 + len(body) + 8)
    data += b"\x00\x00\x00\x00" + body
    return data + struct.pack("!I", binascii.crc32(data)) + b"\x00\x00\xaa\x55"


def frame_6699(plain: bytes, command: int = 0x13) -> bytes:
    """Protocol 3.5: prefix, 2 reserved, sequence, command, length; IV, GCM ciphertext + tag
    (the header after the prefix is the associated data), suffix."""
    iv = bytes(range(12))
    header = b"\x00\x00\x66\x99" + struct.pack("!HIII", 0, 1, command, 12 + len(plain) + 16)
    sealed = AESGCM(UDP_KEY).encrypt(iv, plain, header[4:])
    return header + iv + sealed + b"\x00\x00\x99\x66"


def one(data: bytes) -> TuyaDiscovery:
    assert D.signature(data) or data[:1] == b"{"
    (msg,) = D.dissect(data, UDP)
    assert isinstance(msg, TuyaDiscovery)
    return msg


def test_encrypted_beacon_on_6667() -> None:
    msg = one(frame_55aa(ecb(json.dumps(BEACON).encode())))
    assert (msg.frame_format, msg.command, msg.encrypted) == ("55aa", 0x13, True)
    assert (msg.gw_id, msg.product_key, msg.version) == (
        "bf0123456789abcdef01",
        "keyexampleproduct",
        "3.3",
    )
    assert (msg.ip, msg.encrypt, msg.sender) == ("192.0.2.7", True, None)


def test_plaintext_beacon_of_protocol_31_on_6666() -> None:
    beacon = dict(BEACON, version="3.1", encrypt=False)
    msg = one(frame_55aa(json.dumps(beacon).encode(), command=0x12))
    assert (msg.encrypted, msg.command, msg.version, msg.encrypt) == (False, 0x12, "3.1", False)


def test_protocol_35_gcm_frame() -> None:
    msg = one(frame_6699(b"\x00\x00\x00\x00" + json.dumps(dict(BEACON, version="3.5")).encode()))
    assert (msg.frame_format, msg.encrypted, msg.version) == ("6699", True, "3.5")
    app = one(frame_6699(json.dumps({"from": "app", "ip": "192.0.2.9"}).encode(), 0x25))
    assert (app.sender, app.gw_id, app.product_key) == ("app", None, None)


def test_dev_id_stands_for_a_missing_gw_id_and_bare_json() -> None:
    msg = one(json.dumps({"devId": "abc", "productKey": "p"}).encode())
    assert (msg.frame_format, msg.gw_id, msg.command) == ("json", "abc", None)
    assert list(D.dissect(b'{"hello": 1}', UDP)) == []
    assert list(D.dissect(b"{not json", UDP)) == []
    assert list(D.dissect(b"M-SEARCH * HTTP/1.1\r\n", UDP)) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\x00\x55\xaa" + bytes(12), "0x55AA frame of"),
        (frame_55aa(ecb(b"{}"))[:-6], "length"),
        (frame_55aa(ecb(b"{}"))[:-4] + b"\x00\x00\x00\x00", "suffix"),
        (frame_55aa(bytes(15)), "AES blocks"),
        (frame_55aa(bytes(32)), "padding"),
        (frame_55aa(ecb(b"not json")), "not JSON"),
        (frame_55aa(ecb(b"[1, 2]")), "not an object"),
        (frame_6699(b"{}")[:-6] + b"\x00\x00\x99\x66", "length"),
        (frame_6699(b'{"a": 1}')[:40] + b"\xff" + frame_6699(b'{"a": 1}')[41:], "discovery key"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_real_beacons_of_thirteen_devices(shared_data: Path) -> None:
    found: dict[str, TuyaDiscovery] = {}
    for p in payloads(shared_data / "pcap/ndpi/tuya_lp.pcap"):
        assert D.signature(p.data)
        for msg in D.dissect(p.data, p.ctx):
            assert isinstance(msg, TuyaDiscovery)
            found[str(p.ctx.src_ip)] = msg
    assert len(found) == 13
    for ip, msg in found.items():
        assert (msg.ip, msg.version, msg.encrypted, msg.command) == (ip, "3.3", True, 0x13)
        assert msg.gw_id and msg.product_key and msg.product_key.startswith("key")
