"""CSAF 2.0 documents (OASIS Common Security Advisory Framework): CISA's ICS and ICS medical
advisories, vendors' advisories and CSAF VEX documents -> ``Advisory`` (and, for ``csaf_vex``
documents, one ``VexStatement`` per CVE and product).

What is read (CSAF 2.0 section 3.2):

- ``document``: category, title, publisher name, ``tracking`` (id, version, initial and
  current release dates), the ``self`` reference;
- ``product_tree``: ``branches`` walked from vendor through product family and product name to
  product version / version range (any other category passes its context on), each leaf's
  ``product`` becoming one ``AffectedProduct`` (vendor normalised by ``vendors.py``; versions
  from the branch name, free text such as "2.3.6 and below" or ``vers:all/*`` read by
  ``assess.versions.ranges_from_text``); ``full_product_names``; ``relationships``
  (``default_component_of``, ``installed_on``...), each a new product id standing for the
  referenced product as part of another; ``product_groups``;
  ``product_identification_helper`` (cpe, purl, model numbers);
- ``vulnerabilities``: cve, title, cwe, summary/description notes, release date,
  ``product_status`` (known_affected/first_affected/last_affected -> affected,
  known_not_affected -> not_affected, fixed/first_fixed -> fixed, under_investigation,
  recommended), ``scores`` (cvss_v2, cvss_v3 and a CSAF 2.1 cvss_v4, vectors checked with the
  ``cvss`` library, each with the ``products`` it is for), ``remediations`` (category,
  details, products, url, date); for VEX also ``flags`` (justification labels) and
  ``threats`` of category ``impact``.

A document is a few KB to a few MB: it is read whole (at most ``MAX_BYTES``, else
``FeedFormatError``) and parsed with ``json.loads``. The product tree is walked without
recursion and at most ``MAX_BRANCH_DEPTH`` deep. A malformed branch, product, relationship,
vulnerability, score or remediation is skipped and reported with its JSON path
(``$.product_tree.branches[0].branches[3]``); the rest of the document still imports. A
document without a tracking id is skipped whole. A file that is not a CSAF JSON document
raises ``FeedFormatError``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from medsec.assess.versions import ranges_from_text
from medsec.assess.vulns.interface import FeedFormatError, Skipped, SkippedRecord
from medsec.assess.vulns.vendors import VendorNames, shipped_vendor_names
from medsec.model.vulns import (
    Advisory,
    AdvisoryVulnerability,
    AffectedProduct,
    CveId,
    CvssMetric,
    FeedRecord,
    ProductStatus,
    Remediation,
    VersionRange,
    VexStatement,
)

MAX_BYTES = 50 * 1024 * 1024
"""Largest document read; CSAF documents are KBs to a few MB."""
MAX_BRANCH_DEPTH = 30
"""Deepest product tree branch followed (real trees are 3-6 deep)."""

STATUS_GROUPS: Mapping[str, ProductStatus] = {
    "first_affected": "affected",
    "known_affected": "affected",
    "last_affected": "affected",
    "known_not_affected": "not_affected",
    "first_fixed": "fixed",
    "fixed": "fixed",
    "under_investigation": "under_investigation",
    "recommended": "recommended",
}
"""CSAF ``product_status`` groups onto the model's statuses."""
REMEDIATION_CATEGORIES = frozenset(
    {
        "vendor_fix",
        "mitigation",
        "workaround",
        "no_fix_planned",
        "none_available",
        "fix_planned",  # CSAF 2.1
        "optional_patch",  # CSAF 2.1
    }
)
NOTE_CATEGORIES = frozenset({"summary", "description", "details"})
"""Vulnerability notes kept as text (general, legal and other notes are not)."""

_CSAF_VERSION = re.compile(rb'"csaf_version"\s*:\s*"')
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_CVSS4_IN_URL = re.compile(r"#(CVSS:4\.0/[A-Za-z:/]+)$")
_CVSS_ERRORS = (CVSSError, ValueError, KeyError, IndexError, TypeError)
_VERSION_CATEGORIES = frozenset({"product_version", "product_version_range"})


class CsafReader:
    """CSAF 2.0 JSON documents (``csaf_security_advisory``, ``csaf_vex``, ``csaf_base``...)."""

    name: ClassVar[str] = "csaf"

    def __init__(self, vendors: VendorNames | None = None) -> None:
        self._vendors = vendors

    def detect(self, head: bytes) -> bool:
        """A JSON object with a ``document`` member and a ``csaf_version``."""
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return (
            text.startswith(b"{")
            and b'"document"' in text
            and _CSAF_VERSION.search(text) is not None
        )

    def read(self, path: Path, skipped: Skipped) -> Iterator[FeedRecord]:
        top = _load(path)
        vendors = self._vendors if self._vendors is not None else shipped_vendor_names()
        reading = _Reading(path, skipped, vendors)
        advisory = reading.advisory(top)
        if advisory is None:
            return
        yield advisory
        if advisory.document_category == "csaf_vex":
            yield from reading.vex_statements(top, advisory)


def _load(path: Path) -> dict[str, Any]:
    """The document's top-level object; ``FeedFormatError`` when the file is too large, not
    JSON, or not a CSAF document."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise FeedFormatError(path, "$", f"cannot read ({exc.strerror or exc})") from exc
    if len(data) > MAX_BYTES:
        raise FeedFormatError(path, "$", f"larger than {MAX_BYTES} bytes: not read")
    try:
        top = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise FeedFormatError(path, "$", f"not JSON: {exc}") from exc
    if not isinstance(top, dict):
        raise FeedFormatError(path, "$", "not a JSON object")
    document = top.get("document")
    if not isinstance(document, dict):
        raise FeedFormatError(path, "$.document", "missing or not an object: not CSAF")
    version = document.get("csaf_version")
    if not isinstance(version, str) or not version.startswith("2."):
        raise FeedFormatError(path, "$.document.csaf_version", f"not CSAF 2.x: {version!r}")
    return top


# -- small typed accessors for untrusted JSON ---------------------------------------------------


def _text(obj: Any, key: str) -> str | None:
    """A non-empty string member, trimmed; None otherwise."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _obj(obj: Any, key: str) -> dict[str, Any] | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else None


def _items(obj: Any, key: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, list) else []


def _texts(obj: Any, key: str) -> tuple[str, ...]:
    """The non-empty strings of a list member (a single string counts as one)."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(v.strip() for v in value if isinstance(v, str) and v.strip())


def _datetime(value: Any) -> datetime | None:
    """An ISO 8601 date-time (UTC when it names no zone), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0.0 <= number <= 10.0 else None


# -- one document ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    """What the branches above a product say of it."""

    vendor: str | None = None
    family: str | None = None
    product: str | None = None
    version_category: str | None = None
    version: str | None = None

    def under(self, category: str, name: str) -> _Context:
        if category == "vendor":
            return replace(self, vendor=name)
        if category == "product_family":
            return replace(self, family=name)
        if category == "product_name":
            return replace(self, product=name)
        if category in _VERSION_CATEGORIES:
            return replace(self, version_category=category, version=name)
        return self


class _Reading:
    """Reading one document: its products, then its vulnerabilities."""

    def __init__(self, path: Path, skipped: Skipped, vendors: VendorNames) -> None:
        self.path = path
        self.skipped = skipped
        self.vendors = vendors
        self.products: dict[str, AffectedProduct] = {}
        self.groups: dict[str, tuple[str, ...]] = {}
        self.publisher = ""

    def skip(self, where: str, reason: str) -> None:
        self.skipped(SkippedRecord(self.path, where, reason))

    # document

    def advisory(self, top: dict[str, Any]) -> Advisory | None:
        document: dict[str, Any] = top["document"]
        tracking = _obj(document, "tracking")
        tracking_id = _text(tracking, "id")
        if tracking_id is None:
            self.skip("$.document.tracking.id", "document without a tracking id: not imported")
            return None
        self.publisher = _text(_obj(document, "publisher"), "name") or ""
        initial = self._date(tracking, "initial_release_date", "$.document.tracking")
        current = self._date(tracking, "current_release_date", "$.document.tracking")
        tree = top.get("product_tree")
        if tree is not None and not isinstance(tree, dict):
            self.skip("$.product_tree", "not an object: no products read")
        elif isinstance(tree, dict):
            self._product_tree(tree)
        vulnerabilities = top.get("vulnerabilities", [])
        if not isinstance(vulnerabilities, list):
            self.skip("$.vulnerabilities", "not a list: no vulnerabilities read")
            vulnerabilities = []
        read = (
            self._vulnerability(v, f"$.vulnerabilities[{i}]") for i, v in enumerate(vulnerabilities)
        )
        version = tracking.get("version") if tracking else None
        return Advisory(
            tracking_id=tracking_id,
            title=_text(document, "title") or tracking_id,
            publisher=self.publisher,
            initial_release=initial,
            current_release=current,
            products=tuple(self.products.values()),
            vulnerabilities=tuple(v for v in read if v is not None),
            url=_self_url(document),
            document_category=_text(document, "category") or "csaf_base",
            version=version.strip() if isinstance(version, str) and version.strip() else None,
        )

    def _date(self, obj: dict[str, Any] | None, key: str, where: str) -> datetime | None:
        value = obj.get(key) if obj else None
        moment = _datetime(value)
        if value is not None and moment is None:
            self.skip(
                f"{where}.{key}", f"not an ISO 8601 date-time: {str(value)[:40]!r}; left empty"
            )
        return moment

    # product tree

    def _product_tree(self, tree: dict[str, Any]) -> None:
        branches = tree.get("branches", [])
        if isinstance(branches, list):
            self._branches(branches)
        else:
            self.skip("$.product_tree.branches", "not a list")
        for i, full in enumerate(_items(tree, "full_product_names")):
            where = f"$.product_tree.full_product_names[{i}]"
            name = _text(full, "name")
            vendor = self.vendors.mentioned_in(name)[:1] if name else ()
            self._add(full, where, vendor[0] if vendor else "", name, ())
        for i, group in enumerate(_items(tree, "product_groups")):
            group_id = _text(group, "group_id")
            if group_id is None:
                self.skip(f"$.product_tree.product_groups[{i}]", "product group without group_id")
                continue
            self.groups[group_id] = _texts(group, "product_ids")
        for i, relationship in enumerate(_items(tree, "relationships")):
            self._relationship(relationship, f"$.product_tree.relationships[{i}]")

    def _branches(self, branches: list[Any]) -> None:
        """Walk the branches depth first, in document order, without recursion."""
        stack: list[tuple[Any, str, int, _Context]] = [
            (b, f"$.product_tree.branches[{i}]", 1, _Context())
            for i, b in reversed(list(enumerate(branches)))
        ]
        while stack:
            branch, where, depth, context = stack.pop()
            if depth > MAX_BRANCH_DEPTH:
                self.skip(where, f"branches nested deeper than {MAX_BRANCH_DEPTH}: not read")
                continue
            category, name = _text(branch, "category"), _text(branch, "name")
            if category is None or name is None:
                self.skip(where, "branch without category or name: it and its branches skipped")
                continue
            context = context.under(category, name)
            if "product" in branch:
                self._leaf(branch["product"], f"{where}.product", context)
            children = branch.get("branches")
            if children is None:
                continue
            if not isinstance(children, list):
                self.skip(f"{where}.branches", "not a list")
                continue
            stack.extend(
                (child, f"{where}.branches[{i}]", depth + 1, context)
                for i, child in reversed(list(enumerate(children)))
            )

    def _leaf(self, product: Any, where: str, context: _Context) -> None:
        full_name = _text(product, "name") or ""
        named = context.product or context.family
        versions: tuple[VersionRange, ...] = ()
        if context.version is not None and context.version_category is not None:
            versions = version_ranges(context.version, context.version_category)
        vendor = self._vendor(context.vendor, f"{full_name} {named or ''}")
        self._add(product, where, vendor, named or _without_version(full_name), versions)

    def _vendor(self, written: str | None, product_text: str) -> str:
        """The canonical vendor of a product: of a compound vendor branch ("Silex Technology
        and GE Healthcare") the part the product's names mention, else the first part."""
        if written is None:
            mentioned = self.vendors.mentioned_in(product_text)
            return mentioned[0] if mentioned else ""
        parts = self.vendors.parts(written)
        if len(parts) > 1:
            named = set(self.vendors.mentioned_in(product_text))
            return next((p for p in parts if p in named), parts[0])
        return parts[0] if parts else ""

    def _add(
        self,
        product: Any,
        where: str,
        vendor: str,
        name: str | None,
        versions: tuple[VersionRange, ...],
    ) -> None:
        product_id = _text(product, "product_id")
        if product_id is None:
            self.skip(where, "product without product_id")
            return
        if product_id in self.products:
            self.skip(where, f"product_id {product_id} defined twice: the first kept")
            return
        helper = _obj(product, "product_identification_helper")
        self.products[product_id] = AffectedProduct(
            vendor=vendor,
            product=name or _text(product, "name") or product_id,
            versions=versions,
            status="unknown",
            cpes=_texts(helper, "cpe"),
            purls=(*_texts(helper, "purl"), *_texts(helper, "purls")),
            product_id=product_id,
            model_numbers=_texts(helper, "model_numbers"),
        )

    def _relationship(self, relationship: Any, where: str) -> None:
        """A relationship names a new product: the referenced product as a component of,
        or installed on or with, another. It keeps the referenced product's vendor, name
        and versions; its own identification helper, when given, replaces theirs."""
        reference = _text(relationship, "product_reference")
        full = _obj(relationship, "full_product_name")
        if reference is None or full is None:
            self.skip(where, "relationship without product_reference or full_product_name")
            return
        base = self.products.get(reference)
        if base is None:
            self.skip(where, f"relationship refers to unknown product {reference}")
            return
        product_id = _text(full, "product_id")
        if product_id is None:
            self.skip(f"{where}.full_product_name", "product without product_id")
            return
        if product_id in self.products:
            self.skip(where, f"product_id {product_id} defined twice: the first kept")
            return
        helper = _obj(full, "product_identification_helper")
        cpes = _texts(helper, "cpe")
        purls = (*_texts(helper, "purl"), *_texts(helper, "purls"))
        self.products[product_id] = replace(
            base,
            product_id=product_id,
            cpes=cpes or base.cpes,
            purls=purls or base.purls,
            model_numbers=_texts(helper, "model_numbers") or base.model_numbers,
        )

    def _product_ids(self, obj: Any, where: str) -> tuple[str, ...]:
        """``product_ids`` and the members of ``group_ids`` of an object, known ones only."""
        found: list[str] = []
        for key in ("product_ids", "products"):
            for i, product_id in enumerate(_items(obj, key)):
                if not isinstance(product_id, str) or product_id not in self.products:
                    self.skip(f"{where}.{key}[{i}]", f"unknown product id {str(product_id)[:60]!r}")
                elif product_id not in found:
                    found.append(product_id)
        for i, group_id in enumerate(_items(obj, "group_ids")):
            members = self.groups.get(group_id) if isinstance(group_id, str) else None
            if members is None:
                self.skip(
                    f"{where}.group_ids[{i}]", f"unknown product group {str(group_id)[:60]!r}"
                )
                continue
            found.extend(m for m in members if m in self.products and m not in found)
        return tuple(found)

    # vulnerabilities

    def _vulnerability(self, vulnerability: Any, where: str) -> AdvisoryVulnerability | None:
        if not isinstance(vulnerability, dict):
            self.skip(where, "vulnerability is not an object")
            return None
        cve_id = self._cve(vulnerability, where)
        cwe = _obj(vulnerability, "cwe")
        cwes = tuple(
            dict.fromkeys(
                c
                for c in (
                    _text(cwe, "id"),
                    *(_text(w, "id") for w in _items(vulnerability, "cwes")),
                )
                if c is not None
            )
        )
        return AdvisoryVulnerability(
            cve_id=cve_id,
            title=_text(vulnerability, "title"),
            cwes=cwes,
            metrics=self._metrics(vulnerability, where),
            products=self._statuses(vulnerability, where),
            remediations=self._remediations(vulnerability, where),
            notes=tuple(
                text
                for note in _items(vulnerability, "notes")
                if _text(note, "category") in NOTE_CATEGORIES and (text := _text(note, "text"))
            ),
            release_date=_datetime(vulnerability.get("release_date")),
        )

    def _cve(self, vulnerability: dict[str, Any], where: str) -> CveId | None:
        value = vulnerability.get("cve")
        if value is None:
            return None
        if isinstance(value, str) and _CVE.match(value.strip()):
            return CveId(value.strip().upper())
        self.skip(f"{where}.cve", f"not a CVE id: {str(value)[:40]!r}; entry kept without one")
        return None

    def _statuses(
        self, vulnerability: dict[str, Any], where: str
    ) -> tuple[tuple[str, ProductStatus], ...]:
        groups = _obj(vulnerability, "product_status") or {}
        pairs: dict[tuple[str, ProductStatus], None] = {}
        for group, status in STATUS_GROUPS.items():
            if group in groups:
                for product_id in self._product_ids(
                    {"product_ids": groups[group]}, f"{where}.product_status.{group}"
                ):
                    pairs[(product_id, status)] = None
        return tuple(pairs)

    def _metrics(self, vulnerability: dict[str, Any], where: str) -> tuple[CvssMetric, ...]:
        """The scores, each with the products it is for (``scores[].products``); one metric
        per vector, score and set of products."""
        metrics: dict[tuple[str, str, float, frozenset[str]], CvssMetric] = {}
        for i, score in enumerate(_items(vulnerability, "scores")):
            keys = [key for key in ("cvss_v4", "cvss_v3", "cvss_v2") if key in _obj_or_empty(score)]
            if not keys:
                continue
            at = f"{where}.scores[{i}]"
            products = self._product_ids({"products": score.get("products")}, at)
            for key in keys:
                found = self._metric(score[key], key)
                if isinstance(found, str):
                    self.skip(f"{at}.{key}", found)
                    continue
                found = replace(found, products=products)
                metrics.setdefault(_metric_key(found), found)
        if not any(m.version == "4.0" for m in metrics.values()):
            # CISA's advisories state the CVSS 4.0 vector in a FIRST calculator link (for
            # the vulnerability: no products).
            for reference in _items(vulnerability, "references"):
                vector = _cvss4_in_url(_text(reference, "url"))
                if vector is not None:
                    found = self._metric({"vectorString": vector}, "cvss_v4")
                    if isinstance(found, CvssMetric):
                        metrics.setdefault(_metric_key(found), found)
        return tuple(metrics.values())

    def _metric(self, value: Any, key: str) -> CvssMetric | str:
        """A checked metric, or why it was refused."""
        vector = _text(value, "vectorString")
        if vector is None:
            return "score without vectorString"
        parser: Callable[[str], Any] = {"cvss_v2": CVSS2, "cvss_v3": CVSS3, "cvss_v4": CVSS4}[key]
        try:
            parsed = parser(vector)
        except _CVSS_ERRORS as exc:
            return f"invalid vector {vector[:80]!r}: {exc}"
        version = {"cvss_v2": "2.0", "cvss_v4": "4.0"}.get(key)
        if version is None:
            version = "3.1" if vector.startswith("CVSS:3.1/") else "3.0"
        stated = _number(value.get("baseScore"))
        if "baseScore" in value and stated is None:
            return f"baseScore {str(value.get('baseScore'))[:20]!r} is not a number from 0 to 10"
        score = stated if stated is not None else float(parsed.base_score)
        severity = _text(value, "baseSeverity")
        if severity is None and key == "cvss_v4":
            severity = str(parsed.severity)
        return CvssMetric(
            version=version,
            vector=vector,
            base_score=score,
            severity=severity.upper() if severity else None,
            source=self.publisher or None,
        )

    def _remediations(self, vulnerability: dict[str, Any], where: str) -> tuple[Remediation, ...]:
        found: list[Remediation] = []
        for i, remediation in enumerate(_items(vulnerability, "remediations")):
            at = f"{where}.remediations[{i}]"
            category = _text(remediation, "category")
            details = _text(remediation, "details")
            if category not in REMEDIATION_CATEGORIES or details is None:
                self.skip(at, f"remediation without a known category or details ({category!r})")
                continue
            found.append(
                Remediation(
                    category=category,
                    details=details,
                    product_ids=self._product_ids(remediation, at),
                    url=_text(remediation, "url"),
                    date=_datetime(remediation.get("date")),
                )
            )
        return tuple(found)

    # VEX

    def vex_statements(self, top: dict[str, Any], advisory: Advisory) -> Iterator[VexStatement]:
        """One statement per CVE and product status of a ``csaf_vex`` document: the flag
        label as justification, the impact statement (else the remediation) as detail, the
        product id and its purls and CPEs as refs."""
        raw = top.get("vulnerabilities")
        entries = raw if isinstance(raw, list) else []
        read = iter(advisory.vulnerabilities)
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue  # reported when the advisory was read
            vulnerability = next(read)
            where = f"$.vulnerabilities[{i}]"
            if vulnerability.cve_id is None:
                if vulnerability.products:
                    self.skip(where, "VEX entry without a CVE id: no statements")
                continue
            labels = self._by_product(entry, "flags", "label", f"{where}.flags")
            impacts = self._by_product(
                {
                    "threats": [
                        t for t in _items(entry, "threats") if _text(t, "category") == "impact"
                    ]
                },
                "threats",
                "details",
                f"{where}.threats",
            )
            actions: dict[str, str] = {}
            for remediation in vulnerability.remediations:
                for product_id in remediation.product_ids:
                    actions.setdefault(product_id, remediation.details)
            for product_id, status in vulnerability.products:
                product = self.products[product_id]
                yield VexStatement(
                    cve_id=vulnerability.cve_id,
                    status=status,
                    justification=labels.get(product_id),
                    detail=impacts.get(product_id) or actions.get(product_id),
                    refs=tuple(dict.fromkeys((product_id, *product.purls, *product.cpes))),
                    source=advisory.tracking_id,
                )

    def _by_product(self, entry: Any, key: str, field: str, where: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for i, item in enumerate(_items(entry, key)):
            value = _text(item, field)
            if value is None:
                continue
            for product_id in self._product_ids(item, f"{where}[{i}]"):
                found.setdefault(product_id, value)
        return found


def _metric_key(metric: CvssMetric) -> tuple[str, str, float, frozenset[str]]:
    """Metrics alike: the same vector and score for the same products (in any order)."""
    return (metric.version, metric.vector, metric.base_score, frozenset(metric.products))


def _obj_or_empty(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _cvss4_in_url(url: str | None) -> str | None:
    match = _CVSS4_IN_URL.search(url) if url else None
    return match.group(1) if match else None


def _self_url(document: dict[str, Any]) -> str | None:
    """The ``self`` reference: the human-readable one when the document names several
    (CISA names its JSON file and its web page)."""
    urls = [
        url
        for reference in _items(document, "references")
        if _text(reference, "category") == "self" and (url := _text(reference, "url"))
    ]
    readable = [u for u in urls if not u.lower().endswith(".json")]
    for url in (*readable, *urls):
        return url
    return None


def _without_version(full_name: str) -> str:
    """A full product name without the ": <versions>" CISA appends."""
    head, sep, _ = full_name.rpartition(": ")
    return head.strip() if sep and head.strip() else full_name


# -- free-text versions ---------------------------------------------------------------------------

_PLAIN_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.+~:\-]*$")
_WILDCARD = re.compile(r"(?:^|\.)[xX*](?:$|\.)")


def version_ranges(text: str, category: str = "product_version_range") -> tuple[VersionRange, ...]:
    """The versions a CSAF branch name covers. A ``product_version`` that is one plain token
    (``3.6.7``, ``BT06``, ``IPv4``) is that exact version. Anything else is read by
    ``assess.versions.ranges_from_text`` ("2.3.6 and below", ">= 1.3 | <= 3.1", "2.X",
    ``vers:all/*``) after a note in parentheses at its end is set aside ("<= 1.54
    (integrated into GE MobileLink)", "* (end-of-life 2011)"); ``raw`` keeps the text as
    written."""
    raw = text.strip()
    collapsed = " ".join(raw.split())
    if not collapsed:
        return ()
    plain = _PLAIN_VERSION.match(collapsed) and not _WILDCARD.search(collapsed)
    if category == "product_version" and plain:
        return (VersionRange(version=collapsed),)
    return tuple(replace(r, raw=raw) for r in ranges_from_text(_without_trailing_note(collapsed)))


def _without_trailing_note(text: str) -> str:
    """Text without its one parenthesised note at the end ("<= 1.54 (integrated into GE
    MobileLink)", "6.x (Wireless Battery Modules (16 | ...": an unclosed one runs to the
    end); unchanged when it has no such note, or several."""
    depth, groups, start = 0, 0, -1
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                groups += 1
                start = i
            depth += 1
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth == 0 and text[i + 1 :].strip():
                return text  # text after the group: it is no trailing note
    if groups != 1 or start <= 0:
        return text
    return text[:start].strip() or text
