"""Findings in the store (SQLite and PostgreSQL): a refresh creates and updates them without
touching a status a person set, closes open ones whose match has gone, and every status
change is kept in the history; the workflow refuses what it does not allow."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from medsec.inventory import Store
from medsec.inventory.finding_rows import (
    STATUSES,
    TRANSITIONS,
    AdvisoryLink,
    FindingError,
    FindingFacts,
    FindingQuery,
    InvalidTransition,
    ReferenceLink,
    RemediationText,
    StatusChange,
    UnknownFinding,
    check_change,
)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
PUMP, PACS = "mac:02:00:00:00:00:01", "ip:10.0.0.9"


def facts(device_key: str = PACS, cve: str = "CVE-2022-43272", **changes: object) -> FindingFacts:
    base = FindingFacts(
        device_key=device_key,
        device_id=1,
        device="10.0.0.9",
        cve_id=cve,
        source="nvd",
        certain=True,
        confidence=95,
        basis=f"software DCMTK 3.6.7 ... of {cve}",
        cvss_version="3.1",
        cvss_score=7.5,
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        severity="HIGH",
        cvss4_score=8.7,
        cvss4_vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N",
        cvss4_severity="HIGH",
        kev=True,
        kev_due=date(2023, 1, 10),
        known_ransomware=None,
        epss=0.0123,
        epss_percentile=0.71,
        advisories=(AdvisoryLink("ICSMA-24-254-01", "https://www.cisa.gov/x"),),
        references=(ReferenceLink("https://example.org/patch", ("Patch",)),),
        remediations=(RemediationText("vendor_fix", "Update to 3.6.8.", None, "ICSMA-24-254-01"),),
        disclosed=date(2022, 12, 2),
        patient_safety="medical device of FDA class II",
        uncontrolled=True,
        risk_reasons=("CVSS 7.5 >= 7.0", "known exploited (CISA KEV)"),
        due_mitigation=date(2023, 1, 1),
        due_remediation=date(2023, 1, 10),
        due_basis="uncontrolled risk: ...",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def person(status: str, at: datetime = T0, **changes: object) -> StatusChange:
    return StatusChange(status=status, who="alice", at=at, **changes)  # type: ignore[arg-type]


def one(store: Store, cve: str = "CVE-2022-43272", key: str = PACS):  # type: ignore[no-untyped-def]
    (found,) = [f for f in store.findings() if f.facts.cve_id == cve and f.facts.device_key == key]
    return found


def test_a_refresh_creates_open_findings_with_every_fact(store: Store) -> None:
    done = store.refresh_findings([facts(), facts(PUMP, "CVE-2020-25158")], [PACS, PUMP], now=T0)
    assert (done.created, done.updated, done.closed, done.total) == (2, 0, 0, 2)
    found = one(store)
    assert found.facts == facts()  # every column round-trips, dates and lists included
    assert (found.status, found.status_auto, found.status_by) == ("open", True, "medsec")
    assert found.status_at == found.first_seen == found.last_seen == T0
    assert found.matched and found.accepted_until is None
    (created,) = store.finding_history(found.id)
    assert (created.who, created.auto, created.from_status, created.to_status) == (
        "medsec", True, None, "open",
    )  # fmt: skip
    assert created.why == f"matched: {facts().basis}"
    assert store.finding_first_seen() == {
        (PACS, "CVE-2022-43272"): T0,
        (PUMP, "CVE-2020-25158"): T0,
    }


def test_a_refresh_updates_facts_and_never_duplicates(store: Store) -> None:
    store.refresh_findings([facts()], [PACS], now=T0)
    later = T0 + timedelta(days=3)
    newer = facts(epss=0.5, kev=False, kev_due=None, advisories=(), device_id=7)
    done = store.refresh_findings([newer], [PACS], now=later)
    assert (done.created, done.updated, done.total) == (0, 1, 1)
    found = one(store)
    assert found.facts == newer
    assert (found.first_seen, found.last_seen) == (T0, later)
    assert len(store.finding_history(found.id)) == 1


def test_a_status_set_by_a_person_survives_refreshes(store: Store) -> None:
    store.refresh_findings([facts()], [PACS], now=T0)
    finding_id = one(store).id
    at = T0 + timedelta(hours=1)
    control = "VLAN 40; ACL: only the PACS reaches 11112"
    changed = store.set_finding_status(finding_id, person("mitigated", at, control=control))
    assert (changed.status, changed.status_auto, changed.status_by) == ("mitigated", False, "alice")
    store.refresh_findings([facts(epss=0.9)], [PACS], now=T0 + timedelta(days=1))
    # the match goes: the person's status stays, the finding is marked no longer matched
    done = store.refresh_findings([], [PACS], now=T0 + timedelta(days=2))
    assert (done.closed, done.unmatched) == (0, 1)
    found = one(store)
    assert (found.status, found.matched, found.facts.epss) == ("mitigated", False, 0.9)
    history = store.finding_history(finding_id)
    assert [(h.from_status, h.to_status, h.who) for h in history] == [
        (None, "open", "medsec"),
        ("open", "mitigated", "alice"),
    ]
    assert (history[1].at, history[1].control, history[1].auto) == (at, control, False)
    # and when it matches again, it is matched again, still mitigated
    store.refresh_findings([facts()], [PACS], now=T0 + timedelta(days=3))
    assert (one(store).status, one(store).matched) == ("mitigated", True)


def test_an_open_finding_whose_match_goes_is_closed_and_reopened_by_medsec(store: Store) -> None:
    store.refresh_findings([facts(), facts(PUMP, "CVE-2020-25158")], [PACS, PUMP], now=T0)
    gone_at = T0 + timedelta(days=5)
    done = store.refresh_findings([facts(PUMP, "CVE-2020-25158")], [PACS, PUMP], now=gone_at)
    assert (done.closed, done.updated, done.unmatched) == (1, 1, 0)
    closed = one(store)
    assert (closed.status, closed.status_auto, closed.status_by, closed.matched) == (
        "remediated", True, "medsec", False,
    )  # fmt: skip
    last = store.finding_history(closed.id)[-1]
    assert (last.at, last.who, last.auto, last.from_status, last.to_status) == (
        gone_at, "medsec", True, "open", "remediated",
    )  # fmt: skip
    assert last.why == f"no longer matches: {facts().basis}"
    assert store.refresh_findings([], [PACS], now=gone_at).closed == 0  # once only
    back = store.refresh_findings([facts()], [PACS], now=gone_at + timedelta(days=1))
    assert back.reopened == 1
    assert (one(store).status, one(store).matched) == ("open", True)
    assert store.finding_history(closed.id)[-1].why == f"matches again: {facts().basis}"


def test_a_finding_a_vex_cleared_is_closed_with_the_statement(store: Store) -> None:
    store.refresh_findings([facts(), facts(PUMP, "CVE-2020-25158")], [PACS, PUMP], now=T0)
    why = "cleared by a supplier VEX (not_affected, justification code_not_reachable): ..."
    cleared = {(PACS, "CVE-2022-43272"): why, (PUMP, "CVE-2020-25158"): "not used: still seen"}
    later = T0 + timedelta(days=1)
    done = store.refresh_findings([facts(PUMP, "CVE-2020-25158")], [PACS, PUMP], now=later,
                                  cleared=cleared)  # fmt: skip
    assert (done.closed, done.updated) == (1, 1)
    assert (one(store).status, one(store).matched) == ("remediated", False)
    assert store.finding_history(one(store).id)[-1].why == why
    pump = one(store, "CVE-2020-25158", PUMP)
    assert [c.why for c in store.finding_history(pump.id)][-1].startswith("matched: ")


def test_findings_of_devices_not_in_the_inventory_are_left_alone(store: Store) -> None:
    store.refresh_findings([facts(PUMP, "CVE-2020-25158")], [PUMP], now=T0)
    done = store.refresh_findings([], [PACS], now=T0 + timedelta(days=1))
    assert (done.closed, done.unmatched, done.total) == (0, 0, 1)
    pump = one(store, "CVE-2020-25158", PUMP)
    assert (pump.status, pump.matched) == ("open", True)


def test_a_person_reopening_a_closed_finding_is_not_closed_again(store: Store) -> None:
    store.refresh_findings([facts()], [PACS], now=T0)
    store.refresh_findings([], [PACS], now=T0 + timedelta(days=1))  # closed by medsec
    finding_id = one(store).id
    why = "identification lost the version; the device still runs 3.6.7"
    store.set_finding_status(finding_id, person("open", T0 + timedelta(days=2), why=why))
    store.refresh_findings([], [PACS], now=T0 + timedelta(days=3))
    assert (one(store).status, one(store).status_by) == ("open", "alice")


def test_risk_acceptance_with_an_end_and_the_workflow_after_it(store: Store) -> None:
    store.refresh_findings([facts()], [PACS], now=T0)
    finding_id = one(store).id
    accepted = store.set_finding_status(
        finding_id,
        person("risk_accepted", why="no fix for this model", until=date(2027, 6, 30)),
    )
    assert (accepted.status, accepted.accepted_until) == ("risk_accepted", date(2027, 6, 30))
    with pytest.raises(InvalidTransition, match="cannot go from risk_accepted to false_positive"):
        store.set_finding_status(finding_id, person("false_positive", why="x"))
    done = store.set_finding_status(finding_id, person("remediated", why="replaced"))
    assert (done.status, done.accepted_until) == ("remediated", None)
    (last,) = store.finding_history(finding_id)[-1:]
    assert (last.from_status, last.to_status, last.why) == (
        "risk_accepted",
        "remediated",
        "replaced",
    )
    assert [h.until for h in store.finding_history(finding_id)] == [None, date(2027, 6, 30), None]


def test_refused_changes_leave_the_finding_unchanged(store: Store) -> None:
    store.refresh_findings([facts()], [PACS], now=T0)
    finding_id = one(store).id
    for change, message in (
        (person("mitigated"), "needs the compensating control"),
        (person("mitigated", control="  "), "needs the compensating control"),
        (person("risk_accepted"), "needs a reason"),
        (person("false_positive", why=""), "needs a reason"),
        (person("open", why="x"), "already open"),
        (person("fixed"), "unknown status 'fixed'"),
        (person("remediated", until=date(2027, 1, 1)), "belongs to a risk acceptance only"),
        (person("risk_accepted", why="x", until=date(2026, 1, 1)), "would end in the past"),
        (person("remediated", control="ACL"), "belongs to mitigated only"),
        (replace(person("remediated"), who=" "), "must be named"),
    ):
        with pytest.raises(InvalidTransition, match=message):
            store.set_finding_status(finding_id, change)
    assert one(store).status == "open"
    assert len(store.finding_history(finding_id)) == 1
    with pytest.raises(UnknownFinding, match="no finding 999"):
        store.set_finding_status(999, person("remediated"))
    assert store.finding(999) is None


def test_queries_by_status_device_and_cve(store: Store) -> None:
    store.refresh_findings(
        [facts(), facts(cve="CVE-2022-2119"), facts(PUMP, "CVE-2020-25158")],
        [PACS, PUMP],
        now=T0,
    )
    store.set_finding_status(one(store).id, person("false_positive", why="not reachable"))
    assert len(store.findings(FindingQuery(statuses=("open",)))) == 2
    assert [f.facts.cve_id for f in store.findings(FindingQuery(statuses=("false_positive",)))] == [
        "CVE-2022-43272"
    ]
    assert {f.facts.cve_id for f in store.findings(FindingQuery(device_keys=(PACS,)))} == {
        "CVE-2022-43272", "CVE-2022-2119",
    }  # fmt: skip
    assert store.findings(FindingQuery(device_keys=())) == []
    (pump,) = store.findings(FindingQuery(cve_id="cve-2020-25158"))
    assert pump.facts.device_key == PUMP
    with pytest.raises(FindingError, match="unknown status bogus"):
        FindingQuery(statuses=("bogus",))


def test_every_status_has_its_transitions_and_none_to_itself() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    for status, targets in TRANSITIONS.items():
        assert status not in targets and targets <= set(STATUSES)
        assert "open" in targets or status == "open"  # everything can be reopened
    check_change("open", person("mitigated", control="segmented"))
    check_change("mitigated", person("open", why="control withdrawn"))
