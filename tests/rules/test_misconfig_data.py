"""The misconfiguration knowledge (rules/vulns/default_credentials.yaml, end_of_life.yaml):
valid against their schemas, every date a real day, every entry citing its source - and each
citation checked against the advisory it names in shared/data: the CVE is there, its text
speaks of default or hard-coded credentials, the accounts listed are named in it, the model
patterns name products of its product tree. No password anywhere."""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from medsec.assess.misconfig import (
    parse_default_credentials,
    parse_end_of_life,
    shipped_default_credentials,
    shipped_end_of_life,
)
from medsec.assess.vulns.vendors import shipped_vendor_names
from medsec.identify.rules import load_profile_file, shipped_profile_files, shipped_rule_files
from medsec.model.errors import RuleError

RULES = Path(__file__).resolve().parents[2] / "src" / "medsec" / "rules"
CREDENTIALS = RULES / "vulns" / "default_credentials.yaml"
END_OF_LIFE = RULES / "vulns" / "end_of_life.yaml"
CREDENTIAL_WORDS = re.compile(
    r"hard-?coded|hard coded|default (password|credential)|password of|credentials", re.I
)


def raw(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def advisory(shared: Path, tracking_id: str) -> dict[str, Any]:
    (path,) = shared.glob(f"advisories/csaf_cisa_*/{tracking_id.lower()}.json")
    document: dict[str, Any] = json.loads(path.read_bytes())
    assert document["document"]["tracking"]["id"].upper() == tracking_id
    return document


def cve_text(document: dict[str, Any], cve: str) -> str:
    for v in document["vulnerabilities"]:
        if v.get("cve") == cve:
            cwe = v.get("cwe", {}).get("name", "")
            notes = (n.get("text", "") for n in v.get("notes", []))
            return " ".join([v.get("title", ""), cwe, *notes])
    raise AssertionError(f"{cve} is not in {document['document']['tracking']['id']}")


def product_names(document: dict[str, Any]) -> list[str]:
    names: list[str] = []

    def walk(branch: dict[str, Any]) -> None:
        for b in branch.get("branches", []):
            if b.get("category") == "product_name":
                names.append(b["name"])
            walk(b)

    walk(document["product_tree"])
    return names


def profile_models() -> set[str]:
    return {p.model for path in shipped_profile_files() for p in load_profile_file(path)}


# -------------------------------------------------------------------- default credentials


def test_the_credentials_file_loads_and_every_entry_cites_an_advisory() -> None:
    table = shipped_default_credentials()
    assert table == parse_default_credentials(raw(CREDENTIALS), "default_credentials.yaml")
    assert len(table.entries) >= 40
    assert len({e.id for e in table.entries}) == len(table.entries)
    for e in table.entries:
        assert re.fullmatch(r"(ICSMA|ICSA)-\d{2}-\d{3}-\d{2}[A-Z]?", e.reference), e.id
        assert e.cves and e.source and e.url and e.url.startswith("https://www.cisa.gov/")
        assert e.reference.lower() in e.url, e.id
    assert table.communities == {"public", "private"}
    assert "TA17-156A" in table.community_reference


def test_every_citation_is_in_the_advisory_it_names(shared_data: Path) -> None:
    """The CVE is in the advisory, speaks of credentials, and names each account listed."""
    checked = 0
    for e in shipped_default_credentials().entries:
        document = advisory(shared_data, e.reference)
        texts = {cve: cve_text(document, cve) for cve in e.cves}
        assert any(CREDENTIAL_WORDS.search(t) for t in texts.values()), e.id
        for account in e.accounts:
            assert any(re.search(rf"\b{re.escape(account)}\b", t) for t in texts.values()), (
                e.id,
                account,
            )
        checked += 1
    assert checked >= 40


def test_model_patterns_name_the_advisory_s_products(shared_data: Path) -> None:
    """Each affected-product pattern matches a product of the cited advisory's tree (whole
    name) or, for products only the CVE text names, a phrase of that text; each product-line
    pattern matches a product line identification names."""
    lines = profile_models()
    unmatched = []
    for e in shipped_default_credentials().entries:
        document = advisory(shared_data, e.reference)
        names = product_names(document)
        texts = " ".join(cve_text(document, cve) for cve in e.cves)
        unmatched.extend(
            (e.id, p.pattern)
            for p in e.models
            if not any(p.fullmatch(n) for n in names) and not p.search(texts)
        )
        unmatched.extend(
            (e.id, p.pattern) for p in e.product_lines if not any(p.fullmatch(m) for m in lines)
        )
    assert unmatched == []


def test_vendors_are_the_canonical_names() -> None:
    names = shipped_vendor_names()
    for e in shipped_default_credentials().entries:
        assert names.canonical(e.vendor) == e.vendor, e.id


def test_entries_reach_identified_devices() -> None:
    """Many entries match a product line or model that the shipped profiles identify."""
    lines = profile_models()
    reached = {
        e.id
        for e in shipped_default_credentials().entries
        if any(p.fullmatch(m) for m in lines for p in (*e.models, *e.product_lines))
    }
    assert len(reached) >= 30


def test_no_password_is_in_the_file(shared_data: Path) -> None:
    """The passwords the advisories' CVE texts quote ("a password of X for the Y user") never
    appear in the data file (except those of one or two characters, and those that are the
    name of a product the advisory names, like GEMNet's)."""
    text = CREDENTIALS.read_text(encoding="utf-8")
    quoted: set[str] = set()
    for e in shipped_default_credentials().entries:
        document = advisory(shared_data, e.reference)
        products = " ".join(product_names(document)).casefold()
        for cve in e.cves:
            for m in re.finditer(r"(?:password of|\(\d\)) (\S+) for", cve_text(document, cve)):
                password = m.group(1).strip('"')
                if len(password) > 2 and password.casefold() not in products:
                    quoted.add(password)
    accounts = {a for e in shipped_default_credentials().entries for a in e.accounts}
    assert len(quoted) >= 10
    leaked = {p for p in quoted - accounts if re.search(rf"(?<![\w#$]){re.escape(p)}\b", text)}
    assert leaked == set()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["credentials"][0].update(models=["(unclosed"]), "models"),
        (lambda d: d["credentials"][0].update(credential="weak"), "credential"),
        (lambda d: d["credentials"][0].update(password="x"), "password"),
        (lambda d: d["credentials"].append(dict(d["credentials"][0])), "appears twice"),
        (lambda d: d["credentials"][0].update(cves=["CVE-20-1"]), "cves"),
    ],
)
def test_a_broken_credentials_file_is_refused_naming_the_place(change: Any, message: str) -> None:
    document = raw(CREDENTIALS)
    change(document)
    with pytest.raises(RuleError, match=message):
        parse_default_credentials(document, "site.yaml")


# --------------------------------------------------------------------------- end of life


def test_the_end_of_life_table_loads_with_real_dates() -> None:
    table = shipped_end_of_life()
    assert table == parse_end_of_life(raw(END_OF_LIFE), "end_of_life.yaml")
    assert len(table.systems) >= 60
    for e in table.systems:
        assert isinstance(e.end_of_support, date)
        assert date(1995, 1, 1) < e.end_of_support < date(2040, 1, 1)
        assert e.source and (e.url or "").startswith("https://")
        if e.extended_until:
            assert e.extended_until >= e.end_of_support
    every = raw(END_OF_LIFE)["systems"]
    assert all(s["reviewed"] for s in every)
    checked = [s for s in every if "checked:" in s["reviewed"]]
    assert len(checked) >= 0.9 * len(every)


@pytest.mark.parametrize(
    ("os", "version", "end"),
    [
        ("Windows", "XP", date(2014, 4, 8)),
        ("Windows", "7", date(2020, 1, 14)),
        ("Windows", "8.1", date(2023, 1, 10)),
        ("Windows", "10", date(2025, 10, 14)),
        ("Windows", "2003", date(2015, 7, 14)),
        ("Windows", "2008", date(2020, 1, 14)),
        ("Windows", "2008 R2", date(2020, 1, 14)),
        ("Windows", "2012", date(2023, 10, 10)),
        ("Windows", "2012 R2", date(2023, 10, 10)),
        ("Windows", "Vista", date(2017, 4, 11)),
        ("macOS", "10.8", date(2015, 8, 13)),
        ("Android", "8.1.0", date(2021, 1, 10)),
        ("iOS", "9.3", date(2016, 9, 13)),
        ("Linux", "Ubuntu 14.04", date(2019, 4, 2)),
    ],
)
def test_the_brief_s_dates(os: str, version: str, end: date) -> None:
    entry = shipped_end_of_life().entry(os, version)
    assert entry is not None and entry.end_of_support == end
    assert shipped_end_of_life().entry("Windows", "7").extended_until == date(2023, 1, 10)  # type: ignore[union-attr]


def test_versions_are_named_as_identification_names_them() -> None:
    """Every Windows version the fingerprint rules yield is either in the table, an alias,
    or made of such parts (split at '/'); so is every macOS and Ubuntu release they yield."""
    table = shipped_end_of_life()
    windows: set[str] = set()
    for path in [*shipped_rule_files(), *shipped_profile_files()]:
        for rule in raw(path).get("rules", []):
            y = rule.get("yields", {})
            version = y.get("os_version")
            if not version or "{" in version:
                continue
            if y.get("os") == "Windows" or path.name in ("smb.yaml", "browser.yaml"):
                windows.add(version)
    known_parts = 0
    for version in sorted(windows):
        parts = table.alternatives("Windows", version)
        assert parts, version
        known_parts += sum(e is not None for _, e in parts)
    assert known_parts >= 20
    for version in ("XP", "7", "Vista / Server 2008", "7 / Server 2008 R2", "98/ME", "2012 R2"):
        assert version in windows
        assert all(e is not None for _, e in table.alternatives("Windows", version)), version
    assert table.entry("Linux", "Ubuntu 16.04") is not None
    assert table.entry("macOS", "10.15") is not None


def test_aliases_and_alternatives() -> None:
    table = shipped_end_of_life()
    assert [v for v, _ in table.alternatives("Windows", "NT 6.1")] == ["7", "2008 R2"]
    assert [v for v, _ in table.alternatives("Windows", "Vista / Server 2008")] == [
        "Vista",
        "2008",
    ]
    eleven = dict(table.alternatives("Windows", "10 / 11"))
    assert eleven["10"] is not None and eleven["11"] is None
    assert table.entry("macOS", "10.1") is None  # 10.10 and 10.1 are different releases
    assert table.entry("macOS", "10.10").end_of_support == date(2017, 8, 1)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["systems"][0].update(end_of_support="2014-02-30"), "not a date"),
        (lambda d: d["systems"][0].update(end_of_support="soon"), "end_of_support"),
        (
            lambda d: d["systems"][0].update(
                end_of_support="2020-01-01", extended_until="2019-01-01"
            ),
            "before end_of_support",
        ),
        (lambda d: d["systems"].append(dict(d["systems"][0])), "appears twice"),
        (lambda d: d["systems"][0].pop("source"), "source"),
        (lambda d: d["aliases"].append({"os": "Windows", "name": "x", "means": ["y"]}), "x"),
        (lambda d: d["systems"][0].update(reviewed="looked at it"), "reviewed"),
    ],
)
def test_a_broken_end_of_life_file_is_refused_naming_the_place(change: Any, message: str) -> None:
    document = raw(END_OF_LIFE)
    change(document)
    with pytest.raises(RuleError, match=message):
        parse_end_of_life(document, "site.yaml")
