"""RDP and VNC/RFB: [MS-RDPBCGR] and RFC 6143 vectors, and the Zeek/nDPI captures."""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest

from medsec.dissect.remote_access import RdpDissector, RemoteAccessError, VncDissector
from medsec.model.observations import PacketContext
from medsec.model.observations.remote import (
    RdpClientCoreData,
    RdpConnectionConfirm,
    RdpConnectionRequest,
    RdpServerCoreData,
    RfbProtocolVersion,
    RfbSecurityTypes,
    RfbServerInit,
)
from medsec.model.observations.tls import TlsCertificate, TlsClientHello

from tests_support.dissect_harness import ctx, payloads

RDP, VNC = RdpDissector(), VncDissector()


def tpkt(x224: bytes) -> bytes:
    """TPKT header (RFC 1006): version 3, reserved, 16-bit length of the whole packet."""
    return b"\x03\x00" + (len(x224) + 4).to_bytes(2, "big") + x224


def x224(code: int, variable: bytes) -> bytes:
    """X.224 CR (0xE0) / CC (0xD0): LI, code, dst-ref, src-ref, class 0, then the variable part."""
    fixed = bytes([code]) + b"\x00\x00" + b"\x12\x34" + b"\x00"
    return bytes([len(fixed) + len(variable)]) + fixed + variable


def negotiation(kind: int, value: int) -> bytes:
    """RDP_NEG_REQ (1) / RDP_NEG_RSP (2) / RDP_NEG_FAILURE (3): type, flags, length 8, value."""
    return bytes([kind, 0]) + (8).to_bytes(2, "little") + value.to_bytes(4, "little")


# --- RDP -----------------------------------------------------------------------------------


def test_connection_request_with_cookie() -> None:
    # "Cookie: mstshash=ANESTH03\r\n" then RDP_NEG_REQ: TLS | CredSSP (0x3)
    data = tpkt(x224(0xE0, b"Cookie: mstshash=ANESTH03\r\n" + negotiation(1, 0x3)))
    assert RDP.signature(data)
    (request,) = RDP.dissect(data, ctx(dst_port=3389))
    assert request == RdpConnectionRequest(
        ctx=ctx(dst_port=3389),
        cookie="ANESTH03",
        routing_token=False,
        requested_protocols=3,
        protocols=("TLS", "CredSSP"),
    )


def test_connection_request_variants() -> None:
    (standard,) = RDP.dissect(tpkt(x224(0xE0, negotiation(1, 0))), ctx())
    assert isinstance(standard, RdpConnectionRequest) and standard.protocols == ("RDP",)
    (old,) = RDP.dissect(tpkt(x224(0xE0, b"")), ctx())
    assert isinstance(old, RdpConnectionRequest) and old.requested_protocols is None
    token = tpkt(x224(0xE0, b"Cookie: msts=3640205228.15629.0000\r\n"))
    (routed,) = RDP.dissect(token, ctx())
    assert isinstance(routed, RdpConnectionRequest) and routed.routing_token
    assert routed.cookie is None


def test_connection_confirm_and_failure() -> None:
    (confirm,) = RDP.dissect(tpkt(x224(0xD0, negotiation(2, 0x2))), ctx(src_port=3389))
    assert confirm == RdpConnectionConfirm(
        ctx=ctx(src_port=3389), selected_protocol=2, protocol="CredSSP", failure_code=None
    )
    (failure,) = RDP.dissect(tpkt(x224(0xD0, negotiation(3, 5))), ctx(src_port=3389))
    assert isinstance(failure, RdpConnectionConfirm)
    assert (failure.selected_protocol, failure.failure_code) == (None, 5)  # HYBRID_REQUIRED


def test_iso_tsap_connections_are_not_rdp() -> None:
    # S7comm / MMS also open with TPKT + X.224 CR, but with TSAP parameters (0xC1, 0xC2, 0xC0)
    s7 = tpkt(x224(0xE0, bytes.fromhex("c1020100 c2020102 c0010a")))
    assert not RDP.signature(s7)
    assert list(RDP.dissect(s7, ctx())) == []
    assert list(RDP.dissect(b"GET / HTTP/1.1\r\n\r\n", ctx())) == []


def test_broken_rdp() -> None:
    with pytest.raises(RemoteAccessError):
        list(RDP.dissect(tpkt(x224(0xE0, b"Cookie: mstshash=no-end")), ctx()))


# --- VNC -----------------------------------------------------------------------------------


def server_init(name: bytes) -> bytes:
    """ServerInit: 1280x1024, pixel format 32 bpp depth 24 little-endian true colour, name."""
    pixel_format = bytes([32, 24, 0, 1]) + (255).to_bytes(2, "big") * 3 + bytes([16, 8, 0, 0, 0, 0])
    return (
        (1280).to_bytes(2, "big")
        + (1024).to_bytes(2, "big")
        + pixel_format
        + (len(name).to_bytes(4, "big") + name)
    )


def server() -> PacketContext:
    """A VNC server's direction of a flow."""
    return ctx(src_port=5900, dst_port=50123, from_client=False)


def test_rfb_38_server_without_authentication() -> None:
    # version, 1 security type: None; (client picks it); SecurityResult OK; ServerInit
    data = b"RFB 003.008\n" + b"\x01\x01" + bytes(4) + server_init(b"Ventilator-7 (ICU)")
    assert VNC.signature(data)
    version, types, init = VNC.dissect(data, server())
    assert version == RfbProtocolVersion(ctx=server(), version="003.008", major=3, minor=8)
    assert isinstance(types, RfbSecurityTypes)
    assert (types.types, types.names) == ((1,), ("None",))
    assert isinstance(init, RfbServerInit)
    assert (init.width, init.height, init.desktop_name) == (1280, 1024, "Ventilator-7 (ICU)")


def test_rfb_33_server_with_vnc_authentication() -> None:
    # version 3.3: a 32-bit security type (2), the 16-byte challenge, SecurityResult, ServerInit
    data = b"RFB 003.003\n" + (2).to_bytes(4, "big") + bytes(16) + bytes(4) + server_init(b"x")
    _, types, init = VNC.dissect(data, server())
    assert isinstance(types, RfbSecurityTypes) and types.types == (2,)
    assert isinstance(init, RfbServerInit) and init.desktop_name == "x"
    refused = b"RFB 003.003\n" + bytes(4) + (6).to_bytes(4, "big") + b"go away"
    _, none = VNC.dissect(refused, server())
    assert isinstance(none, RfbSecurityTypes) and none.types == ()


def test_rfb_client_side_and_not_rfb() -> None:
    client = ctx(src_port=50123, dst_port=5900, from_client=True)
    found = list(VNC.dissect(b"RFB 003.008\n\x02" + bytes(16), client))
    assert [type(o) for o in found] == [RfbProtocolVersion]
    assert list(VNC.dissect(b"RFB 3.8\n", ctx())) == []
    assert not VNC.signature(b"RFB xxx.yyy\n")
    with pytest.raises(RemoteAccessError):
        list(VNC.dissect(b"RFB 003.003\n\x01\x00\x00\x00", server()))


# --- real traffic --------------------------------------------------------------------------


def _observations(dissector: object, path: Path) -> list[object]:
    out: list[object] = []
    ports = dissector.ports  # type: ignore[attr-defined]
    for item in payloads(path, stream_bytes=8192, ports=set(ports)):
        if item.ctx.transport == "tcp":
            out.extend(dissector.dissect(item.data, item.ctx))  # type: ignore[attr-defined]
    return out


def test_rdp_standard_security(shared_data: Path) -> None:
    found = _observations(RDP, shared_data / "pcap/zeek/rdp_rdp-x509.pcap")
    request = next(o for o in found if isinstance(o, RdpConnectionRequest))
    assert (request.cookie, request.protocols) == ("JOHN-PC", ("RDP",))
    core = next(o for o in found if isinstance(o, RdpClientCoreData))
    assert (core.client_name, core.client_build) == ("JOHN-PC-LAPTOP", 9600)
    assert (core.desktop_width, core.desktop_height, core.keyboard_layout) == (1920, 1080, 0x409)
    confirm = next(o for o in found if isinstance(o, RdpConnectionConfirm))
    assert confirm.protocol == "RDP"
    server = next(o for o in found if isinstance(o, RdpServerCoreData))
    assert server.version == 0x00080004


def test_rdp_with_tls(shared_data: Path) -> None:
    found = _observations(RDP, shared_data / "pcap/zeek/rdp_rdp-no-cookie-mstshash.pcap")
    request = next(o for o in found if isinstance(o, RdpConnectionRequest))
    assert request.cookie is None and request.protocols == ("TLS", "CredSSP", "CredSSP-EX")
    confirm = next(o for o in found if isinstance(o, RdpConnectionConfirm))
    assert confirm.protocol == "CredSSP-EX"
    assert any(isinstance(o, TlsClientHello) for o in found)
    cert = next(o for o in found if isinstance(o, TlsCertificate))
    assert cert.self_signed and cert.subject_cn == "CLK-456040-D.one.phoenix.gov"


def test_ndpi_rdp_null_linktype(shared_data: Path, tmp_path: Path) -> None:
    target = tmp_path / "rdp.pcap"
    with open(shared_data / "pcap/ndpi/rdp.pcap", "rb") as f, open(target, "wb") as out:
        writer = dpkt.pcap.Writer(out)
        for ts, frame in dpkt.pcap.Reader(f):  # DLT_NULL: 4-byte address family, then IPv4
            writer.writepkt(bytes(12) + b"\x08\x00" + frame[4:], ts)
    found = _observations(RDP, target)
    assert any(isinstance(o, RdpConnectionRequest) for o in found)
    assert any(isinstance(o, RdpConnectionConfirm) for o in found)


def test_vnc_captures(shared_data: Path) -> None:
    linux = _observations(VNC, shared_data / "pcap/zeek/rfb_vnc-mac-to-linux.pcap")
    versions = {(o.ctx.src_port, o.version) for o in linux if isinstance(o, RfbProtocolVersion)}
    assert (5901, "003.008") in versions and any(v == "003.003" for _, v in versions)
    assert {o.types for o in linux if isinstance(o, RfbSecurityTypes)} == {(2,)}
    init = next(o for o in linux if isinstance(o, RfbServerInit))
    assert init.desktop_name == "root's X desktop (martin-VirtualBox:1)"
    mac = _observations(VNC, shared_data / "pcap/zeek/rfb_vncmac.pcap")
    assert {o.version for o in mac if isinstance(o, RfbProtocolVersion)} == {"003.889"}
    offered = {o.types for o in mac if isinstance(o, RfbSecurityTypes)}
    assert offered == {(30, 35)}  # Apple Remote Desktop and its companion type
