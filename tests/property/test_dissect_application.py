"""Application-layer dissectors (TLS, HTTP, SSH, FTP/SMTP/POP3/IMAP/Telnet, SMB, RDP, VNC)
under hostile bytes, plus round trips and the promise that secrets never leave.

Arbitrary and mutated inputs: ``signature`` returns a bool and ``dissect`` yields observations
or raises ``DissectError`` - nothing else, no warning, no hang. Round trips: hellos, requests
and banners built from random fields come back with the same facts; passwords and query
values built in never appear in any observation.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from medsec.dissect.banners import (
    FtpDissector,
    ImapDissector,
    Pop3Dissector,
    SmtpDissector,
    TelnetDissector,
)
from medsec.dissect.http import HttpDissector
from medsec.dissect.remote_access import RdpDissector, VncDissector
from medsec.dissect.smb import SmbDissector, ntlm_observation
from medsec.dissect.ssh import SshDissector
from medsec.dissect.tls import TlsDissector, parse_certificate
from medsec.dissect.tls_fingerprints import is_grease
from medsec.model.errors import DissectError
from medsec.model.observations import Observation
from medsec.model.observations.cleartext import CleartextCredentials
from medsec.model.observations.ssh import SshBanner
from medsec.model.observations.tls import TlsClientHello
from medsec.model.observations.web import HttpRequest

from tests_support.dissect_harness import PROPERTY, ctx, mutated, run_hostile

DISSECTORS: list[Any] = [
    TlsDissector(),
    HttpDissector(),
    SshDissector(),
    FtpDissector(),
    SmtpDissector(),
    Pop3Dissector(),
    ImapDissector(),
    TelnetDissector(),
    SmbDissector(),
    RdpDissector(),
    VncDissector(),
]
CONTEXT = ctx()


def run(dissector: Any, data: bytes) -> list[Observation]:
    return run_hostile(dissector, data, [CONTEXT])


# --- seeds ---------------------------------------------------------------------------------


def vec(body: bytes, n: int) -> bytes:
    return len(body).to_bytes(n, "big") + body


def u16s(values: list[int]) -> bytes:
    return b"".join(v.to_bytes(2, "big") for v in values)


def tls_ext(kind: int, body: bytes) -> bytes:
    return kind.to_bytes(2, "big") + vec(body, 2)


def client_hello(
    ciphers: list[int], server_name: str, alpn: list[bytes], groups: list[int], sigalgs: list[int]
) -> bytes:
    extensions = (
        tls_ext(0, vec(b"\x00" + vec(server_name.encode(), 2), 2))
        + tls_ext(16, vec(b"".join(vec(a, 1) for a in alpn), 2))
        + tls_ext(10, vec(u16s(groups), 2))
        + tls_ext(11, vec(b"\x00", 1))
        + tls_ext(13, vec(u16s(sigalgs), 2))
        + tls_ext(43, vec(u16s([0x0304, 0x0303]), 1))
    )
    body = (
        b"\x03\x03"
        + bytes(32)
        + vec(b"", 1)
        + vec(u16s(ciphers), 2)
        + vec(b"\x00", 1)
        + vec(extensions, 2)
    )
    message = b"\x01" + vec(body, 3)
    return b"\x16\x03\x01" + vec(message, 2)


# openssl-made self-signed P-256 certificate (see tests/unit/dissect/test_tls.py)
EC_CERT = bytes.fromhex(
    "30820220308201c5a00302010202021d2c300a06082a8648ce3d040302305a310b3009060355040613025553"
    "31183016060355040a0c0f4578616d706c65204d65646963616c3111300f060355040b0c08496e667573696f"
    "6e311e301c06035504030c1570756d702d303034322e6578616d706c652e6f7267301e170d32363131323132"
    "33313830335a170d3336313131383233313830335a305a310b30090603550406130255533118301606035504"
    "0a0c0f4578616d706c65204d65646963616c3111300f060355040b0c08496e667573696f6e311e301c060355"
    "04030c1570756d702d303034322e6578616d706c652e6f72673059301306072a8648ce3d020106082a8648ce"
    "3d0301070342000453038d811e5473db152ee4d788a5cd67870c1ccfdc6468215c4f1e18dac7f14bf95048d4"
    "497e74998921e7e0aa07e70f4b5ed1a59139c356f234e452fcf5bf72a37b3079301d0603551d0e0416041437"
    "bd75d04a2cc7c6d94a2c1d5593ab85637ae359301f0603551d2304183016801437bd75d04a2cc7c6d94a2c1d"
    "5593ab85637ae359300f0603551d130101ff040530030101ff30260603551d11041f301d821570756d702d30"
    "3034322e6578616d706c652e6f726787040a0a002a300a06082a8648ce3d0403020349003046022100cb1917"
    "3e2c6ffd440a8ef10be2d19423582ae77dd839001afc5ccddf65fb8a9b022100e4b3af34025cfc358732932d"
    "b76f668176135e837c74020057612be4b9706a8f"
)
SERVER_FLIGHT = (
    b"\x16\x03\x03"
    + vec(b"\x02" + vec(b"\x03\x03" + bytes(32) + b"\x00\xc0\x2f\x00" + vec(b"", 2), 3), 2)
    + b"\x16\x03\x03"
    + vec(b"\x0b" + vec(vec(vec(EC_CERT, 3), 3), 3), 2)
)
TLS_SEED = client_hello([0x1301, 0xC02F], "pump.example", [b"h2"], [29, 23], [0x0403]) + (
    SERVER_FLIGHT
)
NTLM_CHALLENGE = (
    b"NTLMSSP\x00\x02\x00\x00\x00\x06\x00\x06\x00\x38\x00\x00\x00\x01\x00\x00\x02"
    + bytes(16)
    + b"\x0e\x00\x0e\x00\x3e\x00\x00\x00\x0a\x00\x63\x45\x00\x00\x00\x0f"
    + "LAB".encode("utf-16-le")
    + b"\x01\x00\x06\x00"
    + "PC1".encode("utf-16-le")
    + bytes(4)
)
SMB2_NEGOTIATE = (
    b"\xfeSMB\x40\x00" + bytes(6) + b"\x00\x00\x01\x00" + bytes(48)
    + b"\x24\x00\x02\x00\x01\x00\x00\x00" + bytes(4) + bytes(16) + bytes(8)
    + b"\x02\x02\x11\x03"
)  # fmt: skip
SMB1_NEGOTIATE = (
    b"\xffSMBr" + bytes(4) + b"\x18\x01\x80" + bytes(20) + b"\x00" + b"\x0c\x00\x02NT LM 0.12\x00"
)
SMB_SEED = b"".join(
    b"\x00" + len(m).to_bytes(3, "big") + m
    for m in (SMB1_NEGOTIATE, SMB2_NEGOTIATE, SMB2_NEGOTIATE[:64] + NTLM_CHALLENGE)
)
SEEDS = {
    "tls": TLS_SEED,
    "http": (
        b"GET /fhir/Patient/123?name=x HTTP/1.1\r\nHost: h\r\nAuthorization: Basic "
        + base64.b64encode(b"u:p")
        + b"\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        + b"HTTP/1.1 401 X\r\nWWW-Authenticate: NTLM "
        + base64.b64encode(NTLM_CHALLENGE)
        + b"\r\n\r\n"
    ),
    "ssh": b"SSH-2.0-OpenSSH_8.2p1 Ubuntu\r\n"
    + bytes.fromhex("0000002c0414" + "00" * 16)
    + b"".join(vec(b"a,b", 4) for _ in range(10))
    + bytes(5 + 4),
    "ftp": b"220 FTP ready\r\n215 UNIX\r\n211-Features:\r\n EPSV\r\n211 End\r\n234 ok\r\n"
    + TLS_SEED,
    "smtp": b"EHLO x\r\nAUTH LOGIN\r\ndXNlcg==\r\ncGFzcw==\r\nSTARTTLS\r\n" + TLS_SEED,
    "pop3": b"USER a\r\nPASS b\r\nAUTH PLAIN AGEAYg==\r\nSTLS\r\n" + TLS_SEED,
    "imap": b"a LOGIN {1}\r\nx {1}\r\ny\r\nb AUTHENTICATE PLAIN\r\nAGEAYg==\r\nc STARTTLS\r\n",
    "telnet": b"\xff\xfd\x18\xff\xfa\x18\x00vt100\xff\xf0hello\r\nlogin: a\r\nPassword:",
    "smb": SMB_SEED,
    "rdp": bytes.fromhex("0300002b26e00000000000")
    + b"Cookie: mstshash=x\r\n"
    + bytes.fromhex("0100080003000000")
    + TLS_SEED,
    "vnc": b"RFB 003.008\n\x01\x01"
    + bytes(4)
    + bytes.fromhex("0400030020180001" + "00" * 12)
    + b"\x00\x00\x00\x01x",
}


TEXT_AND_TLS_BYTES = (0x00, 0xFF, 0x7F, 0x80, 0x0A, 0x0D, 0x20, 0x16)
"""Bytes that matter to these protocols' framing, favoured by the mutations."""


# --- hostile bytes -------------------------------------------------------------------------


def test_every_dissector_has_a_seed() -> None:
    assert {d.name for d in DISSECTORS} == set(SEEDS)
    for dissector in DISSECTORS:
        assert run(dissector, SEEDS[dissector.name]), dissector.name


@PROPERTY
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data: bytes) -> None:
    for dissector in DISSECTORS:
        run(dissector, data)


@PROPERTY
@given(st.sampled_from(DISSECTORS), st.data())
def test_mutated_valid_messages(dissector: Any, data: st.DataObject) -> None:
    run(dissector, data.draw(mutated(SEEDS[dissector.name], TEXT_AND_TLS_BYTES)))


@PROPERTY
@given(st.binary(max_size=2048))
def test_prefixed_arbitrary_bytes(tail: bytes) -> None:
    """Bytes that pass each signature's first checks, then anything."""
    prefixes = {
        "tls": b"\x16\x03\x01\x02\x00\x01",
        "http": b"GET / HTTP/1.1\r\n",
        "ssh": b"SSH-2.0-x\r\n",
        "ftp": b"220 FTP\r\n",
        "smtp": b"EHLO a\r\n",
        "pop3": b"+OK\r\n",
        "imap": b"* OK ",
        "telnet": b"\xff\xfd\x18",
        "smb": b"\x00\x00\x01\x00\xfeSMB",
        "rdp": b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00",
        "vnc": b"RFB 003.008\n",
    }
    for dissector in DISSECTORS:
        run(dissector, prefixes[dissector.name] + tail)


@PROPERTY
@given(st.data())
def test_certificates_and_ntlm_messages(data: st.DataObject) -> None:
    for blob in (EC_CERT, NTLM_CHALLENGE):
        mutant = data.draw(mutated(blob, TEXT_AND_TLS_BYTES))
        try:
            parse_certificate(mutant, 0, CONTEXT)
        except DissectError:
            pass
        try:
            ntlm_observation(mutant, CONTEXT, "smb")
        except DissectError:
            pass


def test_large_hostile_inputs_are_fast() -> None:
    rng = __import__("random").Random(7)
    blobs = [bytes(rng.getrandbits(8) for _ in range(65536)), b"\n" * 65536, b"\xff" * 65536]
    blobs += [b"GET / HTTP/1.1\r\n" + b"a: b\r\n" * 10000, b"\x16\x03\x01\x00\x04" * 13000]
    for dissector in DISSECTORS:
        for blob in blobs:
            started = time.perf_counter()
            run(dissector, blob)
            assert time.perf_counter() - started < 2.0, dissector.name


# --- round trips ---------------------------------------------------------------------------

TOKEN = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=24)
HOST = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True)
# secrets carry a marker so they cannot hide in digits of timestamps or addresses
SECRET = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#&"),
    min_size=8,
    max_size=30,
).map(lambda s: "Q~" + s)


@PROPERTY
@given(
    ciphers=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=40),
    server_name=HOST,
    alpn=st.lists(st.binary(min_size=1, max_size=10), min_size=1, max_size=4),
    groups=st.lists(st.integers(0, 0xFFFF), max_size=10),
    sigalgs=st.lists(st.integers(0, 0xFFFF), max_size=10),
)
def test_client_hello_round_trip(
    ciphers: list[int], server_name: str, alpn: list[bytes], groups: list[int], sigalgs: list[int]
) -> None:
    (hello,) = TlsDissector().dissect(
        client_hello(ciphers, server_name, alpn, groups, sigalgs), CONTEXT
    )
    assert isinstance(hello, TlsClientHello)
    kept = [c for c in ciphers if not is_grease(c)]
    assert hello.cipher_suites == tuple(kept)
    assert hello.server_name == server_name
    assert hello.supported_groups == tuple(g for g in groups if not is_grease(g))
    expected = ",".join(
        (
            "771",
            "-".join(map(str, kept)),
            "0-16-10-11-13-43",
            "-".join(str(g) for g in groups if not is_grease(g)),
            "0",
        )
    )
    assert hello.ja3 == expected
    assert hello.ja3_md5 == hashlib.md5(expected.encode()).hexdigest()
    head = hello.ja4.split("_")[0]
    assert head[:4] == "t13d" and int(head[4:6]) == min(len(kept), 99) and head[6:8] == "06"


@PROPERTY
@given(
    segments=st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,12}", fullmatch=True), max_size=5),
    query=st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), SECRET),
    user=st.from_regex(r"[a-z][a-z0-9.]{0,15}", fullmatch=True),
    password=SECRET,
)
def test_http_values_and_passwords_never_leave(
    segments: list[str], query: dict[str, str], user: str, password: str
) -> None:
    target = "/" + "/".join(segments) + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    data = f"GET {target} HTTP/1.1\r\nAuthorization: Basic {token}\r\n\r\n".encode()
    found = list(HttpDissector().dissect(data, CONTEXT))
    request = next(o for o in found if isinstance(o, HttpRequest))
    assert request.basic_auth_user == user
    assert request.query_keys == tuple(query)
    text = repr(found)
    assert password not in text and token not in text
    for value in query.values():
        assert f"={value}" not in text


@PROPERTY
@given(
    kind=st.sampled_from(["ftp", "pop3", "imap", "smtp-plain", "smtp-login"]),
    user=st.from_regex(r"[a-z][a-z0-9._-]{0,15}", fullmatch=True),
    password=SECRET.filter(lambda s: '"' not in s and "\\" not in s),
)
def test_cleartext_passwords_never_leave(kind: str, user: str, password: str) -> None:
    plain = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    scripts = {
        "ftp": (FtpDissector(), f"USER {user}\r\nPASS {password}\r\nQUIT\r\n"),
        "pop3": (Pop3Dissector(), f"USER {user}\r\nPASS {password}\r\nQUIT\r\n"),
        "imap": (ImapDissector(), f'a1 LOGIN {user} "{password}"\r\na2 LOGOUT\r\n'),
        "smtp-plain": (SmtpDissector(), f"EHLO h\r\nAUTH PLAIN {plain}\r\nQUIT\r\n"),
        "smtp-login": (
            SmtpDissector(),
            "EHLO h\r\nAUTH LOGIN\r\n"
            + base64.b64encode(user.encode()).decode()
            + "\r\n"
            + base64.b64encode(password.encode()).decode()
            + "\r\nQUIT\r\n",
        ),
    }
    dissector, script = scripts[kind]
    found = list(dissector.dissect(script.encode(), CONTEXT))
    (login,) = [o for o in found if isinstance(o, CleartextCredentials)]
    assert login.user == user
    assert password not in repr(found)
    assert base64.b64encode(password.encode()).decode() not in repr(found)


@PROPERTY
@given(
    protocol=st.sampled_from(["2.0", "1.99"]),
    product=st.from_regex(r"[A-Za-z][A-Za-z]{0,12}", fullmatch=True),
    version=st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}(p[0-9])?", fullmatch=True),
    comments=st.none() | st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.-]{0,20}", fullmatch=True),
)
def test_ssh_banner_round_trip(
    protocol: str, product: str, version: str, comments: str | None
) -> None:
    line = f"SSH-{protocol}-{product}_{version}" + (f" {comments}" if comments else "")
    (banner,) = SshDissector().dissect(line.encode() + b"\r\n", CONTEXT)
    assert isinstance(banner, SshBanner)
    assert (banner.protocol_version, banner.product, banner.product_version) == (
        protocol,
        product,
        version,
    )
    assert banner.comments == comments and banner.banner == line
