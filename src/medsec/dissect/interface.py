"""How a protocol dissector plugs in.

A dissector states facts about payloads and decides nothing. The capture engine hands it
only what it asked for:

* **streams** (``transports`` holds ``"tcp"``): the first bytes of one direction of a TCP
  connection, reassembled in sequence order, up to ``stream_bytes`` (the engine stops
  collecting a direction there, so bulk transfers cost nothing);
* **datagrams** (``"udp"``): each UDP payload of a flow, up to ``datagrams`` per direction;
* **frames** (``"l2"``): whole link-layer frames whose EtherType is in ``ethertypes``, or
  802.3/LLC frames when ``llc`` is set (CDP, STP) - the payload starts after the Ethernet
  header (and VLAN tags);
* **IP datagrams** (``"other"``): the payload after the IP header of packets whose IP
  protocol number is in the optional ``ip_protocols`` (VRRP 112, IGMP 2), handed over like
  UDP datagrams (up to ``datagrams`` per flow direction; ports are 0).

Which dissector gets a flow: one whose ``ports`` hold either port, else one whose
``signature`` accepts the first payload bytes, so a service on a non-standard port is still
recognised. Port hints and signatures are data of the class, not logic in the engine.

``dissect`` returns observations, or raises ``DissectError`` for bytes that claim to be its
protocol but are malformed; it never raises anything else and never reads outside
``payload`` (hypothesis tests feed every dissector arbitrary bytes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar, Protocol

from medsec.model.observations import Observation, PacketContext, Transport


class Dissector(Protocol):
    name: ClassVar[str]
    """Short protocol name: ``dhcp``, ``tls``, ``dicom``; also the flow's ``app`` label."""
    transports: ClassVar[frozenset[Transport]]
    ports: ClassVar[frozenset[int]]
    """Well-known ports (either end of the flow) that route a flow here."""
    ethertypes: ClassVar[frozenset[int]]
    """For ``l2`` dissectors: EtherTypes of the frames wanted."""
    llc: ClassVar[bool]
    """For ``l2`` dissectors: wants 802.3 frames with an LLC header (length <= 1500)."""
    stream_bytes: ClassVar[int]
    """Bytes of each TCP direction to collect before dissecting (e.g. 16384 for TLS)."""
    datagrams: ClassVar[int]
    """UDP payloads per flow direction to dissect."""

    # ip_protocols: ClassVar[frozenset[int]] - optional: IP protocol numbers whose datagrams
    # are wanted (transport "other"); read through ``ip_protocols_of``
    # edge_flows: ClassVar[int | Mapping[int, int]] - optional: UDP flows of one edge (two
    # hosts, service port) worth dissecting, for all its ports or by port; read through
    # ``edge_flows_of``

    def signature(self, head: bytes) -> bool:
        """Whether the first payload bytes of a flow look like this protocol."""
        ...

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        """Facts stated by ``payload``; ``DissectError`` if it is malformed."""
        ...


EDGE_SAMPLES = 3
"""Flows of each edge (two hosts and the service port) inspected by default: the facts a
device states repeat from one connection to the next, so later flows of the edge are only
labelled with the application found in the first ones."""
UDP_EDGE_FLOWS = 32
"""UDP flows per edge a datagram dissector gets by default: managers and relays send each
request from a new source port (SNMP, syslog, DHCP), so the facts an agent states come
spread over many one-exchange flows."""


def edge_flows_of(dissector: Dissector, port: int) -> int:
    """UDP flows of one edge on ``port`` that ``dissector`` wants dissected: its optional
    ``edge_flows`` class variable, one number or one per port (unicast DNS lookups vary
    little: ``EDGE_SAMPLES``; NTP polls restate the same header: 1), else
    ``UDP_EDGE_FLOWS``; 1-255."""
    wanted: int | Mapping[int, int] = getattr(dissector, "edge_flows", UDP_EDGE_FLOWS)
    flows = wanted.get(port, UDP_EDGE_FLOWS) if isinstance(wanted, Mapping) else wanted
    return min(max(int(flows), 1), 255)


def ip_protocols_of(dissector: Dissector) -> frozenset[int]:
    """The IP protocol numbers (other than TCP and UDP) whose datagrams ``dissector`` wants:
    its optional ``ip_protocols`` class variable, empty when it has none."""
    numbers: frozenset[int] = getattr(dissector, "ip_protocols", frozenset())
    return frozenset(int(n) for n in numbers if 0 <= int(n) <= 255 and n not in (6, 17))
