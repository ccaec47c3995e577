"""DNS / mDNS / DNS-SD / LLMNR dissector: spec vectors (RFC 1035, 6762, 6763) and captures."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.dissect.dns import DnsDissector, decode_wire_name, read_name
from medsec.model.errors import DissectError
from medsec.model.observations import Observation
from medsec.model.observations.naming import (
    DnsAddressRecord,
    DnsAliasRecord,
    DnsHostInfoRecord,
    DnsPointerRecord,
    DnsQuery,
    DnsServiceRecord,
    DnsTextRecord,
)

from tests_support.dissect_harness import ctx, payloads

D = DnsDissector()


def name(text: str) -> bytes:
    """Uncompressed wire form: length-prefixed labels, then the root label."""
    return b"".join(bytes([len(x)]) + x.encode() for x in text.split(".")) + b"\x00"


def header(ident: int, flags: int, qd: int, an: int = 0, ns: int = 0, ar: int = 0) -> bytes:
    return struct.pack("!6H", ident, flags, qd, an, ns, ar)


def rr(owner: bytes, rtype: int, rdata: bytes, *, rclass: int = 1, ttl: int = 120) -> bytes:
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


# A plain query: id 0x1234, RD; question pool.ntp.org A IN.
QUERY = header(0x1234, 0x0100, 1) + name("pool.ntp.org") + struct.pack("!HH", 1, 1)

# An mDNS DNS-SD response (id 0, QR|AA) for a printer, using compression:
#   _ipp._tcp.local       PTR  Lab Printer._ipp._tcp.local
#   Lab Printer._ipp._tcp.local  SRV 0 0 631 labprn.local
#   Lab Printer._ipp._tcp.local  TXT "txtvers=1" "ty=ACME LaserJet 5" "adminurl=" "Color"
#   labprn.local  A 10.20.30.40        (additional)
#   labprn.local  AAAA fe80::1         (additional)
#   labprn.local  HINFO "ARMV7" "ACME-OS 4.2" (additional)
SERVICE = name("_ipp._tcp.local")  # at offset 12, 17 bytes
INSTANCE = b"\x0bLab Printer" + b"\xc0\x0c"  # "Lab Printer" + pointer to offset 12
AT_INSTANCE = bytes([0xC0, 12 + len(SERVICE) + 10])  # pointer to the PTR's rdata (offset 39)
MDNS_RESPONSE = (
    header(0, 0x8400, 0, 3, 0, 3)
    + rr(SERVICE, 12, INSTANCE, ttl=4500)
    + rr(AT_INSTANCE, 33, struct.pack("!HHH", 0, 0, 631) + name("labprn.local"), rclass=0x8001)
    + rr(
        AT_INSTANCE,
        16,
        b"\x09txtvers=1\x12ty=ACME LaserJet 5\x09adminurl=\x05Color",
        rclass=0x8001,  # IN with the cache-flush bit
        ttl=4500,
    )
    + rr(name("labprn.local"), 1, bytes([10, 20, 30, 40]), rclass=0x8001)
    + rr(name("labprn.local"), 28, bytes.fromhex("fe800000000000000000000000000001"))
    + rr(name("labprn.local"), 13, b"\x05ARMV7\x0bACME-OS 4.2")
)


def test_query_questions() -> None:
    (q,) = D.dissect(QUERY, ctx(transport="udp", dst_port=53))
    assert isinstance(q, DnsQuery)
    assert (q.service, q.transaction_id, q.name, q.qtype, q.qtype_name) == (
        "dns",
        0x1234,
        "pool.ntp.org",
        1,
        "A",
    )
    assert not q.unicast_response


def test_mdns_service_discovery_records() -> None:
    found = list(D.dissect(MDNS_RESPONSE, ctx(transport="udp", src_port=5353, dst_port=5353)))
    kinds = [type(o) for o in found]
    assert kinds == [
        DnsPointerRecord,
        DnsServiceRecord,
        DnsTextRecord,
        DnsAddressRecord,
        DnsAddressRecord,
        DnsHostInfoRecord,
    ]
    ptr, srv, txt, a, aaaa, hinfo = found
    assert isinstance(ptr, DnsPointerRecord)
    assert (ptr.service, ptr.name, ptr.target, ptr.ttl, ptr.section, ptr.response) == (
        "mdns",
        "_ipp._tcp.local",
        "Lab Printer._ipp._tcp.local",
        4500,
        "answer",
        True,
    )
    assert isinstance(srv, DnsServiceRecord)
    assert (srv.name, srv.target, srv.port, srv.priority, srv.weight) == (
        "Lab Printer._ipp._tcp.local",
        "labprn.local",
        631,
        0,
        0,
    )
    assert isinstance(txt, DnsTextRecord)
    assert txt.entries == (
        ("txtvers", "1"),
        ("ty", "ACME LaserJet 5"),
        ("adminurl", ""),
        ("Color", None),
    )
    assert isinstance(a, DnsAddressRecord) and (a.name, a.address) == (
        "labprn.local",
        "10.20.30.40",
    )
    assert a.section == "additional"
    assert isinstance(aaaa, DnsAddressRecord) and aaaa.address == "fe80::1"
    assert isinstance(hinfo, DnsHostInfoRecord)
    assert (hinfo.cpu, hinfo.os) == ("ARMV7", "ACME-OS 4.2")


def test_mdns_unicast_response_bit_and_llmnr() -> None:
    # QCLASS 0x8001: IN with the QU bit (RFC 6762 5.4)
    msg = header(0, 0, 1) + name("_pdl-datastream._tcp.local") + struct.pack("!HH", 12, 0x8001)
    (q,) = D.dissect(msg, ctx(transport="udp", src_port=5353, dst_port=5353))
    assert isinstance(q, DnsQuery) and q.unicast_response and q.service == "mdns"
    (q,) = D.dissect(QUERY, ctx(transport="udp", src_port=50000, dst_port=5355))
    assert isinstance(q, DnsQuery) and q.service == "llmnr"


def test_cname_answer_and_response_questions_are_not_queries() -> None:
    # response: question www.example.org A; answer www CNAME edge.example.net; edge A 192.0.2.9
    msg = (
        header(7, 0x8180, 1, 2)
        + name("www.example.org")
        + struct.pack("!HH", 1, 1)
        + rr(b"\xc0\x0c", 5, name("edge.example.net"), ttl=300)
        + rr(name("edge.example.net"), 1, bytes([192, 0, 2, 9]))
    )
    found = list(D.dissect(msg, ctx(transport="udp", src_port=53)))
    assert [type(o) for o in found] == [DnsAliasRecord, DnsAddressRecord]
    alias = found[0]
    assert isinstance(alias, DnsAliasRecord)
    assert (alias.name, alias.target, alias.ttl) == ("www.example.org", "edge.example.net", 300)


def test_tcp_messages_behind_length_prefixes() -> None:
    stream = struct.pack("!H", len(QUERY)) + QUERY
    stream = stream * 2 + struct.pack("!H", len(QUERY)) + QUERY[:10]  # third one cut short
    found = list(D.dissect(stream, ctx(transport="tcp", dst_port=53)))
    assert [o.name for o in found if isinstance(o, DnsQuery)] == ["pool.ntp.org"] * 2


def test_compression_pointer_loop_is_an_error() -> None:
    # question name is a pointer to itself (offset 12)
    msg = header(1, 0, 1) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    with pytest.raises(DissectError, match="loop"):
        list(D.dissect(msg, ctx(transport="udp")))
    # two pointers pointing at each other
    msg = header(1, 0, 1) + b"\xc0\x0e\xc0\x0c" + struct.pack("!HH", 1, 1)
    with pytest.raises(DissectError, match="loop"):
        list(D.dissect(msg, ctx(transport="udp")))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (QUERY[:11], "shorter than the 12-byte header"),
        (QUERY[:-2], "question runs past the end"),
        (header(1, 0, 1) + b"\x3fabc", "runs past the end"),
        (header(1, 0, 1) + b"\x40abc", "reserved label type"),
        (
            header(1, 0, 1)
            + b"\x3f"
            + b"a" * 63
            + b"\x3f"
            + b"b" * 63
            + b"\x3f"
            + b"c" * 63
            + b"\x3f"
            + b"d" * 63
            + b"\x00",
            "longer than 255",
        ),
        (header(1, 0x8000, 0, 1) + rr(name("a.b"), 1, b"\x01\x02\x03"), "A record of 3 bytes"),
        (
            header(1, 0x8000, 0, 1) + name("a.b") + b"\x00\x01\x00\x01\x00\x00\x00\x01\x00\x09",
            "data runs past the end",
        ),
        (header(1, 0x8000, 0, 1) + rr(name("a"), 16, b"\x05ab"), "character-string"),
        (header(1, 0x8000, 0, 1) + rr(name("a"), 13, b"\x01x"), "HINFO"),
        (header(1, 0x8000, 0, 1) + rr(name("a"), 33, b"\x00\x00\x00"), "SRV record"),
        (header(1, 0x8000, 0, 1) + rr(name("a"), 12, name("abc.def")[:-1]), "past"),
        (header(1, 0, 600), "more than 512"),
    ],
)
def test_malformed_messages(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, ctx(transport="udp")))


def test_name_helpers() -> None:
    msg = b"\x00" * 12 + name("a.example") + b"\x03www\xc0\x0c"
    assert read_name(msg, 12) == ("a.example", 23)
    assert read_name(msg, 23) == ("www.a.example", 29)
    assert read_name(b"\x00", 0) == (".", 1)
    assert decode_wire_name(name("host.icu")) == "host.icu"
    assert decode_wire_name(b"\x04host") == "host"  # partial name (RFC 4702)
    assert read_name(b"\x03\xff\xfeA\x00", 0)[0] == "\\xff\\xfeA"
    with pytest.raises(DissectError):
        decode_wire_name(b"\xc0\x00")


def test_signature() -> None:
    assert D.signature(QUERY)
    assert D.signature(struct.pack("!H", len(QUERY)) + QUERY)
    assert not D.signature(MDNS_RESPONSE)  # no question: not recognisable by its head
    assert not D.signature(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert not D.signature(b"\x00" * 40)
    assert not D.signature(header(1, 0x7800, 1) + name("a.b") + b"\x00\x01\x00\x01")
    netbios = header(1, 0x0110, 1) + b"\x20" + b"EGFCEFEECA" + b"CA" * 11 + b"\x00\x00\x20\x00\x01"
    assert not D.signature(netbios)  # NetBIOS-NS shares the format, not the names


# ---------------------------------------------------------------- real captures


def observations(path: Path) -> list[Observation]:
    found: list[Observation] = []
    for p in payloads(path, ports={53, 5353, 5355}):
        found.extend(D.dissect(p.data, p.ctx))
    return found


def test_zeek_hinfo(shared_data: Path) -> None:
    found = observations(shared_data / "pcap/zeek/dns_hinfo.pcap")
    (hinfo,) = [o for o in found if isinstance(o, DnsHostInfoRecord)]
    assert (hinfo.name, hinfo.cpu, hinfo.os) == ("zeek.example.net", "INTEL-386", "Windows")


def test_zeek_mdns_ipp_browsing_and_host_announcements(shared_data: Path) -> None:
    found = observations(shared_data / "pcap/zeek/dns_mdns.pcap")
    queries = {o.name for o in found if isinstance(o, DnsQuery)}
    assert {"_ipp._tcp.local", "_ipps._tcp.local"} <= queries
    host = "johanna-QEMU-Virtual-Machine.local"
    addresses = {o.address for o in found if isinstance(o, DnsAddressRecord) and o.name == host}
    assert "10.0.2.7" in addresses and "fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4" in addresses
    assert all(o.service == "mdns" for o in found if isinstance(o, DnsAddressRecord))


def test_iphone_device_info_txt(shared_data: Path) -> None:
    found = observations(shared_data / "pcap/ndpi/iphone.pcap")
    info = [
        o
        for o in found
        if isinstance(o, DnsTextRecord) and o.name.endswith("._device-info._tcp.local")
    ]
    assert info and ("model", "iMac11,3") in info[0].entries
    assert info[0].name == "Luca\u2019s iMac._device-info._tcp.local"
    srv = [o for o in found if isinstance(o, DnsServiceRecord)]
    assert any(o.target == "Lucas-iMac.local" for o in srv)


def test_wikipedia_dns_and_llmnr(shared_data: Path) -> None:
    found = observations(shared_data / "pcap/zeek/wikipedia.pcap")
    names = {o.name for o in found if isinstance(o, DnsQuery)}
    assert any("wikipedia" in n or "wikimedia" in n for n in names)
    assert any(isinstance(o, DnsServiceRecord) and o.port == 22 for o in found)


@pytest.mark.parametrize(
    "capture",
    [
        "zeek/dns_hinfo.pcap",
        "zeek/dns_mdns.pcap",
        "zeek/dns_mdns-no-assoc.pcap",
        "zeek/wikipedia.pcap",
        "zeek/var-services-std-ports.pcap",
        "zeek/nmap-vsn.pcap",
        "ndpi/iphone.pcap",
        "ndpi/android.pcap",
        "ndpi/1kxun.pcap",
    ],
)
def test_real_dns_parses_without_error(shared_data: Path, capture: str) -> None:
    count = 0
    for p in payloads(shared_data / "pcap" / capture, ports={53, 5353, 5355}):
        count += len(list(D.dissect(p.data, p.ctx)))  # no DissectError on real traffic
    assert count > 0
