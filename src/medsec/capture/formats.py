"""Opening capture files: format detection, transparent gzip, content fingerprint."""

from __future__ import annotations

import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from medsec.model.errors import CaptureNotFound, NotACapture

PCAP_MAGICS: dict[bytes, tuple[bool, bool]] = {
    # magic bytes as stored -> (big_endian, nanosecond)
    b"\xd4\xc3\xb2\xa1": (False, False),
    b"\xa1\xb2\xc3\xd4": (True, False),
    b"\x4d\x3c\xb2\xa1": (False, True),
    b"\xa1\xb2\x3c\x4d": (True, True),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"

CaptureFormat = Literal["pcap", "pcapng"]

FINGERPRINT_SPAN = 1 << 20
"""Bytes read from each end of a file for its fingerprint."""


@dataclass(frozen=True, slots=True)
class OpenedCapture:
    """A capture stream positioned at its first byte, with what its magic said."""

    stream: BinaryIO
    """Decompressed bytes of the capture."""
    raw: BinaryIO
    """The file on disk (for progress: how far into it we are)."""
    format: CaptureFormat
    compressed: bool
    size: int
    """Size of the file on disk."""

    @property
    def label(self) -> str:
        return f"{self.format}.gz" if self.compressed else self.format


def open_capture(path: Path) -> OpenedCapture:
    """Open ``path`` and detect pcap / pcapng, gzip-compressed or not.

    Raises ``CaptureNotFound`` when the file cannot be opened and ``NotACapture`` when its
    first bytes are no capture magic.
    """
    raw = _open_raw(path)
    try:
        size = os.fstat(raw.fileno()).st_size
        head = raw.read(4)
        raw.seek(0)
        compressed = head[:2] == GZIP_MAGIC
        stream: BinaryIO = raw
        if compressed:
            gz_head = GzipStream(raw).read_head(4)
            if gz_head is None:
                raise NotACapture(f"{path}: damaged gzip data")
            head = gz_head
            raw.seek(0)
            stream = GzipStream(raw)  # type: ignore[assignment]
        fmt = _detect(head)
        if fmt is None:
            what = "empty file" if not head else "no pcap or pcapng magic"
            raise NotACapture(f"{path}: not a capture file ({what})")
    except BaseException:
        raw.close()
        raise
    return OpenedCapture(stream=stream, raw=raw, format=fmt, compressed=compressed, size=size)


def _open_raw(path: Path) -> BinaryIO:
    """The file opened for binary reading, or ``CaptureNotFound`` saying why not."""
    try:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    except FileNotFoundError as exc:
        raise CaptureNotFound(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise CaptureNotFound(f"{path}: is a directory, not a capture file") from exc
    except OSError as exc:
        raise CaptureNotFound(f"{path}: cannot open ({exc.strerror})") from exc


def _detect(head: bytes) -> CaptureFormat | None:
    if head in PCAP_MAGICS:
        return "pcap"
    if head == PCAPNG_MAGIC:
        return "pcapng"
    return None


def fingerprint(path: Path) -> str:
    """A stable identity of a file's content: SHA-256 over its size and its first and last MiB.

    Reading the ends only keeps re-runs on multi-GB captures instant; two different captures
    with the same size and the same first and last megabyte do not occur in practice (both
    ends hold packet timestamps).
    """
    digest = hashlib.sha256()
    with _open_raw(path) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            digest.update(size.to_bytes(8, "little"))
            digest.update(f.read(FINGERPRINT_SPAN))
            if size > FINGERPRINT_SPAN:
                f.seek(max(FINGERPRINT_SPAN, size - FINGERPRINT_SPAN))
                digest.update(f.read(FINGERPRINT_SPAN))
        except OSError as exc:
            raise CaptureNotFound(f"{path}: cannot read ({exc.strerror})") from exc
    return "sha256:" + digest.hexdigest()


class GzipStream:
    """Decompresses a gzip file (all members) and hands out every byte it can.

    Unlike ``gzip.GzipFile``, a stream damaged or cut in the middle first delivers all the
    data that decompresses before the damage, then raises ``EOFError`` (cut) or
    ``zlib.error`` (damaged) - so a truncated ``.pcap.gz`` keeps its readable packets.
    """

    RAW_CHUNK = 1 << 20

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj(wbits=31)
        self._pending = b""
        self._problem: BaseException | None = None
        self._done = False

    def read_head(self, n: int) -> bytes | None:
        """The first ``n`` decompressed bytes, or None when the data is not gzip at all."""
        buf = bytearray(n)
        try:
            got = self.readinto(memoryview(buf))
        except (EOFError, zlib.error):
            return None
        return bytes(buf[:got])

    def _fill(self) -> None:
        while not self._pending and not self._done and self._problem is None:
            chunk = self._raw.read(self.RAW_CHUNK)
            if not chunk:
                if not self._inflate.eof:
                    self._problem = EOFError("compressed file ended before its end marker")
                self._done = True
                return
            try:
                out = self._inflate.decompress(chunk)
                while self._inflate.eof and self._inflate.unused_data:
                    rest = self._inflate.unused_data
                    self._inflate = zlib.decompressobj(wbits=31)
                    out += self._inflate.decompress(rest)
            except zlib.error as exc:
                self._problem = exc
                return
            self._pending = out

    def readinto(self, view: memoryview) -> int:
        filled = 0
        while filled < len(view):
            self._fill()
            if not self._pending:
                break
            take = min(len(view) - filled, len(self._pending))
            view[filled : filled + take] = self._pending[:take]
            self._pending = self._pending[take:]
            filled += take
        if filled == 0 and self._problem is not None:
            problem, self._problem = self._problem, None
            raise problem
        return filled

    def read(self, n: int) -> bytes:
        buf = bytearray(n)
        got = self.readinto(memoryview(buf))
        return bytes(buf[:got])

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> GzipStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
