"""Importing vulnerability feeds from files and folders (air-gapped sites copy them over).

Each file's format is recognised by content (``assess.vulns`` readers), its records are
streamed to the store in batches - each batch one transaction - so a feed of several GB
imports in bounded memory, and a file that breaks half-way keeps what was read before the
break (the import says ``partial`` and where it broke). Records a reader could not use are
skipped and counted, with where and why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from medsec.assess.vulns import default_readers
from medsec.assess.vulns.interface import (
    HEAD_BYTES,
    FeedFormatError,
    FeedReader,
    SkippedRecord,
)
from medsec.inventory import Store
from medsec.model.errors import FeedError
from medsec.model.vulns import FeedRecord

logger = logging.getLogger(__name__)

BATCH_RECORDS = 2000
"""Records per transaction."""
KEPT_SKIPS = 50
"""Skipped records remembered per file for the report (all are counted)."""


@dataclass
class FileImport:
    """What importing one file did."""

    path: Path
    format: str | None
    """The reader that recognised it; None when none did."""
    records: int = 0
    skipped: int = 0
    skips: list[SkippedRecord] = field(default_factory=list)
    """The first ``KEPT_SKIPS`` skipped records."""
    status: str = "complete"
    """``complete``, ``partial`` (broke after ``records`` records, kept), ``failed``
    (nothing readable) or ``unrecognised``."""
    error: str | None = None


Progress = Callable[[Path, int], None]
"""Called with a file and how many of its records are stored so far."""


def feed_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and those under the folders named (recursively, sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                out.extend(Path(root) / f for f in sorted(files) if not f.startswith("."))
        elif path.exists():
            out.append(path)
        else:
            raise FeedError(f"{path}: no such file or folder")
    return out


def detect(path: Path, readers: Sequence[FeedReader]) -> FeedReader | None:
    """The reader whose format ``path`` is, judged from its first bytes."""
    try:
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as exc:
        raise FeedError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return next((r for r in readers if r.detect(head)), None)


def import_feeds(
    store: Store,
    paths: Iterable[Path],
    *,
    readers: Sequence[FeedReader] | None = None,
    progress: Progress | None = None,
) -> list[FileImport]:
    """Import every feed file under ``paths``; one result per file."""
    readers = list(readers) if readers is not None else default_readers()
    return [import_file(store, path, readers, progress) for path in feed_files(paths)]


def import_file(
    store: Store,
    path: Path,
    readers: Sequence[FeedReader] | None = None,
    progress: Progress | None = None,
) -> FileImport:
    """Import one feed file (see the module docstring)."""
    reader = detect(path, readers if readers is not None else default_readers())
    if reader is None:
        return FileImport(path, None, status="unrecognised")
    result = FileImport(path, reader.name)
    started = datetime.now(UTC)

    def skipped(record: SkippedRecord) -> None:
        result.skipped += 1
        if len(result.skips) < KEPT_SKIPS:
            result.skips.append(record)
        logger.debug("skipped %s %s: %s", record.path, record.where, record.reason)

    try:
        for batch in _batches(reader.read(path, skipped)):
            result.records += store.import_feed_records(batch, source=str(path))
            if progress is not None:
                progress(path, result.records)
    except FeedFormatError as exc:
        result.status = "partial" if result.records else "failed"
        result.error = str(exc)
    except OSError as exc:
        result.status = "partial" if result.records else "failed"
        result.error = f"{path}: cannot read ({exc.strerror or exc})"
    store.record_feed_import(
        path=str(path),
        format=reader.name,
        records=result.records,
        skipped=result.skipped,
        status=result.status,
        error=result.error,
        started_at=started,
    )
    return result


def _batches(records: Iterator[FeedRecord]) -> Iterator[list[FeedRecord]]:
    """``records`` in lists of ``BATCH_RECORDS``; on a reader error, what was read before it
    comes out first, then the error is raised."""
    batch: list[FeedRecord] = []
    try:
        for record in records:
            batch.append(record)
            if len(batch) >= BATCH_RECORDS:
                yield batch
                batch = []
    except (FeedFormatError, OSError):
        if batch:
            yield batch
        raise
    if batch:
        yield batch
