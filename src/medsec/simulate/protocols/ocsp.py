"""OCSP (RFC 6960) request and "good" response, DER encoded, with random hashes and
signature (no real certificate is checked)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from medsec.simulate.protocols import asn1

SHA1 = "1.3.14.3.2.26"
SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1"
GENERALIZED_TIME = 0x18
ENUMERATED = 0x0A


def _cert_id(issuer_name_hash: bytes, issuer_key_hash: bytes, serial: int) -> bytes:
    return asn1.sequence(
        asn1.sequence(asn1.oid(SHA1), asn1.null()),
        asn1.octets(issuer_name_hash),
        asn1.octets(issuer_key_hash),
        asn1.integer(serial),
    )


def _time(micros: int) -> bytes:
    when = datetime.fromtimestamp(micros // 1_000_000, tz=UTC)
    return asn1.octets(when.strftime("%Y%m%d%H%M%SZ"), GENERALIZED_TIME)


class CertificateQuery:
    """One certificate's identity, shared by the request and its response."""

    def __init__(self, rng: random.Random) -> None:
        self.name_hash = rng.randbytes(20)
        self.key_hash = rng.randbytes(20)
        self.serial = int.from_bytes(rng.randbytes(16), "big") >> 1

    def request(self) -> bytes:
        cert_id = _cert_id(self.name_hash, self.key_hash, self.serial)
        return asn1.sequence(asn1.sequence(asn1.sequence(asn1.sequence(cert_id))))

    def response(self, now: int, rng: random.Random) -> bytes:
        """A successful basic response saying the certificate is good."""
        single = asn1.sequence(
            _cert_id(self.name_hash, self.key_hash, self.serial),
            b"\x80\x00",
            _time(now - 3_600_000_000),
            asn1.tlv(0xA0, _time(now + 6 * 86_400_000_000)),
        )
        data = asn1.sequence(
            asn1.tlv(0xA2, asn1.octets(self.key_hash)),
            _time(now - 3_600_000_000),
            asn1.sequence(single),
        )
        basic = asn1.sequence(
            data,
            asn1.sequence(asn1.oid(SHA256_WITH_RSA), asn1.null()),
            asn1.tlv(asn1.BIT_STRING, b"\x00" + rng.randbytes(256)),
        )
        return asn1.sequence(
            asn1.tlv(ENUMERATED, b"\x00"),
            asn1.tlv(0xA0, asn1.sequence(asn1.oid(OCSP_BASIC), asn1.octets(basic))),
        )
