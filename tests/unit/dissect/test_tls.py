"""TLS dissector: spec vectors (JA3, JA4 from FoxIO's JA4.md, records, X.509) and real captures.

Oracles: nDPI's expected output (``expected_ndpiReader/*.out``) for JA3C/JA3S and the JA4
hashes. That nDPI build printed the first *two* characters of the ALPN in JA4 (``ht`` for
``http/1.1``) where FoxIO's spec takes the first and last (``h1``); the ALPN part is
therefore checked against the spec, the rest against nDPI.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.tls import TlsDissector, TlsError, parse_certificate, tls_observations
from medsec.dissect.tls_fingerprints import is_grease, ja3, ja4, ja4_alpn
from medsec.model.observations.tls import (
    SslV2ClientHello,
    SslV2ServerHello,
    TlsCertificate,
    TlsClientHello,
    TlsServerHello,
)

from tests_support.dissect_harness import ctx, payloads

D = TlsDissector()


# --- building blocks (RFC 8446 §4.1.2 wire format) -----------------------------------------


def u16(v: int) -> bytes:
    return v.to_bytes(2, "big")


def vec(body: bytes, n: int) -> bytes:
    """A TLS vector: ``n``-byte length prefix then the body."""
    return len(body).to_bytes(n, "big") + body


def ext(ext_type: int, body: bytes = b"") -> bytes:
    return u16(ext_type) + vec(body, 2)


def record(content_type: int, body: bytes, version: int = 0x0301) -> bytes:
    return bytes([content_type]) + u16(version) + vec(body, 2)


def handshake(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + vec(body, 3)


# The ClientHello of FoxIO's JA4.md example: 15 ciphers, 16 extensions (ALPN h2, SNI,
# supported_versions with TLS 1.3), 8 signature algorithms - plus GREASE values that JA3 and
# JA4 must ignore (0x1a1a cipher, 0x2a2a extension, 0x0a0a version and group).
SPEC_CIPHERS = [0x1A1A, 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9,
                0xCCA8, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035]  # fmt: skip
SPEC_SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
SPEC_EXTENSIONS = [
    ext(0x2A2A),  # GREASE
    ext(0x001B, b"\x02\x00\x02"),  # compress_certificate: brotli
    ext(0x0000, vec(b"\x00" + vec(b"pump.example.org", 2), 2)),  # server_name host_name
    ext(0x0033, vec(b"", 2)),  # key_share (empty list)
    ext(0x0010, vec(vec(b"h2", 1) + vec(b"http/1.1", 1), 2)),  # ALPN h2, http/1.1
    ext(0x4469, vec(vec(b"h2", 1), 2)),  # application_settings (ALPS)
    ext(0x0017),  # extended_master_secret
    ext(0x002D, b"\x01\x01"),  # psk_key_exchange_modes: psk_dhe_ke
    ext(0x000D, vec(b"".join(u16(s) for s in SPEC_SIGALGS), 2)),  # signature_algorithms
    ext(0x0005, b"\x01\x00\x00\x00\x00"),  # status_request: ocsp
    ext(0x0023),  # session_ticket
    ext(0x0012),  # signed_certificate_timestamp
    ext(0x002B, vec(u16(0x0A0A) + u16(0x0304) + u16(0x0303), 1)),  # supported_versions
    ext(0xFF01, b"\x00"),  # renegotiation_info
    ext(0x000B, vec(b"\x00", 1)),  # ec_point_formats: uncompressed
    ext(0x000A, vec(u16(0x0A0A) + u16(0x001D) + u16(0x0017) + u16(0x0018), 2)),  # groups
    ext(0x0015, b"\x00" * 8),  # padding
]
SPEC_HELLO_BODY = (
    u16(0x0303)  # legacy_version TLS 1.2
    + bytes(32)  # random
    + vec(bytes(32), 1)  # legacy_session_id
    + vec(b"".join(u16(c) for c in SPEC_CIPHERS), 2)
    + vec(b"\x00", 1)  # compression: null
    + vec(b"".join(SPEC_EXTENSIONS), 2)
)
SPEC_CLIENT_HELLO = record(22, handshake(1, SPEC_HELLO_BODY))


def _client_hello(data: bytes) -> TlsClientHello:
    found = [o for o in D.dissect(data, ctx(dst_port=443)) if isinstance(o, TlsClientHello)]
    assert len(found) == 1
    return found[0]


# --- fingerprints --------------------------------------------------------------------------


def test_grease_values() -> None:
    assert [v for v in range(0x10000) if is_grease(v)] == [0x0A0A + 0x1010 * i for i in range(16)]


def test_ja4_of_the_specification_example() -> None:
    hello = _client_hello(SPEC_CLIENT_HELLO)
    # JA4.md: 002f,0035,009c,...,cca9 -> 8daaf6152771; extensions (SNI/ALPN removed) + sigalgs
    # -> e5627efa2ab1
    assert hello.ja4 == "t13d1516h2_8daaf6152771_e5627efa2ab1"
    assert hello.ja4_r == (
        "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_"
        "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_"
        "0403,0804,0401,0503,0805,0501,0806,0601"
    )


def test_ja4_without_signature_algorithms_ends_without_underscore() -> None:
    # JA4.md: "0005,000a,...,4469,ff01 = 6d807ffa2a79" when no signature algorithms are sent
    exts = (0x001B, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002D, 0x000D, 0x0005, 0x0023,
            0x0012, 0x002B, 0xFF01, 0x000B, 0x000A, 0x0015)  # fmt: skip
    value, _ = ja4(transport="t", version=0x0304, has_sni=True, ciphers=(0x1301,),
                   extensions=exts, first_alpn=b"h2", signature_algorithms=())  # fmt: skip
    assert value.endswith("_6d807ffa2a79")


def test_ja4_empty_lists_are_zeros() -> None:
    value, _ = ja4(transport="t", version=0x0301, has_sni=False, ciphers=(), extensions=(),
                   first_alpn=None, signature_algorithms=())  # fmt: skip
    assert value == "t10i000000_000000000000_000000000000"


@pytest.mark.parametrize(
    ("alpn", "chars"),
    [
        (b"h2", "h2"),
        (b"http/1.1", "h1"),
        (b"b", "bb"),  # a single character is both first and last
        (b"\xab", "ab"),  # JA4.md: non-alphanumeric -> first/last hex characters
        (b"\xab\xcd", "ad"),
        (b"\x30\xab", "3b"),
        (b"\x30\x31\xab\xcd", "3d"),
        (b"\x30\xab\xcd\x31", "01"),
        (None, "00"),
        (b"", "00"),
    ],
)
def test_ja4_alpn_characters(alpn: bytes | None, chars: str) -> None:
    assert ja4_alpn(alpn) == chars


def test_ja3_of_the_specification_example() -> None:
    hello = _client_hello(SPEC_CLIENT_HELLO)
    expected = (
        "771,"
        "4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
        "27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,"
        "29-23-24,"
        "0"
    )
    assert hello.ja3 == expected
    assert hello.ja3_md5 == hashlib.md5(expected.encode()).hexdigest()
    assert ja3(771, (), (), (), ()) == ("771,,,,", hashlib.md5(b"771,,,,").hexdigest())


def test_client_hello_fields() -> None:
    hello = _client_hello(SPEC_CLIENT_HELLO)
    assert hello.record_version == 0x0301
    assert hello.legacy_version == 0x0303
    assert hello.supported_versions == (0x0304, 0x0303)
    assert hello.server_name == "pump.example.org"
    assert hello.alpn == ("h2", "http/1.1")
    assert hello.cipher_suites[0] == 0x1301 and len(hello.cipher_suites) == 15
    assert hello.supported_groups == (0x001D, 0x0017, 0x0018)
    assert hello.ec_point_formats == (0,)
    assert hello.signature_algorithms == tuple(SPEC_SIGALGS)
    assert hello.grease is True
    assert 0x2A2A not in hello.extensions and len(hello.extensions) == 16


# --- records -------------------------------------------------------------------------------


def test_handshake_message_spanning_records() -> None:
    message = handshake(1, SPEC_HELLO_BODY)
    split = record(22, message[:50]) + record(22, message[50:])
    assert _client_hello(split).ja4 == "t13d1516h2_8daaf6152771_e5627efa2ab1"


def test_truncated_stream_yields_what_is_complete() -> None:
    server_hello = handshake(2, u16(0x0303) + bytes(32) + vec(b"", 1) + u16(0xC02F) + b"\x00")
    data = record(22, server_hello) + record(22, handshake(11, vec(b"", 3)))[:7]
    found = list(D.dissect(data, ctx(src_port=443)))
    assert [type(o) for o in found] == [TlsServerHello]
    assert found[0].cipher_suite == 0xC02F and found[0].extensions == ()  # type: ignore[attr-defined]
    assert list(D.dissect(SPEC_CLIENT_HELLO[:100], ctx())) == []


def test_server_hello_tls13_and_retry_request() -> None:
    hrr_random = hashlib.sha256(b"HelloRetryRequest").digest()  # RFC 8446 §4.1.3
    body = (
        u16(0x0303)
        + hrr_random
        + vec(b"", 1)
        + u16(0x1301)
        + b"\x00"
        + vec(ext(0x002B, u16(0x0304)) + ext(0x0010, vec(vec(b"h2", 1), 2)), 2)
    )
    (hello,) = D.dissect(record(22, handshake(2, body)), ctx(src_port=443))
    assert isinstance(hello, TlsServerHello)
    assert hello.selected_version == 0x0304 and hello.legacy_version == 0x0303
    assert hello.hello_retry_request and hello.alpn == "h2"
    assert hello.ja3s == "771,4865,43-16"


def test_encrypted_records_end_the_walk() -> None:
    data = record(20, b"\x01") + record(22, handshake(1, SPEC_HELLO_BODY))
    assert list(D.dissect(data, ctx())) == []


def test_not_tls_gives_nothing_and_broken_tls_raises() -> None:
    assert list(D.dissect(b"GET / HTTP/1.1\r\n\r\n", ctx())) == []
    assert not D.signature(b"GET / HTTP/1.1\r\n")
    assert D.signature(SPEC_CLIENT_HELLO)
    # cipher_suites claims 0xfff0 bytes inside a 40-byte ClientHello
    bad_length = record(22, handshake(1, u16(0x0303) + bytes(32) + b"\x00" + u16(0xFFF0) + b"\0"))
    with pytest.raises(TlsError):
        list(D.dissect(bad_length, ctx()))
    with pytest.raises(TlsError):  # a valid record, then a broken record header
        list(D.dissect(record(21, b"\x02\x28") + b"\x99\x03\x03\x00\x01\x00", ctx()))


def test_sslv2_client_hello() -> None:
    # 2-byte header (0x8000 | 20), CLIENT-HELLO, version SSL 2.0, 3 bytes of cipher specs
    # (SSL_CK_RC4_128_WITH_MD5 = 0x010080), no session id, an 8-byte challenge
    data = bytes.fromhex("8014 01 0002 0003 0000 0008 010080") + bytes(8)
    assert D.signature(data)
    (hello,) = D.dissect(data, ctx())
    assert hello == SslV2ClientHello(ctx=ctx(), version=2, cipher_specs=(0x010080,))


# --- X.509 ---------------------------------------------------------------------------------

# openssl req -x509 -newkey ec (P-256) -subj "/C=US/O=Example Medical/OU=Infusion/
#   CN=pump-0042.example.org" -addext "subjectAltName=DNS:pump-0042.example.org,IP:10.10.0.42"
#   -set_serial 0x1d2c: self-signed, ecdsa-with-SHA256, basicConstraints CA:TRUE,
#   validity 2026-11-21 23:18:03 .. 2036-11-18 23:18:03 UTC
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


def test_certificate_fields() -> None:
    cert = parse_certificate(EC_CERT, 0, ctx())
    assert cert.subject == "CN=pump-0042.example.org,OU=Infusion,O=Example Medical,C=US"
    assert cert.subject_cn == "pump-0042.example.org" and cert.subject_o == "Example Medical"
    assert cert.subject_ou == "Infusion" and cert.issuer == cert.subject and cert.self_signed
    assert cert.serial == "1d2c"
    assert cert.not_before == datetime(2026, 11, 21, 23, 18, 3, tzinfo=UTC)
    assert cert.not_after == datetime(2036, 11, 18, 23, 18, 3, tzinfo=UTC)
    assert cert.signature_algorithm == "ecdsa-with-SHA256"
    assert (cert.public_key_algorithm, cert.public_key_bits, cert.public_key_curve) == (
        "id-ecPublicKey",
        256,
        "secp256r1",
    )
    assert cert.subject_alt_names == ("DNS:pump-0042.example.org", "IP:10.10.0.42")
    assert cert.is_ca
    assert cert.sha256 == "0bbdd18c69847c141f864ddd2f167afa30830f07eb85553bdbe3cee33236c7ed"
    assert cert.sha1 == "a909bb2262f1db2c61092e303b86c6b680233f12"


def test_certificate_message_and_broken_certificates() -> None:
    certs = vec(vec(EC_CERT, 3) + vec(EC_CERT[:40], 3) + vec(EC_CERT, 3), 3)
    found = list(D.dissect(record(22, handshake(11, certs)), ctx(src_port=443)))
    # the truncated middle certificate is skipped, its neighbours kept with their positions
    assert [o.chain_index for o in found if isinstance(o, TlsCertificate)] == [0, 2]
    with pytest.raises(TlsError):
        parse_certificate(EC_CERT[:-1], 0, ctx())
    with pytest.raises(TlsError):
        parse_certificate(b"\x30\x80" + EC_CERT[2:], 0, ctx())  # indefinite length


# --- real traffic --------------------------------------------------------------------------


def _observations(path: Path, ports: set[int] | None = None) -> list[object]:
    out: list[object] = []
    for item in payloads(path, stream_bytes=D.stream_bytes, ports=ports):
        if item.ctx.transport == "tcp" and D.signature(item.data):
            out.extend(D.dissect(item.data, item.ctx))
    return out


def _ethernet_copy(source: Path, target: Path) -> Path:
    """Rewrite a pcapng / null / raw-IP capture as classic Ethernet pcap for the harness."""
    with open(source, "rb") as f:
        magic = f.read(4)
        f.seek(0)
        reader = dpkt.pcapng.Reader(f) if magic == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(f)
        link = reader.datalink()
        with open(target, "wb") as out:
            writer = dpkt.pcap.Writer(out)
            for ts, buf in reader:
                if link == dpkt.pcap.DLT_EN10MB:
                    frame = buf
                else:
                    ip = buf[4:] if link in (dpkt.pcap.DLT_NULL, dpkt.pcap.DLT_LOOP) else buf
                    ethertype = 0x86DD if ip[:1] and ip[0] >> 4 == 6 else 0x0800
                    frame = bytes(12) + ethertype.to_bytes(2, "big") + ip
                writer.writepkt(frame, ts)
    return target


def test_chrome_google(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/zeek/tls_chrome-34-google.pcap")
    hello = next(o for o in found if isinstance(o, TlsClientHello))
    assert hello.server_name == "google.de"
    assert hello.alpn == ("spdy/3", "spdy/3.1", "http/1.1")
    server = next(o for o in found if isinstance(o, TlsServerHello))
    assert server.alpn == "spdy/3.1" and server.cipher_suite == 0xC02F
    certs = [o for o in found if isinstance(o, TlsCertificate)]
    assert [c.subject_cn for c in certs] == [
        "*.google.de",
        "Google Internet Authority G2",
        "GeoTrust Global CA",
    ]
    assert certs[0].issuer_cn == "Google Internet Authority G2"
    assert certs[0].not_after == datetime(2014, 7, 8, tzinfo=UTC)
    assert not any(c.self_signed for c in certs)


def test_tls13_with_ech_and_wolfssl(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/zeek/tls_tls13-ech.pcap")
    hellos = [o for o in found if isinstance(o, TlsClientHello)]
    assert hellos and all(h.server_name == "cloudflare-ech.com" and h.grease for h in hellos)
    assert all(0xFE0D in h.extensions for h in hellos)  # encrypted_client_hello
    servers = [o for o in found if isinstance(o, TlsServerHello)]
    assert servers and all(s.selected_version == 0x0304 for s in servers)
    assert not any(isinstance(o, TlsCertificate) for o in found)  # encrypted in TLS 1.3
    wolf = _observations(shared_data / "pcap/zeek/tls_tls13_wolfssl.pcap")
    client = next(o for o in wolf if isinstance(o, TlsClientHello))
    assert client.cipher_suites == (0x1302,) and client.server_name is None
    assert client.ja4.startswith("t13i0106")


def test_expired_ecdsa_and_client_certificates(shared_data: Path) -> None:
    expired = [
        o
        for o in _observations(shared_data / "pcap/zeek/tls_tls-expired-cert.pcap")
        if isinstance(o, TlsCertificate) and o.chain_index == 0
    ]
    spidh = next(c for c in expired if c.subject_cn == "www.spidh.org")
    assert spidh.not_after == datetime(2014, 3, 4, 23, 59, 59, tzinfo=UTC)
    assert spidh.not_after.timestamp() < spidh.ctx.ts_ns / 1e9  # expired when seen
    ecdsa = next(
        o
        for o in _observations(shared_data / "pcap/zeek/tls_ecdsa-cert.pcap")
        if isinstance(o, TlsCertificate)
    )
    assert ecdsa.subject_cn == "pantz.org"
    assert (ecdsa.public_key_curve, ecdsa.public_key_bits) == ("secp384r1", 384)  # tshark too
    client_side = [
        o
        for o in _observations(shared_data / "pcap/zeek/tls_client-certificate.pcap")
        if isinstance(o, TlsCertificate) and o.ctx.dst_port == 443
    ]
    assert client_side[0].subject_cn == "johanna@corelight.com"


def test_ssl2_and_ssl3(shared_data: Path) -> None:
    v2 = _observations(shared_data / "pcap/zeek/tls_ssl-v2.pcap")
    assert [type(o) for o in v2] == [SslV2ClientHello, SslV2ServerHello, TlsCertificate]
    assert v2[0].version == 2  # type: ignore[attr-defined]
    cert = v2[2]
    assert isinstance(cert, TlsCertificate) and cert.self_signed and cert.subject_cn == "plesk"
    v3 = _observations(shared_data / "pcap/zeek/tls_ssl.v3.pcap")
    compat = next(o for o in v3 if isinstance(o, SslV2ClientHello))
    assert compat.version == 0x0301
    assert {o.legacy_version for o in v3 if isinstance(o, TlsServerHello)} == {0x0301}


def test_ndpi_certificates(shared_data: Path, tmp_path: Path) -> None:
    rdn = [
        o
        for o in _observations(shared_data / "pcap/ndpi/tls-rdn-extract.pcap")
        if isinstance(o, TlsCertificate) and o.chain_index == 0
    ]
    assert rdn[0].subject.count("CN=") > 10  # one RDN sequence holding many CNs
    mismatch = next(
        o
        for o in _observations(shared_data / "pcap/ndpi/ssl-cert-name-mismatch.pcap")
        if isinstance(o, TlsCertificate)
    )
    assert mismatch.subject_cn == "*.badssl.com"
    assert "DNS:*.badssl.com" in mismatch.subject_alt_names
    copy = _ethernet_copy(shared_data / "pcap/ndpi/selfsigned.pcap", tmp_path / "s.pcap")
    selfsigned = [o for o in _observations(copy) if isinstance(o, TlsCertificate)]
    assert selfsigned and selfsigned[0].self_signed


def test_not_tls_on_port_443(shared_data: Path) -> None:
    # 1kxun.pcap holds a proprietary protocol on 443; it is not malformed TLS
    for item in payloads(shared_data / "pcap/ndpi/1kxun.pcap", ports={443}):
        if item.ctx.transport == "tcp" and item.data[:1] == b"\x80" and not D.signature(item.data):
            assert list(D.dissect(item.data, item.ctx)) == []


def _ndpi_expected(path: Path) -> dict[tuple[str, int, str, int], dict[str, str]]:
    expected: dict[tuple[str, int, str, int], dict[str, str]] = {}
    for line in path.read_text().splitlines():
        flow = re.search(r"TCP (\S+):(\d+) <-> (\S+):(\d+) ", line)
        if not flow:
            continue
        fields = {
            key: m.group(1)
            for key in ("JA3C", "JA4", "JA3S")
            if (m := re.search(rf"\[{key}: ([^\]]+)\]", line))
        }
        if fields:
            key = (flow.group(1), int(flow.group(2)), flow.group(3), int(flow.group(4)))
            expected[key] = fields
    return expected


@pytest.mark.parametrize("name", ["android.pcap", "iphone.pcap"])
def test_fingerprints_match_ndpi(shared_data: Path, name: str) -> None:
    expected = _ndpi_expected(shared_data / "pcap/ndpi/expected_ndpiReader" / f"{name}.out")
    got: dict[tuple[str, int, str, int], dict[str, object]] = {}
    for o in _observations(shared_data / "pcap/ndpi" / name):
        c = o.ctx  # type: ignore[attr-defined]
        if isinstance(o, TlsClientHello):
            got.setdefault((c.src_ip, c.src_port, c.dst_ip, c.dst_port), {})["hello"] = o
        elif isinstance(o, TlsServerHello):
            got.setdefault((c.dst_ip, c.dst_port, c.src_ip, c.src_port), {})["server"] = o
    checked = 0
    for flow, fields in expected.items():
        hello = got[flow]["hello"]
        assert isinstance(hello, TlsClientHello)
        assert hello.ja3_md5 == fields["JA3C"]
        head, ciphers, extensions = fields["JA4"].split("_")
        ours_head, ours_ciphers, ours_extensions = hello.ja4.split("_")
        assert (ours_ciphers, ours_extensions) == (ciphers, extensions)
        assert ours_head[:8] == head[:8]
        assert ours_head[8:] == ja4_alpn(hello.alpn[0].encode() if hello.alpn else None)
        if "JA3S" in fields:
            server = got[flow]["server"]
            assert isinstance(server, TlsServerHello) and server.ja3s_md5 == fields["JA3S"]
        checked += 1
    assert checked >= 10


def test_tls_observations_is_usable_by_other_dissectors() -> None:
    assert tls_observations(b"", ctx()) == []
    assert len(tls_observations(SPEC_CLIENT_HELLO, ctx())) == 1
