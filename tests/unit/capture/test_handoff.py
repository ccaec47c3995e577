"""What the kernel hands a payload sink: edge samples, probes and reassembled TCP heads.

A recording sink stands in for the dissect stage: it claims every TCP flow on its first
probe with a fixed head size, and keeps what it is given. A plain Python reassembly (the
one the dissect stage did per segment before the kernel took it over) is the oracle.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dpkt
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsec.capture import kernel as k
from medsec.capture.handoff import PayloadBatch
from medsec.capture.reader import read_capture

from tests_support.capfile import Packet, ethernet, pcap_bytes

T0 = 1_767_600_000_000_000_000
ACK_PSH = dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH
SERVICE = 7000


class RecordingSink:
    """Claims each TCP flow at its first probe (``head`` bytes per direction)."""

    def __init__(self, head: int = 1 << 20, *, edge_samples: int = 0, buffer_limit: int = 0):
        self.inspect = np.zeros(16, dtype=np.uint8)
        self.inspect_new = k.INSPECT_ON
        self.head_bytes = np.zeros(16, dtype=np.int64)
        self.l2_types = np.zeros(0, dtype=np.int64)
        self.claimed_ports = np.zeros((2, 65536), dtype=np.uint8)
        self.claimed_ports[0, SERVICE] = 1
        self.edge_samples = edge_samples
        self.closed_edges = np.zeros(0, dtype=np.uint8)
        self.buffer_limit = buffer_limit
        self.head = head
        self.probes: list[tuple[int, int, bytes]] = []
        self.heads: dict[tuple[int, int], bytes] = {}
        self.edge_of: dict[int, int] = {}
        self.datagrams: list[tuple[int, int, bytes]] = []
        self.rows = 0

    def payloads(self, batch: PayloadBatch) -> None:
        self.rows += len(batch)
        for row in batch.rows.tolist():
            data = batch.data[row[k.E_OFFSET] : row[k.E_OFFSET] + row[k.E_LENGTH]]
            fid, direction = row[k.E_FLOW_ID], row[k.E_DIRECTION]
            if row[k.E_KIND] == k.KIND_PROBE:
                self.probes.append((fid, direction, data))
                self._claim(fid)
            elif row[k.E_KIND] == k.KIND_HEAD:
                assert (fid, direction) not in self.heads, "a head comes once"
                self.heads[fid, direction] = data
            elif fid >= 0:
                self.datagrams.append((fid, row[k.E_DPORT], data))

    def _claim(self, fid: int) -> None:
        if fid >= self.inspect.shape[0]:
            size = max(fid + 1, 2 * self.inspect.shape[0])
            self.inspect = np.resize(self.inspect, size)
            self.head_bytes = np.resize(self.head_bytes, size)
        self.inspect[fid] = k.INSPECT_CLAIMED
        self.head_bytes[fid] = self.head

    def edges(self, flow_ids: np.ndarray, edge_ids: np.ndarray) -> None:
        self.edge_of = dict(zip(flow_ids.tolist(), edge_ids.tolist(), strict=True))

    def finish(self) -> None:
        return None

    def apps_of(self, flow_ids: list[int]) -> list[str | None]:
        return [None] * len(flow_ids)


def segment(
    client: str, cport: int, seq: int, data: bytes, *, server: str = "10.9.0.1", back: bool = False
) -> bytes:
    """A TCP segment between ``client:cport`` and ``server:SERVICE`` (``back``: from server)."""
    src, dst = (server, client) if back else (client, server)
    sport, dport = (SERVICE, cport) if back else (cport, SERVICE)
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, flags=ACK_PSH, data=data)
    ip = dpkt.ip.IP(
        src=ipaddress.ip_address(src).packed, dst=ipaddress.ip_address(dst).packed, p=6, data=tcp
    )
    ip.len = 20 + len(bytes(tcp))
    return ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800, bytes(ip))


def run(tmp_path: Path, frames: list[bytes], sink: RecordingSink) -> RecordingSink:
    path = tmp_path / "h.pcap"
    path.write_bytes(pcap_bytes([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)]))
    summary = read_capture(path, sink=sink)
    assert summary.complete
    return sink


def oracle(segments: list[tuple[int, bytes]], limit: int) -> bytes:
    """The head of one direction: in sequence order from the first segment, retransmitted
    bytes once, up to a gap or ``limit`` bytes."""
    head = b""
    next_seq: int | None = None
    for seq, data in segments:
        if next_seq is not None:
            ahead = (seq - next_seq) % (1 << 32)
            if ahead >= 1 << 31:
                overlap = (next_seq - seq) % (1 << 32)
                if overlap >= len(data):
                    continue
                data, seq = data[overlap:], next_seq
            elif ahead:
                break
        head += data[: max(limit - len(head), 0)]
        next_seq = (seq + len(data)) % (1 << 32)
        if len(head) >= limit:
            break
    return head


def test_first_flows_of_an_edge_only(tmp_path: Path) -> None:
    frames = [segment("10.1.0.1", 40000 + i, 1, b"hello %d" % i) for i in range(5)]
    frames.append(segment("10.1.0.2", 40000, 1, b"other client"))
    sink = run(tmp_path, frames, RecordingSink(edge_samples=3))
    assert [p[2] for p in sink.probes] == [b"hello 0", b"hello 1", b"hello 2", b"other client"]
    assert sorted(sink.heads.values()) == sorted(p[2] for p in sink.probes)
    # every flow learns its edge, inspected or not
    assert len(sink.edge_of) == 6
    assert len({sink.edge_of[f] for f in range(5)}) == 1
    assert sink.edge_of[5] != sink.edge_of[0]


def datagram(client: str, cport: int, server: str, port: int, data: bytes) -> bytes:
    udp = dpkt.udp.UDP(sport=cport, dport=port, data=data)
    udp.ulen = 8 + len(data)
    ip = dpkt.ip.IP(
        src=ipaddress.ip_address(client).packed,
        dst=ipaddress.ip_address(server).packed,
        p=17,
        data=udp,
    )
    ip.len = 20 + len(bytes(udp))
    return ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800, bytes(ip))


def test_claimed_udp_edges_sample_the_flows_their_dissector_wants(tmp_path: Path) -> None:
    """A manager asking from a new source port each time: on a UDP port a datagram dissector
    claims, as many flows of each edge are inspected as the port's ``claimed_ports`` value
    asks (at most ``CLAIMED_UDP_EDGE_SAMPLES``), fewer than ``edge_samples`` too; unclaimed
    ports keep ``edge_samples``."""
    n = k.CLAIMED_UDP_EDGE_SAMPLES + 8
    ports = (161, 514, 53, 123, 9999)
    frames = []
    for port in ports:
        frames += [datagram("10.1.0.1", 20000 + i, "10.9.0.2", port, b"q%d" % i) for i in range(n)]
    sink = RecordingSink(edge_samples=3)
    sink.claimed_ports[1, 161] = 255
    sink.claimed_ports[1, 514] = 10
    sink.claimed_ports[1, 53] = 3
    sink.claimed_ports[1, 123] = 1
    run(tmp_path, frames, sink)
    per_port = {p: [d for _f, port, d in sink.datagrams if port == p] for p in ports}
    assert per_port[161] == [b"q%d" % i for i in range(k.CLAIMED_UDP_EDGE_SAMPLES)]
    assert per_port[514] == [b"q%d" % i for i in range(10)]
    assert per_port[53] == [b"q0", b"q1", b"q2"]
    assert per_port[123] == [b"q0"]
    assert per_port[9999] == [b"q0", b"q1", b"q2"]


def test_undecided_head_waits_for_the_sinks_decision(tmp_path: Path) -> None:
    """On a port nobody claims, a direction passing ``UNDECIDED_TCP_BYTES`` in the batch that
    carries its probe is not cut short: the sink claims it by signature first."""
    chunk = 1400
    total = 4 * k.UNDECIDED_TCP_BYTES
    data = bytes(i % 251 for i in range(total))
    frames = [
        segment("10.1.0.1", 40000, 1 + at, data[at : at + chunk]) for at in range(0, total, chunk)
    ]
    sink = RecordingSink()
    sink.claimed_ports[0, SERVICE] = 0
    run(tmp_path, frames, sink)
    assert sink.heads[0, 0] == data
    assert sink.rows == 2  # the probe, then the whole head


def test_undecided_head_still_ends_when_the_sink_cannot_decide(tmp_path: Path) -> None:
    """A sink that saw the probe and claims nothing: the head ends at the undecided budget."""

    class Undecided(RecordingSink):
        def _claim(self, fid: int) -> None:
            return None

    chunk = 1000
    total = 3 * k.UNDECIDED_TCP_BYTES
    frames = [segment("10.1.0.1", 40000, 1 + at, b"u" * chunk) for at in range(0, total, chunk)]
    sink = Undecided()
    sink.claimed_ports[0, SERVICE] = 0
    run(tmp_path, frames, sink)
    assert len(sink.heads[0, 0]) == 5 * chunk  # segments are taken whole up to the budget


def test_one_row_per_direction_however_many_segments(tmp_path: Path) -> None:
    frames = []
    for i in range(200):
        frames.append(segment("10.1.0.1", 40000, 1 + 100 * i, bytes([65 + i % 26]) * 100))
        frames.append(segment("10.1.0.1", 40000, 5 + 10 * i, b"0123456789", back=True))
    sink = run(tmp_path, frames, RecordingSink(head=15_000))
    assert sink.heads[0, 0] == b"".join(bytes([65 + i % 26]) * 100 for i in range(150))
    assert sink.heads[0, 1] == b"0123456789" * 200
    assert sink.rows == 3  # the flow's probe, then one head per direction


def test_heads_survive_table_growth(tmp_path: Path) -> None:
    """Thousands of heads open at once: the flow table, the head table and the block store
    all grow while heads are collected, and every head still comes out whole."""
    n = 3000
    clients = [f"10.{2 + i // 250}.{i % 250}.1" for i in range(n)]
    frames = [segment(c, 40000, 1, b"A" * 700) for c in clients]
    frames += [segment(c, 40000, 701, b"B" * 700) for c in clients]
    sink = run(tmp_path, frames, RecordingSink(head=2000))
    assert len(sink.heads) == n
    assert set(sink.heads.values()) == {b"A" * 700 + b"B" * 700}


def test_buffer_limit_hands_the_largest_heads_over_early(tmp_path: Path) -> None:
    frames = [segment("10.1.0.1", 40000 + i, 1, b"x" * (100 + i)) for i in range(50)]
    sink = run(tmp_path, frames, RecordingSink(buffer_limit=1000))
    assert sorted(len(h) for h in sink.heads.values()) == [100 + i for i in range(50)]


SEGMENTS = st.lists(
    st.tuples(st.integers(-3000, 3000), st.binary(min_size=1, max_size=300)),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(start=st.integers(0, (1 << 32) - 1), moves=SEGMENTS, limit=st.integers(1, 5000))
def test_heads_match_a_python_reassembly(
    tmp_path: Path, start: int, moves: list[tuple[int, bytes]], limit: int
) -> None:
    """Retransmissions, overlaps, gaps and sequence wrap-around: the kernel's head is the
    oracle's. Each segment's sequence number is an offset from the start (negative:
    before it), wrapped to 32 bits."""
    segments = [((start + offset) % (1 << 32), data) for offset, data in moves]
    frames = [segment("10.1.0.1", 40000, seq, data) for seq, data in segments]
    sink = run(tmp_path, frames, RecordingSink(head=limit))
    assert sink.heads.get((0, 0), b"") == oracle(segments, limit)


@st.composite
def resent_streams(draw: st.DrawFn) -> list[tuple[int, bytes]]:
    """One byte stream cut into segments, some sent again (with more bytes or not), maybe one
    lost: (offset in the stream, bytes)."""
    data = draw(st.binary(min_size=1, max_size=6000))
    cuts = draw(st.lists(st.integers(1, max(1, len(data) - 1)), max_size=20, unique=True))
    bounds = [0, *sorted(c for c in cuts if c < len(data)), len(data)]
    sent: list[tuple[int, bytes]] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        sent.append((a, data[a:b]))
        if draw(st.booleans()):
            again, chunk = sent[draw(st.integers(0, len(sent) - 1))]
            more = draw(st.integers(0, 300))
            sent.append((again, data[again : again + len(chunk) + more]))
    if len(sent) > 1 and draw(st.booleans()):
        del sent[draw(st.integers(1, len(sent) - 1))]
    return sent


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(start=st.integers(0, (1 << 32) - 1), sent=resent_streams(), limit=st.integers(1, 8000))
def test_resent_streams_match_a_python_reassembly(
    tmp_path: Path, start: int, sent: list[tuple[int, bytes]], limit: int
) -> None:
    segments = [((start + offset) % (1 << 32), data) for offset, data in sent]
    frames = [segment("10.1.0.1", 40000, seq, data) for seq, data in segments]
    sink = run(tmp_path, frames, RecordingSink(head=limit))
    assert sink.heads.get((0, 0), b"") == oracle(segments, limit)
