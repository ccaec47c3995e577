"""The shipped vendor table (rules/vulns/vendors.yaml): valid, complete for the advisories in
shared/data, consistent with the identify stage's vendor names, and its checked NVD tokens
really are in the NVD records it names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from medsec.assess.vulns.vendors import (
    load_vendor_names,
    parse_vendor_entries,
    shipped_vendor_names,
    vendor_key,
)
from medsec.identify.rules import load_profile_file, shipped_profile_files

RULES = Path(__file__).resolve().parents[2] / "src" / "medsec" / "rules"
TABLE = RULES / "vulns" / "vendors.yaml"


def advisory_vendor_spellings(shared_data: Path) -> dict[str, str]:
    """Vendor branch name -> the advisory it was seen in, over every CSAF advisory."""
    found: dict[str, str] = {}
    for path in sorted((shared_data / "advisories").glob("csaf_cisa_*/*.json")):
        document = json.loads(path.read_bytes())
        for branch in document["product_tree"].get("branches", []):
            if branch.get("category") == "vendor":
                found.setdefault(branch["name"], path.name)
    return found


def test_the_shipped_file_is_valid_and_every_entry_says_where_it_was_seen() -> None:
    entries = parse_vendor_entries(yaml.safe_load(TABLE.read_text(encoding="utf-8")), "vendors")
    assert len(entries) >= 60
    assert all(len(e.reference) >= 3 for e in entries)
    assert load_vendor_names().entries == shipped_vendor_names().entries


def test_the_brief_s_examples() -> None:
    names = shipped_vendor_names()
    for spelling in ("GE Healthcare", "GE HealthCare", "General Electric Healthcare", "ge"):
        assert names.canonical(spelling) == "GE HealthCare", spelling
    assert names.canonical("Koninklijke Philips") == "Philips"
    assert names.canonical("B.Braun Melsungen") == names.canonical("B. Braun") == "B. Braun"
    for spelling in ("BD", "Becton, Dickinson and Company", "Becton Dickinson"):
        assert names.canonical(spelling) == "BD", spelling
    assert names.nvd_tokens("GE HealthCare") == ("ge", "gehealthcare")
    assert names.nvd_tokens("OFFIS") == ("offis",)


def test_every_vendor_spelling_in_the_advisories_is_known(shared_data: Path) -> None:
    names = shipped_vendor_names()
    spellings = advisory_vendor_spellings(shared_data)
    assert len(spellings) >= 60
    unknown = {}
    for spelling, advisory in spellings.items():
        parts = names.parts(spelling)
        # Compound names may carry a word that is no vendor (ICSMA-22-167-01's "ELI").
        known = [p for p in parts if names.known(p)]
        if not known or (len(parts) == 1 and names.known(spelling) is None):
            unknown[spelling] = advisory
    assert unknown == {}


def test_misspellings_and_mojibake_of_the_advisories_fold_onto_one_vendor(
    shared_data: Path,
) -> None:
    names = shipped_vendor_names()
    spellings = advisory_vendor_spellings(shared_data)
    assert {"Phillips", "Philips"} <= spellings.keys()
    assert names.canonical("Phillips") == names.canonical("Philips") == "Philips"
    assert "Innokas YhtymÃ¤ Oy" in spellings
    assert names.canonical("Innokas YhtymÃ¤ Oy") == "Innokas"
    assert names.canonical("Medtronic ") == "Medtronic"
    assert names.canonical("Treck Inc.") == names.canonical("Treck Inc") == "Treck"


def test_canonical_names_are_the_identify_stage_s_vendor_names() -> None:
    names = shipped_vendor_names()
    profile_vendors = {
        profiles[0].vendor
        for path in shipped_profile_files()
        if (profiles := load_profile_file(path))
    }
    canonical = {e.name for e in names.entries}
    assert profile_vendors - canonical == set()
    for vendor in profile_vendors:
        assert names.canonical(vendor) == vendor


def test_checked_nvd_tokens_are_in_the_records_they_name(shared_data: Path) -> None:
    records = shared_data / "advisories" / "nvd_cve_json2"
    checked = 0
    for entry in shipped_vendor_names().entries:
        for token, where in entry.nvd_seen.items():
            cves = re.findall(r"CVE-\d{4}-\d{4,}", where)
            assert cves, (entry.name, where)
            for cve in cves:
                text = (records / f"{cve}.json").read_text(encoding="utf-8")
                vendors = set(re.findall(r"cpe:2\.3:[aho]:([^:]+):", text))
                assert token in vendors, (entry.name, token, cve, vendors)
                checked += 1
    assert checked >= 4


def test_spellings_fold_to_distinct_keys_per_vendor() -> None:
    owner: dict[str, str] = {}
    for entry in shipped_vendor_names().entries:
        for spelling in entry.spellings:
            assert owner.setdefault(vendor_key(spelling), entry.name) == entry.name, spelling
