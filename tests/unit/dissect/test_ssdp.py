"""SSDP dissector: UPnP Device Architecture message vectors and real captures."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsec.dissect.ssdp import SsdpDissector
from medsec.model.errors import DissectError
from medsec.model.observations.discovery import SsdpMessage

from tests_support.dissect_harness import ctx, payloads

D = SsdpDissector()

NOTIFY = (
    b"NOTIFY * HTTP/1.1\r\n"
    b"HOST: 239.255.255.250:1900\r\n"
    b"CACHE-CONTROL: max-age=1800\r\n"
    b"LOCATION: http://10.20.30.40:49152/description.xml\r\n"
    b"NT: urn:schemas-upnp-org:device:MediaRenderer:1\r\n"
    b"NTS: ssdp:alive\r\n"
    b"SERVER: Linux/4.9 UPnP/1.0 ExampleInfusionGateway/3.2\r\n"
    b"USN: uuid:2f402f80-da50-11e1-9b23-00178831f1d2::urn:schemas-upnp-org:device:"
    b"MediaRenderer:1\r\n"
    b"\r\n"
)
MSEARCH = (
    b"M-SEARCH * HTTP/1.1\r\n"
    b"HOST: 239.255.255.250:1900\r\n"
    b'MAN: "ssdp:discover"\r\n'
    b"MX: 1\r\n"
    b"ST: ssdp:all\r\n"
    b"USER-AGENT: Windows/10.0 UPnP/2.0 Example/1.0\r\n"
    b"\r\n"
)
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"cache-control: max-age=120\r\n"
    b"st: upnp:rootdevice\r\n"
    b"usn: uuid:abc::upnp:rootdevice\r\n"
    b"location: http://10.0.0.1:5000/rootDesc.xml\r\n"
    b"server: OpenWRT/OpenWrt UPnP/1.1 MiniUPnPd/2.0\r\n"
    b"\r\n"
)


def one(data: bytes) -> SsdpMessage:
    (msg,) = D.dissect(data, ctx(transport="udp", dst_port=1900))
    assert isinstance(msg, SsdpMessage)
    return msg


def test_notify() -> None:
    msg = one(NOTIFY)
    assert (msg.method, msg.status_code) == ("NOTIFY", None)
    assert msg.server == "Linux/4.9 UPnP/1.0 ExampleInfusionGateway/3.2"
    assert msg.location == "http://10.20.30.40:49152/description.xml"
    assert msg.nt == "urn:schemas-upnp-org:device:MediaRenderer:1"
    assert msg.nts == "ssdp:alive"
    assert msg.usn is not None and msg.usn.startswith("uuid:2f402f80")
    assert msg.user_agent is None and msg.st is None


def test_msearch_and_response() -> None:
    msg = one(MSEARCH)
    assert (msg.method, msg.st, msg.user_agent) == (
        "M-SEARCH",
        "ssdp:all",
        "Windows/10.0 UPnP/2.0 Example/1.0",
    )
    msg = one(RESPONSE)
    assert (msg.method, msg.status_code) == (None, 200)
    assert (msg.st, msg.usn) == ("upnp:rootdevice", "uuid:abc::upnp:rootdevice")
    assert msg.server == "OpenWRT/OpenWrt UPnP/1.1 MiniUPnPd/2.0"


def test_lenient_framing() -> None:
    # bare LF line ends, header without a blank line, no space after the colon, repeated header
    msg = one(b"NOTIFY * HTTP/1.1\nSERVER:A/1\nSERVER: B/2\nnts:ssdp:byebye")
    assert (msg.server, msg.nts) == ("A/1", "ssdp:byebye")


def test_malformed() -> None:
    for data in (b"", b"NOTIFY * HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n", b"\xff\xfe\r\n"):
        with pytest.raises(DissectError):
            list(D.dissect(data, ctx(transport="udp")))


def test_signature() -> None:
    assert D.signature(NOTIFY) and D.signature(MSEARCH) and D.signature(RESPONSE)
    assert not D.signature(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n")
    assert not D.signature(b"GET / HTTP/1.1\r\n")


def test_chrome_dial_search(shared_data: Path) -> None:
    found = [
        o
        for p in payloads(shared_data / "pcap/ndpi/ssdp-m-search-ua.pcap")
        for o in D.dissect(p.data, p.ctx)
    ]
    assert len(found) == 4
    msg = found[0]
    assert isinstance(msg, SsdpMessage)
    assert msg.st == "urn:dial-multiscreen-org:service:dial:1"
    assert msg.user_agent == "Google Chrome/99.0.4844.74 Mac OS X"


def test_search_on_another_port_is_found_by_signature(shared_data: Path) -> None:
    # Plex GDM-style "M-SEARCH * HTTP/1.1" broadcasts to UDP 32412, not 1900
    heads = list(payloads(shared_data / "pcap/ndpi/ssdp-m-search.pcap"))
    assert len(heads) == 19 and all(p.ctx.dst_port == 32412 for p in heads)
    assert all(D.signature(p.data) for p in heads)
    msg = one(heads[0].data)
    assert msg.method == "M-SEARCH"


def test_windows_hosts_search_for_gateways(shared_data: Path) -> None:
    found = [
        o
        for p in payloads(shared_data / "pcap/ndpi/1kxun.pcap", ports={1900})
        for o in D.dissect(p.data, p.ctx)
    ]
    assert len(found) > 100
    targets = {o.st for o in found if isinstance(o, SsdpMessage)}
    assert "urn:schemas-upnp-org:device:InternetGatewayDevice:1" in targets
