"""Who talks to whom, as seen on the mirror port.

A conversation is captured once, on the client's VLAN: both directions carry the client's
VLAN tag. A server in another VLAN or on the internet appears behind the client VLAN's
gateway MAC (and with its TTL lowered by the routers in between); a server in the same
VLAN appears with its own MAC.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from medsec.model.errors import SimulationError
from medsec.simulate import frames as f
from medsec.simulate.catalog import LINUX, TcpStack
from medsec.simulate.hospital import ExternalHost, Hospital, Host, Vlan
from medsec.simulate.ledger import EdgeKey, FlowKey, Frame, Ledger

EPHEMERAL_LOW = 32768
EPHEMERAL_HIGH = 49999
"""Client ports of ordinary conversations; bulk transfers use 50000-60999."""

ROUTER = TcpStack("ios", 255, 4128, 4128, None, False, False, mss=536)
"""The gateways' own stack (DHCP relay replies, ARP)."""


@dataclass(frozen=True, slots=True)
class Peer:
    """One end of a conversation."""

    ip: str
    mac: str | None
    """``None`` for internet hosts (always reached through a gateway)."""
    vlan: Vlan | None
    stack: TcpStack
    hops: int = 1
    """Routers between this peer and any other VLAN (internet hosts: many)."""
    name: str = ""

    @classmethod
    def of(cls, host: Host) -> Peer:
        return cls(host.ip, host.mac, host.vlan, host.profile.stack, 1, host.hostname)

    @classmethod
    def internet(cls, external: ExternalHost) -> Peer:
        hops = 9 + sum(int(octet) for octet in external.ip.split(".")) % 9
        return cls(external.ip, None, None, LINUX, hops, external.name)

    @classmethod
    def gateway(cls, vlan: Vlan) -> Peer:
        return cls(vlan.gateway_ip, vlan.gateway_mac, vlan, ROUTER, 0, f"gw{vlan.id}")


@dataclass(slots=True)
class Channel:
    """The wire view of one flow: addresses, MACs and TTLs in both directions."""

    vlan: int
    client_ip: bytes
    server_ip: bytes
    client_mac: bytes
    server_mac: bytes
    client_ttl: int
    server_ttl: int
    client_port: int
    server_port: int
    edge: EdgeKey
    flow: FlowKey
    idents: dict[bytes, int]
    """Next IPv4 identification per source address (shared by all channels)."""

    def direction(self, from_client: bool) -> tuple[bytes, bytes, int, int, bytes, bytes, int]:
        """Source and destination IP, ports and MACs, and the TTL of one direction."""
        if from_client:
            return (
                self.client_ip,
                self.server_ip,
                self.client_port,
                self.server_port,
                self.client_mac,
                self.server_mac,
                self.client_ttl,
            )
        return (
            self.server_ip,
            self.client_ip,
            self.server_port,
            self.client_port,
            self.server_mac,
            self.client_mac,
            self.server_ttl,
        )

    def next_ident(self, source: bytes) -> int:
        ident = self.idents.get(source, 0)
        self.idents[source] = (ident + 1) & 0xFFFF
        return ident

    def ip_frame(self, ts: int, from_client: bool, protocol: int, segment: bytes) -> Frame:
        """Wrap a transport segment in IPv4 and a tagged Ethernet frame."""
        if from_client:
            src, dst, ttl = self.client_ip, self.server_ip, self.client_ttl
            src_mac, dst_mac = self.client_mac, self.server_mac
        else:
            src, dst, ttl = self.server_ip, self.client_ip, self.server_ttl
            src_mac, dst_mac = self.server_mac, self.client_mac
        packet = f.ipv4(src, dst, protocol, segment, ident=self.next_ident(src), ttl=ttl)
        data = f.ethernet(dst_mac, src_mac, self.vlan, f.ETHERTYPE_IPV4, packet)
        return Frame(ts, data, self.edge, self.flow)

    def udp(self, ts: int, from_client: bool, payload: bytes) -> Frame:
        """One UDP datagram of this flow."""
        if from_client:
            segment = f.udp(
                self.client_ip, self.server_ip, self.client_port, self.server_port, payload
            )
        else:
            segment = f.udp(
                self.server_ip, self.client_ip, self.server_port, self.client_port, payload
            )
        return self.ip_frame(ts, from_client, f.IPPROTO_UDP, segment)

    def udp_fragments(
        self, ts: int, from_client: bool, payload: bytes, mtu: int = 1500
    ) -> list[Frame]:
        """A UDP datagram too big for ``mtu``, split into IPv4 fragments (DF clear).

        The first fragment counts towards the edge; the others are counted as fragments.
        """
        if from_client:
            src, dst, ttl = self.client_ip, self.server_ip, self.client_ttl
            src_mac, dst_mac = self.client_mac, self.server_mac
            datagram = f.udp(src, dst, self.client_port, self.server_port, payload)
        else:
            src, dst, ttl = self.server_ip, self.client_ip, self.server_ttl
            src_mac, dst_mac = self.server_mac, self.client_mac
            datagram = f.udp(src, dst, self.server_port, self.client_port, payload)
        ident = self.next_ident(src)
        step = (mtu - f.IPV4_HEADER_LEN) // 8 * 8
        out: list[Frame] = []
        for offset in range(0, len(datagram), step):
            piece = datagram[offset : offset + step]
            more = offset + step < len(datagram)
            header = f.ipv4_header(
                src,
                dst,
                f.IPPROTO_UDP,
                len(piece),
                ident=ident,
                ttl=ttl,
                dont_fragment=False,
                more_fragments=more,
                fragment_offset=offset,
            )
            data = f.ethernet(dst_mac, src_mac, self.vlan, f.ETHERTYPE_IPV4, header + piece)
            if offset == 0:
                out.append(Frame(ts, data, self.edge, self.flow))
            else:
                out.append(Frame(ts + offset // step * 15, data, None, None, fragment=True))
        return out

    def icmp_echo(self, ts: int, from_client: bool, ident: int, seq: int, payload: bytes) -> Frame:
        message = f.icmp_echo(from_client, ident, seq, payload)
        return self.ip_frame(ts, from_client, f.IPPROTO_ICMP, message)


class Network:
    """Creates channels between peers and hands out ports and RTTs deterministically."""

    def __init__(
        self,
        hospital: Hospital,
        rng: random.Random,
        ledger: Ledger,
        ports: tuple[int, int] = (EPHEMERAL_LOW, EPHEMERAL_HIGH),
    ) -> None:
        self.hospital = hospital
        self.rng = rng
        self.ledger = ledger
        self.idents: dict[bytes, int] = {}
        self._ports: dict[str, int] = {}
        self._port_range = ports

    def ephemeral_port(self, ip: str) -> int:
        """The next client port of a host (increasing through the range, wrapping)."""
        low, high = self._port_range
        port = self._ports.get(ip)
        if port is None:
            port = self.rng.randrange(low, high)
        self._ports[ip] = port + 1 if port < high else low
        return port

    def rtt(self, client: Peer, server: Peer) -> int:
        """Round-trip time in microseconds as seen from the client's access port."""
        if server.vlan is None:
            return 15_000 + server.hops * 2_500 + self.rng.randrange(0, 4_000)
        if client.vlan is not None and server.vlan.id == client.vlan.id:
            return 150 + self.rng.randrange(0, 150)
        return 350 + self.rng.randrange(0, 300)

    def channel(
        self,
        client: Peer,
        server: Peer,
        transport: str,
        server_port: int,
        *,
        app: str,
        phi: bool,
        cleartext: bool,
        client_port: int | None = None,
    ) -> Channel:
        """A flow from ``client`` (which must be internal) to ``server``."""
        if client.vlan is None or client.mac is None:
            raise SimulationError(f"client {client.ip} is not an internal host")
        vlan = client.vlan
        same_vlan = server.vlan is not None and server.vlan.id == vlan.id and server.mac
        if same_vlan:
            server_mac = server.mac or vlan.gateway_mac
            server_ttl = server.stack.ttl
        else:
            server_mac = vlan.gateway_mac
            server_ttl = server.stack.ttl - server.hops
        if client_port is None:
            client_port = 0 if transport in {"icmp", "icmpv6"} else self.ephemeral_port(client.ip)
        port = 0 if transport in {"icmp", "icmpv6"} else server_port
        edge: EdgeKey = (client.ip, server.ip, transport, port)
        flow: FlowKey = (client.ip, client_port, server.ip, port, transport, vlan.id)
        self.ledger.describe(edge, app=app, phi=phi, cleartext=cleartext)
        return Channel(
            vlan=vlan.id,
            client_ip=f.ip4(client.ip),
            server_ip=f.ip4(server.ip),
            client_mac=f.mac_bytes(client.mac),
            server_mac=f.mac_bytes(server_mac),
            client_ttl=client.stack.ttl,
            server_ttl=server_ttl,
            client_port=client_port,
            server_port=port,
            edge=edge,
            flow=flow,
            idents=self.idents,
        )

    def broadcast_channel(
        self, client: Host, server_port: int, *, app: str, client_port: int
    ) -> Channel:
        """A flow from ``0.0.0.0`` to ``255.255.255.255`` on the client's VLAN (DHCP)."""
        edge: EdgeKey = ("0.0.0.0", "255.255.255.255", "udp", server_port)
        flow: FlowKey = (
            "0.0.0.0",
            client_port,
            "255.255.255.255",
            server_port,
            "udp",
            client.vlan.id,
        )
        self.ledger.describe(edge, app=app, phi=False, cleartext=True)
        return Channel(
            vlan=client.vlan.id,
            client_ip=f.ip4("0.0.0.0"),
            server_ip=f.ip4("255.255.255.255"),
            client_mac=f.mac_bytes(client.mac),
            server_mac=f.BROADCAST_MAC,
            client_ttl=client.profile.stack.ttl,
            server_ttl=255,
            client_port=client_port,
            server_port=server_port,
            edge=edge,
            flow=flow,
            idents=self.idents,
        )
