"""Cleartext services: FTP, SMTP, POP3, IMAP, Telnet banners, logins and STARTTLS.

Every login test also checks that the password never appears in the observations.
"""

from __future__ import annotations

import base64
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.banners import (
    FtpDissector,
    ImapDissector,
    Pop3Dissector,
    SmtpDissector,
    TelnetDissector,
)
from medsec.model.observations.cleartext import (
    CleartextCredentials,
    MailUserAgent,
    ServiceBanner,
    ServiceCapabilities,
    SmtpHelo,
    StartTlsRequest,
    TelnetNegotiation,
)
from medsec.model.observations.tls import TlsClientHello, TlsServerHello

from tests_support.dissect_harness import ctx, payloads

FTP, SMTP, POP3, IMAP, TELNET = (
    FtpDissector(),
    SmtpDissector(),
    Pop3Dissector(),
    ImapDissector(),
    TelnetDissector(),
)

# A minimal TLS 1.2 ClientHello record (one cipher, no extensions) and ServerHello record
CLIENT_HELLO = bytes.fromhex(
    "16 0301 002d"  # handshake record, 45 bytes
    "01 000029"  # ClientHello, 41 bytes
    "0303" + "00" * 32 + "00"  # legacy_version, random, empty session id
    "0002 c02f"  # one cipher suite
    "01 00"  # compression: null
)
SERVER_HELLO = bytes.fromhex("16 0303 002a 02 000026 0303" + "00" * 32 + "00 c02f 00")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def run(dissector: object, data: bytes) -> list[object]:
    return list(dissector.dissect(data, ctx()))  # type: ignore[attr-defined]


def credentials(found: list[object]) -> list[CleartextCredentials]:
    return [o for o in found if isinstance(o, CleartextCredentials)]


# --- FTP -----------------------------------------------------------------------------------


def test_ftp_server_greeting_system_features_and_auth_tls() -> None:
    data = (
        b"220-Welcome to the PACS archive\r\n"
        b"   Authorized users only\r\n"
        b"220 archive FTP server (vsFTPd 2.3.4) ready.\r\n"
        b"331 Please specify the password.\r\n"
        b"215 UNIX Type: L8\r\n"
        b"211-Features:\r\n EPSV\r\n AUTH TLS\r\n211 End\r\n"
        b"234 Proceed with negotiation.\r\n" + SERVER_HELLO
    )
    found = run(FTP, data)
    greeting, system, features, hello = found
    assert greeting == ServiceBanner(
        ctx=ctx(),
        protocol="ftp",
        kind="greeting",
        text=(
            "Welcome to the PACS archive\nAuthorized users only\n"
            "archive FTP server (vsFTPd 2.3.4) ready."
        ),
    )
    assert isinstance(system, ServiceBanner) and system.kind == "system"
    assert system.text == "UNIX Type: L8"
    assert isinstance(features, ServiceCapabilities) and features.capabilities == (
        "EPSV",
        "AUTH TLS",
    )
    assert isinstance(hello, TlsServerHello) and hello.cipher_suite == 0xC02F
    assert FTP.signature(data)


def test_ftp_client_login_and_auth_tls() -> None:
    found = run(FTP, b"USER service\r\nPASS Siemens123\r\nSYST\r\nQUIT\r\n")
    assert credentials(found) == [
        CleartextCredentials(ctx=ctx(), protocol="ftp", mechanism="USER/PASS", user="service")
    ]
    assert "Siemens123" not in repr(found)
    tls = run(FTP, b"FEAT\r\nAUTH TLS\r\n" + CLIENT_HELLO)
    assert isinstance(tls[0], StartTlsRequest) and tls[0].command == "AUTH TLS"
    assert isinstance(tls[1], TlsClientHello) and tls[1].cipher_suites == (0xC02F,)
    assert run(FTP, b"USER hello\r\nQUIT\r\n") == []  # no password crossed


# --- SMTP ----------------------------------------------------------------------------------


def test_smtp_server_greeting_capabilities_and_starttls() -> None:
    data = (
        b"220 mail.hospital.example ESMTP Postfix\r\n"
        b"250-mail.hospital.example\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n"
        b"250-STARTTLS\r\n250 8BITMIME\r\n"
        b"220 2.0.0 Ready to start TLS\r\n" + SERVER_HELLO
    )
    greeting, capabilities, hello = run(SMTP, data)
    assert isinstance(greeting, ServiceBanner)
    assert greeting.text == "mail.hospital.example ESMTP Postfix"
    assert isinstance(capabilities, ServiceCapabilities)
    assert capabilities.capabilities == ("PIPELINING", "AUTH PLAIN LOGIN", "STARTTLS", "8BITMIME")
    assert isinstance(hello, TlsServerHello)
    assert SMTP.signature(data) and SMTP.signature(b"EHLO x\r\n")


PLAIN = b"\x00lab-analyzer\x00S3cret!"  # SASL PLAIN: authzid NUL authcid NUL password


@pytest.mark.parametrize(
    ("lines", "mechanism"),
    [
        (["AUTH PLAIN " + b64(PLAIN)], "AUTH PLAIN"),
        (["AUTH PLAIN", b64(PLAIN)], "AUTH PLAIN"),
        (["AUTH LOGIN", b64(b"lab-analyzer"), b64(b"S3cret!")], "AUTH LOGIN"),
        ([f"AUTH LOGIN {b64(b'lab-analyzer')}", b64(b"S3cret!")], "AUTH LOGIN"),
    ],
)
def test_smtp_client_auth(lines: list[str], mechanism: str) -> None:
    data = ("EHLO analyzer-07.lab.example\r\n" + "\r\n".join(lines) + "\r\nQUIT\r\n").encode()
    helo, login = run(SMTP, data)
    assert helo == SmtpHelo(ctx=ctx(), verb="EHLO", domain="analyzer-07.lab.example")
    assert login == CleartextCredentials(
        ctx=ctx(), protocol="smtp", mechanism=mechanism, user="lab-analyzer"
    )
    assert "S3cret" not in repr(login) and b64(b"S3cret!") not in repr(login)


def test_smtp_client_stops_at_data_and_starttls() -> None:
    body = b"DATA\r\nSubject: results for patient\r\nAUTH PLAIN " + b64(b"\0x\0y").encode()
    found = run(SMTP, b"HELO a\r\nMAIL FROM:<a@b>\r\n" + body + b"\r\n.\r\n")
    assert [type(o) for o in found] == [SmtpHelo]


def test_smtp_message_names_its_mail_program_and_nothing_else() -> None:
    message = (
        b"EHLO ws-12\r\nMAIL FROM:<dr.a@hospital.example>\r\nRCPT TO:<lab@hospital.example>\r\n"
        b"DATA\r\nFrom: Dr A <dr.a@hospital.example>\r\nSubject: Jane Doe, potassium\r\n"
        b"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0)\r\n"
        b"\tGecko/20100101 Thunderbird/115.3.1\r\nX-Mailer: Apple Mail (2.2102)\r\n"
        b"\r\nX-Mailer: in the body, not a header\r\n.\r\n"
    )
    found = run(SMTP, message)
    agents = [o for o in found if isinstance(o, MailUserAgent)]
    assert [(a.header, a.value) for a in agents] == [
        (
            "User-Agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0)"
            " Gecko/20100101 Thunderbird/115.3.1",
        ),
        ("X-Mailer", "Apple Mail (2.2102)"),
    ]
    assert "Jane" not in repr(found) and "dr.a" not in repr(found)
    assert [
        o
        for o in run(SMTP, b"DATA\r\nnot a header line\r\nX-Mailer: x\r\n")
        if isinstance(o, MailUserAgent)
    ] == []
    tls = run(SMTP, b"EHLO a\r\nSTARTTLS\r\n" + CLIENT_HELLO)
    assert [type(o) for o in tls] == [SmtpHelo, StartTlsRequest, TlsClientHello]
    assert credentials(run(SMTP, b"AUTH CRAM-MD5\r\nZm9vIGJhcg==\r\n")) == []


# --- POP3 and IMAP -------------------------------------------------------------------------


def test_pop3() -> None:
    (greeting,) = run(POP3, b"+OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us>\r\n")
    assert isinstance(greeting, ServiceBanner) and greeting.protocol == "pop3"
    assert greeting.text.startswith("Dovecot ready.")
    found = run(POP3, b"CAPA\r\nUSER ward3\r\nPASS hunter2\r\nSTAT\r\n")
    assert credentials(found) == [
        CleartextCredentials(ctx=ctx(), protocol="pop3", mechanism="USER/PASS", user="ward3")
    ]
    assert "hunter2" not in repr(found)
    tls = run(POP3, b"STLS\r\n" + CLIENT_HELLO)
    assert [type(o) for o in tls] == [StartTlsRequest, TlsClientHello]


def test_imap_server() -> None:
    data = b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.\r\n"
    greeting, capabilities = run(IMAP, data)
    assert isinstance(greeting, ServiceBanner) and greeting.text == "Dovecot ready."
    assert isinstance(capabilities, ServiceCapabilities)
    assert capabilities.capabilities == ("IMAP4rev1", "STARTTLS", "LOGINDISABLED")
    assert IMAP.signature(data)


@pytest.mark.parametrize(
    "login",
    [
        b'a001 LOGIN "dr smith" "p4ss word"\r\n',
        b"a001 LOGIN {8}\r\ndr smith {13}\r\nx LOGIN p4ss\r\n",  # literals; no second LOGIN
        b"a001 AUTHENTICATE PLAIN\r\n" + base64.b64encode(b"\0dr smith\0p4ss word") + b"\r\n",
    ],
)
def test_imap_client_logins(login: bytes) -> None:
    found = run(IMAP, b"a000 CAPABILITY\r\n" + login + b"a002 LOGOUT\r\n")
    (credential,) = credentials(found)
    assert credential.user == "dr smith" and credential.protocol == "imap"
    assert "p4ss" not in repr(found)
    (atom,) = credentials(run(IMAP, b"1 login radiology secret\r\n"))
    assert atom.user == "radiology" and atom.mechanism == "LOGIN"
    tls = run(IMAP, b"a1 STARTTLS\r\n" + CLIENT_HELLO)
    assert [type(o) for o in tls] == [StartTlsRequest, TlsClientHello]


# --- Telnet --------------------------------------------------------------------------------


def test_telnet_server_with_echoed_user() -> None:
    data = (
        b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18"  # IAC WILL ECHO, WILL SGA, DO TERMINAL-TYPE
        b"\r\nInfusion Gateway v2.1\r\n\r\nlogin: "
        b"nurse1\r\n"  # echoed by the server (character mode)
        b"Password: "  # the password is not echoed
    )
    negotiation, banner, login = run(TELNET, data)
    assert negotiation == TelnetNegotiation(
        ctx=ctx(),
        do_options=(24,),
        will_options=(1, 3),
        terminal_type=None,
        login_prompt=True,
        password_prompt=True,
    )
    assert isinstance(banner, ServiceBanner) and banner.text == "Infusion Gateway v2.1"
    assert login == CleartextCredentials(
        ctx=ctx(), protocol="telnet", mechanism="telnet login", user="nurse1"
    )
    assert TELNET.signature(data)


def test_telnet_client_terminal_type() -> None:
    data = b"\xff\xfb\x18\xff\xfa\x18\x00vt100\xff\xf0ls\r\n"  # WILL TTYPE, SB TTYPE IS vt100
    (negotiation,) = run(TELNET, data)
    assert isinstance(negotiation, TelnetNegotiation)
    assert negotiation.terminal_type == "vt100" and negotiation.will_options == (24,)
    assert run(TELNET, b"plain text without telnet commands\r\n") == []


# --- real traffic --------------------------------------------------------------------------


def _observations(dissector: object, path: Path) -> list[object]:
    out: list[object] = []
    ports = dissector.ports  # type: ignore[attr-defined]
    for item in payloads(path, stream_bytes=16384, ports=set(ports)):
        if item.ctx.transport == "tcp":
            out.extend(dissector.dissect(item.data, item.ctx))  # type: ignore[attr-defined]
    return out


def test_vsftpd(shared_data: Path) -> None:
    found = _observations(FTP, shared_data / "pcap/ndpi/ftp.pcap")
    assert (
        ServiceBanner(
            ctx=found[0].ctx,  # type: ignore[attr-defined]
            protocol="ftp",
            kind="greeting",
            text="(vsFTPd 3.0.3)",
        )
        in found
    )
    (login,) = credentials(found)
    assert login.user == "anonymous"
    assert "NcFTP@" not in repr(found)  # the anonymous password
    failed = _observations(FTP, shared_data / "pcap/ndpi/ftp_failed.pcap")
    assert [type(o) for o in failed] == [ServiceBanner] and credentials(failed) == []


def test_zeek_ftp(shared_data: Path) -> None:
    netbsd = _observations(FTP, shared_data / "pcap/zeek/ftp_ipv4.pcap")
    system = next(o for o in netbsd if isinstance(o, ServiceBanner) and o.kind == "system")
    assert system.text == "UNIX Type: L8 Version: NetBSD-ftpd 20100320"
    auth_tls = _observations(FTP, shared_data / "pcap/zeek/ftp_ftp-auth-tls.pcap")
    assert any(isinstance(o, StartTlsRequest) for o in auth_tls)
    hello = next(o for o in auth_tls if isinstance(o, TlsClientHello))
    assert hello.server_name == "127.0.0.1"
    assert any(isinstance(o, TlsServerHello) and o.selected_version == 0x0304 for o in auth_tls)


def test_exim_smtp(shared_data: Path) -> None:
    found = _observations(SMTP, shared_data / "pcap/zeek/smtp.pcap")
    banner = next(o for o in found if isinstance(o, ServiceBanner))
    assert banner.text.startswith("xc90.websitewelcome.com ESMTP Exim 4.69")
    capabilities = next(o for o in found if isinstance(o, ServiceCapabilities))
    assert {"AUTH PLAIN LOGIN", "STARTTLS"} <= set(capabilities.capabilities)
    (login,) = credentials(found)
    assert (login.mechanism, login.user) == ("AUTH LOGIN", "gurpartap@patriots.in")
    password = base64.b64decode("cHVuamFiQDEyMw==").decode()  # the capture's password line
    assert password not in repr(found)
    assert {o.domain for o in found if isinstance(o, SmtpHelo)} == {"GP", "[192.168.133.100]"}
    assert {o.value for o in found if isinstance(o, MailUserAgent)} == {
        "Microsoft Office Outlook 12.0",
        "Apple Mail (2.2102)",
    }


def test_openbsd_telnet(shared_data: Path) -> None:
    found = _observations(TELNET, shared_data / "pcap/ndpi/telnet.pcap")
    client = next(o for o in found if isinstance(o, TelnetNegotiation) and o.ctx.dst_port == 23)
    assert client.terminal_type == "xterm-color"
    server = next(o for o in found if isinstance(o, TelnetNegotiation) and o.ctx.src_port == 23)
    assert server.login_prompt and server.password_prompt
    banner = next(o for o in found if isinstance(o, ServiceBanner))
    assert banner.text == "OpenBSD/i386 (oof) (ttyp2)"
    (login,) = credentials(found)
    assert login.user is None  # line mode: the server echoes nothing
    assert "user" not in {login.user}  # the password typed ("user") is never read


def test_telnet_auth_subnegotiation_on_ftp_port(shared_data: Path, tmp_path: Path) -> None:
    """Raw-IPv4 capture: IAC SB AUTHENTICATION without a name, sent to port 21."""
    source = shared_data / "pcap/zeek/telnet-auth-missing-name.pcap"
    target = tmp_path / "telnet.pcap"
    with open(source, "rb") as f, open(target, "wb") as out:
        writer = dpkt.pcap.Writer(out)
        for ts, ip in dpkt.pcap.Reader(f):
            writer.writepkt(bytes(12) + b"\x08\x00" + ip, ts)
    (item,) = [p for p in payloads(target) if p.data]
    assert TELNET.signature(item.data)
    (negotiation,) = TELNET.dissect(item.data, item.ctx)
    assert isinstance(negotiation, TelnetNegotiation) and not negotiation.login_prompt
    assert list(FTP.dissect(item.data, item.ctx)) == []
