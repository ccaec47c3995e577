"""A rule regex answers values that lack the text it needs without the expression: these tests
hold that shortcut to the expression's own answer, on random expressions (groups,
alternatives, repeats, anchors, case folding) and on every shipped one."""

from __future__ import annotations

import os
import pickle
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsec.identify.rules import Pattern, load_rules

EXAMPLES = int(os.environ.get("MEDSEC_PROPERTY_EXAMPLES", "300"))
PROPERTY = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
ALPHABET = "abAB k1-\u212a\u017fs\u00e9\u00c9"
"""Letters whose case folds meet (K and the Kelvin sign, s and the long s, é and É)."""


def same(pattern: Pattern, text: str, plain: re.Pattern[str] | None = None) -> bool:
    """``pattern`` (as read back from the rule cache) finds what the expression finds."""
    ours = pattern.search(text)
    theirs = (plain or re.compile(pattern.pattern, pattern.flags)).search(text)
    return (ours and (ours.span(), ours.groupdict())) == (
        theirs and (theirs.span(), theirs.groupdict())
    )


def expressions() -> st.SearchStrategy[str]:
    atoms = st.one_of(
        st.sampled_from(ALPHABET).map(re.escape),
        st.sampled_from(["[ab]", ".", r"\d", r"\b", "^", "$", r"\s"]),
    )

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        sequence = st.lists(inner, min_size=1, max_size=4).map("".join)
        return st.one_of(
            sequence,
            st.lists(sequence, min_size=2, max_size=3).map("|".join),
            st.tuples(
                st.sampled_from(["(", "(?:", "(?i:", "(?-i:", "(?>"]),
                st.lists(sequence, min_size=1, max_size=3).map("|".join),
            ).map(lambda t: f"{t[0]}{t[1]})"),
            st.tuples(inner, st.sampled_from(["?", "*", "+", "{2}", "{0,2}", "+?", "{1,3}"])).map(
                lambda t: f"(?:{t[0]}){t[1]}"
            ),
        )

    return st.recursive(atoms, grow, max_leaves=12)


@PROPERTY
@given(
    expression=expressions(),
    flags=st.sampled_from([0, re.IGNORECASE, re.ASCII | re.IGNORECASE]),
    inline=st.sampled_from(["", "(?i)"]),
    texts=st.lists(st.text(ALPHABET, max_size=10), max_size=8),
)
def test_needed_texts_never_change_an_answer(
    expression: str, flags: int, inline: str, texts: list[str]
) -> None:
    pattern = pickle.loads(pickle.dumps(Pattern.compile(inline + expression, flags)))
    # texts the expression asks for, and their case variants, besides random ones
    parts = re.split(r"[\\()\[\]?*+{}^$|:>.]", expression)
    for text in [*texts, *parts, "".join(parts), " ".join(parts)]:
        for variant in (text, text.upper(), text.lower(), f"x{text}-"):
            assert same(pattern, variant), (pattern, variant)


def test_alternatives_need_one_text_each() -> None:
    pattern = Pattern.compile(r"\bAquilion\b|\bTSX-?\d{3}", re.IGNORECASE)
    assert pattern.needs is None and pattern.choices == (("aquilion", "tsx"),)
    copy = pickle.loads(pickle.dumps(pattern))
    assert copy.search("Vivid E95") is None and copy._compiled is None
    assert copy.search("toshiba tsx-301") is not None
    # an alternative needing nothing makes the alternatives need nothing
    assert Pattern.compile(r"a|b?").choices == ()
    # nested: a repeat at least once, a group, alternatives inside alternatives
    nested = Pattern.compile(r"x(?:yz)+(?P<v>ab|cd)|(?:ef|gh)")
    assert nested.needs is None and nested.choices == (("yz", "ef", "gh"),)


def test_every_shipped_expression_answers_as_itself() -> None:
    """Each against texts made of its own pieces (which it may match) and of others'."""
    patterns = sorted(
        {c.pattern for r in load_rules() for c in r.conditions if c.pattern is not None},
        key=lambda p: (p.pattern, p.flags),
    )

    def pieces(p: Pattern) -> list[str]:
        found = [t for t in re.split(r"\\[bBsdwSDW]|[\\()\[\]?*+{}^$|]", p.pattern) if t]
        return [*found, "".join(found), " ".join(found)]

    others = sorted({t for p in patterns for t in pieces(p)})[::7]
    for p in patterns:
        ours, plain = pickle.loads(pickle.dumps(p)), re.compile(p.pattern, p.flags)
        for piece in [*pieces(p), *others, "", "\u212a", "\u017f"]:
            for text in (piece, piece.upper(), piece.lower(), f"x {piece} 450"):
                assert same(ours, text, plain), (p, text)
