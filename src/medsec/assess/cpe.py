"""CPE 2.3 names: parsing both bindings, name matching, NVD version ranges and configurations.

A ``Cpe`` holds the eleven attributes of a well-formed CPE name (WFN, NISTIR 7695) with
logical ``ANY`` (``*``) and ``NA`` (``-``). Values are kept in WFN form: lower case, every
character other than a letter, a digit or ``_`` quoted with a backslash (``8\\.0\\.6001``), an
unquoted ``*`` or ``?`` at the start or end being a wildcard. ``parse_cpe`` reads the formatted
string binding (``cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*``, backslash escapes) and the CPE
2.2 URI binding (``cpe:/a:offis:dcmtk:3.6.7``, percent escapes, packed ``~`` editions);
``Cpe.formatted`` binds back to the formatted string.

Matching (NISTIR 7696, simplified) compares attribute by attribute: a pattern's ANY matches
anything, NA only NA, a value matches case-insensitively with its wildcards (``*`` any run of
characters, ``?`` one). ``match_cpe_range`` adds the NVD ``versionStart*``/``versionEnd*``
bounds through ``versions.in_range`` and answers None when the candidate does not say enough
(its version or another attribute the pattern names is ANY, or the versions cannot be
compared); ``evaluate_configurations`` combines NVD configurations (nodes of ``CpeMatch``
values) in three-valued logic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache

from medsec.assess.versions import in_range
from medsec.model.vulns import CpeMatch

__all__ = [
    "ANY",
    "ATTRIBUTES",
    "NA",
    "Cpe",
    "cpe_matches",
    "evaluate_configurations",
    "match_cpe_range",
    "parse_cpe",
    "quote",
    "unquote",
]

ANY = "*"
"""Logical value ANY: the attribute may be anything."""
NA = "-"
"""Logical value NA: the attribute does not apply."""
MAX_LENGTH = 1024
"""Longer text is no CPE name."""

_PARTS = frozenset({"a", "o", "h", ANY})
_FS_PREFIX = "cpe:2.3:"
_URI_PREFIX = "cpe:/"
_PUNCTUATION = frozenset("!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~-")
"""Printable ASCII other than letters, digits, ``_`` and space: quoted in WFN values."""
_FS_BARE = frozenset(".-")
"""Quoted in WFN values, written bare in the formatted string."""


@dataclass(frozen=True, slots=True)
class Cpe:
    """A CPE name's eleven attributes in WFN form (see the module doc)."""

    part: str
    """``a`` (application), ``o`` (operating system), ``h`` (hardware) or ANY."""
    vendor: str = ANY
    product: str = ANY
    version: str = ANY
    update: str = ANY
    edition: str = ANY
    language: str = ANY
    sw_edition: str = ANY
    target_sw: str = ANY
    target_hw: str = ANY
    other: str = ANY

    def formatted(self) -> str:
        """The CPE 2.3 formatted string binding."""
        return _FS_PREFIX + ":".join(_bind_fs(getattr(self, name)) for name in ATTRIBUTES)

    def __str__(self) -> str:
        return self.formatted()


ATTRIBUTES: tuple[str, ...] = tuple(f.name for f in fields(Cpe))
"""The attribute names in binding order."""


def quote(text: str) -> str:
    """A WFN value for free text (a product or vendor name as an inventory has it): lower
    case, spaces as ``_``, punctuation quoted; ANY for empty text."""
    words = "_".join(text.split()).lower()
    if not words:
        return ANY
    return "".join("\\" + c if c in _PUNCTUATION else c for c in words if c.isprintable())


def unquote(value: str) -> str:
    """A WFN value's text with its quoting removed (``3\\.6\\.7`` -> ``3.6.7``); logical
    values come back as ``*`` and ``-``."""
    out: list[str] = []
    escaped = False
    for c in value:
        if escaped or c != "\\":
            out.append(c)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def parse_cpe(text: str) -> Cpe | None:
    """The CPE name ``text`` writes (formatted string or URI binding), or None when it is
    none: unknown prefix, more attributes than the binding has, an empty or malformed value
    (a trailing backslash, a wildcard inside a value, characters outside printable ASCII),
    a part other than ``a``, ``o``, ``h`` or ANY. Missing trailing attributes are ANY."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        return None
    return _parse(text.strip())


@lru_cache(maxsize=65536)
def _parse(text: str) -> Cpe | None:
    if not text.isascii() or not text.isprintable() or " " in text:
        return None
    lowered = text.lower()
    if lowered.startswith(_FS_PREFIX):
        values = _parse_fs(lowered[len(_FS_PREFIX) :])
    elif lowered.startswith(_URI_PREFIX):
        values = _parse_uri(lowered[len(_URI_PREFIX) :])
    else:
        return None
    if values is None or values[0] not in _PARTS:
        return None
    return Cpe(*values, *([ANY] * (len(ATTRIBUTES) - len(values))))


def _parse_fs(body: str) -> list[str] | None:
    """The formatted string's values in WFN form."""
    components: list[str] = []
    current: list[str] = []
    escaped = False
    for c in body:
        if escaped:
            current.append("\\" + c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == ":":
            components.append("".join(current))
            current = []
        else:
            current.append(c)
    if escaped:
        return None
    components.append("".join(current))
    if len(components) > len(ATTRIBUTES):
        return None
    values: list[str] = []
    for component in components:
        value = component if component in (ANY, NA) else _unbind_fs(component)
        if value is None:
            return None
        values.append(value)
    return values


def _unbind_fs(component: str) -> str | None:
    """A formatted-string value (not a logical one) in WFN form."""
    out: list[str] = []
    for unit in _units(component):
        if unit[0] == "\\":
            out.append(unit[1] if unit[1].isalnum() or unit[1] == "_" else unit)
        elif unit.isalnum() or unit in ("_", "*", "?"):
            out.append(unit)
        else:
            out.append("\\" + unit)
    value = "".join(out)
    return value if _wildcards_valid(value) else None


_URI_ATTRIBUTES = ("part", "vendor", "product", "version", "update", "edition", "language")
_PACKED_EDITION = ("edition", "sw_edition", "target_sw", "target_hw", "other")


def _parse_uri(body: str) -> list[str] | None:
    """The CPE 2.2 URI's values in WFN form (editions packed with ``~`` unpacked)."""
    components = body.split(":")
    if len(components) > len(_URI_ATTRIBUTES):
        return None
    found: dict[str, str] = {}
    for name, component in zip(_URI_ATTRIBUTES, components, strict=False):
        if name == "edition" and component.startswith("~"):
            packed = component.split("~")
            if len(packed) != len(_PACKED_EDITION) + 1:
                return None
            pieces = list(zip(_PACKED_EDITION, packed[1:], strict=True))
        else:
            pieces = [(name, component)]
        for piece_name, piece in pieces:
            value = _decode_uri(piece)
            if value is None:
                return None
            found[piece_name] = value
    return [found.get(name, ANY) for name in ATTRIBUTES]


def _decode_uri(component: str) -> str | None:
    if component == "":
        return ANY
    if component == "-":
        return NA
    out: list[str] = []
    index = 0
    while index < len(component):
        c = component[index]
        if c == "%":
            code = component[index + 1 : index + 3]
            if len(code) != 2 or any(h not in "0123456789abcdef" for h in code):
                return None
            index += 3
            if code == "01":
                out.append("?")
                continue
            if code == "02":
                out.append("*")
                continue
            c = chr(int(code, 16))
            if not c.isprintable() or c == " ":
                return None
        else:
            index += 1
        out.append(c if c.isalnum() or c == "_" else "\\" + c)
    value = "".join(out)
    return value if _wildcards_valid(value) else None


def _units(value: str) -> list[str]:
    """A WFN value as characters: a quoted pair is one unit."""
    units: list[str] = []
    index = 0
    while index < len(value):
        if value[index] == "\\":
            units.append(value[index : index + 2])
            index += 2
        else:
            units.append(value[index])
            index += 1
    return units


def _wildcards_valid(value: str) -> bool:
    """Unquoted ``*`` only alone at either end, unquoted ``?`` only in runs at either end,
    around at least one other character (or ``?`` runs alone); no empty value."""
    units = _units(value)
    if not units or units[-1] == "\\":
        return False
    start, end = 0, len(units)
    if units[0] == "*":
        start = 1
    else:
        while start < end and units[start] == "?":
            start += 1
    if end > start and units[-1] == "*":
        end -= 1
    else:
        while end > start and units[end - 1] == "?":
            end -= 1
    middle = units[start:end]
    if not middle:
        return "*" not in units
    return all(unit not in ("*", "?") for unit in middle)


def _bind_fs(value: str) -> str:
    if value in (ANY, NA, "\\-"):
        return value
    return "".join(unit[1] if unit[1:] in _FS_BARE else unit for unit in _units(value))


# ---------------------------------------------------------------------------------------
# Matching


def _relation(pattern: str, candidate: str) -> bool | None:
    """Whether a candidate's attribute value is within a pattern's; None when the candidate
    leaves it open (ANY, or wildcards of its own) where the pattern names a value or NA."""
    if pattern == ANY:
        return True
    if candidate == ANY:
        return None
    if pattern == NA:
        return candidate == NA
    if candidate == NA:
        return False
    candidate_units = _units(candidate)
    if "*" in candidate_units or "?" in candidate_units:
        return True if pattern == candidate else None
    return _glob(_units(pattern), candidate_units)


def _glob(pattern: list[str], candidate: list[str]) -> bool:
    """Wildcard match of units: ``*`` any run, ``?`` exactly one (linear backtracking)."""
    p = c = 0
    star = -1
    resume = 0
    while c < len(candidate):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == candidate[c]):
            p += 1
            c += 1
        elif p < len(pattern) and pattern[p] == "*":
            star = p
            resume = c
            p += 1
        elif star >= 0:
            p = star + 1
            resume += 1
            c = resume
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def cpe_matches(pattern: Cpe, candidate: Cpe) -> bool:
    """Whether every attribute of ``candidate`` is within ``pattern``'s (ANY matches
    anything, NA only NA, values case-insensitively with the pattern's wildcards). A
    candidate's ANY where the pattern names a value or NA does not match."""
    return all(
        _relation(getattr(pattern, name), getattr(candidate, name)) is True for name in ATTRIBUTES
    )


@lru_cache(maxsize=1 << 17)
def match_cpe_range(
    criteria: str,
    candidate: str,
    *,
    version_start_including: str | None = None,
    version_start_excluding: str | None = None,
    version_end_including: str | None = None,
    version_end_excluding: str | None = None,
) -> bool | None:
    """Whether ``candidate`` (a CPE name) is among the names an NVD match covers: its
    ``criteria`` CPE (version usually ``*``) and version bounds (None, ``""``, ``*`` =
    unbounded). None when it cannot be told: either name unreadable, the candidate's
    version ANY while bounds are given, the candidate ANY where the criteria name a value
    or NA, versions in different schemes or unparseable."""
    pattern = parse_cpe(criteria)
    name = parse_cpe(candidate)
    if pattern is None or name is None:
        return None
    verdict: bool | None = True
    for attribute in ATTRIBUTES:
        relation = _relation(getattr(pattern, attribute), getattr(name, attribute))
        if relation is False:
            return False
        if relation is None:
            verdict = None
    bounds = {
        "start_including": version_start_including,
        "start_excluding": version_start_excluding,
        "end_including": version_end_including,
        "end_excluding": version_end_excluding,
    }
    if all(bound is None or bound.strip() in ("", "*", "-") for bound in bounds.values()):
        return verdict
    if name.version == ANY:
        return None
    if name.version == NA:
        return False
    inside = in_range(unquote(name.version), **bounds)
    if inside is False:
        return False
    return verdict if inside else None


def _any(values: Iterable[bool | None]) -> bool | None:
    verdict: bool | None = False
    for value in values:
        if value is True:
            return True
        if value is None:
            verdict = None
    return verdict


def _all(values: Iterable[bool | None]) -> bool | None:
    verdict: bool | None = True
    for value in values:
        if value is False:
            return False
        if value is None:
            verdict = None
    return verdict


def _holds(match: CpeMatch, candidates: Sequence[str]) -> bool | None:
    return _any(
        match_cpe_range(
            match.criteria,
            candidate,
            version_start_including=match.version_start_including,
            version_start_excluding=match.version_start_excluding,
            version_end_including=match.version_end_including,
            version_end_excluding=match.version_end_excluding,
        )
        for candidate in candidates
    )


def evaluate_configurations(
    matches: Sequence[CpeMatch], candidates: Sequence[str]
) -> tuple[bool | None, list[CpeMatch]]:
    """Whether the CPE names ``candidates`` (one device's software, OS and hardware) make
    the NVD configurations ``matches`` apply, and the vulnerable matches that hold (the
    basis).

    Matches are grouped by configuration and node; a node is the OR/AND of its matches,
    inverted when negated; a configuration the OR/AND of its nodes; the answer the OR of the
    configurations, in three-valued logic (None = cannot tell). A configuration counts only
    through a vulnerable match that holds in a node that is not negated: platform-only
    matches ("running on") never make it true alone. No matches at all: None (not yet
    analysed)."""
    if not matches:
        return None, []
    configurations: dict[int, dict[int, list[tuple[CpeMatch, bool | None]]]] = {}
    for match in matches:
        nodes = configurations.setdefault(match.configuration, {})
        nodes.setdefault(match.node, []).append((match, _holds(match, candidates)))
    results: list[bool | None] = []
    basis: list[CpeMatch] = []
    for nodes in configurations.values():
        node_values: list[bool | None] = []
        vulnerable: list[tuple[CpeMatch, bool | None]] = []
        operator = "OR"
        for held in nodes.values():
            first = held[0][0]
            operator = first.configuration_operator
            combine = _all if first.node_operator == "AND" else _any
            value = combine(state for _, state in held)
            if first.negate:
                value = None if value is None else not value
            else:
                vulnerable.extend((match, state) for match, state in held if match.vulnerable)
            node_values.append(value)
        value = (_all if operator == "AND" else _any)(node_values)
        satisfied = [match for match, state in vulnerable if state is True]
        if value is False or all(state is False for _, state in vulnerable):
            results.append(False)
        elif value is True and satisfied:
            results.append(True)
            basis.extend(satisfied)
        else:
            results.append(None)
    answer = _any(results)
    return answer, basis if answer else []
