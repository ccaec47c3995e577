"""WS-Discovery and DPWS metadata dissectors: SOAP vectors (WS-Discovery 1.1, DPWS 1.1,
IEEE 11073-20702 types), hostile XML, and the sdc11073 and Windows WSD captures."""

from __future__ import annotations

import gzip
import ipaddress
import zlib
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.wsdiscovery import DpwsDissector, WsDiscoveryDissector, parse_xml
from medsec.model.errors import DissectError
from medsec.model.observations import Observation
from medsec.model.observations.discovery import DpwsDeviceMetadata, WsDiscoveryMessage

from tests_support.dissect_harness import ctx, payloads

W = WsDiscoveryDissector()
P = DpwsDissector()
UDP = ctx(transport="udp", src_port=50000, dst_port=3702)
TCP = ctx(transport="tcp", src_port=6464, dst_port=50000)

NS = (
    'xmlns:s12="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:wsa="http://www.w3.org/2005/08/addressing" '
    'xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01" '
    'xmlns:dpws="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01" '
    'xmlns:mdpws="http://standards.ieee.org/downloads/11073/11073-20702-2016"'
)
DPWS_NS = "http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01"
MDPWS_NS = "http://standards.ieee.org/downloads/11073/11073-20702-2016"
EPR = "urn:uuid:0f0e0d0c-0b0a-0908-0706-050403020100"
SCOPE_LOC = "sdc.ctxt.loc:/sdc.ctxt.loc.detail/HOSP%2F%2F%2FICU%2F%2FBed3?fac=HOSP&poc=ICU&bed=Bed3"
SCOPE_TYPE = "sdc.cdc.type:/urn%3Aoid%3A1.2.840.10004.1.1.1.0.0.1//69837"


def envelope(action: str, body: str, ns: str = NS) -> bytes:
    return (
        f"<?xml version='1.0' encoding='UTF-8'?>\n<s12:Envelope {ns}><s12:Header>"
        f"<wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/{action}</wsa:Action>"
        "<wsa:MessageID>urn:uuid:1</wsa:MessageID></s12:Header>"
        f"<s12:Body>{body}</s12:Body></s12:Envelope>"
    ).encode()


TARGET = (
    f"<wsa:EndpointReference><wsa:Address>{EPR}</wsa:Address></wsa:EndpointReference>"
    "<wsd:Types>dpws:Device mdpws:MedicalDevice</wsd:Types>"
    f"<wsd:Scopes>\n  {SCOPE_LOC.replace('&', '&amp;')}\n  {SCOPE_TYPE}\n</wsd:Scopes>"
    "<wsd:XAddrs>http://10.1.2.3:6464/sdc https://[fe80::1]:6465/sdc</wsd:XAddrs>"
    "<wsd:MetadataVersion>7</wsd:MetadataVersion>"
)
HELLO = envelope("Hello", f"<wsd:Hello>{TARGET}</wsd:Hello>")
PROBE = envelope("Probe", "<wsd:Probe><wsd:Types>mdpws:MedicalDevice</wsd:Types></wsd:Probe>")
PROBE_MATCHES = envelope(
    "ProbeMatches",
    f"<wsd:ProbeMatches><wsd:ProbeMatch>{TARGET}</wsd:ProbeMatch>"
    "<wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:2</wsa:Address>"
    "</wsa:EndpointReference></wsd:ProbeMatch></wsd:ProbeMatches>",
)


def test_hello_of_an_sdc_device() -> None:
    (msg,) = W.dissect(HELLO, UDP)
    assert isinstance(msg, WsDiscoveryMessage)
    assert msg.action == "Hello"
    assert msg.action_uri == "http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Hello"
    assert msg.endpoint_reference == EPR
    assert msg.types == ("dpws:Device", "mdpws:MedicalDevice")
    assert msg.types_expanded == (f"{{{DPWS_NS}}}Device", f"{{{MDPWS_NS}}}MedicalDevice")
    assert msg.scopes == (SCOPE_LOC, SCOPE_TYPE)
    assert msg.xaddrs == ("http://10.1.2.3:6464/sdc", "https://[fe80::1]:6465/sdc")
    assert msg.metadata_version == 7


def test_probe_and_probe_matches() -> None:
    (probe,) = W.dissect(PROBE, UDP)
    assert isinstance(probe, WsDiscoveryMessage)
    assert (probe.action, probe.types, probe.endpoint_reference) == (
        "Probe",
        ("mdpws:MedicalDevice",),
        None,
    )
    first, second = W.dissect(PROBE_MATCHES, UDP)
    assert isinstance(first, WsDiscoveryMessage) and isinstance(second, WsDiscoveryMessage)
    assert (first.action, first.endpoint_reference, first.metadata_version) == (
        "ProbeMatch",
        EPR,
        7,
    )
    assert (second.endpoint_reference, second.types, second.scopes) == ("urn:uuid:2", (), ())


def test_prefixes_are_whatever_the_sender_chose() -> None:
    # other prefixes, a default namespace for the Types, an undeclared prefix left as written
    doc = (
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" '
        b'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><e:Body>'
        b'<d:Bye><Types xmlns="urn:example:types">Pump x:Other</Types></d:Bye></e:Body>'
        b"</e:Envelope>"
    )
    (msg,) = W.dissect(doc, UDP)
    assert isinstance(msg, WsDiscoveryMessage)
    assert (msg.action, msg.action_uri) == ("Bye", None)
    assert msg.types_expanded == ("{urn:example:types}Pump", "x:Other")


def test_other_soap_bodies_state_nothing() -> None:
    doc = envelope("x", "<msg:GetMdib xmlns:msg='urn:x'/>")
    assert list(W.dissect(doc, UDP)) == []


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<lolz>&lol2;</lolz>"
)
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>'


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "refused"),
        (EXTERNAL, "refused"),
        (b"<s12:Envelope", "not well-formed"),
        (b"\xff\xfe\x00", "not well-formed"),
        (b"<?xml version='1.0' encoding='bogus'?><a/>", "not well-formed"),
        (b"<a>" * 100 + b"</a>" * 100, "too large or too deep"),
        (b"<a>" + b"<b/>" * 5000 + b"</a>", "too large or too deep"),
        (b"<Hello/>", "no SOAP Envelope"),
        (b"<Envelope><Header/></Envelope>", "without a Body"),
    ],
)
def test_hostile_or_malformed_xml(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(W.dissect(data, UDP))


def test_parse_xml_keeps_prefixes_in_scope() -> None:
    root = parse_xml(b'<a xmlns:p="urn:1"><b xmlns:q="urn:2"><c>t</c></b></a>')
    c = root.path("b", "c")
    assert c is not None and c.value() == "t"
    assert c.prefixes == {"p": "urn:1", "q": "urn:2"}
    assert root.prefixes == {"p": "urn:1"}


def test_discovery_signature() -> None:
    assert W.signature(HELLO) and W.signature(b"\xef\xbb\xbf" + PROBE)
    assert not W.signature(b"<Envelope>no discovery namespace</Envelope>")
    assert not W.signature(b"NOTIFY * HTTP/1.1\r\n")


# ---------------------------------------------------------------- DPWS over HTTP

METADATA = (
    f"<?xml version='1.0' encoding='UTF-8'?><s12:Envelope {NS} "
    'xmlns:wsx="http://schemas.xmlsoap.org/ws/2004/09/mex" '
    'xmlns:sdc="http://standards.ieee.org/downloads/11073/11073-20701-2018">'
    "<s12:Header><wsa:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
    "</wsa:Action></s12:Header><s12:Body><wsx:Metadata>"
    '<wsx:MetadataSection Dialect="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01/ThisModel">'
    '<dpws:ThisModel><dpws:Manufacturer xml:lang="en">Example Medical</dpws:Manufacturer>'
    '<dpws:Manufacturer xml:lang="de">Beispiel Medizin</dpws:Manufacturer>'
    "<dpws:ModelName>Monitor M5</dpws:ModelName><dpws:ModelNumber>M5-2</dpws:ModelNumber>"
    "</dpws:ThisModel></wsx:MetadataSection><wsx:MetadataSection><dpws:ThisDevice>"
    "<dpws:FriendlyName>Monitor ICU bed 3</dpws:FriendlyName>"
    "<dpws:FirmwareVersion>5.1.0</dpws:FirmwareVersion>"
    "<dpws:SerialNumber>M5-000123</dpws:SerialNumber></dpws:ThisDevice></wsx:MetadataSection>"
    "<wsx:MetadataSection><dpws:Relationship><dpws:Host><wsa:EndpointReference>"
    f"<wsa:Address>{EPR}</wsa:Address></wsa:EndpointReference>"
    "<dpws:Types>dpws:Device mdpws:MedicalDevice</dpws:Types></dpws:Host>"
    "<dpws:Hosted><dpws:Types>sdc:GetService sdc:SetService</dpws:Types></dpws:Hosted>"
    "<dpws:Hosted><dpws:Types>sdc:GetService sdc:WaveformService</dpws:Types></dpws:Hosted>"
    "</dpws:Relationship></wsx:MetadataSection></wsx:Metadata></s12:Body></s12:Envelope>"
).encode()
GET_REQUEST = (
    b"POST /sdc HTTP/1.1\r\nHost: 10.1.2.3:6464\r\n"
    b"Content-Type: application/soap+xml; charset=utf-8\r\nContent-Length: 5\r\n\r\n<a/>\n"
)


def response(body: bytes, *headers: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n" + b"".join(
        h + b"\r\n" for h in headers
    )
    return head + b"\r\n" + body


def check_metadata(msg: Observation) -> None:
    assert isinstance(msg, DpwsDeviceMetadata)
    assert (msg.manufacturer, msg.model_name, msg.model_number) == (
        "Example Medical",
        "Monitor M5",
        "M5-2",
    )
    assert (msg.friendly_name, msg.firmware_version, msg.serial_number) == (
        "Monitor ICU bed 3",
        "5.1.0",
        "M5-000123",
    )
    assert msg.endpoint_reference == EPR
    assert msg.host_types == ("dpws:Device", "mdpws:MedicalDevice")
    assert msg.hosted_types == ("sdc:GetService", "sdc:SetService", "sdc:WaveformService")
    assert msg.manufacturer_url is None and msg.presentation_url is None


def test_metadata_with_content_length() -> None:
    stream = response(METADATA, b"Content-Length: %d" % len(METADATA))
    (msg,) = P.dissect(stream + stream[:40], TCP)  # a second response cut short: ignored
    check_metadata(msg)


def test_metadata_gzip_and_chunked() -> None:
    packed = gzip.compress(METADATA)
    (msg,) = P.dissect(
        response(packed, b"Content-Encoding: gzip", b"Content-Length: %d" % len(packed)), TCP
    )
    check_metadata(msg)
    deflated = zlib.compress(METADATA)
    chunks = b"".join(
        b"%x;ext=1\r\n%s\r\n" % (len(deflated[i : i + 100]), deflated[i : i + 100])
        for i in range(0, len(deflated), 100)
    )
    body = chunks + b"0\r\n\r\n"
    stream = response(body, b"Transfer-Encoding: chunked", b"Content-Encoding: deflate")
    (msg,) = P.dissect(stream, TCP)
    check_metadata(msg)


def test_metadata_until_connection_close() -> None:
    (msg,) = P.dissect(response(METADATA), TCP)
    check_metadata(msg)
    assert list(P.dissect(response(METADATA[:-20]), TCP)) == []  # cut by the stream head


def test_requests_and_other_soap_state_nothing() -> None:
    assert list(P.dissect(GET_REQUEST * 3, ctx(transport="tcp", from_client=True))) == []
    other = envelope("x", "<msg:GetMdibResponse xmlns:msg='urn:x'>patient</msg:GetMdibResponse>")
    assert list(P.dissect(response(other, b"Content-Length: %d" % len(other)), TCP)) == []
    assert list(P.dissect(b"\x16\x03\x01\x02\x00", TCP)) == []  # not HTTP at all


def test_directed_probe_matches_over_http() -> None:
    stream = response(PROBE_MATCHES, b"Content-Length: %d" % len(PROBE_MATCHES))
    found = list(P.dissect(stream, TCP))
    assert [type(o) for o in found] == [WsDiscoveryMessage, WsDiscoveryMessage]


def test_malformed_complete_metadata_is_an_error() -> None:
    broken = METADATA.replace(b"</s12:Body>", b"")
    with pytest.raises(DissectError):
        list(P.dissect(response(broken, b"Content-Length: %d" % len(broken)), TCP))


def test_decompression_bomb_is_skipped() -> None:
    bomb = gzip.compress(b"<a>ThisModel" + b" " * (2 << 20) + b"</a>")
    stream = response(bomb, b"Content-Encoding: gzip", b"Content-Length: %d" % len(bomb))
    assert list(P.dissect(stream, TCP)) == []


def test_dpws_signature() -> None:
    assert P.signature(GET_REQUEST)
    assert P.signature(b'POST /x HTTP/1.1\r\nSOAPAction: "urn:a"\r\n\r\n')
    assert not P.signature(b"POST /x HTTP/1.1\r\nContent-Type: text/html\r\n\r\n")
    assert not P.signature(b"SSH-2.0-OpenSSH_8.2\r\n")


# ---------------------------------------------------------------- real captures

SDC = "pcap/loopback_generated/sdc11073_v3_wsdiscovery_soap_loopback.pcap"


def test_sdc11073_discovery(shared_data: Path) -> None:
    heads = list(payloads(shared_data / SDC, stream_bytes=P.stream_bytes))
    udp = [p for p in heads if p.ctx.transport == "udp"]
    assert all(W.signature(p.data) for p in udp)  # also the unicast ProbeMatches
    found = [o for p in udp for o in W.dissect(p.data, p.ctx)]
    assert all(isinstance(o, WsDiscoveryMessage) for o in found)
    actions = sorted(o.action for o in found if isinstance(o, WsDiscoveryMessage))
    assert actions == ["Bye"] * 5 + ["Hello"] * 5 + ["Probe"] * 5 + ["ProbeMatch"] * 3
    hello = next(o for o in found if isinstance(o, WsDiscoveryMessage) and o.action == "Hello")
    assert hello.endpoint_reference == "urn:uuid:12345678-1234-5678-1234-567812345678"
    assert hello.types_expanded == (f"{{{DPWS_NS}}}Device", f"{{{MDPWS_NS}}}MedicalDevice")
    assert hello.scopes == (
        "sdc.ctxt.loc:/sdc.ctxt.loc.detail/HOSP1%2F%2F%2FICU%2F%2FBed1?fac=HOSP1&poc=ICU&bed=Bed1",
        "sdc.cdc.type:/urn%3Aoid%3A1.2.840.10004.1.1.1.0.0.1//69837",
        "sdc.mds.pkp:1.2.840.10004.20701.1.1",
    )
    assert hello.xaddrs == ("http://127.0.0.1:48943/12345678123456781234567812345678",)


def test_sdc11073_device_metadata_over_http(shared_data: Path) -> None:
    heads = [
        p
        for p in payloads(shared_data / SDC, stream_bytes=P.stream_bytes)
        if p.ctx.transport == "tcp"
    ]
    assert len(heads) == 2 and all(P.signature(p.data) for p in heads)
    found = [o for p in heads for o in P.dissect(p.data, p.ctx)]
    (meta,) = found
    assert isinstance(meta, DpwsDeviceMetadata)
    assert (meta.manufacturer, meta.model_name, meta.model_number) == (
        "ExampleMed",
        "ExampleMonitor 3000",
        "EM3000",
    )
    assert (meta.friendly_name, meta.firmware_version, meta.serial_number) == (
        "ExampleMonitor bed 1",
        "2.4.1",
        "SN-0001",
    )
    assert meta.host_types == ("dpws:Device", "mdpws:MedicalDevice")
    assert "sdc:GetService" in meta.hosted_types and "sdc:SetService" in meta.hosted_types


def test_windows_wsd_resolve_in_pcapng(shared_data: Path) -> None:
    found = []
    with open(shared_data / "pcap/ndpi/upnp.pcap", "rb") as f:  # a pcapng despite its name
        for _, buf in dpkt.pcapng.Reader(f):
            ip = dpkt.ethernet.Ethernet(buf).data
            udp = ip.data
            assert isinstance(udp, dpkt.udp.UDP) and udp.dport == 3702
            c = ctx(transport="udp", src_ip=str(ipaddress.ip_address(ip.src)), dst_port=3702)
            found.extend(W.dissect(bytes(udp.data), c))
    assert len(found) == 14
    assert all(
        isinstance(o, WsDiscoveryMessage)
        and o.action == "Resolve"
        and o.endpoint_reference == "urn:uuid:e3248000-80ce-11db-8000-001ba99ec956"
        and o.action_uri == "http://schemas.xmlsoap.org/ws/2005/04/discovery/Resolve"
        for o in found
    )
