"""Infrastructure services: DNS, NTP, syslog, SNMP polling and ping."""

from __future__ import annotations

from medsec.simulate import frames as f
from medsec.simulate.channels import Peer
from medsec.simulate.conversations.base import ConversationBase
from medsec.simulate.hospital import Host
from medsec.simulate.ledger import Frame
from medsec.simulate.protocols import (
    dns,
    ntp,
    snmp,
    syslog,
)

ENTERPRISES: dict[str, int] = {
    "HP": 11,
    "Zebra": 10642,
    "Siemens": 4329,
    "GE Healthcare": 22005,
    "Baxter": 10096,
    "Roche": 55589,
    "Philips": 3003,
    "Dell": 674,
    "VMware": 6876,
}


class ServiceConversations(ConversationBase):
    def dns_lookup(self, start: int, host: Host, name: str) -> list[Frame]:
        """An A query to the hospital DNS server and its answer."""
        server = self.hospital.server("dns_server")
        if host.ip == server.ip:
            return []
        channel = self.net.channel(
            Peer.of(host), Peer.of(server), "udp", 53, app="dns", phi=False, cleartext=True
        )
        txid = self.rng.getrandbits(16)
        address = self.hospital.names.get(name)
        answer = dns.response(txid, name, [address] if address else [], 300)
        delay = 400 + self.rng.randrange(2_000)
        return [
            channel.udp(start, True, dns.query(txid, name)),
            channel.udp(start + delay, False, answer),
        ]

    def dns_forward(self, start: int, name: str) -> list[Frame]:
        """The DNS server resolves an internet name through the upstream resolver."""
        server = self.hospital.server("dns_server")
        upstream = Peer.internet(self.hospital.external("dns.quad9.net"))
        channel = self.net.channel(
            Peer.of(server), upstream, "udp", 53, app="dns", phi=False, cleartext=True
        )
        txid = self.rng.getrandbits(16)
        address = self.hospital.names.get(name)
        answer = dns.response(txid, name, [address] if address else [], 3600)
        rtt = self.net.rtt(Peer.of(server), upstream)
        return [
            channel.udp(start, True, dns.query(txid, name)),
            channel.udp(start + rtt, False, answer),
        ]

    def ntp_sync(self, start: int, host: Host) -> list[Frame]:
        """NTP to the hospital time server (the DNS server), which itself uses the pool."""
        time_server = self.hospital.server("dns_server")
        if host.ip == time_server.ip:
            server = Peer.internet(self.hospital.external("pool.ntp.org"))
            stratum, reference = 2, bytes([10, 0, 0, 1])
        else:
            server = Peer.of(time_server)
            stratum, reference = 3, f.ip4(self.hospital.external("pool.ntp.org").ip)
        client = Peer.of(host)
        channel = self.net.channel(client, server, "udp", 123, app="ntp", phi=False, cleartext=True)
        rtt = self.net.rtt(client, server)
        answer = ntp.response(
            start, start + rtt // 2, start + rtt // 2 + 40, stratum=stratum, reference=reference
        )
        return [
            channel.udp(start, True, ntp.request(start)),
            channel.udp(start + rtt, False, answer),
        ]

    def syslog(self, start: int, host: Host, severity: str, text: str) -> list[Frame]:
        collector = self.hospital.server("nms")
        channel = self.net.channel(
            Peer.of(host), Peer.of(collector), "udp", 514, app="syslog", phi=False, cleartext=True
        )
        tag = host.profile.software.split()[0]
        return [channel.udp(start, True, syslog.message(start, host.hostname, tag, severity, text))]

    def snmp_poll(self, start: int, target: Host) -> list[Frame]:
        """The NMS reads a host's system group."""
        nms = self.hospital.server("nms")
        community = "public" if target.role == "printer" else "n0c-r3ad"
        channel = self.net.channel(
            Peer.of(nms), Peer.of(target), "udp", 161, app="snmp", phi=False, cleartext=True
        )
        request_id = self.rng.getrandbits(31)
        oids = [snmp.SYS_DESCR, snmp.SYS_OBJECT_ID, snmp.SYS_UPTIME, snmp.SYS_NAME]
        description = f"{target.profile.vendor} {target.profile.model} {target.profile.software}"
        answer = snmp.response(
            community,
            request_id,
            [
                (snmp.SYS_DESCR, description),
                (snmp.SYS_OBJECT_ID, ("oid", _enterprise_oid(target))),
                (snmp.SYS_UPTIME, (start // 10_000) % 4_000_000_000),
                (snmp.SYS_NAME, target.hostname),
            ],
        )
        rtt = self.net.rtt(Peer.of(nms), Peer.of(target))
        return [
            channel.udp(start, True, snmp.get_request(community, request_id, oids)),
            channel.udp(start + rtt + 800, False, answer),
        ]

    def snmp_software_walk(self, start: int, target: Host) -> list[Frame]:
        """A GETBULK of the installed-software table; the answer is IP-fragmented."""
        nms = self.hospital.server("nms")
        channel = self.net.channel(
            Peer.of(nms), Peer.of(target), "udp", 161, app="snmp", phi=False, cleartext=True
        )
        request_id = self.rng.getrandbits(31)
        packages = [f"sim-package-{n:03d} 1.{n % 7}.{n % 13}-1" for n in range(1, 81)]
        bindings: list[tuple[str, snmp.Value]] = [
            (f"{snmp.HR_SW_INSTALLED_NAME}.{n}", name) for n, name in enumerate(packages, 1)
        ]
        answer = snmp.response("n0c-r3ad", request_id, bindings)
        rtt = self.net.rtt(Peer.of(nms), Peer.of(target))
        request = snmp.get_bulk("n0c-r3ad", request_id, snmp.HR_SW_INSTALLED_NAME, 80)
        return [channel.udp(start, True, request)] + channel.udp_fragments(
            start + rtt + 3_000, False, answer
        )

    def ping(self, start: int, target: Host) -> list[Frame]:
        """Two echo requests from the NMS and their replies."""
        nms = self.hospital.server("nms")
        client, server = Peer.of(nms), Peer.of(target)
        channel = self.net.channel(client, server, "icmp", 0, app="icmp", phi=False, cleartext=True)
        ident = self.rng.getrandbits(16)
        payload = bytes(range(16, 64))
        rtt = self.net.rtt(client, server)
        out: list[Frame] = []
        for seq in (1, 2):
            t = start + (seq - 1) * 1_000_000
            out.append(channel.icmp_echo(t, True, ident, seq, payload))
            out.append(channel.icmp_echo(t + rtt, False, ident, seq, payload))
        return out

    # -- clinical protocols ----------------------------------------------------------------


def _enterprise_oid(host: Host) -> str:
    number = ENTERPRISES.get(host.profile.vendor, 8072)
    return f"1.3.6.1.4.1.{number}.1.{host.number}"
