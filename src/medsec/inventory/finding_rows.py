"""Findings in the store: what a refresh writes, the status workflow, and what readers get.

**Refresh** (:func:`refresh`) takes the findings the matching sees now, for the devices the
inventory holds now, in one transaction:

- a new (device key, CVE) becomes a finding with status ``open``, set by medsec;
- a finding seen again gets the new facts (CVSS, KEV, EPSS, advisories, deadlines ...) and
  ``last_seen``; its status is left alone - unless medsec itself closed it because the match
  had gone, in which case it is reopened (``matches again: <basis>``);
- a finding of a present device that is no longer seen is marked ``matched = false``; if
  its status is ``open`` and was set by medsec, it is closed as ``remediated`` by ``medsec``
  (``no longer matches: <basis>``: the software was updated, or identification no longer
  sees the vulnerable version) - or, when a supplier's VEX statement took the match away,
  with the why the refresh is given for it (``cleared by a supplier VEX (not_affected,
  justification ...): <document> says ...``), so the history says who said so.

A status a person set is never changed by a refresh. Findings of devices no longer in the
inventory are left as they are (a device that is not seen is not a device that was fixed).

**Workflow** (:data:`TRANSITIONS`)::

    open ──► mitigated ──► remediated
      │  \\        │  ▲          │
      │   \\       ▼  │          ▼
      │    ► risk_accepted    (open: reopened)
      ▼
    false_positive ──► open

- ``open`` -> ``mitigated`` (needs the compensating control), ``remediated``,
  ``risk_accepted`` (needs why; an end date optional), ``false_positive`` (needs why);
- ``mitigated`` -> ``remediated``, ``risk_accepted``, ``false_positive``, or back to ``open``
  (the control was withdrawn: needs why);
- ``risk_accepted`` -> ``mitigated``, ``remediated``, or ``open`` (acceptance revoked);
- ``remediated`` and ``false_positive`` -> ``open`` only (reopened: needs why).

Anything else (including a change to the status it already has) is an
:class:`InvalidTransition`. Every change, the automatic ones included, is kept in
``finding_history`` with who, when, why, the control and the acceptance's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Table, and_, bindparam, select, update

from medsec.inventory.finding_models import FindingHistoryRow, FindingRow
from medsec.model.errors import FindingError

FindingStatus = Literal["open", "mitigated", "remediated", "risk_accepted", "false_positive"]

STATUSES: tuple[FindingStatus, ...] = (
    "open",
    "mitigated",
    "remediated",
    "risk_accepted",
    "false_positive",
)

TRANSITIONS: Mapping[str, frozenset[str]] = {
    "open": frozenset({"mitigated", "remediated", "risk_accepted", "false_positive"}),
    "mitigated": frozenset({"open", "remediated", "risk_accepted", "false_positive"}),
    "risk_accepted": frozenset({"open", "mitigated", "remediated"}),
    "remediated": frozenset({"open"}),
    "false_positive": frozenset({"open"}),
}
"""Allowed status changes: from -> the statuses it may go to."""

ACTIVE: frozenset[str] = frozenset({"open", "mitigated"})
"""Statuses whose deadlines run."""

MEDSEC = "medsec"
"""Who the changes of a refresh are by."""

BATCH = 500


class UnknownFinding(FindingError):
    """No finding has the id."""


class InvalidTransition(FindingError):
    """The status change is not allowed from the current status, or lacks what it needs
    (the control of a mitigation, the reason of an acceptance ...)."""


# -- values ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdvisoryLink:
    id: str
    """The advisory's tracking id (``ICSMA-24-254-01``)."""
    url: str | None


@dataclass(frozen=True, slots=True)
class ReferenceLink:
    url: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RemediationText:
    category: str
    """CSAF ``vendor_fix``, ``mitigation``, ``workaround``...; ``kev_required_action``."""
    details: str
    url: str | None = None
    advisory: str | None = None
    """The advisory (or ``CISA KEV``) that says it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingFacts:
    """What a refresh sees for one device and CVE (everything but the workflow)."""

    device_key: str
    device_id: int
    device: str
    cve_id: str
    source: str
    certain: bool
    confidence: int
    basis: str
    cvss_version: str | None = None
    cvss_score: float | None = None
    cvss_vector: str | None = None
    severity: str | None = None
    cvss4_score: float | None = None
    cvss4_vector: str | None = None
    cvss4_severity: str | None = None
    kev: bool = False
    kev_due: date | None = None
    known_ransomware: bool | None = None
    epss: float | None = None
    epss_percentile: float | None = None
    advisories: tuple[AdvisoryLink, ...] = ()
    references: tuple[ReferenceLink, ...] = ()
    remediations: tuple[RemediationText, ...] = ()
    disclosed: date | None = None
    patient_safety: str | None = None
    uncontrolled: bool = False
    risk_reasons: tuple[str, ...] = ()
    due_mitigation: date | None = None
    due_remediation: date | None = None
    due_basis: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingView:
    """A stored finding: the facts of its last refresh and its workflow status."""

    id: int
    facts: FindingFacts
    status: FindingStatus
    status_auto: bool
    """Set by a refresh, not by a person."""
    status_by: str
    status_at: datetime
    accepted_until: date | None
    matched: bool
    """The last refresh still matched the vulnerability to the device."""
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingChange:
    """One entry of a finding's history."""

    at: datetime
    who: str
    auto: bool
    from_status: FindingStatus | None
    """None when the finding was created."""
    to_status: FindingStatus
    why: str | None = None
    control: str | None = None
    until: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange:
    """A person's change of a finding's status."""

    status: str
    who: str
    at: datetime
    why: str | None = None
    control: str | None = None
    until: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingQuery:
    statuses: tuple[str, ...] | None = None
    device_keys: tuple[str, ...] | None = None
    cve_id: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.statuses or ()) - set(STATUSES)
        if unknown:
            raise FindingError(
                f"unknown status {', '.join(sorted(unknown))} (one of {', '.join(STATUSES)})"
            )


@dataclass(frozen=True, slots=True)
class RefreshCounts:
    """What one refresh did."""

    created: int = 0
    updated: int = 0
    """Seen again (facts brought up to date)."""
    closed: int = 0
    """Open findings whose match had gone, closed as remediated by medsec."""
    reopened: int = 0
    """Findings medsec had closed that match again."""
    unmatched: int = 0
    """Findings no longer matched whose status a person set (left as they are)."""
    total: int = 0
    """Findings in the store after the refresh."""
    closed_ids: tuple[int, ...] = field(default=(), compare=False)


# -- the workflow ------------------------------------------------------------------------------


def check_change(current: str, change: StatusChange) -> None:
    """``InvalidTransition`` unless ``change`` may be made to a finding in ``current``."""
    target = change.status
    if target not in STATUSES:
        raise InvalidTransition(f"unknown status {target!r} (one of {', '.join(STATUSES)})")
    if target == current:
        raise InvalidTransition(f"the finding is already {current}")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current]))
        raise InvalidTransition(f"a finding cannot go from {current} to {target} (to: {allowed})")
    if not change.who.strip():
        raise InvalidTransition("who makes the change must be named")
    if target == "mitigated" and not (change.control or "").strip():
        raise InvalidTransition("mitigated needs the compensating control (--control)")
    needs_why = {
        "risk_accepted": "a risk acceptance",
        "false_positive": "a false positive",
        "open": "reopening",
    }
    if target in needs_why and not (change.why or "").strip():
        raise InvalidTransition(f"{needs_why[target]} needs a reason (--why)")
    if change.until is not None and target != "risk_accepted":
        raise InvalidTransition("an end date (--until) belongs to a risk acceptance only")
    if change.until is not None and change.until < change.at.date():
        raise InvalidTransition(f"the acceptance would end in the past ({change.until})")
    if target != "mitigated" and change.control:
        raise InvalidTransition("a compensating control (--control) belongs to mitigated only")


# -- rows <-> values ---------------------------------------------------------------------------

_FACT_COLUMNS = (
    "device_key", "device_id", "device", "cve_id", "source", "certain", "confidence", "basis",
    "cvss_version", "cvss_score", "cvss_vector", "severity", "cvss4_score", "cvss4_vector",
    "cvss4_severity", "kev", "kev_due", "known_ransomware", "epss", "epss_percentile",
    "disclosed", "patient_safety", "uncontrolled", "due_mitigation", "due_remediation",
    "due_basis",
)  # fmt: skip
"""Columns that hold a field of ``FindingFacts`` as is."""


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _fact_values(f: FindingFacts) -> dict[str, Any]:
    values = {c: getattr(f, c) for c in _FACT_COLUMNS}
    values["device_key"] = f.device_key[:300]
    values["source"] = f.source[:160]
    values["cvss_vector"] = f.cvss_vector[:200] if f.cvss_vector else None
    values["cvss4_vector"] = f.cvss4_vector[:200] if f.cvss4_vector else None
    values["advisories"] = [{"id": a.id, "url": a.url} for a in f.advisories]
    values["reference_links"] = [{"url": r.url, "tags": list(r.tags)} for r in f.references]
    values["remediations"] = [
        {"category": r.category, "details": r.details, "url": r.url, "advisory": r.advisory}
        for r in f.remediations
    ]
    values["risk_reasons"] = list(f.risk_reasons)
    return values


def _listed(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _view(row: Any) -> FindingView:
    facts = FindingFacts(
        **{c: getattr(row, c) for c in _FACT_COLUMNS},
        advisories=tuple(AdvisoryLink(str(a["id"]), a.get("url")) for a in _listed(row.advisories)),
        references=tuple(
            ReferenceLink(str(r["url"]), tuple(r.get("tags", ())))
            for r in _listed(row.reference_links)
        ),
        remediations=tuple(
            RemediationText(str(r["category"]), str(r["details"]), r.get("url"), r.get("advisory"))
            for r in _listed(row.remediations)
        ),
        risk_reasons=tuple(str(r) for r in row.risk_reasons or ()),
    )
    return FindingView(
        id=row.id,
        facts=facts,
        status=row.status,
        status_auto=row.status_auto,
        status_by=row.status_by,
        status_at=row.status_at,
        accepted_until=row.accepted_until,
        matched=row.matched,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


def _history(
    finding_id: int,
    at: datetime,
    who: str,
    auto: bool,
    from_status: str | None,
    to_status: str,
    why: str | None = None,
    control: str | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    return {
        "finding_id": finding_id,
        "at": at,
        "who": who[:128],
        "auto": auto,
        "from_status": from_status,
        "to_status": to_status,
        "why": why,
        "control": control,
        "until": until,
    }


# -- refresh -----------------------------------------------------------------------------------


def first_seen(conn: Connection) -> dict[tuple[str, str], datetime]:
    """When each stored (device key, CVE) finding was first seen."""
    f = _table(FindingRow)
    query = select(f.c.device_key, f.c.cve_id, f.c.first_seen)
    return {(k, c): t for k, c, t in conn.execute(query)}


def _set_status(
    conn: Connection, finding_id: int, expected: str, to: str, now: datetime, *, auto_only: bool
) -> bool:
    """Change the status if it still is ``expected`` (and, for a refresh, was set by medsec):
    a concurrent person's change wins."""
    f = _table(FindingRow)
    condition = and_(f.c.id == finding_id, f.c.status == expected)
    if auto_only:
        condition = and_(condition, f.c.status_auto)
    done = conn.execute(
        update(f)
        .where(condition)
        .values(status=to, status_auto=True, status_by=MEDSEC, status_at=now, accepted_until=None)
    )
    return done.rowcount == 1


def refresh(
    conn: Connection,
    insert: Callable[[Table], Any],
    seen: Sequence[FindingFacts],
    present: Iterable[str],
    now: datetime,
    cleared: Mapping[tuple[str, str], str] | None = None,
) -> RefreshCounts:
    """Write a refresh: ``seen`` are the findings matched now on the devices whose keys are
    ``present`` (see the module's docstring); ``cleared``: why, by (device key, CVE), a match
    no longer seen was taken away by a VEX statement."""
    f, h = _table(FindingRow), _table(FindingHistoryRow)
    devices = {k[:300] for k in present}
    stored = {
        (r.device_key, r.cve_id): r
        for r in conn.execute(
            select(
                f.c.id,
                f.c.device_key,
                f.c.cve_id,
                f.c.status,
                f.c.status_auto,
                f.c.matched,
                f.c.basis,
            )  # fmt: skip
        )
    }
    by_key = {(s.device_key[:300], s.cve_id): s for s in seen}
    history: list[dict[str, Any]] = []
    created = updated = closed = reopened = unmatched = 0
    closed_ids: list[int] = []

    new = [s for key, s in by_key.items() if key not in stored]
    for start in range(0, len(new), BATCH):
        rows = [
            {
                **_fact_values(s),
                "status": "open",
                "status_auto": True,
                "status_by": MEDSEC,
                "status_at": now,
                "accepted_until": None,
                "matched": True,
                "first_seen": now,
                "last_seen": now,
            }
            for s in new[start : start + BATCH]
        ]
        returned = conn.execute(insert(f).values(rows).returning(f.c.id, f.c.basis))
        for finding_id, basis in returned:
            history.append(
                _history(finding_id, now, MEDSEC, True, None, "open", f"matched: {basis}")
            )
            created += 1

    again = [(stored[key], s) for key, s in by_key.items() if key in stored]
    if again:
        statement = update(f).where(f.c.id == bindparam("_id"))  # SET: the params' keys
        params = [
            {**_fact_values(s), "matched": True, "last_seen": now, "_id": row.id}
            for row, s in again
        ]
        for start in range(0, len(params), BATCH):
            conn.execute(statement, params[start : start + BATCH])
        updated = len(again)
        for row, s in again:
            if row.status == "remediated" and row.status_auto:
                if _set_status(conn, row.id, "remediated", "open", now, auto_only=True):
                    why = f"matches again: {s.basis}"
                    history.append(_history(row.id, now, MEDSEC, True, "remediated", "open", why))
                    reopened += 1

    gone = [
        row
        for key, row in stored.items()
        if key not in by_key and row.device_key in devices and row.matched
    ]
    for start in range(0, len(gone), BATCH):
        ids = [row.id for row in gone[start : start + BATCH]]
        conn.execute(update(f).where(f.c.id.in_(ids)).values(matched=False))
    vex = {(k[:300], cve): why for (k, cve), why in (cleared or {}).items()}
    for row in gone:
        if row.status == "open" and row.status_auto:
            if _set_status(conn, row.id, "open", "remediated", now, auto_only=True):
                why = vex.get((row.device_key, row.cve_id)) or f"no longer matches: {row.basis}"
                history.append(_history(row.id, now, MEDSEC, True, "open", "remediated", why))
                closed += 1
                closed_ids.append(row.id)
                continue
        unmatched += 1

    for start in range(0, len(history), BATCH):
        conn.execute(insert(h), history[start : start + BATCH])
    return RefreshCounts(
        created, updated, closed, reopened, unmatched, len(stored) + created, tuple(closed_ids)
    )


# -- a person's change -------------------------------------------------------------------------


def set_status(conn: Connection, finding_id: int, change: StatusChange) -> FindingView:
    """Make ``change`` (checked against the workflow) and record it; the finding after it."""
    f, h = _table(FindingRow), _table(FindingHistoryRow)
    row = conn.execute(select(f).where(f.c.id == finding_id).with_for_update()).one_or_none()
    if row is None:
        raise UnknownFinding(f"no finding {finding_id}")
    check_change(row.status, change)
    why = (change.why or "").strip() or None
    control = (change.control or "").strip() or None
    conn.execute(
        update(f)
        .where(f.c.id == finding_id)
        .values(
            status=change.status,
            status_auto=False,
            status_by=change.who.strip()[:128],
            status_at=change.at,
            accepted_until=change.until,
        )
    )
    conn.execute(
        h.insert().values(
            _history(
                finding_id,
                change.at,
                change.who.strip(),
                False,
                row.status,
                change.status,
                why,
                control,
                change.until,
            )
        )
    )
    found = finding(conn, finding_id)
    assert found is not None
    return found


# -- reading -----------------------------------------------------------------------------------


def findings(conn: Connection, q: FindingQuery) -> list[FindingView]:
    """Findings matching ``q``, by id."""
    f = _table(FindingRow)
    query = select(f)
    if q.statuses is not None:
        query = query.where(f.c.status.in_(q.statuses))
    if q.cve_id is not None:
        query = query.where(f.c.cve_id == q.cve_id.strip().upper())
    if q.device_keys is not None:
        if not q.device_keys:
            return []
        keys = sorted(set(q.device_keys))
        out: list[FindingView] = []
        for start in range(0, len(keys), BATCH):
            chunk = query.where(f.c.device_key.in_(keys[start : start + BATCH]))
            out.extend(_view(r) for r in conn.execute(chunk))
        return sorted(out, key=lambda v: v.id)
    return [_view(r) for r in conn.execute(query.order_by(f.c.id))]


def finding(conn: Connection, finding_id: int) -> FindingView | None:
    f = _table(FindingRow)
    row = conn.execute(select(f).where(f.c.id == finding_id)).one_or_none()
    return None if row is None else _view(row)


def history(conn: Connection, finding_id: int) -> list[FindingChange]:
    """The finding's status changes, oldest first."""
    h = _table(FindingHistoryRow)
    query = select(h).where(h.c.finding_id == finding_id).order_by(h.c.at, h.c.id)
    return [
        FindingChange(
            at=r.at,
            who=r.who,
            auto=r.auto,
            from_status=r.from_status,
            to_status=r.to_status,
            why=r.why,
            control=r.control,
            until=r.until,
        )
        for r in conn.execute(query)
    ]
