"""FIRST's EPSS scores: the daily CSV (``epss_scores-YYYY-MM-DD.csv``, usually gzipped).

The file optionally starts with a comment line naming the model and the day scored::

    #model_version:v2025.03.14,score_date:2025-06-01T00:00:00+0000
    cve,epss,percentile
    CVE-1999-0001,0.01025,0.76945

then the header (columns found by name) and one row per CVE. Each row becomes an
``EpssScore`` with the comment's ``score_date`` (as a UTC date) and ``model_version``, or
None for both without the comment. A row whose CVE id is malformed or whose score or
percentile is no number from 0 to 1 is skipped (``line N``). gzip is recognised by its
magic bytes and decompressed as the file streams.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import ClassVar, Final

from medsec.assess.vulns.interface import FeedFormatError, Skipped, SkippedRecord
from medsec.assess.vulns.jsonstream import (
    RecordError,
    csv_lines,
    parse_cve_id,
    parse_timestamp,
    plain_head,
)
from medsec.model.vulns import EpssScore

logger = logging.getLogger(__name__)

COLUMNS: Final = ("cve", "epss", "percentile")
_COMMENT_HEAD: Final = re.compile(rb"#\s*model_version\s*:")


class EpssReader:
    """FIRST EPSS daily scores (CSV, optionally gzip-compressed)."""

    name: ClassVar[str] = "epss"

    def detect(self, head: bytes) -> bool:
        """The first line is ``#model_version:...``, or the first line not starting with
        ``#`` is the header ``cve,epss,percentile``."""
        lines = plain_head(head).splitlines()
        if lines and _COMMENT_HEAD.match(lines[0]):
            return True
        for line in lines:
            if not line.startswith(b"#"):
                names = [n.strip().strip(b'"').lower() for n in line.split(b",")]
                return names[:3] == [c.encode() for c in COLUMNS]
        return False

    def read(self, path: Path, skipped: Skipped) -> Iterator[EpssScore]:
        with closing(csv_lines(path)) as lines:
            yield from _scores(path, lines, skipped)


def _scores(path: Path, lines: Iterator[str], skipped: Skipped) -> Iterator[EpssScore]:
    first = next(lines, None)
    if first is None:
        raise FeedFormatError(path, "line 1", "empty file: no EPSS header")
    model_version: str | None = None
    scored_on: date | None = None
    number = 1
    if first.startswith("#"):
        model_version, scored_on = _comment(path, first)
        first = next(lines, None)
        number = 2
        if first is None:
            raise FeedFormatError(path, "line 2", "no EPSS header after the comment")
    columns = [name.strip().strip('"').lower() for name in first.split(",")]
    if any(name not in columns for name in COLUMNS):
        raise FeedFormatError(path, f"line {number}", "not the EPSS header cve,epss,percentile")
    cve_at, score_at, percentile_at = (columns.index(name) for name in COLUMNS)
    width = max(cve_at, score_at, percentile_at) + 1
    rows = csv.reader(lines)
    while True:
        line = number + rows.line_num + 1
        where = f"line {line}"
        try:
            row = next(rows, None)
        except csv.Error as err:
            if number + rows.line_num < line:  # pragma: no cover - csv consumes a line per error
                raise FeedFormatError(path, where, f"not CSV: {err}") from err
            skipped(SkippedRecord(path, where, f"not CSV: {err}"))
            continue
        if row is None:
            return
        if not any(field.strip() for field in row):
            continue
        if len(row) < width:
            skipped(SkippedRecord(path, where, f"{len(row)} fields, expected {width}"))
            continue
        try:
            yield EpssScore(
                cve_id=parse_cve_id(row[cve_at], f"{where}, column cve"),
                score=_probability(row[score_at], f"{where}, column epss"),
                percentile=_probability(row[percentile_at], f"{where}, column percentile"),
                scored_on=scored_on,
                model_version=model_version,
            )
        except RecordError as err:
            skipped(SkippedRecord(path, err.where, err.reason))


def _comment(path: Path, line: str) -> tuple[str | None, date | None]:
    """``model_version`` and the day of ``score_date`` from the comment line."""
    fields: dict[str, str] = {}
    for item in line.lstrip("#").strip().split(","):
        key, _, value = item.partition(":")
        fields[key.strip().lower()] = value.strip()
    model_version = fields.get("model_version") or None
    scored_on: date | None = None
    if fields.get("score_date"):
        try:
            scored_on = parse_timestamp(fields["score_date"], "line 1").date()
        except RecordError:
            logger.warning("%s: score_date %r is no time", path, fields["score_date"][:40])
    return model_version, scored_on


def _probability(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RecordError(where, f"not a number: {text[:40]!r}") from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise RecordError(where, f"{text[:40]!r} is not between 0 and 1")
    return value
