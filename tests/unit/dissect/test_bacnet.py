"""BACnet/IP dissector: ASHRAE 135 Annex J vectors and real Who-Is / I-Am captures."""

from __future__ import annotations

import struct
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.bacnet import BacnetDissector
from medsec.model.errors import DissectError
from medsec.model.observations.infrastructure import BacnetMessage

from tests_support.dissect_harness import ctx, payloads

D = BacnetDissector()
UDP = ctx(transport="udp", src_port=47808, dst_port=47808)
BROADCAST_NPDU = b"\x01\x20\xff\xff\x00\xff"  # version 1, DNET 65535, DLEN 0, hop count 255
UNICAST_NPDU = b"\x01\x00"


def bvll(function: int, npdu_apdu: bytes) -> bytes:
    return bytes([0x81, function]) + struct.pack("!H", 4 + len(npdu_apdu)) + npdu_apdu


I_AM = (
    b"\x10\x00"  # Unconfirmed-Request, i-Am
    + b"\xc4" + struct.pack("!I", 8 << 22 | 1234)  # device, instance 1234
    + b"\x22\x05\xc4"  # max APDU 1476
    + b"\x91\x00"  # segmented-both
    + b"\x21\x05"  # vendor 5
)  # fmt: skip


def char_string(text: str) -> bytes:
    raw = b"\x00" + text.encode()
    return (bytes([0x70 | len(raw)]) if len(raw) < 5 else b"\x75" + bytes([len(raw)])) + raw


def read_property_ack(prop: int, value: bytes) -> bytes:
    return (
        b"\x30\x01\x0c"  # ComplexACK, invoke id 1, readProperty
        + b"\x0c" + struct.pack("!I", 8 << 22 | 1234)  # context 0: device 1234
        + b"\x19" + bytes([prop])  # context 1: property
        + b"\x3e" + value + b"\x3f"
    )  # fmt: skip


def one(data: bytes) -> BacnetMessage:
    assert D.signature(data)
    (msg,) = D.dissect(data, UDP)
    assert isinstance(msg, BacnetMessage)
    return msg


def test_i_am_broadcast() -> None:
    msg = one(bvll(0x0B, BROADCAST_NPDU + I_AM))
    assert (msg.bvlc_function, msg.apdu_type, msg.service) == (0x0B, 1, "i-am")
    assert (msg.device_instance, msg.max_apdu_length, msg.segmentation, msg.vendor_id) == (
        1234,
        1476,
        0,
        5,
    )


def test_forwarded_npdu_and_who_is() -> None:
    msg = one(bvll(0x04, bytes([192, 0, 2, 9, 0xBA, 0xC0]) + UNICAST_NPDU + b"\x10\x08"))
    assert (msg.bvlc_function, msg.service, msg.device_instance) == (0x04, "who-is", None)


def test_read_property_request_and_string_answers() -> None:
    request = (
        b"\x01\x04"  # NPDU expecting a reply
        + b"\x00\x05\x01\x0c"  # Confirmed-Request, max 1476, invoke id 1, readProperty
        + b"\x0c" + struct.pack("!I", 8 << 22 | 1234)  # context 0: device 1234
        + b"\x19\x79"  # context 1: vendor-name (121)
    )  # fmt: skip
    req = one(bvll(0x0A, request))
    assert (req.apdu_type, req.service, req.object_type, req.property_id) == (
        0,
        "read-property",
        8,
        121,
    )
    vendor = one(bvll(0x0A, UNICAST_NPDU + read_property_ack(121, char_string("Example Controls"))))
    assert (vendor.apdu_type, vendor.vendor_name) == (3, "Example Controls")
    model = one(bvll(0x0A, UNICAST_NPDU + read_property_ack(70, char_string("EC-100"))))
    assert model.model_name == "EC-100"
    firmware = one(bvll(0x0A, UNICAST_NPDU + read_property_ack(44, char_string("2.1"))))
    assert firmware.firmware_revision == "2.1"


def test_network_messages_results_and_errors() -> None:
    router = one(bvll(0x0B, b"\x01\x80\x00"))  # Who-Is-Router-To-Network
    assert (router.network_message, router.apdu_type) == (True, None)
    result = one(b"\x81\x00\x00\x06\x00\x00")  # BVLC-Result
    assert (result.bvlc_function, result.apdu_type) == (0, None)
    error = one(bvll(0x0A, UNICAST_NPDU + b"\x50\x01\x0c\x91\x02\x91\x20"))
    assert (error.apdu_type, error.service) == (5, "read-property")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x81\x0b", "datagram of 2"),
        (b"\x82\x0b\x00\x04", "not BACnet/IP"),
        (b"\x81\x0b\x00\x09\x01", "BVLL length 9"),
        (bvll(0x0A, b"\x02\x00\x10\x08"), "NPDU version 2"),
        (bvll(0x0A, b"\x01\x20\xff"), "destination address cut short"),
        (bvll(0x0A, UNICAST_NPDU), "without an APDU"),
        (bvll(0x0A, UNICAST_NPDU + I_AM[:8]), "I-Am|tag|unsigned"),
        (
            bvll(0x0A, UNICAST_NPDU + b"\x10\x00\xc4" + struct.pack("!I", 3 << 22) + I_AM[7:]),
            "object type 3",
        ),  # fmt: skip
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_real_who_is_in_q_in_q(shared_data: Path) -> None:
    found = [
        msg
        for p in payloads(shared_data / "pcap/zeek/q-in-q.pcap", ports={47808})
        for msg in D.dissect(p.data, p.ctx)
    ]
    assert found and all(isinstance(m, BacnetMessage) and m.service == "who-is" for m in found)


def test_real_i_am_answers(shared_data: Path) -> None:
    services = set()
    vendors = set()
    with open(shared_data / "pcap/ndpi/bacnet.pcap", "rb") as f:
        for _, buf in dpkt.pcapng.Reader(f):
            udp = dpkt.ethernet.Ethernet(buf).data.data
            for msg in D.dissect(bytes(udp.data), UDP):
                assert isinstance(msg, BacnetMessage)
                services.add(msg.service)
                if msg.vendor_id is not None:
                    vendors.add(msg.vendor_id)
    assert {"read-property", "who-is", "i-am"} <= services
    assert vendors == {260}
