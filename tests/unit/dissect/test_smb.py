"""SMB dissector: [MS-CIFS]/[MS-SMB2]/[MS-NLMP] vectors, NetBIOS session requests, captures."""

from __future__ import annotations

import uuid
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.smb import SmbDissector, SmbError, ntlm_observation
from medsec.model.observations.smb import (
    NetbiosSessionRequest,
    NtlmAuthenticate,
    NtlmChallenge,
    NtlmNegotiate,
    SmbNegotiateRequest,
    SmbNegotiateResponse,
    SmbSessionSetup,
    SmbTreeConnect,
)

from tests_support.dissect_harness import ctx, payloads

D = SmbDissector()


def le16(v: int) -> bytes:
    return v.to_bytes(2, "little")


def le32(v: int) -> bytes:
    return v.to_bytes(4, "little")


def framed(message: bytes, frame_type: int = 0) -> bytes:
    """Direct-TCP / NetBIOS session framing: type byte, 24-bit big-endian length."""
    return bytes([frame_type]) + len(message).to_bytes(3, "big") + message


def smb1_header(command: int, *, reply: bool = False, unicode: bool = True) -> bytes:
    flags2 = 0x8000 if unicode else 0  # FLAGS2_UNICODE
    return (
        b"\xffSMB"
        + bytes([command])
        + le32(0)  # status
        + bytes([0x98 if reply else 0x18])  # flags (0x80 = reply)
        + le16(flags2 | 0x0001)
        + bytes(12)  # PIDHigh, SecurityFeatures, Reserved
        + le16(0) + le16(0xFEFF) + le16(0) + le16(1)  # TID, PIDLow, UID, MID
    )  # fmt: skip


def smb2_header(command: int, *, response: bool = False) -> bytes:
    return (
        b"\xfeSMB"
        + le16(64)  # StructureSize
        + le16(0)  # CreditCharge
        + le32(0)  # Status
        + le16(command)
        + le16(1)  # CreditRequest
        + le32(1 if response else 0)  # Flags: SERVER_TO_REDIR
        + le32(0)  # NextCommand
        + bytes(8 + 8 + 8 + 16)  # MessageId, Reserved/TreeId, SessionId, Signature
    )


def netbios_name(name: str, suffix: int) -> bytes:
    """RFC 1001 §14.1 first-level encoding: 16 bytes -> 32 half-bytes + 'A', length-prefixed."""
    raw = name.upper().ljust(15).encode() + bytes([suffix])
    encoded = b"".join(bytes([0x41 + (b >> 4), 0x41 + (b & 0x0F)]) for b in raw)
    return bytes([32]) + encoded + b"\x00"


CLIENT_GUID = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")


# --- vectors -------------------------------------------------------------------------------


def test_netbios_session_request() -> None:
    data = framed(netbios_name("PACS01", 0x20) + netbios_name("MODALITY7", 0x00), 0x81)
    (request,) = D.dissect(data, ctx(dst_port=139))
    assert request == NetbiosSessionRequest(
        ctx=ctx(dst_port=139),
        called_name="PACS01",
        called_suffix=0x20,
        calling_name="MODALITY7",
        calling_suffix=0,
    )


def test_smb1_negotiate_request() -> None:
    dialects = b"".join(b"\x02" + d + b"\x00" for d in (b"NT LM 0.12", b"SMB 2.002", b"SMB 2.???"))
    message = smb1_header(0x72) + b"\x00" + le16(len(dialects)) + dialects  # WordCount 0
    assert D.signature(framed(message))
    (request,) = D.dissect(framed(message), ctx())
    assert isinstance(request, SmbNegotiateRequest)
    assert request.smb_version == 1 and request.dialects == ("NT LM 0.12", "SMB 2.002", "SMB 2.???")


def test_smb1_negotiate_response_without_extended_security() -> None:
    words = (
        le16(0)  # DialectIndex
        + bytes([0x0F])  # SecurityMode: user, encrypt, signatures enabled and required
        + le16(50) + le16(1) + le32(16644) + le32(65536) + le32(0)
        + le32(0x0000E3FC)  # Capabilities: no CAP_EXTENDED_SECURITY
        + bytes(8) + le16(0)  # SystemTime, ServerTimeZone
        + bytes([8])  # ChallengeLength
    )  # fmt: skip
    names = "LAB\x00".encode("utf-16-le") + "XRAY-WS\x00".encode("utf-16-le")
    body = bytes(8) + names  # challenge, DomainName, ServerName (no alignment padding)
    message = smb1_header(0x72, reply=True) + bytes([17]) + words + le16(len(body)) + body
    (response,) = D.dissect(framed(message), ctx(src_port=445))
    assert isinstance(response, SmbNegotiateResponse)
    assert (response.dialect_index, response.domain, response.server_name) == (0, "LAB", "XRAY-WS")
    assert response.signing_enabled and response.signing_required


def test_smb1_session_setup_response_native_strings() -> None:
    words = b"\xff\x00" + le16(0) + le16(0)  # AndX none, Action
    strings = "Windows 5.1\x00Windows 2000 LAN Manager\x00WORKGROUP\x00".encode("utf-16-le")
    header = smb1_header(0x73, reply=True)
    # Bytes start at offset 32+1+6+2 = 41 (odd): one pad byte aligns the Unicode strings
    message = header + bytes([3]) + words + le16(1 + len(strings)) + b"\x00" + strings
    (setup,) = D.dissect(framed(message), ctx(src_port=445))
    assert setup == SmbSessionSetup(
        ctx=ctx(src_port=445),
        response=True,
        native_os="Windows 5.1",
        native_lan_manager="Windows 2000 LAN Manager",
        primary_domain="WORKGROUP",
        account_name=None,
    )


def test_smb2_negotiate_request_with_netname() -> None:
    dialects = (0x0202, 0x0210, 0x0300, 0x0302, 0x0311)
    netname = "pacs.radiology.example".encode("utf-16-le")
    contexts_at = 64 + 36 + 2 * len(dialects)
    pad = -contexts_at % 8
    preauth = le16(1) + le16(6) + le32(0) + le16(1) + le16(0) + le16(1)  # SHA-512, no salt
    preauth += bytes(-len(preauth) % 8)
    body = (
        le16(36) + le16(len(dialects)) + le16(0x0002)  # StructureSize, count, signing required
        + le16(0) + le32(0x7F) + CLIENT_GUID.bytes_le
        + le32(contexts_at + pad) + le16(2) + le16(0)  # NegotiateContextOffset, count
        + b"".join(le16(d) for d in dialects)
        + bytes(pad)
        + preauth
        + le16(5) + le16(len(netname)) + le32(0) + netname  # SMB2_NETNAME_NEGOTIATE_CONTEXT_ID
    )  # fmt: skip
    (request,) = D.dissect(framed(smb2_header(0) + body), ctx())
    assert isinstance(request, SmbNegotiateRequest)
    assert request.dialect_revisions == dialects
    assert request.dialects == ("2.0.2", "2.1", "3.0", "3.0.2", "3.1.1")
    assert request.client_guid == str(CLIENT_GUID) and request.signing_required
    assert request.netname == "pacs.radiology.example"


def test_smb2_negotiate_response() -> None:
    server_guid = uuid.UUID("11111111-2222-3333-4444-555555555555")
    body = (
        le16(65) + le16(0x0001) + le16(0x0311) + le16(0)  # signing enabled, not required
        + server_guid.bytes_le + le32(0x2F)
        + le32(8 << 20) * 3 + bytes(16)  # max sizes, SystemTime, ServerStartTime
        + le16(128) + le16(0) + le32(0)  # empty security buffer
    )  # fmt: skip
    (response,) = D.dissect(framed(smb2_header(0, response=True) + body), ctx(src_port=445))
    assert isinstance(response, SmbNegotiateResponse)
    assert (response.dialect_revision, response.dialect) == (0x0311, "3.1.1")
    assert response.server_guid == str(server_guid)
    assert response.signing_enabled and not response.signing_required
    assert response.capabilities == 0x2F


def test_smb2_tree_connect_and_encrypted_tail() -> None:
    path = "\\\\PACS01\\images$".encode("utf-16-le")
    body = le16(9) + le16(0) + le16(64 + 8) + le16(len(path)) + path
    encrypted = framed(b"\xfdSMB" + bytes(48))
    data = framed(smb2_header(3) + body) + encrypted + framed(smb2_header(3) + body)
    assert list(D.dissect(data, ctx())) == [
        SmbTreeConnect(ctx=ctx(), path="\\\\PACS01\\images$", service=None)
    ]


def ntlm_authenticate(nt_response: bytes) -> bytes:
    """An AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3), Unicode, VERSION 6.1.7601, no MIC."""
    domain, user, host = ("HOSP".encode("utf-16-le"), "tech1".encode("utf-16-le"),
                          "ANESTH-03".encode("utf-16-le"))  # fmt: skip
    lm = bytes(24)
    offset = 72
    fields = b""
    payload = b""
    for item in (lm, nt_response, domain, user, host, b""):
        fields += le16(len(item)) * 2 + le32(offset + len(payload))
        payload += item
    version = bytes([6, 1]) + le16(7601) + bytes([0, 0, 0, 15])
    flags = le32(0x02000000 | 0x00000001)  # NEGOTIATE_VERSION | UNICODE
    return b"NTLMSSP\x00" + le32(3) + fields + flags + version + payload


def test_ntlm_authenticate_keeps_names_not_responses() -> None:
    secret = bytes(range(24))
    found = ntlm_observation(ntlm_authenticate(secret), ctx(), "smb")
    assert found == NtlmAuthenticate(
        ctx=ctx(),
        carrier="smb",
        flags=0x02000001,
        user_name="tech1",
        domain_name="HOSP",
        workstation="ANESTH-03",
        response_kind="NTLMv1",
        os_version="6.1.7601",
    )
    assert secret.hex() not in repr(found)
    v2 = ntlm_observation(ntlm_authenticate(bytes(60)), ctx(), "smb")
    assert isinstance(v2, NtlmAuthenticate) and v2.response_kind == "NTLMv2"
    assert ntlm_observation(b"not ntlm", ctx(), "smb") is None
    with pytest.raises(SmbError):
        ntlm_observation(b"NTLMSSP\x00" + le32(3) + bytes(20), ctx(), "smb")


def test_not_smb_and_broken_smb() -> None:
    assert list(D.dissect(b"GET / HTTP/1.1\r\n\r\n", ctx())) == []
    assert list(D.dissect(framed(b"hello world"), ctx())) == []  # framing by chance
    assert not D.signature(framed(b"hello world"))
    with pytest.raises(SmbError):
        list(D.dissect(framed(b"\xfeSMB" + bytes(20)), ctx()))
    keepalive = framed(b"", 0x85)
    with pytest.raises(SmbError):  # a frame type NetBIOS does not define, after a valid frame
        list(D.dissect(keepalive + bytes([0x42, 0, 0, 0]), ctx()))
    # at the very start, unframed bytes are simply not SMB
    assert list(D.dissect(bytes([0x17, 0, 0, 0]), ctx())) == []


# --- real traffic --------------------------------------------------------------------------


def _observations(path: Path) -> list[object]:
    out: list[object] = []
    for item in payloads(path, stream_bytes=D.stream_bytes, ports=set(D.ports)):
        if item.ctx.transport == "tcp":
            out.extend(D.dissect(item.data, item.ctx))
    return out


def _one(found: list[object], kind: type, **where: object) -> object:
    matches = [o for o in found if isinstance(o, kind)]
    matches = [o for o in matches if all(getattr(o, k) == v for k, v in where.items())]
    assert matches, f"no {kind.__name__} with {where}"
    return matches[0]


def test_lanman_negotiate(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/zeek/smb_cifs_negotiate_lanman.pcap")
    request = _one(found, SmbNegotiateRequest)
    assert request.dialects == ("PC NETWORK PROGRAM 1.0", "LANMAN1.0", "LM1.2X002", "LANMAN2.1")  # type: ignore[attr-defined]
    response = _one(found, SmbNegotiateResponse)
    assert response.dialect_index == 3 and response.domain == "WORKGROUP"  # type: ignore[attr-defined]


def test_smbv1_windows7(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/ndpi/smbv1.pcap")
    response = _one(found, SmbNegotiateResponse)
    assert (response.domain, response.server_name) == ("WORKGROUP", "JOHN-PC")  # type: ignore[attr-defined]
    assert response.dialect_index == 5  # "NT LM 0.12" in the client's list  # type: ignore[attr-defined]
    _one(found, SmbSessionSetup, response=False, native_os="Windows 2000 2195")
    _one(found, SmbSessionSetup, response=True, native_os="Windows 7 Ultimate 7601 Service Pack 1")
    _one(found, SmbTreeConnect, path="\\\\10.128.0.243\\IPC$")


def test_smb2_ntlm_names(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/zeek/smb_smb2.pcap")
    assert "SMB 2.002" in _one(found, SmbNegotiateRequest, smb_version=1).dialects  # type: ignore[attr-defined]
    _one(found, SmbNegotiateResponse, smb_version=2, dialect="2.0.2", signing_required=False)
    _one(
        found,
        NtlmChallenge,
        nb_computer_name="SERVER002",
        dns_computer_name="SERVER002.contoso.com",
        dns_domain_name="contoso.com",
        os_version="6.0.6001",
    )
    _one(found, NtlmNegotiate, os_version="6.0.6001")
    _one(found, NtlmAuthenticate, user_name="Administrator", workstation="SERVER01")


def test_smb3_and_311(shared_data: Path) -> None:
    smb3 = _observations(shared_data / "pcap/zeek/smb_smb3.pcap")
    _one(smb3, SmbNegotiateResponse, dialect="3.0", signing_required=True)
    _one(smb3, NtlmChallenge, nb_computer_name="WS2016", os_version="10.0.14393")
    _one(smb3, SmbTreeConnect, path="\\\\WS2016\\encrypted")
    smb311 = _observations(shared_data / "pcap/zeek/smb_smb311.pcap")
    _one(smb311, SmbNegotiateRequest, dialects=("3.1.1",))
    _one(smb311, SmbNegotiateResponse, dialect_revision=0x0311)
    _one(smb311, NtlmChallenge, dns_computer_name="AD.foo.test")


def test_multi_protocol_negotiate(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/zeek/smb_smb3_negotiate_context.pcap")
    assert _one(found, SmbNegotiateRequest, smb_version=1).dialects[-2:] == (  # type: ignore[attr-defined]
        "SMB 2.002",
        "SMB 2.???",
    )
    _one(found, SmbNegotiateResponse, dialect_revision=0x02FF)  # the wildcard answer
    _one(found, SmbNegotiateResponse, dialect_revision=0x0311)


def test_smb_over_netbeui_win98(shared_data: Path) -> None:
    """SMB1 messages carried by NetBEUI (802.2 LLC) - re-framed as direct TCP."""
    found: list[object] = []
    with open(shared_data / "pcap/ndpi/dos_win98_smb_netbeui.pcap", "rb") as f:
        for _ts, frame in dpkt.pcap.Reader(f):
            start = frame.find(b"\xffSMB")
            if start < 0 or frame[12:14] == b"\x08\x00":  # skip the IP (browser) datagrams
                continue
            try:
                found.extend(D.dissect(framed(frame[start:]), ctx()))
            except SmbError:
                pass  # Wireshark also calls some of these malformed
    request = _one(found, SmbNegotiateRequest)
    assert "Windows for Workgroups 3.1a" in request.dialects  # type: ignore[attr-defined]
    response = _one(found, SmbNegotiateResponse)
    assert response.dialect_index == 4 and response.domain is None  # type: ignore[attr-defined]
