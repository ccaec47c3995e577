"""NTP dissector: RFC 5905 header vectors and real captures."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.dissect.ntp import NtpDissector
from medsec.model.errors import DissectError
from medsec.model.observations.management import NtpMessage

from tests_support.dissect_harness import ctx, payloads

D = NtpDissector()
UDP = ctx(transport="udp", src_port=123, dst_port=123)


def header(li_vn_mode: int, stratum: int, poll: int, refid: bytes) -> bytes:
    """LI/VN/Mode, stratum, poll, precision -20, root delay, root dispersion, reference id,
    then four zero timestamps."""
    return struct.pack("!BBbb", li_vn_mode, stratum, poll, -20) + bytes(8) + refid + bytes(32)


def one(data: bytes) -> NtpMessage:
    (msg,) = D.dissect(data, UDP)
    assert isinstance(msg, NtpMessage)
    return msg


def test_server_at_stratum_one_with_gps() -> None:
    msg = one(header(0x24, 1, 6, b"GPS\x00"))  # LI 0, version 4, mode 4 (server)
    assert (msg.version, msg.mode, msg.mode_name, msg.leap_indicator) == (4, 4, "server", 0)
    assert (msg.stratum, msg.reference_id, msg.poll) == (1, "GPS", 6)


def test_client_at_stratum_two_names_its_upstream() -> None:
    msg = one(header(0x23, 2, 10, bytes([192, 0, 2, 123])))  # version 4, mode 3 (client)
    assert (msg.mode_name, msg.stratum, msg.reference_id) == ("client", 2, "192.0.2.123")


def test_kiss_of_death_and_unsynchronised_client() -> None:
    msg = one(header(0xE4, 0, 6, b"RATE"))  # LI 3, stratum 0: kiss code
    assert (msg.leap_indicator, msg.stratum, msg.reference_id) == (3, 0, "RATE")
    msg = one(header(0xDB, 0, 4, bytes(4)))  # LI 3, version 3, mode 3, refid 0
    assert (msg.version, msg.reference_id) == (3, None)
    msg = one(header(0x24, 1, 6, b"\x01\x02\x03\x04"))  # stratum 1, not ASCII: hex
    assert msg.reference_id == "01020304"


def test_negative_poll_and_mac_trailer() -> None:
    msg = one(header(0x23, 3, -3, bytes([10, 0, 0, 1])) + bytes(20))
    assert msg.poll == -3


def test_control_and_private_modes_state_version_and_mode() -> None:
    msg = one(bytes.fromhex("16020001") + bytes(8))  # mode 6, READSTAT (ntpq)
    assert (msg.version, msg.mode_name, msg.stratum, msg.leap_indicator) == (
        2,
        "control",
        None,
        None,
    )
    msg = one(bytes.fromhex("17000320") + bytes(4))  # mode 7, MON_GETLIST_1 (ntpdc monlist)
    assert (msg.mode, msg.mode_name) == (7, "private")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x03" + bytes(47), "version 0"),
        (b"\x3b" + bytes(47), "version 7"),
        (header(0x23, 2, 6, bytes(4))[:40], "shorter than the NTP header"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_signature() -> None:
    assert D.signature(header(0x23, 2, 6, bytes(4)))
    assert D.signature(header(0x1B, 0, 4, bytes(4)) + bytes(20))  # version 3 + MAC
    assert not D.signature(header(0x23, 2, 6, bytes(4))[:47])
    assert not D.signature(header(0x26, 2, 6, bytes(4)))  # mode 6 is not recognised by length
    assert not D.signature(header(0x23, 17, 6, bytes(4)))
    assert not D.signature(bytes(48))


def observations(path: Path) -> list[NtpMessage]:
    found = [o for p in payloads(path, ports={123}) for o in D.dissect(p.data, p.ctx)]
    return [o for o in found if isinstance(o, NtpMessage)]


def test_zeek_ntp_clients_and_servers(shared_data: Path) -> None:
    found = observations(shared_data / "pcap/zeek/ntp_ntp.pcap")
    assert len(found) == 32
    assert {o.mode_name for o in found} == {"client", "server"}
    gps = [o for o in found if o.reference_id == "GPS"]
    assert gps and gps[0].stratum == 1
    clients = {o.reference_id for o in found if o.mode_name == "client"}
    assert clients == {"85.199.214.99"}


def test_zeek_symmetric_sync(shared_data: Path) -> None:
    found = observations(shared_data / "pcap/zeek/ntp_NTP_sync.pcap")
    assert {o.mode_name for o in found} == {"symmetric-active", "symmetric-passive"}
    assert all(o.version == 3 for o in found)
    (single,) = observations(shared_data / "pcap/ndpi/NTPv4.pcap")
    assert (single.version, single.mode_name, single.reference_id) == (4, "client", "131.188.3.223")
