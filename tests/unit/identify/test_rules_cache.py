"""The parsed rule base is cached by a digest of every file it was read from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from medsec.identify.rules import load_rules

SITE_RULE = """rules:
  - id: site.test.{n}
    when: [{{observation: DhcpRequest, field: host_name, op: prefix, value: "ward{n}-"}}]
    weight: 30
    yields: {{category: patient_monitor}}
    provenance: {{reference: "site naming convention", reviewed: "unverified"}}
"""


def test_cache_hit_equals_fresh_load_and_site_changes_are_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDSEC_CACHE", str(tmp_path / "cache"))
    site = tmp_path / "site"
    site.mkdir()
    (site / "ward.yaml").write_text(SITE_RULE.format(n=1))
    fresh = load_rules([site])
    assert len(list((tmp_path / "cache").glob("rules-*.pickle"))) == 1
    assert load_rules([site]) == fresh  # from the cache
    (site / "ward.yaml").write_text(SITE_RULE.format(n=2))
    changed = {r.id for r in load_rules([site])}
    assert "site.test.2" in changed and "site.test.1" not in changed
    assert len(list((tmp_path / "cache").glob("rules-*.pickle"))) == 2


def test_unwritable_or_corrupt_cache_falls_back_to_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("MEDSEC_CACHE", str(blocker / "cache"))
    assert load_rules()
    monkeypatch.setenv("MEDSEC_CACHE", str(tmp_path / "cache"))
    rules = load_rules()
    (entry,) = (tmp_path / "cache").glob("rules-*.pickle")
    entry.write_bytes(b"garbage")
    assert load_rules() == rules


def test_regexes_are_kept_as_text_and_compiled_on_first_use() -> None:
    import pickle
    import re

    from medsec.identify.rules import Pattern

    pattern = Pattern.compile(r"^Acme (?P<v>\d+)$", re.IGNORECASE)
    assert Pattern.compile(r"^Acme (?P<v>\d+)$", re.IGNORECASE) is pattern  # shared
    copy = pickle.loads(pickle.dumps(pattern))
    assert copy == pattern and hash(copy) == hash(pattern)
    assert copy._compiled is None  # nothing compiled until a test needs it
    match = copy.search("ACME 42")
    assert match is not None and match.group("v") == "42"
    assert copy.groupindex == {"v": 1}
    assert Pattern("a") != Pattern("a", re.IGNORECASE)


@pytest.mark.parametrize(
    ("pattern", "flags", "texts"),
    [
        (r"^Acme (?P<v>\d+)", 0, ["Acme 4", "acme 4", "xAcme 4", "Acm 4", ""]),
        (r"^acme (?P<v>\d+)", re.IGNORECASE, ["ACME 4", "Acme", "\u212acme 4", "acme 4"]),
        (r"(?i)^sky", 0, ["SKY", "s\u212ay", "\u017fky", "sk"]),  # inline flag, Unicode folds
        (r"^ab?c", 0, ["ac", "abc", "bc"]),  # an optional literal is not needed
        (r"^ab|cd", 0, ["cd", "ab", "xab"]),  # alternatives: nothing is needed
        (r"x(?:yz)*w", 0, ["xw", "xyzw", "xy"]),
        (r"caf\u00e9", re.IGNORECASE, ["CAF\u00c9", "cafe"]),  # non-ASCII: the expression
    ],
)
def test_needed_texts_never_change_an_answer(pattern: str, flags: int, texts: list[str]) -> None:
    import pickle

    from medsec.identify.rules import Pattern

    ours = pickle.loads(pickle.dumps(Pattern.compile(pattern, flags)))
    plain = re.compile(pattern, flags)
    for text in texts:
        a, b = ours.search(text), plain.search(text)
        assert (a and (a.span(), a.groupdict())) == (b and (b.span(), b.groupdict())), text


def test_values_without_the_needed_text_compile_nothing() -> None:
    import pickle

    from medsec.identify.rules import Pattern

    pattern = pickle.loads(pickle.dumps(Pattern.compile(r"^Vendor-(?P<m>\w+)/", re.IGNORECASE)))
    assert pattern.needs == ("vendor-", "/")
    assert pattern.search("other thing") is None and pattern._compiled is None
    assert pattern.search("VENDOR-x1/2") is not None and pattern._compiled is not None
