"""IT traffic: TLS sessions (EMR, vendor clouds, updates), plain HTTP, SSH, SMB, printing."""

from __future__ import annotations

from medsec.simulate.channels import Peer
from medsec.simulate.conversations.base import http_date
from medsec.simulate.conversations.services import ServiceConversations
from medsec.simulate.hospital import Host
from medsec.simulate.ledger import Frame
from medsec.simulate.protocols import (
    http,
    ocsp,
    printing,
    smb,
    ssh,
    tls,
)
from medsec.simulate.tcp import TcpConversation


class OfficeConversations(ServiceConversations):
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
        certificate = self.lasting(
            "tls certificate", server_name, lambda: tls.server_certificate(server_name, self.rng)
        )
        flight, tls13 = tls.server_flight(profile, certificate, server_tls13, self.rng)
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
        client_guid = self.lasting("smb guid", workstation.ip, lambda: self.rng.randbytes(16))
        server_guid = self.lasting("smb guid", server.ip, lambda: self.rng.randbytes(16))
        conversation.send(True, smb.negotiate_request(client_guid))
        conversation.send(False, smb.negotiate_response(server_guid, conversation.t))
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


def tls_profile(host: Host) -> tls.TlsClientProfile:
    stack = host.profile.stack.name
    if stack == "windows":
        return tls.SCHANNEL
    if stack == "linux":
        return tls.OPENSSL
    return tls.EMBEDDED
