"""Vendor domains: whole-label, longest-suffix, case-insensitive lookup of DNS names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from medsec.identify.vendor_domains import (
    VendorDomain,
    load_vendor_domains,
    parse_vendor_domains,
    vendor_for,
)
from medsec.model.errors import RuleError

TABLE = (
    VendorDomain("philips.com", "Philips", "corporate", "ref"),
    VendorDomain("carelink.medtronic.com", "Medtronic", "CareLink", "ref"),
    VendorDomain("medtronic.com", "Medtronic", "corporate", "ref"),
)


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("philips.com", "philips.com"),
        ("eu.remote.PHILIPS.com.", "philips.com"),
        ("evilphilips.com", None),
        ("philips.com.evil.net", None),
        ("philips.co", None),
        ("a.carelink.medtronic.com", "carelink.medtronic.com"),
        ("www.medtronic.com", "medtronic.com"),
        ("", None),
        ("philips..com", None),
    ],
)
def test_lookup(name: str, suffix: str | None) -> None:
    found = vendor_for(name, TABLE)
    assert (found.suffix if found else None) == suffix


def test_the_shipped_table_is_valid_and_covers_the_major_vendors() -> None:
    table = load_vendor_domains()
    vendors = {d.vendor for d in table}
    for vendor in ("Philips", "GE HealthCare", "Siemens Healthineers", "BD", "Medtronic"):
        assert vendor in vendors
    assert all(d.reference for d in table)
    assert vendor_for("remote.philips.com") is not None
    assert vendor_for("remote.philips.com").vendor == "Philips"  # type: ignore[union-attr]
    assert vendor_for("evilphilips.com") is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"domains": [{"suffix": "x.com", "vendor": "X", "purpose": "p"}]}, "reference"),
        (
            {
                "domains": [
                    {"suffix": ".x.com", "vendor": "X", "purpose": "p", "reference": "site note"}
                ]
            },
            "suffix",
        ),
        (
            {
                "domains": [
                    {"suffix": "X.com", "vendor": "X", "purpose": "p", "reference": "site note"}
                ]
            },
            "suffix",
        ),
        ({"domain": []}, "domains"),
    ],
)
def test_invalid_tables_are_refused(document: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_vendor_domains(document, "site.yaml")


def test_duplicate_suffixes_are_refused() -> None:
    entry = {"suffix": "x.com", "vendor": "X", "purpose": "p", "reference": "site note"}
    with pytest.raises(RuleError, match="appears twice"):
        parse_vendor_domains({"domains": [entry, entry]}, "site.yaml")


def test_site_files_add_and_replace(tmp_path: Path) -> None:
    site = tmp_path / "domains.yaml"
    entries = [
        {
            "suffix": "philips.com",
            "vendor": "Philips (site)",
            "purpose": "p",
            "reference": "site note",
        },
        {
            "suffix": "pacs-vendor.example",
            "vendor": "Example",
            "purpose": "p",
            "reference": "site note",
        },
    ]
    site.write_text(yaml.safe_dump({"domains": entries}))
    table = load_vendor_domains([site])
    assert vendor_for("a.philips.com", table).vendor == "Philips (site)"  # type: ignore[union-attr]
    assert vendor_for("x.pacs-vendor.example", table).vendor == "Example"  # type: ignore[union-attr]


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
SUFFIXES = [d.suffix for d in load_vendor_domains()]


@settings(max_examples=300, deadline=None)
@given(
    suffix=st.sampled_from(SUFFIXES),
    prefix=st.lists(LABEL, max_size=4),
    glued=LABEL,
    upper=st.booleans(),
)
def test_matches_are_whole_label_suffixes_and_the_longest(
    suffix: str, prefix: list[str], glued: str, upper: bool
) -> None:
    name = ".".join([*prefix, suffix])
    if upper:
        name = name.upper()
    found = vendor_for(name)
    assert found is not None
    lowered = name.lower()
    assert lowered == found.suffix or lowered.endswith("." + found.suffix)
    # no longer matching suffix exists in the table
    longer = [s for s in SUFFIXES if len(s) > len(found.suffix)]
    assert not any(lowered == s or lowered.endswith("." + s) for s in longer)
    # glued onto the first label, the suffix no longer matches as itself
    evil = vendor_for(glued + name)
    if evil is not None:
        assert (glued + lowered) == evil.suffix or (glued + lowered).endswith("." + evil.suffix)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_raises(text: str) -> None:
    found = vendor_for(text)
    if found is not None:
        lowered = text.strip().rstrip(".").lower()
        assert lowered == found.suffix or lowered.endswith("." + found.suffix)
