"""Naming facts: DNS, multicast DNS / DNS-SD, LLMNR (RFC 1035, 6762, 6763, 4795) and the
NetBIOS name service (RFC 1002).

Names say much about a device: the vendor cloud it resolves, the DNS-SD services it
announces (``_ipp._tcp.local``) with their TXT keys (``ty=``, ``md=``, ``model=``), the
NetBIOS workstation name it registers. Every DNS record kind worth weighing has its own
observation, so a rule can name it; ``service`` tells plain DNS, mDNS and LLMNR apart.
Names are presentation text without the trailing dot (``.`` for the root), labels decoded as
UTF-8 with undecodable bytes shown as ``\\xNN``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class DnsQuery(Observation):
    """A question of a DNS, mDNS or LLMNR query message (QR = 0)."""

    PROTOCOL: ClassVar[str] = "dns"
    NONCES: ClassVar[frozenset[str]] = frozenset({"transaction_id"})

    service: str
    """``dns``, ``mdns`` (port 5353) or ``llmnr`` (port 5355)."""
    transaction_id: int
    """Message ID (0 in most mDNS queries)."""
    name: str
    """QNAME, e.g. ``_ipp._tcp.local`` or ``pool.ntp.org``."""
    qtype: int
    """QTYPE number (1 A, 12 PTR, 28 AAAA, 33 SRV, 255 ANY, ...)."""
    qtype_name: str
    """QTYPE mnemonic (``A``, ``PTR``, ...; ``TYPE<n>`` when unknown)."""
    unicast_response: bool = False
    """mDNS: the QU bit (top bit of QCLASS) asks for a unicast answer."""


@observation
class DnsRecord(Observation):
    """Common part of a resource record; only its subclasses are emitted."""

    PROTOCOL: ClassVar[str] = "dns"

    service: str
    """``dns``, ``mdns`` or ``llmnr``."""
    name: str
    """Owner name of the record."""
    ttl: int
    """Time to live in seconds (0 in an mDNS goodbye)."""
    section: str
    """``answer``, ``authority`` or ``additional``."""
    response: bool
    """Whether the message is a response (QR = 1); mDNS probes and known answers are not."""


@observation
class DnsAddressRecord(DnsRecord):
    """An A or AAAA record: ``name`` resolves to ``address``."""

    address: str
    """IPv4 or IPv6 address (compressed IPv6 text)."""


@observation
class DnsPointerRecord(DnsRecord):
    """A PTR record: a DNS-SD service type pointing to an instance
    (``_ipp._tcp.local`` -> ``Printer._ipp._tcp.local``) or a reverse-lookup name."""

    target: str
    """The name pointed to."""


@observation
class DnsAliasRecord(DnsRecord):
    """A CNAME record: ``name`` is an alias of ``target``."""

    target: str
    """The canonical name."""


@observation
class DnsServiceRecord(DnsRecord):
    """An SRV record: the service instance ``name`` runs on ``target``:``port``."""

    target: str
    """Host name offering the service."""
    port: int
    """TCP or UDP port of the service."""
    priority: int
    """SRV priority."""
    weight: int
    """SRV weight."""


@observation
class DnsTextRecord(DnsRecord):
    """A TXT record as DNS-SD key/value pairs (``("ty", "HP LaserJet")``, ``("md", ...)``)."""

    entries: tuple[tuple[str, str | None], ...]
    """Strings of the record in order, split at the first ``=``; value None for a key
    without ``=`` (an RFC 6763 boolean attribute), ``""`` for ``key=``."""


@observation
class DnsHostInfoRecord(DnsRecord):
    """An HINFO record: the host's CPU and operating system as it states them."""

    cpu: str
    """CPU character-string."""
    os: str
    """OS character-string."""


@observation
class NetbiosNameQuery(Observation):
    """A NetBIOS name service query request: who holds this name (or, NBSTAT, which names
    does this node hold)."""

    PROTOCOL: ClassVar[str] = "netbios-ns"

    name: str
    """The NetBIOS name (first-level encoding undone, trailing padding removed)."""
    suffix: int
    """The 16th byte, the name's service type (0x00 workstation, 0x20 server, 0x1c domain
    controllers, ...)."""
    scope: str | None
    """NetBIOS scope id, None when empty."""
    node_status: bool
    """True for an NBSTAT (node status) question, False for an NB (address) question."""
    broadcast: bool
    """The B flag: sent as a broadcast rather than to a name server."""


@observation
class NetbiosNameBinding(Observation):
    """A NetBIOS name tied to addresses: registration, refresh, release (requests and their
    responses) or a positive/negative name query response."""

    PROTOCOL: ClassVar[str] = "netbios-ns"

    operation: str
    """``registration``, ``multihomed-registration``, ``refresh``, ``release``, ``wack`` or
    ``query``."""
    response: bool
    """Whether the message is a response."""
    rcode: int
    """Response code (0 success; 6 active error = name in conflict, 3 name error)."""
    name: str
    """The NetBIOS name."""
    suffix: int
    """The name's service type byte."""
    scope: str | None
    """NetBIOS scope id, None when empty."""
    group: bool | None
    """Group name (G flag) per the NB flags; None when no address entry was given."""
    addresses: tuple[str, ...]
    """IPv4 addresses bound to the name, in order."""
    ttl: int | None
    """TTL of the resource record in seconds; None when there was none."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NetbiosNameEntry:
    """One entry of a node status name table."""

    name: str
    """The NetBIOS name."""
    suffix: int
    """Its service type byte."""
    group: bool
    """Group (True) or unique (False) name."""
    active: bool
    """The ACT flag: the name is active."""


@observation
class NetbiosNodeStatus(Observation):
    """A NetBIOS node status (NBSTAT) response: the names a node holds and its MAC."""

    PROTOCOL: ClassVar[str] = "netbios-ns"

    name: str
    """The name the response answers for (often ``*``)."""
    names: tuple[NetbiosNameEntry, ...]
    """The node's name table, in order."""
    unit_id: str | None
    """The node's unit id (MAC address), None when absent or all zero."""


@observation
class HostName(Observation):
    """A name a device goes by, restated by identification from one of the observation fields
    ``rules/devices/identifiers.yaml`` lists as host names (DHCP option 12, a NetBIOS
    workstation name, SNMP sysName, a DNS answer for its address...), so one rule can read
    every name whatever protocol carried it. ``ctx`` is that of the original observation with
    the named device as its source end."""

    PROTOCOL: ClassVar[str] = "hostname"

    name: str
    """As the protocol wrote it, trimmed."""
    source: str
    """``<observation kind>.<field>`` that carried it (``DhcpRequest.host_name``)."""
