"""Flow export dissector: sFlow v5, NetFlow v5/v9 and IPFIX headers, and nDPI's captures."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.dissect.flowexport import FlowExportDissector
from medsec.model.errors import DissectError
from medsec.model.observations.infrastructure import FlowExport

from tests_support.dissect_harness import ctx, payloads

D = FlowExportDissector()
UDP = ctx(transport="udp", src_port=40000, dst_port=2055)


def netflow5(count: int) -> bytes:
    """Version 5, count, uptime, secs, nsecs, sequence 77, engine type 1 / id 2, sampling."""
    return struct.pack("!HHIIIIBBH", 5, count, 1, 2, 3, 77, 1, 2, 0) + bytes(48 * count)


def netflow9(*sets: tuple[int, bytes]) -> bytes:
    body = b"".join(struct.pack("!HH", i, 4 + len(v)) + v for i, v in sets)
    return struct.pack("!HHIIII", 9, len(sets), 1, 2, 3, 42) + body


def ipfix(*sets: tuple[int, bytes]) -> bytes:
    body = b"".join(struct.pack("!HH", i, 4 + len(v)) + v for i, v in sets)
    return struct.pack("!HHIII", 10, 16 + len(body), 1, 5, 7) + body


def one(data: bytes) -> FlowExport:
    assert D.signature(data)
    (msg,) = D.dissect(data, UDP)
    assert isinstance(msg, FlowExport)
    return msg


def test_sflow_v5_ipv4_and_ipv6_agents() -> None:
    v4 = one(struct.pack("!II", 5, 1) + bytes([192, 0, 2, 1]) + struct.pack("!4I", 3, 9, 100, 2))
    assert (v4.format, v4.agent_address, v4.sub_agent_id, v4.sequence, v4.records) == (
        "sflow",
        "192.0.2.1",
        3,
        9,
        2,
    )
    v6 = one(struct.pack("!II", 5, 2) + bytes(15) + b"\x01" + struct.pack("!4I", 0, 1, 1, 0))
    assert v6.agent_address == "::1"


def test_netflow_v5_v9_and_ipfix() -> None:
    v5 = one(netflow5(2))
    assert (v5.format, v5.version, v5.records, v5.engine_type, v5.engine_id, v5.sequence) == (
        "netflow",
        5,
        2,
        1,
        2,
        77,
    )
    v9 = one(netflow9((0, bytes(8)), (256, bytes(12))))
    assert (v9.version, v9.records, v9.observation_domain_id, v9.sequence) == (9, 2, 42, 3)
    ix = one(ipfix((2, bytes(8)), (300, bytes(4))))
    assert (ix.format, ix.records, ix.observation_domain_id, ix.sequence) == ("ipfix", 2, 7, 5)


def test_signature_needs_sizes_that_add_up() -> None:
    assert not D.signature(netflow5(2)[:-1])
    assert not D.signature(netflow9((0, bytes(8)))[:-2])
    assert not D.signature(netflow9((7, bytes(8))))  # set id 7 is neither template nor data
    assert not D.signature(ipfix((0, bytes(8))))  # v9 template id inside IPFIX
    assert not D.signature(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00", "datagram of 1"),
        (b"\x00\x07\x00\x00", "version 7"),
        (struct.pack("!II", 5, 3) + bytes(30), "address type 3"),
        (struct.pack("!II", 5, 1) + bytes(8), "sFlow header of 16"),
        (netflow5(2)[:100], "do not fit"),
        (netflow9()[:12], "v9 header of 12"),
        (struct.pack("!HH", 10, 99) + bytes(12), "IPFIX length 99"),
        (struct.pack("!HHIIIHH", 10, 24, 1, 5, 7, 2, 3) + bytes(4), "do not add up"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_real_sflow_from_a_switch(shared_data: Path) -> None:
    capture = shared_data / "pcap/ndpi/sflow.pcap"
    found = [msg for p in payloads(capture) for msg in D.dissect(p.data, p.ctx)]
    assert len(found) == 9
    assert {(m.format, m.agent_address) for m in found if isinstance(m, FlowExport)} == {
        ("sflow", "172.21.35.17")
    }


def test_real_netflow_v9_on_an_unusual_port(shared_data: Path) -> None:
    found = []
    for p in payloads(shared_data / "pcap/ndpi/netflowv9.pcap"):
        assert p.ctx.dst_port == 2057 and D.signature(p.data)
        found.extend(D.dissect(p.data, p.ctx))
    assert found and all(isinstance(m, FlowExport) and m.version == 9 for m in found)
    assert {m.observation_domain_id for m in found if isinstance(m, FlowExport)} == {1}
