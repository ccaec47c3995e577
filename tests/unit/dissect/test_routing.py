"""VRRP and IGMP dissectors: spec vectors, and the real captures through the engine."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.igmp import IgmpDissector
from medsec.dissect.pipeline import DissectPipeline
from medsec.dissect.vrrp import VrrpDissector
from medsec.model.errors import DissectError
from medsec.model.observations.routing import IgmpMessage, VrrpAdvertisement

from tests_support.dissect_harness import ctx

V4 = ctx(transport="other", src_ip="192.0.2.2", dst_ip="224.0.0.18", src_port=0, dst_port=0)
V6 = ctx(transport="other", src_ip="fe80::1", dst_ip="ff02::12", src_port=0, dst_port=0,
         ethertype=0x86DD)  # fmt: skip

# VRRPv2 (RFC 3768 5.1): version 2 type 1, VRID 7, priority 100, 1 address, auth type 1
# (simple text), interval 1 s, checksum, 192.0.2.1, auth data "secret\0\0" (never kept)
VRRP2 = bytes.fromhex("21 07 64 01 01 01 0000 c0000201") + b"secret\x00\x00"
# VRRPv3 (RFC 5798 5.1) over IPv6: VRID 1, priority 255 (owner), 1 address, max adver int
# 100 cs, checksum, fe80::1
VRRP3 = bytes.fromhex("31 01 ff 01 0064 0000 fe800000000000000000000000000001")
# IGMPv2 general query (RFC 2236 2): type 0x11, max resp 100 (10 s), group 0.0.0.0
IGMP2_QUERY = bytes.fromhex("11 64 ee9b 00000000")
# IGMPv3 query (RFC 3376 4.1): group-specific for 239.1.2.3, QRV 2, QQIC 125, no sources
IGMP3_QUERY = bytes.fromhex("11 0a 0000 ef010203 02 7d 0000")
# IGMPv2 report for 239.255.255.250
IGMP2_REPORT = bytes.fromhex("16 00 fa04 effffffa")
# IGMPv3 report (RFC 3376 4.2): 2 records: CHANGE_TO_EXCLUDE 224.0.0.251, MODE_IS_INCLUDE
# 239.1.1.1 with one source 192.0.2.9
IGMP3_REPORT = bytes.fromhex(
    "22 00 0000 0000 0002 04 00 0000 e00000fb 01 00 0001 ef010101 c0000209"
)


def test_vrrp2_advertisement_without_the_password() -> None:
    (adv,) = VrrpDissector().dissect(VRRP2, V4)
    assert isinstance(adv, VrrpAdvertisement)
    assert (adv.version, adv.virtual_router_id, adv.priority) == (2, 7, 100)
    assert adv.virtual_addresses == ("192.0.2.1",)
    assert (adv.advertisement_interval, adv.authentication_type) == (1, 1)
    assert "secret" not in repr(adv)


def test_vrrp3_ipv6_advertisement() -> None:
    assert VrrpDissector().signature(VRRP3)
    (adv,) = VrrpDissector().dissect(VRRP3, V6)
    assert isinstance(adv, VrrpAdvertisement)
    assert (adv.version, adv.priority, adv.advertisement_interval) == (3, 255, 100)
    assert adv.virtual_addresses == ("fe80::1",)
    assert adv.authentication_type is None


@pytest.mark.parametrize("data", [VRRP3[:20], b"\x41" + VRRP3[1:], b"\x32" + VRRP3[1:], b""])
def test_vrrp_malformed(data: bytes) -> None:
    with pytest.raises(DissectError):
        list(VrrpDissector().dissect(data, V6))


def test_igmp_messages() -> None:
    d = IgmpDissector()
    (q2,) = d.dissect(IGMP2_QUERY, V4)
    (q3,) = d.dissect(IGMP3_QUERY, V4)
    (r2,) = d.dissect(IGMP2_REPORT, V4)
    (r3,) = d.dissect(IGMP3_REPORT, V4)
    assert isinstance(q2, IgmpMessage) and isinstance(q3, IgmpMessage)
    assert (q2.message_name, q2.version, q2.general_query, q2.groups) == ("query", 2, True, ())
    assert q2.max_response_time == 100
    assert (q3.version, q3.general_query, q3.groups) == (3, False, ("239.1.2.3",))
    assert isinstance(r2, IgmpMessage) and (r2.version, r2.groups) == (2, ("239.255.255.250",))
    assert isinstance(r3, IgmpMessage)
    assert (r3.version, r3.groups) == (3, ("224.0.0.251", "239.1.1.1"))


def test_igmp_v3_report_cut_short() -> None:
    with pytest.raises(DissectError):
        list(IgmpDissector().dissect(IGMP3_REPORT[:-4], V4))
    with pytest.raises(DissectError):
        list(IgmpDissector().dissect(struct.pack("!BBHI", 0x30, 0, 0, 0), V4))


def _observations(path: Path) -> list[object]:
    pipeline = DissectPipeline(default_dissectors())
    read_capture(path, sink=pipeline)
    assert pipeline.stats.failures == 0
    return pipeline.observations  # type: ignore[return-value]


def test_vrrp3_capture(shared_data: Path) -> None:
    found = [
        o
        for o in _observations(shared_data / "pcap" / "ndpi" / "vrrp3.pcapng")
        if isinstance(o, VrrpAdvertisement)
    ]
    assert {o.ctx.src_ip for o in found} == {"fe80::1", "fe80::2"}
    assert {o.version for o in found} == {3}


def test_igmp_querier_capture(shared_data: Path) -> None:
    found = [
        o
        for o in _observations(shared_data / "pcap" / "zeek" / "igmp_home-multicast-short.pcap")
        if isinstance(o, IgmpMessage) and o.general_query
    ]
    assert {o.ctx.src_ip for o in found} == {"192.168.0.1"}
