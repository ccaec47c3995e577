"""Addressing: ARP, DHCP through the VLAN relay, IPv6 neighbour discovery. These make every
host's MAC/IP binding visible in its own VLAN."""

from __future__ import annotations

import ipaddress

from medsec.simulate import frames as f
from medsec.simulate.channels import Peer
from medsec.simulate.conversations.base import ConversationBase
from medsec.simulate.hospital import Host, Vlan
from medsec.simulate.ledger import Frame
from medsec.simulate.protocols import (
    arp,
    dhcp,
    ndp,
)


class AddressingConversations(ConversationBase):
    def gateway_probe(self, start: int, host: Host) -> list[Frame]:
        """The gateway ARPs for the host, which answers with its own MAC."""
        vlan = host.vlan
        return [
            arp.request(start, vlan.id, vlan.gateway_mac, vlan.gateway_ip, host.ip),
            arp.reply(start + 180, vlan.id, host.mac, host.ip, vlan.gateway_mac, vlan.gateway_ip),
        ]

    def resolve_gateway(self, start: int, host: Host) -> list[Frame]:
        """The host ARPs for its gateway."""
        vlan = host.vlan
        return [
            arp.request(start, vlan.id, host.mac, host.ip, vlan.gateway_ip),
            arp.reply(start + 90, vlan.id, vlan.gateway_mac, vlan.gateway_ip, host.mac, host.ip),
        ]

    def dhcp_dora(self, start: int, host: Host) -> list[Frame]:
        """DISCOVER and REQUEST broadcast, OFFER and ACK unicast from the VLAN's relay,
        then a gratuitous ARP and an ARP for the gateway."""
        profile = host.profile.dhcp
        if profile is None:
            return []
        vlan = host.vlan
        mac = f.mac_bytes(host.mac)
        lease = self._lease(vlan, host)
        xid = self.rng.getrandbits(32)
        broadcast = self.net.broadcast_channel(host, 67, app="dhcp", client_port=68)
        relay = self.net.channel(
            Peer.of(host),
            Peer.gateway(vlan),
            "udp",
            67,
            app="dhcp",
            phi=False,
            cleartext=True,
            client_port=68,
        )
        t = start
        discover = dhcp.message(
            1, xid, mac, dhcp.client_options(dhcp.DISCOVER, profile, mac, host.hostname)
        )
        frames = [broadcast.udp(t, True, discover)]
        t += 2_000 + self.rng.randrange(6_000)
        offer_options = dhcp.server_options(dhcp.OFFER, lease, profile.parameter_list)
        offer = dhcp.message(2, xid, mac, offer_options, yiaddr=host.ip, giaddr=vlan.gateway_ip)
        frames.append(relay.udp(t, False, offer))
        t += 1_000 + self.rng.randrange(20_000)
        request_options = dhcp.client_options(
            dhcp.REQUEST,
            profile,
            mac,
            host.hostname,
            requested=host.ip,
            server_id=lease.server_id,
        )
        frames.append(broadcast.udp(t, True, dhcp.message(1, xid, mac, request_options)))
        t += 2_000 + self.rng.randrange(6_000)
        ack_options = dhcp.server_options(dhcp.ACK, lease, profile.parameter_list)
        ack = dhcp.message(2, xid, mac, ack_options, yiaddr=host.ip, giaddr=vlan.gateway_ip)
        frames.append(relay.udp(t, False, ack))
        t += 30_000
        frames.append(arp.announcement(t, vlan.id, host.mac, host.ip))
        frames.extend(self.resolve_gateway(t + 400_000, host))
        return frames

    def dhcp_renew(self, start: int, host: Host) -> list[Frame]:
        """Unicast REQUEST to the DHCP server (RENEWING) and its ACK."""
        profile = host.profile.dhcp
        if profile is None:
            return []
        server = self.hospital.server("dhcp_server")
        mac = f.mac_bytes(host.mac)
        channel = self.net.channel(
            Peer.of(host),
            Peer.of(server),
            "udp",
            67,
            app="dhcp",
            phi=False,
            cleartext=True,
            client_port=68,
        )
        xid = self.rng.getrandbits(32)
        options = dhcp.client_options(dhcp.REQUEST, profile, mac, host.hostname)
        request = dhcp.message(1, xid, mac, options, ciaddr=host.ip)
        lease = self._lease(host.vlan, host)
        reply_options = dhcp.server_options(dhcp.ACK, lease, profile.parameter_list)
        reply = dhcp.message(2, xid, mac, reply_options, ciaddr=host.ip, yiaddr=host.ip)
        return [channel.udp(start, True, request), channel.udp(start + 1_200, False, reply)]

    def _lease(self, vlan: Vlan, host: Host) -> dhcp.Lease:
        dns_server = self.hospital.server("dns_server")
        return dhcp.Lease(
            address=host.ip,
            netmask=vlan.netmask,
            router=vlan.gateway_ip,
            server_id=self.hospital.server("dhcp_server").ip,
            dns_server=dns_server.ip,
            ntp_server=dns_server.ip,
        )

    def ipv6_probe(self, start: int, host: Host) -> list[Frame]:
        """Duplicate address detection and a router solicitation (link-local IPv6)."""
        mac = f.mac_bytes(host.mac)
        out: list[Frame] = []
        for offset, (frame, source, group) in (
            (0, ndp.dad_solicitation(host.vlan.id, mac)),
            (1_000_000, ndp.router_solicitation(host.vlan.id, mac)),
        ):
            client, server = _ipv6_text(source), _ipv6_text(group)
            edge = (client, server, "icmpv6", 0)
            self.net.ledger.describe(edge, app="icmpv6", phi=False, cleartext=True)
            flow = (client, 0, server, 0, "icmpv6", host.vlan.id)
            out.append(Frame(start + offset, frame, edge, flow))
        return out

    # -- infrastructure services -----------------------------------------------------------


def _ipv6_text(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))
