"""Versions and CPE names under generated and hostile input.

Versions generated from the schemes the feeds use always parse, and ``compare`` is a total
order on them (reflexive, antisymmetric, transitive, agreeing with ``==`` and ``hash``).
Arbitrary text makes ``parse_version``, ``range_from_text`` and ``range_contains`` answer -
never raise. CPE names generated in the formatted string binding come back unchanged from
``parse_cpe(...).formatted()``; arbitrary text gives a ``Cpe`` or None.
"""

from __future__ import annotations

from functools import cmp_to_key

from hypothesis import given
from hypothesis import strategies as st

from medsec.assess.cpe import (
    ANY,
    ATTRIBUTES,
    Cpe,
    cpe_matches,
    evaluate_configurations,
    match_cpe_range,
    parse_cpe,
)
from medsec.assess.versions import (
    Version,
    compare,
    in_range,
    parse_version,
    range_contains,
    range_from_text,
    ranges_from_text,
)
from medsec.model.vulns import CpeMatch, VersionRange

# --- versions -------------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(0, 20).map(str),
    st.integers(0, 10**12).map(str),
    st.integers(0, 999).map(lambda n: f"{n:03d}"),
)
words = st.sampled_from(
    ["alpha", "beta", "rc", "dev", "pre", "a", "b", "p", "sp", "sr", "build", "patch", "mr", "u"]
)
separators = st.sampled_from([".", "-", "_", "~", ""])


@st.composite
def versions(draw: st.DrawFn) -> str:
    """A version in one of the feeds' shapes: [epoch:|prefix]n(.n)*[sep token]*[+build]."""
    text = ""
    if draw(st.booleans()) and draw(st.booleans()):
        text += draw(st.integers(0, 3).map(str)) + ":"  # Debian: a number follows the epoch
    elif draw(st.booleans()) and draw(st.booleans()):
        text += draw(st.sampled_from(["r", "bt", "l", "u", "sv", "c."]))
    text += ".".join(draw(st.lists(numbers, min_size=1, max_size=5)))
    for _ in range(draw(st.integers(0, 4))):
        token = draw(st.one_of(numbers, words))
        separator = draw(separators)
        if not separator and text[-1].isalpha() == token[0].isalpha():
            separator = "."  # letters run into letters ("u" "p" is the word "up")
        text += separator + token
    if draw(st.booleans()) and draw(st.booleans()):
        text += "+" + draw(st.sampled_from(["b5", "build.7", "20230501", "sha.1a2b"]))
    return text


def parsed(text: str) -> Version:
    version = parse_version(text)
    assert version is not None, text
    return version


@given(versions())
def test_generated_versions_parse_and_equal_themselves(text: str) -> None:
    version = parsed(text)
    assert compare(text, text) == 0
    assert version == parsed(text.upper())
    assert version.text == text


@given(versions(), versions())
def test_compare_is_antisymmetric_and_agrees_with_equality(a: str, b: str) -> None:
    ab, ba = compare(a, b), compare(b, a)
    assert ab is not None and ba is not None
    assert ab == -ba
    assert (ab == 0) == (parsed(a) == parsed(b))
    if ab == 0:
        assert hash(parsed(a)) == hash(parsed(b))


@given(st.lists(versions(), min_size=3, max_size=8))
def test_compare_is_transitive(texts: list[str]) -> None:
    ordered = sorted(texts, key=cmp_to_key(lambda a, b: compare(a, b) or 0))
    for i, low in enumerate(ordered):
        for high in ordered[i + 1 :]:
            assert (compare(low, high) or 0) <= 0, (low, high)


@given(versions(), versions())
def test_in_range_agrees_with_compare(a: str, b: str) -> None:
    order = compare(a, b)
    assert order is not None
    expected = None if parsed(a).prefix != parsed(b).prefix else order < 0
    assert in_range(a, end_excluding=b) is expected
    if expected is not None:
        assert in_range(a, start_including=b) is (order >= 0)
        assert in_range(a, start_including=a, end_including=a) is True


@given(st.text(max_size=300))
def test_parse_version_answers_for_any_text(text: str) -> None:
    version = parse_version(text)
    assert version is None or isinstance(version, Version)
    if version is not None:
        assert compare(version, text) == 0


# --- free-text statements -------------------------------------------------------------------

fragments = st.sampled_from(
    [
        "<=",
        "<",
        ">=",
        ">",
        "=",
        "!=",
        "|",
        ",",
        ";",
        " and ",
        " or ",
        " and below",
        " and later",
        "prior to ",
        "before ",
        "between ",
        " through ",
        " to ",
        " - ",
        "all versions ",
        "versions ",
        "vers:",
        "generic/",
        "all/*",
        "*",
        "+",
        "(",
        ")",
        " ",
        "3.x",
        "12.2.x.x",
        "1.0",
        "2.3.6",
        "v7.1",
        "7.1 SP3",
        "R8.0.3",
        "BT06",
        "U61",
        "%2B",
        "august 28",
    ]
)
statements = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(fragments, versions(), st.text(max_size=3)), max_size=12).map("".join),
)


@given(statements, st.one_of(versions(), st.text(max_size=20)))
def test_statements_are_read_or_kept_raw(text: str, version: str) -> None:
    rng = range_from_text(text)
    assert rng.raw == text.strip()
    for bound in (rng.version, rng.greater_than, rng.less_than, rng.less_than_or_equal):
        assert bound is None or bound == "*" or parse_version(bound) is not None, (text, bound)
    assert range_contains(rng, version) in (True, False, None)
    ranges = ranges_from_text(text)
    assert ranges and all(r.raw == text.strip() for r in ranges)
    for each in ranges:
        assert range_contains(each, version) in (True, False, None)
    if rng.all_versions:
        assert range_contains(rng, version) is True


@given(
    st.builds(
        VersionRange,
        version=st.one_of(st.none(), versions(), st.text(max_size=10)),
        greater_than=st.one_of(st.none(), versions()),
        less_than=st.one_of(st.none(), versions(), st.just("*")),
        less_than_or_equal=st.one_of(st.none(), versions()),
        version_type=st.one_of(st.none(), st.sampled_from(["semver", "custom", "git"])),
        raw=st.one_of(st.none(), statements),
        all_versions=st.booleans(),
    ),
    st.one_of(versions(), st.text(max_size=20)),
)
def test_range_contains_answers_for_any_range(rng: VersionRange, version: str) -> None:
    assert range_contains(rng, version) in (True, False, None)


# --- CPE names ------------------------------------------------------------------------------

_QUOTABLE = "!\"#$%&'()+,/:;<=>@[]^`{|}~*?\\"
unit = st.one_of(
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789_.-"),
    st.sampled_from(_QUOTABLE).map(lambda c: "\\" + c),
)


@st.composite
def fs_values(draw: st.DrawFn) -> str:
    """One attribute of a normalised formatted string: ANY, NA or a value with its
    punctuation quoted (except ``.`` and ``-``) and wildcards only at its ends."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return "*"
    if kind == 1:
        return "-"
    middle = "".join(draw(st.lists(unit, min_size=1, max_size=8)))
    head = draw(st.sampled_from(["", "", "*", "?", "??"]))
    tail = draw(st.sampled_from(["", "", "*", "?"]))
    value = head + middle + tail
    return "\\-" if value == "-" else value  # a lone literal hyphen stays quoted: bare is NA


@st.composite
def fs_attributes(draw: st.DrawFn) -> list[str]:
    part = draw(st.sampled_from(["a", "o", "h", "*"]))
    return [part, *(draw(fs_values()) for _ in range(len(ATTRIBUTES) - 1))]


def bind(attributes: list[str]) -> str:
    return "cpe:2.3:" + ":".join(attributes)


fs_names = fs_attributes().map(bind)


@given(fs_names)
def test_formatted_names_round_trip(text: str) -> None:
    cpe = parse_cpe(text)
    assert cpe is not None, text
    assert cpe.formatted() == text
    assert cpe_matches(cpe, cpe)
    assert cpe_matches(Cpe(ANY), cpe)


@given(fs_attributes())
def test_upper_case_and_short_names_normalise(attributes: list[str]) -> None:
    text = bind(attributes)
    cpe = parse_cpe(text.upper())
    assert cpe == parse_cpe(text)
    while len(attributes) > 1 and attributes[-1] == "*":
        attributes = attributes[:-1]
    assert parse_cpe(bind(attributes)) == cpe


cpe_texts = st.one_of(
    st.text(max_size=120),
    st.text(max_size=120).map(lambda t: "cpe:2.3:" + t),
    st.text(max_size=120).map(lambda t: "cpe:/" + t),
    st.lists(st.one_of(fs_values(), st.text(max_size=4)), max_size=14).map(
        lambda parts: "cpe:2.3:" + ":".join(parts)
    ),
)


@given(cpe_texts)
def test_parse_cpe_answers_for_any_text(text: str) -> None:
    cpe = parse_cpe(text)
    assert cpe is None or isinstance(cpe, Cpe)
    if cpe is not None:
        assert parse_cpe(cpe.formatted()) == cpe


@given(
    cpe_texts,
    cpe_texts,
    st.one_of(st.none(), versions(), st.text(max_size=8)),
    st.one_of(st.none(), versions(), st.text(max_size=8)),
)
def test_matching_answers_for_any_names(
    criteria: str, candidate: str, start: str | None, end: str | None
) -> None:
    answer = match_cpe_range(
        criteria, candidate, version_start_including=start, version_end_excluding=end
    )
    assert answer in (True, False, None)
    matches = [
        CpeMatch(criteria=criteria, vulnerable=True, version_end_excluding=end),
        CpeMatch(criteria=candidate, vulnerable=False, node=1, configuration_operator="AND"),
    ]
    verdict, basis = evaluate_configurations(matches, [candidate, criteria])
    assert verdict in (True, False, None)
    assert basis == ([matches[0]] if verdict else [])
