"""Spanning tree dissector: 802.1D/802.1w BPDU vectors and Zeek's RSTP frames."""

from __future__ import annotations

import struct
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.cdp import CdpDissector
from medsec.dissect.stp import StpDissector
from medsec.model.errors import DissectError
from medsec.model.observations.infrastructure import StpBpdu

from tests_support.dissect_harness import ctx

D = StpDissector()
L2 = ctx(transport="l2", src_ip=None, dst_ip=None, src_port=0, dst_port=0, ethertype=0)
LLC = b"\x42\x42\x03"


def config(version: int, kind: int, flags: int) -> bytes:
    """Protocol id 0, version, type, flags; root 0x8001/00:00:0c:00:00:01 cost 4; bridge
    0x8001/00:00:0c:00:00:02; port 0x8003; timers 1, 20, 2, 15 s (in 1/256 s)."""
    return (
        struct.pack("!HBBB", 0, version, kind, flags)
        + bytes.fromhex("800100000c000001")
        + struct.pack("!I", 4)
        + bytes.fromhex("800100000c000002")
        + struct.pack("!5H", 0x8003, 256, 20 * 256, 2 * 256, 15 * 256)
    )


def one(data: bytes) -> StpBpdu:
    assert D.signature(data)
    (msg,) = D.dissect(data, L2)
    assert isinstance(msg, StpBpdu)
    return msg


def test_802_1d_configuration_bpdu() -> None:
    msg = one(LLC + config(0, 0x00, 0x01))
    assert (msg.encapsulation, msg.protocol_version, msg.bpdu_type) == ("llc", 0, "config")
    assert (msg.root_priority, msg.root_system_id_extension, msg.root_mac) == (
        32768,
        1,
        "00:00:0c:00:00:01",
    )
    assert (msg.bridge_mac, msg.root_path_cost, msg.port_id, msg.port_role) == (
        "00:00:0c:00:00:02",
        4,
        0x8003,
        None,
    )
    assert (msg.message_age, msg.max_age, msg.hello_time, msg.forward_delay) == (1, 20, 2, 15)


def test_rst_bpdu_port_role_and_tcn() -> None:
    msg = one(LLC + config(2, 0x02, 0x3C) + b"\x00")  # forwarding, learning, designated
    assert (msg.bpdu_type, msg.flags, msg.port_role) == ("rst", 0x3C, "designated")
    tcn = one(LLC + b"\x00\x00\x00\x80")
    assert (tcn.bpdu_type, tcn.bridge_mac) == ("tcn", None)


def test_pvst_plus_snap_frame() -> None:
    msg = one(bytes.fromhex("aaaa0300000c010b") + config(2, 0x02, 0x3C) + b"\x00\x00\x00\x02")
    assert (msg.encapsulation, msg.bpdu_type) == ("pvst+", "rst")


def test_other_llc_frames_give_nothing() -> None:
    cdp = bytes.fromhex("aaaa0300000c2000") + b"\x02\xb4\x00\x00"
    assert not D.signature(cdp) and list(D.dissect(cdp, L2)) == []
    assert list(D.dissect(b"\xf0\xf0\x03" + bytes(20), L2)) == []  # NetBIOS over LLC


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (LLC + b"\x00", "BPDU of 1 bytes"),
        (LLC + b"\x00\x01\x00\x00", "protocol identifier"),
        (LLC + b"\x00\x00\x02\x07", "BPDU type"),
        (LLC + config(2, 0x02, 0)[:30], "rst BPDU of 30 bytes"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, L2))


def test_real_rstp_frames_and_cdp_leaves_them(shared_data: Path) -> None:
    found: list[object] = []
    with open(shared_data / "pcap/zeek/wikipedia.pcap", "rb") as f:
        for _, buf in dpkt.pcap.Reader(f):
            if int.from_bytes(buf[12:14], "big") > 1500:
                continue
            assert list(CdpDissector().dissect(buf[14:], L2)) == []
            found.extend(D.dissect(buf[14:], L2))
    assert len(found) == 4
    msg = found[0]
    assert isinstance(msg, StpBpdu)
    assert (msg.protocol_version, msg.bpdu_type, msg.port_role) == (2, "rst", "designated")
    assert (msg.bridge_priority, msg.bridge_system_id_extension, msg.bridge_mac) == (
        32768,
        720,
        "00:13:7f:be:8c:c0",
    )
    assert (msg.port_id, msg.hello_time, msg.max_age) == (0x8193, 2, 20)
