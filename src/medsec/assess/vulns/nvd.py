"""NVD CVE API 2.0 JSON: API responses, NVD's ``nvdcve-2.0-*.json`` feed files, single
``cve`` objects (one per file, as in per-CVE mirrors).

An API response or feed file (``{"format": "NVD_CVE", "version": "2.0", ...,
"vulnerabilities": [{"cve": {...}}, ...]}``, gzip-compressed or not) is streamed: each
``cve`` is read and handed over on its own, so the whole NVD (about 300,000 CVEs, several
GB) is read in the memory of one record. A file holding one ``cve`` object (or one
``{"cve": {...}}`` item) gives one record. A header whose ``format`` is not ``NVD_CVE`` or
whose ``version`` is not 2.x stops the file (``FeedFormatError``).

Each ``cve`` becomes a ``Vulnerability`` with source ``nvd``: ``id``, ``sourceIdentifier``
(assigner), ``published``/``lastModified`` (UTC), ``vulnStatus`` (``Rejected`` CVEs are
yielded too, with that status), the English description, ``metrics`` (``cvssMetricV40``,
``V31``, ``V30``, ``V2`` in that order; ``Primary`` = NVD's own analysis), ``weaknesses``
(CWE ids; ``NVD-CWE-Other``/``NVD-CWE-noinfo`` left out), ``configurations`` flattened to
``CpeMatch`` values (configuration and node index, both operators, node ``negate``, the four
version bounds), ``references`` (one per URL, tags of its sources merged) and the CNA's
``affected`` block NVD sometimes carries (read as CVE 5 ``affected``). NVD's copies of KEV
data (``cisaExploitAdd``...) are left to the KEV reader.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import ClassVar, Final, Literal

from medsec.assess.vulns.cve5 import affected_products, collect_references
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
    get_bool,
    get_object,
    get_text,
    get_timestamp,
    head_matches,
    need_bool,
    need_object,
    need_score,
    need_text,
    parse_cve_id,
)
from medsec.model.vulns import AffectedProduct, CpeMatch, CvssMetric, Reference, Vulnerability

logger = logging.getLogger(__name__)

SOURCE: Final = "nvd"

METRIC_KEYS: Final = (
    ("cvssMetricV40", "4.0"),
    ("cvssMetricV31", "3.1"),
    ("cvssMetricV30", "3.0"),
    ("cvssMetricV2", "2.0"),
)
"""Members of ``metrics`` read, newest CVSS version first, and the version each holds."""

_RESPONSE_HEAD: Final = re.compile(
    rb'"format"\s*:\s*"NVD_CVE"|"vulnerabilities"\s*:\s*\[\s*\{\s*"cve"\s*:\s*\{'
)
_CVE_HEAD: Final = re.compile(rb'"id"\s*:\s*"CVE-\d{4}-\d+"')
_CVE_FIELD_HEAD: Final = re.compile(rb'"(?:sourceIdentifier|vulnStatus|lastModified)"\s*:')
_CVE5_HEAD: Final = re.compile(rb'"cveMetadata"\s*:|"dataType"\s*:\s*"CVE_RECORD"')
_OPERATORS: Final[dict[str, Literal["OR", "AND"]]] = {"OR": "OR", "AND": "AND"}


class NvdReader:
    """NVD CVE API 2.0 responses and feed files (streamed), or a single ``cve`` object."""

    name: ClassVar[str] = "nvd"

    def detect(self, head: bytes) -> bool:
        """A JSON object whose first bytes say ``"format": "NVD_CVE"`` or open
        ``"vulnerabilities": [{"cve": {`` (a CSAF document's ``"cve"`` is a string), or a
        ``cve`` object: ``"id": "CVE-..."`` with ``sourceIdentifier``, ``vulnStatus`` or
        ``lastModified`` (and no CVE 5 metadata)."""
        if head_matches(head, _RESPONSE_HEAD):
            return True
        return head_matches(head, _CVE_HEAD, _CVE_FIELD_HEAD) and not head_matches(head, _CVE5_HEAD)

    def read(self, path: Path, skipped: Skipped) -> Iterator[Vulnerability]:
        header: dict[str, object] = {}
        in_array = False
        with closing(document_parts(path, "vulnerabilities")) as parts:
            for part in parts:
                if isinstance(part, Member):
                    header[part.key] = part.value
                elif isinstance(part, Element):
                    record = _record_or_skip(path, part.value, part.where, skipped)
                    if record is not None:
                        yield record
                elif isinstance(part, BadElement):
                    skipped(SkippedRecord(path, part.where, part.reason))
                else:
                    in_array = True
                    _check_header(path, header)
        if in_array:
            return
        if "vulnerabilities" in header:
            raise FeedFormatError(path, "$.vulnerabilities", "expected an array")
        if "id" not in header and "cve" not in header:
            raise FeedFormatError(
                path, "$", "no vulnerabilities array and no CVE id: not NVD CVE API 2.0 JSON"
            )
        record = _record_or_skip(path, header, "$", skipped)
        if record is not None:
            yield record


def _check_header(path: Path, header: dict[str, object]) -> None:
    feed_format = header.get("format")
    if feed_format is not None and feed_format != "NVD_CVE":
        shown = feed_format[:40] if isinstance(feed_format, str) else feed_format
        raise FeedFormatError(path, "$.format", f"format {shown!r} is not NVD_CVE")
    version = header.get("version")
    if version is not None and not (isinstance(version, str) and version.startswith("2.")):
        shown = version[:20] if isinstance(version, str) else version
        raise FeedFormatError(path, "$.version", f"version {shown!r} is not 2.x")


def _record_or_skip(
    path: Path, value: object, where: str, skipped: Skipped
) -> Vulnerability | None:
    try:
        item = as_object(value, where)
        if "cve" in item:
            return parse_cve(item["cve"], f"{where}.cve")
        return parse_cve(item, where)
    except RecordError as err:
        skipped(SkippedRecord(path, err.where, err.reason))
        return None


def parse_cve(value: object, where: str = "$") -> Vulnerability:
    """One NVD ``cve`` object; raises ``RecordError`` naming the faulty field."""
    cve = as_object(value, where)
    cve_id = parse_cve_id(need_text(cve, "id", where), f"{where}.id")
    affected: tuple[AffectedProduct, ...] = ()
    for index, block in enumerate(get_array(cve, "affected", where)):
        block_where = f"{where}.affected[{index}]"
        entries = get_array(as_object(block, block_where), "affectedData", block_where)
        affected += affected_products(entries, f"{block_where}.affectedData")
    return Vulnerability(
        cve_id=cve_id,
        source=SOURCE,
        description=english(get_array(cve, "descriptions", where), f"{where}.descriptions"),
        published=get_timestamp(cve, "published", where),
        last_modified=get_timestamp(cve, "lastModified", where),
        status=get_text(cve, "vulnStatus", where),
        cwes=_cwes(cve, where),
        metrics=_metrics(cve, where),
        cpe_matches=_cpe_matches(cve, where),
        affected=affected,
        references=_references(cve, where),
        assigner=get_text(cve, "sourceIdentifier", where),
    )


def _metrics(cve: dict[str, object], where: str) -> tuple[CvssMetric, ...]:
    metrics = get_object(cve, "metrics", where)
    if metrics is None:
        return ()
    found: list[CvssMetric] = []
    for key, version in METRIC_KEYS:
        for index, entry in enumerate(get_array(metrics, key, f"{where}.metrics")):
            entry_where = f"{where}.metrics.{key}[{index}]"
            metric = as_object(entry, entry_where)
            data = need_object(metric, "cvssData", entry_where)
            data_where = f"{entry_where}.cvssData"
            severity = get_text(data, "baseSeverity", data_where) or get_text(
                metric, "baseSeverity", entry_where
            )
            found.append(
                CvssMetric(
                    version=get_text(data, "version", data_where) or version,
                    vector=need_text(data, "vectorString", data_where),
                    base_score=need_score(data, "baseScore", data_where),
                    severity=severity,
                    source=get_text(metric, "source", entry_where),
                    primary=get_text(metric, "type", entry_where) == "Primary",
                )
            )
    return tuple(found)


def _cwes(cve: dict[str, object], where: str) -> tuple[str, ...]:
    found: list[str] = []
    for index, entry in enumerate(get_array(cve, "weaknesses", where)):
        entry_where = f"{where}.weaknesses[{index}]"
        weakness = as_object(entry, entry_where)
        for number, item in enumerate(get_array(weakness, "description", entry_where)):
            item_where = f"{entry_where}.description[{number}]"
            found.extend(cwe_ids(get_text(as_object(item, item_where), "value", item_where) or ""))
    return tuple(dict.fromkeys(found))


def _operator(node: dict[str, object], where: str) -> Literal["OR", "AND"]:
    text = get_text(node, "operator", where)
    if text is None:
        return "OR"
    operator = _OPERATORS.get(text.upper())
    if operator is None:
        raise RecordError(f"{where}.operator", f"operator {text[:20]!r} is neither OR nor AND")
    return operator


def _cpe_matches(cve: dict[str, object], where: str) -> tuple[CpeMatch, ...]:
    found: list[CpeMatch] = []
    for config_index, entry in enumerate(get_array(cve, "configurations", where)):
        config_where = f"{where}.configurations[{config_index}]"
        configuration = as_object(entry, config_where)
        configuration_operator = _operator(configuration, config_where)
        for node_index, node_entry in enumerate(get_array(configuration, "nodes", config_where)):
            node_where = f"{config_where}.nodes[{node_index}]"
            node = as_object(node_entry, node_where)
            node_operator = _operator(node, node_where)
            negate = get_bool(node, "negate", node_where, False)
            for match_index, match_entry in enumerate(get_array(node, "cpeMatch", node_where)):
                match_where = f"{node_where}.cpeMatch[{match_index}]"
                match = as_object(match_entry, match_where)
                criteria = need_text(match, "criteria", match_where)
                if not criteria.startswith("cpe:2.3:"):
                    raise RecordError(f"{match_where}.criteria", "not a CPE 2.3 name")
                found.append(
                    CpeMatch(
                        criteria=criteria,
                        vulnerable=need_bool(match, "vulnerable", match_where),
                        configuration=config_index,
                        node=node_index,
                        node_operator=node_operator,
                        configuration_operator=configuration_operator,
                        negate=negate,
                        version_start_including=get_text(
                            match, "versionStartIncluding", match_where
                        ),
                        version_start_excluding=get_text(
                            match, "versionStartExcluding", match_where
                        ),
                        version_end_including=get_text(match, "versionEndIncluding", match_where),
                        version_end_excluding=get_text(match, "versionEndExcluding", match_where),
                    )
                )
    return tuple(found)


def _references(cve: dict[str, object], where: str) -> tuple[Reference, ...]:
    tags_by_url: dict[str, list[str]] = {}
    collect_references(cve, where, tags_by_url)
    return tuple(Reference(url, tuple(tags)) for url, tags in tags_by_url.items())
