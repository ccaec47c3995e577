"""SQLAlchemy models of findings: a vulnerability of a device, its workflow status and the
history of every status change.

A finding is keyed by the device's ``key`` (stable across re-identification, unlike its id)
and the CVE. ``findings`` holds what the last refresh saw (the facts, the risk class and the
deadlines) and the current status; ``finding_history`` keeps every status change with who,
when and why. Part of the same metadata as ``inventory.models`` (the migrations create both;
a test compares them).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medsec.inventory.models import Base, BigId


class FindingRow(Base):
    """A vulnerability (CVE) of a device."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("device_key", "cve_id"),
        Index(None, "status"),
        Index(None, "cve_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_key: Mapped[str] = mapped_column(String(300))
    device_id: Mapped[int]
    """The device's id at the last refresh (ids may change; the key does not)."""
    device: Mapped[str]
    """How the device is shown: its first IP, else its key."""
    cve_id: Mapped[str] = mapped_column(String(32))

    status: Mapped[str] = mapped_column(String(16))
    status_auto: Mapped[bool]
    """The status was set by medsec (a refresh), not by a person: only such a status may be
    changed by a refresh."""
    status_by: Mapped[str] = mapped_column(String(128))
    status_at: Mapped[datetime]
    accepted_until: Mapped[date | None] = mapped_column(Date)
    """The end of a risk acceptance, when given."""

    matched: Mapped[bool]
    """The last refresh still matched the vulnerability to the device."""
    source: Mapped[str] = mapped_column(String(160))
    certain: Mapped[bool]
    confidence: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str]
    cvss_version: Mapped[str | None] = mapped_column(String(8))
    cvss_score: Mapped[float | None] = mapped_column(Float)
    cvss_vector: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str | None] = mapped_column(String(16))
    cvss4_score: Mapped[float | None] = mapped_column(Float)
    cvss4_vector: Mapped[str | None] = mapped_column(String(200))
    cvss4_severity: Mapped[str | None] = mapped_column(String(16))
    kev: Mapped[bool]
    kev_due: Mapped[date | None] = mapped_column(Date)
    known_ransomware: Mapped[bool | None]
    epss: Mapped[float | None] = mapped_column(Float)
    epss_percentile: Mapped[float | None] = mapped_column(Float)
    advisories: Mapped[list[Any]] = mapped_column(JSON)
    """``[{id, url}]``: the CSAF advisories about the CVE."""
    reference_links: Mapped[list[Any]] = mapped_column(JSON)
    """``[{url, tags}]``: the CVE record's vendor advisory, patch and mitigation links."""
    remediations: Mapped[list[Any]] = mapped_column(JSON)
    """``[{category, details, url, advisory}]``: what the vendor (or CISA's KEV) says to do."""
    disclosed: Mapped[date | None] = mapped_column(Date)
    patient_safety: Mapped[str | None]
    """Why the device has patient-safety impact (None: it has none)."""
    uncontrolled: Mapped[bool]
    risk_reasons: Mapped[list[Any]] = mapped_column(JSON)
    """Why the risk is (un)controlled, one sentence each."""
    due_mitigation: Mapped[date | None] = mapped_column(Date)
    due_remediation: Mapped[date | None] = mapped_column(Date)
    due_basis: Mapped[str]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class FindingHistoryRow(Base):
    """One status change of a finding (its creation included: from_status NULL)."""

    __tablename__ = "finding_history"
    __table_args__ = (Index(None, "finding_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    finding_id: Mapped[int] = mapped_column(BigId, ForeignKey("findings.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    who: Mapped[str] = mapped_column(String(128))
    auto: Mapped[bool]
    """Made by a refresh, not by a person."""
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    why: Mapped[str | None]
    control: Mapped[str | None]
    """The compensating control (a change to ``mitigated``)."""
    until: Mapped[date | None] = mapped_column(Date)
    """The end of a risk acceptance."""
