"""NVD, CVE 5, KEV and EPSS readers under hostile input.

Arbitrary bytes, byte-mutated real feeds (the NVD and CVE 5 records and the KEV catalog of
shared/data, plain and gzip-compressed) and structurally mutated real records (any member
replaced by any JSON value, or removed) give records whose fields have their types, skips
that name the file and a JSON path or line, or a ``FeedFormatError`` naming the file -
nothing else, no warning (pytest turns warnings into errors), no hang; ``detect`` only ever
answers a bool. A structurally mutated record is read or skipped, and only it: every other
record of the file still comes through.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsec.assess.vulns.cve5 import Cve5Reader
from medsec.assess.vulns.epss import EpssReader
from medsec.assess.vulns.interface import HEAD_BYTES, FeedFormatError, FeedReader, SkippedRecord
from medsec.assess.vulns.kev import KevReader
from medsec.assess.vulns.nvd import NvdReader
from medsec.model.vulns import (
    AffectedProduct,
    CvssMetric,
    EpssScore,
    FeedRecord,
    KevEntry,
    Vulnerability,
)

EXAMPLES = int(os.environ.get("MEDSEC_PROPERTY_EXAMPLES", "150"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
READERS: tuple[FeedReader, ...] = (NvdReader(), Cve5Reader(), KevReader(), EpssReader())
STATUSES = {"affected", "not_affected", "fixed", "under_investigation", "unknown", "recommended"}

DATA = Path(os.environ.get("MEDSEC_SHARED_DATA", Path(__file__).parents[3] / "shared" / "data"))
ADVISORIES = DATA / "advisories"
needs_data = pytest.mark.skipif(not ADVISORIES.is_dir(), reason=f"no shared test data at {DATA}")


def _load(folder: str) -> list[Any]:
    if not ADVISORIES.is_dir():
        return []
    files = sorted((ADVISORIES / folder).glob("*.json"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in files]


NVD_CVES = _load("nvd_cve_json2")
CVE5_RECORDS = _load("cvelist_v5")


def _kev_sample() -> tuple[dict[str, Any], str]:
    """The real catalog's header and first 25 entries, as JSON and as CSV lines."""
    if not ADVISORIES.is_dir():
        return {}, ""
    folder = ADVISORIES / "cisa_kev"
    catalog = json.loads((folder / "known_exploited_vulnerabilities.json").read_text("utf-8"))
    catalog["vulnerabilities"] = catalog["vulnerabilities"][:25]
    catalog["count"] = 25
    lines = (folder / "known_exploited_vulnerabilities.csv").read_text("utf-8").splitlines()
    return catalog, "\n".join(lines[:26]) + "\n"


KEV_JSON, KEV_CSV = _kev_sample()


def nvd_response(cves: list[Any]) -> dict[str, Any]:
    return {
        "resultsPerPage": len(cves),
        "startIndex": 0,
        "totalResults": len(cves),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-11-22T00:00:00.000",
        "vulnerabilities": [{"cve": cve} for cve in cves],
    }


def real_documents() -> list[bytes]:
    """The real feeds as bytes: single NVD and CVE 5 records, an NVD response of all NVD
    records, a CVE 5 bundle, the KEV sample as JSON and CSV, an EPSS file."""
    if not ADVISORIES.is_dir():
        return []
    documents = [json.dumps(d, indent=1).encode() for d in NVD_CVES + CVE5_RECORDS]
    documents.append(json.dumps(nvd_response(NVD_CVES)).encode())
    documents.append(json.dumps(CVE5_RECORDS).encode())
    documents.append(json.dumps(KEV_JSON, indent=2).encode())
    documents.append(KEV_CSV.encode())
    documents.append(EPSS.encode())
    return documents


EPSS = (
    "#model_version:v2025.03.14,score_date:2025-06-01T00:00:00+0000\n"
    "cve,epss,percentile\n"
    "CVE-2019-0708,0.94440,0.99970\n"
    "CVE-2022-2119,0.00162,0.38311\n"
    '"CVE-2022-43272","0.00091","0.26470"\n'
)
REAL = real_documents()


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="medsec-feeds-") as folder:
        yield Path(folder)


# -- what every record and skip must look like ------------------------------------------------


def check_text(value: object, *, optional: bool = True) -> None:
    if value is None:
        assert optional
        return
    assert isinstance(value, str) and value == value.strip()


def check_time(value: datetime | None) -> None:
    assert value is None or (isinstance(value, datetime) and value.tzinfo is UTC)


def check_metric(metric: CvssMetric) -> None:
    assert isinstance(metric.vector, str) and metric.vector
    assert isinstance(metric.base_score, float) and 0.0 <= metric.base_score <= 10.0
    assert metric.version in {"2.0", "3.0", "3.1", "4.0"} or isinstance(metric.version, str)
    check_text(metric.severity)
    check_text(metric.source)
    assert isinstance(metric.primary, bool)


def check_product(product: AffectedProduct) -> None:
    assert isinstance(product.vendor, str) and isinstance(product.product, str)
    assert product.vendor or product.product
    assert product.status in STATUSES
    for version in product.versions:
        for text in (version.version, version.less_than, version.less_than_or_equal):
            check_text(text)
    assert all(isinstance(c, str) and c for c in product.cpes + product.purls)


def check_vulnerability(record: Vulnerability) -> None:
    assert record.cve_id.startswith("CVE-") and record.cve_id == record.cve_id.upper()
    assert record.source in ("nvd", "cve5")
    check_text(record.description, optional=False)
    check_time(record.published)
    check_time(record.last_modified)
    for text in (record.status, record.assigner, record.title):
        check_text(text)
    assert all(c.startswith("CWE-") for c in record.cwes)
    assert len(set(record.cwes)) == len(record.cwes)
    for metric in record.metrics:
        check_metric(metric)
    for match in record.cpe_matches:
        assert match.criteria.startswith("cpe:2.3:") and isinstance(match.vulnerable, bool)
        assert match.node_operator in ("OR", "AND")
        assert match.configuration_operator in ("OR", "AND")
        assert isinstance(match.negate, bool)
        assert match.configuration >= 0 and match.node >= 0
    for product in record.affected:
        check_product(product)
    urls = [r.url for r in record.references]
    assert len(set(urls)) == len(urls) and all(urls)


def check_record(record: FeedRecord) -> None:
    if isinstance(record, Vulnerability):
        check_vulnerability(record)
    elif isinstance(record, KevEntry):
        assert record.cve_id.startswith("CVE-")
        assert isinstance(record.date_added, date)
        assert record.due_date is None or isinstance(record.due_date, date)
        assert record.known_ransomware in (True, None)
        assert all(c.startswith("CWE-") for c in record.cwes)
        for text in (record.vendor, record.product, record.name, record.required_action):
            check_text(text, optional=False)
    elif isinstance(record, EpssScore):
        assert record.cve_id.startswith("CVE-")
        assert 0.0 <= record.score <= 1.0 and 0.0 <= record.percentile <= 1.0
        assert math.isfinite(record.score)
    else:  # pragma: no cover - these readers yield nothing else
        pytest.fail(f"unexpected record {type(record).__name__}")


def read_with(
    reader: FeedReader, path: Path
) -> tuple[list[FeedRecord], list[SkippedRecord], FeedFormatError | None]:
    records: list[FeedRecord] = []
    skipped: list[SkippedRecord] = []
    error: FeedFormatError | None = None
    try:
        records.extend(reader.read(path, skipped.append))
    except FeedFormatError as caught:
        error = caught
        assert caught.path == path and caught.where and caught.reason
    for record in records:
        check_record(record)
    for skip in skipped:
        assert skip.path == path and skip.reason
        assert skip.where.startswith("$") or skip.where.startswith("line ")
    return records, skipped, error


def read_all(path: Path, content: bytes) -> None:
    """Every reader gives well-typed records, skips and at most a FeedFormatError."""
    path.write_bytes(content)
    for reader in READERS:
        assert isinstance(reader.detect(content[:HEAD_BYTES]), bool)
        read_with(reader, path)


# -- arbitrary and mutated bytes --------------------------------------------------------------


@PROPERTY
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(scratch: Path, content: bytes) -> None:
    read_all(scratch / "arbitrary", content)
    read_all(scratch / "arbitrary.gz", gzip.compress(content))


@PROPERTY
@given(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b'{"vulnerabilities": [',
            b'{"format": "NVD_CVE", "vulnerabilities": [{"cve": ',
            b"[",
            b'{"cveMetadata": ',
            b'{"catalogVersion": "1", "vulnerabilities": [',
            b"cve,epss,percentile\n",
            b"cveID,vendorProject,product,dateAdded\n",
        ]
    ),
)
def test_arbitrary_bytes_after_a_format_opening(scratch: Path, tail: bytes, opening: bytes) -> None:
    read_all(scratch / "opened", opening + tail)


@needs_data
@PROPERTY
@given(st.data())
def test_byte_mutated_real_feeds(scratch: Path, data: st.DataObject) -> None:
    content = bytearray(data.draw(st.sampled_from(REAL), label="document"))
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        position = data.draw(st.integers(0, len(content)), label="position")
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]), label="kind")
        if kind == "flip" and position < len(content):
            content[position] = data.draw(st.integers(0, 255), label="byte")
        elif kind == "insert":
            content[position:position] = data.draw(
                st.sampled_from(
                    [
                        b"[",
                        b"{",
                        b"]",
                        b"}",
                        b'"',
                        b",",
                        b":",
                        b"\\",
                        b"1e999",
                        b"null",
                        b"\xff",
                        b"\x00",
                        b"\n",
                        b'"x":',
                    ]
                ),
                label="insert",
            )
        elif kind == "delete":
            del content[position : position + data.draw(st.integers(1, 40), label="length")]
        else:
            del content[position:]
    compressed = data.draw(st.booleans(), label="gzip")
    read_all(scratch / "mutated", gzip.compress(bytes(content)) if compressed else bytes(content))


# -- structurally mutated records -------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["CVE-2024-0001", "cpe:2.3:a:x:y:*:*:*:*:*:*:*:*", "2024-01-01", "OR"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=8,
)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every member and element path inside ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths_of(item, (*prefix, index))


def mutate(document: Any, path: tuple[Any, ...], replacement: Any, remove: bool) -> Any:
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if remove:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return copy


@needs_data
@PROPERTY
@given(st.data())
def test_structurally_mutated_nvd_record_affects_only_itself(
    scratch: Path, data: st.DataObject
) -> None:
    document = nvd_response(NVD_CVES)
    index = data.draw(st.integers(0, len(NVD_CVES) - 1), label="record")
    paths = list(paths_of(document["vulnerabilities"][index], ("vulnerabilities", index)))
    path = data.draw(st.sampled_from(paths), label="path")
    mutated = mutate(
        document,
        path,
        data.draw(JSON_VALUES, label="value"),
        data.draw(st.booleans(), label="remove"),
    )
    file = scratch / "nvd.json"
    file.write_text(json.dumps(mutated), encoding="utf-8")
    records, skipped, error = read_with(NvdReader(), file)
    assert error is None
    assert len(records) + len(skipped) == len(NVD_CVES)
    assert all(s.where.startswith(f"$.vulnerabilities[{index}]") for s in skipped)
    others = [r.cve_id for r in records if r.cve_id != NVD_CVES[index]["id"]]
    assert others == [c["id"] for i, c in enumerate(NVD_CVES) if i != index]


@needs_data
@PROPERTY
@given(st.data())
def test_structurally_mutated_cve5_record_affects_only_itself(
    scratch: Path, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(CVE5_RECORDS) - 1), label="record")
    paths = list(paths_of(CVE5_RECORDS[index], (index,)))
    path = data.draw(st.sampled_from(paths), label="path")
    mutated = mutate(
        CVE5_RECORDS,
        path,
        data.draw(JSON_VALUES, label="value"),
        data.draw(st.booleans(), label="remove"),
    )
    file = scratch / "bundle.json"
    file.write_text(json.dumps(mutated), encoding="utf-8")
    records, skipped, error = read_with(Cve5Reader(), file)
    assert error is None
    assert len(records) + len(skipped) == len(CVE5_RECORDS)
    assert all(s.where.startswith(f"$[{index}]") for s in skipped)
    # The same record alone in its file: read or skipped (never a FeedFormatError unless its
    # top level is no longer a CVE record at all).
    file.write_text(json.dumps(mutated[index]), encoding="utf-8")
    records, skipped, error = read_with(Cve5Reader(), file)
    assert len(records) + len(skipped) == 1 or (error is not None and error.where == "$")


@needs_data
@PROPERTY
@given(st.data())
def test_structurally_mutated_kev_entry_affects_only_itself(
    scratch: Path, data: st.DataObject
) -> None:
    entries = KEV_JSON["vulnerabilities"]
    index = data.draw(st.integers(0, len(entries) - 1), label="entry")
    paths = list(paths_of(entries[index], ("vulnerabilities", index)))
    path = data.draw(st.sampled_from(paths), label="path")
    mutated = mutate(
        KEV_JSON,
        path,
        data.draw(JSON_VALUES, label="value"),
        data.draw(st.booleans(), label="remove"),
    )
    file = scratch / "kev.json"
    file.write_text(json.dumps(mutated), encoding="utf-8")
    records, skipped, error = read_with(KevReader(), file)
    assert error is None
    assert len(records) + len(skipped) == len(entries)
    assert all(s.where.startswith(f"$.vulnerabilities[{index}]") for s in skipped)


@PROPERTY
@given(
    st.lists(
        st.tuples(
            st.text(alphabet='CVE-0123456789xX, "', max_size=20),
            st.text(alphabet='0123456789.-eE+naifNI ,"', max_size=10),
            st.text(alphabet="0123456789.-eE+naif ", max_size=10),
        ),
        max_size=30,
    ),
    st.booleans(),
)
def test_random_epss_rows(
    scratch: Path, rows: list[tuple[str, str, str]], with_comment: bool
) -> None:
    lines = ["#model_version:v1,score_date:2025-06-01"] if with_comment else []
    lines += ["cve,epss,percentile", *(",".join(row) for row in rows)]
    file = scratch / "epss.csv"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records, skipped, error = read_with(EpssReader(), file)
    assert error is None
    assert all(s.where.startswith("line ") for s in skipped)
    assert len(records) <= len(rows)
