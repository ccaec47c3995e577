"""LLDP dissector: IEEE 802.1AB / LLDP-MED TLV vectors and Zeek's SMC switch capture."""

from __future__ import annotations

import struct
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.lldp import LldpDissector
from medsec.model.errors import DissectError
from medsec.model.observations.discovery import LldpAdvertisement

from tests_support.dissect_harness import ctx

D = LldpDissector()
L2 = ctx(transport="l2", src_ip=None, dst_ip=None, src_port=0, dst_port=0, ethertype=0x88CC)


def tlv(kind: int, value: bytes) -> bytes:
    """TLV header: 7-bit type, 9-bit length."""
    return struct.pack("!H", kind << 9 | len(value)) + value


def org(oui: str, subtype: int, info: bytes) -> bytes:
    return tlv(127, bytes.fromhex(oui) + bytes([subtype]) + info)


MANDATORY = (
    tlv(1, b"\x04" + bytes.fromhex("0009fb112233"))  # chassis ID, subtype 4 MAC
    + tlv(2, b"\x03" + bytes.fromhex("0009fb112233"))  # port ID, subtype 3 MAC
    + tlv(3, b"\x00\x78")  # TTL 120 s
)
# An LLDP-MED endpoint (a medical device or IP phone) advertising its inventory.
MED_ENDPOINT = (
    MANDATORY
    + tlv(4, b"LAN port")  # port description
    + tlv(5, b"pump-07")  # system name
    + tlv(6, b"ExamplePump 2.1 (build 77)")  # system description
    + tlv(7, b"\x00\xa4\x00\x20")  # capabilities: bridge, telephone, station-only; enabled: tel.
    + tlv(8, b"\x05\x01" + bytes([10, 1, 2, 3]) + b"\x02\x00\x00\x00\x01\x00")  # mgmt IPv4
    + tlv(8, b"\x11\x02" + bytes.fromhex("fe80" + "00" * 12 + "0001") + b"\x01" + bytes(5))
    + org("0080c2", 1, b"\x00\x14")  # 802.1 port VLAN ID 20
    + org("0012bb", 1, b"\x00\x33\x03")  # LLDP-MED capabilities, device type 3
    + org("0012bb", 5, b"HW-1.0")  # inventory: hardware revision
    + org("0012bb", 6, b"FW-2.1")  # firmware revision
    + org("0012bb", 7, b"SW-3.2")  # software revision
    + org("0012bb", 8, b"SN123")  # serial number
    + org("0012bb", 9, b"ExampleMed")  # manufacturer
    + org("0012bb", 10, b"Pump X")  # model name
    + org("0012bb", 11, b"A-99")  # asset id
    + org("00120f", 1, b"\x03\x6c\x00\x10")  # 802.3 MAC/PHY: ignored
    + tlv(0, b"")  # end
    + bytes(8)  # Ethernet padding
)


def one(data: bytes) -> LldpAdvertisement:
    (msg,) = D.dissect(data, L2)
    assert isinstance(msg, LldpAdvertisement)
    return msg


def test_med_endpoint_inventory() -> None:
    msg = one(MED_ENDPOINT)
    assert (msg.chassis_id_subtype, msg.chassis_id) == (4, "00:09:fb:11:22:33")
    assert (msg.port_id_subtype, msg.port_id) == (3, "00:09:fb:11:22:33")
    assert msg.ttl == 120
    assert msg.port_description == "LAN port"
    assert msg.system_name == "pump-07"
    assert msg.system_description == "ExamplePump 2.1 (build 77)"
    assert msg.system_capabilities == ("bridge", "telephone", "station-only")
    assert msg.enabled_capabilities == ("telephone",)
    assert msg.management_addresses == ("10.1.2.3", "fe80::1")
    assert msg.port_vlan_id == 20
    assert msg.med_device_class == 3
    assert (msg.med_hardware_revision, msg.med_firmware_revision, msg.med_software_revision) == (
        "HW-1.0",
        "FW-2.1",
        "SW-3.2",
    )
    assert (msg.med_serial_number, msg.med_manufacturer, msg.med_model_name) == (
        "SN123",
        "ExampleMed",
        "Pump X",
    )
    assert msg.med_asset_id == "A-99"


def test_identifier_subtypes() -> None:
    data = (
        tlv(1, b"\x05\x01" + bytes([192, 0, 2, 1]))  # chassis: network address, IPv4
        + tlv(2, b"\x05Gi1/0/7")  # port: interface name
        + tlv(3, b"\x00\x00")  # TTL 0: leaving
    )
    msg = one(data)
    assert (msg.chassis_id, msg.port_id, msg.ttl) == ("192.0.2.1", "Gi1/0/7", 0)
    msg = one(tlv(1, b"\x07\x00\x01\xff") + tlv(2, b"\x07\x01\n") + tlv(3, b"\x00\x01"))
    assert (msg.chassis_id, msg.port_id) == ("0001ff", "010a")  # not text: hex


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "without its chassis ID"),
        (MANDATORY[:-1], "runs past the end"),
        (MANDATORY + b"\x08", "cut short"),
        (tlv(2, b"\x03ab") + tlv(1, b"\x04ab") + tlv(3, b"\x00\x01"), "mandatory TLV 1"),
        (tlv(1, b"\x04"), "of 1 bytes"),
        (MANDATORY + tlv(7, b"\x00\x04"), "capabilities TLV of 2 bytes"),
        (MANDATORY + tlv(8, b"\x09\x01\x00"), "management address"),
        (tlv(1, b"\x04ab") + tlv(2, b"\x03ab"), "without its chassis ID"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, L2))


def test_signature() -> None:
    assert D.signature(MED_ENDPOINT)
    assert not D.signature(tlv(2, b"\x03ab"))
    assert not D.signature(b"\x02\x07\x00")


def test_smc_switch(shared_data: Path) -> None:
    with open(shared_data / "pcap/zeek/lldp.pcap", "rb") as f:
        (frame,) = [buf for _, buf in dpkt.pcap.Reader(f)]
    assert frame[12:14] == b"\x88\xcc"
    msg = one(frame[14:])  # the frame keeps 3 bytes of trailer and the FCS after End
    assert msg.chassis_id == "00:22:2d:81:db:10"
    assert (msg.port_id_subtype, msg.port_id, msg.ttl) == (7, "1", 120)
    assert msg.port_description == "Port #1"
    assert msg.system_name == "SMCGS8P-Smart"
    assert msg.system_description == "SMCGS8P-Smart - SMCGS8P-Smart v3.20"
    assert msg.system_capabilities == msg.enabled_capabilities == ("bridge",)
    assert msg.management_addresses == ("192.168.2.10",)
