"""Streaming and checked reading of untrusted feed files, shared by the feed readers.

Three parts:

* **Opening** (``open_feed``, ``plain_head``): a file, gzip-compressed or not - recognised
  by its magic bytes ``1f 8b``, never by its name - as one binary stream; ``plain_head``
  gives ``detect`` the start of the decompressed content.
* **JSON documents** (``document_parts``): a JSON file walked with ijson's event parser (its
  C backend when installed), handing over the top-level members one by one and the elements
  of the one array that holds the records (``$.vulnerabilities`` of an NVD or KEV file, the
  root array of a CVE 5 bundle) as each is complete, each with its JSON path. Memory stays
  bounded by the largest record, whatever the file's size: a record (or the run of
  top-level members) may span at most ``MAX_RECORD_BYTES`` of the decompressed stream and
  nest at most ``MAX_DEPTH`` levels. ijson's prefix-tracking API (``items``, ``parse``) is
  not used: it keeps the dotted path of every open container, so a few kilobytes of
  nested brackets or long keys make it allocate gigabytes.
* **Checked access** (``RecordError`` and the ``get_*``/``need_*`` functions): reading a
  record's fields with their expected JSON types; a field of the wrong type raises
  ``RecordError`` naming its JSON path, which the reader turns into a ``SkippedRecord``.
  Also CVE ids, timestamps and dates as the feeds write them, and CSV lines
  (``csv_lines``) with a bounded line length.

Numbers are read as floats (``use_float``): a number a double cannot hold (``1e999``, a
20-digit integer) is a JSON error of the file at that point, like any other syntax error.
"""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from io import TextIOWrapper
from pathlib import Path
from typing import IO, Any, Final, cast

import ijson

from medsec.assess.vulns.interface import HEAD_BYTES, FeedFormatError
from medsec.model.vulns import CveId

logger = logging.getLogger(__name__)

MAX_RECORD_BYTES: Final = 16 * 2**20
"""Largest span of one record (an array element, or all top-level members together) in
the decompressed stream. The largest real NVD and CVE 5 records are a few hundred KB."""
MAX_DEPTH: Final = 64
"""Deepest nesting of a record (real NVD and CVE 5 records nest about ten levels)."""
MAX_LINE_CHARS: Final = 2**20
"""Longest line of a CSV feed."""

GZIP_MAGIC: Final = b"\x1f\x8b"
UTF8_BOM: Final = b"\xef\xbb\xbf"


def _backend() -> Any:
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:  # pragma: no cover - the C backend ships with ijson's wheels
        return ijson


_IJSON: Any = _backend()


# --- opening -------------------------------------------------------------------------------


def open_feed(path: Path, where: str = "$") -> IO[bytes]:
    """The decompressed bytes of ``path`` (gzip when it starts with ``1f 8b``)."""
    try:
        with path.open("rb") as probe:
            magic = probe.read(2)
        if magic == GZIP_MAGIC:
            return cast(IO[bytes], gzip.open(path, "rb"))
        return path.open("rb")
    except OSError as err:
        raise FeedFormatError(path, where, f"cannot open: {err.strerror or err}") from err


def plain_head(head: bytes) -> bytes:
    """``head`` decompressed when it is the start of a gzip stream (as far as it goes), with
    a UTF-8 byte order mark removed."""
    if head.startswith(GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, HEAD_BYTES)
        except zlib.error:
            return b""
    return head.removeprefix(UTF8_BOM)


def head_matches(head: bytes, *patterns: re.Pattern[bytes]) -> bool:
    """Whether the plain head is a JSON object or array whose text matches every pattern."""
    text = plain_head(head).lstrip()
    return text[:1] in (b"{", b"[") and all(p.search(text) for p in patterns)


READ_ERRORS: Final = (OSError, EOFError, zlib.error)
"""What reading a damaged file or gzip stream raises (``BadGzipFile`` is an ``OSError``)."""


# --- JSON documents ------------------------------------------------------------------------


class _Unreadable(Exception):
    """Reading the underlying file failed; carries the cause."""


class _Oversized(Exception):
    """A record went on for more than ``MAX_RECORD_BYTES``."""


class _BoundedSource:
    """The stream ijson reads, counting bytes since the current record began."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw = raw
        self.limit = limit
        self.position = 0
        self.start = 0
        self.first = True
        self.read1 = getattr(raw, "read1", raw.read)

    def mark(self) -> None:
        """A record (or the space between records) begins about here."""
        self.start = self.position

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        try:
            # One read of the file (or of the gzip stream) at a time, so that what came
            # before damage is handed over before the error.
            data = self.read1(size)
        except READ_ERRORS as err:
            raise _Unreadable(str(err) or type(err).__name__) from err
        if self.first and data:
            self.first = False
            data = data.removeprefix(UTF8_BOM)
        self.position += len(data)
        if self.position - self.start > self.limit:
            raise _Oversized
        return data


@dataclass(frozen=True, slots=True)
class Member:
    """A top-level member of a JSON object, other than the records array."""

    key: str
    value: object


@dataclass(frozen=True, slots=True)
class Records:
    """The records array begins (at ``where``): the members seen so far are the header."""

    where: str


@dataclass(frozen=True, slots=True)
class Element:
    """One complete element of the records array."""

    where: str
    """``$.vulnerabilities[12]``."""
    value: object


@dataclass(frozen=True, slots=True)
class BadElement:
    """An element of the records array that could not be built (it was passed over)."""

    where: str
    reason: str


DocumentPart = Member | Records | Element | BadElement

_STARTS: Final = frozenset(("start_map", "start_array"))
_ENDS: Final = frozenset(("end_map", "end_array"))


class _TooDeep(Exception):
    pass


class _Walker:
    def __init__(self, path: Path, source: _BoundedSource, max_depth: int) -> None:
        self.path = path
        self.source = source
        self.max_depth = max_depth
        self.events: Iterator[tuple[str, object]] = _IJSON.basic_parse(source, use_float=True)

    def fail(self, where: str, err: BaseException) -> FeedFormatError:
        if isinstance(err, _Oversized):
            limit = self.source.limit
            size = f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit} bytes"
            return FeedFormatError(self.path, where, f"a record runs on for more than {size}")
        if isinstance(err, _Unreadable):
            return FeedFormatError(self.path, where, f"cannot read: {err}")
        lines = str(err).strip().splitlines()
        message = lines[0] if lines else type(err).__name__
        return FeedFormatError(self.path, where, f"not valid JSON: {message}")

    def next_event(self, where: str) -> tuple[str, object]:
        try:
            return next(self.events)
        except StopIteration:
            raise FeedFormatError(self.path, where, "not valid JSON: premature end") from None
        except Exception as err:  # the parser is fed untrusted bytes: any failure is the file's
            raise self.fail(where, err) from err

    def value(self, event: str, value: object, where: str) -> object:
        """The whole value that ``event`` starts (scalars are themselves)."""
        if event not in _STARTS:
            return value
        # The hot loop of every reader: untyped containers, no helper calls per event.
        root: Any = {} if event == "start_map" else []
        stack: list[Any] = [root]
        top: Any = root
        in_list = event == "start_array"
        key: Any = ""
        max_depth = self.max_depth
        try:
            for event, value in self.events:
                if event == "map_key":
                    key = value
                elif event == "start_map" or event == "start_array":
                    container: Any = {} if event == "start_map" else []
                    if in_list:
                        top.append(container)
                    else:
                        top[key] = container
                    stack.append(container)
                    top = container
                    in_list = event == "start_array"
                    if len(stack) > max_depth:
                        self.pass_over(len(stack))
                        raise _TooDeep
                elif event == "end_map" or event == "end_array":
                    stack.pop()
                    if not stack:
                        return root
                    top = stack[-1]
                    in_list = type(top) is list
                elif in_list:
                    top.append(value)
                else:
                    top[key] = value
        except _TooDeep:
            raise
        except Exception as err:  # the parser is fed untrusted bytes
            raise self.fail(where, err) from err
        raise FeedFormatError(self.path, where, "not valid JSON: premature end")

    def pass_over(self, depth: int) -> None:
        """Consume events until ``depth`` open containers are closed."""
        for event, _value in self.events:
            if event in _STARTS:
                depth += 1
            elif event in _ENDS:
                depth -= 1
                if depth == 0:
                    return

    def elements(self, where: str) -> Iterator[Records | Element | BadElement]:
        yield Records(where)
        index = 0
        while True:
            item = f"{where}[{index}]"
            event, value = self.next_event(item)
            if event == "end_array":
                self.source.mark()
                return
            self.source.mark()
            try:
                built = self.value(event, value, item)
            except _TooDeep:
                yield BadElement(item, f"nested deeper than {self.max_depth} levels")
            else:
                yield Element(item, built)
            index += 1

    def parts(self, records_key: str | None) -> Iterator[DocumentPart]:
        event, value = self.next_event("$")
        if event == "start_array":
            yield from self.elements("$")
        elif event == "start_map":
            while True:
                event, value = self.next_event("$")
                if event == "end_map":
                    break
                key = cast(str, value)
                where = child("$", key)
                event, value = self.next_event(where)
                if key == records_key and event == "start_array":
                    yield from self.elements(where)
                    continue
                try:
                    yield Member(key, self.value(event, value, where))
                except _TooDeep:
                    raise FeedFormatError(
                        self.path, where, f"nested deeper than {self.max_depth} levels"
                    ) from None
        else:
            reason = f"expected a JSON object or array at the top level, found {_kind(value)}"
            raise FeedFormatError(self.path, "$", reason)
        try:
            extra = next(self.events, None)
        except Exception as err:  # trailing garbage, damaged end of a gzip stream
            raise self.fail("$", err) from err
        if extra is not None:  # pragma: no cover - ijson reports trailing data as an error
            raise FeedFormatError(self.path, "$", "not valid JSON: data after the end")


def document_parts(
    path: Path,
    records_key: str | None,
    *,
    max_record_bytes: int = MAX_RECORD_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Generator[DocumentPart, None, None]:
    """Walk the JSON file ``path``: its top-level members (``Member``) and, one by one, the
    elements of its records array (``Records``, then ``Element`` or ``BadElement``). The
    records array is the top-level member ``records_key`` when it is an array, or the root
    itself when the root is an array.

    Raises ``FeedFormatError`` (after the parts before the fault were handed over) when the
    file is no JSON object or array, is damaged or truncated, or a record exceeds the limits.
    """
    with open_feed(path) as raw:
        source = _BoundedSource(raw, max_record_bytes)
        yield from _Walker(path, source, max_depth).parts(records_key)


# --- checked access to records -------------------------------------------------------------


class RecordError(Exception):
    """A record does not have the shape its format prescribes; ``where`` is the JSON path of
    the fault."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def child(where: str, key: str) -> str:
    """The JSON path of member ``key`` of the value at ``where``."""
    if _IDENTIFIER.fullmatch(key):
        return f"{where}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{where}['{escaped}']"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def as_object(value: object, where: str) -> dict[str, object]:
    if type(value) is not dict:
        raise RecordError(where, f"expected an object, found {_kind(value)}")
    return value


def as_array(value: object, where: str) -> list[object]:
    if type(value) is not list:
        raise RecordError(where, f"expected an array, found {_kind(value)}")
    return value


def as_text(value: object, where: str) -> str:
    if type(value) is not str:
        raise RecordError(where, f"expected a string, found {_kind(value)}")
    return value


# The accessors below build a field's path only when they report it.


def need_object(obj: dict[str, object], key: str, where: str) -> dict[str, object]:
    """Member ``key``, an object."""
    value = obj.get(key)
    if type(value) is not dict:
        found = "missing" if key not in obj else f"expected an object, found {_kind(value)}"
        raise RecordError(child(where, key), found)
    return value


def get_object(obj: dict[str, object], key: str, where: str) -> dict[str, object] | None:
    """Member ``key`` when it is an object; None when absent or null."""
    value = obj.get(key)
    if value is None or type(value) is dict:
        return value
    raise RecordError(child(where, key), f"expected an object, found {_kind(value)}")


def get_array(obj: dict[str, object], key: str, where: str) -> Sequence[object]:
    """Member ``key`` when it is an array; empty when absent or null."""
    value = obj.get(key)
    if type(value) is list:
        return value
    if value is None:
        return ()
    raise RecordError(child(where, key), f"expected an array, found {_kind(value)}")


def need_text(obj: dict[str, object], key: str, where: str) -> str:
    """Member ``key``, a non-blank string, trimmed."""
    text = get_text(obj, key, where)
    if text is None:
        raise RecordError(child(where, key), "missing" if obj.get(key) is None else "empty")
    return text


def get_text(obj: dict[str, object], key: str, where: str) -> str | None:
    """Member ``key`` trimmed; None when absent, null or blank."""
    value = obj.get(key)
    if type(value) is str:
        return value.strip() or None
    if value is None:
        return None
    raise RecordError(child(where, key), f"expected a string, found {_kind(value)}")


def get_texts(obj: dict[str, object], key: str, where: str) -> tuple[str, ...]:
    """Member ``key``, an array of strings, trimmed, blanks left out."""
    found: list[str] = []
    for index, value in enumerate(get_array(obj, key, where)):
        if type(value) is not str:
            where_item = f"{child(where, key)}[{index}]"
            raise RecordError(where_item, f"expected a string, found {_kind(value)}")
        text = value.strip()
        if text:
            found.append(text)
    return tuple(found)


def get_bool(obj: dict[str, object], key: str, where: str, default: bool) -> bool:
    value = obj.get(key)
    if type(value) is bool:
        return value
    if value is None:
        return default
    raise RecordError(child(where, key), f"expected a boolean, found {_kind(value)}")


def need_bool(obj: dict[str, object], key: str, where: str) -> bool:
    value = obj.get(key)
    if type(value) is bool:
        return value
    found = "missing" if value is None else f"expected a boolean, found {_kind(value)}"
    raise RecordError(child(where, key), found)


def need_score(obj: dict[str, object], key: str, where: str) -> float:
    """Member ``key``, a CVSS score: a number from 0 to 10."""
    value = obj.get(key)
    if type(value) is float or type(value) is int:
        score = float(value)
        if 0.0 <= score <= 10.0:
            return score
        raise RecordError(child(where, key), f"score {score} is not between 0 and 10")
    found = "missing" if value is None else f"expected a number, found {_kind(value)}"
    raise RecordError(child(where, key), found)


_CVE_ID = re.compile(r"CVE-\d{4}-\d{4,19}")


def parse_cve_id(text: str, where: str) -> CveId:
    """A CVE id (``CVE-YYYY-NNNN...``), upper case."""
    normal = text.strip().upper()
    if not _CVE_ID.fullmatch(normal):
        raise RecordError(where, f"not a CVE id: {text[:40]!r}")
    return CveId(normal)


def parse_timestamp(text: str, where: str) -> datetime:
    """An ISO 8601 time as UTC; the feeds' times without an offset are UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise RecordError(where, f"not an ISO 8601 time: {text[:40]!r}") from None


def get_timestamp(obj: dict[str, object], key: str, where: str) -> datetime | None:
    text = get_text(obj, key, where)
    return None if text is None else parse_timestamp(text, child(where, key))


def parse_date(text: str, where: str) -> date:
    """A calendar date (``2025-08-25``)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise RecordError(where, f"not a date (YYYY-MM-DD): {text[:40]!r}") from None


def english(entries: Sequence[object], where: str, text_key: str = "value") -> str:
    """The English text of a ``[{"lang": ..., "value": ...}]`` list (else the first)."""
    texts: list[tuple[str, str]] = []
    for index, entry in enumerate(entries):
        entry_where = f"{where}[{index}]"
        item = as_object(entry, entry_where)
        lang = (get_text(item, "lang", entry_where) or "").lower()
        text = get_text(item, text_key, entry_where)
        if text is not None:
            texts.append((lang, text))
    for lang, text in texts:
        if lang == "en" or lang.startswith("en-") or lang.startswith("en_"):
            return text
    return texts[0][1] if texts else ""


_CWE = re.compile(r"CWE-\d{1,6}")


def cwe_ids(text: str) -> list[str]:
    """The CWE ids a text names (``NVD-CWE-Other``, ``NVD-CWE-noinfo`` name none)."""
    if text.startswith("NVD-CWE-"):
        return []
    return _CWE.findall(text.upper())


# --- CSV -----------------------------------------------------------------------------------


def csv_lines(path: Path, max_line_chars: int = MAX_LINE_CHARS) -> Generator[str, None, None]:
    """The text lines of a CSV feed (gzip or not; UTF-8, a byte order mark dropped, undecodable
    bytes replaced), each with its line ending, for ``csv.reader``. Raises ``FeedFormatError``
    naming the line when a line is longer than ``max_line_chars`` or the file cannot be read
    further (after the lines before it)."""
    with open_feed(path, "line 1") as raw:
        text = TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        number = 0
        while True:
            number += 1
            try:
                line = text.readline(max_line_chars + 1)
            except READ_ERRORS as err:
                reason = f"cannot read: {err or type(err).__name__}"
                raise FeedFormatError(path, f"line {number}", reason) from err
            if not line:
                return
            if len(line) > max_line_chars:
                reason = f"line longer than {max_line_chars} characters"
                raise FeedFormatError(path, f"line {number}", reason)
            yield line
