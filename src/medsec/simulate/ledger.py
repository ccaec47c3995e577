"""Ground-truth bookkeeping: every frame written is counted against its conversation edge.

An *edge* is ``(client IP, server IP, transport, server port)``; a *flow* is one distinct
5-tuple plus VLAN. ARP frames and non-first IPv4 fragments belong to no edge.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from medsec.model.errors import SimulationError

EdgeKey = tuple[str, str, str, int]
"""Client IP, server IP, transport (``tcp``/``udp``/``icmp``/``icmpv6``), server port."""

FlowKey = tuple[str, int, str, int, str, int]
"""Client IP, client port, server IP, server port, transport, VLAN."""


class Frame(NamedTuple):
    """One frame ready to be written, with what it counts towards."""

    ts: int
    """Capture time in microseconds since the Unix epoch."""
    data: bytes
    edge: EdgeKey | None
    flow: FlowKey | None
    fragment: bool = False
    """A non-first IPv4 fragment (counted apart, in no edge)."""


@dataclass(slots=True)
class EdgeStats:
    """What was written for one edge."""

    app: str
    phi: bool
    cleartext: bool
    flows: set[FlowKey] = field(default_factory=set)
    packets: int = 0
    bytes: int = 0


def _address_key(address: str) -> tuple[int, int]:
    parsed = ipaddress.ip_address(address)
    return parsed.version, int(parsed)


class Ledger:
    """Edge statistics for the truth file."""

    def __init__(self) -> None:
        self._edges: dict[EdgeKey, EdgeStats] = {}
        self.fragments = 0

    def describe(self, edge: EdgeKey, *, app: str, phi: bool, cleartext: bool) -> None:
        """Declare what an edge carries before frames are counted against it.

        An edge that carries PHI in any flow carries PHI; it is cleartext only if every
        flow is.
        """
        stats = self._edges.get(edge)
        if stats is None:
            self._edges[edge] = EdgeStats(app=app, phi=phi, cleartext=cleartext)
            return
        if stats.app != app:
            raise SimulationError(f"edge {edge} described as {stats.app} and {app}")
        stats.phi = stats.phi or phi
        stats.cleartext = stats.cleartext and cleartext

    def count(self, frame: Frame) -> None:
        """Count one written frame."""
        if frame.edge is None or frame.flow is None:
            if frame.fragment:
                self.fragments += 1
            return
        stats = self._edges[frame.edge]
        stats.flows.add(frame.flow)
        stats.packets += 1
        stats.bytes += len(frame.data)

    def count_bulk(self, edge: EdgeKey, flow: FlowKey, packets: int, size: int) -> None:
        """Count ``packets`` frames of ``size`` bytes in total, all of one flow."""
        stats = self._edges[edge]
        stats.flows.add(flow)
        stats.packets += packets
        stats.bytes += size

    def edges(self) -> list[dict[str, Any]]:
        """The truth file's ``edges``, sorted by client, server, transport, port."""
        keys = sorted(
            self._edges,
            key=lambda k: (_address_key(k[0]), _address_key(k[1]), k[2], k[3]),
        )
        rows: list[dict[str, Any]] = []
        for key in keys:
            stats = self._edges[key]
            if not stats.packets:
                continue
            client, server, transport, port = key
            rows.append(
                {
                    "client": client,
                    "server": server,
                    "transport": transport,
                    "server_port": port,
                    "app": stats.app,
                    "phi": stats.phi,
                    "cleartext": stats.cleartext,
                    "flows": len(stats.flows),
                    "packets": stats.packets,
                    "bytes": stats.bytes,
                }
            )
        return rows
