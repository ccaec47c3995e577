"""SQLAlchemy models of the vulnerability intelligence the store keeps (``model.vulns``).

Each feed record is kept whole as JSON (``record``) beside the columns queries need:
natural keys for re-import (a record imported again replaces the old one, never duplicates),
and the lowercase vendor/product tokens matching looks candidates up by. Part of the same
metadata as ``inventory.models`` (the migrations create both; a test compares them).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medsec.inventory.models import Base, BigId


class VulnerabilityRow(Base):
    """A CVE as one source describes it (``nvd``, ``cve5``)."""

    __tablename__ = "vulnerabilities"
    __table_args__ = (UniqueConstraint("cve_id", "source"), Index(None, "cve_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cve_id: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    published: Mapped[datetime | None]
    last_modified: Mapped[datetime | None]
    cvss_version: Mapped[str | None] = mapped_column(String(8))
    cvss_score: Mapped[float | None] = mapped_column(Float)
    cvss_vector: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str | None] = mapped_column(String(16))
    record: Mapped[dict[str, Any]]
    imported_at: Mapped[datetime]


class VulnerabilityProductRow(Base):
    """A vendor and product a vulnerability names (NVD CPE criteria, CVE 5 ``affected``):
    the index matching finds candidate vulnerabilities of a device's software by."""

    __tablename__ = "vulnerability_products"
    __table_args__ = (
        UniqueConstraint("vulnerability_id", "vendor", "product"),
        Index(None, "product", "vendor"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    vulnerability_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("vulnerabilities.id", ondelete="CASCADE")
    )
    vendor: Mapped[str] = mapped_column(String(128))
    product: Mapped[str] = mapped_column(String(200))


class AdvisoryRow(Base):
    """A CSAF advisory (CISA ICS/ICSMA, vendors')."""

    __tablename__ = "advisories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str]
    publisher: Mapped[str]
    category: Mapped[str] = mapped_column(String(48))
    initial_release: Mapped[datetime | None]
    current_release: Mapped[datetime | None]
    record: Mapped[dict[str, Any]]
    imported_at: Mapped[datetime]


class AdvisoryProductRow(Base):
    """A vendor and product of an advisory's product tree (normalised, lowercase)."""

    __tablename__ = "advisory_products"
    __table_args__ = (
        UniqueConstraint("advisory_id", "vendor", "product"),
        Index(None, "vendor"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    advisory_id: Mapped[int] = mapped_column(BigId, ForeignKey("advisories.id", ondelete="CASCADE"))
    vendor: Mapped[str] = mapped_column(String(128))
    product: Mapped[str] = mapped_column(String(300))


class AdvisoryCveRow(Base):
    """A CVE an advisory is about."""

    __tablename__ = "advisory_cves"
    __table_args__ = (UniqueConstraint("advisory_id", "cve_id"), Index(None, "cve_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    advisory_id: Mapped[int] = mapped_column(BigId, ForeignKey("advisories.id", ondelete="CASCADE"))
    cve_id: Mapped[str] = mapped_column(String(32))


class KevRow(Base):
    """A CISA Known Exploited Vulnerabilities catalog entry."""

    __tablename__ = "kev_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cve_id: Mapped[str] = mapped_column(String(32), unique=True)
    vendor: Mapped[str]
    product: Mapped[str]
    name: Mapped[str]
    date_added: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    known_ransomware: Mapped[bool | None]
    required_action: Mapped[str]
    notes: Mapped[str]


class EpssRow(Base):
    """FIRST EPSS: the latest score imported for a CVE."""

    __tablename__ = "epss_scores"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cve_id: Mapped[str] = mapped_column(String(32), unique=True)
    score: Mapped[float] = mapped_column(Float)
    percentile: Mapped[float] = mapped_column(Float)
    scored_on: Mapped[date | None] = mapped_column(Date)
    model_version: Mapped[str | None] = mapped_column(String(64))


class SbomRow(Base):
    """An imported SBOM; ``key`` (serial number, else the file's digest) makes re-import an
    update. ``attached_kind`` ``model`` (``attached_to`` = ``vendor|model``) or ``device``
    (a device id), or None until attached."""

    __tablename__ = "sboms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(256), unique=True)
    format: Mapped[str] = mapped_column(String(16))
    spec_version: Mapped[str] = mapped_column(String(16))
    subject_name: Mapped[str | None]
    subject_version: Mapped[str | None]
    created: Mapped[datetime | None]
    attached_kind: Mapped[str | None] = mapped_column(String(8))
    attached_to: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str]
    """The file it came from."""
    imported_at: Mapped[datetime]


class SbomComponentRow(Base):
    """A component an SBOM lists."""

    __tablename__ = "sbom_components"
    __table_args__ = (Index(None, "sbom_id"), Index(None, "purl"), Index(None, "name"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sbom_id: Mapped[int] = mapped_column(BigId, ForeignKey("sboms.id", ondelete="CASCADE"))
    name: Mapped[str]
    version: Mapped[str | None]
    supplier: Mapped[str | None]
    purl: Mapped[str | None] = mapped_column(String(1000))
    cpe: Mapped[str | None]
    kind: Mapped[str | None] = mapped_column(String(32))
    ref: Mapped[str | None]


class VexRow(Base):
    """A supplier's statement that a CVE does (not) affect the products it names."""

    __tablename__ = "vex_statements"
    __table_args__ = (UniqueConstraint("cve_id", "source", "refs_key"), Index(None, "cve_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cve_id: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(300))
    refs_key: Mapped[str] = mapped_column(String(64))
    """Digest of the sorted refs, the status and the versions (the statement's identity
    within its source)."""
    status: Mapped[str] = mapped_column(String(32))
    record: Mapped[dict[str, Any]]


class FeedImportRow(Base):
    """One import of one file: what it was, how many records it gave and skipped."""

    __tablename__ = "feed_imports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    path: Mapped[str]
    format: Mapped[str] = mapped_column(String(16))
    records: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    """``complete``, ``partial`` (the file broke after some records) or ``failed``."""
    error: Mapped[str | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
