"""HICP response timeframes: risk class, deadlines, overdue, the data and a site's changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from medsec.assess.deadlines import (
    RiskClass,
    classify,
    load_timeframes,
    overdue,
    patient_safety_impact,
    response_deadlines,
    score_vector,
    shipped_timeframes,
)
from medsec.model.errors import RuleError

T = shipped_timeframes()
PUBLISHED = date(2022, 12, 2)  # CVE-2022-43272 (NVD)
FIRST_SEEN = date(2026, 11, 22)
UNCONTROLLED = RiskClass(True, ("CVSS 7.5 >= 7.0",))
CONTROLLED = RiskClass(False, ("CVSS 5.3, not known exploited, no patient-safety impact",))


def test_shipped_timeframes_are_the_hicp_ones() -> None:
    assert (T.uncontrolled_cvss, T.mitigate_days, T.remediate_days) == (7.0, 30, 60)
    assert T.kev_uncontrolled and T.patient_safety_uncontrolled and T.kev_due_caps
    assert (T.uncontrolled_from, T.controlled_from) == ("disclosure", "first_seen")
    assert T.routine_maintenance_days == 180
    assert T.fda_classes == (2, 3) and T.medical_without_class
    assert T.sources == ("vulns/response_timeframes.yaml",)


# -- risk class ------------------------------------------------------------------------------


def test_a_high_cvss_is_uncontrolled_and_says_why() -> None:
    risk = classify(cvss_score=7.5, kev=False, patient_safety=None, timeframes=T)
    assert risk == RiskClass(True, ("CVSS 7.5 >= 7.0",))


def test_the_threshold_is_inclusive_and_below_it_is_controlled() -> None:
    assert classify(cvss_score=7.0, kev=False, patient_safety=None, timeframes=T).uncontrolled
    below = classify(cvss_score=6.9, kev=False, patient_safety=None, timeframes=T)
    assert not below.uncontrolled
    assert below.reasons == ("CVSS 6.9, not known exploited, no patient-safety impact",)
    unscored = classify(cvss_score=None, kev=False, patient_safety=None, timeframes=T)
    assert not unscored.uncontrolled and unscored.reasons[0].startswith("no CVSS score")


def test_kev_or_patient_safety_make_a_low_score_uncontrolled() -> None:
    kev = classify(cvss_score=4.3, kev=True, patient_safety=None, timeframes=T)
    assert kev == RiskClass(True, ("known exploited (CISA KEV)",))
    safety = patient_safety_impact(True, 2, T)
    assert safety == "medical device of FDA class II"
    pump = classify(cvss_score=4.3, kev=False, patient_safety=safety, timeframes=T)
    assert pump == RiskClass(True, ("patient safety: medical device of FDA class II",))
    every = classify(cvss_score=9.8, kev=True, patient_safety=safety, timeframes=T)
    assert len(every.reasons) == 3


def test_patient_safety_by_medical_category_and_fda_class() -> None:
    assert patient_safety_impact(True, 3, T) == "medical device of FDA class III"
    assert patient_safety_impact(True, None, T) == "medical device (FDA class unknown)"
    assert patient_safety_impact(True, 1, T) is None  # a class I lab analyzer
    assert patient_safety_impact(False, None, T) is None  # a printer
    strict = replace(T, medical_without_class=False)
    assert patient_safety_impact(True, None, strict) is None


def test_criteria_switched_off_by_the_data() -> None:
    lenient = replace(T, kev_uncontrolled=False, patient_safety_uncontrolled=False)
    risk = classify(cvss_score=5.0, kev=True, patient_safety="x", timeframes=lenient)
    assert not risk.uncontrolled


# -- deadlines -------------------------------------------------------------------------------


def test_uncontrolled_counts_30_and_60_days_from_disclosure() -> None:
    due = response_deadlines(
        UNCONTROLLED, disclosed=PUBLISHED, first_seen=FIRST_SEEN, kev_due=None, timeframes=T
    )
    assert (due.mitigation, due.remediation) == (date(2023, 1, 1), date(2023, 1, 31))
    assert due.basis == (
        "uncontrolled risk: mitigation within 30 days and remediation within 60 days of "
        "disclosure 2022-12-02"
    )


def test_unknown_disclosure_counts_from_first_seen() -> None:
    due = response_deadlines(
        UNCONTROLLED, disclosed=None, first_seen=FIRST_SEEN, kev_due=None, timeframes=T
    )
    assert (due.mitigation, due.remediation) == (date(2026, 12, 22), date(2027, 1, 21))
    assert "first seen 2026-11-22 (disclosure unknown)" in due.basis


def test_controlled_waits_for_routine_maintenance_from_first_seen() -> None:
    due = response_deadlines(
        CONTROLLED, disclosed=PUBLISHED, first_seen=FIRST_SEEN, kev_due=None, timeframes=T
    )
    assert due.mitigation is None
    assert due.remediation == date(2027, 5, 21)  # 180 days after 2026-11-22
    assert due.basis == (
        "controlled risk: remediation at the next routine maintenance, 180 days from "
        "first seen 2026-11-22"
    )


def test_an_earlier_kev_due_date_wins_and_pulls_mitigation_with_it() -> None:
    due = response_deadlines(
        UNCONTROLLED,
        disclosed=PUBLISHED,
        first_seen=FIRST_SEEN,
        kev_due=date(2022, 12, 23),
        timeframes=T,
    )
    assert (due.mitigation, due.remediation) == (date(2022, 12, 23), date(2022, 12, 23))
    assert due.basis.endswith("; CISA KEV due date 2022-12-23 is earlier")


def test_a_later_kev_due_date_changes_nothing() -> None:
    due = response_deadlines(
        UNCONTROLLED,
        disclosed=PUBLISHED,
        first_seen=FIRST_SEEN,
        kev_due=date(2023, 6, 1),
        timeframes=T,
    )
    assert (due.mitigation, due.remediation) == (date(2023, 1, 1), date(2023, 1, 31))
    assert "KEV" not in due.basis


def test_kev_due_date_caps_a_controlled_risk_too() -> None:
    lenient = replace(T, kev_uncontrolled=False)
    risk = classify(cvss_score=5.0, kev=True, patient_safety=None, timeframes=lenient)
    due = response_deadlines(
        risk, disclosed=None, first_seen=FIRST_SEEN, kev_due=date(2026, 12, 13), timeframes=lenient
    )
    assert not risk.uncontrolled
    assert (due.mitigation, due.remediation) == (None, date(2026, 12, 13))


def test_counted_from_first_seen_when_the_site_says_so() -> None:
    site = replace(T, uncontrolled_from="first_seen")
    due = response_deadlines(
        UNCONTROLLED, disclosed=PUBLISHED, first_seen=FIRST_SEEN, kev_due=None, timeframes=site
    )
    assert due.remediation == date(2027, 1, 21)


# -- overdue ---------------------------------------------------------------------------------


def late(status: str, as_of: date, until: date | None = None) -> tuple[str, ...]:
    return overdue(
        status,
        due_mitigation=date(2023, 1, 1),
        due_remediation=date(2023, 1, 31),
        accepted_until=until,
        as_of=as_of,
    )


def test_overdue_before_on_and_after_the_deadlines() -> None:
    assert late("open", date(2022, 12, 20)) == ()
    assert late("open", date(2023, 1, 1)) == ()  # met on its day
    assert late("open", date(2023, 1, 2)) == ("mitigation",)
    assert late("open", date(2023, 2, 1)) == ("mitigation", "remediation")


def test_a_mitigated_finding_owes_only_the_remediation() -> None:
    assert late("mitigated", date(2023, 1, 15)) == ()
    assert late("mitigated", date(2023, 2, 1)) == ("remediation",)


def test_closed_findings_are_never_overdue_but_an_acceptance_expires() -> None:
    for status in ("remediated", "false_positive", "risk_accepted"):
        assert late(status, date(2030, 1, 1)) == ()
    assert late("risk_accepted", date(2027, 6, 30), until=date(2027, 6, 30)) == ()
    assert late("risk_accepted", date(2027, 7, 1), until=date(2027, 6, 30)) == ("acceptance",)


# -- CVSS ------------------------------------------------------------------------------------


def test_vectors_are_scored_with_the_cvss_library() -> None:
    v31 = score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")
    assert v31 is not None and (v31.version, v31.base_score, v31.severity) == ("3.1", 7.5, "HIGH")
    v4 = score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    assert v4 is not None and (v4.version, v4.base_score, v4.severity) == ("4.0", 9.3, "CRITICAL")
    v2 = score_vector("AV:N/AC:L/Au:N/C:N/I:N/A:P")
    assert v2 is not None and (v2.version, v2.base_score) == ("2.0", 5.0)
    for broken in ("", "CVSS:3.1/AV:X", "CVSS:4.0/AV:N", "not a vector", "CVSS:9.9/AV:N"):
        assert score_vector(broken) is None


# -- the data --------------------------------------------------------------------------------


def site_file(directory: Path, text: str) -> Path:
    path = directory / "vulns" / "response_timeframes.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_site_changes_only_the_keys_it_gives(tmp_path: Path) -> None:
    path = site_file(tmp_path, "controlled: {remediate_days: 90}\nuncontrolled: {kev: false}\n")
    site = load_timeframes([tmp_path / "elsewhere", tmp_path])
    assert site.routine_maintenance_days == 90 and not site.kev_uncontrolled
    assert (site.mitigate_days, site.remediate_days, site.controlled_from) == (30, 60, "first_seen")
    assert site.sources == ("vulns/response_timeframes.yaml", str(path))


def test_a_bad_site_file_is_refused_naming_the_file_and_key(tmp_path: Path) -> None:
    path = site_file(tmp_path, "uncontrolled: {remediate_days: -1}\n")
    with pytest.raises(RuleError, match=rf"{path}: uncontrolled/remediate_days: -1 is less"):
        load_timeframes([tmp_path])


def test_a_site_file_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    site_file(tmp_path, "controlled: {remediate_in: 90}\n")
    with pytest.raises(RuleError, match="controlled: Additional properties"):
        load_timeframes([tmp_path])


def test_mitigation_may_not_come_after_remediation(tmp_path: Path) -> None:
    site_file(tmp_path, "uncontrolled: {mitigate_days: 90}\n")
    with pytest.raises(RuleError, match=r"mitigate_days \(90\) is later than remediate_days"):
        load_timeframes([tmp_path])


def test_a_site_file_that_is_no_yaml_is_refused(tmp_path: Path) -> None:
    site_file(tmp_path, "uncontrolled: [\n")
    with pytest.raises(RuleError, match="not valid YAML"):
        load_timeframes([tmp_path])
