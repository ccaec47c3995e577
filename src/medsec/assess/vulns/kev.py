"""CISA's Known Exploited Vulnerabilities catalog, as JSON or as its CSV export.

* JSON: ``{"title", "catalogVersion", "dateReleased", "count", "vulnerabilities": [...]}``,
  the entries streamed; a ``count`` that differs from the entries read is logged.
* CSV: the header ``cveID,vendorProject,product,vulnerabilityName,dateAdded,
  shortDescription,requiredAction,dueDate,knownRansomwareCampaignUse,notes,cwes`` (columns
  found by name, so their order and extra columns do not matter), one entry per row; ``cwes``
  is a comma-separated list.

Either may be gzip-compressed. Each entry becomes a ``KevEntry``: ``cveID``,
``vendorProject``, ``product``, ``vulnerabilityName`` (name), ``dateAdded``, ``dueDate``,
``requiredAction``, ``knownRansomwareCampaignUse`` (``Known`` -> True, anything else ->
None), ``notes``, ``cwes``. ``shortDescription`` has no field in ``KevEntry`` and is not
kept. An entry without a CVE id or ``dateAdded``, or with a field of the wrong type, is
skipped with its JSON path (``$.vulnerabilities[12].dateAdded``) or line and column.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import ClassVar, Final

from medsec.assess.vulns.interface import FeedFormatError, Skipped, SkippedRecord
from medsec.assess.vulns.jsonstream import (
    READ_ERRORS,
    BadElement,
    Element,
    Member,
    RecordError,
    as_array,
    as_object,
    as_text,
    csv_lines,
    cwe_ids,
    document_parts,
    get_text,
    head_matches,
    need_text,
    open_feed,
    parse_cve_id,
    parse_date,
    plain_head,
)
from medsec.model.vulns import KevEntry

logger = logging.getLogger(__name__)

CSV_COLUMNS: Final = (
    "cveID",
    "vendorProject",
    "product",
    "vulnerabilityName",
    "dateAdded",
    "shortDescription",
    "requiredAction",
    "dueDate",
    "knownRansomwareCampaignUse",
    "notes",
    "cwes",
)
"""The CSV export's columns; ``REQUIRED_COLUMNS`` must be among a file's header."""
REQUIRED_COLUMNS: Final = frozenset(("cveID", "vendorProject", "product", "dateAdded"))

_JSON_HEAD: Final = re.compile(rb'"catalogVersion"\s*:\s*"')
_JSON_ENTRY_HEAD: Final = re.compile(rb'"vulnerabilities"\s*:|"cveID"\s*:|Known Exploited')


class KevReader:
    """The CISA KEV catalog, JSON or CSV."""

    name: ClassVar[str] = "kev"

    def detect(self, head: bytes) -> bool:
        """A JSON object naming a ``"catalogVersion"`` string (the catalog's JSON schema
        does not count) with ``"vulnerabilities"``, ``"cveID"`` or the catalog's title in
        its first bytes, or CSV whose header names the columns ``cveID``,
        ``vendorProject``, ``product`` and ``dateAdded``."""
        if head_matches(head, _JSON_HEAD, _JSON_ENTRY_HEAD):
            return True
        return _is_csv_header(plain_head(head).split(b"\n", 1)[0])

    def read(self, path: Path, skipped: Skipped) -> Iterator[KevEntry]:
        if _starts_like_json(path):
            yield from self._read_json(path, skipped)
        else:
            yield from self._read_csv(path, skipped)

    def _read_json(self, path: Path, skipped: Skipped) -> Iterator[KevEntry]:
        header: dict[str, object] = {}
        in_array = False
        read = 0
        with closing(document_parts(path, "vulnerabilities")) as parts:
            for part in parts:
                if isinstance(part, Member):
                    header[part.key] = part.value
                elif isinstance(part, Element):
                    read += 1
                    try:
                        yield parse_entry(as_object(part.value, part.where), part.where)
                    except RecordError as err:
                        skipped(SkippedRecord(path, err.where, err.reason))
                elif isinstance(part, BadElement):
                    read += 1
                    skipped(SkippedRecord(path, part.where, part.reason))
                else:
                    in_array = True
        if not in_array:
            where = "$.vulnerabilities" if "vulnerabilities" in header else "$"
            raise FeedFormatError(path, where, "no vulnerabilities array: not a KEV catalog")
        count = header.get("count")
        if type(count) is int and count != read:
            logger.warning("%s: the catalog counts %d entries but holds %d", path, count, read)

    def _read_csv(self, path: Path, skipped: Skipped) -> Iterator[KevEntry]:
        with closing(csv_lines(path)) as lines:
            yield from _csv_entries(path, lines, skipped)


def _csv_entries(path: Path, lines: Iterator[str], skipped: Skipped) -> Iterator[KevEntry]:
    rows = csv.reader(lines)
    try:
        columns = next(rows, None)
    except csv.Error as err:
        raise FeedFormatError(path, "line 1", f"not CSV: {err}") from err
    names = [c.strip() for c in columns or ()]
    if not REQUIRED_COLUMNS <= set(names):
        missing = ", ".join(sorted(REQUIRED_COLUMNS - set(names)))
        raise FeedFormatError(path, "line 1", f"not the KEV CSV header (no {missing})")
    while True:
        line = rows.line_num + 1
        where = f"line {line}"
        try:
            row = next(rows, None)
        except csv.Error as err:
            if rows.line_num < line:  # pragma: no cover - csv consumes a line per error
                raise FeedFormatError(path, where, f"not CSV: {err}") from err
            skipped(SkippedRecord(path, where, f"not CSV: {err}"))
            continue
        if row is None:
            return
        if not any(field.strip() for field in row):
            continue
        entry: dict[str, object] = dict(zip(names, row, strict=False))
        try:
            yield parse_entry(entry, where)
        except RecordError as err:
            # A field's path reads "line N.column": name the column in words instead.
            at = err.where.replace(f"{where}.", f"{where}, column ", 1)
            skipped(SkippedRecord(path, at, err.reason))


def _is_csv_header(line: bytes) -> bool:
    names = {name.strip().strip('"') for name in line.decode("utf-8", "replace").split(",")}
    return REQUIRED_COLUMNS <= names


def _starts_like_json(path: Path) -> bool:
    try:
        with open_feed(path) as stream:
            start = stream.read(1024)
    except READ_ERRORS as err:
        raise FeedFormatError(path, "$", f"cannot read: {err or type(err).__name__}") from err
    return start.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"{", b"[")


def parse_entry(entry: dict[str, object], where: str) -> KevEntry:
    """One catalog entry (a JSON object, or a CSV row by column name); raises
    ``RecordError`` naming the faulty field."""
    cve_id = parse_cve_id(need_text(entry, "cveID", where), f"{where}.cveID")
    added = parse_date(need_text(entry, "dateAdded", where), f"{where}.dateAdded")
    due_text = get_text(entry, "dueDate", where)
    due = None if due_text is None else parse_date(due_text, f"{where}.dueDate")
    ransomware = get_text(entry, "knownRansomwareCampaignUse", where)
    return KevEntry(
        cve_id=cve_id,
        vendor=get_text(entry, "vendorProject", where) or "",
        product=get_text(entry, "product", where) or "",
        name=get_text(entry, "vulnerabilityName", where) or "",
        date_added=added,
        due_date=due,
        required_action=get_text(entry, "requiredAction", where) or "",
        known_ransomware=True if ransomware is not None and ransomware.lower() == "known" else None,
        notes=get_text(entry, "notes", where) or "",
        cwes=_cwes(entry.get("cwes"), f"{where}.cwes"),
    )


def _cwes(value: object, where: str) -> tuple[str, ...]:
    """``cwes``: a JSON array of ids, or the CSV's comma-separated text."""
    if value is None:
        return ()
    if type(value) is str:
        return tuple(dict.fromkeys(cwe_ids(value)))
    found: list[str] = []
    for index, item in enumerate(as_array(value, where)):
        found.extend(cwe_ids(as_text(item, f"{where}[{index}]")))
    return tuple(dict.fromkeys(found))
