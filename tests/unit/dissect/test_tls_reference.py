"""The TLS dissector against its reference: the parser before it was optimised.

``tests_support/tls_reference.py`` keeps the straightforward parser of medsec 4ad1c95. The
optimised one must state exactly the same facts (ClientHello fields, JA3, JA4, ServerHello,
JA3S, certificates) and raise exactly the same errors, on

* every TCP stream head of every shared capture (``../shared/data/pcap``), whole and cut;
* every TLS head of a simulated hospital, as the capture engine hands them over;
* every certificate found in those, whole, cut and mutated;
* mutated and cut handshakes (hypothesis).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dpkt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_tls import EC_CERT, SPEC_CLIENT_HELLO, _ethernet_copy

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect import tls as fast
from medsec.dissect.pipeline import DissectPipeline
from medsec.model.errors import DissectError
from medsec.model.observations import PacketContext
from medsec.model.observations.tls import TlsCertificate
from medsec.simulate import generate

from tests_support import shared_pcaps
from tests_support import tls_reference as reference
from tests_support.dissect_harness import PROPERTY, ctx, mutated, payloads

Outcome = tuple[str, Any]


def outcome(parse: Callable[..., Any], *args: Any) -> Outcome:
    """What a parse gave: its result, or the kind and text of its ``DissectError``."""
    try:
        return "ok", parse(*args)
    except DissectError as exc:
        return type(exc).__name__, str(exc)


def assert_same_head(data: bytes, context: PacketContext) -> None:
    expected = outcome(reference.tls_observations, data, context)
    assert outcome(fast.tls_observations, data, context) == expected, data[:64].hex()


def assert_same_certificate(der: bytes, index: int = 0) -> None:
    context = ctx()
    expected = outcome(reference.parse_certificate, der, index, context)
    assert outcome(fast.parse_certificate, der, index, context) == expected, der[:64].hex()


def cuts(data: bytes) -> Iterator[bytes]:
    """``data`` cut at every record and handshake boundary (and one byte either side), and
    at a few dozen evenly spread places."""
    places = set(range(0, len(data), max(1, len(data) // 40)))
    pos = 0
    while pos + 5 <= len(data):
        for at in (pos + 1, pos + 5, pos + 6, pos + 9, pos + 10):
            places.update((at - 1, at, at + 1))
        pos += 5 + int.from_bytes(data[pos + 3 : pos + 5], "big")
    for at in sorted(places):
        if 0 <= at < len(data):
            yield data[:at]


def tls_heads(path: Path, scratch: Path) -> list[tuple[bytes, PacketContext]]:
    """Every TCP stream head of a capture (pcapng and other link types rewritten as
    Ethernet pcap first); none when dpkt cannot read the file."""
    try:
        copy = _ethernet_copy(path, scratch / "copy.pcap")
        return [(p.data, p.ctx) for p in payloads(copy) if p.ctx.transport == "tcp"]
    except (ValueError, dpkt.dpkt.Error, AttributeError, IndexError):
        return []


def der_certificates(data: bytes) -> list[bytes]:
    """The DER certificates of the Certificate messages in a TLS head (best effort)."""
    found: list[bytes] = []
    handshake = bytearray()
    pos = 0
    while pos + 5 <= len(data) and data[pos] in (20, 21, 22, 23, 24):
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if data[pos] == 22:
            handshake += data[pos + 5 : pos + 5 + length]
        pos += 5 + length
    pos = 0
    while pos + 4 <= len(handshake):
        length = int.from_bytes(handshake[pos + 1 : pos + 4], "big")
        if handshake[pos] == 11:
            body = bytes(handshake[pos + 4 : pos + 4 + length])
            at = 3
            while at + 3 <= len(body):
                n = int.from_bytes(body[at : at + 3], "big")
                found.append(body[at + 3 : at + 3 + n])
                at += 3 + n
        pos += 4 + length
    return found


SHARED = shared_pcaps.names()


@pytest.mark.parametrize("name", SHARED)
def test_shared_capture_heads(shared_data: Path, name: str, tmp_path: Path) -> None:
    for data, context in tls_heads(shared_pcaps.path(shared_data, name), tmp_path):
        assert_same_head(data, context)
        if fast.TlsDissector().signature(data) or data[:1] == b"\x16":
            for cut in cuts(data):
                assert_same_head(cut, context)
            for der in der_certificates(data):
                assert_same_certificate(der, 1)
                for at in range(0, len(der), max(1, len(der) // 50)):
                    assert_same_certificate(der[:at])


def test_shared_captures_hold_tls(shared_data: Path, tmp_path: Path) -> None:
    """The comparison above saw handshakes and certificates, not only other protocols."""
    kinds: set[str] = set()
    for name in (
        "zeek/tls_tls1.2.pcap",
        "zeek/tls_ssl-v2.pcap",
        "zeek/tls_tls13_wolfssl.pcap",
        "ndpi/tls_malicious_sha1.pcapng",
    ):
        for data, context in tls_heads(shared_pcaps.path(shared_data, name), tmp_path):
            kinds.update(type(o).__name__ for o in fast.tls_observations(data, context))
    assert {"TlsClientHello", "TlsServerHello", "TlsCertificate", "SslV2ClientHello"} <= kinds


@pytest.fixture(scope="module")
def simulated_heads(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[bytes, Any]]:
    """Every payload the pipeline gives the TLS dissector in a simulated hospital."""
    pcap = generate(tmp_path_factory.mktemp("sim") / "h.pcap", devices=60, minutes=3, seed=7)
    pipeline = DissectPipeline(default_dissectors())
    heads: list[tuple[bytes, Any]] = []
    run = pipeline._run

    def recording(dissector: Any, payload: bytes, context: Any, fid: int) -> None:
        if dissector.name == "tls":
            heads.append((bytes(payload), context))
        run(dissector, payload, context, fid)

    pipeline._run = recording  # type: ignore[method-assign]
    read_capture(pcap.pcap, sink=pipeline)
    return heads


def test_simulated_hospital_heads(simulated_heads: list[tuple[bytes, Any]]) -> None:
    seen: set[str] = set()
    for data, context in simulated_heads:
        assert_same_head(data, context)
        seen.update(type(o).__name__ for o in fast.tls_observations(data, context))
        for der in der_certificates(data):
            assert_same_certificate(der)
    assert {"TlsClientHello", "TlsServerHello", "TlsCertificate"} <= seen


def test_simulated_hospital_heads_cut(simulated_heads: list[tuple[bytes, Any]]) -> None:
    for data, context in simulated_heads[:40]:
        for cut in cuts(data):
            assert_same_head(cut, context)


def _vec3(body: bytes) -> bytes:
    return len(body).to_bytes(3, "big") + body


def _record(msg_type: int, body: bytes) -> bytes:
    message = bytes([msg_type]) + _vec3(body)
    return b"\x16\x03\x03" + len(message).to_bytes(2, "big") + message


# the JA4.md example hello (GREASE included) and a Certificate message of two certificates
SEEDS = (SPEC_CLIENT_HELLO, _record(11, _vec3(_vec3(EC_CERT) + _vec3(EC_CERT))))
FRAMING = (0x00, 0x01, 0x02, 0x03, 0x04, 0x0A, 0x0B, 0x16, 0x30, 0x80, 0x81, 0x82, 0xFF)


@PROPERTY
@given(data=st.data())
def test_mutated_handshakes(data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(SEEDS))
    assert_same_head(data.draw(mutated(seed, FRAMING)), ctx(dst_port=443))


@PROPERTY
@given(data=st.data())
def test_mutated_certificates(data: st.DataObject) -> None:
    assert_same_certificate(data.draw(mutated(EC_CERT, FRAMING)))


@PROPERTY
@given(body=st.binary(max_size=600), version=st.sampled_from([0x0301, 0x0303]))
def test_arbitrary_hello_bodies(body: bytes, version: int) -> None:
    for msg_type in (1, 2, 11):
        message = bytes([msg_type]) + len(body).to_bytes(3, "big") + body
        head = bytes([22]) + version.to_bytes(2, "big") + len(message).to_bytes(2, "big")
        assert_same_head(head + message, ctx(dst_port=443))


def test_certificate_type_is_the_models() -> None:
    assert fast.TlsCertificate is TlsCertificate is reference.TlsCertificate
