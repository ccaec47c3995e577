"""Ubiquiti discovery dissector: TLV vectors and nDPI's UniFi Security Gateway capture."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.dissect.ubiquiti import UbiquitiDissector
from medsec.model.errors import DissectError
from medsec.model.observations.infrastructure import UbiquitiDiscovery

from tests_support.dissect_harness import ctx, payloads

D = UbiquitiDissector()
UDP = ctx(transport="udp", src_port=10001, dst_port=40000)


def tlv(kind: int, value: bytes) -> bytes:
    return bytes([kind]) + struct.pack("!H", len(value)) + value


def packet(version: int, command: int, body: bytes) -> bytes:
    return bytes([version, command]) + struct.pack("!H", len(body)) + body


ANSWER = packet(
    1,
    0,
    tlv(0x02, bytes.fromhex("0027220000aa") + bytes([192, 0, 2, 20]))
    + tlv(0x01, bytes.fromhex("0027220000aa"))
    + tlv(0x0A, struct.pack("!I", 1000))  # uptime
    + tlv(0x0B, b"ap-ward-3")
    + tlv(0x0C, b"U7PG2")
    + tlv(0x0D, b"clinical-wifi")
    + tlv(0x03, b"BZ.qca956x.v4.0.80.10875.200111.2335"),
)


def one(data: bytes) -> UbiquitiDiscovery:
    (msg,) = D.dissect(data, UDP)
    assert isinstance(msg, UbiquitiDiscovery)
    return msg


def test_v1_answer_of_an_access_point() -> None:
    assert D.signature(ANSWER)
    msg = one(ANSWER)
    assert (msg.version, msg.command, msg.hw_addresses, msg.ip_addresses) == (
        1,
        0,
        ("00:27:22:00:00:aa",),
        ("192.0.2.20",),
    )
    assert (msg.hostname, msg.product, msg.essid) == ("ap-ward-3", "U7PG2", "clinical-wifi")
    assert msg.firmware == "BZ.qca956x.v4.0.80.10875.200111.2335"
    assert (msg.model, msg.firmware_version) == (None, None)


def test_probe_states_no_device_facts() -> None:
    assert not D.signature(b"\x01\x00\x00\x00")
    msg = one(b"\x01\x00\x00\x00")
    assert (msg.hw_addresses, msg.product, msg.firmware) == ((), None, None)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x01\x00", "packet of 2"),
        (b"\x03\x00\x00\x00", "version 3"),
        (b"\x01\x00\x00\x09\x01", "length 9"),
        (packet(2, 6, b"\x0b\x00\x09abc"), "runs past"),
        (packet(2, 6, b"\x0b\x00"), "cut short"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_real_unifi_security_gateway(shared_data: Path) -> None:
    capture = shared_data / "pcap/ndpi/ubntac2.pcap"
    found = [msg for p in payloads(capture) for msg in D.dissect(p.data, p.ctx)]
    assert found
    msg = found[0]
    assert isinstance(msg, UbiquitiDiscovery)
    assert (msg.version, msg.command, msg.product, msg.model, msg.hostname) == (
        2,
        6,
        "UGW3",
        "UGW3",
        "ubnt",
    )
    assert msg.firmware_version == "4.3.33.4936086"
    assert msg.firmware == "UniFiSecurityGateway.ER-e120.v4.3.33.4936086.161203.2031"
    assert "192.168.1.1" in msg.ip_addresses
