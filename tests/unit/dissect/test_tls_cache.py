"""The TLS dissector's memory of certificates (``parse_certificate`` by DER bytes).

A server presents the same certificate on every connection, so what a DER certificate states
is remembered; where it was seen and its place in the chain are the caller's. What is
remembered must equal a fresh parse, never be alterable by a caller, and stay bounded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from test_tls import EC_CERT

from medsec.dissect import tls
from medsec.dissect.tls import TlsError, parse_certificate
from medsec.model.observations.tls import TlsCertificate

from tests_support.dissect_harness import ctx


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    tls._CERTIFICATES.clear()
    yield
    tls._CERTIFICATES.clear()


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
