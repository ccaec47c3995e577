"""What the store hands out and takes in: frozen views, query filters, ingest results.

Views are plain immutable values (tuples, not lists), independent of SQLAlchemy, so the
service layer, CLI and web can pass them around freely. Queries validate themselves on
construction and raise :class:`InvalidQuery` (an ``InventoryError``) for bad user input.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from medsec.model.errors import InventoryError
from medsec.model.traffic import CaptureStats, FlowRecord, InitiatorBasis, TcpState, Transport

CaptureStatus = Literal["complete", "partial"]
"""``partial``: the source was damaged and only its readable part is stored."""

TRANSPORTS: frozenset[str] = frozenset({"tcp", "udp", "icmp", "icmpv6", "other"})

DEFAULT_GATEWAY_MAC_THRESHOLD = 8
"""Same default as ``Settings.gateway_mac_threshold``."""


class InvalidQuery(InventoryError):
    """A query filter is malformed (bad CIDR, IP, MAC, negative limit, naive datetime ...)."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestResult:
    """What one ``Store.ingest`` did."""

    capture_id: int
    """Id of the capture row (the existing one when ``skipped``)."""
    fingerprint: str
    skipped: bool
    """The capture was already stored; nothing changed."""
    flows: int = 0
    """Flow rows inserted."""
    edges: int = 0
    """Distinct edges of this capture (inserted or merged)."""
    hosts: int = 0
    """Distinct hosts of this capture (inserted or merged)."""
    bindings: int = 0
    """Distinct (ip, mac, vlan) bindings of this capture (inserted or merged)."""
    observations: int = 0
    """Observation rows inserted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HostBinding:
    """One address binding of a host."""

    mac: str
    vlan: int
    first_seen: datetime
    last_seen: datetime
    packets: int
    from_arp: bool
    from_frames: bool
    gateway: bool
    """The MAC is a gateway MAC (bound via frames to more IPs than the query's threshold)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HostView:
    """A host (unicast IP address) with its traffic counters and layer-2 identity."""

    ip: str
    internal: bool
    first_seen: datetime
    last_seen: datetime
    packets_sent: int
    packets_received: int
    bytes_sent: int
    bytes_received: int
    flows_as_client: int
    flows_as_server: int
    macs: tuple[str, ...]
    """MACs of its bindings, except gateway MACs not announced for it in ARP; sorted."""
    vlans: tuple[int, ...]
    """VLANs of the bindings whose MAC is in ``macs``; sorted."""
    bindings: tuple[HostBinding, ...]
    """Every binding of the IP, gateway MACs included; sorted by (mac, vlan)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EdgeView:
    """All flows from ``client`` to the service ``server``:``server_port``/``transport``."""

    client: str
    server: str
    transport: str
    server_port: int
    flows: int
    packets: int
    """Both directions."""
    bytes: int
    """Both directions."""
    first_seen: datetime
    last_seen: datetime
    external: bool
    apps: tuple[str, ...] = ()
    """Applications dissectors recognised in flows of this edge: most flows first, then
    by name."""
    app: str | None = None
    """The first of ``apps``; None when no flow of the edge was recognised."""
    cleartext: bool = False
    """Some flow carried an application readable on the wire."""
    phi: bool = False
    """Some flow carried patient data."""
    credentials_in_clear: bool = False
    """A password, passcode or SNMP community crossed unencrypted."""
    destination_name: str | None = None
    """The name the client asked for (TLS SNI, HTTP Host, DNS answer)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowView:
    """A stored flow: its row id, its capture and the ``FlowRecord`` fields."""

    id: int
    capture_id: int
    transport: Transport
    ip_protocol: int
    client_ip: str
    server_ip: str
    client_port: int
    server_port: int
    vlan: int
    inner_vlan: int
    client_mac: str | None
    server_mac: str | None
    first_seen: datetime
    last_seen: datetime
    packets_c2s: int
    packets_s2c: int
    bytes_c2s: int
    bytes_s2c: int
    tcp_flags_c2s: int
    tcp_flags_s2c: int
    state: TcpState
    initiator: InitiatorBasis
    app: str | None = None
    """Application a dissector recognised in the flow's payload (``dicom``, ``hl7``, ...)."""

    def record(self) -> FlowRecord:
        """The ``FlowRecord`` this row was stored from."""
        return FlowRecord(
            transport=self.transport,
            ip_protocol=self.ip_protocol,
            client_ip=self.client_ip,
            server_ip=self.server_ip,
            client_port=self.client_port,
            server_port=self.server_port,
            vlan=self.vlan,
            inner_vlan=self.inner_vlan,
            client_mac=self.client_mac,
            server_mac=self.server_mac,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            packets_c2s=self.packets_c2s,
            packets_s2c=self.packets_s2c,
            bytes_c2s=self.bytes_c2s,
            bytes_s2c=self.bytes_s2c,
            tcp_flags_c2s=self.tcp_flags_c2s,
            tcp_flags_s2c=self.tcp_flags_s2c,
            state=self.state,
            initiator=self.initiator,
            app=self.app,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservationView:
    """A stored observation: where it was seen (``PacketContext`` fields) and what it says.

    ``facts`` holds the observation's own fields as JSON values (see ``inventory.facts``:
    tuples became lists, nested dataclasses objects, datetimes ISO 8601 text, bytes hex).
    It is a dict, so it takes no part in the view's hash.
    """

    id: int
    capture_id: int
    ts: datetime
    """When it was seen (UTC, to the microsecond)."""
    protocol: str
    """``PROTOCOL`` of the observation's class (``dhcp``, ``tls``, ...)."""
    kind: str
    """Name of the observation's class (``DhcpRequest``, ``TlsClientHello``, ...)."""
    transport: str
    """``tcp``, ``udp``, ``icmp``, ``icmpv6``, ``other``, or ``l2`` (no IPs or ports)."""
    src_ip: str | None
    dst_ip: str | None
    src_port: int
    dst_port: int
    src_mac: str | None
    dst_mac: str | None
    vlan: int
    flow_id: int
    """Identity of the flow within its capture source (-1 for layer-2 frames)."""
    facts: dict[str, Any] = field(hash=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureView:
    """An ingested capture source."""

    id: int
    fingerprint: str
    source: str
    format: str
    status: CaptureStatus
    error: str | None
    packets: int
    bytes: int
    first_seen: datetime | None
    last_seen: datetime | None
    ingested_at: datetime
    stats: CaptureStats


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    """Size of the inventory."""

    captures: int
    hosts: int
    internal_hosts: int
    external_hosts: int
    edges: int
    flows: int
    observations: int
    packets: int
    """Packets read from all captures (``CaptureStats.packets`` summed)."""
    bytes: int
    """Bytes read from all captures (``CaptureStats.bytes`` summed)."""


# --------------------------------------------------------------------------- queries


def _ip(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as exc:
        raise InvalidQuery(f"{what} {value!r} is not an IP address") from exc


def _mac(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().lower().replace("-", ":")
    parts = text.split(":")
    if len(parts) != 6 or not all(len(p) in (1, 2) for p in parts):
        raise InvalidQuery(f"MAC address {value!r} is not of the form aa:bb:cc:dd:ee:ff")
    try:
        return ":".join(f"{int(p, 16):02x}" for p in parts)
    except ValueError as exc:
        raise InvalidQuery(f"MAC address {value!r} is not of the form aa:bb:cc:dd:ee:ff") from exc


def _non_negative(value: int | None, what: str) -> None:
    if value is not None and value < 0:
        raise InvalidQuery(f"{what} must not be negative (got {value})")


def _port(value: int | None) -> None:
    if value is not None and not 0 <= value <= 65535:
        raise InvalidQuery(f"port {value} is outside 0-65535")


def _vlan(value: int | None) -> None:
    if value is not None and not 0 <= value <= 4095:
        raise InvalidQuery(f"VLAN {value} is outside 0-4095")


def _aware(value: datetime | None, what: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise InvalidQuery(f"{what} {value.isoformat()} has no timezone")


def _transport(value: str | None) -> None:
    if value is not None and value not in TRANSPORTS:
        raise InvalidQuery(f"transport {value!r} is not one of {', '.join(sorted(TRANSPORTS))}")


def _name(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        raise InvalidQuery(f"{what} must not be empty")
    return text


def _network(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError as exc:
        raise InvalidQuery(f"network {value!r} is not a CIDR block") from exc


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class HostQuery:
    """Which hosts to list; sorted by IP (numeric, IPv4 before IPv6)."""

    internal: bool | None = None
    """True: internal hosts only; False: external hosts only."""
    network: str | None = None
    """Only hosts inside this CIDR block."""
    vlan: int | None = None
    """Only hosts with this VLAN in ``HostView.vlans``."""
    mac: str | None = None
    """Only hosts with this MAC in ``HostView.macs``."""
    since: datetime | None = None
    """Only hosts seen at or after this time (``last_seen >= since``)."""
    until: datetime | None = None
    """Only hosts seen at or before this time (``first_seen <= until``)."""
    limit: int | None = None
    gateway_mac_threshold: int = DEFAULT_GATEWAY_MAC_THRESHOLD
    """A MAC bound via frames to more distinct IPs than this is a router's."""

    def __post_init__(self) -> None:
        _set(self, "network", _network(self.network))
        _set(self, "mac", _mac(self.mac))
        _vlan(self.vlan)
        _aware(self.since, "since")
        _aware(self.until, "until")
        _non_negative(self.limit, "limit")
        if self.gateway_mac_threshold < 1:
            raise InvalidQuery("gateway_mac_threshold must be at least 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class EdgeQuery:
    """Which edges to list; sorted by bytes (largest first), then by key."""

    host: str | None = None
    """Either end is this IP."""
    client: str | None = None
    server: str | None = None
    port: int | None = None
    """Server port."""
    transport: str | None = None
    external: bool | None = None
    """True: edges with an external end only; False: internal-only edges."""
    min_bytes: int | None = None
    app: str | None = None
    """Only edges with a flow a dissector recognised as this application (in ``apps``)."""
    phi: bool | None = None
    """True: edges that carried patient data only; False: edges that did not."""
    cleartext: bool | None = None
    credentials_in_clear: bool | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        _set(self, "host", _ip(self.host, "host"))
        _set(self, "client", _ip(self.client, "client"))
        _set(self, "server", _ip(self.server, "server"))
        _port(self.port)
        _transport(self.transport)
        _non_negative(self.min_bytes, "min_bytes")
        _set(self, "app", _name(self.app, "app"))
        _non_negative(self.limit, "limit")


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowQuery:
    """Which flows to list; sorted by first_seen, then id."""

    host: str | None = None
    """Either end is this IP."""
    client: str | None = None
    server: str | None = None
    port: int | None = None
    """Server port."""
    transport: str | None = None
    capture_id: int | None = None
    app: str | None = None
    """Only flows a dissector recognised as this application."""
    limit: int | None = None

    def __post_init__(self) -> None:
        _set(self, "host", _ip(self.host, "host"))
        _set(self, "client", _ip(self.client, "client"))
        _set(self, "server", _ip(self.server, "server"))
        _port(self.port)
        _transport(self.transport)
        _set(self, "app", _name(self.app, "app"))
        _non_negative(self.limit, "limit")


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservationQuery:
    """Which observations to list; sorted by time, then id (capture order)."""

    host: str | None = None
    """Sent or received by this IP (``src_ip`` or ``dst_ip``)."""
    mac: str | None = None
    """Sent or received by this MAC (``src_mac`` or ``dst_mac``)."""
    protocol: str | None = None
    """``PROTOCOL`` of the observation class (``dhcp``)."""
    kind: str | None = None
    """Observation class name (``DhcpRequest``)."""
    capture_id: int | None = None
    since: datetime | None = None
    """Only observations at or after this time."""
    until: datetime | None = None
    """Only observations at or before this time."""
    limit: int | None = None

    def __post_init__(self) -> None:
        _set(self, "host", _ip(self.host, "host"))
        _set(self, "mac", _mac(self.mac))
        _set(self, "protocol", _name(self.protocol, "protocol"))
        _set(self, "kind", _name(self.kind, "kind"))
        _aware(self.since, "since")
        _aware(self.until, "until")
        _non_negative(self.limit, "limit")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceAddressView:
    """An address a device held: ``kind`` ``mac`` or ``ip``, on a VLAN, first to last seen."""

    kind: str
    value: str
    vlan: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceView:
    """A device as last identified. ``record`` holds the whole identity as JSON values:
    ``attributes`` (value, confidence, source rules, evidence, conflicts per attribute),
    ``software``, ``identifiers``, ``protocols``, ``services``, ``links``, ``fda_class``.
    It is a dict, so it takes no part in the view's hash."""

    id: int
    key: str
    first_seen: datetime
    last_seen: datetime
    category: str
    medical: bool
    vendor: str | None
    model: str | None
    os: str | None
    handles_phi: bool
    addresses: tuple[DeviceAddressView, ...]
    record: dict[str, Any] = field(hash=False, compare=False)

    @property
    def macs(self) -> list[str]:
        return list(dict.fromkeys(a.value for a in self.addresses if a.kind == "mac"))

    @property
    def ips(self) -> list[str]:
        return list(dict.fromkeys(a.value for a in self.addresses if a.kind == "ip"))

    @property
    def vlans(self) -> list[int]:
        return sorted({a.vlan for a in self.addresses})


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceQuery:
    """Which devices to list; sorted by category (medical first), then first IP/MAC."""

    category: str | None = None
    vendor: str | None = None
    """Case-insensitive substring of the vendor."""
    medical: bool | None = None
    handles_phi: bool | None = None
    vlan: int | None = None
    network: str | None = None
    """Only devices that held an address inside this CIDR block."""
    limit: int | None = None

    def __post_init__(self) -> None:
        _set(self, "network", _network(self.network))
        _set(self, "category", _name(self.category, "category"))
        _set(self, "vendor", _name(self.vendor, "vendor"))
        _vlan(self.vlan)
        _non_negative(self.limit, "limit")


ALL_DEVICES = DeviceQuery()
