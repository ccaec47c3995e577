"""SNMP dissector: BER vectors (RFC 1157, 3416, 3412/3414) and real captures."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.snmp import SnmpDissector
from medsec.model.errors import DissectError
from medsec.model.observations.management import SnmpMessage

from tests_support.dissect_harness import ctx, payloads

D = SnmpDissector()
UDP = ctx(transport="udp", src_port=161, dst_port=40000)


def ber(tag: int, value: bytes) -> bytes:
    """A BER element: tag, definite length (short form, or long form 0x81/0x82), value."""
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = b"\x81" + bytes([n])
    else:
        length = b"\x82" + n.to_bytes(2, "big")
    return bytes([tag]) + length + value


def integer(value: int) -> bytes:
    return ber(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def octets(value: bytes) -> bytes:
    return ber(0x04, value)


def oid(text: str) -> bytes:
    arcs = [int(x) for x in text.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return ber(0x06, bytes(out))


def varbind(name: str, value: bytes) -> bytes:
    return ber(0x30, oid(name) + value)


def pdu(tag: int, request_id: int, *binds: bytes, error: int = 0) -> bytes:
    return ber(tag, integer(request_id) + integer(error) + integer(0) + ber(0x30, b"".join(binds)))


SYSTEM = (
    varbind("1.3.6.1.2.1.1.1.0", octets(b"ExampleVent OS 4.2.1 (ARM)")),  # sysDescr
    varbind("1.3.6.1.2.1.1.2.0", oid("1.3.6.1.4.1.99999.1.7")),  # sysObjectID
    varbind("1.3.6.1.2.1.1.3.0", ber(0x43, b"\x01\x02\x03")),  # sysUpTime (TimeTicks)
    varbind("1.3.6.1.2.1.1.4.0", octets(b"biomed@hospital.example")),  # sysContact
    varbind("1.3.6.1.2.1.1.5.0", octets(b"vent-icu-03\x00")),  # sysName (NUL-padded)
    varbind("1.3.6.1.2.1.1.6.0", octets(b"ICU bay 3")),  # sysLocation
)
# v2c (version 1) GetResponse, community "public"
RESPONSE = ber(0x30, integer(1) + octets(b"public") + pdu(0xA2, 0x1234, *SYSTEM))


def one(data: bytes) -> SnmpMessage:
    (msg,) = D.dissect(data, UDP)
    assert isinstance(msg, SnmpMessage)
    return msg


def test_v2c_response_with_system_group() -> None:
    msg = one(RESPONSE)
    assert (msg.version, msg.community, msg.pdu_type) == ("2c", "public", "get-response")
    assert (msg.request_id, msg.error_status) == (0x1234, 0)
    assert msg.sys_descr == "ExampleVent OS 4.2.1 (ARM)"
    assert msg.sys_object_id == "1.3.6.1.4.1.99999.1.7"
    assert msg.sys_contact == "biomed@hospital.example"
    assert msg.sys_name == "vent-icu-03"
    assert msg.sys_location == "ICU bay 3"
    assert msg.varbind_oids == tuple(f"1.3.6.1.2.1.1.{i}.0" for i in range(1, 7))
    assert msg.msg_authoritative_engine_id is None


def test_v1_get_request_with_null_values() -> None:
    request = ber(
        0x30,
        integer(0)
        + octets(b"private")
        + pdu(0xA0, 7, varbind("1.3.6.1.2.1.1.1.0", b"\x05\x00")),  # value NULL
    )
    msg = one(request)
    assert (msg.version, msg.community, msg.pdu_type) == ("1", "private", "get-request")
    assert msg.varbind_oids == ("1.3.6.1.2.1.1.1.0",) and msg.sys_descr is None


def test_v1_trap() -> None:
    trap = ber(
        0xA4,
        oid("1.3.6.1.4.1.99999.2")  # enterprise
        + ber(0x40, bytes([10, 4, 5, 6]))  # agent-addr
        + integer(6)  # generic-trap: enterpriseSpecific
        + integer(17)  # specific-trap
        + ber(0x43, b"\x10\x00")  # time-stamp
        + ber(0x30, varbind("1.3.6.1.2.1.1.5.0", octets(b"pump-9"))),
    )
    msg = one(ber(0x30, integer(0) + octets(b"public") + trap))
    assert (msg.pdu_type, msg.enterprise, msg.agent_addr, msg.generic_trap) == (
        "trap",
        "1.3.6.1.4.1.99999.2",
        "10.4.5.6",
        6,
    )
    assert msg.request_id is None and msg.sys_name == "pump-9"


ENGINE = bytes.fromhex("80001f8880a9498e5e3a2c3043")  # enterprise 8072 (net-snmp), random


def v3(flags: int, data: bytes) -> bytes:
    usm = ber(
        0x30,
        octets(ENGINE)
        + integer(3)
        + integer(1234)
        + octets(b"monitor")
        + octets(b"")
        + octets(b""),
    )
    header = ber(0x30, integer(42) + integer(65507) + octets(bytes([flags])) + integer(3))
    return ber(0x30, integer(3) + header + octets(usm) + data)


def test_v3_plaintext_scoped_pdu() -> None:
    scoped = ber(0x30, octets(ENGINE) + octets(b"") + pdu(0xA2, 9, SYSTEM[4]))
    msg = one(v3(0x00, scoped))
    assert (msg.version, msg.community, msg.msg_flags) == ("3", None, 0)
    assert msg.msg_authoritative_engine_id == ENGINE.hex()
    assert msg.msg_user_name == "monitor"
    assert (msg.pdu_type, msg.sys_name) == ("get-response", "vent-icu-03")


def test_v3_encrypted_pdu() -> None:
    msg = one(v3(0x03, octets(b"\x8a" * 40)))  # auth + priv: msgData is encryptedPDU
    assert msg.msg_flags == 3 and msg.pdu_type is None and msg.varbind_oids == ()
    assert msg.msg_authoritative_engine_id == ENGINE.hex()


def test_long_lengths_and_varbind_cap() -> None:
    binds = [varbind(f"1.3.6.1.2.1.2.2.1.{i}.1", integer(i)) for i in range(100)]
    msg = one(ber(0x30, integer(1) + octets(b"public") + pdu(0xA5, 1, *binds)))
    assert msg.pdu_type == "get-bulk-request" and len(msg.varbind_oids) == 64


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "cut short"),
        (b"\x30\x80" + integer(1), "indefinite"),
        (b"\x30\x85\x00\x00\x00\x00\x05", "too long"),
        (b"\x3f\x01\x00", "multi-byte BER tag"),
        (RESPONSE[:-1], "runs past its container"),
        (ber(0x30, integer(2) + octets(b"x")), "unknown SNMP version 2"),
        (ber(0x30, integer(1) + integer(5)), "community"),
        (ber(0x30, integer(1) + octets(b"p") + ber(0xA9, b"")), "unknown PDU tag"),
        (ber(0x30, ber(0x02, b"\x00" * 10)), "INTEGER of 10 bytes"),
        (ber(0x30, integer(1) + octets(b"p") + pdu(0xA0, 1, ber(0x30, ber(0x06, b"\x2b\x86")))),
         "ends inside"),
        (ber(0x30, integer(1) + octets(b"p") + pdu(0xA0, 1, ber(0x30, ber(0x06, b"")))),
         "OID of 0 bytes"),
        (ber(0x30, integer(1) + octets(b"p") + ber(0xA0, integer(1))), "cut short"),
        (v3(0, ber(0x02, b"\x01")), "msgData"),
    ],
)  # fmt: skip
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_signature() -> None:
    assert D.signature(RESPONSE)
    assert D.signature(v3(0x03, octets(b"\x00" * 8)))
    assert not D.signature(RESPONSE + b"\x00")  # the message must fill the datagram
    assert not D.signature(ber(0x30, integer(2) + octets(b"x")))
    assert not D.signature(b"\x30\x03\x02\x01")
    assert not D.signature(b"GET / HTTP/1.0\r\n")


# ---------------------------------------------------------------- real captures


def observations(path: Path) -> list[SnmpMessage]:
    found = [o for p in payloads(path, ports={161, 162}) for o in D.dissect(p.data, p.ctx)]
    assert all(isinstance(o, SnmpMessage) for o in found)
    return [o for o in found if isinstance(o, SnmpMessage)]


def test_snmpwalk_of_a_linux_host(shared_data: Path) -> None:
    found = observations(shared_data / "pcap/zeek/snmp_snmpwalk-short.pcap")
    assert len(found) == 400 and {o.community for o in found} == {"public"}
    (descr,) = [o.sys_descr for o in found if o.sys_descr]
    assert descr.startswith("Linux ubuntu-512mb-sfo2-01 4.4.0-31-generic #50~14.04.1-Ubuntu")
    assert {o.sys_object_id for o in found if o.sys_object_id} == {"1.3.6.1.4.1.8072.3.2.10"}
    assert {o.sys_name for o in found if o.sys_name} == {"ubuntu-512mb-sfo2-01"}
    assert {o.sys_location for o in found if o.sys_location} == {"Sitting on the Dock of the Bay"}


@pytest.mark.parametrize(
    ("capture", "version", "pdu_types"),
    [
        ("snmp_snmpv1_get.pcap", "1", {"get-request", "set-request", "get-response"}),
        ("snmp_snmpv1_set.pcap", "1", {"set-request", "get-response"}),
        ("snmp_snmpv1_trap.pcap", "1", {"trap"}),
        ("snmp_snmpv2_get.pcap", "2c", {"get-request", "get-response"}),
        ("snmp_snmpv2_get_bulk.pcap", "2c", {"get-bulk-request", "get-response"}),
        ("snmp_snmpv2_get_next.pcap", "2c", {"get-request", "get-next-request", "get-response"}),
        ("snmp_snmpv3_get_next.pcap", "3", {"get-request", "report", "get-next-request",
                                            "get-response"}),
    ],
)  # fmt: skip
def test_zeek_snmp_traces(
    shared_data: Path, capture: str, version: str, pdu_types: set[str]
) -> None:
    found = observations(shared_data / "pcap/zeek" / capture)
    assert {o.version for o in found} == {version}
    assert {o.pdu_type for o in found} == pdu_types


def test_zeek_v1_trap_and_v3_engine(shared_data: Path) -> None:
    (trap,) = observations(shared_data / "pcap/zeek/snmp_snmpv1_trap.pcap")
    assert (trap.enterprise, trap.agent_addr, trap.generic_trap) == (
        "1.3.6.1.4.1.31337.0",
        "127.0.0.1",
        0,
    )
    found = observations(shared_data / "pcap/zeek/snmp_snmpv3_get_next.pcap")
    assert {o.msg_authoritative_engine_id for o in found} == {None, "80001f8880a9498e5e3a2c3043"}
    assert {o.msg_user_name for o in found} == {None, "username"}


def test_ndpi_router_in_pcapng(shared_data: Path) -> None:
    found: list[SnmpMessage] = []
    with open(shared_data / "pcap/ndpi/snmp.pcap", "rb") as f:  # a pcapng despite its name
        for _, buf in dpkt.pcapng.Reader(f):
            ip = dpkt.ethernet.Ethernet(buf).data
            udp = getattr(ip, "data", None)
            if isinstance(udp, dpkt.udp.UDP) and {udp.sport, udp.dport} & {161, 162}:
                c = ctx(transport="udp", src_ip=str(ipaddress.ip_address(ip.src)))
                found.extend(o for o in D.dissect(bytes(udp.data), c) if isinstance(o, SnmpMessage))
    assert len(found) == 72
    assert {o.sys_name for o in found if o.sys_name} == {"R1.lab.local"}
    assert {o.sys_location for o in found if o.sys_location} == {"GlobomanticsHQ"}
    assert {o.sys_contact for o in found if o.sys_contact} == {"nick@globomantics.com"}
    assert {o.community for o in found} == {None, "public", "public2c", "adsl"}
    encrypted = [o for o in found if o.version == "3" and o.pdu_type is None]
    assert encrypted and all(o.msg_flags is not None and o.msg_flags & 2 for o in encrypted)
