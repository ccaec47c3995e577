"""Network discovery and management dissectors under hostile bytes, plus round trips.

DHCP, DHCPv6, DNS/mDNS/LLMNR, SSDP, LLDP, CDP, NetBIOS-NS, WS-Discovery, DPWS, SNMP, NTP
and syslog: arbitrary and mutated inputs make ``signature`` return a bool and ``dissect``
yield observations or raise ``DissectError`` - nothing else, no warning, no hang. Round
trips: messages built from random field values come back with the same facts.
"""

from __future__ import annotations

import gzip
import struct
import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from medsec.dissect.cdp import CdpDissector
from medsec.dissect.dhcp import DhcpDissector
from medsec.dissect.dhcpv6 import Dhcpv6Dissector
from medsec.dissect.dns import DnsDissector
from medsec.dissect.lldp import LldpDissector
from medsec.dissect.netbios import NetbiosNsDissector
from medsec.dissect.ntp import NtpDissector
from medsec.dissect.snmp import SnmpDissector
from medsec.dissect.ssdp import SsdpDissector
from medsec.dissect.syslog import SyslogDissector
from medsec.dissect.wsdiscovery import DpwsDissector, WsDiscoveryDissector
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext
from medsec.model.observations.addressing import DhcpRequest
from medsec.model.observations.discovery import (
    DpwsDeviceMetadata,
    LldpAdvertisement,
    WsDiscoveryMessage,
)
from medsec.model.observations.management import SnmpMessage, SyslogMessage
from medsec.model.observations.naming import DnsQuery, DnsTextRecord, NetbiosNameQuery

from tests_support.dissect_harness import PROPERTY, ctx, hostile_properties, run_hostile

DISSECTORS: list[Any] = [
    DhcpDissector(),
    Dhcpv6Dissector(),
    DnsDissector(),
    SsdpDissector(),
    LldpDissector(),
    CdpDissector(),
    NetbiosNsDissector(),
    WsDiscoveryDissector(),
    DpwsDissector(),
    SnmpDissector(),
    NtpDissector(),
    SyslogDissector(),
]
L2 = ctx(transport="l2", src_ip=None, dst_ip=None, src_port=0, dst_port=0, ethertype=0x88CC)


def contexts(dissector: Any) -> list[PacketContext]:
    """One context per transport the dissector takes, on its first port (mDNS for DNS)."""
    port = 5353 if dissector.name == "dns" else min(dissector.ports, default=40000)
    out = []
    for transport in sorted(dissector.transports):
        if transport == "l2":
            out.append(L2)
        else:
            out.append(ctx(transport=transport, src_port=port, dst_port=port))
    return out


def run(dissector: Any, data: bytes) -> list[Observation]:
    return run_hostile(dissector, data, contexts(dissector))


# --- builders of valid messages -----------------------------------------------------------


def dhcp(options: bytes, op: int = 1) -> bytes:
    """BOOTP header (op, Ethernet, hlen 6, xid 1, chaddr 00:09:fb:00:00:01), cookie, options."""
    return (
        bytes([op, 1, 6, 0])
        + b"\x00\x00\x00\x01"
        + bytes(20)
        + bytes.fromhex("0009fb000001").ljust(16, b"\x00")
        + bytes(192)
        + bytes.fromhex("63825363")
        + options
    )


def dns_name(labels: list[bytes]) -> bytes:
    return b"".join(bytes([len(x)]) + x for x in labels) + b"\x00"


def dns_query(labels: list[bytes], qtype: int = 12) -> bytes:
    return struct.pack("!6H", 0, 0, 1, 0, 0, 0) + dns_name(labels) + struct.pack("!HH", qtype, 1)


def ber(tag: int, value: bytes) -> bytes:
    n = len(value)
    length = bytes([n]) if n < 0x80 else b"\x82" + n.to_bytes(2, "big")
    return bytes([tag]) + length + value


def snmp_response(community: bytes, descr: bytes) -> bytes:
    sys_descr = ber(0x06, bytes.fromhex("2b06010201010100"))  # 1.3.6.1.2.1.1.1.0
    binds = ber(0x30, ber(0x30, sys_descr + ber(0x04, descr)))
    pdu = ber(0xA2, ber(0x02, b"\x01") + ber(0x02, b"\x00") + ber(0x02, b"\x00") + binds)
    return ber(0x30, ber(0x02, b"\x01") + ber(0x04, community) + pdu)


SNMP_V3 = ber(
    0x30,
    ber(0x02, b"\x03")  # version 3
    + ber(0x30, ber(0x02, b"\x01") + ber(0x02, b"\x7f\xe3") + ber(0x04, b"\x04")
                + ber(0x02, b"\x03"))
    + ber(0x04, ber(0x30, ber(0x04, bytes.fromhex("80001f8801")) + ber(0x02, b"\x00")
                      + ber(0x02, b"\x00") + ber(0x04, b"user") + ber(0x04, b"") + ber(0x04, b"")))
    + ber(0x30, ber(0x04, b"") + ber(0x04, b"") + ber(0xA0, ber(0x02, b"\x01") + ber(0x02, b"\x00")
                                                      + ber(0x02, b"\x00") + ber(0x30, b""))),
)  # fmt: skip


def lldp_tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!H", kind << 9 | len(value)) + value


def lldp(system_name: bytes) -> bytes:
    return (
        lldp_tlv(1, b"\x04\x00\x09\xfb\x00\x00\x01")
        + lldp_tlv(2, b"\x05eth0")
        + lldp_tlv(3, b"\x00\x78")
        + lldp_tlv(5, system_name)
        + lldp_tlv(7, b"\x00\x24\x00\x20")
        + lldp_tlv(8, b"\x05\x01\x0a\x00\x00\x01\x02\x00\x00\x00\x01\x00")
        + lldp_tlv(127, b"\x00\x12\xbb\x09ExampleMed")
        + lldp_tlv(0, b"")
    )


def cdp_tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value) + 4) + value


CDP = (
    bytes.fromhex("aaaa0300000c200002b40000")
    + cdp_tlv(1, b"switch-1")
    + cdp_tlv(2, b"\x00\x00\x00\x01\x01\x01\xcc\x00\x04\x0a\x00\x00\x02")
    + cdp_tlv(4, b"\x00\x00\x00\x28")
    + cdp_tlv(6, b"cisco WS-C2960")
    + cdp_tlv(10, b"\x00\x0a")
)


def nb_encode(name: bytes, suffix: int) -> bytes:
    raw = name.ljust(15, b" ") + bytes([suffix])
    return b"\x20" + b"".join(bytes([0x41 + (b >> 4), 0x41 + (b & 15)]) for b in raw) + b"\x00"


def nb_query(name: bytes, suffix: int) -> bytes:
    return struct.pack("!6H", 1, 0x0110, 1, 0, 0, 0) + nb_encode(name, suffix) + b"\x00\x20\x00\x01"


NBSTAT = (
    struct.pack("!6H", 1, 0x8400, 0, 1, 0, 0)
    + nb_encode(b"*", 0)
    + struct.pack("!HHIH", 0x21, 1, 0, 1 + 18 + 6)
    + b"\x01"
    + b"HOST".ljust(15)
    + b"\x00\x04\x00"
    + bytes.fromhex("0009fb000001")
)

WSD_NS = (
    'xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://www.w3.org/2005/08/addressing" '
    'xmlns:d="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01" '
    'xmlns:dpws="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01"'
)


def xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def hello(scopes: list[str], types: list[str]) -> bytes:
    return (
        f"<s:Envelope {WSD_NS}><s:Header><a:Action>"
        "http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Hello</a:Action></s:Header>"
        "<s:Body><d:Hello><a:EndpointReference><a:Address>urn:uuid:1</a:Address>"
        f"</a:EndpointReference><d:Types>{' '.join(types)}</d:Types>"
        f"<d:Scopes>{xml_text(' '.join(scopes))}</d:Scopes>"
        "<d:XAddrs>http://10.0.0.1:6464/x</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>"
        "</d:Hello></s:Body></s:Envelope>"
    ).encode()


def metadata_response(manufacturer: str, model: str, serial: str) -> bytes:
    body = (
        f"<s:Envelope {WSD_NS}><s:Body><dpws:ThisModel>"
        f"<dpws:Manufacturer>{xml_text(manufacturer)}</dpws:Manufacturer>"
        f"<dpws:ModelName>{xml_text(model)}</dpws:ModelName></dpws:ThisModel>"
        f"<dpws:ThisDevice><dpws:SerialNumber>{xml_text(serial)}</dpws:SerialNumber>"
        "</dpws:ThisDevice></s:Body></s:Envelope>"
    ).encode()
    packed = gzip.compress(body, mtime=0)
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n" % len(packed)
    ) + packed


SEEDS: list[bytes] = [
    dhcp(
        b"\x35\x01\x01\x0c\x04pump\x3c\x06Acme/1\x37\x03\x01\x03\x06\x39\x02\x05\xdc"
        b"\x3d\x07\x01\x00\x09\xfb\x00\x00\x01\x4d\x05\x04ward\x51\x09\x05\x00\x00\x04pump\x00"
        b"\x52\x06\x01\x01\x01\x02\x01\x02\x34\x01\x03\xff"
    ),
    dhcp(b"\x35\x01\x05\x36\x04\x0a\x00\x00\x01\x03\x04\x0a\x00\x00\x01"
         b"\x06\x04\x0a\x00\x00\x02\xff", 2),
    b"\x01\x00\x00\x01"
    + struct.pack("!HH", 1, 14)
    + bytes.fromhex("000100012a3b4c5d0009fb000001")
    + struct.pack("!HHIH", 16, 10, 311, 4)
    + b"MSFT"
    + struct.pack("!HH4H", 6, 8, 17, 23, 24, 39),
    b"\x0c\x00" + bytes(32) + struct.pack("!HH", 9, 8) + b"\x01\x00\x00\x01" + b"\x00\x01\x00\x00",
    dns_query([b"_ipp", b"_tcp", b"local"]),
    struct.pack("!H", 30) + dns_query([b"pool", b"ntp", b"org"], 1),  # over TCP
    struct.pack("!6H", 0, 0x8400, 0, 2, 0, 0)
    + dns_name([b"_ipp", b"_tcp", b"local"])
    + struct.pack("!HHIH", 12, 1, 4500, 6)
    + b"\x03lab\xc0\x0c"
    + b"\xc0\x27"
    + struct.pack("!HHIH", 16, 1, 4500, 12)
    + b"\x04ty=X\x06Color=",
    b"NOTIFY * HTTP/1.1\r\nLOCATION: http://10.0.0.1/d.xml\r\nSERVER: Linux UPnP/1.0 X/1\r\n"
    b"NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nUSN: uuid:1::upnp:rootdevice\r\n\r\n",
    lldp(b"pump-07"),
    CDP,
    nb_query(b"PACS", 0x20),
    NBSTAT,
    hello(["sdc.ctxt.loc:/sdc.ctxt.loc.detail/H%2F%2F%2FICU?fac=H&bed=1"], ["dpws:Device"]),
    metadata_response("ExampleMed", "Monitor", "SN1"),
    snmp_response(b"public", b"ExampleOS 1.0"),
    SNMP_V3,
    struct.pack("!BBbb", 0x24, 1, 6, -20) + bytes(8) + b"GPS\x00" + bytes(32),
    b'<165>1 2003-10-11T22:14:15.003Z host app 12 ID47 [origin software="X" swVersion="1"] m',
    b"<34>Oct 11 22:14:15 mymachine su[12]: text",
    b"38 <34>Oct 11 22:14:15 mymachine su: text",
]  # fmt: skip


FRAMING_BYTES = (0x00, 0xFF, 0x7F, 0x80, 0xC0, 0x3C, 0x0A, 0x20)
"""Bytes that matter to these protocols' framing, favoured by the mutations."""


(
    test_arbitrary_bytes,
    test_mutated_valid_messages,
    test_valid_heads_with_arbitrary_tails,
    test_every_seed_is_recognised_by_some_dissector,
) = hostile_properties(DISSECTORS, SEEDS, FRAMING_BYTES, run)


# --- round trips --------------------------------------------------------------------------

LABEL = st.binary(min_size=1, max_size=20).filter(lambda b: b"." not in b)
TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s != "")


@PROPERTY
@given(
    st.lists(
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=30),
        min_size=1,
        max_size=6,
    ),
    st.integers(1, 65535),
)
def test_dns_query_round_trip(labels: list[str], qtype: int) -> None:  # fmt: skip
    msg = dns_query([x.encode() for x in labels], qtype)
    (q,) = DnsDissector().dissect(msg, ctx(transport="udp", dst_port=53))
    assert isinstance(q, DnsQuery) and q.name == ".".join(labels) and q.qtype == qtype


@PROPERTY
@given(st.lists(st.tuples(TEXT.filter(lambda s: "=" not in s), st.none() | TEXT), max_size=8))
def test_dns_txt_round_trip(entries: list[tuple[str, str | None]]) -> None:  # fmt: skip
    strings = [k.encode() + (b"" if v is None else b"=" + v.encode()) for k, v in entries]
    rdata = b"".join(bytes([len(s)]) + s for s in strings if len(s) < 256)
    msg = (
        struct.pack("!6H", 0, 0x8400, 0, 1, 0, 0)
        + dns_name([b"x", b"local"])
        + struct.pack("!HHIH", 16, 1, 10, len(rdata))
        + rdata
    )
    (txt,) = DnsDissector().dissect(msg, ctx(transport="udp", dst_port=5353))
    assert isinstance(txt, DnsTextRecord)
    assert txt.entries == tuple((k, v) for k, v in entries)


@PROPERTY
@given(host=TEXT, vendor=TEXT, prl=st.lists(st.integers(1, 254), max_size=30))
def test_dhcp_round_trip(host: str, vendor: str, prl: list[int]) -> None:
    options = (
        b"\x35\x01\x01"
        + b"\x0c" + bytes([len(host)]) + host.encode()
        + b"\x3c" + bytes([len(vendor)]) + vendor.encode()
        + b"\x37" + bytes([len(prl)]) + bytes(prl)
        + b"\xff"
    )  # fmt: skip
    (msg,) = DhcpDissector().dissect(dhcp(options), ctx(transport="udp"))
    assert isinstance(msg, DhcpRequest)
    assert (msg.host_name, msg.vendor_class, msg.param_request_list) == (
        host,
        vendor,
        tuple(prl),
    )


@PROPERTY
@given(
    st.binary(min_size=1, max_size=15).map(lambda b: b.rstrip(b" \x00")).filter(bool),
    st.integers(0, 255),
)
def test_netbios_name_round_trip(name: bytes, suffix: int) -> None:  # fmt: skip
    (q,) = NetbiosNsDissector().dissect(nb_query(name, suffix), ctx(transport="udp"))
    assert isinstance(q, NetbiosNameQuery)
    assert (q.name, q.suffix) == (name.decode("ascii", "backslashreplace"), suffix)


@PROPERTY
@given(community=TEXT, descr=st.text(max_size=300))
def test_snmp_round_trip(community: str, descr: str) -> None:
    data = snmp_response(community.encode(), descr.encode())
    assert SnmpDissector().signature(data)
    (msg,) = SnmpDissector().dissect(data, ctx(transport="udp"))
    assert isinstance(msg, SnmpMessage)
    assert (msg.community, msg.sys_descr) == (community, descr.rstrip("\x00"))


@PROPERTY
@given(st.binary(min_size=1, max_size=255).filter(lambda b: b.isascii()))
def test_lldp_system_name_round_trip(name: bytes) -> None:
    (msg,) = LldpDissector().dissect(lldp(name), L2)
    assert isinstance(msg, LldpAdvertisement)
    assert msg.system_name == name.decode() and msg.med_manufacturer == "ExampleMed"


NAME = st.text("abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=40)


@PROPERTY
@given(
    pri=st.integers(0, 191),
    host=NAME.filter(lambda s: s[0].isalnum()),
    app=NAME.filter(lambda s: s[0].isalpha()),
    pid=st.integers(0, 99999),
)
def test_syslog_round_trip(pri: int, host: str, app: str, pid: int) -> None:  # fmt: skip
    d = SyslogDissector()
    bsd = f"<{pri}>Jan  2 03:04:05 {host} {app}[{pid}]: secret text".encode()
    new = f"<{pri}>1 2024-01-02T03:04:05Z {host} {app} {pid} - - secret text".encode()
    for data, fmt in ((bsd, "rfc3164"), (new, "rfc5424")):
        (msg,) = d.dissect(data, ctx(transport="udp"))
        assert isinstance(msg, SyslogMessage) and msg.format == fmt
        assert (msg.facility, msg.severity) == divmod(pri, 8)
        assert (msg.hostname, msg.app_name, msg.procid) == (host, app, str(pid))
        assert "secret" not in repr(msg)


URI = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60)


@PROPERTY
@given(scopes=st.lists(URI, max_size=5), manufacturer=TEXT, model=TEXT, serial=TEXT)
def test_ws_discovery_and_dpws_round_trip(
    scopes: list[str], manufacturer: str, model: str, serial: str
) -> None:
    (msg,) = WsDiscoveryDissector().dissect(hello(scopes, ["dpws:Device"]), ctx(transport="udp"))
    assert isinstance(msg, WsDiscoveryMessage) and msg.scopes == tuple(scopes)
    assert msg.types_expanded == ("{http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01}Device",)
    (meta,) = DpwsDissector().dissect(metadata_response(manufacturer, model, serial), ctx())
    assert isinstance(meta, DpwsDeviceMetadata)
    assert (meta.manufacturer, meta.model_name, meta.serial_number) == (
        manufacturer,
        model,
        serial,
    )


# --- worst cases --------------------------------------------------------------------------


def dns_pointer_chains() -> bytes:
    """511 answer records whose owner names sit behind a chain of 63 compression pointers
    kept in the data of a first record (of a type nobody reads)."""
    chain = bytearray()
    last = 12  # the first record's owner name "a"
    start = 12 + 3 + 10  # its data begins after the name and the record header
    for _ in range(63):
        chain += bytes([0xC0 | last >> 8, last & 0xFF])
        last = start + len(chain) - 2
    msg = bytearray(struct.pack("!6H", 0, 0x8400, 0, 512, 0, 0))
    msg += b"\x01a\x00" + struct.pack("!HHIH", 999, 1, 0, len(chain)) + chain
    for _ in range(511):
        msg += bytes([0xC0 | last >> 8, last & 0xFF]) + struct.pack("!HHIH", 999, 1, 0, 0)
    return bytes(msg)


WORST: list[tuple[Any, bytes, PacketContext]] = [
    (DnsDissector(), dns_pointer_chains(), ctx(transport="udp", dst_port=53)),
    (DnsDissector(), (b"\x00\x0c" + bytes(12)) * 4600, ctx(transport="tcp", dst_port=53)),
    (DhcpDissector(), dhcp(b"\x00" * 60000 + b"\x0c\x01x" * 1000), ctx(transport="udp")),
    (LldpDissector(), lldp(b"x") [:-2] + lldp_tlv(8, b"\x05\x01\x0a\x00\x00\x01" + bytes(6)) * 4000,
     L2),
    (CdpDissector(), CDP + cdp_tlv(2, b"\xff\xff\xff\xff" + b"\x01\x00\x00\x00" * 16000), L2),
    (SnmpDissector(), ber(0x30, ber(0x02, b"\x01") + ber(0x04, b"p") + ber(0xA2, ber(0x02, b"\x01")
     + ber(0x02, b"\x00") + ber(0x02, b"\x00") + ber(0x30, ber(0x30, ber(0x06, b"\x2b" +
     b"\x81" * 120 + b"\x01") + b"\x05\x00") * 400))), ctx(transport="udp")),
    (SyslogDissector(), b"<34>1 - h a - - " + b"[x " + b'a="\\' * 16000 + b"]",
     ctx(transport="udp")),
    (SyslogDissector(), b"<13>x\n" * 12000, ctx(transport="tcp")),
    (WsDiscoveryDissector(), b"<a>" + b"<b>x</b>" * 8000 + b"</a>", ctx(transport="udp")),
    (DpwsDissector(), (b"GET / HTTP/1.1\r\n\r\n") * 4000, ctx()),
    (DpwsDissector(), b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     + b"1\r\nx\r\n" * 9000, ctx()),
]  # fmt: skip


def test_worst_case_heads_finish_quickly() -> None:
    for dissector, data, context in WORST:
        started = time.perf_counter()
        try:
            list(dissector.dissect(data, context))
        except DissectError:
            pass
        assert time.perf_counter() - started < 5.0, dissector.name
