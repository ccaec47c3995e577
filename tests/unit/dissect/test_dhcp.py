"""DHCPv4 dissector: spec vectors (RFC 2131/2132/3396/3004/4702) and real captures."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.dhcp import DhcpDissector
from medsec.model.errors import DissectError
from medsec.model.observations import Observation
from medsec.model.observations.addressing import DhcpRequest, DhcpServerReply

from tests_support.dissect_harness import Payload, ctx, dissect_safely, payloads

D = DhcpDissector()
COOKIE = bytes.fromhex("63825363")
MAC = bytes.fromhex("0009fb112233")


def bootp(
    *,
    op: int,
    options: bytes,
    xid: int = 0x3903F326,
    ciaddr: str = "0.0.0.0",
    yiaddr: str = "0.0.0.0",
    siaddr: str = "0.0.0.0",
    giaddr: str = "0.0.0.0",
    sname: bytes = b"",
    file: bytes = b"",
    cookie: bytes = COOKIE,
) -> bytes:
    """A BOOTP header (RFC 2131 figure 1): op, htype 1 (Ethernet), hlen 6, hops 0, xid,
    secs 0, flags 0, the four addresses, chaddr, sname[64], file[128], then the cookie and
    the options."""
    return (
        bytes([op, 1, 6, 0])
        + xid.to_bytes(4, "big")
        + b"\x00\x00\x00\x00"
        + b"".join(ipaddress.IPv4Address(a).packed for a in (ciaddr, yiaddr, siaddr, giaddr))
        + MAC.ljust(16, b"\x00")
        + sname.ljust(64, b"\x00")
        + file.ljust(128, b"\x00")
        + cookie
        + options
    )


DISCOVER_OPTIONS = (
    bytes.fromhex("350101")  # 53 message type: 1 DISCOVER
    + bytes.fromhex("3d07010009fb112233")  # 61 client id: type 1 + MAC
    + b"\x0c\x07pump-07"  # 12 host name "pump-07"
    + b"\x3c\x0fExamplePump/2.1"  # 60 vendor class "ExamplePump/2.1"
    + bytes.fromhex("3706010306 0f77fc".replace(" ", ""))  # 55 PRL: 1 3 6 15 119 252
    + bytes.fromhex("390205dc")  # 57 max message size 1500
    + b"\x4d\x09\x04ward\x03icu"  # 77 user class, RFC 3004: "ward", "icu"
    + b"\x51\x11\x05\x00\x00\x07pump-07\x04icu1\x00"  # 81 FQDN, E flag: pump-07.icu1
    + b"\x00\x00"  # pads
    + b"\xff"  # end
)

ACK_OPTIONS = (
    bytes.fromhex("350105")  # 53: 5 ACK
    + bytes.fromhex("3604c0a80a01")  # 54 server id 192.168.10.1
    + bytes.fromhex("330400000e10")  # 51 lease 3600 s
    + bytes.fromhex("0104ffffff00")  # 1 subnet mask 255.255.255.0
    + bytes.fromhex("0304c0a80a01")  # 3 router 192.168.10.1
    + bytes.fromhex("0608c0a80a02c0a80a03")  # 6 DNS 192.168.10.2, 192.168.10.3
    + b"\x0f\x0chospital.lan"  # 15 domain name
    + bytes.fromhex("520a0104000a0b0c0202abcd")  # 82 relay: circuit 000a0b0c, remote abcd
    + b"\xff"
)


def one(data: bytes) -> Observation:
    (found,) = D.dissect(data, ctx(transport="udp", src_port=68, dst_port=67))
    return found


def test_discover_states_every_client_option() -> None:
    msg = one(bootp(op=1, options=DISCOVER_OPTIONS))
    assert isinstance(msg, DhcpRequest)
    assert (msg.message_type, msg.message_type_name) == (1, "DHCPDISCOVER")
    assert msg.xid == 0x3903F326 and msg.htype == 1
    assert msg.client_mac == "00:09:fb:11:22:33"
    assert msg.host_name == "pump-07"
    assert msg.vendor_class == "ExamplePump/2.1"
    assert msg.param_request_list == (1, 3, 6, 15, 119, 252)
    assert msg.max_message_size == 1500
    assert msg.client_id == "010009fb112233"
    assert msg.user_class == ("ward", "icu")
    assert msg.client_fqdn == "pump-07.icu1"
    assert msg.option_codes == (53, 61, 12, 60, 55, 57, 77, 81)
    assert msg.ciaddr is None and msg.giaddr is None and msg.requested_ip is None


def test_request_with_requested_ip_and_server_id() -> None:
    options = (
        bytes.fromhex("350103")  # 53: 3 REQUEST
        + bytes.fromhex("3204c0a80a32")  # 50 requested 192.168.10.50
        + bytes.fromhex("3604c0a80a01")  # 54 server 192.168.10.1
        + b"\x4d\x08MSFT 5.0"  # 77 user class as plain text (Microsoft)
        + b"\x51\x0b\x00\x00\x00pump-07."  # 81 FQDN, ASCII form (no E flag)
        + b"\xff"
    )
    msg = one(bootp(op=1, options=options, giaddr="10.1.2.1"))
    assert isinstance(msg, DhcpRequest)
    assert msg.message_type_name == "DHCPREQUEST"
    assert (msg.requested_ip, msg.server_id, msg.giaddr) == (
        "192.168.10.50",
        "192.168.10.1",
        "10.1.2.1",
    )
    assert msg.user_class == ("MSFT 5.0",)
    assert msg.client_fqdn == "pump-07."


def test_ack_states_the_lease() -> None:
    msg = one(
        bootp(
            op=2,
            options=ACK_OPTIONS,
            yiaddr="192.168.10.50",
            siaddr="192.168.10.5",
            sname=b"bootsrv",
            file=b"pxelinux.0",
        )
    )
    assert isinstance(msg, DhcpServerReply)
    assert (msg.message_type, msg.message_type_name) == (5, "DHCPACK")
    assert (msg.yiaddr, msg.siaddr, msg.server_id) == (
        "192.168.10.50",
        "192.168.10.5",
        "192.168.10.1",
    )
    assert msg.lease_time == 3600 and msg.subnet_mask == "255.255.255.0"
    assert msg.routers == ("192.168.10.1",)
    assert msg.domain_name_servers == ("192.168.10.2", "192.168.10.3")
    assert msg.domain_name == "hospital.lan"
    assert (msg.server_host_name, msg.boot_file_name) == ("bootsrv", "pxelinux.0")
    assert (msg.relay_agent_circuit_id, msg.relay_agent_remote_id) == ("000a0b0c", "abcd")


def test_long_options_are_concatenated_rfc3396() -> None:
    # option 60 split over two instances: "Mfg=Acme;" + "Mod=X1"
    options = bytes.fromhex("350101") + b"\x3c\x09Mfg=Acme;" + b"\x3c\x06Mod=X1" + b"\xff"
    msg = one(bootp(op=1, options=options))
    assert isinstance(msg, DhcpRequest)
    assert msg.vendor_class == "Mfg=Acme;Mod=X1"
    assert msg.option_codes == (53, 60, 60)


def test_overloaded_file_field_holds_options() -> None:
    # 52 overload = 1: the file field carries options (here 12 host name), then end
    options = bytes.fromhex("350101") + bytes.fromhex("340101") + b"\xff"
    file_options = b"\x0c\x05infus\xff"
    msg = one(bootp(op=1, options=options, file=file_options))
    assert isinstance(msg, DhcpRequest)
    assert msg.host_name == "infus"
    assert msg.option_codes == (53, 52, 12)


def test_plain_bootp_without_cookie() -> None:
    msg = one(bootp(op=1, options=b"", cookie=b"\x00\x00\x00\x00"))
    assert isinstance(msg, DhcpRequest)
    assert (msg.message_type, msg.message_type_name) == (None, "BOOTREQUEST")
    assert msg.option_codes == ()


def test_trailing_nuls_of_c_strings_are_dropped() -> None:
    options = bytes.fromhex("350101") + b"\x0c\x05host\x00" + b"\xff"
    msg = one(bootp(op=1, options=options))
    assert isinstance(msg, DhcpRequest) and msg.host_name == "host"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (bootp(op=1, options=b"")[:100], "shorter than the BOOTP header"),
        (bootp(op=3, options=b"\xff"), "neither BOOTREQUEST"),
        (bootp(op=1, options=b"\x0c\x20short"), "runs past the end"),
        (bootp(op=1, options=b"\x0c"), "no length byte"),
        (bootp(op=1, options=bytes.fromhex("3203c0a80a")), "no IPv4 address"),
        (bootp(op=1, options=bytes.fromhex("35020101")), "not one byte"),
        (bootp(op=1, options=bytes.fromhex("3903000000")), "2 expected"),
        (bootp(op=2, options=bytes.fromhex("0603c0a80a")), "list of IPv4"),
        (bootp(op=1, options=b"\x51\x06\x04\x00\x00\x09ab"), "option 81"),
    ],
)
def test_malformed_messages_raise_dissect_error(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, ctx(transport="udp")))


def test_hlen_beyond_chaddr_is_malformed() -> None:
    data = bytearray(bootp(op=1, options=b"\xff"))
    data[2] = 17
    with pytest.raises(DissectError):
        list(D.dissect(bytes(data), ctx(transport="udp")))
    assert not D.signature(bytes(data))


def test_signature() -> None:
    assert D.signature(bootp(op=1, options=DISCOVER_OPTIONS))
    assert D.signature(bootp(op=2, options=ACK_OPTIONS))
    assert not D.signature(bootp(op=1, options=b"", cookie=b"\x00" * 4))
    assert not D.signature(b"\x01" * 239)
    assert not D.signature(b"GET / HTTP/1.1\r\n\r\n")


# ---------------------------------------------------------------- real captures


def dhcp_observations(path: Path) -> list[Observation]:
    found: list[Observation] = []
    for p in udp_payloads(path, {67, 68}):
        found.extend(D.dissect(p.data, p.ctx))
    return found


def udp_payloads(path: Path, ports: set[int]) -> list[Payload]:
    """UDP payloads of a pcap (via the harness) or a pcapng (via dpkt's pcapng reader)."""
    with open(path, "rb") as f:
        pcapng = f.read(4) == b"\x0a\x0d\x0d\x0a"
    if not pcapng:
        return list(payloads(path, ports=ports))
    out: list[Payload] = []
    with open(path, "rb") as f:
        for _, buf in dpkt.pcapng.Reader(f):
            ip = dpkt.ethernet.Ethernet(buf).data
            udp = getattr(ip, "data", None)
            if isinstance(udp, dpkt.udp.UDP) and {udp.sport, udp.dport} & ports:
                c = ctx(
                    transport="udp",
                    src_ip=str(ipaddress.ip_address(ip.src)),
                    dst_ip=str(ipaddress.ip_address(ip.dst)),
                    src_port=udp.sport,
                    dst_port=udp.dport,
                )
                out.append(Payload(bytes(udp.data), c))
    return out


def test_xerox_printer_vendor_class(shared_data: Path) -> None:
    found = dhcp_observations(shared_data / "pcap/ndpi/dhcp_2019.pcap")
    assert len(found) == 13
    (xerox,) = [o for o in found if isinstance(o, DhcpRequest) and o.host_name == "xeroxcq8580-a23"]
    assert xerox.vendor_class == "Mfg=Xerox;Mod=ColorQube 8580DN;Typ=Printer;Ser=3611309545;Loc="
    assert xerox.client_mac == "9c:93:4e:5f:de:71"
    assert xerox.client_id == "019c934e5fde71"
    assert xerox.param_request_list == (
        1,
        28,
        3,
        58,
        59,
        6,
        15,
        78,
        79,
        42,
        44,
        46,
        69,
        116,
        66,
        67,
        12,
    )
    assert xerox.max_message_size == 590
    assert xerox.requested_ip == "192.168.17.9"
    assert xerox.client_fqdn == "xeroxcq8580-a23.lan.nic.it."
    assert xerox.option_codes == (53, 50, 57, 51, 55, 12, 43, 60, 61, 81)


def test_zeek_dhcp_exchange(shared_data: Path) -> None:
    found = dhcp_observations(shared_data / "pcap/zeek/dhcp_dhcp.pcap")
    kinds = sorted(
        o.message_type_name for o in found if isinstance(o, DhcpRequest | DhcpServerReply)
    )
    assert kinds == sorted(
        [
            "DHCPDISCOVER",
            "DHCPOFFER",
            "DHCPREQUEST",
            "DHCPREQUEST",
            "DHCPDECLINE",
            "DHCPACK",
            "DHCPNAK",
            "DHCPRELEASE",
            "DHCPINFORM",
        ]
    )
    offer = next(o for o in found if isinstance(o, DhcpServerReply) and o.message_type == 2)
    assert offer.vendor_class == "ArubaAP"
    assert (offer.yiaddr, offer.server_id, offer.domain_name) == (
        "128.2.6.97",
        "128.2.6.152",
        "cmu.edu",
    )
    assert offer.domain_name_servers == ("128.2.1.11", "128.2.1.10")
    discover = next(o for o in found if isinstance(o, DhcpRequest) and o.message_type == 1)
    assert (discover.host_name, discover.client_mac) == ("btest.is.cool", "90:b1:1c:99:49:29")


def test_zeek_param_request_and_client_id(shared_data: Path) -> None:
    path = shared_data / "pcap/zeek/dhcp_dhcp_discover_param_req_and_client_id.pcap"
    (msg,) = dhcp_observations(path)
    assert isinstance(msg, DhcpRequest)
    assert msg.param_request_list == (1, 3, 6, 42)
    assert msg.client_id == "01000b8201fc42" and msg.host_name == "test0000"


def test_zeek_relay_agent_information(shared_data: Path) -> None:
    path = shared_data / "pcap/zeek/dhcp_dhcp_ack_subscriber_id_and_agent_remote_id.pcap"
    (msg,) = dhcp_observations(path)
    assert isinstance(msg, DhcpServerReply) and msg.message_type_name == "DHCPACK"
    assert bytes.fromhex(msg.relay_agent_circuit_id or "") == b"this is only a test..."
    assert msg.relay_agent_remote_id == "13"


def test_zeek_inform_and_time_servers(shared_data: Path) -> None:
    (inform, ack) = dhcp_observations(shared_data / "pcap/zeek/dhcp_dhcp_inform.pcap")
    assert isinstance(inform, DhcpRequest) and inform.message_type_name == "DHCPINFORM"
    assert inform.ciaddr == "128.2.6.122"
    assert isinstance(ack, DhcpServerReply) and ack.ciaddr == "128.2.6.122"
    found = dhcp_observations(shared_data / "pcap/zeek/dhcp_dhcp_time_and_nameserver.pcap")
    request = next(o for o in found if isinstance(o, DhcpRequest))
    assert request.host_name == "pop-os"
    assert request.param_request_list[:4] == (1, 28, 2, 3)


def test_amazon_echo_in_pcapng(shared_data: Path) -> None:
    found = dhcp_observations(shared_data / "pcap/ndpi/alexa-app.pcapng")
    requests = [o for o in found if isinstance(o, DhcpRequest)]
    assert requests and all(o.vendor_class == "dhcpcd-5.5.6" for o in requests)
    assert requests[0].param_request_list == (1, 33, 3, 6, 15, 26, 28, 51, 58, 59)
    assert any(isinstance(o, DhcpServerReply) and o.yiaddr == "172.16.42.216" for o in found)


def test_fuzzed_packet_is_malformed_not_a_crash(shared_data: Path) -> None:
    (p,) = udp_payloads(shared_data / "pcap/ndpi/dhcp-fuzz.pcapng", {67, 68})
    assert D.signature(p.data)
    with pytest.raises(DissectError, match="option 60"):
        list(D.dissect(p.data, p.ctx))


def test_windows_and_apple_clients(shared_data: Path) -> None:
    found = dhcp_observations(shared_data / "pcap/ndpi/1kxun.pcap")
    vendor_classes = {o.vendor_class for o in found if isinstance(o, DhcpRequest)}
    assert {"MSFT 5.0", "dhcpcd-5.5.6"} <= vendor_classes
    every = udp_payloads(shared_data / "pcap/ndpi/1kxun.pcap", {67, 68})
    assert all(dissect_safely(D, p.data, p.ctx) for p in every)
