"""NetBIOS name service dissector: RFC 1001/1002 vectors and real captures."""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.netbios import NetbiosNsDissector, decode_name
from medsec.model.errors import DissectError
from medsec.model.observations import Observation
from medsec.model.observations.naming import (
    NetbiosNameBinding,
    NetbiosNameEntry,
    NetbiosNameQuery,
    NetbiosNodeStatus,
)

from tests_support.dissect_harness import ctx, payloads

D = NetbiosNsDissector()
UDP = ctx(transport="udp", src_port=137, dst_port=137)


def encoded(name: str, suffix: int) -> bytes:
    """First-level encoding (RFC 1001 14.1): 15 bytes space-padded + suffix, each nibble
    as a letter 'A'..'P', as one 32-byte label, then the root label (no scope)."""
    raw = name.encode().ljust(15, b" ") + bytes([suffix])
    letters = b"".join(bytes([0x41 + (b >> 4), 0x41 + (b & 15)]) for b in raw)
    return b"\x20" + letters + b"\x00"


def header(flags: int, qd: int, an: int = 0, ar: int = 0, ident: int = 0x8012) -> bytes:
    return struct.pack("!6H", ident, flags, qd, an, 0, ar)


def question(name: str, suffix: int, qtype: int = 0x20) -> bytes:
    return encoded(name, suffix) + struct.pack("!HH", qtype, 1)


def rr(owner: bytes, rtype: int, ttl: int, rdata: bytes) -> bytes:
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def test_rfc1001_encoding_example() -> None:
    # RFC 1001 14.1: "FRED" padded with spaces encodes as EGFCEFEECACACACACACACACACACACACA
    label = b"EGFCEFEECACACACACACACACACACACACA"
    assert encoded("FRED", 0x20)[1:-1] == label
    assert decode_name(label) == ("FRED", 0x20)
    with pytest.raises(DissectError):
        decode_name(b"Z" * 32)
    with pytest.raises(DissectError):
        decode_name(b"A" * 30)


def test_broadcast_name_query() -> None:
    data = header(0x0110, 1) + question("PACS-WS1", 0x20)  # opcode 0, RD, B
    (q,) = D.dissect(data, UDP)
    assert isinstance(q, NetbiosNameQuery)
    assert (q.name, q.suffix, q.scope, q.node_status, q.broadcast) == (
        "PACS-WS1",
        0x20,
        None,
        False,
        True,
    )


def test_registration_request() -> None:
    # opcode 5 registration, RD, B; question + additional NB record (pointer to the name)
    data = (
        header(0x2910, 1, ar=1)
        + question("MODALITY-CT1", 0x00)
        + rr(b"\xc0\x0c", 0x20, 300000, b"\x00\x00" + bytes([10, 1, 2, 3]))
    )
    (binding,) = D.dissect(data, UDP)
    assert isinstance(binding, NetbiosNameBinding)
    assert (binding.operation, binding.response, binding.rcode) == ("registration", False, 0)
    assert (binding.name, binding.suffix, binding.group) == ("MODALITY-CT1", 0, False)
    assert (binding.addresses, binding.ttl) == (("10.1.2.3",), 300000)


def test_group_name_query_response_with_two_addresses() -> None:
    rdata = b"\x80\x00" + bytes([10, 0, 0, 1]) + b"\x80\x00" + bytes([10, 0, 0, 2])  # G flag
    data = header(0x8500, 0, an=1) + rr(encoded("RADIOLOGY", 0x1C), 0x20, 3600, rdata)
    (binding,) = D.dissect(data, UDP)
    assert isinstance(binding, NetbiosNameBinding)
    assert (binding.operation, binding.response, binding.group) == ("query", True, True)
    assert binding.addresses == ("10.0.0.1", "10.0.0.2")


def test_negative_response_and_wack() -> None:
    data = header(0x8503, 0, an=1) + rr(encoded("NOPE", 0x00), 0x20, 0, b"")  # rcode 3
    (binding,) = D.dissect(data, UDP)
    assert isinstance(binding, NetbiosNameBinding)
    assert (binding.rcode, binding.group, binding.addresses) == (3, None, ())
    data = header(0xBC00, 0, an=1) + rr(encoded("X", 0), 0x20, 2, b"\x29\x10")  # opcode 7 WACK
    (binding,) = D.dissect(data, UDP)
    assert isinstance(binding, NetbiosNameBinding) and binding.operation == "wack"


def test_node_status_response() -> None:
    names = (
        b"WS-ANESTH-3".ljust(15) + b"\x00" + b"\x04\x00"  # unique, active
        + b"ICU-GROUP".ljust(15) + b"\x00" + b"\x84\x00"  # group, active
        + b"WS-ANESTH-3".ljust(15) + b"\x20" + b"\x04\x00"
    )  # fmt: skip
    rdata = b"\x03" + names + bytes.fromhex("0009fb112233") + bytes(40)  # unit id + stats
    star = b"\x20" + b"CK" + b"AA" * 15 + b"\x00"  # "*" then NULs
    data = header(0x8400, 0, an=1) + rr(star, 0x21, 0, rdata)
    (status,) = D.dissect(data, UDP)
    assert isinstance(status, NetbiosNodeStatus)
    assert status.name == "*" and status.unit_id == "00:09:fb:11:22:33"
    assert status.names == (
        NetbiosNameEntry(name="WS-ANESTH-3", suffix=0, group=False, active=True),
        NetbiosNameEntry(name="ICU-GROUP", suffix=0, group=True, active=True),
        NetbiosNameEntry(name="WS-ANESTH-3", suffix=0x20, group=False, active=True),
    )


def test_scope_id() -> None:
    data = header(0x0110, 1) + encoded("HOST", 0)[:-1] + b"\x03icu\x03lan\x00" + b"\x00\x20\x00\x01"
    (q,) = D.dissect(data, UDP)
    assert isinstance(q, NetbiosNameQuery) and q.scope == "icu.lan"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00" * 11, "message of 11 bytes"),
        (header(0x1810, 1) + question("A", 0), "unknown opcode 3"),
        (header(0x0110, 1) + b"\x04abcd\x00\x00\x20\x00\x01", "32 expected"),
        (header(0x0110, 1) + question("A", 0)[:-2], "question runs past the end"),
        (header(0x8400, 0, an=1) + rr(encoded("A", 0), 0x21, 0, b"\x02" + bytes(20)), "names"),
        (header(0x8400, 0, an=1) + rr(encoded("A", 0), 0x21, 0, b""), "empty node status"),
        (header(0x8500, 0, an=1) + rr(encoded("A", 0), 0x20, 0, b"\x00" * 5), "NB record"),
        (header(0x8500, 0, an=1) + encoded("A", 0) + b"\x00\x20", "header runs past"),
        (header(0x8500, 0, an=1) + rr(encoded("A", 0), 0x20, 0, bytes(6))[:-1], "data runs"),
        (header(0x0110, 70), "70 entries"),
        (header(0x0110, 1) + b"\x00\x00\x20\x00\x01", "empty NetBIOS name"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_signature() -> None:
    assert D.signature(header(0x0110, 1) + question("PACS-WS1", 0x20))
    assert not D.signature(header(0x0110, 1) + b"\x20" + b"Z" * 32 + b"\x00\x00\x20\x00\x01")
    assert not D.signature(b"\x00" * 60)


# ---------------------------------------------------------------- real captures


def pcapng_payloads(path: Path) -> list[tuple[bytes, int]]:
    out = []
    with open(path, "rb") as f:
        for _, buf in dpkt.pcapng.Reader(f):
            ip = dpkt.ethernet.Ethernet(buf).data
            udp = getattr(ip, "data", None)
            if isinstance(udp, dpkt.udp.UDP) and 137 in (udp.sport, udp.dport):
                out.append((bytes(udp.data), int(ipaddress.ip_address(ip.src))))
    return out


def test_ndpi_queries_and_node_status(shared_data: Path) -> None:
    found: list[Observation] = []
    for data, _src in pcapng_payloads(shared_data / "pcap/ndpi/netbios.pcap"):
        found.extend(D.dissect(data, UDP))
    queries = [o for o in found if isinstance(o, NetbiosNameQuery)]
    assert len(queries) == 250
    assert sum(1 for q in queries if q.name == "XSTREAM_HY" and q.suffix == 0) == 181
    assert sum(1 for q in queries if q.node_status and q.name == "*") == 4
    statuses = [o for o in found if isinstance(o, NetbiosNodeStatus)]
    assert len(statuses) == 4
    assert statuses[0].unit_id == "00:1c:c4:10:79:0f"
    assert [(e.name, e.suffix, e.group) for e in statuses[0].names] == [
        ("GUNNAR", 0x00, False),
        ("VIGILANT_GROUP", 0x00, True),
        ("GUNNAR", 0x20, False),
        ("VIGILANT_GROUP", 0x1E, True),
    ]
    responses = [o for o in found if isinstance(o, NetbiosNameBinding)]
    assert {(o.name, o.addresses) for o in responses} >= {("GURU", ("10.0.5.1",))}


def test_windows_98_registrations(shared_data: Path) -> None:
    path = shared_data / "pcap/ndpi/dos_win98_smb_netbeui.pcap"
    found = [o for p in payloads(path, ports={137}) for o in D.dissect(p.data, p.ctx)]
    registered = {
        (o.name, o.suffix, o.group)
        for o in found
        if isinstance(o, NetbiosNameBinding) and o.operation == "registration"
    }
    assert {
        ("MDJR98", 0x00, False),
        ("MDJR98", 0x20, False),
        ("WORKGROUP", 0x00, True),
        ("MARTIN ROSENAU", 0x03, False),
        ("\x01\x02__MSBROWSE__\x02", 0x01, True),
    } <= registered
    assert all(
        o.addresses == ("192.168.239.129",) for o in found if isinstance(o, NetbiosNameBinding)
    )


def test_wikipedia_printer_lookup(shared_data: Path) -> None:
    found = [
        o
        for p in payloads(shared_data / "pcap/zeek/wikipedia.pcap", ports={137})
        for o in D.dissect(p.data, p.ctx)
    ]
    assert {o.name for o in found if isinstance(o, NetbiosNameQuery)} == {
        "BRWC0CB383D1F42",
        "WORKGROUP",
    }
