"""Conversations: each method builds the frames of one exchange between hosts, starting at
a given time, and declares its edge (application, PHI, cleartext) to the ledger.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from email.utils import formatdate

from medsec.simulate import frames as f
from medsec.simulate.channels import Network, Peer
from medsec.simulate.hospital import Host, Vlan
from medsec.simulate.ledger import Frame
from medsec.simulate.protocols import (
    arp,
    dhcp,
    dicom,
    dns,
    hl7,
    http,
    ndp,
    ntp,
    ocsp,
    printing,
    smb,
    snmp,
    ssh,
    syslog,
    telemetry,
    tls,
)
from medsec.simulate.tcp import TcpConversation

HL7_DEVICE_PORT = 2575
HL7_LAB_PORT = 6661
DICOM_PORT = 104
DICOM_WORKSTATION_PORT = 11112

DICOM_IMPLEMENTATIONS: dict[str, tuple[str, str]] = {
    "Siemens": ("1.3.12.2.1107.5.1.4", "SIEMENS_VA40"),
    "GE Healthcare": ("1.2.840.113619.6.374", "GEHC_DV29"),
    "Philips": ("1.3.46.670589.14.1", "PHILIPS_EPIQ9"),
    "Dell": ("1.2.276.0.7230010.3.0.3.6.8", "OFFIS_DCMTK_368"),
}
PACS_IMPLEMENTATION = ("2.25.118296440355121209433557203710977131043", "SIMPACS_72")

VITALS: tuple[tuple[str, str, str, int, int], ...] = (
    ("8867-4", "Heart rate", "/min", 55, 110),
    ("59408-5", "SpO2", "%", 90, 100),
    ("9279-1", "Respiratory rate", "/min", 10, 26),
    ("8480-6", "Systolic BP", "mm[Hg]", 95, 160),
    ("8462-4", "Diastolic BP", "mm[Hg]", 55, 95),
)
VENTILATION: tuple[tuple[str, str, str, int, int], ...] = (
    ("19834-1", "Breath rate setting", "/min", 12, 20),
    ("76248-0", "PEEP", "cm[H2O]", 5, 12),
    ("3150-0", "FiO2", "%", 30, 60),
    ("20112-2", "Tidal volume", "mL", 380, 520),
)
HEMATOLOGY: tuple[tuple[str, str, str, int, int], ...] = (
    ("6690-2", "WBC", "10*3/uL", 4, 11),
    ("789-8", "RBC", "10*6/uL", 4, 6),
    ("718-7", "Hemoglobin", "g/dL", 11, 17),
    ("777-3", "Platelets", "10*3/uL", 150, 400),
)
CHEMISTRY: tuple[tuple[str, str, str, int, int], ...] = (
    ("2345-7", "Glucose", "mg/dL", 70, 140),
    ("2160-0", "Creatinine", "mg/dL", 1, 2),
    ("2951-2", "Sodium", "mmol/L", 135, 145),
    ("2823-3", "Potassium", "mmol/L", 3, 5),
)

PUMP_WEB_CREDENTIALS = ("service", "service")


def http_date(micros: int) -> str:
    return formatdate(micros / 1_000_000, usegmt=True)


def hl7_stamp(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC).strftime("%Y%m%d%H%M%S")


def hl7_party(host: Host) -> hl7.Party:
    return hl7.Party(host.profile.software.split()[0].upper(), host.vlan.department.upper())


class Scenarios:
    """Frame builders for every kind of conversation in the hospital."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.hospital = net.hospital
        self.rng = net.rng
        self._control_id = 0
        self._message_id = 0
        self._instance = 0

    # -- helpers ---------------------------------------------------------------------------

    def new_uid(self) -> str:
        return f"2.25.{self.rng.getrandbits(120)}"

    def _next_control_id(self) -> str:
        self._control_id += 1
        return f"SIM{self._control_id:08d}"

    def next_message_id(self) -> int:
        self._message_id = self._message_id % 65535 + 1
        return self._message_id

    def _patient(self) -> int:
        return self.rng.randrange(1, 400)

    def tcp(
        self,
        start: int,
        client: Host,
        server: Peer,
        port: int,
        *,
        app: str,
        phi: bool,
        cleartext: bool,
    ) -> TcpConversation:
        """A connected TCP conversation (handshake already emitted)."""
        client_peer = Peer.of(client)
        channel = self.net.channel(
            client_peer, server, "tcp", port, app=app, phi=phi, cleartext=cleartext
        )
        conversation = TcpConversation(
            channel,
            client.profile.stack,
            server.stack,
            start=start,
            rtt=self.net.rtt(client_peer, server),
            rng=self.rng,
        )
        conversation.connect()
        return conversation

    # -- link layer and addressing ---------------------------------------------------------

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

    def resolve_neighbor(self, start: int, host: Host, neighbor: Host) -> list[Frame]:
        vlan = host.vlan
        return [
            arp.request(start, vlan.id, host.mac, host.ip, neighbor.ip),
            arp.reply(start + 120, vlan.id, neighbor.mac, neighbor.ip, host.mac, host.ip),
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

    def hl7_messages(
        self, start: int, sender: Host, receiver: Host, port: int, messages: list[str]
    ) -> list[Frame]:
        """One MLLP connection carrying ``messages``, each acknowledged with MSA|AA."""
        conversation = self.tcp(
            start, sender, Peer.of(receiver), port, app="hl7", phi=True, cleartext=True
        )
        for message in messages:
            control_id = message.split("|", 10)[9]
            conversation.send(True, hl7.mllp(message))
            reply = hl7.ack(
                hl7_party(receiver),
                hl7_party(sender),
                hl7_stamp(conversation.t),
                self._next_control_id(),
                control_id,
            )
            conversation.send(False, hl7.mllp(reply))
        conversation.close(True)
        return conversation.frames

    def _observations(
        self, table: tuple[tuple[str, str, str, int, int], ...]
    ) -> list[hl7.Observation]:
        return [
            hl7.Observation(code, text, str(self.rng.randint(low, high)), units)
            for code, text, units, low, high in table
        ]

    def vitals_report(self, start: int, device: Host, count: int = 1) -> list[Frame]:
        """ORU^R01 vitals (or ventilation settings) to the interface engine."""
        engine = self.hospital.server("hl7_engine")
        table = VENTILATION if device.role == "ventilator" else VITALS
        order = (
            ("76536-2", "Ventilator panel")
            if device.role == "ventilator"
            else (
                "85353-1",
                "Vital signs panel",
            )
        )
        messages = [
            hl7.oru_r01(
                hl7_party(device),
                hl7_party(engine),
                hl7_stamp(start),
                self._next_control_id(),
                self._patient(),
                device.vlan.department.upper(),
                order,
                self._observations(table),
            )
            for _ in range(count)
        ]
        return self.hl7_messages(start, device, engine, HL7_DEVICE_PORT, messages)

    def lab_results(self, start: int, analyzer: Host) -> list[Frame]:
        engine = self.hospital.server("hl7_engine")
        chemistry = analyzer.profile.vendor == "Roche"
        table = CHEMISTRY if chemistry else HEMATOLOGY
        order = ("24323-8", "Metabolic panel") if chemistry else ("58410-2", "CBC panel")
        messages = [
            hl7.oru_r01(
                hl7_party(analyzer),
                hl7_party(engine),
                hl7_stamp(start),
                self._next_control_id(),
                self._patient(),
                "LAB",
                order,
                self._observations(table),
            )
            for _ in range(self.rng.randint(1, 3))
        ]
        return self.hl7_messages(start, analyzer, engine, HL7_LAB_PORT, messages)

    def admission(self, start: int) -> list[Frame]:
        """ADT^A01 from the EMR to the interface engine."""
        emr, engine = self.hospital.server("emr"), self.hospital.server("hl7_engine")
        message = hl7.adt_a01(
            hl7_party(emr),
            hl7_party(engine),
            hl7_stamp(start),
            self._next_control_id(),
            self._patient(),
            self.rng.choice(("ICU", "WARDS")),
        )
        return self.hl7_messages(start, emr, engine, HL7_DEVICE_PORT, [message])

    def engine_forward(self, start: int) -> list[Frame]:
        """The interface engine forwards results to the EMR."""
        emr, engine = self.hospital.server("emr"), self.hospital.server("hl7_engine")
        messages = [
            hl7.oru_r01(
                hl7_party(engine),
                hl7_party(emr),
                hl7_stamp(start),
                self._next_control_id(),
                self._patient(),
                "ICU",
                ("85353-1", "Vital signs panel"),
                self._observations(VITALS),
            )
            for _ in range(self.rng.randint(1, 4))
        ]
        return self.hl7_messages(start, engine, emr, HL7_DEVICE_PORT, messages)

    def _application(self, host: Host) -> dicom.Application:
        if host.role == "pacs":
            uid, version = PACS_IMPLEMENTATION
        else:
            uid, version = DICOM_IMPLEMENTATIONS[host.profile.vendor]
        return dicom.Application(host.ae_title, uid, version)

    def modality_of(self, host: Host) -> dicom.Modality:
        code = {"ct_scanner": "CT", "mr_scanner": "MR", "ultrasound": "US"}[host.role]
        return dicom.Modality(
            code,
            host.profile.vendor,
            host.profile.model,
            host.hostname.upper(),
            host.profile.software,
            f"SN{int(host.mac.replace(':', '')[-6:], 16):08d}",
        )

    def dicom_association(
        self, start: int, scu: Host, scp: Host, port: int, syntaxes: list[str]
    ) -> TcpConversation:
        """TCP connect and association negotiation."""
        conversation = self.tcp(
            start, scu, Peer.of(scp), port, app="dicom", phi=True, cleartext=True
        )
        calling, called = self._application(scu), self._application(scp)
        conversation.send(True, dicom.associate_rq(calling, called, syntaxes))
        conversation.send(False, dicom.associate_ac(calling, called, syntaxes))
        return conversation

    def dicom_release(self, conversation: TcpConversation) -> None:
        conversation.send(True, dicom.release_rq())
        conversation.send(False, dicom.release_rp())
        conversation.close(True)

    def dicom_echo(self, start: int, scu: Host, scp: Host, port: int = DICOM_PORT) -> list[Frame]:
        conversation = self.dicom_association(start, scu, scp, port, [dicom.VERIFICATION])
        message_id = self.next_message_id()
        conversation.send(True, dicom.c_echo_rq(message_id, 1))
        conversation.send(False, dicom.c_echo_rsp(message_id, 1))
        self.dicom_release(conversation)
        return conversation.frames

    def dicom_store(
        self,
        start: int,
        scu: Host,
        scp: Host,
        modality: str,
        device: dicom.Modality,
        images: int,
        port: int,
    ) -> list[Frame]:
        """C-STORE of ``images`` small synthetic images of one study."""
        sop_class = dicom.STORAGE_CLASSES[modality]
        conversation = self.dicom_association(start, scu, scp, port, [sop_class])
        study = dicom.Study(
            self._patient(), self.new_uid(), self.new_uid(), f"A{self.new_uid()[-8:]}"
        )
        size = 64 if modality == "US" else self.rng.choice((64, 96, 128))
        for _ in range(images):
            instance = self.new_uid()
            pixels = self.rng.randbytes(size * size * 2)
            dataset = dicom.image_dataset(
                study, device, sop_class, instance, rows=size, columns=size, pixels=pixels
            )
            message_id = self.next_message_id()
            conversation.send(
                True,
                dicom.c_store_rq(message_id, sop_class, instance, 1, dicom.encode_dataset(dataset)),
            )
            conversation.send(False, dicom.c_store_rsp(message_id, sop_class, instance, 1))
        self.dicom_release(conversation)
        return conversation.frames

    def modality_store(self, start: int, modality_host: Host) -> list[Frame]:
        device = self.modality_of(modality_host)
        pacs = self.hospital.server("pacs")
        images = self.rng.randint(2, 4)
        return self.dicom_store(
            start, modality_host, pacs, device.modality, device, images, DICOM_PORT
        )

    def pacs_push(self, start: int, workstation: Host) -> list[Frame]:
        """The PACS sends a study to a reading workstation (port 11112)."""
        sources = [
            host
            for role in ("ct_scanner", "mr_scanner", "ultrasound")
            for host in self.hospital.role(role)
        ]
        device = self.modality_of(self.rng.choice(sources))
        pacs = self.hospital.server("pacs")
        return self.dicom_store(
            start,
            pacs,
            workstation,
            device.modality,
            device,
            self.rng.randint(1, 3),
            DICOM_WORKSTATION_PORT,
        )

    def worklist_query(self, start: int, modality_host: Host) -> list[Frame]:
        """Modality worklist C-FIND to the PACS/RIS."""
        pacs = self.hospital.server("pacs")
        code = self.modality_of(modality_host).modality
        sop = dicom.MODALITY_WORKLIST_FIND
        conversation = self.dicom_association(start, modality_host, pacs, DICOM_PORT, [sop])
        message_id = self.next_message_id()
        query = dicom.worklist_query(code, modality_host.ae_title)
        conversation.send(True, dicom.c_find_rq(message_id, sop, query, 1))
        for _ in range(self.rng.randint(1, 3)):
            item = dicom.worklist_item(
                self._patient(), code, modality_host.ae_title, f"A{self.rng.getrandbits(28)}"
            )
            conversation.send(False, dicom.c_find_rsp(message_id, sop, item, 1), think=900)
        conversation.send(False, dicom.c_find_rsp(message_id, sop, None, 1), think=300)
        self.dicom_release(conversation)
        return conversation.frames

    def study_query(self, start: int, workstation: Host) -> list[Frame]:
        """A reading workstation searches today's studies on the PACS."""
        pacs = self.hospital.server("pacs")
        sop = dicom.STUDY_ROOT_FIND
        conversation = self.dicom_association(start, workstation, pacs, DICOM_PORT, [sop])
        message_id = self.next_message_id()
        modality = self.rng.choice(("CT", "MR", "US"))
        conversation.send(True, dicom.c_find_rq(message_id, sop, dicom.study_query(modality), 1))
        for _ in range(self.rng.randint(1, 4)):
            match = dicom.study_match(self._patient(), modality, self.new_uid())
            conversation.send(False, dicom.c_find_rsp(message_id, sop, match, 1), think=700)
        conversation.send(False, dicom.c_find_rsp(message_id, sop, None, 1), think=300)
        self.dicom_release(conversation)
        return conversation.frames

    def dicom_verify(self, start: int, modality_host: Host) -> list[Frame]:
        return self.dicom_echo(start, modality_host, self.hospital.server("pacs"))

    def telemetry_burst(self, start: int, monitor: Host, central: Host, count: int) -> list[Frame]:
        """Waveform datagrams from a monitor to the central station."""
        channel = self.net.channel(
            Peer.of(monitor),
            Peer.of(central),
            "udp",
            telemetry.PORT,
            app="telemetry",
            phi=True,
            cleartext=True,
        )
        stream = monitor.number
        return [
            channel.udp(start + n * 31_250, True, telemetry.waveform(stream, n, self.rng))
            for n in range(count)
        ]

    # -- web, TLS, SSH, files, printing ----------------------------------------------------

    def tls_open(
        self,
        start: int,
        client: Host,
        server: Peer,
        server_name: str,
        *,
        phi: bool,
        server_tls13: bool = True,
    ) -> tuple[TcpConversation, bool]:
        """TCP connect and TLS handshake with SNI; returns the conversation and whether
        TLS 1.3 was negotiated."""
        profile = tls_profile(client)
        conversation = self.tcp(start, client, server, 443, app="tls", phi=phi, cleartext=False)
        conversation.send(True, tls.client_hello(profile, server_name, self.rng))
        flight, tls13 = tls.server_flight(profile, server_name, server_tls13, self.rng)
        conversation.send(False, flight)
        conversation.send(True, tls.client_finish(tls13, self.rng))
        if not tls13:
            conversation.send(False, tls.server_finish(self.rng))
        return conversation, tls13

    def tls_session(
        self,
        start: int,
        client: Host,
        server: Peer,
        server_name: str,
        exchanges: list[tuple[int, int]],
        *,
        phi: bool,
        server_tls13: bool = True,
    ) -> list[Frame]:
        """TLS handshake, then request/response sizes as application data, then close."""
        conversation, tls13 = self.tls_open(
            start, client, server, server_name, phi=phi, server_tls13=server_tls13
        )
        for request, response in exchanges:
            conversation.send(True, tls.application_data(request, self.rng))
            conversation.send(False, tls.application_data(response, self.rng))
        conversation.send(True, tls.close_notify(tls13, self.rng))
        conversation.close(True)
        return conversation.frames

    def cloud_checkin(self, start: int, device: Host) -> list[Frame]:
        """A device reports to its vendor's cloud (DNS lookup first)."""
        if device.profile.cloud is None:
            return []
        return self._checkin(start, device, device.profile.cloud)

    def cloud_checkin_named(self, start: int, role: str, name: str) -> list[Frame]:
        """A data-center server reports to an internet service."""
        return self._checkin(start, self.hospital.server(role), name)

    def _checkin(self, start: int, host: Host, name: str) -> list[Frame]:
        frames = self.dns_lookup(start, host, name)
        external = Peer.internet(self.hospital.external(name))
        exchanges = [(self.rng.randrange(300, 2_000), self.rng.randrange(200, 6_000))]
        frames += self.tls_session(start + 30_000, host, external, name, exchanges, phi=False)
        return frames

    def emr_session(self, start: int, workstation: Host) -> list[Frame]:
        """A clinician's browser works in the EMR web application over HTTPS."""
        emr = self.hospital.server("emr")
        exchanges = [
            (self.rng.randrange(400, 1_500), self.rng.randrange(2_000, 40_000))
            for _ in range(self.rng.randint(2, 6))
        ]
        return self.tls_session(start, workstation, Peer.of(emr), emr.fqdn, exchanges, phi=True)

    def windows_update(self, start: int, workstation: Host) -> list[Frame]:
        name = self.rng.choice(("update.microsoft.com", "download.windowsupdate.com"))
        frames = self.dns_lookup(start, workstation, name)
        external = Peer.internet(self.hospital.external(name))
        exchanges = [(self.rng.randrange(500, 1_500), self.rng.randrange(5_000, 60_000))]
        frames += self.tls_session(
            start + 25_000, workstation, external, name, exchanges, phi=False
        )
        return frames

    def pump_status(self, start: int, pump: Host) -> list[Frame]:
        """A pump reports its infusion status to the pump server (HTTPS or plain HTTP)."""
        server = self.hospital.server("infusion_server")
        if pump.profile.vendor == "Baxter":
            exchanges = [(self.rng.randrange(600, 1_200), self.rng.randrange(150, 400))]
            return self.tls_session(
                start, pump, Peer.of(server), server.fqdn, exchanges, phi=True, server_tls13=False
            )
        conversation = self.tcp(
            start, pump, Peer.of(server), 80, app="http", phi=True, cleartext=True
        )
        status = {
            "device": pump.hostname,
            "model": pump.profile.model,
            "software": pump.profile.software,
            "patientId": f"SIM{self._patient():04d}",
            "drug": "SIM-DRUG-A",
            "rate_ml_h": self.rng.randint(5, 120),
            "state": "infusing",
        }
        body = json.dumps(status, sort_keys=True).encode()
        conversation.send(
            True,
            http.request(
                "POST",
                "/api/v1/pumps/status",
                server.fqdn,
                user_agent=pump.profile.software,
                body=body,
                content_type="application/json",
            ),
        )
        conversation.send(
            False,
            http.response(204, server=server.profile.software, date=http_date(conversation.t)),
        )
        conversation.close(True)
        return conversation.frames

    def pump_web_ui(self, start: int, workstation: Host, pump: Host) -> list[Frame]:
        """A biomed technician opens a pump's web UI: 401, then Basic credentials."""
        conversation = self.tcp(
            start, workstation, Peer.of(pump), 80, app="http", phi=False, cleartext=True
        )
        agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0"
        server = f"{pump.profile.software.split('/')[0]}-httpd/1.0"
        conversation.send(True, http.request("GET", "/", pump.ip, user_agent=agent))
        challenge = http.response(
            401,
            server=server,
            date=http_date(conversation.t),
            body=b"Unauthorized",
            headers=[("WWW-Authenticate", 'Basic realm="SpaceCom"')],
        )
        conversation.send(False, challenge)
        credentials = http.basic_auth(*PUMP_WEB_CREDENTIALS)
        conversation.send(
            True, http.request("GET", "/", pump.ip, user_agent=agent, headers=[credentials])
        )
        page = (
            f"<html><head><title>{pump.profile.vendor} {pump.profile.model}</title></head>"
            f"<body><h1>{pump.hostname}</h1><p>Firmware {pump.profile.software}</p></body></html>"
        ).encode()
        conversation.send(
            False, http.response(200, server=server, date=http_date(conversation.t), body=page)
        )
        conversation.close(True)
        return conversation.frames

    def apt_update(self, start: int, server: Host) -> list[Frame]:
        """A Linux server fetches package indexes over plain HTTP."""
        name = "security.ubuntu.com"
        frames = self.dns_lookup(start, server, name)
        external = Peer.internet(self.hospital.external(name))
        conversation = self.tcp(
            start + 20_000, server, external, 80, app="http", phi=False, cleartext=True
        )
        agent = "Debian APT-HTTP/1.3 (2.4.13) non-interactive"
        for path in (
            "/ubuntu/dists/jammy-security/InRelease",
            "/ubuntu/dists/jammy-security/main/binary-amd64/Packages.xz",
        ):
            conversation.send(True, http.request("GET", path, name, user_agent=agent))
            body = self.rng.randbytes(self.rng.randrange(8_000, 40_000))
            conversation.send(
                False,
                http.response(
                    200,
                    server="Apache/2.4.29 (Ubuntu)",
                    date=http_date(conversation.t),
                    body=body,
                    content_type="application/octet-stream",
                ),
            )
        conversation.close(True)
        return frames + conversation.frames

    def ocsp_check(self, start: int, workstation: Host) -> list[Frame]:
        name = "ocsp.digicert.com"
        frames = self.dns_lookup(start, workstation, name)
        external = Peer.internet(self.hospital.external(name))
        conversation = self.tcp(
            start + 20_000, workstation, external, 80, app="http", phi=False, cleartext=True
        )
        query = ocsp.CertificateQuery(self.rng)
        conversation.send(
            True,
            http.request(
                "POST",
                "/",
                name,
                user_agent="Microsoft-CryptoAPI/10.0",
                body=query.request(),
                content_type="application/ocsp-request",
            ),
        )
        conversation.send(
            False,
            http.response(
                200,
                server="ECAcc (lab/4C9A)",
                date=http_date(conversation.t),
                body=query.response(conversation.t, self.rng),
                content_type="application/ocsp-response",
            ),
        )
        conversation.close(False)
        return frames + conversation.frames

    def ssh_open(self, start: int, client: Host, server: Host) -> TcpConversation:
        """TCP connect, version banners and the key exchange up to NEWKEYS."""
        conversation = self.tcp(
            start, client, Peer.of(server), 22, app="ssh", phi=False, cleartext=False
        )
        client_software = (
            "PuTTY_Release_0.81" if client.profile.stack.name == "windows" else "OpenSSH_9.6"
        )
        server_software = (
            server.profile.software
            if server.profile.software.startswith("OpenSSH")
            else "OpenSSH_8.9p1 Ubuntu-3ubuntu0.10"
        )
        conversation.send(True, ssh.banner(client_software))
        conversation.send(False, ssh.banner(server_software), think=2_000)
        conversation.send(True, ssh.kexinit(self.rng))
        conversation.send(False, ssh.kexinit(self.rng))
        conversation.send(True, ssh.ecdh_init(self.rng))
        conversation.send(False, ssh.ecdh_reply(self.rng), think=3_000)
        conversation.send(True, ssh.newkeys(self.rng))
        return conversation

    def ssh_session(
        self, start: int, client: Host, server: Host, exchanges: list[tuple[int, int]]
    ) -> list[Frame]:
        """Banners, key exchange, then encrypted traffic of the given sizes."""
        conversation = self.ssh_open(start, client, server)
        for request, response in exchanges:
            conversation.send(True, ssh.encrypted(request, self.rng))
            conversation.send(False, ssh.encrypted(response, self.rng))
        conversation.close(True)
        return conversation.frames

    def admin_ssh(self, start: int, workstation: Host) -> list[Frame]:
        target = self.hospital.server(self.rng.choice(("backup_server", "emr", "nms")))
        exchanges = [
            (self.rng.randrange(30, 200), self.rng.randrange(60, 2_000))
            for _ in range(self.rng.randint(3, 12))
        ]
        return self.ssh_session(start, workstation, target, exchanges)

    def backup_sync(self, start: int, source: Host) -> list[Frame]:
        """A small incremental backup over SSH to the backup server."""
        target = self.hospital.server("backup_server")
        exchanges = [
            (self.rng.randrange(8_000, 60_000), self.rng.randrange(40, 200))
            for _ in range(self.rng.randint(2, 5))
        ]
        return self.ssh_session(start, source, target, exchanges)

    def smb_session(self, start: int, workstation: Host) -> list[Frame]:
        """NEGOTIATE, then encrypted SMB3 reads and writes on the file server."""
        server = self.hospital.server("file_server")
        conversation = self.tcp(
            start, workstation, Peer.of(server), 445, app="smb", phi=True, cleartext=False
        )
        conversation.send(True, smb.negotiate_request(self.rng.randbytes(16)))
        conversation.send(False, smb.negotiate_response(self.rng.randbytes(16), conversation.t))
        session = self.rng.getrandbits(63)
        for _ in range(self.rng.randint(3, 8)):
            conversation.send(True, smb.encrypted(self.rng.randrange(100, 600), session, self.rng))
            size = self.rng.choice((200, 800, 4_000, 20_000))
            conversation.send(False, smb.encrypted(size, session, self.rng))
        conversation.close(True)
        return conversation.frames

    def print_job(self, start: int, workstation: Host, printer: Host) -> list[Frame]:
        """Raw JetDirect printing (9100) from clinical areas, IPP from Admin."""
        user = f"sim.user{workstation.number:02d}"
        if workstation.vlan.id == printer.vlan.id and printer.vlan.department == "Admin":
            conversation = self.tcp(
                start, workstation, Peer.of(printer), 631, app="ipp", phi=False, cleartext=True
            )
            request_id = self.rng.randrange(1, 1000)
            document = printing.pdf_document(self.rng.randint(1, 4), self.rng)
            conversation.send(
                True,
                printing.ipp_print_job(
                    printer.ip,
                    f"ipp://{printer.fqdn}/ipp/print",
                    user,
                    "report.pdf",
                    document,
                    request_id,
                ),
            )
            conversation.send(
                False,
                printing.ipp_response(
                    request_id,
                    self.rng.randrange(100, 999),
                    http_date(conversation.t),
                    f"HP HTTP Server; {printer.profile.model}",
                ),
            )
            conversation.close(True)
            return conversation.frames
        conversation = self.tcp(
            start, workstation, Peer.of(printer), 9100, app="jetdirect", phi=True, cleartext=True
        )
        job = printing.jetdirect_job("patient-label", user, self.rng.randint(1, 3), self.rng)
        conversation.send(True, job)
        conversation.close(True)
        return conversation.frames


def _ipv6_text(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


def tls_profile(host: Host) -> tls.TlsClientProfile:
    stack = host.profile.stack.name
    if stack == "windows":
        return tls.SCHANNEL
    if stack == "linux":
        return tls.OPENSSL
    return tls.EMBEDDED


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


def _enterprise_oid(host: Host) -> str:
    number = ENTERPRISES.get(host.profile.vendor, 8072)
    return f"1.3.6.1.4.1.{number}.1.{host.number}"
