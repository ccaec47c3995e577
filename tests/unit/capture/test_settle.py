"""Settling TCP heads after a batch: only the heads of the batch's flows are looked at.

The sink changes the flags of the flows it was given rows of, so after a batch only their
heads can settle (``kernel.SETTLE_FLOWS``, reached through the emit rows' ``E_SLOT``). The
oracle is the scan of every head (``SETTLE_ALL``), which the walker falls back to when the
sink replaces its arrays: a sink doing that hands the same batches over as one changing
them in place.
"""

from __future__ import annotations

import ipaddress
import random

import dpkt
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsec.capture import kernel as k
from medsec.capture.handoff import PayloadBatch
from medsec.capture.reader import CaptureWalker

from tests_support.capfile import Packet, ethernet, pcap_bytes

T0 = 1_767_600_000_000_000_000
SERVICE = 7000
UDP_SERVICE = 7001


def tcp(client: int, cport: int, seq: int, data: bytes, *, back: bool = False) -> bytes:
    """A segment between client ``10.1.x.y:cport`` and ``10.9.0.1:SERVICE``."""
    c = ipaddress.ip_address("10.1.0.0") + client
    s = ipaddress.ip_address("10.9.0.1")
    src, dst = (s, c) if back else (c, s)
    sport, dport = (SERVICE, cport) if back else (cport, SERVICE)
    seg = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, flags=dpkt.tcp.TH_ACK, data=data)
    ip = dpkt.ip.IP(src=src.packed, dst=dst.packed, p=6, data=seg)
    ip.len = 20 + len(bytes(seg))
    return ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800, bytes(ip))


def udp(client: int, data: bytes) -> bytes:
    c = ipaddress.ip_address("10.1.0.0") + client
    dgram = dpkt.udp.UDP(sport=30000, dport=UDP_SERVICE, data=data)
    dgram.ulen = 8 + len(data)
    ip = dpkt.ip.IP(src=c.packed, dst=ipaddress.ip_address("10.9.0.1").packed, p=17, data=dgram)
    ip.len = 20 + len(bytes(dgram))
    return ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800, bytes(ip))


class Sink:
    """Decides each flow at random (the same way in every run: by flow id and row): claims it
    with some head size, turns it off, or leaves it undecided - on its probes, datagrams and
    heads. Records every batch. ``replace``: new arrays after every batch, else the arrays
    are changed in place."""

    def __init__(self, seed: int, *, replace: bool = False, buffer_limit: int = 0) -> None:
        self.inspect = np.zeros(4, dtype=np.uint8)
        self.inspect_new = k.INSPECT_ON
        self.head_bytes = np.zeros(4, dtype=np.int64)
        self.l2_types = np.zeros(0, dtype=np.int64)
        self.claimed_ports = np.zeros((2, 65536), dtype=np.uint8)
        self.claimed_ports[0, SERVICE] = seed & 1  # claimed port: heads grow undecided
        self.edge_samples = 0
        self.closed_edges = np.zeros(0, dtype=np.uint8)
        self.buffer_limit = buffer_limit
        self.seed = seed
        self.replace = replace
        self.batches: list[tuple[bytes, bytes]] = []

    def payloads(self, batch: PayloadBatch) -> None:
        self.batches.append((batch.rows.tobytes(), batch.data))
        for row in batch.rows.tolist():
            fid = row[k.E_FLOW_ID]
            if fid >= 0:
                self.decide(fid, row[k.E_KIND], row[k.E_DIRECTION])
        if self.replace:
            self.inspect = self.inspect.copy()
            self.head_bytes = self.head_bytes.copy()

    def decide(self, fid: int, kind: int, direction: int) -> None:
        r = random.Random(hash((self.seed, fid, kind, direction)))
        choice = r.randrange(4)
        if choice == 0:
            self.set(fid, k.INSPECT_OFF, 0)
        elif choice == 1:
            self.set(fid, k.INSPECT_CLAIMED, r.choice((0, 1, 300, 2000, 1 << 20)))

    def set(self, fid: int, flag: int, limit: int) -> None:
        if fid >= self.inspect.shape[0]:
            size = max(fid + 1, 2 * self.inspect.shape[0])
            inspect = np.full(size, self.inspect_new, dtype=np.uint8)
            inspect[: self.inspect.shape[0]] = self.inspect
            limits = np.zeros(size, dtype=np.int64)
            limits[: self.head_bytes.shape[0]] = self.head_bytes
            self.inspect, self.head_bytes = inspect, limits
        self.inspect[fid] = flag
        self.head_bytes[fid] = limit

    def edges(self, flow_ids: np.ndarray, edge_ids: np.ndarray) -> None:
        return None

    def finish(self) -> None:
        return None

    def apps_of(self, flow_ids: list[int]) -> list[str | None]:
        return [None] * len(flow_ids)


class Meddling(Sink):
    """Also turns off a flow it was given no row of, in new arrays (which the contract
    allows): every head must be looked at then."""

    def payloads(self, batch: PayloadBatch) -> None:
        super().payloads(batch)
        given = set(batch.rows[:, k.E_FLOW_ID].tolist())
        others = [f for f in range(self.inspect.shape[0]) if f not in given]
        if others:
            self.inspect = self.inspect.copy()
            self.head_bytes = self.head_bytes.copy()
            self.inspect[random.Random(len(self.batches)).choice(others)] = k.INSPECT_OFF


def walker(sink: object, frames: list[bytes]) -> CaptureWalker:
    """A walker that took ``frames`` (in chunks of a few records each), not finished."""
    w = CaptureWalker(k.FORMAT_PCAP, sink)  # type: ignore[arg-type]
    w.interfaces.set_pcap(1, False)
    records = pcap_bytes([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)])[24:]
    chunks = []  # of whole records: cut after every seventh
    start = at = 0
    for i, f in enumerate(frames):
        at += 16 + len(f)
        if i % 7 == 6 or i == len(frames) - 1:
            chunks.append(records[start:at])
            start = at
    w.walk_chunks(chunks)
    return w


def batches(sink: Sink, frames: list[bytes], *, scan: bool = False) -> list[tuple[bytes, bytes]]:
    """Every batch the sink is given; ``scan``: as when every settle scanned every head (the
    oracle)."""
    with pytest.MonkeyPatch.context() as mp:
        if scan:
            settle = k.settle_heads

            def scan_all(*args: object) -> bool:
                mode = args[10]
                return settle(
                    *args[:10], k.SETTLE_ALL if mode == k.SETTLE_FLOWS else mode, *args[11:]
                )

            mp.setattr(k, "settle_heads", scan_all)
        walker(sink, frames).summary(source="test", fingerprint="x", label="pcap")
    return sink.batches


@st.composite
def traffic(draw: st.DrawFn) -> list[bytes]:
    """Up to 12 TCP flows (both directions, gaps and resends) and UDP flows, interleaved."""
    frames: list[list[bytes]] = []
    for client in range(draw(st.integers(1, 12))):
        if draw(st.integers(0, 4)) == 0:
            frames.append([udp(client, b"d%d" % i) for i in range(draw(st.integers(1, 3)))])
            continue
        flow = []
        seqs = [1000, 5000]
        for _ in range(draw(st.integers(1, 12))):
            back = draw(st.booleans())
            n = draw(st.sampled_from((1, 100, 700, 1400)))
            seq = seqs[back] + draw(st.sampled_from((0, 0, 0, -50, 30)))
            flow.append(tcp(client, 40000, seq, bytes([65 + client]) * n, back=back))
            seqs[back] = seq + n
        frames.append(flow)
    out = []
    while any(frames):
        pick = draw(st.integers(0, len(frames) - 1))
        flow = frames[pick] or next(f for f in frames if f)
        out.append(flow.pop(0))
    return out


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    frames=traffic(),
    seed=st.integers(0, 1 << 30),
    buffer_limit=st.sampled_from((0, 0, 1, 1500, 5000)),
    sink=st.sampled_from((Sink, Meddling)),
    replace=st.booleans(),
)
def test_settling_the_batchs_flows_hands_over_what_a_scan_of_every_head_does(
    frames: list[bytes], seed: int, buffer_limit: int, sink: type[Sink], replace: bool
) -> None:
    """Same batches, same rows, same bytes - evictions (``buffer_limit``) included."""
    got = batches(sink(seed, replace=replace, buffer_limit=buffer_limit), frames)
    scanned = batches(sink(seed, replace=replace, buffer_limit=buffer_limit), frames, scan=True)
    assert got == scanned


def test_same_batches_while_tables_grow_and_heads_are_evicted() -> None:
    """Thousands of flows: the tables grow between evictions and settles."""
    frames = []
    for c in range(2500):
        frames.append(tcp(c, 40000, 1, b"A" * 300))
        frames.append(tcp(c, 40000, 9, b"Z" * 200, back=True))
    frames += [tcp(c, 40000, 301, b"B" * 300) for c in range(2500)]
    for seed in (2, 3):
        got = batches(Sink(seed, buffer_limit=200_000), frames)
        assert got == batches(Sink(seed, buffer_limit=200_000), frames, scan=True)
        assert len(got) > 10


class ClaimsEvicted(Sink):
    """Claims each flow at its probe with a large head, and with a one-byte head once one of
    its heads is evicted: its other head is complete then."""

    def decide(self, fid: int, kind: int, direction: int) -> None:
        self.set(fid, k.INSPECT_CLAIMED, 1 << 20 if kind == k.KIND_PROBE else 1)


def test_the_flows_of_an_eviction_settle_after_the_flow_table_grew() -> None:
    """An eviction's batch is not followed by a settle; when the flow table then grows
    before the next one, the rows the walker noted for that batch have moved."""
    n = 2400  # flows: the table (4,096 rows) grows at 2,560
    frames = []
    for c in range(n):
        frames.append(tcp(c, 40000, 1, b"A" * 150))
        frames.append(tcp(c, 40000, 1, b"Z" * 100, back=True))
    limit = 250 * n  # reached: the next head evicts 2,000 of the larger heads, A's
    frames.append(tcp(n, 40000, 1, b"X" * 1400))
    frames += [tcp(c, 40000, 1, b"", back=True) for c in range(n + 1, n + 400)]  # new flows
    frames.append(tcp(n + 500, 40000, 1, b"new"))  # a batch, then a settle
    got = batches(ClaimsEvicted(0, buffer_limit=limit), frames)
    assert got == batches(ClaimsEvicted(0, buffer_limit=limit), frames, scan=True)


class Undecided:
    """Claims a port, decides nothing: every head grows until the test decides."""

    def __init__(self) -> None:
        self.inspect = np.zeros(16, dtype=np.uint8)
        self.inspect_new = k.INSPECT_ON
        self.head_bytes = np.zeros(16, dtype=np.int64)
        self.l2_types = np.zeros(0, dtype=np.int64)
        self.claimed_ports = np.zeros((2, 65536), dtype=np.uint8)
        self.claimed_ports[0, SERVICE] = 1
        self.edge_samples = 0
        self.closed_edges = np.zeros(0, dtype=np.uint8)
        self.buffer_limit = 0
        self.rows: list[list[int]] = []

    def payloads(self, batch: PayloadBatch) -> None:
        self.rows += batch.rows.tolist()


def test_only_the_heads_of_the_flows_named_settle() -> None:
    """``SETTLE_FLOWS``: the heads of the named flows that their flags complete or turn off,
    in order of flow id and direction, each once however often its flow is named; a head
    that settles but whose flow is not named stays."""
    frames = []
    for c in range(5):
        frames.append(tcp(c, 40000, 1, b"%d" % c * 500))
        frames.append(tcp(c, 40000, 1, b"%d" % c * 40, back=True))
    sink = Undecided()
    w = walker(sink, frames)
    t = w.tables
    assert int(t.counts[k.C_FREE_HEADS]) == t.heads.shape[0] - 10  # all ten heads wait
    slot = {int(t.fvals[s, k.F_ID]): s for s in np.flatnonzero(t.fvals[:, k.F_USED])}
    sink.inspect[0] = k.INSPECT_OFF  # off, but not named: stays
    sink.inspect[1] = k.INSPECT_OFF
    sink.inspect[2] = k.INSPECT_CLAIMED
    sink.head_bytes[2] = 40  # complete (its shorter direction just)
    sink.inspect[3] = k.INSPECT_CLAIMED
    sink.head_bytes[3] = 5000  # not yet
    sink.inspect[4] = k.INSPECT_CLAIMED
    sink.head_bytes[4] = 10  # complete
    named = np.array([slot[4], -1, slot[2], slot[1], slot[4], slot[3]], dtype=np.int64)
    done = k.settle_heads(
        t.heads,
        t.blocks,
        t.bnext,
        t.counts,
        t.fvals,
        t.emit,
        t.out,
        sink.inspect,
        sink.inspect_new,
        sink.head_bytes,
        k.SETTLE_FLOWS,
        named,
        0,
    )
    assert done
    n = int(t.counts[k.C_EMITTED])
    rows = t.emit[:n]
    assert [(r[k.E_FLOW_ID], r[k.E_DIRECTION], r[k.E_LENGTH]) for r in rows.tolist()] == [
        (2, 0, 40),
        (2, 1, 40),
        (4, 0, 10),
        (4, 1, 10),
    ]
    assert rows[:, k.E_SLOT].tolist() == [slot[2], slot[2], slot[4], slot[4]]
    heads = {(f, d): int(t.fvals[slot[f], k.F_HEAD_AB + d]) for f in range(5) for d in (0, 1)}
    assert all(heads[f, d] == -1 for f in (1, 2, 4) for d in (0, 1))
    assert all(heads[f, d] > 0 for f in (0, 3) for d in (0, 1))


def test_every_table_keeps_its_used_flag_in_column_0() -> None:
    """``rehash`` moves the rows of all three tables by that column."""
    assert k.F_USED == k.B_USED == k.G_USED == 0
