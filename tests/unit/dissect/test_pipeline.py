"""The dissect pipeline on captures: routing, TCP head reassembly, budgets, containment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import dpkt
import pytest

from medsec.capture.reader import read_capture
from medsec.dissect.pipeline import DissectPipeline
from medsec.model.errors import DissectError
from medsec.model.observations import (
    MalformedPayload,
    Observation,
    PacketContext,
    Transport,
    observation,
)

from tests_support.capfile import Packet, ethernet, frame, pcap_bytes

ACK, PSH, SYN = dpkt.tcp.TH_ACK, 8, dpkt.tcp.TH_SYN


@observation
class Seen(Observation):
    PROTOCOL: ClassVar[str] = "fake"
    data: bytes


@observation
class Numbered(Observation):
    PROTOCOL: ClassVar[str] = "fake"
    NONCES: ClassVar[frozenset[str]] = frozenset({"request_id"})
    request_id: int
    data: bytes


class Fake:
    """Claims port 7000 and payloads starting with ``HEL``; states what it was given."""

    name: ClassVar[str] = "fake"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp", "udp"})
    ports: ClassVar[frozenset[int]] = frozenset({7000})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 10
    datagrams: ClassVar[int] = 2

    def signature(self, head: bytes) -> bool:
        return head.startswith(b"HEL") or head.startswith(b"220 ")

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if payload.startswith(b"BAD"):
            raise DissectError("bad fake payload")
        if payload.startswith(b"BUG"):
            raise IndexError("a dissector bug")
        if payload.startswith(b"ID"):
            yield Numbered(ctx=ctx, request_id=payload[2], data=payload[3:])
            return
        yield Seen(ctx=ctx, data=payload)


class FakeLldp(Fake):
    name: ClassVar[str] = "fake-lldp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"l2"})
    ethertypes: ClassVar[frozenset[int]] = frozenset({0x88CC})


T0 = 1_767_600_000_000_000_000


def run(tmp_path: Path, frames: list[bytes]) -> DissectPipeline:
    path = tmp_path / "p.pcap"
    path.write_bytes(pcap_bytes([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)]))
    pipeline = DissectPipeline([Fake(), FakeLldp()])
    summary = read_capture(path, sink=pipeline)
    assert summary.complete
    return pipeline


def seg(seq: int, data: bytes, *, server: bool = False, port: int = 5555) -> bytes:
    tcp = dpkt.tcp.TCP(
        sport=port if server else 40000,
        dport=40000 if server else port,
        seq=seq,
        flags=ACK | PSH,
        data=data,
    )
    ip = dpkt.ip.IP(
        src=bytes([10, 0, 0, 2 if server else 1]),
        dst=bytes([10, 0, 0, 1 if server else 2]),
        p=6,
        data=tcp,
    )
    ip.len = 20 + len(bytes(tcp))
    return ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800, bytes(ip))


def seen(pipeline: DissectPipeline) -> list[bytes]:
    return [o.data for o in pipeline.observations if isinstance(o, Seen)]


def test_head_is_reassembled_in_order_despite_retransmission(tmp_path: Path) -> None:
    frames = [
        seg(1000, b"HELLO"),
        seg(1000, b"HELLO"),  # retransmission: ignored
        seg(1003, b"LOWO"),  # overlaps by two bytes: only "WO" is new
        seg(1007, b"RLD and more"),
    ]
    pipeline = run(tmp_path, frames)
    assert seen(pipeline) == [b"HELLOWORLD"]  # stream_bytes = 10
    assert set(pipeline.apps.values()) == {"fake"}


def test_gap_ends_the_head(tmp_path: Path) -> None:
    pipeline = run(tmp_path, [seg(1, b"HELLO"), seg(100, b"LATER")])
    assert seen(pipeline) == [b"HELLO"]


def test_server_speaks_first_and_client_bytes_are_kept(tmp_path: Path) -> None:
    """The client's first bytes arrive before any dissector claims the flow."""
    frames = [seg(1, b"USER x\r\n"), seg(500, b"220 ready\r\n", server=True)]
    pipeline = run(tmp_path, frames)
    assert sorted(seen(pipeline)) == [b"220 ready\r", b"USER x\r\n"]


def test_unclaimed_flow_is_switched_off_after_both_first_payloads(tmp_path: Path) -> None:
    frames = [seg(1, b"nothing"), seg(1, b"of mine", server=True)]
    frames += [seg(8 + 7 * i, b"still n", port=5555) for i in range(50)]
    pipeline = run(tmp_path, frames)
    assert not seen(pipeline) and not pipeline.apps
    # a probe per direction; the kernel drops the heads once the flow is switched off
    assert pipeline.stats.payloads == 2


def test_bulk_flow_stops_being_handed_over(tmp_path: Path) -> None:
    """Once both heads are dissected the kernel stops handing the flow's payloads over."""
    frames = [seg(1, b"HELLO-WORLD"), seg(1, b"HELLO-BACK!", server=True)]
    frames += [seg(12 + 1000 * i, b"x" * 1000) for i in range(5000)]
    path = tmp_path / "bulk.pcap"
    path.write_bytes(pcap_bytes([Packet(T0 + i, f) for i, f in enumerate(frames)]))
    pipeline = DissectPipeline([Fake()])
    read_capture(path, sink=pipeline)
    assert seen(pipeline) == [b"HELLO-WORL", b"HELLO-BACK"]
    # a probe per direction (no port claims the flow), then one head per direction
    assert pipeline.stats.payloads == 4


def test_port_routing_and_datagram_budget(tmp_path: Path) -> None:
    frames = [
        frame("10.0.0.1", "10.0.0.2", 40000 + 0, 7000, proto="udp", payload=b"one"),
        frame("10.0.0.1", "10.0.0.2", 40000 + 0, 7000, proto="udp", payload=b"two"),
        frame("10.0.0.1", "10.0.0.2", 40000 + 0, 7000, proto="udp", payload=b"three"),
    ]
    pipeline = run(tmp_path, frames)
    assert seen(pipeline) == [b"one", b"two"]


def test_a_fact_repeated_on_an_edge_is_kept_once(tmp_path: Path) -> None:
    """Flows of one edge restating a fact add nothing; another fact, another sender or
    another edge (other host, other service port) are kept; the first one is the evidence."""
    frames = [
        frame("10.0.0.1", "10.0.0.2", 40001, 7000, proto="udp", payload=b"same"),
        frame("10.0.0.1", "10.0.0.2", 40002, 7000, proto="udp", payload=b"same"),
        frame("10.0.0.1", "10.0.0.2", 40002, 7000, proto="udp", payload=b"other"),
        frame("10.0.0.2", "10.0.0.1", 7000, 40002, proto="udp", payload=b"same"),
        frame("10.0.0.1", "10.0.0.3", 40003, 7000, proto="udp", payload=b"same"),
        frame("10.0.0.4", "10.0.0.2", 40004, 7000, proto="udp", payload=b"same"),
    ]
    pipeline = run(tmp_path, frames)
    kept = [o for o in pipeline.observations if isinstance(o, Seen)]
    assert [(o.ctx.src_ip, o.ctx.dst_ip, o.data) for o in kept] == [
        ("10.0.0.1", "10.0.0.2", b"same"),
        ("10.0.0.1", "10.0.0.2", b"other"),
        ("10.0.0.2", "10.0.0.1", b"same"),
        ("10.0.0.1", "10.0.0.3", b"same"),
        ("10.0.0.4", "10.0.0.2", b"same"),
    ]
    assert kept[0].ctx.src_port == 40001  # the first flow's
    assert pipeline.stats.repeated == 1


def test_a_new_transaction_id_alone_is_no_new_fact(tmp_path: Path) -> None:
    frames = [
        frame("10.0.0.1", "10.0.0.2", 40001, 7000, proto="udp", payload=b"ID\x01abc"),
        frame("10.0.0.1", "10.0.0.2", 40001, 7000, proto="udp", payload=b"ID\x02abc"),
        frame("10.0.0.1", "10.0.0.2", 40002, 7000, proto="udp", payload=b"ID\x03abd"),
    ]
    pipeline = run(tmp_path, frames)
    kept = [(o.request_id, o.data) for o in pipeline.observations if isinstance(o, Numbered)]
    assert kept == [(1, b"abc"), (3, b"abd")]
    assert pipeline.stats.repeated == 1


def _polls(client: str, server: str, payloads: list[bytes]) -> list[bytes]:
    """One UDP flow per payload, each from a new source port (a manager polling an agent)."""
    return [
        frame(client, server, 30000 + i, 7000, proto="udp", payload=p)
        for i, p in enumerate(payloads)
    ]


def _filler(n: int) -> list[bytes]:
    """``n`` one-datagram flows nobody claims: they fill the kernel's hand-off batch, so the
    sink sees what came before them before the kernel reads what comes after."""
    return [
        frame(f"10.1.{i // 250}.{i % 250 + 1}", "10.9.0.9", 20000, 9999, proto="udp", payload=b"zz")
        for i in range(n)
    ]


def test_an_edge_is_sampled_further_only_while_it_tells_something_new(tmp_path: Path) -> None:
    from medsec.capture.tables import EMIT_ROWS

    same = _polls("10.0.0.1", "10.0.0.2", [b"poll"] * 10)
    varied = _polls("10.0.0.3", "10.0.0.2", [b"oid %d" % i for i in range(10)])
    frames = same[:4] + varied[:4] + _filler(EMIT_ROWS) + same[4:] + varied[4:]
    pipeline = run(tmp_path, frames)
    # the first EDGE_SAMPLES (3) flows always; the 4th tells nothing new and closes the edge
    assert pipeline.stats.dissected == 4 + 10
    assert seen(pipeline) == [b"poll"] + [b"oid %d" % i for i in range(10)]


def test_an_edge_shared_by_many_devices_is_never_closed(tmp_path: Path) -> None:
    """DHCP clients all send from 0.0.0.0 to the broadcast address: the next flow may be
    another device's, so a repeat there closes nothing."""
    from medsec.capture.tables import EMIT_ROWS

    polls = _polls("0.0.0.0", "255.255.255.255", [b"same"] * 6 + [b"new client"])
    pipeline = run(tmp_path, polls[:4] + _filler(EMIT_ROWS) + polls[4:])
    assert pipeline.stats.dissected == 7
    assert seen(pipeline) == [b"same", b"new client"]


def test_malformed_and_buggy_payloads_are_contained(tmp_path: Path) -> None:
    frames = [
        frame("10.0.0.1", "10.0.0.2", 40001, 7000, proto="udp", payload=b"BAD!"),
        frame("10.0.0.1", "10.0.0.2", 40002, 7000, proto="udp", payload=b"BUG!"),
        frame("10.0.0.1", "10.0.0.2", 40003, 7000, proto="udp", payload=b"fine"),
    ]
    pipeline = run(tmp_path, frames)
    stats = pipeline.stats
    assert (stats.malformed, stats.failures) == (1, 1)
    malformed = [o for o in pipeline.observations if isinstance(o, MalformedPayload)]
    assert malformed[0].reason == "bad fake payload" and malformed[0].dissector == "fake"
    assert seen(pipeline) == [b"fine"]


def test_link_layer_frames_by_ethertype(tmp_path: Path) -> None:
    lldp = ethernet("00:11:22:33:44:55", "01:80:c2:00:00:0e", 0x88CC, b"\x02\x07\x04abcdef")
    pipeline = run(tmp_path, [lldp])
    (obs,) = [o for o in pipeline.observations if isinstance(o, Seen)]
    assert obs.data == b"\x02\x07\x04abcdef"
    assert (obs.ctx.transport, obs.ctx.src_mac, obs.ctx.ethertype) == (
        "l2",
        "00:11:22:33:44:55",
        0x88CC,
    )


@pytest.mark.parametrize("limit", [16, 1 << 20])
def test_buffer_limit_dissects_early_but_loses_nothing(tmp_path: Path, limit: int) -> None:
    frames = [seg(1, b"HELLO", port=6000 + i) for i in range(20)]
    path = tmp_path / "many.pcap"
    path.write_bytes(pcap_bytes([Packet(T0 + i, f) for i, f in enumerate(frames)]))
    pipeline = DissectPipeline([Fake()], buffer_limit=limit)
    read_capture(path, sink=pipeline)
    assert seen(pipeline) == [b"HELLO"] * 20


def test_every_dissector_is_registered_once_and_keeps_within_kernel_budgets() -> None:
    from medsec.capture import kernel
    from medsec.dissect import default_dissectors

    dissectors = default_dissectors()
    names = [d.name for d in dissectors]
    assert len(names) == len(set(names))
    for d in dissectors:
        assert d.datagrams <= kernel.MAX_EMIT_DATAGRAMS, d.name
        assert d.stream_bytes <= kernel.MAX_EMIT_TCP_BYTES, d.name
        assert d.transports, d.name


def test_udp_ports_carry_the_flows_per_edge_their_dissector_wants() -> None:
    from medsec.dissect import default_dissectors
    from medsec.dissect.interface import EDGE_SAMPLES, UDP_EDGE_FLOWS

    udp = DissectPipeline(default_dissectors()).claimed_ports[1]
    assert udp[161] == udp[514] == udp[5355] == UDP_EDGE_FLOWS  # SNMP, syslog, LLMNR
    assert udp[53] == EDGE_SAMPLES  # unicast DNS lookups
    assert udp[123] == 1  # NTP polls
    assert udp[7000] == 0
