"""Opening capture files: format detection, transparent gzip, content fingerprint."""

from __future__ import annotations

import gzip
import hashlib
import os
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
    try:
        raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by the caller via .stream
    except FileNotFoundError as exc:
        raise CaptureNotFound(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise CaptureNotFound(f"{path}: is a directory, not a capture file") from exc
    except OSError as exc:
        raise CaptureNotFound(f"{path}: cannot open ({exc.strerror})") from exc
    try:
        size = os.fstat(raw.fileno()).st_size
        head = raw.read(4)
        raw.seek(0)
        compressed = head[:2] == GZIP_MAGIC
        stream: BinaryIO = raw
        if compressed:
            stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
            try:
                head = stream.read(4)
            except (OSError, EOFError) as exc:
                raise NotACapture(f"{path}: damaged gzip data ({exc})") from exc
            stream.seek(0)
        fmt = _detect(head)
        if fmt is None:
            what = "empty file" if not head else "no pcap or pcapng magic"
            raise NotACapture(f"{path}: not a capture file ({what})")
    except BaseException:
        raw.close()
        raise
    return OpenedCapture(stream=stream, raw=raw, format=fmt, compressed=compressed, size=size)


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
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            digest.update(size.to_bytes(8, "little"))
            digest.update(f.read(FINGERPRINT_SPAN))
            if size > FINGERPRINT_SPAN:
                f.seek(max(FINGERPRINT_SPAN, size - FINGERPRINT_SPAN))
                digest.update(f.read(FINGERPRINT_SPAN))
    except OSError as exc:
        raise CaptureNotFound(f"{path}: cannot open ({exc.strerror})") from exc
    return "sha256:" + digest.hexdigest()
