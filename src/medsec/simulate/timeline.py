"""Puts everything on one clock: activities produce conversations, conversations produce
frames, and frames are written in time order, interleaved with bulk blocks.

A heap holds pending frames and activities by time. A bulk block covers a time span; the
frames that fall inside it are written between its units, so the file stays in time order
(a frame may be delayed by at most one bulk unit, a fraction of a millisecond).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from medsec.simulate.ledger import Frame, Ledger
from medsec.simulate.pcap_writer import PcapWriter

PROGRESS_EVERY = 50_000


class Activity(Protocol):
    """Something a host does from time to time."""

    def run(self, t: int) -> tuple[list[Frame], int | None]:
        """The frames of the occurrence at ``t`` and the time of the next one (or None)."""
        ...


@dataclass(slots=True)
class BulkBlock:
    """Ready-made pcap records: ``rows[i]`` is unit ``i`` (several frames back to back)."""

    rows: npt.NDArray[np.uint8]
    unit_start: npt.NDArray[np.int64]
    """Capture time of each unit's first frame."""
    last_offset: int
    """Time from a unit's first to its last frame."""
    packets_per_unit: int
    bytes_per_unit: int
    """Sum of the unit's frame lengths (record headers excluded)."""


class BulkSource(Protocol):
    """Produces bulk blocks in time order (and may push frames onto the timeline)."""

    def next_block(self, timeline: Timeline) -> BulkBlock | None: ...


class Timeline:
    """The time-ordered writer of one capture."""

    def __init__(
        self,
        writer: PcapWriter,
        ledger: Ledger,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.writer = writer
        self.ledger = ledger
        self.progress = progress
        self._heap: list[tuple[int, int, Frame | Activity]] = []
        self._counter = 0
        self._next_progress = PROGRESS_EVERY
        self.normal_packets = 0
        """Frames written one by one (everything but bulk blocks)."""

    def schedule(self, t: int, activity: Activity) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (t, self._counter, activity))

    def add(self, frames: list[Frame]) -> None:
        for frame in frames:
            self._counter += 1
            heapq.heappush(self._heap, (frame.ts, self._counter, frame))

    def _pop_frames(self, until: int | None, write: bool) -> list[Frame]:
        """Pop everything up to ``until`` (before it when writing, up to and including it
        when collecting), expanding activities; write the frames, or return them."""
        heap = self._heap
        collected: list[Frame] = []
        while heap:
            t = heap[0][0]
            if until is not None and (t >= until if write else t > until):
                break
            _, _, item = heapq.heappop(heap)
            if isinstance(item, Frame):
                if write:
                    self._write_frame(item)
                else:
                    collected.append(item)
                continue
            frames, following = item.run(t)
            self.add(frames)
            if following is not None:
                self.schedule(following, item)
        return collected

    def _write_frame(self, frame: Frame) -> None:
        self.writer.write(max(frame.ts, self.writer.last_ts), frame.data)
        self.ledger.count(frame)
        self.normal_packets += 1
        self._report()

    def _report(self) -> None:
        if self.progress is not None and self.writer.packets >= self._next_progress:
            self._next_progress = self.writer.packets + PROGRESS_EVERY
            self.progress(self.writer.packets)

    def _write_units(self, block: BulkBlock, first: int, last: int) -> None:
        if last <= first:
            return
        rows = block.rows[first:last]
        self.writer.write_records(
            rows.data.cast("B"),
            (last - first) * block.packets_per_unit,
            (last - first) * block.bytes_per_unit,
            int(block.unit_start[last - 1]) + block.last_offset,
        )
        self._report()

    def _write_block(self, block: BulkBlock) -> None:
        self._pop_frames(int(block.unit_start[0]), write=True)
        end = int(block.unit_start[-1]) + block.last_offset
        inside = self._pop_frames(end, write=False)
        done = 0
        if inside:
            times = np.fromiter((frame.ts for frame in inside), dtype=np.int64, count=len(inside))
            positions = np.searchsorted(block.unit_start, times, side="right")
            for frame, position in zip(inside, positions.tolist(), strict=True):
                self._write_units(block, done, position)
                done = max(done, position)
                self._write_frame(frame)
        self._write_units(block, done, len(block.unit_start))

    def run(self, bulk: BulkSource | None = None) -> None:
        """Write everything: all activities until they stop, and every bulk block.

        When the bulk source has nothing more, the pending frames are written and the
        source is asked once more (it may top the capture up to its packet target).
        """
        while True:
            block = bulk.next_block(self) if bulk is not None else None
            if block is not None:
                self._write_block(block)
            elif self._heap:
                self._pop_frames(None, write=True)
            else:
                break
        if self.progress is not None:
            self.progress(self.writer.packets)

    @property
    def idle(self) -> bool:
        """Nothing is pending: every activity has stopped and every frame is written."""
        return not self._heap
