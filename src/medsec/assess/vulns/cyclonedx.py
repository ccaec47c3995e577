"""CycloneDX SBOMs and VEX/VDR documents (JSON and XML, spec 1.0-1.7) -> ``Sbom``, ``VexStatement``.

A CycloneDX document yields its ``Sbom`` (``metadata.component`` as subject, every component
with nested ones flattened) unless it is a pure VEX (``vulnerabilities`` and no
``components``), then one ``VexStatement`` per (CVE, ``affects[].ref``) - or, when the target
lists ``versions``, per status those versions have (``2.4 affected`` and
``vers:generic/>=2.9|<=4.1 unaffected`` are two statements, each with its versions: exact
ones as ``VersionRange.version``, ``range`` read by ``assess.versions.ranges_from_text``). A
statement's refs name the component by its purl and CPE when the document lists it, and by
the ref as written (a bom-ref or a BOM-Link ``urn:cdx:<serial>/<version>#<bom-ref>``).

The file is streamed (ijson over JSON, defusedxml's ``iterparse`` over XML: no DTD entity is
ever expanded) one component or vulnerability at a time; a file over ``MAX_SBOM_BYTES`` is
refused, and components nested deeper than ``MAX_COMPONENT_DEPTH`` are skipped. JSON numbers
are read as floats and 64-bit integers (as ``jsonstream`` reads them): a number that does not
fit (``1e999``, ``1.1e99999999999999999999``, an integer of 5,000 or just 20 digits) is a
``FeedFormatError`` at its member, like any other syntax error.

cyclonedx-python-lib is not used to read: its deserialisation raises arbitrary exception types
(and deprecation warnings) on what real tools write, and a tolerant reader is needed anyway.
It gives the spec's vocabularies here, and the tests use it as an oracle (documents it writes
for every schema version must read back the same).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, ClassVar, Final
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

import ijson
from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus, ImpactAnalysisState
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from medsec.assess.versions import ranges_from_text
from medsec.assess.vulns.interface import FeedFormatError, Skipped, SkippedRecord
from medsec.model.vulns import (
    Component,
    CveId,
    FeedRecord,
    ProductStatus,
    Sbom,
    VersionRange,
    VexStatement,
)

logger = logging.getLogger(__name__)

MAX_SBOM_BYTES: Final = 200 * 1024 * 1024
"""Larger SBOM files are refused (the largest real ones are a few tens of MB)."""
MAX_COMPONENT_DEPTH: Final = 32
"""Components nested deeper than this are skipped (real SBOMs nest a handful of levels)."""
MAX_XML_DEPTH: Final = 4 * MAX_COMPONENT_DEPTH + 32
"""An XML document nested deeper than this is refused."""


def _backend() -> Any:
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:  # pragma: no cover - the C backend ships with ijson's wheels
        return ijson


_BACKEND: Any = _backend()
_ARRAY_OPENED: Final = object()
_CVE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)
_XML_NS = re.compile(r"^\{(http://cyclonedx\.org/schema/bom/(1\.\d+))\}bom$")
_DETECT_JSON = re.compile(
    rb'"bomFormat"\s*:\s*"CycloneDX"|"\$schema"\s*:\s*"https?://cyclonedx\.org/schema/'
    rb'|"bom-ref"\s*:'
)
_DETECT_XML = re.compile(
    rb"<(?:[\w.-]+:)?bom\s[^>]*[\"']http://cyclonedx\.org/schema/bom/1\.\d+[\"']"
)

STATES: Final[Mapping[str, ProductStatus]] = {
    ImpactAnalysisState.NOT_AFFECTED.value: "not_affected",
    ImpactAnalysisState.FALSE_POSITIVE.value: "not_affected",
    ImpactAnalysisState.RESOLVED.value: "fixed",
    ImpactAnalysisState.RESOLVED_WITH_PEDIGREE.value: "fixed",
    ImpactAnalysisState.EXPLOITABLE.value: "affected",
    ImpactAnalysisState.IN_TRIAGE.value: "under_investigation",
}
"""CycloneDX ``analysis.state`` -> product status."""
VERSION_STATUSES: Final = frozenset(s.value for s in ImpactAnalysisAffectedStatus)
"""``affects[].versions[].status``: affected, unaffected, unknown."""


# -- reading helpers shared by the SBOM readers ------------------------------------------


def check_size(path: Path) -> None:
    """Refuse a file larger than ``MAX_SBOM_BYTES`` (or one that cannot be opened)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FeedFormatError(path, "$", f"cannot read the file: {exc.strerror}") from exc
    if size > MAX_SBOM_BYTES:
        raise FeedFormatError(
            path, "$", f"{size} bytes, more than the {MAX_SBOM_BYTES} bytes an SBOM may have"
        )


def open_json(path: Path) -> IO[bytes]:
    """The file opened for ijson, past a UTF-8 byte order mark."""
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise FeedFormatError(path, "$", f"cannot read the file: {exc.strerror}") from exc
    if stream.read(3) != b"\xef\xbb\xbf":
        stream.seek(0)
    return stream


def text(value: object) -> str | None:
    """A JSON/XML value as trimmed text, None when it is not text or is empty."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def timestamp(value: object) -> datetime | None:
    """An ISO 8601 time (UTC when it names no zone), None when it is not one."""
    raw = text(value)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Skips:
    """Tells ``skipped`` about records of one file."""

    def __init__(self, path: Path, skipped: Skipped) -> None:
        self.path = path
        self.skipped = skipped
        self.count = 0

    def __call__(self, where: str, reason: str) -> None:
        self.count += 1
        self.skipped(SkippedRecord(self.path, where, reason))


@dataclass(frozen=True, slots=True)
class JsonMember:
    """A top-level member of a JSON object, or one item of a streamed top-level array."""

    key: str
    index: int | None
    """Position in the member's array; None for the whole member (or an array's opening)."""
    value: object
    """The item or member value; ``_ARRAY_OPENED`` when a streamed array starts."""

    @property
    def opened(self) -> bool:
        return self.value is _ARRAY_OPENED

    @property
    def where(self) -> str:
        return f"$.{self.key}" if self.index is None else f"$.{self.key}[{self.index}]"


def json_members(
    path: Path, whole: frozenset[str], streamed: frozenset[str]
) -> Iterator[JsonMember]:
    """The top-level members of the JSON object in ``path``: those in ``whole`` built as one
    value, the items of those in ``streamed`` one at a time (when the member is an array),
    the rest passed over unbuilt. Not JSON, or not an object -> ``FeedFormatError`` naming
    the member or item where the parser failed (numbers are read as floats and 64-bit
    integers: one that does not fit is such a failure)."""
    with open_json(path) as stream:
        events = _JsonEvents(path, stream)
        first = next(events, None)
        if first is None or first[0] != "start_map":
            raise FeedFormatError(path, "$", "not a JSON object")
        key = ""
        index: int | None = None
        in_array = False
        builder: Any = None
        nesting = 0  # open containers of the value being built (or passed over)
        for event, value in events:
            opens = event in ("start_map", "start_array")
            if builder is not None or nesting:
                if builder is not None:
                    builder.event(event, value)
                nesting += 1 if opens else -1 if event in ("end_map", "end_array") else 0
                if nesting or builder is None:
                    continue
            elif in_array:
                if event == "end_array":
                    in_array = False
                    continue
                index = 0 if index is None else index + 1
                events.where = f"$.{key}[{index}]"
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                if opens:
                    nesting = 1
                    continue
            elif event == "map_key":
                key, index, events.where = value, None, f"$.{value}"
                continue
            elif event == "end_map":
                continue
            elif key in streamed and event == "start_array":
                in_array = True
                yield JsonMember(key, None, _ARRAY_OPENED)
                continue
            elif key in whole or key in streamed:
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                if opens:
                    nesting = 1
                    continue
            else:
                nesting = 1 if opens else 0
                continue
            yield JsonMember(key, index, builder.value)
            builder = None


class _JsonEvents:
    """ijson's events of a JSON file; whatever the parser raises on the untrusted bytes
    (``JSONError``, and from the C backend also ``UnicodeDecodeError`` for a lone surrogate
    escape or ``SystemError`` around a ``ValueError``) -> ``FeedFormatError`` at ``where``."""

    def __init__(self, path: Path, stream: IO[bytes]) -> None:
        self.path = path
        self.where = "$"
        self._events: Iterator[tuple[str, Any]] = iter(_BACKEND.basic_parse(stream, use_float=True))

    def __iter__(self) -> _JsonEvents:
        return self

    def __next__(self) -> tuple[str, Any]:
        try:
            return next(self._events)
        except (StopIteration, MemoryError):
            raise
        except OSError as exc:
            raise FeedFormatError(self.path, self.where, f"cannot read the file: {exc}") from exc
        except Exception as exc:  # the parser is fed untrusted bytes: any failure is the file's
            raise FeedFormatError(self.path, self.where, _parse_failure(exc)) from exc


def _parse_failure(exc: BaseException) -> str:
    """Why the parser stopped, in one line; the C backend wraps some errors (a ``ValueError``
    in a ``SystemError``): the wrapped one tells."""
    if isinstance(exc, SystemError) and (exc.__cause__ or exc.__context__):
        exc = exc.__cause__ or exc.__context__ or exc
    if isinstance(exc, UnicodeDecodeError):  # yajl passes a lone surrogate escape through
        return f"not valid JSON: a string that is no Unicode text ({exc.reason})"
    message = _first_line(exc)
    if isinstance(exc, ijson.JSONError):
        return f"not valid JSON: {message}"
    return f"not valid JSON: {type(exc).__name__}: {message}"


def _first_line(exc: BaseException) -> str:
    message: object = exc.args[0] if len(exc.args) == 1 else exc
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    lines = str(message).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# -- CycloneDX as dicts (JSON as read; XML turned into the same shape) -------------------


@dataclass(slots=True)
class _Document:
    """What a CycloneDX document said, gathered while streaming it."""

    bom_format: str | None = None
    spec_version: str | None = None
    serial: str | None = None
    created: datetime | None = None
    subject: Component | None = None
    has_components: bool = False
    components: list[Component] = field(default_factory=list)
    vulnerabilities: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)

    def add_metadata(self, metadata: object, skipped: Skips) -> None:
        if not isinstance(metadata, Mapping):
            skipped("$.metadata", "metadata is not an object")
            return
        self.created = timestamp(metadata.get("timestamp"))
        if metadata.get("timestamp") is not None and self.created is None:
            skipped("$.metadata.timestamp", "not an ISO 8601 time")
        subject = metadata.get("component")
        if subject is None:
            return
        if isinstance(subject, Mapping):
            self.subject = component(subject)
        if self.subject is None:
            skipped("$.metadata.component", "component without a name")
        if isinstance(subject, Mapping):
            self.add_components("$.metadata.component", subject.get("components"), 1, skipped)

    def add_components(self, where: str, items: object, depth: int, skipped: Skips) -> None:
        """Append ``items`` (a components array at ``where``) and their nested components."""
        if items is None:
            return
        if not isinstance(items, list):
            skipped(f"{where}.components", "components is not an array")
            return
        stack = [(f"{where}.components[{i}]", depth, item) for i, item in enumerate(items)]
        stack.reverse()
        while stack:
            at, level, item = stack.pop()
            self.add_component(at, level, item, skipped)
            nested = item.get("components") if isinstance(item, Mapping) else None
            if nested is None or level > MAX_COMPONENT_DEPTH:
                continue
            if not isinstance(nested, list):
                skipped(f"{at}.components", "components is not an array")
                continue
            children = [(f"{at}.components[{i}]", level + 1, c) for i, c in enumerate(nested)]
            stack.extend(reversed(children))

    def add_component(self, where: str, depth: int, item: object, skipped: Skips) -> None:
        if depth > MAX_COMPONENT_DEPTH:
            skipped(where, f"components nested deeper than {MAX_COMPONENT_DEPTH} levels")
            return
        if not isinstance(item, Mapping):
            skipped(where, "component is not an object")
            return
        found = component(item)
        if found is None:
            skipped(where, "component without a name")
        else:
            self.components.append(found)

    def sbom(self) -> Sbom | None:
        """The SBOM, None for a pure VEX (vulnerabilities, no components)."""
        if self.vulnerabilities and not self.has_components:
            return None
        unique = tuple(dict.fromkeys(self.components))
        return Sbom(
            format="cyclonedx",
            spec_version=self.spec_version or "",
            serial=self.serial,
            subject=self.subject,
            components=unique,
            created=self.created,
        )


def component(item: Mapping[str, Any]) -> Component | None:
    """A CycloneDX component object as a ``Component`` (None without a name)."""
    name = text(item.get("name"))
    if name is None:
        return None
    return Component(
        name=name,
        version=text(item.get("version")),
        supplier=_supplier(item),
        purl=text(item.get("purl")),
        cpe=text(item.get("cpe")),
        kind=text(item.get("type")),
        ref=text(item.get("bom-ref")),
        licenses=_licenses(item.get("licenses")),
    )


def _supplier(item: Mapping[str, Any]) -> str | None:
    for organisation in ("supplier", "manufacturer"):
        entity = item.get(organisation)
        if isinstance(entity, Mapping) and (name := text(entity.get("name"))):
            return name
    return text(item.get("publisher")) or text(item.get("group"))


def _licenses(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    found: list[str] = []
    for choice in value:
        if not isinstance(choice, Mapping):
            continue
        licence = choice.get("license")
        if isinstance(licence, Mapping):
            named = text(licence.get("id")) or text(licence.get("name"))
        else:
            named = text(choice.get("expression"))
        if named:
            found.append(named)
    return tuple(dict.fromkeys(found))


# -- VEX ----------------------------------------------------------------------------------


def vex_statements(document: _Document, source: str, skipped: Skips) -> Iterator[VexStatement]:
    """One statement per (CVE, affects[].ref, status of the versions listed) of the
    document's vulnerabilities."""
    by_ref: dict[str, Component] = {}
    for known in (*document.components, *((document.subject,) if document.subject else ())):
        if known.ref is not None:
            by_ref.setdefault(known.ref, known)
    for where, vulnerability in document.vulnerabilities:
        yield from _statements(where, vulnerability, document, by_ref, source, skipped)


def _statements(
    where: str,
    vulnerability: Mapping[str, Any],
    document: _Document,
    by_ref: Mapping[str, Component],
    source: str,
    skipped: Skips,
) -> Iterator[VexStatement]:
    cve = _cve_id(vulnerability)
    if cve is None:
        named = text(vulnerability.get("id")) or "no id"
        skipped(f"{where}.id", f"{named} is not a CVE and names no single CVE in references")
        return
    analysis = vulnerability.get("analysis")
    analysis = analysis if isinstance(analysis, Mapping) else {}
    state = text(analysis.get("state"))
    if state is None:
        status: ProductStatus = "affected"  # a VDR lists what the vulnerability affects
    elif state in STATES:
        status = STATES[state]
    else:
        skipped(f"{where}.analysis.state", f"unknown analysis state {state!r}")
        return
    affects = vulnerability.get("affects")
    if not isinstance(affects, list) or not affects:
        skipped(f"{where}.affects", f"{cve} names no affected component")
        return
    justification = text(analysis.get("justification"))
    detail = text(analysis.get("detail"))
    for index, target in enumerate(affects):
        at = f"{where}.affects[{index}]"
        ref = text(target.get("ref")) if isinstance(target, Mapping) else None
        if ref is None:
            skipped(at, "target without a ref")
            continue
        groups = _version_groups(f"{at}.versions", target.get("versions"), status, skipped)
        if groups is None:
            skipped(at, f"{cve}: none of the versions it lists could be read: no statement")
            continue
        refs = _refs(ref, document.serial, by_ref)
        for group_status, versions in groups or [(status, ())]:
            yield VexStatement(
                cve_id=cve,
                status=group_status,
                justification=justification if group_status == status else None,
                detail=detail,
                refs=refs,
                versions=versions,
                source=source,
            )


def _cve_id(vulnerability: Mapping[str, Any]) -> CveId | None:
    """The vulnerability's CVE: its id, or the one CVE its ``references`` alias it to."""
    own = text(vulnerability.get("id"))
    if own and _CVE.fullmatch(own):
        return CveId(own.upper())
    references = vulnerability.get("references")
    if not isinstance(references, list):
        return None
    aliases = {
        ref.upper()
        for entry in references
        if isinstance(entry, Mapping) and (ref := text(entry.get("id"))) and _CVE.fullmatch(ref)
    }
    return CveId(aliases.pop()) if len(aliases) == 1 else None


def _version_groups(
    where: str, value: object, status: ProductStatus, skipped: Skips
) -> list[tuple[ProductStatus, tuple[VersionRange, ...]]] | None:
    """``affects[].versions`` grouped by the status each states, groups in the order first
    stated: ``[]`` when there are none (the statement is about the target as named), None
    when versions are listed but none could be read (a statement about every version would
    say more than the document). ``status`` is the analysis' status (see
    ``_version_status``)."""
    if value is None:
        return []
    if not isinstance(value, list):
        skipped(where, "versions is not an array")
        return None
    groups: dict[ProductStatus, dict[VersionRange, None]] = {}
    for index, entry in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(entry, Mapping):
            skipped(at, "version entry is not an object")
            continue
        exact, span = text(entry.get("version")), text(entry.get("range"))
        if exact is None and span is None:
            skipped(at, "version entry with neither version nor range")
            continue
        stated = entry.get("status")
        group = _version_status(stated, status)
        if group is None:
            skipped(at, f"unknown version status {str(stated)[:40]!r}")
            continue
        ranges = (VersionRange(version=exact),) if exact else ranges_from_text(span or "")
        groups.setdefault(group, {}).update(dict.fromkeys(ranges))
    if value and not groups:
        return None
    return [(group, tuple(ranges)) for group, ranges in groups.items()]


def _version_status(stated: object, analysed: ProductStatus) -> ProductStatus | None:
    """The status of versions marked ``stated`` in a vulnerability whose analysis gave
    ``analysed``: ``affected`` ones are ``affected``; ``unaffected`` ones ``not_affected``, or
    ``fixed`` when the analysis says resolved; ``unknown`` ones ``unknown``, or
    ``under_investigation`` when the analysis is in triage. Unmarked versions have the
    analysis' status: the schema's default is ``affected``, but CISA's VEX use case 7 lists
    the version that resolved a vulnerability without a status. None for a status the spec
    does not know."""
    if stated is None:
        return analysed
    named = text(stated)
    if named not in VERSION_STATUSES:
        return None
    if named == "unaffected":
        return analysed if analysed in ("not_affected", "fixed") else "not_affected"
    if named == "unknown":
        return analysed if analysed == "under_investigation" else "unknown"
    return "affected"


def _refs(ref: str, serial: str | None, by_ref: Mapping[str, Component]) -> tuple[str, ...]:
    """The target's purl and CPE when this document lists it, and the ref as written; a
    BOM-Link into another document adds the purl its fragment is, when it is one."""
    local = ref
    if ref.startswith("urn:cdx:") and "#" in ref:
        document, fragment = ref[len("urn:cdx:") :].split("#", 1)
        fragment = unquote(fragment)
        local = fragment if serial and f"urn:uuid:{document.split('/')[0]}" == serial else ""
        if not local and fragment.startswith("pkg:"):
            return (fragment, ref)
    known = by_ref.get(local)
    if known is None:
        return (ref,)
    return tuple(dict.fromkeys(r for r in (known.purl, known.cpe, ref) if r))


# -- JSON ---------------------------------------------------------------------------------

_WHOLE: Final = frozenset({"bomFormat", "specVersion", "serialNumber", "metadata"})
_STREAMED: Final = frozenset({"components", "vulnerabilities"})


def _read_json(path: Path, skips: Skips) -> _Document:
    document = _Document()
    for member in json_members(path, _WHOLE, _STREAMED):
        if member.key == "bomFormat":
            document.bom_format = text(member.value)
            if document.bom_format != "CycloneDX":
                raise FeedFormatError(path, "$.bomFormat", "not a CycloneDX document")
        elif member.key == "specVersion":
            document.spec_version = text(member.value)
        elif member.key == "serialNumber":
            document.serial = text(member.value)
        elif member.key == "metadata":
            document.add_metadata(member.value, skips)
        elif member.opened:
            document.has_components |= member.key == "components"
        elif member.index is None:
            skips(member.where, f"{member.key} is not an array")
        elif member.key == "components":
            document.add_component(member.where, 1, member.value, skips)
            if isinstance(member.value, Mapping):
                document.add_components(member.where, member.value.get("components"), 2, skips)
        elif isinstance(member.value, Mapping):
            document.vulnerabilities.append((member.where, member.value))
        else:
            skips(member.where, "vulnerability is not an object")
    if document.bom_format is None:
        raise FeedFormatError(path, "$.bomFormat", "no bomFormat: not a CycloneDX document")
    return document


# -- XML ----------------------------------------------------------------------------------


def _read_xml(path: Path, skips: Skips) -> _Document:
    """Stream a CycloneDX XML document: each child of ``<bom>`` and each component or
    vulnerability of its lists is read at its end tag, then dropped from the tree."""
    document = _Document(bom_format="CycloneDX")
    ns = ""
    stack: list[Element] = []
    where = "$"
    counts = {"components": 0, "vulnerabilities": 0}
    with path.open("rb") as stream:
        events = iterparse(stream, events=("start", "end"), forbid_dtd=True)
        while (step := _next_xml_event(path, events, where)) is not None:
            event, element = step
            if event == "start":
                stack.append(element)
                if len(stack) > MAX_XML_DEPTH:
                    raise FeedFormatError(path, where, f"nested deeper than {MAX_XML_DEPTH}")
                if len(stack) == 1:
                    ns = _root_namespace(path, element, document)
                continue
            stack.pop()
            if len(stack) == 1:
                if element.tag == f"{ns}metadata":
                    document.add_metadata(_xml_metadata(element, ns), skips)
                elif element.tag == f"{ns}components":
                    document.has_components = True
                stack[0].remove(element)
            elif len(stack) == 2 and stack[1].tag in _xml_lists(ns):
                where = _xml_list_item(document, stack[1].tag, element, ns, counts, skips)
                stack[1].remove(element)
    if not ns:
        raise FeedFormatError(path, "$", "no root element")
    return document


def _next_xml_event(
    path: Path, events: Iterator[tuple[str, Element]], where: str
) -> tuple[str, Element] | None:
    """The parser's next event (None at the end); what it refuses -> ``FeedFormatError``."""
    try:
        return next(events, None)
    except ParseError as exc:
        raise FeedFormatError(path, where, f"not well-formed XML: {exc}") from exc
    except DefusedXmlException as exc:
        raise FeedFormatError(path, where, f"refused XML construct: {exc!r}") from exc
    except (LookupError, ValueError) as exc:  # expat: unknown or multi-byte encodings
        raise FeedFormatError(path, where, f"unsupported XML encoding: {exc}") from exc


def _xml_lists(ns: str) -> tuple[str, str]:
    return (f"{ns}components", f"{ns}vulnerabilities")


def _xml_list_item(
    document: _Document,
    group: str,
    element: Element,
    ns: str,
    counts: dict[str, int],
    skips: Skips,
) -> str:
    """Read one child of ``<components>`` or ``<vulnerabilities>``; where it was."""
    if group == f"{ns}components" and element.tag == f"{ns}component":
        where = f"$.components[{counts['components']}]"
        counts["components"] += 1
        item = _xml_component(element, ns)
        document.add_component(where, 1, item, skips)
        document.add_components(where, item.get("components"), 2, skips)
        return where
    if group == f"{ns}vulnerabilities" and element.tag == f"{ns}vulnerability":
        where = f"$.vulnerabilities[{counts['vulnerabilities']}]"
        counts["vulnerabilities"] += 1
        document.vulnerabilities.append((where, _xml_vulnerability(element, ns)))
        return where
    return "$"


def _root_namespace(path: Path, root: Element, document: _Document) -> str:
    match = _XML_NS.match(root.tag)
    if match is None:
        raise FeedFormatError(path, "$", f"root element {root.tag!r} is not a CycloneDX bom")
    document.spec_version = match.group(2)
    document.serial = text(root.get("serialNumber"))
    return f"{{{match.group(1)}}}"


def _child_text(element: Element, ns: str, name: str) -> str | None:
    child = element.find(f"{ns}{name}")
    return None if child is None else text(child.text)


def _xml_metadata(element: Element, ns: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"timestamp": _child_text(element, ns, "timestamp")}
    subject = element.find(f"{ns}component")
    if subject is not None:
        metadata["component"] = _xml_component(subject, ns)
    return metadata


def _xml_component(element: Element, ns: str) -> dict[str, Any]:
    """A ``<component>`` in the JSON shape ``component`` reads (nested ones included)."""
    item: dict[str, Any] = {
        "type": element.get("type"),
        "bom-ref": element.get("bom-ref"),
        "publisher": _child_text(element, ns, "publisher"),
        "group": _child_text(element, ns, "group"),
        "name": _child_text(element, ns, "name"),
        "version": _child_text(element, ns, "version"),
        "purl": _child_text(element, ns, "purl"),
        "cpe": _child_text(element, ns, "cpe"),
    }
    for organisation in ("supplier", "manufacturer"):
        entity = element.find(f"{ns}{organisation}")
        if entity is not None:
            item[organisation] = {"name": _child_text(entity, ns, "name")}
    licenses = element.find(f"{ns}licenses")
    if licenses is not None:
        item["licenses"] = [
            {"expression": text(choice.text)}
            if choice.tag == f"{ns}expression"
            else {
                "license": {
                    "id": _child_text(choice, ns, "id"),
                    "name": _child_text(choice, ns, "name"),
                }
            }
            for choice in licenses
        ]
    nested = element.find(f"{ns}components")
    if nested is not None:
        item["components"] = [
            _xml_component(child, ns) for child in nested if child.tag == f"{ns}component"
        ]
    return item


def _xml_vulnerability(element: Element, ns: str) -> dict[str, Any]:
    """A ``<vulnerability>`` (1.4+) in the JSON shape ``_statements`` reads."""
    vulnerability: dict[str, Any] = {"id": _child_text(element, ns, "id")}
    references = element.find(f"{ns}references")
    if references is not None:
        vulnerability["references"] = [
            {"id": _child_text(reference, ns, "id")} for reference in references
        ]
    analysis = element.find(f"{ns}analysis")
    if analysis is not None:
        vulnerability["analysis"] = {
            name: _child_text(analysis, ns, name) for name in ("state", "justification", "detail")
        }
    affects = element.find(f"{ns}affects")
    if affects is not None:
        vulnerability["affects"] = [_xml_target(target, ns) for target in affects]
    return vulnerability


def _xml_target(target: Element, ns: str) -> dict[str, Any]:
    versions = target.find(f"{ns}versions")
    return {
        "ref": _child_text(target, ns, "ref"),
        "versions": [
            {name: _child_text(entry, ns, name) for name in ("version", "range", "status")}
            for entry in (versions if versions is not None else ())
        ],
    }


# -- the reader ---------------------------------------------------------------------------


class CycloneDxReader:
    """CycloneDX BOMs (JSON or XML) -> one ``Sbom`` and the ``VexStatement``s they carry."""

    name: ClassVar[str] = "cyclonedx"

    def detect(self, head: bytes) -> bool:
        start = _unmarked(head)
        if start.startswith(b"{"):
            return _DETECT_JSON.search(start) is not None
        return start.startswith(b"<") and _DETECT_XML.search(start) is not None

    def read(self, path: Path, skipped: Skipped) -> Iterator[FeedRecord]:
        check_size(path)
        skips = Skips(path, skipped)
        document = self._document(path, skips)
        if document.spec_version is None or not re.fullmatch(r"1\.\d+", document.spec_version):
            raise FeedFormatError(
                path, "$.specVersion", f"unsupported specVersion {document.spec_version!r}"
            )
        sbom = document.sbom()
        if sbom is not None:
            yield sbom
        yield from vex_statements(document, document.serial or path.name, skips)
        logger.debug("%s: %d components, %d skipped", path, len(document.components), skips.count)

    @staticmethod
    def _document(path: Path, skips: Skips) -> _Document:
        with path.open("rb") as stream:
            head = _unmarked(stream.read(256))
        if head.startswith(b"<"):
            return _read_xml(path, skips)
        return _read_json(path, skips)


def _unmarked(head: bytes) -> bytes:
    """The head past a byte order mark and white space; UTF-16 (XML) as UTF-8."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode()
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")
