"""CVE JSON 5 records (the CVE program's format, ``cvelistV5``; schema 5.0 and 5.1).

A file is one record (``{"dataType": "CVE_RECORD", "cveMetadata": ..., "containers": ...}``)
or a JSON array of records, streamed. Each record becomes a ``Vulnerability`` with source
``cve5``:

* ``cveMetadata``: ``cveId``, ``state`` (``PUBLISHED``/``REJECTED``, kept as written),
  ``datePublished``, ``dateUpdated``, ``assignerShortName``;
* the CNA container (``containers.cna``): ``title``, the English description (of a rejected
  record: its ``rejectedReasons``), ``affected`` products;
* the CNA's and every ADP's (CISA-ADP, the CVE Program container) ``metrics``
  (``cvssV4_0``, ``cvssV3_1``, ``cvssV3_0``, ``cvssV2_0``; the CNA's count as primary, an
  ADP's as secondary, each with the container's short name as source), ``problemTypes``
  (CWE ids) and ``references`` (one per URL, tags merged); ADPs' ``affected`` products too.

``affected`` entries become ``AffectedProduct`` values (``affected_products``, also used for
the same block inside NVD records): one per product and status that its ``versions[]``
state (``affected``, ``unaffected`` -> ``not_affected``, ``unknown``), each ``versions[]``
entry a ``VersionRange`` (``version``, ``lessThan``, ``lessThanOrEqual``, ``versionType``; a
start written as ``unspecified``, ``n/a``, ``*``, ``-`` or blank before an upper bound
becomes ``0``, "from the first"; ``lessThan: "*"`` - no upper bound - is kept as ``*``). A
``defaultStatus`` of ``affected`` adds a product with that status covering all versions;
so does any ``defaultStatus`` of an entry without versions. The explicit version statements
should win over such a default. ``versions[].changes`` are not represented. ``cpes`` are
kept; ``collectionURL`` + ``packageName`` give a purl for the package registries it knows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import ClassVar, Final
from urllib.parse import urlsplit

from packageurl import PackageURL

from medsec.assess.vulns.interface import FeedFormatError, Skipped, SkippedRecord
from medsec.assess.vulns.jsonstream import (
    BadElement,
    Element,
    Member,
    RecordError,
    as_object,
    cwe_ids,
    document_parts,
    english,
    get_array,
    get_object,
    get_text,
    get_texts,
    get_timestamp,
    head_matches,
    need_object,
    need_score,
    need_text,
    parse_cve_id,
)
from medsec.model.vulns import (
    AffectedProduct,
    CvssMetric,
    ProductStatus,
    Reference,
    VersionRange,
    Vulnerability,
)

logger = logging.getLogger(__name__)

SOURCE: Final = "cve5"

_CVE5_HEAD: Final = re.compile(rb'"dataType"\s*:\s*"CVE_RECORD"|"cveMetadata"\s*:\s*\{')

METRIC_KEYS: Final = (
    ("cvssV4_0", "4.0"),
    ("cvssV3_1", "3.1"),
    ("cvssV3_0", "3.0"),
    ("cvssV2_0", "2.0"),
)
"""Keys of a ``metrics[]`` entry that hold a CVSS score, and their versions."""

VERSION_STATUS: Final[dict[str, ProductStatus]] = {
    "affected": "affected",
    "unaffected": "not_affected",
    "unknown": "unknown",
}
"""CVE 5 version statuses (and ``defaultStatus``) in the model's vocabulary."""

OPEN_START: Final = frozenset(("", "0", "*", "-", "unspecified", "n/a", "unknown", "all"))
"""How CNAs write "from the first version" before an upper bound."""

PURL_TYPES: Final = {
    "pypi.org": "pypi",
    "pypi.python.org": "pypi",
    "files.pythonhosted.org": "pypi",
    "registry.npmjs.org": "npm",
    "www.npmjs.com": "npm",
    "npmjs.com": "npm",
    "repo.maven.apache.org": "maven",
    "repo1.maven.org": "maven",
    "central.sonatype.com": "maven",
    "rubygems.org": "gem",
    "crates.io": "cargo",
    "pkg.go.dev": "golang",
    "proxy.golang.org": "golang",
    "www.nuget.org": "nuget",
    "nuget.org": "nuget",
    "api.nuget.org": "nuget",
    "packagist.org": "composer",
    "hex.pm": "hex",
    "pub.dev": "pub",
    "cocoapods.org": "cocoapods",
    "hackage.haskell.org": "hackage",
    "cran.r-project.org": "cran",
    "github.com": "github",
    "gitlab.com": "gitlab",
    "bitbucket.org": "bitbucket",
}
"""Package registries (``collectionURL`` hosts) and their purl types."""


class Cve5Reader:
    """CVE JSON 5 records: one per file, or a JSON array of them."""

    name: ClassVar[str] = "cve5"

    def detect(self, head: bytes) -> bool:
        """A JSON object or array naming ``"dataType": "CVE_RECORD"`` or holding a
        ``"cveMetadata"`` object in its first bytes (cvelistV5 files sort their keys, so
        ``cveMetadata`` may come after ``containers``: a record larger than the head whose
        key order puts both beyond it is not recognised)."""
        return head_matches(head, _CVE5_HEAD)

    def read(self, path: Path, skipped: Skipped) -> Iterator[Vulnerability]:
        header: dict[str, object] = {}
        in_array = False
        with closing(document_parts(path, None)) as parts:
            for part in parts:
                if isinstance(part, Member):
                    header[part.key] = part.value
                elif isinstance(part, Element):
                    in_array = True
                    record = _record_or_skip(path, part.value, part.where, skipped)
                    if record is not None:
                        yield record
                elif isinstance(part, BadElement):
                    skipped(SkippedRecord(path, part.where, part.reason))
                else:
                    in_array = True
        if in_array:
            return
        if "cveMetadata" not in header and header.get("dataType") != "CVE_RECORD":
            raise FeedFormatError(path, "$", "no cveMetadata: not a CVE JSON 5 record")
        record = _record_or_skip(path, header, "$", skipped)
        if record is not None:
            yield record


def _record_or_skip(
    path: Path, value: object, where: str, skipped: Skipped
) -> Vulnerability | None:
    try:
        return parse_record(value, where)
    except RecordError as err:
        skipped(SkippedRecord(path, err.where, err.reason))
        return None


def parse_record(value: object, where: str = "$") -> Vulnerability:
    """One CVE JSON 5 record; raises ``RecordError`` naming the faulty field."""
    record = as_object(value, where)
    data_type = get_text(record, "dataType", where)
    if data_type is not None and data_type != "CVE_RECORD":
        raise RecordError(f"{where}.dataType", f"{data_type[:40]!r} is not CVE_RECORD")
    data_version = get_text(record, "dataVersion", where)
    if data_version is not None and not data_version.startswith("5."):
        raise RecordError(f"{where}.dataVersion", f"version {data_version[:20]!r} is not 5.x")
    meta_where = f"{where}.cveMetadata"
    meta = need_object(record, "cveMetadata", where)
    cve_id = parse_cve_id(need_text(meta, "cveId", meta_where), f"{meta_where}.cveId")
    containers_where = f"{where}.containers"
    containers = need_object(record, "containers", where)
    cna_where = f"{containers_where}.cna"
    cna = need_object(containers, "cna", containers_where)
    adps = [
        (as_object(adp, f"{containers_where}.adp[{i}]"), f"{containers_where}.adp[{i}]")
        for i, adp in enumerate(get_array(containers, "adp", containers_where))
    ]
    description = english(get_array(cna, "descriptions", cna_where), f"{cna_where}.descriptions")
    if not description:
        reasons = get_array(cna, "rejectedReasons", cna_where)
        description = english(reasons, f"{cna_where}.rejectedReasons")
    metrics: list[CvssMetric] = []
    cwes: list[str] = []
    references: dict[str, list[str]] = {}
    affected: dict[AffectedProduct, None] = {}
    for container, container_where, primary in [(cna, cna_where, True)] + [
        (adp, adp_where, False) for adp, adp_where in adps
    ]:
        source = _short_name(container, container_where)
        metrics.extend(_metrics(container, container_where, source, primary))
        cwes.extend(_cwes(container, container_where))
        collect_references(container, container_where, references)
        entries = get_array(container, "affected", container_where)
        affected.update(dict.fromkeys(affected_products(entries, f"{container_where}.affected")))
    return Vulnerability(
        cve_id=cve_id,
        source=SOURCE,
        description=description,
        published=get_timestamp(meta, "datePublished", meta_where),
        last_modified=get_timestamp(meta, "dateUpdated", meta_where),
        status=get_text(meta, "state", meta_where),
        cwes=tuple(dict.fromkeys(cwes)),
        metrics=tuple(metrics),
        affected=tuple(affected),
        references=tuple(Reference(url, tuple(tags)) for url, tags in references.items()),
        assigner=get_text(meta, "assignerShortName", meta_where),
        title=get_text(cna, "title", cna_where),
    )


def _short_name(container: dict[str, object], where: str) -> str | None:
    provider = get_object(container, "providerMetadata", where)
    if provider is None:
        return None
    return get_text(provider, "shortName", f"{where}.providerMetadata")


def _metrics(
    container: dict[str, object], where: str, source: str | None, primary: bool
) -> Iterator[CvssMetric]:
    for index, entry in enumerate(get_array(container, "metrics", where)):
        entry_where = f"{where}.metrics[{index}]"
        metric = as_object(entry, entry_where)
        for key, version in METRIC_KEYS:
            data = get_object(metric, key, entry_where)
            if data is None:
                continue
            data_where = f"{entry_where}.{key}"
            yield CvssMetric(
                version=get_text(data, "version", data_where) or version,
                vector=need_text(data, "vectorString", data_where),
                base_score=need_score(data, "baseScore", data_where),
                severity=get_text(data, "baseSeverity", data_where),
                source=source,
                primary=primary,
            )


def _cwes(container: dict[str, object], where: str) -> Iterator[str]:
    for index, entry in enumerate(get_array(container, "problemTypes", where)):
        entry_where = f"{where}.problemTypes[{index}]"
        problem = as_object(entry, entry_where)
        for number, item in enumerate(get_array(problem, "descriptions", entry_where)):
            item_where = f"{entry_where}.descriptions[{number}]"
            description = as_object(item, item_where)
            cwe = get_text(description, "cweId", item_where)
            if cwe is not None:
                yield from cwe_ids(cwe)
            elif get_text(description, "type", item_where) == "CWE":
                yield from cwe_ids(get_text(description, "description", item_where) or "")


def collect_references(
    container: dict[str, object], where: str, references: dict[str, list[str]]
) -> None:
    """Add the ``references[]`` of ``container`` (CVE 5 or NVD: ``url``, ``tags``) to
    ``references``, tags by URL in first-seen order."""
    for index, entry in enumerate(get_array(container, "references", where)):
        entry_where = f"{where}.references[{index}]"
        reference = as_object(entry, entry_where)
        tags = references.setdefault(need_text(reference, "url", entry_where), [])
        for tag in get_texts(reference, "tags", entry_where):
            if tag not in tags:
                tags.append(tag)


def affected_products(entries: Sequence[object], where: str) -> tuple[AffectedProduct, ...]:
    """CVE 5 ``affected[]`` entries (``where`` is the array's path) as products per status."""
    products: list[AffectedProduct] = []
    for index, entry in enumerate(entries):
        entry_where = f"{where}[{index}]"
        products.extend(_affected_entry(as_object(entry, entry_where), entry_where))
    return tuple(products)


def _affected_entry(entry: dict[str, object], where: str) -> Iterator[AffectedProduct]:
    package = get_text(entry, "packageName", where)
    vendor = get_text(entry, "vendor", where) or ""
    product = get_text(entry, "product", where) or package or ""
    if not vendor and not product:
        raise RecordError(where, "names no vendor, product or packageName")
    cpes = get_texts(entry, "cpes", where)
    purl = package_url(get_text(entry, "collectionURL", where), package)
    purls = (purl,) if purl else ()
    default_text = get_text(entry, "defaultStatus", where) or "unknown"
    default = VERSION_STATUS.get(default_text.lower())
    if default is None:
        raise RecordError(f"{where}.defaultStatus", f"unknown status {default_text[:20]!r}")
    by_status: dict[ProductStatus, list[VersionRange]] = {}
    for index, item in enumerate(get_array(entry, "versions", where)):
        item_where = f"{where}.versions[{index}]"
        status, version_range = _version(as_object(item, item_where), item_where)
        by_status.setdefault(status, []).append(version_range)
    for status, ranges in by_status.items():
        yield AffectedProduct(vendor, product, tuple(ranges), status, cpes, purls)
    if default == "affected" or not by_status:
        everything = (VersionRange(all_versions=True),) if default != "unknown" else ()
        yield AffectedProduct(vendor, product, everything, default, cpes, purls)


def _version(item: dict[str, object], where: str) -> tuple[ProductStatus, VersionRange]:
    status_text = need_text(item, "status", where)
    status = VERSION_STATUS.get(status_text.lower())
    if status is None:
        raise RecordError(f"{where}.status", f"unknown status {status_text[:20]!r}")
    version = get_text(item, "version", where)
    less_than = get_text(item, "lessThan", where)
    less_than_or_equal = get_text(item, "lessThanOrEqual", where)
    bounded = less_than is not None or less_than_or_equal is not None
    if bounded and (version is None or version.lower() in OPEN_START):
        version = "0"
    if version is None:
        raise RecordError(f"{where}.version", "missing")
    return status, VersionRange(
        version=version,
        less_than=less_than,
        less_than_or_equal=less_than_or_equal,
        version_type=get_text(item, "versionType", where),
    )


def package_url(collection: str | None, package: str | None) -> str | None:
    """The purl of ``package`` in the registry at ``collection``, when the registry is one of
    ``PURL_TYPES`` and the name fits its purl type."""
    if not collection or not package:
        return None
    try:
        host = (urlsplit(collection).hostname or "").lower()
    except ValueError:
        return None
    purl_type = PURL_TYPES.get(host)
    if purl_type is None:
        return None
    namespace: str | None = None
    name = package.strip()
    if purl_type == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif purl_type in ("npm", "golang", "github", "gitlab", "bitbucket", "composer"):
        if "/" in name:
            namespace, name = name.rsplit("/", 1)
    if not name or (purl_type in ("github", "gitlab", "bitbucket", "composer") and not namespace):
        return None
    try:
        return str(PackageURL(type=purl_type, namespace=namespace, name=name).to_string())
    except ValueError:
        return None
