"""Version parsing and order, NVD-style bounds, and free-text version statements (the shapes
the CISA ICSMA advisories write), with the advisories themselves."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medsec.assess.versions import (
    Version,
    compare,
    in_range,
    parse_version,
    range_contains,
    range_from_text,
    ranges_from_text,
)
from medsec.model.vulns import VersionRange

# --- parse_version and compare ------------------------------------------------------------

ORDERED = [
    # dotted numeric: numerically, not as text
    ("3.6.6", "3.6.7"),
    ("1.9", "1.10"),
    ("10.0.19041.1", "10.0.19041.2"),
    ("9.33", "12.1"),
    ("2.43.02", "2.43.3"),
    # semver: a pre-release sorts before its release (semver 2.0.0 section 11 example)
    ("1.0.0-alpha", "1.0.0-alpha.1"),
    ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
    ("1.0.0-alpha.beta", "1.0.0-beta"),
    ("1.0.0-beta", "1.0.0-beta.2"),
    ("1.0.0-beta.2", "1.0.0-beta.11"),
    ("1.0.0-beta.11", "1.0.0-rc.1"),
    ("1.0.0-rc.1", "1.0.0"),
    ("1.2.3-rc.1+b5", "1.2.3"),
    ("1.0.dev1", "1.0a"),
    # vendor letters and OpenSSH portable releases sort after the bare release
    ("3.6.7", "3.6.7a"),
    ("3.6.7a", "3.6.7b"),
    ("3.6.7a", "3.6.8"),
    ("8.2", "8.2p1"),
    ("8.2p1", "8.2p2"),
    ("8.2p2", "8.3"),
    ("2.4A", "2.6A"),
    # service packs, builds, revisions
    ("V4.1", "V4.1 SP2"),
    ("V4.1 SP1", "V4.1 SP2"),
    ("4.1 SP2", "4.2"),
    ("7.1 SP3", "7.1 SP10"),
    ("4.20", "4.20 SR1"),
    ("1.3.1", "1.3.1 build 1234"),
    ("1.3.0 Build 14", "1.3.1 Build 13"),
    ("2023.3_Build_9341", "2023.3_Build_9342"),
    ("5.17.1", "5.17.1-754993421"),
    # prefixed vendor schemes
    ("R2.1.3", "R2.1.4"),
    ("R4.1L1", "R8.0.3"),
    ("BT02", "BT06"),
    ("C.00.04", "C.02"),
    ("012U000040", "012U000061"),
    ("L80", "L81"),
    ("SV20.1", "SV23.0"),
    # Debian epoch and revision
    ("2.3", "2.3-4"),
    ("2.3-4", "2.3-10"),
    ("9.9-1", "1:0.1"),
    ("1:2.3-4", "2:0.1"),
    # dates
    ("2023.05.01", "2023.05.02"),
    ("2023.12.31", "2024.01.01"),
    ("2018-1", "2021-1"),
]


@pytest.mark.parametrize(("lower", "higher"), ORDERED)
def test_versions_in_order(lower: str, higher: str) -> None:
    assert compare(lower, higher) == -1
    assert compare(higher, lower) == 1
    assert parse_version(lower) < parse_version(higher)  # type: ignore[operator]


EQUAL = [
    ("1.0", "1.0.0"),
    ("3.6.7", "3.6.7.0"),
    ("v7.1", "7.1"),
    ("V7.1", "7.1"),
    ("version 4.2", "4.2"),
    ("Release 1.4", "1.4"),
    ("4.1 Service Pack 2", "V4.1 SP2"),
    ("1.2.3+build.5", "1.2.3"),
    ("1.0-RC1", "1.0-rc1"),
    ("2023.05.01", "2023.5.1"),
    ("1.0.0-rc1", "1.0-rc1"),
    ("0:1.2", "1.2"),
]


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_versions(a: str, b: str) -> None:
    assert compare(a, b) == 0
    assert parse_version(a) == parse_version(b)
    assert hash(parse_version(a)) == hash(parse_version(b))


def test_a_version_keeps_its_text_and_parts() -> None:
    version = parse_version("  1:2.3.0-rc.1+b5 ")
    assert version is not None
    assert (version.epoch, version.prefix, version.release) == (1, "", (2, 3))
    assert version.text == "1:2.3.0-rc.1+b5"
    assert version.build == "b5"
    assert str(version) == "1:2.3.0-rc.1+b5"
    assert parse_version("R2.1.3") == Version(0, "r", (2, 1, 3), ((1, 0, ""),), "other text")


@pytest.mark.parametrize(
    "text",
    [
        "3.6.7",
        "10.0.19041.1",
        "1.2.3-rc.1+b5",
        "3.6.7a",
        "R2.1.3",
        "V4.1 SP2",
        "8.2.4",
        "1:2.3-4",
        "2023.05.01",
        "8.2p1",
        "v1.0",
        "1.3.1 build 1234",
        "6.3V1L10",
        "LPI 3.5.12.P30",
        "S4 A.07.107",
        "K",
        "Version B",
        "2nd Edition",
        "1.4.2.0-9d9eff4",
    ],
)
def test_versions_the_feeds_write_parse(text: str) -> None:
    assert isinstance(parse_version(text), Version)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "All versions",
        "all",
        "vers:all/*",
        "*",
        "-",
        "n/a",
        "IGS",
        "RaspberryPi",
        "3.x",
        "12.2.x.x",
        "2.3.6 and below",
        "prior to 4.1",
        "3.0 - 3.6",
        "<= 2.3.6",
        "1.0, 1.1",
        "august 28",
        "May 2018",
        "882300 Gemini 16 Slice",
        "Windows 10 Professional Operating System U.S. release",
        "1.0-",
        "1..0",
        "1.0+a+b",
        "1:2:3",
        "1.0 (beta)",
        "x" * 200,
        "1." * 100,
    ],
)
def test_text_that_names_no_version_gives_none(text: str) -> None:
    assert parse_version(text) is None


def test_db2_level_is_an_ordinary_vendor_string() -> None:
    """``SQL08024`` is Db2's raw product level: a prefix and one number, not 8.2.4."""
    level = parse_version("SQL08024")
    assert level is not None
    assert (level.prefix, level.release) == ("sql", (8024,))
    assert compare("SQL08024", "8.2.4") != 0
    assert in_range("SQL08024", end_excluding="8.2.5") is None


def test_compare_is_none_for_garbage() -> None:
    assert compare("All versions", "1.0") is None
    assert compare("1.0", "") is None
    assert compare(parse_version("1.0") or "", "1.0") == 0


@pytest.mark.parametrize(
    "text",
    [
        "1" * 100_000,
        "1." * 50_000,
        "vers:generic/" + ">=1|" * 20_000,
        # just under the length limits, shaped against the phrase patterns
        "1 and " * 42,
        "1 to " * 50,
        "from " * 50 + "1",
        "between 1 and " * 18,
        "1.0 and below " * 18,
        "1 " * 125 + "+",
        "<=1 " * 62,
        "1.x" * 80,
        "a-" * 60,
        "v" * 127 + "1",
    ],
)
def test_work_is_bounded_for_any_text(text: str) -> None:
    started = time.perf_counter()
    parse_version(text)
    range_from_text(text)
    range_contains(VersionRange(raw=text), "1.0")
    assert time.perf_counter() - started < 1.0


# --- in_range ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "bounds", "expected"),
    [
        ("3.6.6", {"end_excluding": "3.6.7"}, True),
        ("3.6.7", {"end_excluding": "3.6.7"}, False),
        ("3.6.7", {"end_including": "3.6.7"}, True),
        ("3.6.7.1", {"end_including": "3.6.7"}, False),
        ("3.6.7", {"start_including": "3.6.7"}, True),
        ("3.6.7", {"start_excluding": "3.6.7"}, False),
        ("3.6.8", {"start_excluding": "3.6.7"}, True),
        ("2.0", {"start_including": "2.0", "end_excluding": "3.0"}, True),
        ("3.0", {"start_including": "2.0", "end_excluding": "3.0"}, False),
        ("3.0-rc1", {"start_including": "2.0", "end_excluding": "3.0"}, True),
        ("1.9", {"start_including": "2.0", "end_excluding": "3.0"}, False),
        ("8.2p1", {"end_excluding": "8.3"}, True),
        ("8.2p1", {"end_including": "8.2"}, False),
        ("v2.5", {"start_including": "2.0", "end_including": "2.5"}, True),
        ("L80", {"end_including": "l81"}, True),
        ("L82", {"end_including": "l81"}, False),
        # unbounded markers
        ("1.0", {}, True),
        ("1.0", {"start_including": "*", "end_excluding": ""}, True),
        ("1.0", {"end_including": "-"}, True),
        ("All versions", {}, True),
        # cannot tell
        ("All versions", {"end_excluding": "2.0"}, None),
        ("1.0", {"end_excluding": "later"}, None),
        ("R2.1", {"end_excluding": "3.0"}, None),
        ("U50", {"end_including": "L81"}, None),
        ("SQL08024", {"start_including": "8.0"}, None),
    ],
)
def test_in_range(version: str, bounds: dict[str, str], expected: bool | None) -> None:
    assert in_range(version, **bounds) is expected


def test_in_range_takes_parsed_versions() -> None:
    version = parse_version("3.6.7")
    assert version is not None
    assert in_range(version, end_excluding="3.6.8") is True


# --- free-text statements ------------------------------------------------------------------


def fields(rng: VersionRange) -> tuple[str | None, str | None, str | None, bool]:
    return (rng.version, rng.less_than, rng.less_than_or_equal, rng.all_versions)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # upper bounds, inclusive
        ("2.3.6 and below", (None, None, "2.3.6", False)),
        ("2.3.6 and  below", (None, None, "2.3.6", False)),
        ("<= 2.3.6", (None, None, "2.3.6", False)),
        ("<=1.9.4.1", (None, None, "1.9.4.1", False)),
        ("=<3.0", (None, None, "3.0", False)),
        ("4.0 and prior", (None, None, "4.0", False)),
        ("4.0 and prior versions", (None, None, "4.0", False)),
        ("3.1 or earlier", (None, None, "3.1", False)),
        ("up to 4.1", (None, None, "4.1", False)),
        ("version 3.1 and below", (None, None, "3.1", False)),
        ("<= 12.2.x.x", (None, "12.3", None, False)),
        ("<= 11.x", (None, "12", None, False)),
        ("<= R8.0.3", (None, None, "R8.0.3", False)),
        ("<= C.00.04", (None, None, "C.00.04", False)),
        ("<=2023.3_Build_9342", (None, None, "2023.3_Build_9342", False)),
        # upper bounds, exclusive
        ("prior to 4.1", (None, "4.1", None, False)),
        ("before 4.1", (None, "4.1", None, False)),
        ("versions prior to 4.1", (None, "4.1", None, False)),
        ("all versions before 3.2", (None, "3.2", None, False)),
        ("All versions prior to 3.2", (None, "3.2", None, False)),
        ("< 8.2.2", (None, "8.2.2", None, False)),
        ("<7.6.2", (None, "7.6.2", None, False)),
        ("< 3.x", (None, "3", None, False)),
        ("< 1.8.4 Service Pack 01", (None, "1.8.4 Service Pack 01", None, False)),
        # lower bounds
        ("v7.1 and later", ("v7.1", "*", None, False)),
        ("2.0 or newer", ("2.0", "*", None, False)),
        (">= 4.0.1", ("4.0.1", "*", None, False)),
        (">=6.5", ("6.5", "*", None, False)),
        ("5.0+", ("5.0", "*", None, False)),
        ("from 3.2", ("3.2", "*", None, False)),
        # both ends
        ("3.0 through 3.6", ("3.0", None, "3.6", False)),
        ("3.0 to 3.6", ("3.0", None, "3.6", False)),
        ("from 3.0 to 3.6", ("3.0", None, "3.6", False)),
        ("between 3.0 and 3.6", ("3.0", None, "3.6", False)),
        ("3.0 - 3.6", ("3.0", None, "3.6", False)),
        (">=7.0 <7.2", ("7.0", "7.2", None, False)),
        (">= 7.0, < 7.2", ("7.0", "7.2", None, False)),
        (">= 1.0.0 | <= 1.1.1", ("1.0.0", None, "1.1.1", False)),
        (">= 1.0.0  | <= 1.3.1", ("1.0.0", None, "1.3.1", False)),
        (">=BT02 | <= BT06", ("BT02", None, "BT06", False)),
        (">= 1.3.4 | < 1.5.3", ("1.3.4", "1.5.3", None, False)),
        (">= 2018-1 | <= 2021-1", ("2018-1", None, "2021-1", False)),
        ("3.x", ("3", "4", None, False)),
        ("2.X", ("2", "3", None, False)),
        ("5.x.x", ("5", "6", None, False)),
        ("14.1.x", ("14.1", "14.2", None, False)),
        ("vers:generic/>=1.0|<2.0", ("1.0", "2.0", None, False)),
        ("vers:semver/<=2.3.6", (None, None, "2.3.6", False)),
        ("vers:generic/1.0.2", ("1.0.2", None, None, False)),
        # exact
        ("7.1.2", ("7.1.2", None, None, False)),
        ("7.1 SP3", ("7.1 SP3", None, None, False)),
        ("1.3.1 Build 13", ("1.3.1 Build 13", None, None, False)),
        ("B.02", ("B.02", None, None, False)),
        ("4.0", ("4.0", None, None, False)),
        # every version
        ("All versions", (None, None, None, True)),
        ("all", (None, None, None, True)),
        ("vers:all/*", (None, None, None, True)),
        ("vers:generic/*", (None, None, None, True)),
        ("*", (None, None, None, True)),
    ],
)
def test_range_from_text(text: str, expected: tuple[Any, ...]) -> None:
    rng = range_from_text(text)
    assert fields(rng) == expected
    assert rng.raw == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "distributed  < april 1, 2018",
        "<  november 29 2017",
        "<8/30/2024",
        "9.x (with Wireless Battery Modules >= 22D19 | <= v22D28)",
        "<= 1.54 (integrated into GE MobileLink)",
        "Version B, Firmware A.01.09, Part #: N/A (Replaced by Version C)",
        "Windows 10 Professional Operating System U.S. release",
        "with wireless option (shipped between 2016-August 2018)",
        "882300 Gemini 16 Slice",
        "A10 < A11",
        "> 4.0 and garbage",
        "",
    ],
)
def test_statements_naming_no_versions_stay_raw(text: str) -> None:
    rng = range_from_text(text)
    assert rng == VersionRange(raw=text.strip())
    assert range_contains(rng, "1.0") is None


def test_alternatives_are_separate_ranges() -> None:
    assert [fields(r) for r in ranges_from_text("5.0|5.1")] == [
        ("5.0", None, None, False),
        ("5.1", None, None, False),
    ]
    assert [fields(r) for r in ranges_from_text("4.X | 5.X")] == [
        ("4", "5", None, False),
        ("5", "6", None, False),
    ]
    assert [r.version for r in ranges_from_text("2131 and 2141")] == ["2131", "2141"]
    assert [fields(r) for r in ranges_from_text("<= U61 |<= L81")] == [
        (None, None, "U61", False),
        (None, None, "L81", False),
    ]
    assert all(r.raw == "5.0|5.1" for r in ranges_from_text("5.0|5.1"))
    # one VersionRange cannot hold alternatives: range_from_text keeps them raw
    assert range_from_text("5.0|5.1") == VersionRange(raw="5.0|5.1")


def test_exclusive_starts() -> None:
    after = range_from_text("after 4.1")
    assert fields(after) == (None, None, None, False)
    assert after.greater_than == "4.1"
    assert range_contains(after, "4.1") is False
    assert range_contains(after, "4.1.1") is True
    between = range_from_text("vers:generic/>2.0|<=3.0")
    assert (between.greater_than, between.less_than_or_equal) == ("2.0", "3.0")
    assert [range_contains(between, v) for v in ("2.0", "2.0.1", "3.0", "3.1")] == [
        False,
        True,
        True,
        False,
    ]
    assert range_from_text("> 3.x").version == "4"  # after every 3.x: from 4 on


def test_what_version_range_cannot_hold_stays_raw_but_is_read() -> None:
    excluded = ranges_from_text("vers:generic/>=1.0|!=1.5|<2.0")
    assert [fields(r) for r in excluded] == [(None, None, None, False)]
    assert excluded[0].version_type == "generic"
    assert range_contains(excluded[0], "1.5") is False
    assert range_contains(excluded[0], "1.6") is True


@pytest.mark.parametrize(
    ("text", "version", "expected"),
    [
        ("2.3.6 and below", "2.3.6", True),
        ("2.3.6 and below", "2.3.7", False),
        ("prior to 4.1", "4.1", False),
        ("prior to 4.1", "4.0.9", True),
        ("3.x", "3.9.9", True),
        ("3.x", "4.0", False),
        ("3.x", "2.9", False),
        ("v7.1 and later", "7.1", True),
        ("v7.1 and later", "7.0", False),
        ("3.0 through 3.6", "3.6", True),
        ("3.0 through 3.6", "3.6.1", False),
        ("7.1 SP3", "V7.1 Service Pack 3", True),
        ("7.1 SP3", "7.1 SP2", False),
        ("5.0|5.1", "5.1", True),
        ("5.0|5.1", "5.2", False),
        ("<= U61 |<= L81", "L70", True),
        ("<= U61 |<= L81", "U62", False),
        ("<= U61 |<= L81", "4.0", None),
        ("vers:all/*", "anything at all", True),
        ("All versions", "", True),
        ("vers:generic/>=1.0|<2.0|>=3.0", "2.5", False),
        ("vers:generic/>=1.0|<2.0|>=3.0", "3.5", True),
        ("vers:generic/>=1.0%2Brc1", "1.0", True),
        ("2.3.6 and below", "All versions", None),
    ],
)
def test_range_contains_reads_statements(text: str, version: str, expected: bool | None) -> None:
    assert range_contains(range_from_text(text), version) is expected


@pytest.mark.parametrize(
    ("rng", "version", "expected"),
    [
        # CVE 5 shapes (CVE-2022-2119: version "unspecified", lessThan 3.6.7)
        (VersionRange(version="unspecified", less_than="3.6.7"), "3.6.6", True),
        (VersionRange(version="unspecified", less_than="3.6.7"), "3.6.7", False),
        (VersionRange(version="0", less_than_or_equal="L81"), "L81", True),
        (VersionRange(version="2.0", less_than="*"), "9.0", True),
        (VersionRange(version="2.0", less_than="*"), "1.0", False),
        (VersionRange(version="2.0", less_than="3.0"), "1.0", False),
        (VersionRange(version="A10"), "A10", True),
        (VersionRange(version="A10"), "A11", False),
        (VersionRange(version="*"), "1.0", True),
        (VersionRange(greater_than="2.0"), "2.0", False),
        (VersionRange(greater_than="2.0", less_than="3.0"), "2.5", True),
        (VersionRange(version="1.0", less_than="2.0", raw="garbage"), "1.5", True),
        (VersionRange(version="abc123", version_type="git"), "abc123", None),
        (VersionRange(), "1.0", None),
        (VersionRange(all_versions=True), "1.0", True),
    ],
)
def test_range_contains_structured(rng: VersionRange, version: str, expected: bool | None) -> None:
    assert range_contains(rng, version) is expected


# --- the ICSMA advisories ------------------------------------------------------------------


def version_names(branches: list[dict[str, Any]]) -> Iterator[str]:
    for branch in branches:
        if branch.get("category") in ("product_version", "product_version_range"):
            yield branch["name"]
        yield from version_names(branch.get("branches", []))


def advisory_version_texts(folder: Path) -> Counter[str]:
    texts: Counter[str] = Counter()
    for path in sorted(folder.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        texts.update(version_names(document.get("product_tree", {}).get("branches", [])))
    return texts


def names_bounds(rng: VersionRange) -> bool:
    bounds = (rng.version, rng.greater_than, rng.less_than, rng.less_than_or_equal)
    return rng.all_versions or any(bounds)


def test_icsma_version_texts(shared_data: Path) -> None:
    folder = shared_data / "advisories" / "csaf_cisa_icsma"
    assert len(list(folder.glob("*.json"))) == 144
    texts = advisory_version_texts(folder)
    assert len(texts) >= 280
    read = 0
    for text in texts:
        ranges = ranges_from_text(text)
        assert ranges and all(r.raw == text.strip() for r in ranges)
        single = range_from_text(text)
        assert single.raw == text.strip()
        if any(names_bounds(r) for r in ranges):
            read += 1
            for rng in ranges:
                own = rng.version or rng.less_than_or_equal
                if own and not rng.less_than:  # an exact version or an inclusive end
                    assert range_contains(rng, own) is True, (text, rng)
    # 210 of 285 distinct texts name bounds; the rest are model names, dates of
    # distribution and conditions on other parts ("with Wireless Battery Modules ...")
    assert read / len(texts) >= 0.70


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("vers:all/*", "1.0", None),
        ("2.3.6 and  below", "2.3.6", "2.3.7"),
        ("<= 12.2.x.x", "12.2.9.9", "12.3"),
        (">= 5.01 | <= 6.3.1", "6.0", "6.3.2"),
        ("< 3.6.7", "3.6.6", "3.6.7"),
        ("<= R8.0.3", "R8.0.3", "R8.1"),
        ("1.X", "1.9", "2.0"),
        ("HD 16 | HD23", "HD23", "HD 17"),
    ],
)
def test_icsma_statements_decide(
    shared_data: Path, text: str, inside: str, outside: str | None
) -> None:
    texts = advisory_version_texts(shared_data / "advisories" / "csaf_cisa_icsma")
    assert text in texts
    ranges = ranges_from_text(text)
    assert any(range_contains(r, inside) for r in ranges)
    if outside is not None:
        assert not any(range_contains(r, outside) for r in ranges)
