"""CDP dissector: TLV vectors and Zeek's Cisco 1601 capture."""

from __future__ import annotations

import struct
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.cdp import CdpDissector
from medsec.model.errors import DissectError
from medsec.model.observations.discovery import CdpAnnouncement

from tests_support.dissect_harness import ctx

D = CdpDissector()
L2 = ctx(transport="l2", src_ip=None, dst_ip=None, src_port=0, dst_port=0, ethertype=0)
SNAP = bytes.fromhex("aaaa0300000c2000")  # LLC UI + SNAP OUI Cisco, PID CDP


def tlv(kind: int, value: bytes) -> bytes:
    """CDP TLV: type, length including the 4-byte header, value."""
    return struct.pack("!HH", kind, len(value) + 4) + value


ADDRESSES = (
    struct.pack("!I", 2)
    + b"\x01\x01\xcc" + struct.pack("!H", 4) + bytes([10, 0, 0, 5])  # NLPID IP
    + b"\x02\x08" + bytes.fromhex("aaaa0300000086dd")  # 802.2 SNAP IPv6
    + struct.pack("!H", 16) + bytes.fromhex("20010db8" + "00" * 11 + "05")
)  # fmt: skip
PHONE = (
    SNAP
    + b"\x02\xb4\x00\x00"  # version 2, holdtime 180, checksum (not verified)
    + tlv(0x0001, b"SEP0009FB112233")  # device ID
    + tlv(0x0002, ADDRESSES)  # addresses
    + tlv(0x0003, b"Port 1")  # port ID
    + tlv(0x0004, struct.pack("!I", 0x00000490))  # capabilities: host, phone, two-port relay
    + tlv(0x0005, b"SCCP75.9-4-2SR3S")  # software version
    + tlv(0x0006, b"Cisco IP Phone 7965")  # platform
    + tlv(0x0009, b"ICU\x00")  # VTP domain (NUL-terminated)
    + tlv(0x000A, b"\x00\x14")  # native VLAN 20
    + tlv(0x0016, struct.pack("!I", 1) + b"\x01\x01\xcc\x00\x04" + bytes([10, 0, 0, 6]))
    + tlv(0x000B, b"\x01")  # duplex: full (not stated)
)


def one(data: bytes) -> CdpAnnouncement:
    (msg,) = D.dissect(data, L2)
    assert isinstance(msg, CdpAnnouncement)
    return msg


def test_phone_announcement() -> None:
    msg = one(PHONE)
    assert (msg.version, msg.ttl) == (2, 180)
    assert msg.device_id == "SEP0009FB112233"
    assert msg.addresses == ("10.0.0.5", "2001:db8::5")
    assert msg.port_id == "Port 1"
    assert msg.capabilities == ("host", "phone", "two-port-mac-relay")
    assert msg.software_version == "SCCP75.9-4-2SR3S"
    assert msg.platform == "Cisco IP Phone 7965"
    assert msg.vtp_domain == "ICU"
    assert msg.native_vlan == 20
    assert msg.management_addresses == ("10.0.0.6",)


def test_trailing_frame_check_sequence_is_ignored() -> None:
    msg = one(PHONE + bytes.fromhex("deadbeef")[:3])
    assert msg.platform == "Cisco IP Phone 7965"
    msg = one(PHONE + b"\x00\x05\x00\x02")  # a would-be TLV shorter than its header
    assert msg.native_vlan == 20


def test_other_llc_frames_are_not_cdp() -> None:
    stp = bytes.fromhex("424203") + bytes(35)  # 802.1D BPDU
    dtp = bytes.fromhex("aaaa0300000c2004") + bytes(30)  # Cisco DTP
    for frame in (stp, dtp):
        assert not D.signature(frame)
        assert list(D.dissect(frame, L2)) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (SNAP + b"\x02\xb4", "CDP header of 2 bytes"),
        (SNAP + b"\x03\xb4\x00\x00", "CDP version 3"),
        (SNAP + b"\x02\xb4\x00\x00" + b"\x00\x01\x00\x02", "TLV 0x0001"),
        (SNAP + b"\x02\xb4\x00\x00" + tlv(4, b"\x01"), "capabilities TLV of 1 bytes"),
        (SNAP + b"\x02\xb4\x00\x00" + tlv(10, b"\x01"), "native VLAN"),
        (SNAP + b"\x02\xb4\x00\x00" + tlv(2, b"\x00\x00"), "without a count"),
        (SNAP + b"\x02\xb4\x00\x00" + tlv(2, ADDRESSES[:-3]), "runs past its TLV"),
        (SNAP + b"\x02\xb4\x00\x00" + tlv(2, struct.pack("!I", 3) + ADDRESSES[4:]), "cut short"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, L2))


def test_cisco_1601_router(shared_data: Path) -> None:
    with open(shared_data / "pcap/zeek/cdp-v1.pcap", "rb") as f:
        (frame,) = [buf for _, buf in dpkt.pcap.Reader(f)]
    assert int.from_bytes(frame[12:14], "big") <= 1500  # an 802.3 length, not an EtherType
    assert D.signature(frame[14:])
    msg = one(frame[14:])
    assert (msg.version, msg.ttl, msg.device_id) == (1, 180, "R1")
    assert msg.addresses == ("192.168.10.1",)
    assert msg.port_id == "Ethernet0"
    assert msg.capabilities == ("router",)
    assert msg.platform == "cisco 1601"
    assert msg.software_version is not None
    assert "IOS (tm) 1600 Software (C1600-NY-L), Version 11.2(12)P" in msg.software_version
