"""SBOM readers (CycloneDX, SPDX) under hostile input.

Arbitrary bytes, byte-mutated real SBOMs and structurally mutated real documents (any member
replaced by any JSON value) give ``Sbom``/``VexStatement`` records whose fields have their
types, or a ``FeedFormatError`` naming the file - nothing else, no warning (pytest turns
warnings into errors), no hang; ``detect`` only ever answers a bool. Deep nesting of arrays,
objects and components is read in bounded time without recursion.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsec.assess.vulns.cyclonedx import CycloneDxReader
from medsec.assess.vulns.interface import FeedFormatError, SkippedRecord
from medsec.assess.vulns.spdx import SpdxReader
from medsec.model.vulns import Component, Sbom, VexStatement

EXAMPLES = int(os.environ.get("MEDSEC_PROPERTY_EXAMPLES", "150"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
READERS = (CycloneDxReader(), SpdxReader())
STATUSES = {"affected", "not_affected", "fixed", "under_investigation", "unknown", "recommended"}

SBOM_DATA = Path(
    os.environ.get("MEDSEC_SHARED_DATA", Path(__file__).parents[3] / "shared" / "data")
)
SBOM_DATA = SBOM_DATA / "sbom"
SMALL_REAL = (
    sorted(
        p
        for p in SBOM_DATA.rglob("*")
        if p.is_file() and p.name != "LICENSE" and p.stat().st_size < 60_000
    )
    if SBOM_DATA.is_dir()
    else []
)
REAL_JSON = [p for p in SMALL_REAL if p.suffix == ".json"]
needs_data = pytest.mark.skipif(not SMALL_REAL, reason=f"no shared test data at {SBOM_DATA}")


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="medsec-sbom-") as folder:
        yield Path(folder)


def check_component(component: Component) -> None:
    assert isinstance(component.name, str) and component.name == component.name.strip()
    assert component.name
    for value in (component.version, component.supplier, component.purl, component.cpe):
        assert value is None or (isinstance(value, str) and value)
    assert all(isinstance(licence, str) and licence for licence in component.licenses)


def read_all(path: Path, content: bytes) -> None:
    """Each reader gives well-typed records or FeedFormatError for ``content``."""
    path.write_bytes(content)
    for reader in READERS:
        assert isinstance(reader.detect(content[:65536]), bool)
        skipped: list[SkippedRecord] = []
        try:
            records = list(reader.read(path, skipped.append))
        except FeedFormatError as error:
            assert error.path == path and error.where and error.reason
            continue
        for record in records:
            if isinstance(record, Sbom):
                assert record.format == reader.name
                assert isinstance(record.spec_version, str)
                for component in (*record.components, *filter(None, [record.subject])):
                    check_component(component)
            else:
                assert isinstance(record, VexStatement) and reader.name == "cyclonedx"
                assert record.cve_id.startswith("CVE-") and record.status in STATUSES
                assert record.refs and all(isinstance(r, str) and r for r in record.refs)
        assert all(s.path == path and s.where and s.reason for s in skipped)


@PROPERTY
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(scratch: Path, content: bytes) -> None:
    read_all(scratch / "arbitrary", content)


HEADS = [
    b'{"bomFormat": "CycloneDX", "specVersion": "1.5", ',
    b'<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4">',
    b'{"spdxVersion": "SPDX-2.3", ',
    b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [',
    b"SPDXVersion: SPDX-2.2\n",
]


@PROPERTY
@given(st.sampled_from(HEADS), st.binary(max_size=1000))
def test_a_right_head_and_arbitrary_rest(scratch: Path, head: bytes, rest: bytes) -> None:
    read_all(scratch / "headed", head + rest)


def mutate(content: bytes, rng: random.Random, steps: int) -> bytes:
    data = bytearray(content)
    for _ in range(steps):
        if not data:
            break
        at = rng.randrange(len(data))
        choice = rng.randrange(5)
        if choice == 0:
            data[at] = rng.randrange(256)
        elif choice == 1:
            del data[at : at + rng.randrange(1, 64)]
        elif choice == 2:
            data[at:at] = rng.choice(
                [
                    b"{",
                    b"}",
                    b"[",
                    b"]",
                    b'"',
                    b",",
                    b"<",
                    b">",
                    b"\x00",
                    b"&x;",
                    b"<text>",
                    b"\n",
                    b"\xff\xfe",
                ]
            )
        elif choice == 3:
            end = min(len(data), at + rng.randrange(1, 200))
            data[at:at] = data[at:end]
        else:
            del data[at:]
    return bytes(data)


@needs_data
@PROPERTY
@given(
    st.sampled_from(SMALL_REAL or [Path()]), st.randoms(use_true_random=False), st.integers(1, 8)
)
def test_byte_mutated_real_files(
    scratch: Path, source: Path, rng: random.Random, steps: int
) -> None:
    read_all(scratch / f"mutated{source.suffix}", mutate(source.read_bytes(), rng, steps))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from places(item, (*path, index))


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = replaced(document[path[0]], path[1:], value)  # type: ignore[index]
    return copy


@needs_data
@PROPERTY
@given(st.sampled_from(REAL_JSON or [Path()]), st.data())
def test_structurally_mutated_real_documents(scratch: Path, source: Path, data: Any) -> None:
    document = json.loads(source.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.sampled_from(list(places(document))))
        document = replaced(document, where, data.draw(JSON_VALUES))
    read_all(scratch / "structural.json", json.dumps(document).encode())


@pytest.mark.parametrize(
    "content",
    [
        b'{"bomFormat": "CycloneDX", "specVersion": "1.4", "components": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
        b'{"bomFormat": "CycloneDX", "specVersion": "1.4", "metadata": '
        + b'{"component": ' * 50_000
        + b"1"
        + b"}" * 50_000
        + b"}",
        b'{"bomFormat": "CycloneDX", "specVersion": "1.4", "components": ['
        + b'{"name": "x", "components": [' * 20_000
        + b"]}" * 20_000
        + b"]}",
        b'{"spdxVersion": "SPDX-2.3", "packages": ['
        + b'{"a": ' * 100_000
        + b"1"
        + b"}" * 100_000
        + b"]}",
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components>'
        + b"<component><components>" * 10_000,
    ],
    ids=["arrays", "objects", "components", "spdx-objects", "xml"],
)
def test_deep_nesting(scratch: Path, content: bytes) -> None:
    read_all(scratch / "deep", content)


XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=12,
)
TREES = st.recursive(
    st.tuples(XML_TEXT, st.just(())),
    lambda inner: st.tuples(XML_TEXT, st.lists(inner, max_size=3).map(tuple)),
    max_leaves=15,
)


def numbered(trees: list[Any], counter: list[int]) -> list[tuple[str, str, list[Any]]]:
    out = []
    for name, children in trees:
        counter[0] += 1
        out.append((f"c{counter[0]}", name, numbered(list(children), counter)))
    return out


def expected_names(trees: list[tuple[str, str, list[Any]]]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for ref, name, children in trees:
        if name.strip():
            found.append((name.strip(), ref))
        found.extend(expected_names(children))
    return found


def as_xml(trees: list[tuple[str, str, list[Any]]]) -> str:
    from xml.sax.saxutils import escape, quoteattr

    return "".join(
        f"<component type={quoteattr('library')} bom-ref={quoteattr(ref)}>"
        f"<name>{escape(name)}</name>"
        + (f"<components>{as_xml(children)}</components>" if children else "")
        + "</component>"
        for ref, name, children in trees
    )


def as_json(trees: list[tuple[str, str, list[Any]]]) -> list[dict[str, Any]]:
    return [
        {"bom-ref": ref, "name": name, "components": as_json(children)}
        for ref, name, children in trees
    ]


@PROPERTY
@given(st.lists(TREES, max_size=4), st.sampled_from(["json", "xml"]))
def test_component_trees_round_trip(scratch: Path, trees: list[Any], form: str) -> None:
    """Components nested any way, with any text as name, come back flattened in document
    order, with names trimmed and nameless ones skipped, in JSON and in XML."""
    tree = numbered(trees, [0])
    path = scratch / f"tree.{form}"
    if form == "xml":
        body = as_xml(tree)
        content = f'<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components>{body}</components></bom>'
        path.write_text(content, encoding="utf-8")
    else:
        document = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": as_json(tree)}
        path.write_text(json.dumps(document), encoding="utf-8")
    skipped: list[SkippedRecord] = []
    (sbom,) = CycloneDxReader().read(path, skipped.append)
    assert isinstance(sbom, Sbom)
    expected = expected_names(tree)
    assert [(c.name, c.ref) for c in sbom.components] == expected
    assert len(skipped) == counted(tree) - len(expected)


def counted(trees: list[tuple[str, str, list[Any]]]) -> int:
    return sum(1 + counted(children) for _, _, children in trees)
