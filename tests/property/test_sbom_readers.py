"""SBOM readers (CycloneDX, SPDX) under hostile input.

Arbitrary bytes, byte-mutated real SBOMs and structurally mutated real documents (any member
replaced by any JSON value) give ``Sbom``/``VexStatement`` records whose fields have their
types, or a ``FeedFormatError`` naming the file - nothing else, no warning (pytest turns
warnings into errors), no hang; ``detect`` only ever answers a bool. Deep nesting of arrays,
objects and components is read in bounded time without recursion. Numbers of any size
(thousands of digits, 25-digit exponents) read, or fail the file at the member holding them.
VEX targets with any list of versions give one statement per status, covering the readable
versions.
"""

from __future__ import annotations

import json
import math
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
from medsec.model.vulns import Component, Sbom, VersionRange, VexStatement

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
                assert all(isinstance(v, VersionRange) for v in record.versions)
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


# -- VEX versions ---------------------------------------------------------------------------------

ANY_TEXT = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"
)  # what XML can hold too
VERSION_ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "version": st.text(ANY_TEXT, max_size=8) | st.integers(0, 9),
        "range": st.sampled_from(["vers:generic/>=1.0|<=2.3", "vers:all/*", "< 3.x", "a|b|c"])
        | st.text(ANY_TEXT, max_size=12),
        "status": st.sampled_from(["affected", "unaffected", "unknown", "fixed", None, 3]),
    },
)
VERSION_STATUSES = {None, "affected", "unaffected", "unknown"}


def readable(entry: Any, form: str) -> str | None:
    """The text a version entry covers, None when the reader cannot use the entry (in XML
    every value is text)."""
    if not isinstance(entry, dict):
        return None
    if form == "xml":
        entry = {k: None if v is None else str(v) for k, v in entry.items()}
    if entry.get("status") not in VERSION_STATUSES:
        return None
    for key in ("version", "range"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


@PROPERTY
@given(
    st.sampled_from(["not_affected", "exploitable", "resolved", "in_triage", None]),
    st.lists(st.lists(VERSION_ENTRY | st.integers(0, 9), max_size=5) | st.none(), max_size=3),
    st.sampled_from(["json", "xml"]),
)
def test_vex_versions_of_any_kind(
    scratch: Path, state: str | None, lists: list[Any], form: str
) -> None:
    """Per target: one statement per status its readable versions have, together covering
    exactly those versions; no statement when it lists versions and none is readable; one
    about the target as named when it lists none."""
    targets = [
        {"ref": f"t{i}"} | ({} if v is None else {"versions": v}) for i, v in enumerate(lists)
    ]
    analysis = {} if state is None else {"analysis": {"state": state}}
    entry = {"id": "CVE-2024-0001", "affects": targets} | analysis
    path = scratch / f"vex.{form}"
    if form == "json":
        path.write_text(
            json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "vulnerabilities": [entry]})
        )
    else:
        path.write_text(as_xml_vex(entry), encoding="utf-8")
    skipped: list[SkippedRecord] = []
    records = list(CycloneDxReader().read(path, skipped.append))
    for index, target in enumerate(targets):
        listed = [e for e in target.get("versions") or [] if form == "json" or isinstance(e, dict)]
        statements = [
            r for r in records if isinstance(r, VexStatement) and r.refs == (f"t{index}",)
        ]
        texts = {t for e in listed if (t := readable(e, form)) is not None}
        statuses = [s.status for s in statements]
        assert len(set(statuses)) == len(statuses) and set(statuses) <= STATUSES
        if not listed:
            assert [s.versions for s in statements] == [()]
        elif not texts:
            assert statements == []
        else:
            covered = {v.raw or v.version for s in statements for v in s.versions}
            assert covered == texts and all(s.versions for s in statements)


def as_xml_vex(entry: dict[str, Any]) -> str:
    """``entry`` as CycloneDX 1.6 XML (version entries that are no objects left out)."""
    from xml.sax.saxutils import escape

    def element(name: str, value: Any) -> str:
        return f"<{name}>{escape(str(value))}</{name}>" if value is not None else ""

    targets = ""
    for target in entry["affects"]:
        versions = "".join(
            "<version>"
            + "".join(element(k, v.get(k)) for k in ("version", "range", "status"))
            + "</version>"
            for v in target.get("versions") or []
            if isinstance(v, dict)
        )
        listed = f"<versions>{versions}</versions>" if "versions" in target else ""
        targets += f"<target><ref>{escape(target['ref'])}</ref>{listed}</target>"
    state = entry.get("analysis", {}).get("state")
    analysis = f"<analysis>{element('state', state)}</analysis>" if state else ""
    return (
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><vulnerabilities><vulnerability>'
        f"<id>{entry['id']}</id>{analysis}<affects>{targets}</affects>"
        "</vulnerability></vulnerabilities></bom>"
    )


# -- numbers the parser cannot hold ------------------------------------------------------------

DIGITS = "0123456789"


@st.composite
def json_numbers(draw: st.DrawFn) -> str:
    """JSON number text of any size: integers around the 64-bit edge and of thousands of
    digits, long fractions, exponents of up to 25 digits either way."""
    if draw(st.booleans()):
        near = draw(st.integers(-(2**64), 2**64))
        return str(near)
    sign = draw(st.sampled_from(["", "-"]))
    size = draw(st.sampled_from([0, 5, 18, 19, 25, 400, 5000]))
    whole = draw(st.sampled_from("123456789")) + draw(st.text(DIGITS, min_size=size, max_size=size))
    fraction = draw(st.none() | st.text(DIGITS, min_size=1, max_size=400))
    exponent = draw(
        st.none()
        | st.tuples(
            st.sampled_from(["e", "E", "e+", "e-", "E-"]), st.text(DIGITS, min_size=1, max_size=25)
        )
    )
    text = sign + whole + (f".{fraction}" if fraction else "")
    return text + ("".join(exponent) if exponent else "")


def fits(number: str) -> bool:
    """Whether the parser holds ``number``: a 64-bit integer (yajl's range is symmetric:
    -2**63 overflows), or a finite double."""
    if all(c in DIGITS + "-" for c in number):
        digits = number.lstrip("-")
        return len(digits) <= 19 and int(digits) <= 2**63 - 1
    return math.isfinite(float(number))


NUMBER_PLACES = [
    (
        CycloneDxReader(),
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": NUMBER, '
        '"components": [{"name": "a"}]}',
        "$.version",
    ),
    (
        CycloneDxReader(),
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", '
        '"components": [{"name": "a"}, {"name": "b", "version": NUMBER}]}',
        "$.components[1]",
    ),
    (
        CycloneDxReader(),
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": {"component": '
        '{"name": "m", "properties": [{"name": "p", "value": NUMBER}]}}, "components": []}',
        "$.metadata",
    ),
    (
        CycloneDxReader(),
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "vulnerabilities": [{"id": '
        '"CVE-2024-0001", "ratings": [{"score": NUMBER}], "affects": [{"ref": "a", '
        '"versions": [{"version": "2.0"}, {"version": NUMBER}]}]}]}',
        "$.vulnerabilities[0]",
    ),
    (
        CycloneDxReader(),
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "x-unread": {"a": [[NUMBER]]}}',
        "$.x-unread",
    ),
    (
        SpdxReader(),
        '{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "versionInfo": NUMBER}]}',
        "$.packages[0]",
    ),
    (
        SpdxReader(),
        '{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": '
        '[{"type": "SpdxDocument", "spdxId": "d", "creationInfo": {"created": NUMBER}}]}',
        "$.@graph[0]",
    ),
]


@PROPERTY
@given(st.sampled_from(NUMBER_PLACES), json_numbers())
def test_any_number_reads_or_fails_the_file_where_it_is(
    scratch: Path, place: tuple[Any, str, str], number: str
) -> None:
    """A number the parser holds reads (it is no text: nothing takes it as a version); one
    it cannot hold is a ``FeedFormatError`` at the member or item holding it - never
    ``SystemError`` or ``decimal.InvalidOperation`` as before."""
    reader, template, where = place
    path = scratch / "number.json"
    path.write_text(template.replace("NUMBER", number), encoding="utf-8")
    skipped: list[SkippedRecord] = []
    if fits(number):
        records = list(reader.read(path, skipped.append))
        assert records
        for record in records:
            if isinstance(record, Sbom):
                assert all(c.version is None for c in record.components)
            else:
                assert isinstance(record, VexStatement)
                assert record.versions == (VersionRange(version="2.0"),)
    else:
        with pytest.raises(FeedFormatError) as raised:
            list(reader.read(path, skipped.append))
        assert (raised.value.path, raised.value.where) == (path, where)
        assert raised.value.reason.startswith("not valid JSON: parse error:")
        assert "overflow" in raised.value.reason


@needs_data
@PROPERTY
@given(st.sampled_from(REAL_JSON or [Path()]), st.data(), json_numbers())
def test_huge_numbers_anywhere_in_real_documents(
    scratch: Path, source: Path, data: Any, number: str
) -> None:
    """Any value of a real document replaced by a number of any size: records or
    ``FeedFormatError``, nothing else."""
    document = json.loads(source.read_bytes())
    where = data.draw(st.sampled_from(list(places(document))))
    marker = "\x00number\x00"
    text = json.dumps(replaced(document, where, marker)).replace(json.dumps(marker), number)
    read_all(scratch / "numbers.json", text.encode())


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
