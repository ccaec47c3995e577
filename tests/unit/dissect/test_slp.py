"""SLP dissector: RFC 2608 / RFC 2165 vectors and nDPI's SLPv1 printer and SLPv2 captures."""

from __future__ import annotations

import struct
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.slp import SlpDissector
from medsec.model.errors import DissectError
from medsec.model.observations.infrastructure import SlpMessage

from tests_support.dissect_harness import ctx, payloads

D = SlpDissector()
UDP = ctx(transport="udp", src_port=427, dst_port=40000)


def s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def v2(function: int, body: bytes) -> bytes:
    """Version 2, function, 24-bit length, flags 0, next extension 0, XID 7, language 'en'."""
    length = 14 + 2 + len(body)
    return (
        bytes([2, function]) + length.to_bytes(3, "big") + bytes(5) + b"\x00\x07" + s("en") + body
    )


def v1(function: int, body: bytes, encoding: int = 3) -> bytes:
    """Version 1, function, length, flags, dialect, 'en', encoding, XID."""
    head = bytes([1, function]) + struct.pack("!H", 12 + len(body)) + b"\x00\x00en"
    return head + struct.pack("!HH", encoding, 9) + body


def url_entry(url: str) -> bytes:
    return b"\x00" + struct.pack("!H", 10800) + s(url) + b"\x00"


def one(data: bytes) -> SlpMessage:
    assert D.signature(data)
    (msg,) = D.dissect(data, UDP)
    assert isinstance(msg, SlpMessage)
    return msg


def test_v2_service_request_and_reply() -> None:
    req = one(v2(1, s("") + s("service:printer") + s("DEFAULT") + s("") + s("")))
    assert (req.version, req.function_name, req.language) == (2, "SrvRqst", "en")
    assert (req.service_types, req.scopes) == (("service:printer",), ("DEFAULT",))
    rply = one(v2(2, b"\x00\x00\x00\x02" + url_entry("service:printer:lpr://10.0.0.9/q")
                  + url_entry("service:printer:ipp://10.0.0.9/ipp")))  # fmt: skip
    assert (rply.error_code, rply.urls) == (
        0,
        ("service:printer:lpr://10.0.0.9/q", "service:printer:ipp://10.0.0.9/ipp"),
    )


def test_v2_registration_attributes_and_adverts() -> None:
    reg = one(v2(3, url_entry("service:printer:lpr://p/q") + s("service:printer")
                 + s("DEFAULT") + s("(printer-make-and-model=Example P1)") + b"\x00"))  # fmt: skip
    assert (reg.function_name, reg.service_types, reg.attributes) == (
        "SrvReg",
        ("service:printer",),
        "(printer-make-and-model=Example P1)",
    )
    attrs = one(v2(7, b"\x00\x00" + s("(x=1),(y=2)") + b"\x00"))
    assert (attrs.function_name, attrs.attributes) == ("AttrRply", "(x=1),(y=2)")
    da = one(v2(8, b"\x00\x00" + bytes(4) + s("service:directory-agent://10.0.0.2")
                + s("DEFAULT,lab") + s("") + s("") + b"\x00"))  # fmt: skip
    assert (da.urls, da.scopes) == (("service:directory-agent://10.0.0.2",), ("DEFAULT", "lab"))
    types = one(v2(10, b"\x00\x00" + s("service:printer,service:wbem")))
    assert types.service_types == ("service:printer", "service:wbem")


def test_v2_authentication_blocks_are_skipped() -> None:
    auth = struct.pack("!HH", 2, 10) + bytes(6)
    entry = b"\x00" + struct.pack("!H", 60) + s("service:x://h") + b"\x01" + auth
    msg = one(v2(2, b"\x00\x00\x00\x02" + entry + url_entry("service:y://h")))
    assert msg.urls == ("service:x://h", "service:y://h")


def test_v1_messages() -> None:
    req = one(v1(1, s("") + s("service:printer/DEFAULT/")))
    assert (req.version, req.service_types, req.scopes, req.language) == (
        1,
        ("service:printer",),
        ("DEFAULT",),
        "en",
    )
    rply = one(v1(7, b"\x00\x00" + s("(x-hp-p1=MFG:HP;)")))
    assert rply.attributes == "(x-hp-p1=MFG:HP;)"
    types = one(v1(10, b"\x00\x00\x00\x02" + s("service:a") + s("service:b")))
    assert types.service_types == ("service:a", "service:b")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x02\x01\x00", "message of 3"),
        (b"\x03\x01" + bytes(14), "version 3"),
        (b"\x02\x63" + bytes(14), "function 99"),
        (b"\x02\x01\x00\x00\x63" + bytes(11), "length 99"),
        (v2(7, b"\x00\x00\x00\x20abc"), "runs past"),
        (v2(2, b"\x00\x00\x00\x01\x00\x00"), "runs past"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_real_hp_printer_attribute_reply(shared_data: Path) -> None:
    found = []
    with open(shared_data / "pcap/ndpi/srvloc-v1.pcapng", "rb") as f:
        for _, buf in dpkt.pcapng.Reader(f):
            data = bytes(dpkt.ethernet.Ethernet(buf).data.data.data)
            assert D.signature(data)
            found.extend(D.dissect(data, UDP))
    reply, request = found
    assert isinstance(reply, SlpMessage) and isinstance(request, SlpMessage)
    assert (reply.version, reply.function_name, reply.error_code) == (1, "AttrRply", 0)
    assert reply.attributes is not None
    assert "MDL:HP Color LaserJet Pro MFP M177fw;" in reply.attributes
    assert (request.function_name, request.service_types) == (
        "AttrRqst",
        ("service:x-hpnp-discover:",),
    )


def test_real_slpv2_scan(shared_data: Path) -> None:
    kinds = set()
    for p in payloads(shared_data / "pcap/ndpi/srvloc.pcap", ports={427}):
        try:
            for msg in D.dissect(p.data, p.ctx):
                assert isinstance(msg, SlpMessage)
                kinds.add(msg.function_name)
        except DissectError:
            continue
    assert {"SrvRqst", "SrvTypeRqst", "SrvRply"} <= kinds


def test_signature_tells_slpv1_from_radius_with_the_same_first_bytes() -> None:
    from medsec.dissect.slp import SlpDissector

    radius = bytes([1, 5]) + (20).to_bytes(2, "big") + bytes(16)  # Access-Request, id 5
    assert not SlpDissector().signature(radius)
