"""CSAF reader under hostile input.

Arbitrary bytes, byte-mutated real advisories, real advisories with any member replaced by any
JSON value, and spec-shaped documents built from random values give ``Advisory`` (and
``VexStatement``) records whose fields have their types, skips naming a JSON path, or a
``FeedFormatError`` naming the file - nothing else, no warning, no hang; ``detect`` only ever
answers a bool; every product a vulnerability, remediation or VEX statement names is one of the
advisory's products. Version texts of any kind read into ``VersionRange`` values.
"""

from __future__ import annotations

import copy
import json
import os
import random
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsec.assess.vulns.csaf import CsafReader, version_ranges
from medsec.assess.vulns.interface import FeedFormatError, SkippedRecord
from medsec.model.vulns import Advisory, CvssMetric, VersionRange, VexStatement

EXAMPLES = int(os.environ.get("MEDSEC_PROPERTY_EXAMPLES", "150"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
READER = CsafReader()
STATUSES = {"affected", "not_affected", "fixed", "under_investigation", "unknown", "recommended"}

DATA = Path(os.environ.get("MEDSEC_SHARED_DATA", Path(__file__).parents[3] / "shared" / "data"))
ADVISORIES = DATA / "advisories"
REAL = sorted(ADVISORIES.glob("csaf_cisa_*/*.json")) if ADVISORIES.is_dir() else []
# A spread of sizes and vendors: every 10th advisory.
SAMPLE = REAL[::10]
needs_data = pytest.mark.skipif(not REAL, reason=f"no shared test data at {ADVISORIES}")


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="medsec-csaf-") as folder:
        yield Path(folder)


def check_range(versions: VersionRange) -> None:
    for value in (versions.version, versions.less_than, versions.less_than_or_equal, versions.raw):
        assert value is None or isinstance(value, str)
    assert isinstance(versions.all_versions, bool)


def check_metric(metric: CvssMetric, ids: set[str]) -> None:
    assert metric.version in {"2.0", "3.0", "3.1", "4.0"}
    assert isinstance(metric.vector, str) and metric.vector
    assert isinstance(metric.base_score, float) and 0.0 <= metric.base_score <= 10.0
    assert set(metric.products) <= ids and len(set(metric.products)) == len(metric.products)


def check_advisory(advisory: Advisory) -> None:
    assert isinstance(advisory.tracking_id, str) and advisory.tracking_id
    assert isinstance(advisory.title, str) and isinstance(advisory.publisher, str)
    for moment in (advisory.initial_release, advisory.current_release):
        assert moment is None or (isinstance(moment, datetime) and moment.tzinfo is not None)
    ids = set()
    for product in advisory.products:
        assert isinstance(product.vendor, str) and isinstance(product.product, str)
        assert product.product
        assert isinstance(product.product_id, str) and product.product_id not in ids
        ids.add(product.product_id)
        assert product.status == "unknown"
        for versions in product.versions:
            check_range(versions)
        assert all(isinstance(v, str) for v in (*product.cpes, *product.purls))
    for vulnerability in advisory.vulnerabilities:
        assert vulnerability.cve_id is None or vulnerability.cve_id.startswith("CVE-")
        for product_id, status in vulnerability.products:
            assert product_id in ids and status in STATUSES
        for metric in vulnerability.metrics:
            check_metric(metric, ids)
        alike = [(m.vector, m.base_score, frozenset(m.products)) for m in vulnerability.metrics]
        assert len(set(alike)) == len(alike)
        for remediation in vulnerability.remediations:
            assert remediation.category and remediation.details
            assert set(remediation.product_ids) <= ids
        assert all(isinstance(note, str) and note for note in vulnerability.notes)


def read_checked(path: Path, content: bytes) -> list[SkippedRecord]:
    """Read ``content``: well-typed records and skips, or a ``FeedFormatError``."""
    path.write_bytes(content)
    assert isinstance(READER.detect(content[:65536]), bool)
    skipped: list[SkippedRecord] = []
    try:
        records = list(READER.read(path, skipped.append))
    except FeedFormatError as error:
        assert error.path == path and error.where.startswith("$") and error.reason
        return skipped
    advisories = [r for r in records if isinstance(r, Advisory)]
    assert len(advisories) <= 1
    if advisories:
        check_advisory(advisories[0])
        ids = {p.product_id for p in advisories[0].products}
        for statement in records[1:]:
            assert isinstance(statement, VexStatement)
            assert statement.status in STATUSES and statement.refs[0] in ids
    else:
        assert records == []
    for skip in skipped:
        assert skip.path == path and skip.where.startswith("$") and skip.reason
    return skipped


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "CVE-2024-0001",
            "CSAFPID-0001",
            "vers:all/*",
            "<= 2.3.6",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "vendor_fix",
            "known_affected",
            "2024-01-01T00:00:00Z",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "category",
                    "name",
                    "product",
                    "product_id",
                    "branches",
                    "product_ids",
                    "products",
                    "scores",
                    "group_ids",
                    "cvss_v3",
                    "vectorString",
                    "baseScore",
                    "details",
                    "label",
                    "cve",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(st.binary(max_size=2048))
@PROPERTY
def test_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    read_checked(scratch / "any.json", data)


@given(JSON, JSON, JSON, st.sampled_from(["csaf_security_advisory", "csaf_vex", 7]))
@PROPERTY
def test_csaf_shaped_documents_of_random_values(
    scratch: Path, tree: Any, vulnerabilities: Any, tracking: Any, category: Any
) -> None:
    document = {
        "document": {
            "category": category,
            "csaf_version": "2.0",
            "title": "t",
            "publisher": {"name": "p"},
            "tracking": {"id": "X-1", "initial_release_date": tracking},
        },
        "product_tree": tree,
        "vulnerabilities": vulnerabilities,
    }
    read_checked(scratch / "shaped.json", json.dumps(document).encode())


def product_tree_of(branches: Any) -> dict[str, Any]:
    return {"branches": [{"category": "vendor", "name": "V", "branches": branches}]}


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "category": st.sampled_from(["product_name", "product_version", "vendor", "x"]),
                "name": st.text(max_size=30),
                "product": st.fixed_dictionaries(
                    {"name": st.text(max_size=10), "product_id": st.sampled_from(["A", "B", "C"])}
                ),
            }
        ),
        max_size=6,
    ),
    st.lists(
        st.fixed_dictionaries(
            {
                "cve": st.sampled_from(["CVE-2020-0001", "cve-2020-1", None]),
                "product_status": st.dictionaries(
                    st.sampled_from(["known_affected", "fixed", "known_not_affected", "bogus"]),
                    st.lists(st.sampled_from(["A", "B", "C", "Z", 3]), max_size=3),
                ),
                "flags": st.lists(
                    st.fixed_dictionaries(
                        {"label": st.text(max_size=5), "product_ids": st.just(["A", "Z"])}
                    ),
                    max_size=2,
                ),
                "scores": st.lists(
                    st.fixed_dictionaries(
                        {
                            "products": st.lists(st.sampled_from(["A", "B", "C", "Z", 3])),
                            "cvss_v3": st.fixed_dictionaries(
                                {
                                    "vectorString": st.sampled_from(
                                        [
                                            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                                            "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
                                        ]
                                    )
                                }
                            ),
                        }
                    ),
                    max_size=3,
                ),
            }
        ),
        max_size=4,
    ),
)
@PROPERTY
def test_vex_documents_of_random_products_and_statuses(
    scratch: Path, leaves: list[dict[str, Any]], vulnerabilities: list[dict[str, Any]]
) -> None:
    document = {
        "document": {"category": "csaf_vex", "csaf_version": "2.0", "tracking": {"id": "V-1"}},
        "product_tree": product_tree_of(leaves),
        "vulnerabilities": vulnerabilities,
    }
    read_checked(scratch / "vex.json", json.dumps(document).encode())


def json_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from json_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from json_paths(child, (*path, index))


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(document)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


@needs_data
@given(st.data())
@PROPERTY
def test_real_advisories_with_any_member_replaced(scratch: Path, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(SAMPLE))
    document = json.loads(path.read_bytes())
    paths = list(json_paths(document))
    where = data.draw(st.sampled_from(paths))
    value = data.draw(JSON)
    mutated = replaced(document, where, value)
    read_checked(scratch / "mutated.json", json.dumps(mutated).encode())


@needs_data
@given(st.data())
@PROPERTY
def test_real_advisories_with_bytes_mutated(scratch: Path, data: st.DataObject) -> None:
    content = bytearray(data.draw(st.sampled_from(SAMPLE)).read_bytes())
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    for _ in range(data.draw(st.integers(1, 8))):
        position = rng.randrange(len(content))
        choice = rng.random()
        if choice < 0.4:
            content[position] = rng.randrange(256)
        elif choice < 0.7:
            del content[position : position + rng.randrange(1, 40)]
        else:
            content[position:position] = bytes(rng.choice(b'{}[]",:0aZ\\') for _ in range(3))
    if data.draw(st.booleans()):
        content = content[: data.draw(st.integers(0, len(content)))]
    read_checked(scratch / "bytes.json", bytes(content))


NUMBERS = st.sampled_from(["9" * 5000, "-" + "1" * 4301, "1" * 20]) | st.builds(
    lambda mantissa, sign, exponent: f"{mantissa}e{sign}{exponent}",
    st.sampled_from(["1", "1.1", "-4.5"]),
    st.sampled_from(["", "+", "-"]),
    st.integers(300, 10**20),
)
"""Numbers ``json`` cannot hold as an int (over 4,300 digits), beyond 64 bits, and exponents
that overflow a double (``inf``) or underflow it (0.0)."""


@needs_data
@given(st.data(), NUMBERS)
@PROPERTY
def test_real_advisories_with_huge_numbers(scratch: Path, data: st.DataObject, number: str) -> None:
    """Any member of a real advisory replaced by a huge number: records (a score of
    ``inf`` is refused like any out-of-range score) or ``FeedFormatError``."""
    path = data.draw(st.sampled_from(SAMPLE))
    document = json.loads(path.read_bytes())
    where = data.draw(st.sampled_from(list(json_paths(document))))
    marker = "\x00number\x00"
    text = json.dumps(replaced(document, where, marker)).replace(json.dumps(marker), number)
    assert number in text
    read_checked(scratch / "numbers.json", text.encode())


@needs_data
def test_deep_nesting_in_a_real_advisory(scratch: Path) -> None:
    """Branches nested 300 deep are cut at the limit and the rest imports; nesting beyond
    what the JSON parser takes (100,000 arrays in a note) is a FeedFormatError."""
    document = json.loads(REAL[0].read_bytes())
    document["product_tree"]["branches"].append("BRANCH")
    document["vulnerabilities"][0]["notes"] = "NOTES"
    text = json.dumps(document)
    leaf = '{"category": "product_version", "name": "1", "product": {"product_id": "D"}}'
    branch = '{"category": "product_family", "name": "f", "branches": ['
    deep = branch * 300 + leaf + "]}" * 300
    skipped = read_checked(scratch / "deep.json", text.replace('"BRANCH"', deep).encode())
    assert any("deeper than" in s.reason for s in skipped)
    nested = "[" * 100_000 + "]" * 100_000
    with pytest.raises(FeedFormatError):
        list(READER.read(write(scratch, text.replace('"NOTES"', nested)), [].append))


def write(folder: Path, text: str) -> Path:
    path = folder / "nested.json"
    path.write_text(text, encoding="utf-8")
    return path


@given(st.text(max_size=80), st.sampled_from(["product_version", "product_version_range", "x"]))
@PROPERTY
def test_version_texts_of_any_kind(text: str, category: str) -> None:
    for versions in version_ranges(text, category):
        check_range(versions)
        assert versions.raw == text.strip() or versions.version == " ".join(text.split())
