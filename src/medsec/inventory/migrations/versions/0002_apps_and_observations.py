"""Applications of flows and edges; observations.

``flows.app`` (the application a dissector recognised, NULL for flows stored before),
``edge_apps`` (flows per edge and application) and ``observations`` (the dissectors' facts,
their own fields as a JSON object).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("flows") as batch:  # SQLite: a plain ADD COLUMN, no copy
        batch.add_column(sa.Column("app", sa.String(length=32), nullable=True))
    op.create_table(
        "edge_apps",
        sa.Column("id", ID, nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=False),
        sa.Column("server_ip", sa.String(length=45), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("server_port", sa.Integer(), nullable=False),
        sa.Column("app", sa.String(length=32), nullable=False),
        sa.Column("flows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edge_apps")),
        sa.UniqueConstraint(
            "client_ip",
            "server_ip",
            "transport",
            "server_port",
            "app",
            name=op.f("uq_edge_apps_client_ip_server_ip_transport_server_port_app"),
        ),
    )
    op.create_index(op.f("ix_edge_apps_app"), "edge_apps", ["app"])
    op.create_table(
        "observations",
        sa.Column("id", ID, nullable=False),
        sa.Column("capture_id", ID, nullable=False),
        sa.Column("ts", TIME, nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("src_ip", sa.String(length=45), nullable=True),
        sa.Column("dst_ip", sa.String(length=45), nullable=True),
        sa.Column("src_port", sa.Integer(), nullable=False),
        sa.Column("dst_port", sa.Integer(), nullable=False),
        sa.Column("src_mac", sa.String(length=17), nullable=True),
        sa.Column("dst_mac", sa.String(length=17), nullable=True),
        sa.Column("vlan", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.BigInteger(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["captures.id"],
            name=op.f("fk_observations_capture_id_captures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_index(op.f("ix_observations_capture_id"), "observations", ["capture_id"])
    op.create_index(op.f("ix_observations_src_ip"), "observations", ["src_ip"])
    op.create_index(op.f("ix_observations_dst_ip"), "observations", ["dst_ip"])
    op.create_index(op.f("ix_observations_kind"), "observations", ["kind"])


def downgrade() -> None:
    op.drop_table("observations")
    op.drop_table("edge_apps")
    with op.batch_alter_table("flows") as batch:  # SQLite: the table is copied without it
        batch.drop_column("app")
