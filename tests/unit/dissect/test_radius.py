"""RADIUS dissector: RFC 2865 packets built by the RFC, and the real 802.1X exchange."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.dissect.radius import RadiusDissector
from medsec.model.errors import DissectError
from medsec.model.observations.services import RadiusMessage

from tests_support.dissect_harness import ctx, payloads

D = RadiusDissector()
NAS = ctx(transport="udp", src_port=50000, dst_port=1812)


def attribute(kind: int, value: bytes) -> bytes:
    return bytes([kind, len(value) + 2]) + value


def radius(code: int, attributes: bytes) -> bytes:
    return struct.pack(">BBH", code, 7, 20 + len(attributes)) + b"\xaa" * 16 + attributes


def one(data: bytes) -> RadiusMessage:
    (msg,) = D.dissect(data, NAS)
    assert isinstance(msg, RadiusMessage)
    return msg


def test_access_request_from_a_wireless_controller() -> None:
    data = radius(
        1,
        attribute(1, b"nurse.jones")  # User-Name
        + attribute(2, b"\x13\x37" * 8)  # User-Password (hidden)
        + attribute(4, bytes([10, 20, 0, 5]))  # NAS-IP-Address
        + attribute(32, b"wlc-ward3")  # NAS-Identifier
        + attribute(61, struct.pack(">I", 19))  # NAS-Port-Type Wireless-802.11
        + attribute(6, struct.pack(">I", 2))  # Service-Type Framed
        + attribute(26, struct.pack(">I", 14179) + b"\x01\x06\x00\x00\x00\x01")  # Airespace
        + attribute(79, b"\x02\x01\x00\x06\x19\x00"),  # EAP-Response, type 25 (PEAP)
    )
    msg = one(data)
    assert (msg.code, msg.code_name, msg.nas_ip_address, msg.nas_identifier) == (
        1,
        "Access-Request",
        "10.20.0.5",
        "wlc-ward3",
    )
    assert (msg.nas_port_type, msg.service_type, msg.vendor_ids, msg.eap_type) == (
        19,
        2,
        (14179,),
        25,
    )
    assert msg.attribute_types == (1, 2, 4, 32, 61, 6, 26, 79)
    assert "nurse" not in repr(msg) and "\\x13\\x37" not in repr(msg)


def test_access_accept_and_unknown_code() -> None:
    assert one(radius(2, attribute(18, b"Welcome"))).code_name == "Access-Accept"
    assert one(radius(99, b"")).code_name == "code-99"
    assert "Welcome" not in repr(one(radius(2, attribute(18, b"Welcome"))))


@pytest.mark.parametrize(
    "data",
    [
        b"\x01\x00\x00\x14",  # shorter than the header
        struct.pack(">BBH", 1, 0, 400) + b"\x00" * 16,  # length beyond the datagram
        radius(1, b"\x04\x01"),  # attribute length below 2
        radius(1, b"\x04\x09\x0a\x00"),  # attribute overruns the packet
    ],
)
def test_malformed(data: bytes) -> None:
    with pytest.raises(DissectError):
        list(D.dissect(data, NAS))


def test_real_eap_exchange(shared_data: Path) -> None:
    found = [
        o
        for p in payloads(shared_data / "pcap/zeek/radius_radius.pcap")
        for o in D.dissect(p.data, p.ctx)
        if isinstance(o, RadiusMessage)
    ]
    by_sender = {(o.ctx.src_ip, o.code_name) for o in found}
    assert {
        ("10.0.0.1", "Access-Request"),
        ("10.0.0.100", "Access-Challenge"),
        ("10.0.0.100", "Access-Accept"),
    } == by_sender
    request = next(o for o in found if o.code == 1)
    assert (request.nas_ip_address, request.nas_port_type) == ("10.0.0.1", 15)
    assert not any("McGuirk" in repr(o) for o in found)


def test_signature_is_the_exact_layout() -> None:
    data = radius(1, attribute(4, bytes([10, 0, 0, 1])) + attribute(61, struct.pack(">I", 15)))
    assert D.signature(data)
    assert not D.signature(data + b"\x00")  # length field no longer the datagram's
    assert not D.signature(radius(1, b"\x04\x09\x0a\x00\x00\x01\x00\x00"))  # overrunning TLV
    assert not D.signature(radius(77, b""))  # unknown code
