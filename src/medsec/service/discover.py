"""Use case: discover hosts and conversations from captures into the inventory."""

from __future__ import annotations

import gc
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from medsec.capture import kernel
from medsec.capture.formats import fingerprint
from medsec.capture.reader import CaptureWalker, read_capture
from medsec.inventory import IngestResult, Store
from medsec.model.config import Settings
from medsec.model.errors import CaptureCorrupt, CaptureError, MedsecError
from medsec.model.traffic import CaptureStats, CaptureSummary

if TYPE_CHECKING:
    from medsec.dissect.pipeline import DissectPipeline

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""(packets read so far, bytes of the source consumed so far)."""


@dataclass(frozen=True, slots=True)
class DiscoverOutcome:
    """What happened to one capture source."""

    source: str
    skipped: bool
    """The same capture was already in the inventory: nothing changed."""
    stats: CaptureStats | None
    flows: int
    hosts: int
    """Distinct unicast hosts in this source."""
    seconds: float
    error: str | None = None
    """Why the source was read only in part (or not at all)."""
    error_type: type[MedsecError] | None = None
    """The kind of that error (decides the exit code)."""
    ingest: IngestResult | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def discover_file(
    path: Path,
    store: Store,
    settings: Settings,
    *,
    progress: Progress | None = None,
    dissect: bool = False,
) -> DiscoverOutcome:
    """Read one capture file and store what it shows; idempotent per file content.

    With ``dissect`` the payloads of flows are inspected too (dissectors, application labels,
    observations); without it only flows, hosts and bindings are kept (the CLI inspects
    unless told ``--no-inspect``; benchmarks/bench_discover.py measures what it costs).

    A damaged file stores its readable part and reports the damage in ``error``. Errors that
    leave nothing to read (missing file, not a capture) propagate as ``CaptureError``.
    """
    started = time.perf_counter()
    status = store.capture_status(fingerprint(path))
    if status is not None:
        logger.info("%s already ingested (%s), skipping", path, status)
        return DiscoverOutcome(
            source=str(path), skipped=True, stats=None, flows=0, hosts=0, seconds=0.0
        )
    pipeline = _ready(dissect)
    if pipeline is not None:
        summary = read_capture(path, progress=progress, sink=pipeline)
        summary = replace(summary, observations=tuple(pipeline.observations))
    else:
        summary = read_capture(path, progress=progress)
    result = store.ingest(summary, settings.site)
    return _outcome(summary, result, time.perf_counter() - started)


def discover_files(
    paths: Iterable[Path],
    store: Store,
    settings: Settings,
    *,
    progress_for: Callable[[Path], Progress | None] | None = None,
    dissect: bool = False,
) -> list[DiscoverOutcome]:
    """``discover_file`` for each path; a path that cannot be read at all is reported, and
    the others still run."""
    outcomes: list[DiscoverOutcome] = []
    for path in paths:
        try:
            outcomes.append(
                discover_file(
                    path,
                    store,
                    settings,
                    progress=progress_for(path) if progress_for else None,
                    dissect=dissect,
                )
            )
        except CaptureError as exc:
            outcomes.append(
                DiscoverOutcome(
                    source=str(path),
                    skipped=False,
                    stats=None,
                    flows=0,
                    hosts=0,
                    seconds=0.0,
                    error=str(exc),
                    error_type=type(exc),
                )
            )
    return outcomes


def discover_chunks(
    source: str,
    chunks: Iterable[bytes],
    linktype: int,
    store: Store,
    settings: Settings,
    *,
    progress: Progress | None = None,
    dissect: bool = False,
) -> DiscoverOutcome:
    """Account live chunks of classic-pcap records (nanosecond timestamps) and store them."""
    started = time.perf_counter()
    pipeline = _ready(dissect)
    walker = CaptureWalker(kernel.FORMAT_PCAP, pipeline)
    walker.interfaces.set_pcap(linktype, nanosecond=True)
    walker.walk_chunks(chunks, progress=progress)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    summary = walker.summary(
        source=source,
        fingerprint=f"live:{source}:{stamp}:{secrets.token_hex(4)}",
        label="live",
    )
    if pipeline is not None:
        summary = replace(summary, observations=tuple(pipeline.observations))
    result = store.ingest(summary, settings.site)
    return _outcome(summary, result, time.perf_counter() - started)


_heap_frozen = False


def _ready(dissect: bool) -> DissectPipeline | None:
    """The dissect stage when inspecting; and, once per process, everything alive by now -
    modules, rules, the dissectors - moved out of the cyclic collector's reach
    (``gc.freeze``): a capture allocates hundreds of thousands of objects, and each full
    collection would walk that startup heap again for nothing (0.05-0.1 s a run). The
    dissectors are imported with the collector paused: what their modules make is frozen
    right after, so a collection meanwhile would walk it for nothing too (15 ms)."""
    global _heap_frozen
    if _heap_frozen:
        return _pipeline() if dissect else None
    enabled = gc.isenabled()
    gc.disable()
    try:
        pipeline = _pipeline() if dissect else None
    finally:
        gc.freeze()
        _heap_frozen = True
        if enabled:
            gc.enable()
    return pipeline


def _pipeline() -> DissectPipeline:
    """The dissect stage with every shipped dissector (imported only when inspecting)."""
    from medsec.dissect import default_dissectors
    from medsec.dissect.pipeline import DissectPipeline

    return DissectPipeline(default_dissectors())


def _outcome(summary: CaptureSummary, result: IngestResult, seconds: float) -> DiscoverOutcome:
    return DiscoverOutcome(
        source=summary.source,
        skipped=result.skipped,
        stats=summary.stats,
        flows=len(summary.flows),
        hosts=result.hosts,
        seconds=seconds,
        error=summary.error,
        error_type=None if summary.complete else CaptureCorrupt,
        ingest=result,
    )


def discover_interface(
    interface: str,
    duration: float | None,
    store: Store,
    settings: Settings,
    *,
    progress: Progress | None = None,
    dissect: bool = False,
) -> DiscoverOutcome:
    """Capture passively from ``interface`` for ``duration`` seconds and store the result.

    Nothing is sent on the interface: the socket only receives.
    """
    from medsec.capture.live import LiveSource

    with LiveSource(interface, duration=duration) as live:
        return discover_chunks(
            f"iface:{interface}",
            live.chunks(),
            live.linktype,
            store,
            settings,
            progress=progress,
            dissect=dissect,
        )
