"""Findings: the vulnerabilities of the inventory's devices, kept, worked and dated
(``medsec findings``, ``medsec finding ID``).

``refresh_findings`` runs the matching of ``medsec vulns`` and writes what it sees as
findings (one per device key and CVE): CVSS (v3.1 first, and the v4.0 score when a source
gives one), KEV and its due date, EPSS, the CSAF advisories and the CVE's vendor links, the
vendor's remediation text, the disclosure date, patient-safety impact, the risk class and the
HICP deadlines (``assess.deadlines``, timeframes from ``rules/vulns/response_timeframes.yaml``
and the site's rule directories). Statuses follow the workflow of ``inventory.finding_rows``;
a refresh never changes a status a person set. A finding medsec opened whose match a
supplier's VEX statement took away is closed with the statement (status, justification,
document) in its history.

JSON form of a finding (``medsec findings --json``, ``medsec finding ID --json``; stable:
fields are only ever added)::

    {"id": 1, "device": "10.0.0.5", "device_key": "mac:...", "device_id": 7,
     "cve": "CVE-2022-43272",
     "status": "open", "status_by": "medsec", "status_at": "2026-11-22T10:00:00+00:00",
     "status_auto": true, "accepted_until": null,
     "matched": true, "source": "nvd", "certain": true, "confidence": 95, "basis": "...",
     "cvss": {"version": "3.1", "score": 7.5, "vector": "CVSS:3.1/...", "severity": "HIGH"},
     "cvss_v4": {"score": 8.7, "vector": "CVSS:4.0/...", "severity": "HIGH"} | null,
     "kev": false, "kev_due": null, "known_ransomware": null,
     "epss": 0.012, "epss_percentile": 0.71,
     "advisories": [{"id": "ICSMA-24-254-01", "url": "https://..."}],
     "references": [{"url": "https://...", "tags": ["Vendor Advisory"]}],
     "remediations": [{"category": "vendor_fix", "details": "...", "url": null,
                       "advisory": "ICSMA-24-254-01"}],
     "disclosed": "2022-12-02", "patient_safety": true,
     "patient_safety_reason": "medical device of FDA class II",
     "uncontrolled": true, "risk_reasons": ["CVSS 7.5 >= 7.0", "..."],
     "due": {"mitigation": "2023-01-01", "remediation": "2023-01-31", "basis": "..."},
     "overdue": ["mitigation", "remediation"], "as_of": "2026-11-22",
     "first_seen": "...", "last_seen": "..."}

``overdue`` names the deadlines passed on ``as_of`` (today unless asked): ``mitigation``
(open findings), ``remediation`` (open and mitigated), ``acceptance`` (a risk acceptance
past its end date). ``medsec finding ID --json`` adds ``"history": [{"at", "who", "auto",
"from", "to", "why", "control", "until"}]``, oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from medsec.assess.deadlines import (
    Timeframes,
    classify,
    load_timeframes,
    overdue,
    patient_safety_impact,
    response_deadlines,
    score_vector,
)
from medsec.assess.matching import VulnMatch
from medsec.assess.vex import Cleared
from medsec.inventory import DeviceQuery, DeviceView, Store
from medsec.inventory.finding_rows import (
    STATUSES,
    TRANSITIONS,
    AdvisoryLink,
    FindingChange,
    FindingFacts,
    FindingQuery,
    FindingView,
    InvalidTransition,
    ReferenceLink,
    RefreshCounts,
    RemediationText,
    StatusChange,
    UnknownFinding,
)
from medsec.model.errors import FindingError
from medsec.model.vulns import (
    Advisory,
    AdvisoryVulnerability,
    CvssMetric,
    EpssScore,
    KevEntry,
    Vulnerability,
)
from medsec.service.devices import find_devices, shown_name
from medsec.service.vulns import device_matches, pick, scores

__all__ = [
    "STATUSES",
    "TRANSITIONS",
    "FindingChange",
    "FindingDetail",
    "FindingError",
    "FindingView",
    "InvalidTransition",
    "RefreshCounts",
    "UnknownFinding",
    "change_json",
    "detail_json",
    "finding_json",
    "get_finding",
    "list_findings",
    "overdue_of",
    "refresh_findings",
    "refresh_if_fed",
    "refresh_json",
    "refresh_line",
    "set_finding_status",
]

LINK_TAGS = frozenset({"Vendor Advisory", "Patch", "Mitigation", "US Government Resource"})
"""Tags of a CVE record's references worth showing with a finding."""
MAX_LINKS = 10
MAX_REMEDIATIONS = 10


# -- refresh -----------------------------------------------------------------------------------


def _by_cve(
    advisories: Iterable[Advisory],
) -> dict[str, list[tuple[Advisory, AdvisoryVulnerability]]]:
    out: dict[str, list[tuple[Advisory, AdvisoryVulnerability]]] = {}
    for a in advisories:
        for v in a.vulnerabilities:
            if v.cve_id is not None:
                out.setdefault(v.cve_id, []).append((a, v))
    return out


def _severity(metric: CvssMetric) -> str | None:
    if metric.severity:
        return metric.severity.upper()
    scored = score_vector(metric.vector)
    return scored.severity if scored else None


def _disclosed(
    record: Vulnerability | None, advisories: Sequence[tuple[Advisory, AdvisoryVulnerability]]
) -> date | None:
    """The earliest public word of the CVE: its publication, an advisory's release."""
    dates = [record.published] if record and record.published else []
    for a, v in advisories:
        dates.extend(d for d in (v.release_date, a.initial_release) if d is not None)
    return min(d.date() for d in dates) if dates else None


def _remediations(
    advisories: Sequence[tuple[Advisory, AdvisoryVulnerability]], kev: KevEntry | None
) -> tuple[RemediationText, ...]:
    found: dict[str, RemediationText] = {}
    if kev is not None and kev.required_action:
        found[kev.required_action] = RemediationText(
            "kev_required_action", kev.required_action, None, "CISA KEV"
        )
    ranked = sorted(
        ((a, r) for a, v in advisories for r in v.remediations),
        key=lambda ar: ar[1].category != "vendor_fix",
    )
    for a, r in ranked:
        found.setdefault(r.details, RemediationText(r.category, r.details, r.url, a.tracking_id))
    return tuple(found.values())[:MAX_REMEDIATIONS]


def _facts(
    device: DeviceView,
    match: VulnMatch,
    record: Vulnerability | None,
    advisories: Sequence[tuple[Advisory, AdvisoryVulnerability]],
    kev: KevEntry | None,
    epss: EpssScore | None,
    first_seen: date,
    timeframes: Timeframes,
) -> FindingFacts:
    tiers = scores(match, record, advisories)
    metric = pick(tiers)
    v4 = pick(tiers, "4.0")
    fda_class = device.record.get("fda_class")
    safety = patient_safety_impact(
        device.medical, fda_class if isinstance(fda_class, int) else None, timeframes
    )
    score = metric.base_score if metric else None
    risk = classify(
        cvss_score=score, kev=kev is not None, patient_safety=safety, timeframes=timeframes
    )
    disclosed = _disclosed(record, advisories)
    due = response_deadlines(
        risk,
        disclosed=disclosed,
        first_seen=first_seen,
        kev_due=kev.due_date if kev else None,
        timeframes=timeframes,
    )
    links = [r for r in (record.references if record else ()) if LINK_TAGS & set(r.tags)]
    return FindingFacts(
        device_key=device.key,
        device_id=device.id,
        device=shown_name(device),
        cve_id=match.cve_id,
        source=match.source,
        certain=match.certain,
        confidence=match.confidence,
        basis=match.basis,
        cvss_version=metric.version if metric else None,
        cvss_score=score,
        cvss_vector=metric.vector if metric else None,
        severity=_severity(metric) if metric else None,
        cvss4_score=v4.base_score if v4 else None,
        cvss4_vector=v4.vector if v4 else None,
        cvss4_severity=_severity(v4) if v4 else None,
        kev=kev is not None,
        kev_due=kev.due_date if kev else None,
        known_ransomware=kev.known_ransomware if kev else None,
        epss=epss.score if epss else None,
        epss_percentile=epss.percentile if epss else None,
        advisories=tuple(dict.fromkeys(AdvisoryLink(a.tracking_id, a.url) for a, _ in advisories)),
        references=tuple(ReferenceLink(r.url, r.tags) for r in links[:MAX_LINKS]),
        remediations=_remediations(advisories, kev),
        disclosed=disclosed,
        patient_safety=safety,
        uncontrolled=risk.uncontrolled,
        risk_reasons=risk.reasons,
        due_mitigation=due.mitigation,
        due_remediation=due.remediation,
        due_basis=due.basis,
    )


@dataclass(frozen=True, slots=True)
class Observed:
    """What the matching sees on the devices now."""

    findings: list[FindingFacts]
    cleared: dict[tuple[str, str], str]
    """Why, by (device key, CVE), a VEX statement took a match away (for the history of a
    finding it closes)."""


def vex_why(cleared: Cleared) -> str:
    """How a finding's history says a supplier's VEX statement cleared its match."""
    s = cleared.statement
    justification = f", justification {s.justification}" if s.justification else ""
    return f"cleared by a supplier VEX ({s.status}{justification}): {cleared.reason}"


def observed_findings(
    store: Store,
    devices: Sequence[DeviceView],
    timeframes: Timeframes,
    *,
    now: datetime,
) -> Observed:
    """What the matching sees on ``devices`` now, as finding facts (deadlines counted from
    the stored first sight of each finding, ``now`` for new ones), and the matches a VEX
    statement took away."""
    assessment = device_matches(store, devices)
    kev, epss = store.exploitation({m.cve_id for m in assessment.matches})
    seen_before = store.finding_first_seen()
    by_id = {d.id: d for d in devices}
    advisories = _by_cve(assessment.advisories)
    out = []
    for m in assessment.matches:
        device = by_id[m.device_id]
        first = seen_before.get((device.key, m.cve_id), now)
        out.append(
            _facts(
                device,
                m,
                assessment.vulnerabilities.get(m.cve_id),
                advisories.get(m.cve_id, []),
                kev.get(m.cve_id),
                epss.get(m.cve_id),
                first.date(),
                timeframes,
            )
        )
    cleared: dict[tuple[str, str], str] = {
        (by_id[c.match.device_id].key, c.match.cve_id): vex_why(c)
        for c in assessment.cleared
        if c.match.device_id in by_id
    }
    return Observed(out, cleared)


def refresh_findings(
    store: Store,
    site_dirs: Sequence[Path] = (),
    *,
    timeframes: Timeframes | None = None,
    now: datetime | None = None,
) -> RefreshCounts:
    """Match every device of the inventory against the feeds and bring the findings up to
    date (timeframes: the shipped ones with the site rule directories' changes)."""
    now = now or datetime.now(UTC)
    timeframes = timeframes or load_timeframes(site_dirs)
    devices = store.devices(DeviceQuery())
    seen = observed_findings(store, devices, timeframes, now=now)
    return store.refresh_findings(
        seen.findings, [d.key for d in devices], now=now, cleared=seen.cleared
    )


def refresh_if_fed(
    store: Store,
    site_dirs: Sequence[Path] = (),
    *,
    now: datetime | None = None,
) -> RefreshCounts | None:
    """``refresh_findings`` after an import or a discovery - None, at the cost of one query,
    when no vulnerability feed was ever imported (nothing to match)."""
    if not store.has_vulnerability_feeds():
        return None
    return refresh_findings(store, site_dirs, now=now)


def refresh_line(counts: RefreshCounts) -> str:
    """What a command that refreshed the findings by the way says of it, in one line."""
    return f"findings: {counts.created} new, {counts.closed} closed"


# -- reading -----------------------------------------------------------------------------------


def overdue_of(view: FindingView, as_of: date) -> tuple[str, ...]:
    """The deadlines of the finding passed on ``as_of``."""
    return overdue(
        view.status,
        due_mitigation=view.facts.due_mitigation,
        due_remediation=view.facts.due_remediation,
        accepted_until=view.accepted_until,
        as_of=as_of,
    )


def _next_due(view: FindingView) -> date:
    dates = [view.facts.due_remediation]
    if view.status == "open":
        dates.append(view.facts.due_mitigation)
    if view.status == "risk_accepted":
        dates = [view.accepted_until]
    known = [d for d in dates if d is not None]
    return min(known) if known else date.max


def list_findings(
    store: Store,
    *,
    statuses: Sequence[str] | None = None,
    device: str | None = None,
    cve: str | None = None,
    overdue_only: bool = False,
    as_of: date | None = None,
) -> list[FindingView]:
    """Findings (of one device: id, IP or MAC), open and mitigated first, then by the next
    deadline, KEV and CVSS; ``overdue_only``: those with a deadline passed on ``as_of``
    (today by default)."""
    keys = tuple(d.key for d in find_devices(store, device)) if device else None
    query = FindingQuery(
        statuses=tuple(statuses) if statuses else None, device_keys=keys, cve_id=cve
    )
    found = store.findings(query)
    if overdue_only:
        day = as_of or datetime.now(UTC).date()
        found = [f for f in found if overdue_of(f, day)]
    found.sort(
        key=lambda f: (
            f.status not in ("open", "mitigated"),
            _next_due(f),
            not f.facts.kev,
            -(f.facts.cvss_score or 0.0),
            f.facts.device,
            f.facts.cve_id,
        )
    )
    return found


@dataclass(frozen=True, slots=True)
class FindingDetail:
    finding: FindingView
    history: tuple[FindingChange, ...]


def get_finding(store: Store, finding_id: int) -> FindingDetail:
    """A finding with its history (``UnknownFinding`` when there is none)."""
    found = store.finding(finding_id)
    if found is None:
        raise UnknownFinding(f"no finding {finding_id}")
    return FindingDetail(found, tuple(store.finding_history(finding_id)))


def set_finding_status(
    store: Store,
    finding_id: int,
    status: str,
    *,
    who: str,
    why: str | None = None,
    control: str | None = None,
    until: date | None = None,
    now: datetime | None = None,
) -> FindingDetail:
    """Change a finding's status as a person (``InvalidTransition`` when the workflow does
    not allow it or something it needs is missing); the finding and its history after."""
    change = StatusChange(
        status=status,
        who=who,
        at=now or datetime.now(UTC),
        why=why,
        control=control,
        until=until,
    )
    store.set_finding_status(finding_id, change)
    return get_finding(store, finding_id)


# -- JSON --------------------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def finding_json(view: FindingView, as_of: date) -> dict[str, Any]:
    """The documented JSON form of a finding (see the module's docstring)."""
    f = view.facts
    return {
        "id": view.id,
        "device": f.device,
        "device_key": f.device_key,
        "device_id": f.device_id,
        "cve": f.cve_id,
        "status": view.status,
        "status_by": view.status_by,
        "status_at": _iso(view.status_at),
        "status_auto": view.status_auto,
        "accepted_until": _iso(view.accepted_until),
        "matched": view.matched,
        "source": f.source,
        "certain": f.certain,
        "confidence": f.confidence,
        "basis": f.basis,
        "cvss": {
            "version": f.cvss_version,
            "score": f.cvss_score,
            "vector": f.cvss_vector,
            "severity": f.severity,
        },
        "cvss_v4": (
            {"score": f.cvss4_score, "vector": f.cvss4_vector, "severity": f.cvss4_severity}
            if f.cvss4_vector
            else None
        ),
        "kev": f.kev,
        "kev_due": _iso(f.kev_due),
        "known_ransomware": f.known_ransomware,
        "epss": f.epss,
        "epss_percentile": f.epss_percentile,
        "advisories": [{"id": a.id, "url": a.url} for a in f.advisories],
        "references": [{"url": r.url, "tags": list(r.tags)} for r in f.references],
        "remediations": [
            {"category": r.category, "details": r.details, "url": r.url, "advisory": r.advisory}
            for r in f.remediations
        ],
        "disclosed": _iso(f.disclosed),
        "patient_safety": f.patient_safety is not None,
        "patient_safety_reason": f.patient_safety,
        "uncontrolled": f.uncontrolled,
        "risk_reasons": list(f.risk_reasons),
        "due": {
            "mitigation": _iso(f.due_mitigation),
            "remediation": _iso(f.due_remediation),
            "basis": f.due_basis,
        },
        "overdue": list(overdue_of(view, as_of)),
        "as_of": as_of.isoformat(),
        "first_seen": _iso(view.first_seen),
        "last_seen": _iso(view.last_seen),
    }


def refresh_json(counts: RefreshCounts) -> dict[str, int]:
    """``medsec findings refresh --json``: ``{"created", "updated", "closed", "reopened",
    "unmatched", "total"}`` (closed: open findings medsec closed as remediated because the
    match had gone; unmatched: findings whose match went this time but whose status a person
    set, kept as they are)."""
    return {
        "created": counts.created,
        "updated": counts.updated,
        "closed": counts.closed,
        "reopened": counts.reopened,
        "unmatched": counts.unmatched,
        "total": counts.total,
    }


def change_json(change: FindingChange) -> dict[str, Any]:
    return {
        "at": _iso(change.at),
        "who": change.who,
        "auto": change.auto,
        "from": change.from_status,
        "to": change.to_status,
        "why": change.why,
        "control": change.control,
        "until": _iso(change.until),
    }


def detail_json(detail: FindingDetail, as_of: date) -> dict[str, Any]:
    return {
        **finding_json(detail.finding, as_of),
        "history": [change_json(c) for c in detail.history],
    }
