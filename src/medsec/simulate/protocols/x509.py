"""A minimal DER X.509 v3 certificate (ECDSA P-256) with random key and signature bytes.

Structure per RFC 5280; the signature does not verify, which a passive observer cannot
tell. Used for the server Certificate message of TLS 1.2 handshakes.
"""

from __future__ import annotations

import random

from medsec.simulate.protocols import asn1

ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
PRIME256V1 = "1.2.840.10045.3.1.7"
COMMON_NAME = "2.5.4.3"
ORGANIZATION = "2.5.4.10"
SUBJECT_ALT_NAME = "2.5.29.17"


def _name(common_name: str, organization: str) -> bytes:
    def rdn(attribute: str, value: str) -> bytes:
        return asn1.sequence(
            asn1.sequence(asn1.oid(attribute), asn1.octets(value, asn1.UTF8_STRING)),
            tag=asn1.SET,
        )

    return asn1.sequence(rdn(ORGANIZATION, organization), rdn(COMMON_NAME, common_name))


def _positive(raw: bytes) -> int:
    return int.from_bytes(raw, "big") >> 1


def certificate(
    subject: str, issuer: str, organization: str, rng: random.Random, *, year: int = 2025
) -> bytes:
    """A DER certificate for ``subject`` (CN and DNS SAN) issued by ``issuer``."""
    algorithm = asn1.sequence(asn1.oid(ECDSA_WITH_SHA256))
    validity = asn1.sequence(
        asn1.octets(f"{year % 100:02d}0301000000Z", asn1.UTC_TIME),
        asn1.octets(f"{(year + 2) % 100:02d}0301000000Z", asn1.UTC_TIME),
    )
    point = b"\x04" + rng.randbytes(64)
    spki = asn1.sequence(
        asn1.sequence(asn1.oid(EC_PUBLIC_KEY), asn1.oid(PRIME256V1)),
        asn1.tlv(asn1.BIT_STRING, b"\x00" + point),
    )
    san = asn1.sequence(asn1.tlv(0x82, subject.encode()))
    extensions = asn1.tlv(
        0xA3,
        asn1.sequence(asn1.sequence(asn1.oid(SUBJECT_ALT_NAME), asn1.octets(san))),
    )
    tbs = asn1.sequence(
        asn1.tlv(0xA0, asn1.integer(2)),
        asn1.integer(_positive(rng.randbytes(16))),
        algorithm,
        _name(issuer, organization),
        validity,
        _name(subject, organization),
        spki,
        extensions,
    )
    signature = asn1.sequence(
        asn1.integer(_positive(rng.randbytes(32))), asn1.integer(_positive(rng.randbytes(32)))
    )
    return asn1.sequence(tbs, algorithm, asn1.tlv(asn1.BIT_STRING, b"\x00" + signature))
