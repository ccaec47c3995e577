"""Initial schema: captures, flows, edges, hosts, bindings.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "captures",
        sa.Column("id", ID, nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("packets", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", TIME, nullable=True),
        sa.Column("last_seen", TIME, nullable=True),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("ingested_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captures")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_captures_fingerprint")),
    )
    op.create_table(
        "flows",
        sa.Column("id", ID, nullable=False),
        sa.Column("capture_id", ID, nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("ip_protocol", sa.Integer(), nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=False),
        sa.Column("server_ip", sa.String(length=45), nullable=False),
        sa.Column("client_port", sa.Integer(), nullable=False),
        sa.Column("server_port", sa.Integer(), nullable=False),
        sa.Column("vlan", sa.Integer(), nullable=False),
        sa.Column("inner_vlan", sa.Integer(), nullable=False),
        sa.Column("client_mac", sa.String(length=17), nullable=True),
        sa.Column("server_mac", sa.String(length=17), nullable=True),
        sa.Column("first_seen", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.Column("packets_c2s", sa.BigInteger(), nullable=False),
        sa.Column("packets_s2c", sa.BigInteger(), nullable=False),
        sa.Column("bytes_c2s", sa.BigInteger(), nullable=False),
        sa.Column("bytes_s2c", sa.BigInteger(), nullable=False),
        sa.Column("tcp_flags_c2s", sa.Integer(), nullable=False),
        sa.Column("tcp_flags_s2c", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("initiator", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["captures.id"],
            name=op.f("fk_flows_capture_id_captures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flows")),
    )
    op.create_index(op.f("ix_flows_capture_id"), "flows", ["capture_id"])
    op.create_index(op.f("ix_flows_client_ip"), "flows", ["client_ip"])
    op.create_index(op.f("ix_flows_server_ip"), "flows", ["server_ip"])
    op.create_table(
        "edges",
        sa.Column("id", ID, nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=False),
        sa.Column("server_ip", sa.String(length=45), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("server_port", sa.Integer(), nullable=False),
        sa.Column("flows", sa.BigInteger(), nullable=False),
        sa.Column("packets", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.Column("external", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edges")),
        sa.UniqueConstraint(
            "client_ip",
            "server_ip",
            "transport",
            "server_port",
            name=op.f("uq_edges_client_ip_server_ip_transport_server_port"),
        ),
    )
    op.create_index(op.f("ix_edges_server_ip"), "edges", ["server_ip"])
    op.create_table(
        "hosts",
        sa.Column("id", ID, nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("ip_key", sa.String(length=33), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("first_seen", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.Column("packets_sent", sa.BigInteger(), nullable=False),
        sa.Column("packets_received", sa.BigInteger(), nullable=False),
        sa.Column("bytes_sent", sa.BigInteger(), nullable=False),
        sa.Column("bytes_received", sa.BigInteger(), nullable=False),
        sa.Column("flows_as_client", sa.BigInteger(), nullable=False),
        sa.Column("flows_as_server", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosts")),
        sa.UniqueConstraint("ip", name=op.f("uq_hosts_ip")),
    )
    op.create_index(op.f("ix_hosts_ip_key"), "hosts", ["ip_key"])
    op.create_table(
        "bindings",
        sa.Column("id", ID, nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=False),
        sa.Column("vlan", sa.Integer(), nullable=False),
        sa.Column("first_seen", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.Column("packets", sa.BigInteger(), nullable=False),
        sa.Column("from_arp", sa.Boolean(), nullable=False),
        sa.Column("from_frames", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bindings")),
        sa.UniqueConstraint("ip", "mac", "vlan", name=op.f("uq_bindings_ip_mac_vlan")),
    )
    op.create_index(op.f("ix_bindings_mac"), "bindings", ["mac"])


def downgrade() -> None:
    op.drop_table("bindings")
    op.drop_table("hosts")
    op.drop_table("edges")
    op.drop_table("flows")
    op.drop_table("captures")
