"""SPDX SBOMs -> ``Sbom``: SPDX 2.x (JSON and tag-value) and SPDX 3.0 (JSON-LD).

Packages become components: name, version (``versionInfo``), supplier (``Organization: `` /
``Person: `` stripped; the originator when no supplier is named), the purl of a
``PACKAGE-MANAGER`` external ref and the CPE of a ``SECURITY`` one (``cpe23Type`` before
``cpe22Type``), the SPDXID as ref, ``licenseConcluded`` and ``licenseDeclared``,
``primaryPackagePurpose`` as kind. What the document describes (``documentDescribes``,
``DESCRIBES`` / ``DESCRIBED_BY`` relationships with the document) is the subject when it is
one package (or, with no package described, one file); it is then not repeated among the
components. ``NOASSERTION`` and ``NONE`` state nothing and are read as absent.

SPDX 3.0 says the same with elements of a ``@graph``: ``software_Package`` (and the AI and
dataset packages) with ``software_packageVersion``, ``software_packageUrl``,
``externalIdentifier`` (``packageUrl``, ``cpe23``, ``cpe22``), ``suppliedBy`` /
``originatedBy`` agents, licences through ``hasConcludedLicense`` / ``hasDeclaredLicense``
relationships; the subject is the ``rootElement`` of the ``SpdxDocument`` (through an
``software_Sbom`` when that is the root) or what it ``describes``; the document's spdxId is
the serial and its ``CreationInfo`` gives the time and spec version.

JSON is streamed with ijson one package (or graph element) at a time, tag-value line by line;
a file over ``MAX_SBOM_BYTES`` is refused. YAML and RDF/XML are recognised and refused with a
``FeedFormatError`` saying so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Final

from medsec.assess.vulns.cyclonedx import (
    Skips,
    check_size,
    json_members,
    text,
    timestamp,
)
from medsec.assess.vulns.interface import FeedFormatError, Skipped
from medsec.model.vulns import Component, FeedRecord, Sbom

logger = logging.getLogger(__name__)

_NO_VALUE: Final = frozenset({"NOASSERTION", "NONE"})
_ENTITY = re.compile(r"^(?:Organization|Person|Tool)\s*:\s*", re.IGNORECASE)
_SPDX2 = re.compile(r"SPDX-2\.\d+")
_DETECT_JSON2 = re.compile(rb'"spdxVersion"\s*:\s*"SPDX-\d')
_DETECT_JSON3 = re.compile(rb'"@context"\s*:\s*"https?://spdx\.org/rdf/3\.')
_DETECT_TAG_VALUE = re.compile(rb"^[ \t]*SPDXVersion:[ \t]*SPDX-\d", re.MULTILINE)
_DETECT_YAML = re.compile(rb"^[ \t]*['\"]?spdxVersion['\"]?:[ \t]*['\"]?SPDX-\d", re.MULTILINE)
_DETECT_RDF = re.compile(rb"http://spdx\.org/rdf/terms")
_TAG = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):[ \t]?(.*)$")
_PACKAGE_MANAGER: Final = frozenset({"PACKAGE-MANAGER", "PACKAGE_MANAGER"})
_TAG_VALUE_PACKAGE: Final[Mapping[str, str]] = {
    "PackageVersion": "versionInfo",
    "PackageSupplier": "supplier",
    "PackageOriginator": "originator",
    "PackageLicenseConcluded": "licenseConcluded",
    "PackageLicenseDeclared": "licenseDeclared",
    "PrimaryPackagePurpose": "primaryPackagePurpose",
}
"""Tag-value package tags -> the JSON field ``package_component`` reads."""


def stated(value: object) -> str | None:
    """Text that states something (not empty, ``NOASSERTION`` or ``NONE``)."""
    found = text(value)
    return None if found is None or found.upper() in _NO_VALUE else found


def package_component(package: Mapping[str, Any]) -> Component | None:
    """An SPDX 2.x package (JSON shape) as a ``Component``; None without a name."""
    name = text(package.get("name"))
    if name is None:
        return None
    purl, cpe23, cpe22 = None, None, None
    refs = package.get("externalRefs")
    for ref in refs if isinstance(refs, list) else ():
        if not isinstance(ref, Mapping):
            continue
        category = (text(ref.get("referenceCategory")) or "").upper()
        kind = text(ref.get("referenceType"))
        locator = text(ref.get("referenceLocator"))
        if category in _PACKAGE_MANAGER and kind == "purl":
            purl = purl or locator
        elif category == "SECURITY" and kind == "cpe23Type":
            cpe23 = cpe23 or locator
        elif category == "SECURITY" and kind == "cpe22Type":
            cpe22 = cpe22 or locator
    licenses = (stated(package.get(k)) for k in ("licenseConcluded", "licenseDeclared"))
    purpose = stated(package.get("primaryPackagePurpose"))
    return Component(
        name=name,
        version=stated(package.get("versionInfo")),
        supplier=_entity(package.get("supplier")) or _entity(package.get("originator")),
        purl=purl,
        cpe=cpe23 or cpe22,
        kind=purpose.lower().replace("_", "-") if purpose else None,
        ref=text(package.get("SPDXID")),
        licenses=tuple(dict.fromkeys(lic for lic in licenses if lic)),
    )


def _entity(value: object) -> str | None:
    named = stated(value)
    return stated(_ENTITY.sub("", named)) if named else None


@dataclass(slots=True)
class _Document:
    """What an SPDX 2.x document said, gathered while reading it."""

    spdx_version: str | None = None
    spdx_id: str = "SPDXRef-DOCUMENT"
    namespace: str | None = None
    created: datetime | None = None
    components: list[Component] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """SPDXID -> file name, for a document that describes a file."""
    describes: list[str] = field(default_factory=list)
    relationships: list[tuple[str, str, str]] = field(default_factory=list)
    """(element, DESCRIBES or DESCRIBED_BY, related element)."""

    def add_package(self, where: str, package: object, skips: Skips) -> None:
        if not isinstance(package, Mapping):
            skips(where, "package is not an object")
            return
        found = package_component(package)
        if found is None:
            skips(where, "package without a name")
        else:
            self.components.append(found)

    def add_relationship(self, element: object, kind: object, related: object) -> None:
        kind = text(kind)
        if kind in ("DESCRIBES", "DESCRIBED_BY"):
            element, related = text(element), text(related)
            if element and related:
                self.relationships.append((element, kind, related))

    def described(self) -> list[str]:
        found = list(self.describes)
        for element, kind, related in self.relationships:
            if kind == "DESCRIBES" and element == self.spdx_id:
                found.append(related)
            elif kind == "DESCRIBED_BY" and related == self.spdx_id:
                found.append(element)
        return list(dict.fromkeys(found))

    def sbom(self, path: Path, where: str) -> Sbom:
        version = self.spdx_version
        if version is None:
            raise FeedFormatError(path, where, "no spdxVersion: not an SPDX document")
        described = self.described()
        packages = [c for c in self.components if c.ref in described]
        subject: Component | None = None
        if len(packages) == 1:
            subject = packages[0]
        elif not packages:
            files = [ref for ref in described if ref in self.files]
            if len(files) == 1:
                subject = Component(name=self.files[files[0]], kind="file", ref=files[0])
        components = (c for c in self.components if subject is None or c.ref != subject.ref)
        return Sbom(
            format="spdx",
            spec_version=version.removeprefix("SPDX-"),
            serial=self.namespace,
            subject=subject,
            components=tuple(dict.fromkeys(components)),
            created=self.created,
        )


def _check_version(path: Path, where: str, value: object) -> str:
    version = text(value)
    if version is not None and _SPDX2.fullmatch(version):
        return version
    raise FeedFormatError(path, where, f"unsupported spdxVersion {version!r}")


# -- JSON ---------------------------------------------------------------------------------

_WHOLE: Final = frozenset({"spdxVersion", "SPDXID", "documentNamespace", "creationInfo"})
_STREAMED: Final = frozenset({"packages", "files", "relationships", "documentDescribes"})


def _read_json(path: Path, skips: Skips) -> _Document:
    document = _Document()
    for member in json_members(path, _WHOLE, _STREAMED):
        if member.key == "spdxVersion":
            document.spdx_version = _check_version(path, member.where, member.value)
        elif member.key == "SPDXID":
            document.spdx_id = text(member.value) or document.spdx_id
        elif member.key == "documentNamespace":
            document.namespace = text(member.value)
        elif member.key == "creationInfo":
            info = member.value if isinstance(member.value, Mapping) else {}
            document.created = timestamp(info.get("created"))
            if document.created is None:
                skips("$.creationInfo.created", "no ISO 8601 creation time")
        elif member.opened:
            continue
        elif member.index is None:
            skips(member.where, f"{member.key} is not an array")
        elif member.key == "packages":
            document.add_package(member.where, member.value, skips)
        elif member.key == "files":
            _add_file(document, member.value)
        elif member.key == "documentDescribes":
            if described := text(member.value):
                document.describes.append(described)
        elif isinstance(member.value, Mapping):
            relation = member.value
            document.add_relationship(
                relation.get("spdxElementId"),
                relation.get("relationshipType"),
                relation.get("relatedSpdxElement"),
            )
    return document


def _add_file(document: _Document, item: object) -> None:
    if isinstance(item, Mapping):
        ref, name = text(item.get("SPDXID")), text(item.get("fileName"))
        if ref and name:
            document.files[ref] = name


# -- tag-value ----------------------------------------------------------------------------


@dataclass(slots=True)
class _TagValueState:
    section: str = "document"
    """``document``, ``package``, ``file`` or ``other`` (snippets, licences, annotations)."""
    package: dict[str, Any] | None = None
    package_line: int = 0
    file_name: str | None = None


def _tag_values(path: Path) -> Iterator[tuple[int, str | None, str]]:
    """(line number, tag, value) per ``Tag: value``; ``<text>...</text>`` values may span
    lines. A line that is no tag gives tag None (blank lines and comments give nothing)."""
    with path.open(encoding="utf-8", errors="replace") as stream:
        pending: tuple[int, str, list[str]] | None = None
        for number, line in enumerate(stream, start=1):
            if pending is not None:
                start, tag, parts = pending
                end = line.find("</text>")
                parts.append(line if end < 0 else line[:end])
                if end >= 0:
                    yield start, tag, "".join(parts).strip()
                    pending = None
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            match = _TAG.match(stripped)
            if match is None:
                yield number, None, stripped
                continue
            tag, value = match.group(1), match.group(2)
            if value.startswith("<text>"):
                value = value[len("<text>") :]
                end = value.find("</text>")
                if end < 0:
                    pending = (number, tag, [value + "\n"])
                    continue
                value = value[:end]
            yield number, tag, value.strip()
        if pending is not None:
            raise FeedFormatError(path, f"line {pending[0]}", "<text> without </text>")


def _read_tag_value(path: Path, skips: Skips) -> _Document:
    document = _Document()
    state = _TagValueState()

    def close_package() -> None:
        if state.package is not None:
            document.add_package(f"line {state.package_line}", state.package, skips)
            state.package = None

    for number, tag, value in _tag_values(path):
        if document.spdx_version is None and tag != "SPDXVersion":
            if tag is None or tag in ("PackageName", "FileName", "SPDXID"):
                raise FeedFormatError(
                    path, f"line {number}", "no SPDXVersion before: not SPDX tag-value"
                )
        if tag is None:
            skips(f"line {number}", "not a 'Tag: value' line")
        elif tag == "SPDXVersion":
            document.spdx_version = _check_version(path, f"line {number}", value)
        elif tag == "DocumentNamespace":
            document.namespace = text(value)
        elif tag == "Created":
            document.created = timestamp(value)
            if document.created is None:
                skips(f"line {number}", "Created is no ISO 8601 time")
        elif tag == "Relationship":
            parts = value.split()
            if len(parts) >= 3:
                document.add_relationship(parts[0], parts[1], parts[2])
        elif tag == "PackageName":
            close_package()
            state.section, state.package, state.package_line = "package", {"name": value}, number
        elif tag == "FileName":
            close_package()
            state.section, state.file_name = "file", text(value)
        elif tag in ("SnippetSPDXID", "LicenseID", "Annotator"):
            close_package()
            state.section = "other"
        elif tag == "SPDXID":
            _tag_value_id(document, state, value)
        elif state.package is not None and tag in _TAG_VALUE_PACKAGE:
            state.package[_TAG_VALUE_PACKAGE[tag]] = value
        elif state.package is not None and tag == "ExternalRef":
            parts = value.split(None, 2)
            if len(parts) == 3:
                names = ("referenceCategory", "referenceType", "referenceLocator")
                ref = dict(zip(names, parts, strict=True))
                state.package.setdefault("externalRefs", []).append(ref)
    close_package()
    return document


def _tag_value_id(document: _Document, state: _TagValueState, value: str) -> None:
    if state.section == "document":
        document.spdx_id = text(value) or document.spdx_id
    elif state.section == "package" and state.package is not None:
        state.package["SPDXID"] = value
    elif state.section == "file" and state.file_name and (ref := text(value)):
        document.files[ref] = state.file_name


# -- SPDX 3.0 JSON-LD -------------------------------------------------------------------

_SPDX3_PACKAGES: Final[Mapping[str, str | None]] = {
    "software_Package": None,
    "ai_AIPackage": "machine-learning-model",
    "dataset_DatasetPackage": "data",
}
"""Package classes -> the kind when no ``software_primaryPurpose`` is given."""
_SPDX3_AGENTS: Final = frozenset({"Agent", "Organization", "Person", "SoftwareAgent", "Tool"})
_SPDX3_BOMS: Final = frozenset({"software_Sbom", "Bom"})
_SPDX3_LICENCE_LINKS: Final = ("hasConcludedLicense", "hasDeclaredLicense")


@dataclass(slots=True)
class _Spdx3Document:
    """The elements of an SPDX 3.0 ``@graph`` a ``Sbom`` needs, gathered while streaming."""

    packages: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    """Agent and licence ids -> their name or licence expression."""
    files: dict[str, str] = field(default_factory=dict)
    """``software_File`` ids -> their name, for a document that describes a file."""
    roots: dict[str, list[str]] = field(default_factory=dict)
    """SpdxDocument and Sbom ids -> their ``rootElement``."""
    document: str | None = None
    document_info: object = None
    creation_infos: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    links: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(from, relationshipType, to) of ``describes`` and licence relationships."""

    def add(self, where: str, element: object, skips: Skips) -> None:
        if not isinstance(element, Mapping):
            skips(where, "element is not an object")
            return
        kind, ident = text(element.get("type")), text(element.get("spdxId"))
        if kind in _SPDX3_PACKAGES:
            self.packages.append((where, element))
        elif kind == "CreationInfo" and (info_id := text(element.get("@id"))):
            self.creation_infos[info_id] = element
        elif ident is None:
            return
        elif kind in _SPDX3_AGENTS and (name := text(element.get("name"))):
            self.names[ident] = name
        elif kind == "software_File" and (name := text(element.get("name"))):
            self.files[ident] = name
        elif kind == "simplelicensing_LicenseExpression":
            if expression := stated(element.get("simplelicensing_licenseExpression")):
                self.names[ident] = expression
        elif kind and "License" in kind and (name := text(element.get("name"))):
            self.names[ident] = name
        elif kind == "SpdxDocument" or kind in _SPDX3_BOMS:
            self.roots[ident] = _ids(element.get("rootElement"))
            if kind == "SpdxDocument" and self.document is None:
                self.document, self.document_info = ident, element.get("creationInfo")
        elif kind in ("Relationship", "LifecycleScopedRelationship"):
            link = text(element.get("relationshipType"))
            start = text(element.get("from"))
            if start and link in ("describes", *_SPDX3_LICENCE_LINKS):
                self.links.append((start, link, _ids(element.get("to"))))

    def sbom(self, path: Path) -> Sbom:
        if self.document is None:
            raise FeedFormatError(path, "$.@graph", "no SpdxDocument element")
        info = self.document_info
        if isinstance(info, str):
            info = self.creation_infos.get(info)
        info = info if isinstance(info, Mapping) else {}
        components = [c for _, p in self.packages if (c := self._component(p)) is not None]
        described = self._described()
        packages = [c for c in components if c.ref in described]
        files = sorted(ref for ref in described if ref in self.files)
        subject = packages[0] if len(packages) == 1 else None
        if not packages and len(files) == 1:
            subject = Component(name=self.files[files[0]], kind="file", ref=files[0])
        rest = (c for c in components if subject is None or c.ref != subject.ref)
        return Sbom(
            format="spdx",
            spec_version=text(info.get("specVersion")) or "3",
            serial=self.document,
            subject=subject,
            components=tuple(dict.fromkeys(rest)),
            created=timestamp(info.get("created")),
        )

    def _described(self) -> set[str]:
        heads = [self.document] if self.document else []
        found: set[str] = set()
        for head in heads:
            for root in self.roots.get(head, ()):
                found.update(self.roots.get(root, [root]))
        boms = {self.document, *self.roots}
        for start, link, targets in self.links:
            if link == "describes" and start in boms:
                found.update(targets)
        return found

    def _component(self, package: Mapping[str, Any]) -> Component | None:
        name, ident = text(package.get("name")), text(package.get("spdxId"))
        if name is None:
            return None
        purl, cpe23, cpe22 = text(package.get("software_packageUrl")), None, None
        identifiers = package.get("externalIdentifier")
        for entry in identifiers if isinstance(identifiers, list) else ():
            if not isinstance(entry, Mapping):
                continue
            kind, value = text(entry.get("externalIdentifierType")), text(entry.get("identifier"))
            if kind == "packageUrl":
                purl = purl or value
            elif kind == "cpe23":
                cpe23 = cpe23 or value
            elif kind == "cpe22":
                cpe22 = cpe22 or value
        licenses = [
            self.names[target]
            for start, link, targets in self.links
            if start == ident and link in _SPDX3_LICENCE_LINKS
            for target in targets
            if target in self.names
        ]
        purpose = text(package.get("software_primaryPurpose"))
        return Component(
            name=name,
            version=stated(package.get("software_packageVersion")),
            supplier=self._agent(package.get("suppliedBy"))
            or self._agent(package.get("originatedBy")),
            purl=purl,
            cpe=cpe23 or cpe22,
            kind=purpose.lower() if purpose else _SPDX3_PACKAGES.get(str(package.get("type"))),
            ref=ident,
            licenses=tuple(dict.fromkeys(licenses)),
        )

    def _agent(self, value: object) -> str | None:
        for ident in _ids(value):
            if ident in self.names:
                return self.names[ident]
        return None


def _ids(value: object) -> list[str]:
    """An element reference or a list of them, as ids."""
    values = value if isinstance(value, list) else [value]
    return [found for item in values if (found := text(item))]


def _read_json3(path: Path, skips: Skips) -> Sbom:
    document = _Spdx3Document()
    for member in json_members(path, frozenset({"@context"}), frozenset({"@graph"})):
        if member.key == "@context":
            context = member.value if isinstance(member.value, str) else ""
            if not re.match(r"https?://spdx\.org/rdf/3\.", context):
                raise FeedFormatError(path, "$.@context", "not an SPDX 3 JSON-LD context")
        elif member.opened:
            continue
        elif member.index is None:
            skips(member.where, "@graph is not an array")
        else:
            document.add(member.where, member.value, skips)
    for where, package in document.packages:
        if text(package.get("name")) is None:
            skips(where, "package without a name")
    return document.sbom(path)


# -- the reader ---------------------------------------------------------------------------


class SpdxReader:
    """SPDX documents (2.x JSON or tag-value, 3.0 JSON-LD) -> one ``Sbom``."""

    name: ClassVar[str] = "spdx"

    def detect(self, head: bytes) -> bool:
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if start.startswith(b"{"):
            return bool(_DETECT_JSON2.search(start) or _DETECT_JSON3.search(start))
        if start.startswith(b"<"):
            return _DETECT_RDF.search(start) is not None
        return bool(_DETECT_TAG_VALUE.search(start) or _DETECT_YAML.search(start))

    def read(self, path: Path, skipped: Skipped) -> Iterator[FeedRecord]:
        check_size(path)
        skips = Skips(path, skipped)
        with path.open("rb") as stream:
            head = stream.read(65536).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"{"):
            if _DETECT_JSON3.search(head):
                sbom = _read_json3(path, skips)
                logger.debug("%s: %d components (SPDX 3)", path, len(sbom.components))
                yield sbom
                return
            document, where = _read_json(path, skips), "$.spdxVersion"
        elif head.startswith(b"<") or (
            _DETECT_YAML.search(head) and not _DETECT_TAG_VALUE.search(head)
        ):
            raise FeedFormatError(path, "$", "unsupported SPDX serialisation (RDF or YAML)")
        else:
            document, where = _read_tag_value(path, skips), "line 1"
        sbom = document.sbom(path, where)
        logger.debug("%s: %d components, %d skipped", path, len(sbom.components), skips.count)
        yield sbom
