"""The TLS dissector's memory of certificates (``parse_certificate`` by DER bytes) and of
ClientHellos (by their bytes but the random and the session id).

A server presents the same certificate on every connection and a device's TLS stack repeats
its hello, so what they state is remembered; where they were seen (and a certificate's place
in the chain, a hello's record version) are the caller's. What is remembered must equal a
fresh parse, never be alterable by a caller, and stay bounded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from test_tls import EC_CERT, SPEC_HELLO_BODY, ext, handshake, record, u16, vec

from medsec.dissect import tls
from medsec.dissect.tls import TlsError, parse_certificate, tls_observations
from medsec.model.observations import PacketContext
from medsec.model.observations.tls import TlsCertificate, TlsClientHello
from medsec.simulate.protocols import asn1

from tests_support.dissect_harness import ctx


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    tls._CERTIFICATES.clear()
    tls._CLIENT_HELLOS.clear()
    yield
    tls._CERTIFICATES.clear()
    tls._CLIENT_HELLOS.clear()


def _variant(n: int) -> bytes:
    """EC_CERT with another signature (its last two bytes): a distinct certificate that
    parses to the same fields but its hashes."""
    return EC_CERT[:-2] + n.to_bytes(2, "big")


def _facts(cert: TlsCertificate) -> dict[str, object]:
    facts = dataclasses.asdict(cert)
    del facts["ctx"], facts["chain_index"]
    return facts


def test_same_certificate_twice_gives_equal_facts_in_their_own_context() -> None:
    first = parse_certificate(EC_CERT, 0, ctx(flow_id=1))
    assert len(tls._CERTIFICATES) == 1
    again = parse_certificate(bytes(EC_CERT), 2, ctx(flow_id=7, src_port=443))
    assert again.ctx == ctx(flow_id=7, src_port=443) and again.chain_index == 2
    assert first.ctx == ctx(flow_id=1) and first.chain_index == 0
    assert _facts(again) == _facts(first)
    tls._CERTIFICATES.clear()
    assert parse_certificate(EC_CERT, 2, ctx(flow_id=7, src_port=443)) == again


def test_remembered_facts_cannot_be_altered_by_a_caller() -> None:
    cert = parse_certificate(EC_CERT, 0, ctx())
    with pytest.raises(dataclasses.FrozenInstanceError):
        cert.subject = "CN=attacker"  # type: ignore[misc]
    assert isinstance(cert.subject_alt_names, tuple)
    name = tls._NAMES[next(iter(tls._NAMES))]
    with pytest.raises(TypeError):
        name.first["CN"] = "attacker"  # type: ignore[index]
    assert parse_certificate(EC_CERT, 0, ctx()) == cert


def test_distinct_certificates_are_told_apart() -> None:
    a = parse_certificate(_variant(1), 0, ctx())
    b = parse_certificate(_variant(2), 0, ctx())
    assert a.sha256 != b.sha256 and a.subject == b.subject
    assert parse_certificate(_variant(1), 0, ctx()) == a


def test_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls, "_MAX_CACHED_CERTIFICATES", 8)
    hashes = set()
    for n in range(50):
        hashes.add(parse_certificate(_variant(n), 0, ctx()).sha256)
        assert len(tls._CERTIFICATES) <= 8
    assert len(hashes) == 50


def test_default_bound() -> None:
    for n in range(tls._MAX_CACHED_CERTIFICATES + 10):
        parse_certificate(_variant(n), 0, ctx())
    assert 0 < len(tls._CERTIFICATES) <= tls._MAX_CACHED_CERTIFICATES


def test_broken_certificates_are_not_remembered() -> None:
    for _ in range(2):
        with pytest.raises(TlsError):
            parse_certificate(EC_CERT[:-1], 0, ctx())
    assert not tls._CERTIFICATES


def test_a_view_is_remembered_as_bytes() -> None:
    """A memoryview key would pin the buffer it views (a whole capture batch)."""
    buffer = bytearray(b"\x00" * 5 + EC_CERT)
    cert = parse_certificate(memoryview(buffer)[5:], 0, ctx())  # type: ignore[arg-type]
    assert all(type(key) is bytes for key in tls._CERTIFICATES)
    buffer[-1] ^= 0xFF  # the caller reuses its buffer: what was remembered stays right
    assert parse_certificate(EC_CERT, 0, ctx()) == cert


# --- ClientHellos ---------------------------------------------------------------------------


def _hello_body(random: bytes = bytes(32), session: bytes = bytes(32), sni: bytes = b"") -> bytes:
    """SPEC_HELLO_BODY with another random and session id, and a server_name appended."""
    rest = SPEC_HELLO_BODY[2 + 32 + 1 + 32 :]
    body = u16(0x0303) + random + vec(session, 1) + rest
    if not sni:
        return body
    ciphers_end = 2 + 32 + 1 + len(session) + 2 + 2 * 16 + 2
    extensions = body[ciphers_end + 2 :] + ext(0x0000, vec(b"\x00" + vec(sni, 2), 2))
    return body[:ciphers_end] + vec(extensions, 2)


def _hello(
    body: bytes, version: int = 0x0301, context: PacketContext | None = None
) -> TlsClientHello:
    found = tls_observations(record(22, handshake(1, body), version), context or ctx())
    assert len(found) == 1 and isinstance(found[0], TlsClientHello)
    return found[0]


def test_a_hello_repeated_with_a_new_random_and_session_gives_equal_facts() -> None:
    first = _hello(_hello_body())
    again = _hello(_hello_body(b"\x01" * 32, b"\x02" * 8), 0x0303, ctx(flow_id=9))
    assert len(tls._CLIENT_HELLOS) == 1
    assert again.record_version == 0x0303 and again.ctx == ctx(flow_id=9)
    assert first.record_version == 0x0301 and first.ctx == ctx()
    facts = dataclasses.asdict(again)
    del facts["ctx"], facts["record_version"]
    expected = dataclasses.asdict(first)
    del expected["ctx"], expected["record_version"]
    assert facts == expected
    tls._CLIENT_HELLOS.clear()
    assert _hello(_hello_body(b"\x01" * 32, b"\x02" * 8), 0x0303, ctx(flow_id=9)) == again


def test_hellos_differing_after_the_session_id_or_in_version_are_told_apart() -> None:
    plain = _hello(_hello_body())
    named = _hello(_hello_body(sni=b"other.example.org"))
    assert named.server_name == "other.example.org" != plain.server_name
    older = _hello(u16(0x0301) + _hello_body()[2:])
    assert older.legacy_version == 0x0301 and plain.legacy_version == 0x0303
    assert older.ja3 != plain.ja3
    assert len(tls._CLIENT_HELLOS) == 3


def test_hello_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls, "_MAX_CACHED_HELLOS", 4)
    names = set()
    for n in range(20):
        names.add(_hello(_hello_body(sni=f"h{n}.example.org".encode())).server_name)
        assert len(tls._CLIENT_HELLOS) <= 4
    assert len(names) == 20


def test_broken_hellos_are_not_remembered() -> None:
    body = _hello_body()
    cut = body[:-3]  # the extensions vector runs past the message
    message = handshake(1, cut)
    for _ in range(2):
        with pytest.raises(TlsError):
            tls_observations(record(22, message), ctx())
    assert not tls._CLIENT_HELLOS


def _dn(common_name: str) -> bytes:
    """A distinguished name of one CN attribute (UTF8String)."""
    cn = asn1.sequence(asn1.oid("2.5.4.3"), asn1.octets(common_name, asn1.UTF8_STRING))
    return asn1.sequence(asn1.sequence(cn, tag=asn1.SET))


def test_names_are_remembered_only_up_to_a_size() -> None:
    tls._NAMES.clear()
    short, long = _dn("device.example"), _dn("x" * 2000)
    for der in (short, long):
        name = tls._name(der, tls._der_at(der, 0, len(der)))
        assert name.first["CN"] in ("device.example", "x" * 2000)
        again = tls._name(der, tls._der_at(der, 0, len(der)))
        assert again == name
    assert list(tls._NAMES) == [short[2:]]  # the long name is parsed every time, not kept
    tls._NAMES.clear()
