"""Every shipped rule and profile file: schema, unique ids, known categories, provenance
conventions; and the profile base covers the major medical vendors."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from medsec.identify.rules import (
    load_file,
    load_profile_file,
    load_profiles,
    load_rules,
    shipped_profile_files,
    shipped_rule_files,
)
from medsec.identify.taxonomy import categories

MAJOR_VENDORS = (
    "Philips", "GE HealthCare", "Siemens Healthineers", "Baxter", "BD", "ICU Medical",
    "B. Braun", "Medtronic", "Draeger", "Mindray", "Nihon Kohden", "Fresenius", "Hillrom",
    "Abbott", "Roche", "Beckman Coulter", "Sysmex", "Canon", "Fujifilm", "Carestream",
    "Hologic", "Spacelabs",
)  # fmt: skip
REVIEWED = re.compile(r"^(unverified\b|\d{4}-\d{2}-\d{2} (partly )?checked: \S)")
FILES = [*shipped_rule_files(), *shipped_profile_files()]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_is_valid_and_follows_the_conventions(path: Path) -> None:
    rules = load_file(path)
    assert rules, f"{path.name} has no rules"
    known = categories()
    for rule in rules:
        assert rule.reference, rule.id
        assert rule.reviewed is not None and REVIEWED.match(rule.reviewed), (
            f"{rule.id}: reviewed must be 'unverified' or 'YYYY-MM-DD [partly ]checked: <where>'"
        )
        if rule.reviewed.startswith("unverified"):
            assert rule.weight <= 30, f"{rule.id}: unverified facts weigh at most 30"
        elif "partly checked" in rule.reviewed:
            assert rule.weight <= 40, f"{rule.id}: partly checked facts weigh at most 40"
        for attribute, value in rule.yields:
            if attribute == "category":
                assert value in known, (rule.id, value)
            if attribute == "vendor":
                assert value != "GE Healthcare", f"{rule.id}: the canonical name is GE HealthCare"


def test_ids_are_unique_across_all_shipped_files() -> None:
    ids = Counter(r.id for path in FILES for r in load_file(path))
    assert [i for i, n in ids.items() if n > 1] == []
    assert len(load_rules()) == sum(ids.values())


def test_one_file_per_vendor() -> None:
    vendors = Counter(
        p.vendor for path in shipped_profile_files() for p in load_profile_file(path)[:1]
    )
    assert [v for v, n in vendors.items() if n > 1] == []


def test_at_least_150_medical_profiles_and_two_per_major_vendor() -> None:
    known = categories()
    medical = [p for p in load_profiles() if known[p.category].medical]
    assert len(medical) >= 150, len(medical)
    per_vendor = Counter(p.vendor for p in medical)
    thin = {v: per_vendor[v] for v in MAJOR_VENDORS if per_vendor[v] < 2}
    assert thin == {}


def test_imaging_profiles_name_their_modality() -> None:
    for profile in load_profiles():
        if profile.category == "imaging_modality":
            assert profile.modality, profile.id
