"""Values handed from the capture stage to the inventory: flows, address bindings, captures.

All values are immutable. Times are timezone-aware UTC ``datetime``s; addresses are the
canonical text form (``ipaddress`` for IPs, lower-case colon-separated for MACs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from medsec.model.observations import Observation

Transport = Literal["tcp", "udp", "icmp", "icmpv6", "other"]
"""Transport protocol of a flow; ``other`` for IP protocols without ports (GRE, ESP, ...)."""

TcpState = Literal["established", "rejected", "half_open", "partial", "none"]
"""TCP connection state of a flow.

* ``established`` - the handshake completed, or both sides exchanged ACKs mid-stream;
* ``rejected`` - the client's SYN was answered with a RST;
* ``half_open`` - a SYN was sent and nothing came back;
* ``partial`` - only part of a connection was seen (no handshake, one direction);
* ``none`` - not TCP.
"""

InitiatorBasis = Literal["syn", "syn_ack", "port", "first_packet"]
"""How the client of a flow was decided: its pure SYN, the server's SYN+ACK, the port
heuristic (well-known or registered service port), or who sent the first packet."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowRecord:
    """One bidirectional conversation, oriented client -> server."""

    transport: Transport
    ip_protocol: int
    """IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...)."""
    client_ip: str
    server_ip: str
    client_port: int
    """0 for transports without ports."""
    server_port: int
    vlan: int
    """Outer 802.1Q/802.1ad VLAN id, 0 when untagged."""
    inner_vlan: int
    """Inner VLAN id of a Q-in-Q frame, 0 otherwise."""
    client_mac: str | None
    server_mac: str | None
    first_seen: datetime
    last_seen: datetime
    packets_c2s: int
    packets_s2c: int
    bytes_c2s: int
    """Bytes on the wire (original frame lengths) from client to server."""
    bytes_s2c: int
    tcp_flags_c2s: int
    """OR of the TCP flags the client sent (FIN=1, SYN=2, RST=4, PSH=8, ACK=16, URG=32...)."""
    tcp_flags_s2c: int
    state: TcpState
    initiator: InitiatorBasis
    app: str | None = None
    """Application protocol named by the dissector that recognised the flow's payload (not
    by its port): ``dicom``, ``hl7``, ``tls``, ``http``, ...; None when none did."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressBinding:
    """An IP address seen with a MAC address on a VLAN, from frames it sent or ARP."""

    ip: str
    mac: str
    vlan: int
    """The VLAN the frames carried (innermost tag), 0 when untagged."""
    first_seen: datetime
    last_seen: datetime
    packets: int
    from_arp: bool
    """The binding was announced in ARP (sender fields) - authoritative on its segment."""
    from_frames: bool
    """The IP was the source of an IP packet in a frame from this MAC."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureStats:
    """What the capture engine read from one source."""

    packets: int = 0
    bytes: int = 0
    """Sum of original frame lengths."""
    ipv4: int = 0
    ipv6: int = 0
    arp: int = 0
    tcp: int = 0
    udp: int = 0
    icmp: int = 0
    other_l3: int = 0
    """Frames with a network layer other than IPv4/IPv6/ARP (LLDP, STP, IPX, ...)."""
    fragments: int = 0
    """IPv4/IPv6 fragments that are not the first fragment (no transport header)."""
    truncated: int = 0
    """Packets whose captured bytes end inside a header they announce."""
    unsupported_link: int = 0
    """Packets on a link type the engine does not decode."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureSummary:
    """The result of reading one capture source: its identity, statistics and contents."""

    source: str
    """File path or ``iface:NAME``."""
    fingerprint: str
    """Stable identity of the source's content (see ``capture.fingerprint``)."""
    format: str
    """``pcap``, ``pcapng``, ``pcap.gz``, ``pcapng.gz`` or ``live``."""
    stats: CaptureStats
    first_seen: datetime | None
    last_seen: datetime | None
    flows: tuple[FlowRecord, ...]
    bindings: tuple[AddressBinding, ...]
    observations: tuple[Observation, ...] = ()
    """Facts the dissectors stated about this source's payloads, in capture order."""
    complete: bool = True
    """False when the source was damaged and only its readable part is here."""
    error: str | None = None
    """Why the source is incomplete."""
    link_types: tuple[int, ...] = field(default_factory=tuple)


_UNSPECIFIED = frozenset({"0.0.0.0", "::", "255.255.255.255"})


def is_host_address(ip: str) -> bool:
    """Unicast and specified: an address a single host answers to."""
    if ip in _UNSPECIFIED:
        return False
    if ":" in ip:
        return not ip.lower().startswith("ff")
    first = ip.split(".", 1)[0]
    return not (first.isdigit() and 224 <= int(first) <= 239)
