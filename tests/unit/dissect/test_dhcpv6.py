"""DHCPv6 dissector: spec vectors (RFC 8415, RFC 4704) and real captures."""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path

import pytest

from medsec.dissect.dhcpv6 import Dhcpv6Dissector
from medsec.model.errors import DissectError
from medsec.model.observations.addressing import Dhcpv6Message

from tests_support.dissect_harness import ctx, payloads

D = Dhcpv6Dissector()


def opt(code: int, value: bytes) -> bytes:
    return struct.pack("!HH", code, len(value)) + value


DUID_LLT = bytes.fromhex("000100012a3b4c5d0009fb112233")  # LLT, Ethernet, time, MAC
SOLICIT = (
    b"\x01"  # SOLICIT
    + bytes.fromhex("0a0b0c")  # transaction id
    + opt(1, DUID_LLT)  # client identifier
    + opt(8, b"\x00\x00")  # elapsed time
    + opt(3, bytes(12))  # IA_NA: IAID, T1, T2
    + opt(39, b"\x00" + b"\x03pc1\x03icu\x03lan\x00")  # client FQDN, flags 0: pc1.icu.lan
    + opt(16, struct.pack("!IH", 311, 8) + b"MSFT 5.0")  # vendor class: Microsoft, "MSFT 5.0"
    + opt(6, struct.pack("!4H", 17, 23, 24, 39))  # ORO: vendor opts, DNS, domain list, FQDN
    + opt(15, struct.pack("!H", 4) + b"ward")  # user class "ward"
    + opt(17, struct.pack("!I", 4413) + b"\x00\x01\x00\x00")  # vendor opts, enterprise 4413
)


def test_solicit_states_client_identity() -> None:
    (msg,) = D.dissect(SOLICIT, ctx(transport="udp", src_port=546, dst_port=547))
    assert isinstance(msg, Dhcpv6Message)
    assert (msg.msg_type, msg.msg_type_name, msg.transaction_id) == (1, "SOLICIT", 0x0A0B0C)
    assert msg.client_duid == DUID_LLT.hex()
    assert msg.client_duid_type == 1
    assert msg.client_link_layer_address == "00:09:fb:11:22:33"
    assert msg.client_fqdn == "pc1.icu.lan"
    assert (msg.vendor_class_enterprise, msg.vendor_class) == (311, ("MSFT 5.0",))
    assert msg.option_request == (17, 23, 24, 39)
    assert msg.user_class == ("ward",)
    assert msg.vendor_opts_enterprise == 4413
    assert msg.option_codes == (1, 8, 3, 39, 16, 6, 15, 17)
    assert msg.server_duid is None and msg.relay_link_address is None


def test_relayed_message_is_unwrapped() -> None:
    link = ipaddress.IPv6Address("2001:db8:10::1").packed
    peer = ipaddress.IPv6Address("fe80::209:fbff:fe11:2233").packed
    relay = b"\x0c\x00" + link + peer + opt(18, b"eth0") + opt(9, SOLICIT)  # RELAY-FORW
    outer = b"\x0c\x01" + bytes(16) + peer + opt(9, relay)  # relayed twice
    (msg,) = D.dissect(outer, ctx(transport="udp", dst_port=547))
    assert isinstance(msg, Dhcpv6Message)
    assert msg.msg_type_name == "SOLICIT" and msg.relay_link_address == "::"
    (msg,) = D.dissect(relay, ctx(transport="udp", dst_port=547))
    assert isinstance(msg, Dhcpv6Message) and msg.relay_link_address == "2001:db8:10::1"


def test_reply_with_server_duid_ll() -> None:
    duid_ll = bytes.fromhex("00030001001122334455")  # DUID-LL, Ethernet
    reply = b"\x07" + b"\x00\x00\x01" + opt(2, duid_ll) + opt(1, DUID_LLT)
    (msg,) = D.dissect(reply, ctx(transport="udp", src_port=547, dst_port=546))
    assert isinstance(msg, Dhcpv6Message)
    assert msg.msg_type_name == "REPLY" and msg.server_duid == duid_ll.hex()


def test_relay_without_relayed_message_states_nothing() -> None:
    assert list(D.dissect(b"\x0c\x00" + bytes(32), ctx(transport="udp"))) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x01\x00\x00", "message of 3 bytes"),
        (b"\x01\x00\x00\x01" + b"\x00\x01\x00", "cut short"),
        (b"\x01\x00\x00\x01" + opt(1, b"ab")[:-1], "runs past the end"),
        (b"\x01\x00\x00\x01" + opt(6, b"\x00\x17\x00"), "odd length"),
        (b"\x01\x00\x00\x01" + opt(16, b"\x00\x00"), "enterprise number"),
        (b"\x01\x00\x00\x01" + opt(16, struct.pack("!IH", 311, 9) + b"x"), "past the end"),
        (b"\x01\x00\x00\x01" + opt(39, b"\x00\x09pc"), "option 39"),
        (b"\x0c\x00" + bytes(20), "relay message of 22 bytes"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, ctx(transport="udp")))


def test_relays_nested_too_deep_are_malformed() -> None:
    msg = SOLICIT
    for _ in range(10):
        msg = b"\x0c\x00" + bytes(32) + opt(9, msg)
    with pytest.raises(DissectError, match="nested deeper"):
        list(D.dissect(msg, ctx(transport="udp")))


def test_signature() -> None:
    assert D.signature(SOLICIT)
    assert not D.signature(b"\x01\x00\x00\x01" + opt(8, b"\x00\x00"))  # no DUID option
    assert not D.signature(SOLICIT[:-1])
    assert not D.signature(b"\x0c" + SOLICIT[1:])
    assert not D.signature(b"\x00" * 20)


def test_information_requests_in_captures(shared_data: Path) -> None:
    found = []
    for capture in ("ndpi/1kxun.pcap", "ndpi/android.pcap"):
        for p in payloads(shared_data / "pcap" / capture, ports={546, 547}):
            found.extend(D.dissect(p.data, p.ctx))
    assert len(found) == 12
    assert all(isinstance(o, Dhcpv6Message) for o in found)
    macs = {o.client_link_layer_address for o in found if isinstance(o, Dhcpv6Message)}
    assert "70:3e:ac:f0:f0:07" in macs  # the same host's DHCPv4 client id in 1kxun.pcap
    kinds = {o.msg_type_name for o in found if isinstance(o, Dhcpv6Message)}
    assert kinds == {"INFORMATION-REQUEST", "SOLICIT"}
    assert all(o.option_request == (23, 24) for o in found if isinstance(o, Dhcpv6Message))
