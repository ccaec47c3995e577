"""Read a capture file (or live chunks) through the kernel into a ``CaptureSummary``.

Memory stays bounded by the number of flows and hosts: the file is read in fixed-size
chunks into one reusable buffer, and the kernel keeps only per-flow and per-binding rows.
A damaged file keeps what was read before the damage: the summary comes back with
``complete=False`` and the error, so the caller can store the readable part.
"""

from __future__ import annotations

import logging
import mmap
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from medsec.capture import kernel as k
from medsec.capture.formats import PCAP_MAGICS, fingerprint, open_capture
from medsec.capture.handoff import NoSink, PayloadSink, take_batch
from medsec.capture.interfaces import InterfaceTable
from medsec.capture.pcapng import BlockDamaged, handle_block
from medsec.capture.records import binding_records, flow_records, to_datetime
from medsec.capture.tables import Tables
from medsec.model.errors import CaptureCorrupt, NotACapture
from medsec.model.traffic import CaptureStats, CaptureSummary

logger = logging.getLogger(__name__)

CHUNK_BYTES = 8 << 20
MAP_WINDOW = 64 << 20
MAX_BUFFER = 80 << 20

_NO_FLOWS = np.zeros(0, dtype=np.int64)

Progress = Callable[[int, int], None]
"""Called with (packets so far, bytes of the file consumed so far)."""


@dataclass
class _Damage:
    offset: int
    reason: str


class CaptureWalker:
    """Feeds chunks of one capture stream to the kernel and collects its tables."""

    def __init__(self, fmt: int, sink: PayloadSink | None = None) -> None:
        self.fmt = fmt
        self.sink: PayloadSink = sink if sink is not None else NoSink()
        self.tables = Tables()
        self.interfaces = InterfaceTable()
        self.big_endian = False
        self.buffer = bytearray(CHUNK_BYTES)
        self.damage: _Damage | None = None
        self._touched: list[np.ndarray] = []
        """Flow-table rows of the flows of the batches given to the sink since heads were last
        settled: only their heads can settle (see ``PayloadSink.payloads``)."""
        self._touched_rows = 0
        self._rescan = False
        """The sink replaced its arrays, or the rows in ``_touched`` moved: settle by a scan
        of every head."""

    def _walk(self, arr: np.ndarray, view: memoryview, pos: int, end: int, base: int) -> int:
        """Walk ``arr[pos:end]`` as far as whole records go; returns the new position."""
        t = self.tables
        while True:
            status, pos = k.walk(
                arr,
                pos,
                end,
                self.fmt,
                self.big_endian,
                self.interfaces.linktype,
                self.interfaces.mul,
                self.interfaces.div,
                self.interfaces.shift,
                self.interfaces.offset,
                t.fkeys,
                t.fvals,
                t.bkeys,
                t.bvals,
                t.counts,
                t.stats,
                t.emit,
                self.sink.inspect,
                self.sink.inspect_new,
                self.sink.l2_types,
                self.sink.claimed_ports,
                t.ekeys,
                t.evals,
                self.sink.edge_samples,
                self.sink.closed_edges,
                t.heads,
                t.blocks,
                t.bnext,
                t.out,
                self.sink.head_bytes,
                self.sink.buffer_limit,
            )
            self._hand_over()
            if status == k.STATUS_NEED_DATA:
                return int(pos)
            if status == k.STATUS_EMIT_FULL or status == k.STATUS_DECIDE:
                continue
            if status == k.STATUS_HEADS_FULL:
                self._settle(evict_to=self.sink.buffer_limit // 2)
            elif status == k.STATUS_TABLE_FULL:
                fvals = t.fvals
                t.grow_if_needed()
                if t.fvals is not fvals and self._touched:  # their flows moved
                    self._forget_touched(rescan=True)
            elif status == k.STATUS_BLOCK:
                try:
                    res = handle_block(view, int(pos), end, self.big_endian, self.interfaces)
                except BlockDamaged as exc:
                    self.damage = _Damage(base + int(pos), exc.reason)
                    return int(pos)
                if res.consumed == 0:
                    return int(pos)
                self.big_endian = res.big_endian
                pos = int(pos) + res.consumed
            else:
                self.damage = _Damage(base + int(pos), _corrupt_reason(self.fmt))
                return int(pos)

    def _hand_over(self) -> None:
        """Give the sink what the kernel emitted, then the heads its answer completes."""
        if self.tables.counts[k.C_EMITTED]:
            self._give()
            self._settle()

    def _give(self) -> None:
        """Hand the sink the batch in ``emit``, noting its flows: the sink's answer may settle
        their heads, and no others."""
        t = self.tables
        sink = self.sink
        n = int(t.counts[k.C_EMITTED])
        self._touched.append(t.emit[:n, k.E_SLOT].copy())
        self._touched_rows += n
        if self._touched_rows > t.heads.shape[0]:
            self._forget_touched(rescan=True)  # as cheap to scan them all (and bounded)
        inspect, limits, new = sink.inspect, sink.head_bytes, sink.inspect_new
        sink.payloads(take_batch(t))
        if sink.inspect is not inspect or sink.head_bytes is not limits or sink.inspect_new != new:
            self._rescan = True  # flags may have changed anywhere

    def _forget_touched(self, *, rescan: bool) -> None:
        self._touched.clear()
        self._touched_rows = 0
        self._rescan = rescan

    def _settle(self, *, everything: bool = False, evict_to: int = -1) -> None:
        """Hand over the heads the sink's flags complete (every head with ``everything``; the
        largest until ``evict_to`` bytes are left with ``evict_to >= 0``), draining
        ``emit`` as often as it fills."""
        t = self.tables
        sink = self.sink
        while True:
            if evict_to >= 0:
                mode = k.SETTLE_EVICT
            elif everything:
                mode = k.SETTLE_EVERYTHING
            elif self._rescan:
                mode = k.SETTLE_ALL
            else:
                mode = k.SETTLE_FLOWS
            touched = self._touched
            if mode != k.SETTLE_FLOWS:
                flows = _NO_FLOWS
            elif len(touched) == 1:
                flows = touched[0]
            else:  # none, or a batch left unsettled by an eviction, and later ones
                flows = np.concatenate(touched) if touched else _NO_FLOWS
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
                mode,
                flows,
                max(evict_to, 0),
            )
            if done and mode != k.SETTLE_EVICT:
                # no head the sink's flags settle is left: until its next answer
                self._forget_touched(rescan=False)
            if t.counts[k.C_EMITTED]:
                # the sink's answer may complete (or drop) more heads: settle again
                self._give()
            elif done:
                return

    def run(
        self,
        stream: BinaryIO,
        *,
        start_offset: int = 0,
        progress: Progress | None = None,
        position: Callable[[], int] | None = None,
    ) -> None:
        """Read ``stream`` to its end (or to the first damage)."""
        fill = 0
        base = start_offset
        while self.damage is None:
            view = memoryview(self.buffer)
            if fill == len(self.buffer):
                if len(self.buffer) >= MAX_BUFFER:
                    self.damage = _Damage(base, "record larger than the largest accepted")
                    break
                view.release()
                self.buffer.extend(bytes(len(self.buffer)))
                continue
            stream_problem = None
            try:
                n = stream.readinto(view[fill:])  # type: ignore[attr-defined]
            except (EOFError, zlib.error, OSError) as exc:
                n, stream_problem = 0, exc
            eof = not n
            fill += n or 0
            arr = np.frombuffer(self.buffer, dtype=np.uint8)
            pos = self._walk(arr, view, 0, fill, base)
            del arr
            if progress is not None:
                progress(int(self.tables.stats[k.S_PACKETS]), position() if position else base)
            if self.damage is not None:
                break
            if stream_problem is not None:
                reason = f"compressed data cut or damaged ({stream_problem})"
                self.damage = _Damage(base + pos, reason)
                break
            if eof:
                if pos < fill:
                    self.damage = _Damage(base + pos, "capture ends inside a record (truncated)")
                break
            rest = fill - pos
            view[:rest] = view[pos:fill]
            view.release()
            base += pos
            fill = rest

    def run_mapped(
        self, fd: int, size: int, *, start_offset: int = 0, progress: Progress | None = None
    ) -> None:
        """Read an uncompressed file through windows of a memory map: no copy at all.

        Each window is unmapped before the next is mapped, so resident memory stays at one
        window however large the file is.
        """
        base = start_offset
        window = MAP_WINDOW
        # compile the read-only specialisation on a bytes object first: numba's compiler
        # keeps the arguments of the call that triggered it alive, which would pin a map
        self._walk(np.frombuffer(b"", dtype=np.uint8), memoryview(b""), 0, 0, 0)
        while base < size and self.damage is None:
            map_at = base - base % mmap.ALLOCATIONGRANULARITY
            length = min(window, size - map_at)
            mapped = mmap.mmap(fd, length, offset=map_at, access=mmap.ACCESS_READ)
            if hasattr(mmap, "MADV_SEQUENTIAL"):
                mapped.madvise(mmap.MADV_SEQUENTIAL)
            view = memoryview(mapped)
            arr = np.frombuffer(view, dtype=np.uint8)
            pos = self._walk(arr, view, base - map_at, length, map_at)
            del arr
            view.release()
            try:
                mapped.close()
            except BufferError:  # still referenced somewhere: unmapped when collected
                logger.debug("capture window at %d still referenced", map_at)
            if progress is not None:
                progress(int(self.tables.stats[k.S_PACKETS]), map_at + pos)
            if self.damage is not None:
                break
            reached = map_at + pos
            if reached == base:  # not one whole record in the window
                if map_at + length >= size:
                    self.damage = _Damage(base, "capture ends inside a record (truncated)")
                elif window >= MAX_BUFFER:
                    self.damage = _Damage(base, "record larger than the largest accepted")
                else:
                    window *= 2
            base = reached

    def walk_chunks(self, chunks: Iterable[bytes], progress: Progress | None = None) -> None:
        """Walk live chunks: each holds whole classic-pcap records."""
        done = 0
        for chunk in chunks:
            arr = np.frombuffer(chunk, dtype=np.uint8)
            view = memoryview(chunk)
            pos = self._walk(arr, view, 0, len(chunk), done)
            if self.damage is not None or pos != len(chunk):
                raise CaptureCorrupt("live chunk holds a partial record", offset=done + pos)
            done += len(chunk)
            if progress is not None:
                progress(int(self.tables.stats[k.S_PACKETS]), done)

    def summary(
        self, *, source: str, fingerprint: str, label: str, path: Path | None = None
    ) -> CaptureSummary:
        if self.tables.counts[k.C_FREE_HEADS] < self.tables.heads.shape[0]:
            self._settle(everything=True)
        fkeys, fvals = self.tables.used_flows()
        edges = fvals[:, k.F_EDGE]
        joined = edges != 0
        self.sink.edges(fvals[joined, k.F_ID], np.abs(edges[joined]) - 1)
        self.sink.finish()
        bkeys, bvals = self.tables.used_bindings()
        s = self.tables.stats
        packets = int(s[k.S_PACKETS])
        error = None
        if self.damage is not None:
            error = str(
                CaptureCorrupt(
                    self.damage.reason,
                    offset=self.damage.offset,
                    path=str(path) if path else source,
                )
            )
        return CaptureSummary(
            source=source,
            fingerprint=fingerprint,
            format=label,
            stats=stats_from(s),
            first_seen=to_datetime(int(s[k.S_FIRST_TS])) if packets else None,
            last_seen=to_datetime(int(s[k.S_LAST_TS])) if packets else None,
            flows=tuple(flow_records(fkeys, fvals, self.sink.apps_of)),
            bindings=tuple(binding_records(bkeys, bvals)),
            complete=self.damage is None,
            error=error,
            link_types=self.interfaces.linktypes,
        )


def _corrupt_reason(fmt: int) -> str:
    if fmt == k.FORMAT_PCAP:
        return "damaged record header (impossible captured length)"
    return "damaged pcapng block (bad length, trailer or interface id)"


def stats_from(s: np.ndarray) -> CaptureStats:
    return CaptureStats(
        packets=int(s[k.S_PACKETS]),
        bytes=int(s[k.S_BYTES]),
        ipv4=int(s[k.S_IPV4]),
        ipv6=int(s[k.S_IPV6]),
        arp=int(s[k.S_ARP]),
        tcp=int(s[k.S_TCP]),
        udp=int(s[k.S_UDP]),
        icmp=int(s[k.S_ICMP]),
        other_l3=int(s[k.S_OTHER_L3]),
        fragments=int(s[k.S_FRAGMENTS]),
        truncated=int(s[k.S_TRUNCATED]),
        unsupported_link=int(s[k.S_UNSUPPORTED_LINK]),
    )


def read_capture(
    path: Path, *, progress: Progress | None = None, sink: PayloadSink | None = None
) -> CaptureSummary:
    """Read one capture file into a summary.

    ``sink`` receives the payloads of flows it wants inspected (none without a sink).
    Raises ``CaptureNotFound`` / ``NotACapture`` when nothing can be read; a file damaged
    part-way returns a summary with ``complete=False`` and an ``error`` naming the offset.
    """
    opened = open_capture(path)
    with opened.raw, opened.stream:
        if opened.format == "pcap":
            walker = CaptureWalker(k.FORMAT_PCAP, sink)
            header = opened.stream.read(24)
            if len(header) < 24:
                raise NotACapture(f"{path}: pcap file header truncated ({len(header)} bytes)")
            big_endian, nanosecond = PCAP_MAGICS[header[:4]]
            order = ">" if big_endian else "<"
            major, _minor, _zone, _sig, _snaplen, network = struct.unpack(
                order + "HHiIII", header[4:]
            )
            if major != 2:
                raise NotACapture(f"{path}: unsupported pcap version {major}")
            walker.big_endian = big_endian
            walker.interfaces.set_pcap(network & 0xFFFF, nanosecond)
            start = 24
        else:
            walker = CaptureWalker(k.FORMAT_PCAPNG, sink)
            start = 0
        raw = opened.raw
        if opened.compressed:
            walker.run(
                opened.stream, start_offset=start, progress=progress, position=lambda: raw.tell()
            )
        else:
            walker.run_mapped(raw.fileno(), opened.size, start_offset=start, progress=progress)
    if walker.damage is not None:
        logger.warning("%s: %s at offset %d", path, walker.damage.reason, walker.damage.offset)
    return walker.summary(
        source=str(path), fingerprint=fingerprint(path), label=opened.label, path=path
    )
