"""DCE/RPC dissector: bind PDUs built by [C706] 12.6.4.3 and the real DRSUAPI bind."""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

import pytest

from medsec.dissect.dcerpc import DcerpcDissector
from medsec.model.errors import DissectError
from medsec.model.observations.services import DcerpcBind

from tests_support.dissect_harness import ctx, payloads

D = DcerpcDissector()
CLIENT = ctx(src_port=50000, dst_port=135)
NDR = uuid.UUID("8a885d04-1ceb-11c9-9fe8-08002b104860")


def bind(
    interfaces: list[tuple[str, int, int]], *, little: bool = True, auth: bytes = b""
) -> bytes:
    e = "<" if little else ">"
    contexts = b""
    for i, (ident, major, minor) in enumerate(interfaces):
        u = uuid.UUID(ident)
        raw = u.bytes_le if little else u.bytes
        ndr = NDR.bytes_le if little else NDR.bytes
        contexts += struct.pack(e + "HBB", i, 1, 0) + raw + struct.pack(e + "HH", major, minor)
        contexts += ndr + struct.pack(e + "I", 2)
    body = struct.pack(e + "HHI", 5840, 5840, 0) + bytes([len(interfaces), 0, 0, 0]) + contexts
    auth_trailer = (bytes([16, 6, 0, 0]) + struct.pack(e + "I", 0) + auth) if auth else b""
    frag = 16 + len(body) + len(auth_trailer)
    drep = b"\x10\x00\x00\x00" if little else b"\x00\x00\x00\x00"
    header = bytes([5, 0, 11, 3]) + drep + struct.pack(e + "HHI", frag, len(auth), 2)
    return header + body + auth_trailer


def test_bind_to_netlogon_and_samr() -> None:
    data = bind(
        [
            ("12345678-1234-abcd-ef00-01234567cffb", 1, 0),
            ("12345778-1234-abcd-ef00-0123456789ac", 1, 0),
            ("00000000-1111-2222-3333-444444444444", 2, 1),
        ],
        auth=b"kerberos-ticket",
    )
    assert D.signature(data)
    (b,) = D.dissect(data, CLIENT)
    assert isinstance(b, DcerpcBind)
    assert b.interfaces == (
        "12345678-1234-abcd-ef00-01234567cffb v1.0",
        "12345778-1234-abcd-ef00-0123456789ac v1.0",
        "00000000-1111-2222-3333-444444444444 v2.1",
    )
    assert (b.packet_type, b.interface_names, b.auth_type) == ("bind", ("NETLOGON", "SAMR"), 16)


def test_big_endian_bind() -> None:
    (b,) = D.dissect(bind([("e1af8308-5d1f-11c9-91a4-08002b14a0fa", 3, 0)], little=False), CLIENT)
    assert isinstance(b, DcerpcBind) and b.interface_names == ("EPM",)


def test_signature_rejects_other_bytes() -> None:
    assert not D.signature(b"\x05\x00\x00\x03\x10\x00\x00\x00\x18\x00\x00\x00")  # short request
    assert not D.signature(b"GET / HTTP/1.1\r\n")


@pytest.mark.parametrize(
    "data",
    [
        b"\x04\x00\x0b\x03\x10\x00\x00\x00\x48\x00\x00\x00\x02\x00\x00\x00",  # version 4
        bind([("e1af8308-5d1f-11c9-91a4-08002b14a0fa", 3, 0)])[:16]
        + b"\x00" * 8
        + b"\x05\x00\x00\x00",  # five contexts announced, none present
    ],
)
def test_malformed(data: bytes) -> None:
    if len(data) >= 16 and data[0] == 5:
        data = data[:8] + struct.pack("<H", len(data)) + data[10:]
    with pytest.raises(DissectError):
        list(D.dissect(data, CLIENT))


def test_real_drsuapi_bind(shared_data: Path) -> None:
    found = [
        o
        for p in payloads(shared_data / "pcap/zeek/dce-rpc_cs_window7-join_stream092.pcap")
        for o in D.dissect(p.data, p.ctx)
        if p.data[:1] == b"\x05"
    ]
    assert {(o.packet_type, o.interface_names) for o in found if isinstance(o, DcerpcBind)} == {
        ("bind", ("DRSUAPI",)),
        ("alter_context", ("DRSUAPI",)),
    }
    assert all(o.ctx.dst_ip == "192.168.122.3" for o in found)
