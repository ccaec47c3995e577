"""NAT-PMP/PCP dissector: RFC 6886 and RFC 6887 vectors and nDPI's NAT-PMP capture."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.dissect.natpmp import NatPmpDissector
from medsec.model.errors import DissectError
from medsec.model.observations.infrastructure import PortMappingMessage

from tests_support.dissect_harness import ctx, payloads

D = NatPmpDissector()
UDP = ctx(transport="udp", src_port=5351, dst_port=40000)


def one(data: bytes) -> PortMappingMessage:
    (msg,) = D.dissect(data, UDP)
    assert isinstance(msg, PortMappingMessage)
    return msg


def test_natpmp_external_address_request_and_response() -> None:
    req = one(b"\x00\x00")
    assert (req.protocol, req.opcode_name, req.response, req.epoch) == (
        "nat-pmp",
        "external-address",
        False,
        None,
    )
    res = one(b"\x00\x80" + struct.pack("!HI", 0, 1234) + bytes([198, 51, 100, 7]))
    assert (res.response, res.result_code, res.epoch, res.external_address) == (
        True,
        0,
        1234,
        "198.51.100.7",
    )


def test_natpmp_mapping_response_and_refusal() -> None:
    res = one(b"\x00\x82" + struct.pack("!HIHHI", 0, 99, 8080, 8080, 7200))
    assert (res.opcode_name, res.response, res.external_address) == ("map-tcp", True, None)
    refused = one(b"\x00\x80" + struct.pack("!HI", 3, 5))  # network failure: no address
    assert (refused.result_code, refused.external_address) == (3, None)


def test_pcp_map_request_and_response() -> None:
    client = bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 5])
    req = one(b"\x02\x01\x00\x00" + struct.pack("!I", 7200) + client + bytes(36))
    assert (req.protocol, req.opcode_name, req.response) == ("pcp", "map", False)
    mapping = bytes(12) + b"\x06\x00\x00\x00" + struct.pack("!HH", 80, 8080)
    mapping += bytes(10) + b"\xff\xff" + bytes([203, 0, 113, 9])
    res = one(b"\x02\x81\x00\x00" + struct.pack("!II", 7200, 55) + bytes(12) + mapping)
    assert (res.response, res.result_code, res.epoch, res.external_address) == (
        True,
        0,
        55,
        "203.0.113.9",
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00", "datagram of 1"),
        (b"\x01\x00", "version 1"),
        (b"\x00\x80\x00\x00", "response of 4"),
        (b"\x00\x80" + bytes(6), "without the address"),
        (b"\x02\x81" + bytes(10), "PCP message of 12"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_real_home_gateway(shared_data: Path) -> None:
    capture = shared_data / "pcap/ndpi/natpmp.pcap"
    found = [msg for p in payloads(capture) for msg in D.dissect(p.data, p.ctx)]
    answers = [m for m in found if isinstance(m, PortMappingMessage) and m.response]
    assert {m.ctx.src_ip for m in answers} == {"192.168.1.254"}
    assert answers[0].external_address == "10.201.213.174"
    assert any(isinstance(m, PortMappingMessage) and not m.response for m in found)
