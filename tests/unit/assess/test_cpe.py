"""CPE 2.3 names: both bindings, attribute matching, NVD version ranges and configurations -
with the NVD records in ../shared/data (the DCMTK boundary pair among them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from medsec.assess.cpe import (
    ANY,
    ATTRIBUTES,
    NA,
    Cpe,
    cpe_matches,
    evaluate_configurations,
    match_cpe_range,
    parse_cpe,
    quote,
    unquote,
)
from medsec.model.vulns import CpeMatch

DCMTK_367 = "cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*"

# --- parsing and binding --------------------------------------------------------------------


def test_formatted_string_attributes() -> None:
    cpe = parse_cpe("cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*")
    assert cpe == Cpe("a", "microsoft", "internet_explorer", "8\\.0\\.6001", "beta", *([ANY] * 6))
    assert cpe is not None
    assert unquote(cpe.version) == "8.0.6001"
    assert cpe.formatted() == "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*"
    assert str(cpe) == cpe.formatted()
    assert ATTRIBUTES[0] == "part" and ATTRIBUTES[-1] == "other" and len(ATTRIBUTES) == 11


@pytest.mark.parametrize(
    ("text", "attribute", "value", "formatted"),
    [
        # a quoted colon stays inside its attribute
        (
            "cpe:2.3:a:treck:tcp\\/ip:*:*:*:*:*:*:*:*",
            "product",
            "tcp\\/ip",
            "cpe:2.3:a:treck:tcp\\/ip:*:*:*:*:*:*:*:*",
        ),
        (
            "cpe:2.3:a:foo\\:bar:baz:1.0:*:*:*:*:*:*:*",
            "vendor",
            "foo\\:bar",
            "cpe:2.3:a:foo\\:bar:baz:1.0:*:*:*:*:*:*:*",
        ),
        # quoted period and hyphen are written bare; quoted letters lose the quote
        (
            "cpe:2.3:a:x:y:1\\.0\\-rc1:*:*:*:*:*:*:*",
            "version",
            "1\\.0\\-rc1",
            "cpe:2.3:a:x:y:1.0-rc1:*:*:*:*:*:*:*",
        ),
        ("cpe:2.3:a:x:\\y:*:*:*:*:*:*:*:*", "product", "y", "cpe:2.3:a:x:y:*:*:*:*:*:*:*:*"),
        # NA, and a literal hyphen (quoted) that is not NA
        ("cpe:2.3:o:ge:fw:-:*:*:*:*:*:*:*", "version", NA, "cpe:2.3:o:ge:fw:-:*:*:*:*:*:*:*"),
        (
            "cpe:2.3:o:ge:fw:\\-:*:*:*:*:*:*:*",
            "version",
            "\\-",
            "cpe:2.3:o:ge:fw:\\-:*:*:*:*:*:*:*",
        ),
        # wildcards at the ends
        ("cpe:2.3:a:x:y:3.6.*:*:*:*:*:*:*:*", "version", "3\\.6\\.*", None),
        ("cpe:2.3:a:x:y:??1:*:*:*:*:*:*:*", "version", "??1", None),
        # a literal asterisk
        ("cpe:2.3:a:x:y:\\*:*:*:*:*:*:*:*", "version", "\\*", None),
        # case is not significant: lower case
        ("CPE:2.3:A:OFFIS:DCMTK:3.6.7", "vendor", "offis", DCMTK_367),
        # missing trailing attributes are ANY
        ("cpe:2.3:a:offis:dcmtk:3.6.7", "other", ANY, DCMTK_367),
        # unquoted punctuation is read as the character
        (
            "cpe:2.3:a:x:y:1.0+b5:*:*:*:*:*:*:*",
            "version",
            "1\\.0\\+b5",
            "cpe:2.3:a:x:y:1.0\\+b5:*:*:*:*:*:*:*",
        ),
    ],
)
def test_formatted_string_escapes(
    text: str, attribute: str, value: str, formatted: str | None
) -> None:
    cpe = parse_cpe(text)
    assert cpe is not None
    assert getattr(cpe, attribute) == value
    assert cpe.formatted() == (formatted or text)
    assert parse_cpe(cpe.formatted()) == cpe


@pytest.mark.parametrize(
    ("uri", "formatted"),
    [
        ("cpe:/a:offis:dcmtk:3.6.7", DCMTK_367),
        ("cpe:/o:microsoft:windows_xp::sp3", "cpe:2.3:o:microsoft:windows_xp:*:sp3:*:*:*:*:*:*"),
        ("cpe:/h:ge:aestiva_7100:-", "cpe:2.3:h:ge:aestiva_7100:-:*:*:*:*:*:*:*"),
        # percent escapes: %21 '!', %01 '?' and %02 '*' wildcards
        ("cpe:/a:foo%21:bar%02:1.%01", "cpe:2.3:a:foo\\!:bar*:1.?:*:*:*:*:*:*:*"),
        ("cpe:/a:x:y:1.0:beta:pro:en-us", "cpe:2.3:a:x:y:1.0:beta:pro:en-us:*:*:*:*"),
        # a packed edition (NISTIR 7695 6.1.3.3): ~edition~sw_edition~target_sw~target_hw~other
        (
            "cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~",
            "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:*:*:*:online:win2003:x64:*",
        ),
        (
            "cpe:/a:x:y:1::~-~~~~:fr",
            "cpe:2.3:a:x:y:1:*:-:fr:*:*:*:*",
        ),
    ],
)
def test_uri_binding_converts_to_2_3(uri: str, formatted: str) -> None:
    cpe = parse_cpe(uri)
    assert cpe is not None
    assert cpe.formatted() == formatted


@pytest.mark.parametrize(
    "text",
    [
        "",
        "cpe",
        "cpe:2.3",
        "cpe:2.2:a:x:y",
        "cpe:2.3:q:x:y",
        "cpe:2.3:-:x:y",
        "cpe:2.3:a:x:y:1:*:*:*:*:*:*:*:extra",
        "cpe:2.3:a::y",
        "cpe:2.3:a:x:y:1\\",
        "cpe:2.3:a:x:y:1*2",
        "cpe:2.3:a:x:y:**",
        "cpe:2.3:a:x:y:1?2",
        "cpe:2.3:a:x:y z",
        "cpe:2.3:a:x:\u00fc",
        "cpe:2.3:a:x\n:y",
        "cpe:/a:x:y:1:2:3:4:5",
        "cpe:/a:x:y:%zz",
        "cpe:/a:x:y:%0a",
        "cpe:/a:x:y:1::~a~b",
        "x" * 5000,
    ],
)
def test_text_that_is_no_cpe_gives_none(text: str) -> None:
    assert parse_cpe(text) is None


def test_quote_free_text() -> None:
    assert quote("Internet Explorer") == "internet_explorer"
    assert quote("TCP/IP 6.0") == "tcp\\/ip_6\\.0"
    assert quote("  ") == ANY
    assert unquote(quote("DCMTK 3.6.7")) == "dcmtk_3.6.7"
    built = Cpe("a", quote("OFFIS"), quote("DCMTK"), quote("3.6.7"))
    assert built.formatted() == DCMTK_367


# --- attribute matching ---------------------------------------------------------------------


def cpe(text: str) -> Cpe:
    parsed = parse_cpe(text)
    assert parsed is not None, text
    return parsed


@pytest.mark.parametrize(
    ("pattern", "candidate", "expected"),
    [
        ("cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*", DCMTK_367, True),
        (DCMTK_367, DCMTK_367, True),
        ("cpe:2.3:a:OFFIS:DCMTK:3.6.7", DCMTK_367, True),
        ("cpe:2.3:a:offis:dcmtk:3.6.8", DCMTK_367, False),
        ("cpe:2.3:o:offis:dcmtk", DCMTK_367, False),
        # pattern wildcards
        ("cpe:2.3:a:offis:dcm*:3.6.*", DCMTK_367, True),
        ("cpe:2.3:a:*fis:dcmt?:*", DCMTK_367, True),
        ("cpe:2.3:a:offis:dcmtk:3.6.?", DCMTK_367, True),
        ("cpe:2.3:a:offis:dcmtk:3.?", DCMTK_367, False),
        ("cpe:2.3:a:offis:dcmtk:3.7.*", DCMTK_367, False),
        # NA matches only NA; a candidate's ANY does not satisfy a value or NA
        ("cpe:2.3:o:ge:fw:-", "cpe:2.3:o:ge:fw:-", True),
        ("cpe:2.3:o:ge:fw:-", "cpe:2.3:o:ge:fw:1.0", False),
        ("cpe:2.3:o:ge:fw:-", "cpe:2.3:o:ge:fw:*", False),
        ("cpe:2.3:a:offis:dcmtk:3.6.7", "cpe:2.3:a:offis:dcmtk:*", False),
        ("cpe:2.3:a:offis:dcmtk:3.6.7", "cpe:2.3:a:offis:dcmtk:-", False),
        # quoted characters compare as characters
        ("cpe:2.3:a:treck:tcp\\/ip", "cpe:2.3:a:treck:tcp\\/ip:6.0.1.41", True),
        ("cpe:2.3:a:treck:tcp\\/*", "cpe:2.3:a:treck:tcp\\/ip:6.0.1.41", True),
        ("cpe:2.3:a:x:\\*", "cpe:2.3:a:x:\\*", True),
        ("cpe:2.3:a:x:\\*", "cpe:2.3:a:x:y", False),
    ],
)
def test_cpe_matches(pattern: str, candidate: str, expected: bool) -> None:
    assert cpe_matches(cpe(pattern), cpe(candidate)) is expected


# --- version ranges -------------------------------------------------------------------------

ANY_DCMTK = "cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*"


@pytest.mark.parametrize(
    ("candidate_version", "bounds", "expected"),
    [
        ("3.6.6", {"version_end_excluding": "3.6.7"}, True),
        ("3.6.7", {"version_end_excluding": "3.6.7"}, False),
        ("3.6.7", {"version_end_including": "3.6.7"}, True),
        ("3.6.8", {"version_end_including": "3.6.7"}, False),
        ("3.6.5", {"version_start_including": "3.6.5"}, True),
        ("3.6.4", {"version_start_including": "3.6.5"}, False),
        ("3.6.5", {"version_start_excluding": "3.6.5"}, False),
        ("3.6.6", {"version_start_excluding": "3.6.5"}, True),
        ("3.6.6", {"version_start_including": "3.6.0", "version_end_excluding": "3.6.7"}, True),
        ("3.5.4", {"version_start_including": "3.6.0", "version_end_excluding": "3.6.7"}, False),
        ("3.6.7", {}, True),
        ("3.6.7", {"version_start_including": "", "version_end_excluding": "*"}, True),
        # cannot tell
        ("*", {"version_end_excluding": "3.6.7"}, None),
        ("all_versions", {"version_end_excluding": "3.6.7"}, None),
        ("r3.6.6", {"version_end_excluding": "3.6.7"}, None),
        # NA: no version, so none in range
        ("-", {"version_end_excluding": "3.6.7"}, False),
    ],
)
def test_match_cpe_range(
    candidate_version: str, bounds: dict[str, str], expected: bool | None
) -> None:
    candidate = f"cpe:2.3:a:offis:dcmtk:{candidate_version}:*:*:*:*:*:*:*"
    assert match_cpe_range(ANY_DCMTK, candidate, **bounds) is expected


def test_match_cpe_range_other_attributes_decide_first() -> None:
    # another product is no match, whatever its version says
    assert (
        match_cpe_range(ANY_DCMTK, "cpe:2.3:a:offis:other:*", version_end_excluding="3.6.7")
        is False
    )
    # the candidate does not name its vendor: cannot tell
    assert (
        match_cpe_range(ANY_DCMTK, "cpe:2.3:a:*:dcmtk:3.6.6", version_end_excluding="3.6.7") is None
    )
    assert (
        match_cpe_range(ANY_DCMTK, "cpe:2.3:a:*:dcmtk:3.6.7", version_end_excluding="3.6.7")
        is False
    )
    # unreadable names
    assert match_cpe_range("not a cpe", DCMTK_367) is None
    assert match_cpe_range(ANY_DCMTK, "cpe:2.3:a:x:y:1*2") is None
    # the version is escaped in the name but compared as text
    assert (
        match_cpe_range(
            ANY_DCMTK, "cpe:2.3:a:offis:dcmtk:3.6.6\\+b1", version_end_excluding="3.6.7"
        )
        is True
    )


# --- configurations -------------------------------------------------------------------------


def nvd_matches(record: dict[str, Any]) -> list[CpeMatch]:
    """An NVD 2.0 record's configurations as ``CpeMatch`` values (a test helper; the NVD
    reader is ``assess/vulns/nvd.py``)."""
    return [
        CpeMatch(
            criteria=match["criteria"],
            vulnerable=match["vulnerable"],
            configuration=c,
            node=n,
            node_operator=node.get("operator", "OR"),
            configuration_operator=configuration.get("operator", "OR"),
            negate=node.get("negate", False),
            version_start_including=match.get("versionStartIncluding"),
            version_start_excluding=match.get("versionStartExcluding"),
            version_end_including=match.get("versionEndIncluding"),
            version_end_excluding=match.get("versionEndExcluding"),
        )
        for c, configuration in enumerate(record.get("configurations", []))
        for n, node in enumerate(configuration["nodes"])
        for match in node["cpeMatch"]
    ]


def record(shared_data: Path, cve: str) -> dict[str, Any]:
    path = shared_data / "advisories" / "nvd_cve_json2" / f"{cve}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_what_the_dcmtk_records_say(shared_data: Path) -> None:
    exact = nvd_matches(record(shared_data, "CVE-2022-43272"))
    assert exact == [CpeMatch(criteria=DCMTK_367, vulnerable=True)]
    before = nvd_matches(record(shared_data, "CVE-2022-2119"))
    assert before == [CpeMatch(criteria=ANY_DCMTK, vulnerable=True, version_end_excluding="3.6.7")]


@pytest.mark.parametrize(
    ("version", "cve_2022_43272", "cve_2022_2119"),
    [
        ("3.6.7", True, False),  # the boundary: exactly 3.6.7, and "before 3.6.7"
        ("3.6.6", False, True),
        ("3.6.0", False, True),
        ("3.5.4", False, True),
        ("3.6.8", False, False),
        ("3.6.7.1", False, False),
        ("*", None, None),  # a DCMTK of unknown version
    ],
)
def test_dcmtk_boundary(
    shared_data: Path, version: str, cve_2022_43272: bool | None, cve_2022_2119: bool | None
) -> None:
    candidate = f"cpe:2.3:a:offis:dcmtk:{version}:*:*:*:*:*:*:*"
    for cve, expected in (("CVE-2022-43272", cve_2022_43272), ("CVE-2022-2119", cve_2022_2119)):
        matches = nvd_matches(record(shared_data, cve))
        answer, basis = evaluate_configurations(matches, [candidate])
        assert answer is expected, (cve, version)
        assert basis == (matches if expected else [])


def test_dcmtk_among_other_software(shared_data: Path) -> None:
    software = [
        "cpe:2.3:o:microsoft:windows_10:1809",
        "cpe:2.3:a:openbsd:openssh:8.2:p1",
        DCMTK_367,
    ]
    assert evaluate_configurations(nvd_matches(record(shared_data, "CVE-2022-43272")), software)[0]
    assert (
        evaluate_configurations(nvd_matches(record(shared_data, "CVE-2022-2119")), software)[0]
        is False
    )


def test_firmware_running_on_hardware(shared_data: Path) -> None:
    """CVE-2020-25158 (B. Braun SpaceCom): vulnerable firmware AND the platform it runs on."""
    matches = nvd_matches(record(shared_data, "CVE-2020-25158"))
    hardware = "cpe:2.3:h:bbraun:spacecom:-:*:*:*:*:*:*:*"
    answer, basis = evaluate_configurations(matches, ["cpe:2.3:o:bbraun:spacecom:l80", hardware])
    assert answer is True
    assert [m.version_end_including for m in basis] == ["l81"]
    assert evaluate_configurations(matches, ["cpe:2.3:o:bbraun:spacecom:l82", hardware]) == (
        False,
        [],
    )
    # the firmware alone, without the hardware it must run on
    assert evaluate_configurations(matches, ["cpe:2.3:o:bbraun:spacecom:l80"]) == (False, [])
    # the hardware alone is a platform-only match: never enough
    assert evaluate_configurations(matches, [hardware]) == (False, [])
    # the data module's firmware is listed by version
    module = "cpe:2.3:h:bbraun:datamodule_compactplus:-:*:*:*:*:*:*:*"
    answer, basis = evaluate_configurations(
        matches, ["cpe:2.3:o:bbraun:datamodule_compactplus:a11", module]
    )
    assert answer is True
    assert [unquote(cpe(m.criteria).version) for m in basis] == ["a11"]


def test_versionless_firmware(shared_data: Path) -> None:
    """CVE-2019-10966 (GE Aestiva/Aespire): firmware CPEs with version NA on their hardware."""
    matches = nvd_matches(record(shared_data, "CVE-2019-10966"))
    hardware = "cpe:2.3:h:ge:aestiva_7100:-"
    assert evaluate_configurations(matches, ["cpe:2.3:o:ge:aestiva_7100_firmware:-", hardware])[0]
    # a firmware of unknown version: cannot tell; of some version: NA does not hold
    assert evaluate_configurations(matches, ["cpe:2.3:o:ge:aestiva_7100_firmware:*", hardware]) == (
        None,
        [],
    )
    assert evaluate_configurations(
        matches, ["cpe:2.3:o:ge:aestiva_7100_firmware:1.2", hardware]
    ) == (False, [])


def test_every_criteria_in_the_records_binds_back(shared_data: Path) -> None:
    folder = shared_data / "advisories" / "nvd_cve_json2"
    seen = 0
    for path in sorted(folder.glob("*.json")):
        for match in nvd_matches(json.loads(path.read_text(encoding="utf-8"))):
            assert cpe(match.criteria).formatted() == match.criteria
            seen += 1
    assert seen >= 16


def m(criteria: str, vulnerable: bool = True, **kwargs: Any) -> CpeMatch:
    return CpeMatch(criteria=criteria, vulnerable=vulnerable, **kwargs)


def test_configuration_logic() -> None:
    app = "cpe:2.3:a:x:app:1.0"
    other = "cpe:2.3:a:x:other:1.0"
    # no configurations: not analysed, cannot tell
    assert evaluate_configurations([], [app]) == (None, [])
    # OR node: any match
    node = [m("cpe:2.3:a:x:app:1.0"), m("cpe:2.3:a:x:app:2.0")]
    assert evaluate_configurations(node, [app]) == (True, [node[0]])
    assert evaluate_configurations(node, [other]) == (False, [])
    assert evaluate_configurations(node, []) == (False, [])
    # AND node: all matches
    both = [
        m("cpe:2.3:a:x:app:1.0", node_operator="AND"),
        m("cpe:2.3:a:x:other:1.0", node_operator="AND"),
    ]
    assert evaluate_configurations(both, [app]) == (False, [])
    assert evaluate_configurations(both, [app, other]) == (True, both)
    # negated node: the configuration holds when the candidate is NOT the named one; the
    # negated match cannot be the basis
    negated = [
        m("cpe:2.3:a:x:app:*", configuration_operator="AND"),
        m("cpe:2.3:a:x:app:1.0", node=1, negate=True, configuration_operator="AND"),
    ]
    assert evaluate_configurations(negated, ["cpe:2.3:a:x:app:2.0"]) == (True, [negated[0]])
    assert evaluate_configurations(negated, [app]) == (False, [])
    # configurations are ORed; unknown (version ANY) in one, known in another
    configurations = [
        m("cpe:2.3:a:x:app:*", version_end_excluding="2.0"),
        m("cpe:2.3:a:x:tool:3.0", configuration=1),
    ]
    assert evaluate_configurations(configurations, ["cpe:2.3:a:x:app:*"]) == (None, [])
    assert evaluate_configurations(
        configurations, ["cpe:2.3:a:x:app:*", "cpe:2.3:a:x:tool:3.0"]
    ) == (True, [configurations[1]])
    assert evaluate_configurations(configurations, ["cpe:2.3:a:x:app:2.0"]) == (False, [])
    # a configuration of platform-only matches never counts
    platform_only = [m("cpe:2.3:o:x:os:*", vulnerable=False)]
    assert evaluate_configurations(platform_only, ["cpe:2.3:o:x:os:1"]) == (False, [])
    # a platform of unknown presence: cannot tell
    running_on = [
        m("cpe:2.3:a:x:app:1.0", configuration_operator="AND"),
        m("cpe:2.3:o:x:os:7", vulnerable=False, node=1, configuration_operator="AND"),
    ]
    assert evaluate_configurations(running_on, [app, "cpe:2.3:o:x:os:*"]) == (None, [])
    assert evaluate_configurations(running_on, [app, "cpe:2.3:o:x:os:7"]) == (
        True,
        [running_on[0]],
    )
