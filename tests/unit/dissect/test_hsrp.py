"""HSRP dissector: RFC 2281 v1 vectors, v2 TLVs, and nDPI's HSRPv2 capture."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.dissect.hsrp import HsrpDissector
from medsec.model.errors import DissectError
from medsec.model.observations.infrastructure import HsrpMessage

from tests_support.dissect_harness import ctx, payloads

D = HsrpDissector()
UDP = ctx(transport="udp", src_port=1985, dst_port=1985, dst_ip="224.0.0.2")


def v1(state: int, auth: bytes = b"cisco\x00\x00\x00") -> bytes:
    """Version 0, op hello, state, hello 3 s, hold 10 s, priority 110, group 1, reserved,
    authentication data, virtual IP 192.0.2.1."""
    return bytes([0, 0, state, 3, 10, 110, 1, 0]) + auth + bytes([192, 0, 2, 1])


def group_state(state: int, ip_version: int = 4) -> bytes:
    if ip_version == 4:
        vip = bytes([192, 0, 2, 1]) + bytes(12)
    else:
        vip = bytes.fromhex("fe80" + "00" * 13 + "01")
    value = (
        bytes([2, 0, state, ip_version])
        + struct.pack("!H", 920)
        + bytes.fromhex("00000c0000aa")
        + struct.pack("!3I", 90, 3000, 10000)
        + vip
    )
    return bytes([1, len(value)]) + value


def one(data: bytes) -> HsrpMessage:
    assert D.signature(data)
    (msg,) = D.dissect(data, UDP)
    assert isinstance(msg, HsrpMessage)
    return msg


def test_v1_hello_with_the_default_authentication() -> None:
    msg = one(v1(16))
    assert (msg.version, msg.op_code_name, msg.state_name, msg.group) == (0, "hello", "active", 1)
    assert (msg.priority, msg.hello_time, msg.hold_time, msg.virtual_ip) == (
        110,
        3,
        10,
        "192.0.2.1",
    )
    assert (msg.authentication, msg.default_authentication) == ("text", True)


def test_v1_authentication_string_is_never_kept() -> None:
    msg = one(v1(8, b"s3cr3t!\x00"))
    assert (msg.state_name, msg.default_authentication) == ("standby", False)
    assert "s3cr3t" not in repr(msg)


def test_v2_group_state_and_authentication_tlvs() -> None:
    msg = one(group_state(6) + b"\x03\x08cisco\x00\x00\x00")
    assert (msg.version, msg.state_name, msg.group, msg.identifier) == (
        2,
        "active",
        920,
        "00:00:0c:00:00:aa",
    )
    assert (msg.priority, msg.hello_time, msg.virtual_ip, msg.authentication) == (
        90,
        3000,
        "192.0.2.1",
        "text",
    )
    v6 = one(group_state(5, 6) + b"\x04\x1c" + bytes(28))
    assert (v6.virtual_ip, v6.authentication, v6.default_authentication) == ("fe80::1", "md5", None)


def test_v2_interface_state_only_gives_nothing() -> None:
    assert list(D.dissect(b"\x02\x04" + bytes(4), UDP)) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (v1(16)[:12], "v1 message of 12"),
        (b"\x09\x00", "neither"),
        (group_state(6)[:30], "runs past"),
        (b"\x01\x04" + bytes(4), "group state TLV of 4"),
        (group_state(6) + b"\x03", "cut short"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_real_hsrpv2_pair(shared_data: Path) -> None:
    found = {
        p.ctx.src_ip: msg
        for p in payloads(shared_data / "pcap/ndpi/hsrp2.pcap")
        for msg in D.dissect(p.data, p.ctx)
    }
    standby, active = found["10.52.220.125"], found["10.52.253.125"]
    assert isinstance(standby, HsrpMessage) and isinstance(active, HsrpMessage)
    assert (standby.state_name, standby.group, standby.virtual_ip) == (
        "standby",
        920,
        "10.52.220.126",
    )
    assert (active.state_name, active.group, active.priority) == ("active", 103, 110)
    assert standby.default_authentication is True
