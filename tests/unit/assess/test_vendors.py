"""Vendor names: folding, canonical names, compound names, mentions and NVD tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsec.assess.vulns.vendors import (
    VendorEntry,
    VendorNames,
    canonical_vendor,
    clean_name,
    load_vendor_names,
    parse_vendor_entries,
    repair_mojibake,
    shipped_vendor_names,
    vendor_key,
)
from medsec.model.errors import RuleError

TABLE = VendorNames(
    (
        VendorEntry("GE HealthCare", aliases=("GE Healthcare", "GE"), nvd=("ge", "gehealthcare")),
        VendorEntry("Philips", aliases=("Phillips",), nvd=("philips",)),
        VendorEntry("Siemens Healthineers", nvd=("siemens",)),
        VendorEntry("Siemens", nvd=("siemens",)),
        VendorEntry("Silex Technology", nvd=("silex",)),
        VendorEntry("Hillrom", formerly=("Welch Allyn",), nvd=("hillrom",)),
        VendorEntry("Baxter", aliases=("Baxter International",)),
    )
)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("B.Braun Melsungen AG", "b braun melsungen"),
        ("  Medtronic ", "medtronic"),
        ("Treck Inc.", "treck"),
        ("SOOIL Developments Co, Ltd.", "sooil developments"),
        ("Drägerwerk AG & Co. KGaA", "dragerwerk"),
        ("Johnson & Johnson", "johnson and johnson"),
        ("Innokas YhtymÃ¤ Oy", "innokas yhtyma"),
        ("Inc.", ""),
        ("", ""),
        ("And", "and"),
    ],
)
def test_vendor_key_folds_case_accents_punctuation_and_legal_suffixes(text: str, key: str) -> None:
    assert vendor_key(text) == key


def test_mojibake_is_repaired_and_clean_text_left_alone() -> None:
    assert repair_mojibake("Innokas YhtymÃ¤ Oy") == "Innokas Yhtymä Oy"
    assert repair_mojibake("Dräger") == "Dräger"
    assert repair_mojibake("Ã") == "Ã"  # not UTF-8 once re-encoded: unchanged
    assert clean_name("  Medtronic \t plc ") == "Medtronic plc"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("GE Healthcare", "GE HealthCare"),
        ("GE HealthCare", "GE HealthCare"),
        ("General Electric Healthcare", "GE HealthCare"),
        ("General Electric (GE)", "GE HealthCare"),
        ("ge", "GE HealthCare"),
        ("gehealthcare", "GE HealthCare"),
        ("Philips", "Philips"),
        ("Phillips", "Philips"),
        ("Koninklijke Philips N.V.", "Philips"),
        ("B. Braun", "B. Braun"),
        ("B.Braun Melsungen", "B. Braun"),
        ("B. Braun Melsungen AG", "B. Braun"),
        ("bbraun", "B. Braun"),
        ("BD", "BD"),
        ("Becton, Dickinson and Company", "BD"),
        ("Becton, Dickinson and Company (BD)", "BD"),
        ("Becton Dickinson", "BD"),
        ("Medtronic ", "Medtronic"),
        ("Baxter International Inc.", "Baxter"),
        ("Siemens Healthineers", "Siemens Healthineers"),
        ("Dräger", "Draeger"),
        ("Drager", "Draeger"),
        ("Innokas YhtymÃ¤ Oy", "Innokas"),
        ("Natus Medical, Inc. (Natus)", "Natus"),
        ("St. Jude Medical", "Abbott"),
        ("Smiths Medical", "ICU Medical"),
        ("Welch Allyn", "Hillrom"),
        ("OFFIS", "OFFIS"),
        ("offis", "OFFIS"),
        ("Acme Medical Devices, Inc. ", "Acme Medical Devices, Inc."),
    ],
)
def test_shipped_table_canonical_names(text: str, canonical: str) -> None:
    assert canonical_vendor(text) == canonical


def test_parenthesised_short_form_is_tried_when_the_long_form_is_unknown() -> None:
    assert TABLE.known("Koninklijke Whatever (Philips)") == "Philips"
    assert TABLE.known("Philips (Royal)") == "Philips"
    assert TABLE.known("Nobody (Nothing)") is None


def test_compound_names_split_into_known_parts() -> None:
    assert TABLE.parts("Silex Technology and GE Healthcare") == (
        "Silex Technology",
        "GE HealthCare",
    )
    assert TABLE.parts("Siemens Healthineers, Siemens") == ("Siemens Healthineers", "Siemens")
    assert TABLE.parts("Hillrom and ELI, Baxter International Inc.") == (
        "Hillrom",
        "ELI",
        "Baxter",
    )
    assert TABLE.parts("Philips") == ("Philips",)
    # Not split when no part is known: a name with "and" in it is one vendor.
    assert TABLE.parts("Smith and Nephew") == ("Smith and Nephew",)
    assert TABLE.parts("  ") == ()


def test_shipped_compound_names_of_the_advisories() -> None:
    names = shipped_vendor_names()
    assert names.parts("ENEA, Green Hills Software, ITRON, IP Infusion, and Wind River") == (
        "ENEA",
        "Green Hills Software",
        "Itron",
        "IP Infusion",
        "Wind River",
    )
    assert names.parts("BMC Medical, 3B Medical") == ("BMC Medical", "3B Medical")
    assert names.parts("Aethon, ST Engineering") == ("Aethon", "ST Engineering")


def test_mentions_are_whole_words_in_order_and_ignore_nvd_tokens() -> None:
    text = "GEH-500: Version 1.54 and prior (integrated into GE MobileLink)"
    assert TABLE.mentioned_in(text) == ("GE HealthCare",)
    assert TABLE.mentioned_in("Welch Allyn ELI 280 by Philips") == ("Hillrom", "Philips")
    assert TABLE.mentioned_in("Gerät") == ()  # "ge" only as a whole word
    assert TABLE.mentioned_in("hillrom silex") == ("Hillrom",)  # 'silex' is only an NVD token


def test_nvd_tokens_both_ways() -> None:
    assert TABLE.nvd_tokens("General Electric Healthcare") == ()  # not a spelling TABLE knows
    assert TABLE.nvd_tokens("GE Healthcare") == ("ge", "gehealthcare")
    assert TABLE.nvd_tokens("Nobody") == ()
    assert TABLE.vendors_for_nvd_token("siemens") == ("Siemens Healthineers", "Siemens")
    assert TABLE.vendors_for_nvd_token(" GE ") == ("GE HealthCare",)
    # A token two vendors share names neither: "siemens" is Siemens by its own name only.
    assert TABLE.known("siemens") == "Siemens"
    assert TABLE.known("silex") == "Silex Technology"
    shipped = shipped_vendor_names()
    assert shipped.nvd_tokens("GE Healthcare") == ("ge", "gehealthcare")
    assert shipped.nvd_tokens("OFFIS") == ("offis",)
    assert shipped.entry("Phillips") is not None


def _doc(*vendors: dict[str, object]) -> dict[str, object]:
    return {"vendors": list(vendors)}


def test_parse_refuses_what_the_schema_forbids() -> None:
    with pytest.raises(RuleError, match=r"x\.yaml: vendors/0"):
        parse_vendor_entries(_doc({"name": "A"}), "x.yaml")  # no reference
    with pytest.raises(RuleError, match="nvd/0"):
        parse_vendor_entries(_doc({"name": "A", "reference": "ref", "nvd": ["Upper"]}), "x.yaml")
    with pytest.raises(RuleError, match=r"\(top\)"):
        parse_vendor_entries(["not", "a", "mapping"], "x.yaml")


def test_parse_refuses_one_spelling_for_two_vendors_and_twice_named_vendors() -> None:
    with pytest.raises(RuleError, match="also a spelling of 'A Corp'"):
        parse_vendor_entries(
            _doc(
                {"name": "A Corp", "reference": "ref"},
                {"name": "B", "aliases": ["A, Inc."], "reference": "ref"},
            ),
            "x.yaml",
        )
    with pytest.raises(RuleError, match="appears twice"):
        parse_vendor_entries(
            _doc({"name": "A", "reference": "ref"}, {"name": "A", "reference": "ref"}), "x.yaml"
        )
    with pytest.raises(RuleError, match="folds to nothing"):
        parse_vendor_entries(_doc({"name": "Inc.", "reference": "ref"}), "x.yaml")
    with pytest.raises(RuleError, match="nvd_seen names tokens not in nvd"):
        parse_vendor_entries(
            _doc({"name": "A", "reference": "ref", "nvd": ["a"], "nvd_seen": {"b": "CVE-1"}}),
            "x.yaml",
        )


def test_site_file_adds_and_replaces_entries(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "vendors:\n"
        "  - {name: Philips, aliases: [Philips Local Spelling], nvd: [philips], reference: site}\n"
        "  - {name: Local Vendor, aliases: [LV GmbH], reference: site}\n",
        encoding="utf-8",
    )
    names = load_vendor_names([site])
    assert names.canonical("Philips Local Spelling") == "Philips"
    assert names.canonical("LV GmbH") == "Local Vendor"
    assert names.canonical("Phillips") == "Phillips"  # the site entry replaced the shipped one
    assert names.canonical("GE Healthcare") == "GE HealthCare"


def test_site_file_errors_name_the_file(tmp_path: Path) -> None:
    clash = tmp_path / "clash.yaml"
    clash.write_text("vendors:\n  - {name: Other, aliases: [Phillips], reference: site}\n")
    with pytest.raises(RuleError, match="'Phillips' names both"):
        load_vendor_names([clash])
    broken = tmp_path / "broken.yaml"
    broken.write_text("vendors: [\n")
    with pytest.raises(RuleError, match="broken.yaml: not valid YAML"):
        load_vendor_names([broken])
    with pytest.raises(RuleError, match="cannot read"):
        load_vendor_names([tmp_path / "missing.yaml"])
