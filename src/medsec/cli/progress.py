"""Progress bars for long reads: packets, packets/s and MB/s, on standard error."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

stderr = Console(stderr=True, soft_wrap=True)


def capture_progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[packets]:>12,} pkts"),
        TextColumn("{task.fields[pps]:>10,.0f} pkt/s"),
        TextColumn("{task.fields[mbps]:>7.1f} MB/s"),
        TimeElapsedColumn(),
        console=stderr,
        transient=False,
        disable=not stderr.is_terminal,
    )


class CaptureTask:
    """Updates one bar from the reader's (packets, bytes) callback."""

    def __init__(self, progress: Progress, description: str, total: int | None) -> None:
        self.progress = progress
        self.started = time.perf_counter()
        self.task: TaskID = progress.add_task(
            description, total=total, packets=0, pps=0.0, mbps=0.0
        )

    def __call__(self, packets: int, consumed: int) -> None:
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        self.progress.update(
            self.task,
            completed=consumed,
            packets=packets,
            pps=packets / elapsed,
            mbps=consumed / elapsed / 1e6,
        )


@contextmanager
def counting(description: str, total: int) -> Iterator[CaptureTask]:
    """A single bar for work measured in items (the simulator's packets)."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:>12,} pkts"),
        TimeElapsedColumn(),
        console=stderr,
        disable=not stderr.is_terminal,
    ) as progress:
        task = CaptureTask(progress, description, total)
        yield task


def spinner(text: str) -> AbstractContextManager[object]:
    """A spinner with ``text`` on standard error while a block runs, when that is a terminal
    (as the bars: nobody watches a pipe or a log, and rich's status display costs its imports
    and a refresh thread)."""
    if not stderr.is_terminal:
        return nullcontext()
    return stderr.status(text)
