"""Feed readers: one per format, each turning a file into ``model.vulns`` records.

A reader says whether a file is its format from the first bytes (``detect``) - formats are
recognised by content, never by file name - and streams the records (``read``), so a feed of
several GB is read in bounded memory. It never raises on one bad record: the record is
skipped and told to ``skipped`` with where it was (file and JSON path or line) and why; a file
that is not readable at all (not JSON, wrong top-level shape) raises ``FeedFormatError``
naming the file and the path of the fault.

    FeedError (model.errors)
     └── FeedFormatError      the file is not a readable instance of the format
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from medsec.model.errors import FeedError
from medsec.model.vulns import FeedRecord

HEAD_BYTES = 65536
"""How much of a file ``detect`` is given."""


class FeedFormatError(FeedError):
    """A file cannot be read as the format it claims or was detected as."""

    def __init__(self, path: Path, where: str, reason: str) -> None:
        super().__init__(f"{path}: {where}: {reason}")
        self.path = path
        self.where = where
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A record a reader could not use, and why."""

    path: Path
    where: str
    """JSON path (``$.vulnerabilities[12].cve.metrics``) or ``line N``."""
    reason: str


Skipped = Callable[[SkippedRecord], None]


class FeedReader(Protocol):
    name: ClassVar[str]
    """Short format name (``nvd``, ``cve5``, ``csaf``, ``kev``, ``epss``, ``cyclonedx``,
    ``spdx``)."""

    def detect(self, head: bytes) -> bool:
        """Whether a file starting with ``head`` (up to ``HEAD_BYTES``) is this format."""
        ...

    def read(self, path: Path, skipped: Skipped) -> Iterator[FeedRecord]:
        """The file's records, streamed; bad records go to ``skipped``."""
        ...
