"""Findings: device x vulnerability with its workflow.

``findings`` (one per device key and CVE: the facts of the last refresh - match, CVSS, KEV,
EPSS, advisories, remediations, disclosure, risk class and deadlines - and the current
status) and ``finding_history`` (every status change: who, when, from, to, why, the
compensating control, the end of a risk acceptance).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_key", sa.String(length=300), nullable=False),
        sa.Column("device_id", sa.BigInteger(), nullable=False),
        sa.Column("device", sa.Text(), nullable=False),
        sa.Column("cve_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_auto", sa.Boolean(), nullable=False),
        sa.Column("status_by", sa.String(length=128), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_until", sa.Date(), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=160), nullable=False),
        sa.Column("certain", sa.Boolean(), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("cvss_version", sa.String(length=8), nullable=True),
        sa.Column("cvss_score", sa.Float(), nullable=True),
        sa.Column("cvss_vector", sa.String(length=200), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("cvss4_score", sa.Float(), nullable=True),
        sa.Column("cvss4_vector", sa.String(length=200), nullable=True),
        sa.Column("cvss4_severity", sa.String(length=16), nullable=True),
        sa.Column("kev", sa.Boolean(), nullable=False),
        sa.Column("kev_due", sa.Date(), nullable=True),
        sa.Column("known_ransomware", sa.Boolean(), nullable=True),
        sa.Column("epss", sa.Float(), nullable=True),
        sa.Column("epss_percentile", sa.Float(), nullable=True),
        sa.Column("advisories", sa.JSON(), nullable=False),
        sa.Column("reference_links", sa.JSON(), nullable=False),
        sa.Column("remediations", sa.JSON(), nullable=False),
        sa.Column("disclosed", sa.Date(), nullable=True),
        sa.Column("patient_safety", sa.Text(), nullable=True),
        sa.Column("uncontrolled", sa.Boolean(), nullable=False),
        sa.Column("risk_reasons", sa.JSON(), nullable=False),
        sa.Column("due_mitigation", sa.Date(), nullable=True),
        sa.Column("due_remediation", sa.Date(), nullable=True),
        sa.Column("due_basis", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("device_key", "cve_id", name=op.f("uq_findings_device_key_cve_id")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_cve_id"), ["cve_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_status"), ["status"], unique=False)

    op.create_table(
        "finding_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "finding_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(length=128), nullable=False),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("control", sa.Text(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_finding_history_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_history")),
    )
    with op.batch_alter_table("finding_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_finding_history_finding_id_at"), ["finding_id", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("finding_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finding_history_finding_id_at"))

    op.drop_table("finding_history")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_status"))
        batch_op.drop_index(batch_op.f("ix_findings_cve_id"))

    op.drop_table("findings")
