"""Streaming writer of classic pcap files (little-endian, microseconds, Ethernet).

Records are gathered in memory up to a few megabytes and written in one call; a ``.gz``
path is compressed with a fixed gzip header (no name, mtime 0) so output is reproducible.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from medsec.model.errors import SimulationError

MAGIC = 0xA1B2C3D4
VERSION = (2, 4)
SNAPLEN = 65535
LINKTYPE_ETHERNET = 1
GLOBAL_HEADER = struct.pack("<IHHiIII", MAGIC, *VERSION, 0, 0, SNAPLEN, LINKTYPE_ETHERNET)
RECORD_HEADER = struct.Struct("<IIII")
FLUSH_BYTES = 4 << 20
GZIP_LEVEL = 1


class PcapWriter:
    """Write records in order; counts packets and bytes (original frame lengths)."""

    def __init__(self, path: Path) -> None:
        try:
            self._raw: BinaryIO = path.open("wb")
        except OSError as exc:
            raise SimulationError(f"cannot write {path}: {exc}") from exc
        self._out: BinaryIO = self._raw
        if path.name.endswith(".gz"):
            self._out = gzip.GzipFile(  # type: ignore[assignment]
                filename="", mode="wb", fileobj=self._raw, compresslevel=GZIP_LEVEL, mtime=0
            )
        self._pending: list[bytes | memoryview] = [GLOBAL_HEADER]
        self._pending_size = len(GLOBAL_HEADER)
        self.packets = 0
        self.bytes = 0
        self.last_ts = 0

    def write(self, ts: int, frame: bytes) -> None:
        """One record at ``ts`` microseconds since the epoch."""
        seconds, micros = divmod(ts, 1_000_000)
        size = len(frame)
        self._pending.append(RECORD_HEADER.pack(seconds, micros, size, size))
        self._pending.append(frame)
        self._pending_size += size + 16
        self.packets += 1
        self.bytes += size
        self.last_ts = ts
        if self._pending_size >= FLUSH_BYTES:
            self.flush()

    def write_records(self, block: memoryview, packets: int, size: int, last_ts: int) -> None:
        """Ready-made records (headers included): ``packets`` frames of ``size`` bytes.

        Large blocks go straight to the file (after what is pending), without a copy.
        """
        self.packets += packets
        self.bytes += size
        self.last_ts = last_ts
        if len(block) >= FLUSH_BYTES // 16:
            self.flush()
            self._out.write(block)
            return
        self._pending.append(block)
        self._pending_size += len(block)
        if self._pending_size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._out.write(b"".join(self._pending))
            self._pending = []
            self._pending_size = 0

    def close(self) -> None:
        self.flush()
        if self._out is not self._raw:
            self._out.close()
        self._raw.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
