"""Versions as the feeds write them: parsing, one total order, ranges and free-text bounds.

Feeds and devices name versions in many schemes: dotted numbers (``3.6.7``,
``10.0.19041.1``), semver (``1.2.3-rc.1+b5``), vendor strings (``3.6.7a``, ``R2.1.3``,
``V4.1 SP2``, ``BT06``, ``C.00.04``), Debian-like ``epoch:version-revision``, dates
(``2023.05.01``), OpenSSH's ``8.2p1``. ``parse_version`` reads all of them into a
``Version`` with one documented order; text that is no version ("All versions", "") gives
``None``. Comparisons that cannot be decided give ``None`` too - callers treat it as
"unknown", never as "no".

The order (``Version`` fields, compared in this sequence):

1. ``epoch``: the number before a ``:`` (``1:2.3-4``), 0 when absent.
2. ``prefix``: leading letters (``r`` of ``R2.1.3``, ``bt`` of ``BT06``), compared as text;
   no prefix sorts first. A ``v``/``version``/``release`` prefix is dropped (``v7.1`` is
   ``7.1``). Versions with different prefixes are in different schemes: ``compare`` still
   orders them (the order is total), but ``in_range`` answers ``None`` for them.
3. ``release``: the leading dot-separated numbers, compared numerically with trailing zeros
   ignored (``1.0`` = ``1.0.0`` < ``1.0.1`` < ``1.10``).
4. ``suffix``: the rest, token by token (a token is a run of digits or of letters; ``.``,
   ``-``, ``_``, ``~`` and a space separate tokens). Numbers compare numerically, words
   lexically. A pre-release word right after the release (``dev`` < ``alpha`` < ``beta`` <
   ``pre``/``preview`` < ``rc``) sorts before the bare release (``1.2.3-rc.1`` <
   ``1.2.3``); anything else after the release sorts after it (``8.2p1``, ``3.6.7a``,
   ``4.1 SP2``, ``1.3.1 build 13``, the Debian revision ``2.3-4``): numbers before words at
   the same position. ``service pack``/``service release`` are read as ``sp``/``sr``.

Semver build metadata (after ``+``) is kept in ``build`` and ignored by the order. Case is
ignored. ``parse_version`` answers ``None`` for text with characters other than letters,
digits and the separators above, with English range words ("and", "prior", "all"...), with
month names (a date of distribution, not a version), with an ``x``/``*`` wildcard component
(``3.x`` is a range: ``range_from_text``), with more than four words, longer than 128
characters, or without a digit (except a lone revision letter or two, ``K``, ``Version B``).
Every step is a linear scan: any input is read in bounded time.

Free-text version statements (CSAF branch names, advisories) are read by
``range_from_text``/``ranges_from_text`` into ``model.vulns.VersionRange`` values; the
statement is always kept in ``raw``, and ``range_contains`` answers for any
``VersionRange`` (structured CVE 5 ones too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote

from medsec.model.vulns import VersionRange

__all__ = [
    "Version",
    "compare",
    "in_range",
    "parse_version",
    "range_contains",
    "range_from_text",
    "ranges_from_text",
]

MAX_VERSION_LENGTH = 128
"""Longer text is no version."""
MAX_STATEMENT_LENGTH = 256
"""Longer free text is kept raw without reading bounds."""
MAX_WORDS = 4

_PRE_RELEASE = {
    "dev": 0,
    "snapshot": 0,
    "alpha": 1,
    "beta": 2,
    "pre": 3,
    "preview": 3,
    "rc": 4,
    "cr": 4,
}
"""Words that, right after the release numbers, make a version sort before the release."""

_RANGE_WORDS = frozenset(
    "all and any are before below between earlier except excluding for from greater "
    "higher including is later less lower newer not of older on only onward onwards or "
    "over prior since than the through thru to under until up versions with".split()
)
"""Words of range statements: text holding one is not a single version."""

_QUALIFIERS = frozenset(
    "alpha beta build dev edition final fix ga hotfix pack patch preview rc release rev "
    "revision service snapshot update".split()
)
"""Words a version may hold beyond short codes (``1.3.1 build 13``, ``2nd edition``)."""

_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)

_ALLOWED = frozenset("0123456789abcdefghijklmnopqrstuvwxyz.-_+:~ ")
_SEPARATORS = frozenset(".-_~ ")
_TOKEN = re.compile(r"[0-9]+|[a-z]+|[^0-9a-z]+")
_EPOCH = re.compile(r"([0-9]{1,9}):(?=[0-9])")
_LEADING_WORD = re.compile(r"(?:version|ver|release|rel)(?:[ .]|(?=[0-9]))")
_LEADING_V = re.compile(r"v[ .]?(?=[0-9])")

_TERMINATOR = (1, 0, "")
"""Ends every suffix key: more tokens after the common part decide (see module doc)."""

SuffixItem = tuple[int, int, str]
"""(rank, number, word): pre-release word 0, end 1, number 2, other word 3."""


@dataclass(frozen=True, slots=True, order=True)
class Version:
    """A parsed version. Equality and order follow the module's rules (``1.0`` == ``1.0.0``);
    ``text`` and ``build`` are carried along but not compared."""

    epoch: int
    prefix: str
    """Leading letters, lower case (``r`` of ``R2.1.3``); empty for most versions."""
    release: tuple[int, ...]
    """Leading dot-separated numbers, trailing zeros removed."""
    suffix: tuple[SuffixItem, ...]
    """The rest as comparison items, ending with the terminator."""
    text: str = field(compare=False)
    """The version as given (trimmed)."""
    build: str = field(default="", compare=False)
    """Semver build metadata (after ``+``), ignored by the order."""

    def __str__(self) -> str:
        return self.text


def parse_version(text: str) -> Version | None:
    """The version ``text`` names, or None when it names none (see the module doc)."""
    if not isinstance(text, str) or len(text) > 4 * MAX_VERSION_LENGTH:
        return None
    return _parse(text)


@lru_cache(maxsize=65536)
def _parse(text: str) -> Version | None:
    given = text.strip()
    s = " ".join(given.lower().split())
    if not s or len(s) > MAX_VERSION_LENGTH:
        return None
    s = s.replace("service pack", "sp").replace("service release", "sr")
    leading = _LEADING_WORD.match(s)
    if leading:
        s = s[leading.end() :]
    leading = _LEADING_V.match(s)
    if leading:
        s = s[leading.end() :]
    if not s or not _ALLOWED.issuperset(s) or not _plausible_words(s):
        return None
    epoch = 0
    found = _EPOCH.match(s)
    if found:
        epoch = int(found.group(1))
        s = s[found.end() :]
    if ":" in s:
        return None
    main, plus, build = s.partition("+")
    if "+" in build or not main:
        return None
    tokens = _tokens(main)
    if tokens is None:
        return None
    return _version(given, epoch, tokens, build if plus else "")


def _plausible_words(s: str) -> bool:
    """At most ``MAX_WORDS`` words, each holding a digit, a known qualifier or at most three
    letters (``SP``, ``MR``, ``LPI``): "882300 Gemini 16 Slice" names a model, no version."""
    words = s.split(" ")
    return len(words) <= MAX_WORDS and all(
        len(word) <= 3 or word in _QUALIFIERS or any(c.isdigit() for c in word) for word in words
    )


def _tokens(main: str) -> list[tuple[str, str]] | None:
    """(separator before, token) pairs, or None when ``main`` is no version."""
    tokens: list[tuple[str, str]] = []
    separator = ""
    for piece in _TOKEN.findall(main):
        if piece[0].isalnum():
            if piece.isalpha() and (piece in _RANGE_WORDS or piece in _MONTHS):
                return None
            if piece == "x" and separator == ".":
                return None  # a wildcard component: 3.x is a range
            tokens.append((separator, piece))
            separator = ""
        elif len(piece) > 1 or piece not in _SEPARATORS:
            return None
        else:
            separator = piece
    if (separator and separator != ".") or not tokens:
        return None  # trailing "-", " " ...: unfinished text
    if not any(token.isdigit() for _, token in tokens):
        if len(tokens) != 1 or len(tokens[0][1]) > 2:
            return None
    return tokens


def _version(given: str, epoch: int, tokens: list[tuple[str, str]], build: str) -> Version:
    index = 0
    prefix = ""
    if tokens[0][1].isalpha():
        prefix = tokens[0][1]
        index = 1
    release: list[int] = []
    if index < len(tokens) and tokens[index][1].isdigit():
        release.append(int(tokens[index][1]))
        index += 1
        while index < len(tokens) and tokens[index][0] == "." and tokens[index][1].isdigit():
            release.append(int(tokens[index][1]))
            index += 1
    while release and release[-1] == 0:
        release.pop()
    suffix: list[SuffixItem] = []
    for position, (_, token) in enumerate(tokens[index:]):
        if token.isdigit():
            suffix.append((2, int(token), ""))
        elif position == 0 and token in _PRE_RELEASE:
            suffix.append((0, _PRE_RELEASE[token], token))
        else:
            suffix.append((3, 0, token))
    suffix.append(_TERMINATOR)
    return Version(epoch, prefix, tuple(release), tuple(suffix), given, build)


def _as_version(value: str | Version) -> Version | None:
    return value if isinstance(value, Version) else parse_version(value)


def compare(a: str | Version, b: str | Version) -> int | None:
    """-1, 0 or 1 as ``a`` sorts before, with or after ``b``; None when either is no
    version."""
    left, right = _as_version(a), _as_version(b)
    if left is None or right is None:
        return None
    return -1 if left < right else (1 if left > right else 0)


def _unbounded(bound: str | None) -> bool:
    return bound is None or bound.strip() in ("", "*", "-")


def in_range(
    version: str | Version,
    *,
    start_including: str | None = None,
    start_excluding: str | None = None,
    end_including: str | None = None,
    end_excluding: str | None = None,
) -> bool | None:
    """Whether ``version`` lies within the bounds (NVD ``versionStartIncluding``... ; None,
    ``""``, ``*`` or ``-`` = unbounded). None when it cannot be told: ``version`` or a bound
    is no version, or they belong to different schemes (different prefixes)."""
    bounds = [
        (bound, kind)
        for bound, kind in (
            (start_including, ">="),
            (start_excluding, ">"),
            (end_including, "<="),
            (end_excluding, "<"),
        )
        if not _unbounded(bound)
    ]
    if not bounds:
        return True
    parsed = _as_version(version)
    if parsed is None:
        return None
    verdict = True
    for bound, kind in bounds:
        limit = parse_version(bound or "")
        if limit is None or limit.prefix != parsed.prefix:
            return None
        if kind == ">=":
            verdict = verdict and parsed >= limit
        elif kind == ">":
            verdict = verdict and parsed > limit
        elif kind == "<=":
            verdict = verdict and parsed <= limit
        else:
            verdict = verdict and parsed < limit
    return verdict


# ---------------------------------------------------------------------------------------
# Free-text version statements


@dataclass(frozen=True, slots=True)
class _Bound:
    """One comparison of a statement (``<= 2.3.6``) before bounds are paired into spans."""

    op: str
    """``<``, ``<=``, ``>``, ``>=``, ``=`` or ``!=``."""
    version: str


@dataclass(frozen=True, slots=True)
class _Span:
    """A contiguous range of versions; None ends are open."""

    start: str | None
    start_inclusive: bool
    end: str | None
    end_inclusive: bool


@dataclass(frozen=True, slots=True)
class _Reading:
    """What a statement says: every version, or the union of ``spans`` minus ``excluded``."""

    all_versions: bool = False
    spans: tuple[_Span, ...] = ()
    excluded: tuple[str, ...] = ()
    scheme: str | None = None


_I = re.IGNORECASE
_ALL = re.compile(r"(?:all|any|every)(?: (?:current |other |the )?(?:versions?|releases?))?|\*", _I)
_ALL_LEADING = re.compile(r"(?:all|any) (?:versions?|releases?) (?=\S)", _I)
_LEADING_NOUN = re.compile(r"(?:versions?|releases?) (?=\S)", _I)
_OP = re.compile(r"(<=|=<|>=|=>|!=|==|<|>|=)")
_OP_NORMAL = {"=<": "<=", "=>": ">=", "==": "="}
_TRAILING_JOIN = re.compile(r"(?:,| and)$", _I)
_WILDCARD = re.compile(r"v?([0-9]{1,9}(?:\.[0-9]{1,9}){0,8})((?:\.[x*]){1,4})", _I)
_SPLIT = re.compile(r"[|;,]")
_JOINERS = (re.compile(r" and ", _I), re.compile(r" or ", _I))

_VERSIONS_WORD = r"(?: (?:versions?|releases?))?"
_PHRASES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    # "2.3.6 and below", "4.0 and prior", "3.1 or earlier versions"
    (
        re.compile(
            r"(.+?),? (?:and|or) (?:all )?(?:below|prior|earlier|lower|older|before|under)"
            + _VERSIONS_WORD,
            _I,
        ),
        ("<=",),
    ),
    # "v7.1 and later", "2.0 or newer", "5.0 and above"
    (
        re.compile(
            r"(.+?),? (?:and|or) (?:all )?(?:later|above|newer|higher|greater|after|up|onwards?)"
            + _VERSIONS_WORD,
            _I,
        ),
        (">=",),
    ),
    (re.compile(r"(.+?) ?\+", _I), (">=",)),  # "5.0+"
    (
        re.compile(
            r"(?:prior to|before|below|earlier than|older than|lower than|less than|under|"
            r"up to but not including|until) (.+)",
            _I,
        ),
        ("<",),
    ),
    (
        re.compile(r"(?:up to(?: and including)?|through|thru|at most|no later than) (.+)", _I),
        ("<=",),
    ),
    (
        re.compile(r"(?:from|since|starting (?:with|from|at)|beginning with|at least) (.+)", _I),
        (">=",),
    ),
    (
        re.compile(r"(?:after|later than|newer than|greater than|higher than|above) (.+)", _I),
        (">",),
    ),
    (re.compile(r"between (.+?) and (.+)", _I), (">=", "<=")),
    (
        re.compile(r"(?:from )?(.+?) (?:through|thru|to|until|-|\u2013|\u2014) (.+)", _I),
        (">=", "<="),
    ),
)
"""Phrases naming bounds, each with the comparisons its groups get (anchored at both ends)."""


def range_from_text(text: str) -> VersionRange:
    """A free-text version statement as one ``VersionRange``: bounds when it states one
    contiguous range (``2.3.6 and below`` -> ``less_than_or_equal``; ``4.1 and later`` ->
    ``version`` 4.1 with ``less_than`` ``*``; ``after 4.1`` -> ``greater_than``; ``3.x`` ->
    ``version`` 3, ``less_than`` 4; an exact version -> ``version``), ``all_versions`` for
    "All versions"/``vers:all/*``, and
    only ``raw`` otherwise (alternatives such as ``5.0 | 5.1`` - see ``ranges_from_text`` -
    or text that names no versions). ``raw`` always holds the text (trimmed)."""
    ranges = ranges_from_text(text)
    if len(ranges) == 1:
        return ranges[0]
    return VersionRange(raw=_raw(text))


def ranges_from_text(text: str) -> tuple[VersionRange, ...]:
    """A free-text version statement as the ranges it lists: one per alternative
    (``5.0 | 5.1`` -> two exact versions; ``>= 1.0 | <= 1.1`` -> one range), each with the
    whole statement in ``raw``. When the statement cannot be put in ``VersionRange`` fields
    (unreadable text, a ``!=``), a single range with ``raw`` only."""
    raw = _raw(text)
    reading = _read(text) if isinstance(text, str) else None
    if reading is None:
        return (VersionRange(raw=raw),)
    if reading.all_versions:
        return (VersionRange(raw=raw, all_versions=True, version_type=reading.scheme),)
    if reading.excluded:
        return (VersionRange(raw=raw, version_type=reading.scheme),)
    return tuple(_span_range(span, reading.scheme, raw) for span in reading.spans)


def range_contains(rng: VersionRange, version: str) -> bool | None:
    """Whether ``version`` is among the versions ``rng`` covers; None when it cannot be
    told (no version, different schemes, a ``git`` range, raw text that names no
    versions). A range without bounds is read from its ``raw`` text; of the alternatives it
    lists, those in another scheme than ``version`` are passed over."""
    if rng.all_versions:
        return True
    if (rng.version_type or "").lower() == "git":
        return None
    bounds = (rng.version, rng.greater_than, rng.less_than, rng.less_than_or_equal)
    if any(_given(value) for value in bounds):
        return _structured_contains(rng, version)
    if not isinstance(rng.raw, str) or not rng.raw:
        return None
    reading = _read(rng.raw)
    if reading is None:
        return None
    return _reading_contains(reading, version)


_OPEN_START = frozenset({"", "0", "*", "-", "unspecified", "unknown", "n/a"})
"""``version`` values that, with an upper bound, mean "from the first" (CVE 5 writes
``0`` or ``unspecified``)."""


def _raw(text: str) -> str:
    return text.strip() if isinstance(text, str) else ""


def _given(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def _structured_contains(rng: VersionRange, version: str) -> bool | None:
    start = rng.version
    if any(_given(bound) for bound in (rng.greater_than, rng.less_than, rng.less_than_or_equal)):
        if start is not None and start.strip().lower() in _OPEN_START:
            start = None
        return in_range(
            version,
            start_including=start,
            start_excluding=rng.greater_than,
            end_excluding=rng.less_than,
            end_including=rng.less_than_or_equal,
        )
    if start is None or start.strip() == "*":
        return True
    return in_range(version, start_including=start, end_including=start)


def _reading_contains(reading: _Reading, version: str) -> bool | None:
    if reading.all_versions:
        return True
    for excluded in reading.excluded:
        if compare(version, excluded) == 0:
            return False
    decided = False
    for span in reading.spans:
        inside = in_range(
            version,
            start_including=span.start if span.start_inclusive else None,
            start_excluding=None if span.start_inclusive else span.start,
            end_including=span.end if span.end_inclusive else None,
            end_excluding=None if span.end_inclusive else span.end,
        )
        if inside:
            return True
        decided = decided or inside is False
    # alternatives in other schemes (U61 | L81 for a U version) say nothing about this one
    return False if decided else None


def _span_range(span: _Span, scheme: str | None, raw: str) -> VersionRange:
    """A span in ``VersionRange`` fields: an inclusive start in ``version`` (with
    ``less_than`` ``*`` when there is no end, so it is not read as exact), an exclusive one in
    ``greater_than``; the end in ``less_than`` or ``less_than_or_equal``."""
    exact = span.start == span.end and span.start_inclusive and span.end_inclusive
    inclusive_start = span.start if span.start_inclusive else None
    return VersionRange(
        version=inclusive_start,
        greater_than=None if span.start_inclusive else span.start,
        less_than=(
            ("*" if inclusive_start is not None else None)
            if span.end is None
            else (None if span.end_inclusive else span.end)
        ),
        less_than_or_equal=span.end if span.end_inclusive and not exact else None,
        version_type=scheme,
        raw=raw,
    )


@lru_cache(maxsize=16384)
def _read(text: str) -> _Reading | None:
    """What a statement says, or None when it cannot be read."""
    s = " ".join(text.split())
    if not s or len(s) > MAX_STATEMENT_LENGTH:
        return None
    if s[:5].lower() == "vers:":
        return _read_vers(s)
    pieces: list[_Bound | _Span] = []
    for piece in _SPLIT.split(s):
        piece = piece.strip()
        if not piece:
            continue
        if _ALL.fullmatch(piece):
            return _Reading(all_versions=True)
        read = _read_piece(piece)
        if read is None:
            return None
        pieces.extend(read)
    return _pair(pieces, scheme=None)


def _read_vers(s: str) -> _Reading | None:
    """A purl ``vers`` specifier: ``vers:<scheme>/<constraint>|<constraint>...``."""
    scheme, slash, constraints = s[len("vers:") :].partition("/")
    scheme = scheme.lower()
    constraints = constraints.replace(" ", "")
    if not slash or not scheme:
        return None
    if scheme == "all" or constraints == "*":
        return _Reading(all_versions=True, scheme=scheme)
    bounds: list[_Bound | _Span] = []
    for constraint in constraints.split("|"):
        if not constraint:
            continue
        found = _OP.match(constraint)
        op = _OP_NORMAL.get(found.group(1), found.group(1)) if found else "="
        version = unquote(constraint[found.end() :] if found else constraint)
        if parse_version(version) is None:
            return None
        bounds.append(_Bound(op, version))
    return _pair(bounds, scheme=scheme)


def _read_piece(piece: str) -> list[_Bound | _Span] | None:
    """One alternative of a statement as bounds or spans; None when unreadable."""
    leading = _ALL_LEADING.match(piece) or _LEADING_NOUN.match(piece)
    if leading:
        return _read_piece(piece[leading.end() :])
    if piece[0] in "<>=!":
        return _read_comparisons(piece)
    for pattern, ops in _PHRASES:
        found = pattern.fullmatch(piece)
        if found:
            bounds: list[_Bound | _Span] = []
            for op, operand in zip(ops, found.groups(), strict=True):
                read = _operand(op, operand.strip())
                if read is None:
                    break
                bounds.extend(read)
            else:
                return bounds
    exact = _operand("=", piece)
    if exact is not None:
        return exact
    for joiner in _JOINERS:
        parts = joiner.split(piece)
        if len(parts) > 1:
            listed: list[_Bound | _Span] = []
            for part in parts:
                read = _operand("=", part)
                if read is None:
                    break
                listed.extend(read)
            else:
                return listed
    return None


def _read_comparisons(piece: str) -> list[_Bound | _Span] | None:
    """``>= 7.0 < 7.2``, ``<= 2.3.6``, ``>=1.0, <2.0``: comparisons in a row."""
    parts = _OP.split(piece)
    if parts[0].strip():
        return None
    bounds: list[_Bound | _Span] = []
    for op, operand in zip(parts[1::2], parts[2::2], strict=True):
        value = _TRAILING_JOIN.sub("", operand.strip()).strip()
        read = _operand(_OP_NORMAL.get(op, op), value)
        if read is None:
            return None
        bounds.extend(read)
    return bounds


def _operand(op: str, value: str) -> list[_Bound | _Span] | None:
    """``op value`` as bounds, reading ``3.x`` wildcards as the range they name."""
    wildcard = _WILDCARD.fullmatch(value)
    if wildcard:
        low = wildcard.group(1)
        numbers = low.split(".")
        high = ".".join([*numbers[:-1], str(int(numbers[-1]) + 1)])
        if op == "<=":
            return [_Bound("<", high)]
        if op == "<":
            return [_Bound("<", low)]
        if op == ">=":
            return [_Bound(">=", low)]
        if op == ">":
            return [_Bound(">=", high)]
        if op == "=":
            return [_Span(low, True, high, False)]
        return None
    if parse_version(value) is None:
        return None
    return [_Bound(op, value)]


def _pair(pieces: list[_Bound | _Span], *, scheme: str | None) -> _Reading | None:
    """Spans from bounds in the order written: a lower bound followed by an upper bound is
    one range (``>= 1.0 | <= 1.1``, as in ``vers``); any other bound stands alone."""
    spans: list[_Span] = []
    excluded: list[str] = []
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        index += 1
        if isinstance(piece, _Span):
            spans.append(piece)
        elif piece.op == "!=":
            excluded.append(piece.version)
        elif piece.op == "=":
            spans.append(_Span(piece.version, True, piece.version, True))
        elif piece.op in ("<", "<="):
            spans.append(_Span(None, True, piece.version, piece.op == "<="))
        else:
            following = pieces[index] if index < len(pieces) else None
            if isinstance(following, _Bound) and following.op in ("<", "<="):
                index += 1
                spans.append(
                    _Span(piece.version, piece.op == ">=", following.version, following.op == "<=")
                )
            else:
                spans.append(_Span(piece.version, piece.op == ">=", None, False))
    if not spans and not excluded:
        return None
    return _Reading(spans=tuple(spans), excluded=tuple(excluded), scheme=scheme)
