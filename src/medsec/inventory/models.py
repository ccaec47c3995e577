"""SQLAlchemy models of the inventory store: captures, flows, edges (and their applications),
hosts, bindings, observations.

These classes are the store's private schema; other stages see the frozen views in
``inventory.views``. The Alembic migrations in ``inventory/migrations`` create exactly this
schema (a test compares them).

Times are stored in UTC by :class:`UtcDateTime` and come back timezone-aware on every engine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so migrations can refer to them on every engine."""


def sqlite_time(value: datetime) -> str:
    """A datetime as SQLite stores it: naive UTC text, fixed width (text order = time order).

    The same text SQLAlchemy's SQLite ``DATETIME`` writes for ``UtcDateTime``; the bulk
    writer in ``store`` uses it to bypass per-row type processing.
    """
    if value.tzinfo is not UTC:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored (need UTC)")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:-6]  # drop "+00:00"


def aware_time(value: datetime) -> datetime:
    """A datetime as PostgreSQL takes it (``timestamptz``): aware, any zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored (need UTC)")
    return value


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC ``datetime`` on every engine.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text (fixed width, so text
    order is time order). Naive datetimes are refused: the store cannot know their zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored (need UTC)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


BigId = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit surrogate keys; SQLite needs ``INTEGER`` for its rowid alias."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UtcDateTime(),
        int: BigInteger(),
        str: Text(),
        bool: Boolean(),
        dict[str, Any]: JSON(),
    }


class Capture(Base):
    """One ingested capture source; its fingerprint makes re-ingestion a no-op."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(128), unique=True)
    source: Mapped[str]
    format: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    """``complete`` or ``partial`` (the source was damaged; its readable part is stored)."""
    error: Mapped[str | None]
    packets: Mapped[int]
    bytes: Mapped[int]
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    stats: Mapped[dict[str, Any]]
    """``CaptureStats`` as a JSON object."""
    ingested_at: Mapped[datetime]


class Flow(Base):
    """One ``FlowRecord`` of one capture, oriented client -> server."""

    __tablename__ = "flows"
    __table_args__ = (
        Index(None, "capture_id"),
        Index(None, "client_ip"),
        Index(None, "server_ip"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    capture_id: Mapped[int] = mapped_column(BigId, ForeignKey("captures.id", ondelete="CASCADE"))
    transport: Mapped[str] = mapped_column(String(8))
    ip_protocol: Mapped[int] = mapped_column(Integer)
    client_ip: Mapped[str] = mapped_column(String(45))
    server_ip: Mapped[str] = mapped_column(String(45))
    client_port: Mapped[int] = mapped_column(Integer)
    server_port: Mapped[int] = mapped_column(Integer)
    vlan: Mapped[int] = mapped_column(Integer)
    inner_vlan: Mapped[int] = mapped_column(Integer)
    client_mac: Mapped[str | None] = mapped_column(String(17))
    server_mac: Mapped[str | None] = mapped_column(String(17))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    packets_c2s: Mapped[int]
    packets_s2c: Mapped[int]
    bytes_c2s: Mapped[int]
    bytes_s2c: Mapped[int]
    tcp_flags_c2s: Mapped[int] = mapped_column(Integer)
    tcp_flags_s2c: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    initiator: Mapped[str] = mapped_column(String(16))
    app: Mapped[str | None] = mapped_column(String(32))
    """Application a dissector recognised in the payload (``dicom``, ``hl7``, ...)."""


class Edge(Base):
    """The communication graph: all flows between a client and a server's service, merged."""

    __tablename__ = "edges"
    __table_args__ = (
        UniqueConstraint("client_ip", "server_ip", "transport", "server_port"),
        Index(None, "server_ip"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_ip: Mapped[str] = mapped_column(String(45))
    server_ip: Mapped[str] = mapped_column(String(45))
    transport: Mapped[str] = mapped_column(String(8))
    server_port: Mapped[int] = mapped_column(Integer)
    flows: Mapped[int]
    packets: Mapped[int]
    """Both directions summed."""
    bytes: Mapped[int]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    external: Mapped[bool]
    """Either endpoint is outside the site networks (as configured at the last ingest)."""
    cleartext: Mapped[bool] = mapped_column(server_default=false())
    """Some flow carried an application readable on the wire (``flow_labels.yaml``)."""
    phi: Mapped[bool] = mapped_column(server_default=false())
    """Some flow carried patient data (HL7 patient segments, DICOM storage/query, FHIR)."""
    credentials_in_clear: Mapped[bool] = mapped_column(server_default=false())
    """A password, passcode or SNMP community crossed unencrypted."""
    destination_name: Mapped[str | None] = mapped_column(String(253))
    """The name the client asked for (TLS SNI, HTTP Host, or the DNS answer for the
    server's address); the latest known one."""


class EdgeApp(Base):
    """How many flows of an edge a dissector recognised as one application.

    Keyed like ``edges`` (plus the application); flows whose application nobody recognised
    have no row. Counts add up across captures, like the edge's own counters.
    """

    __tablename__ = "edge_apps"
    __table_args__ = (
        UniqueConstraint("client_ip", "server_ip", "transport", "server_port", "app"),
        Index(None, "app"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_ip: Mapped[str] = mapped_column(String(45))
    server_ip: Mapped[str] = mapped_column(String(45))
    transport: Mapped[str] = mapped_column(String(8))
    server_port: Mapped[int] = mapped_column(Integer)
    app: Mapped[str] = mapped_column(String(32))
    flows: Mapped[int]


class Host(Base):
    """A unicast IP address seen in a flow or an address binding."""

    __tablename__ = "hosts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ip: Mapped[str] = mapped_column(String(45), unique=True)
    ip_key: Mapped[str] = mapped_column(String(33), index=True)
    """Sortable form: ``4`` + 8 hex digits or ``6`` + 32 hex digits (numeric order, v4 first)."""
    internal: Mapped[bool]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    packets_sent: Mapped[int]
    packets_received: Mapped[int]
    bytes_sent: Mapped[int]
    bytes_received: Mapped[int]
    flows_as_client: Mapped[int]
    flows_as_server: Mapped[int]


class Binding(Base):
    """An IP address seen with a MAC address on a VLAN (from frames it sent, or ARP)."""

    __tablename__ = "bindings"
    __table_args__ = (
        UniqueConstraint("ip", "mac", "vlan"),
        Index(None, "mac"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ip: Mapped[str] = mapped_column(String(45))
    mac: Mapped[str] = mapped_column(String(17))
    vlan: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    packets: Mapped[int]
    from_arp: Mapped[bool]
    from_frames: Mapped[bool]


class Device(Base):
    """One device (``identify.devices``): its identity as last computed, with evidence.

    The columns people filter on are columns; the whole identity (every attribute with
    confidence, evidence and conflicts, identifiers, protocols) is ``record``. ``key``
    (``mac:…`` or ``ip:…``) keeps a device's id across re-identification.
    """

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    category: Mapped[str] = mapped_column(String(48), index=True)
    medical: Mapped[bool]
    vendor: Mapped[str | None]
    model: Mapped[str | None]
    os: Mapped[str | None]
    handles_phi: Mapped[bool]
    record: Mapped[dict[str, Any]]
    identified_at: Mapped[datetime]


class DeviceAddress(Base):
    """An address a device held (``kind`` ``mac`` or ``ip``) on a VLAN, first and last seen."""

    __tablename__ = "device_addresses"
    __table_args__ = (
        UniqueConstraint("device_id", "kind", "value", "vlan"),
        Index(None, "value"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[int] = mapped_column(BigId, ForeignKey("devices.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(4))
    value: Mapped[str] = mapped_column(String(45))
    ip_key: Mapped[str | None] = mapped_column(String(33))
    """Sortable form of an IP (as ``hosts.ip_key``), for subnet filters; None for MACs."""
    vlan: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class ObservationRow(Base):
    """One ``Observation`` of one capture: where it was seen, and its own fields as JSON."""

    __tablename__ = "observations"
    __table_args__ = (
        Index(None, "capture_id"),
        Index(None, "src_ip"),
        Index(None, "dst_ip"),
        Index(None, "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    capture_id: Mapped[int] = mapped_column(BigId, ForeignKey("captures.id", ondelete="CASCADE"))
    ts: Mapped[datetime]
    """``PacketContext.ts_ns``, to the microsecond."""
    protocol: Mapped[str] = mapped_column(String(32))
    """``PROTOCOL`` of the observation's class (``dhcp``, ``tls``, ...)."""
    kind: Mapped[str] = mapped_column(String(64))
    """Name of the observation's class (``DhcpRequest``, ``TlsClientHello``, ...)."""
    transport: Mapped[str] = mapped_column(String(8))
    src_ip: Mapped[str | None] = mapped_column(String(45))
    dst_ip: Mapped[str | None] = mapped_column(String(45))
    src_port: Mapped[int] = mapped_column(Integer)
    dst_port: Mapped[int] = mapped_column(Integer)
    src_mac: Mapped[str | None] = mapped_column(String(17))
    dst_mac: Mapped[str | None] = mapped_column(String(17))
    vlan: Mapped[int] = mapped_column(Integer)
    flow_id: Mapped[int]
    """Flow identity within the capture source (-1 for layer-2 frames)."""
    facts: Mapped[dict[str, Any]]
    """The observation's own fields (all but ``ctx``) as a JSON object."""
