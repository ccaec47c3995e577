"""Devices with their addresses; edge labels.

``devices`` (one row per device, identity with evidence as JSON), ``device_addresses``
(MACs and IPs a device held, by VLAN, over time) and on ``edges`` the labels ``cleartext``,
``phi``, ``credentials_in_clear`` and ``destination_name`` (false / NULL for edges stored
before).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("edges") as batch:
        for name in ("cleartext", "phi", "credentials_in_clear"):
            batch.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
        batch.add_column(sa.Column("destination_name", sa.String(length=253), nullable=True))
    op.create_table(
        "devices",
        sa.Column("id", ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("first_seen", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.Column("category", sa.String(length=48), nullable=False),
        sa.Column("medical", sa.Boolean(), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("os", sa.Text(), nullable=True),
        sa.Column("handles_phi", sa.Boolean(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("identified_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("key", name=op.f("uq_devices_key")),
    )
    op.create_index(op.f("ix_devices_category"), "devices", ["category"])
    op.create_table(
        "device_addresses",
        sa.Column("id", ID, nullable=False),
        sa.Column("device_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("value", sa.String(length=45), nullable=False),
        sa.Column("ip_key", sa.String(length=33), nullable=True),
        sa.Column("vlan", sa.Integer(), nullable=False),
        sa.Column("first_seen", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_addresses_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_addresses")),
        sa.UniqueConstraint(
            "device_id",
            "kind",
            "value",
            "vlan",
            name=op.f("uq_device_addresses_device_id_kind_value_vlan"),
        ),
    )
    op.create_index(op.f("ix_device_addresses_value"), "device_addresses", ["value"])


def downgrade() -> None:
    op.drop_index(op.f("ix_device_addresses_value"), table_name="device_addresses")
    op.drop_table("device_addresses")
    op.drop_index(op.f("ix_devices_category"), table_name="devices")
    op.drop_table("devices")
    with op.batch_alter_table("edges") as batch:
        for name in ("destination_name", "credentials_in_clear", "phi", "cleartext"):
            batch.drop_column(name)
