"""TLS handshake facts: what a client offers, what a server picks, the certificates sent in clear.

GREASE values (RFC 8701) are left out of every list here; ``grease`` says whether the peer
sent any. Lists keep the order seen on the wire.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class TlsClientHello(Observation):
    """A ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) and its JA3/JA4 fingerprints."""

    PROTOCOL: ClassVar[str] = "tls"
    record_version: int
    """Version in the record header carrying the hello (0x0301 for most clients)."""
    legacy_version: int
    """``legacy_version`` (``client_version``) of the hello: 0x0303 for TLS 1.2 and 1.3."""
    supported_versions: tuple[int, ...]
    """Versions offered in the ``supported_versions`` extension (43); empty when absent."""
    server_name: str | None
    """The host name of the ``server_name`` extension (SNI), when sent."""
    alpn: tuple[str, ...]
    """Protocols offered in the ALPN extension (16), e.g. ``("h2", "http/1.1")``."""
    cipher_suites: tuple[int, ...]
    """Offered cipher suites, including signalling values such as 0x00FF."""
    compression_methods: tuple[int, ...]
    """Offered compression methods (0 = null)."""
    extensions: tuple[int, ...]
    """Extension types in the order sent."""
    supported_groups: tuple[int, ...]
    """Named groups of the ``supported_groups`` (elliptic_curves) extension (10)."""
    ec_point_formats: tuple[int, ...]
    """Formats of the ``ec_point_formats`` extension (11)."""
    signature_algorithms: tuple[int, ...]
    """Schemes of the ``signature_algorithms`` extension (13), in order."""
    grease: bool
    """Whether GREASE values were present (left out of the lists above)."""
    ja3: str
    """The JA3 string: ``version,ciphers,extensions,groups,point_formats`` in decimal."""
    ja3_md5: str
    """MD5 of ``ja3``, lower-case hex."""
    ja4: str
    """The JA4 fingerprint (FoxIO), e.g. ``t13d1516h2_8daaf6152771_e5627efa2ab1``."""
    ja4_r: str
    """JA4 raw form: sorted cipher and extension lists in hex instead of their hashes."""


@observation
class TlsServerHello(Observation):
    """A ServerHello (or HelloRetryRequest) and its JA3S fingerprint."""

    PROTOCOL: ClassVar[str] = "tls"
    legacy_version: int
    """``legacy_version`` (``server_version``) of the hello."""
    selected_version: int
    """The negotiated version: ``supported_versions`` (43) when sent, else legacy_version."""
    cipher_suite: int
    """The cipher suite the server selected."""
    compression_method: int
    """The compression method the server selected (0 = null)."""
    extensions: tuple[int, ...]
    """Extension types in the order sent."""
    alpn: str | None
    """The protocol the server selected through ALPN, when any."""
    hello_retry_request: bool
    """The message is a HelloRetryRequest (its random is the RFC 8446 §4.1.3 constant)."""
    ja3s: str
    """The JA3S string: ``version,cipher,extensions`` in decimal."""
    ja3s_md5: str
    """MD5 of ``ja3s``, lower-case hex."""


@observation
class TlsCertificate(Observation):
    """An X.509 certificate sent in clear in a TLS (<= 1.2) Certificate message."""

    PROTOCOL: ClassVar[str] = "tls"
    chain_index: int
    """Position in the message's certificate list: 0 is the peer's own certificate."""
    subject: str
    """Subject distinguished name, RFC 4514 style (``CN=host,O=Org,C=US``), most specific first."""
    subject_cn: str | None
    """Subject commonName."""
    subject_o: str | None
    """Subject organizationName."""
    subject_ou: str | None
    """Subject organizationalUnitName."""
    issuer: str
    """Issuer distinguished name, RFC 4514 style."""
    issuer_cn: str | None
    """Issuer commonName."""
    issuer_o: str | None
    """Issuer organizationName."""
    serial: str
    """Serial number, lower-case hex without leading zeros."""
    not_before: datetime
    """Start of validity (UTC, timezone-aware)."""
    not_after: datetime
    """End of validity (UTC, timezone-aware)."""
    self_signed: bool
    """Subject and issuer names are identical."""
    signature_algorithm: str
    """Signature algorithm name (``sha256WithRSAEncryption``) or dotted OID when unknown."""
    public_key_algorithm: str
    """Key algorithm (``rsaEncryption``, ``id-ecPublicKey``, ``Ed25519``) or dotted OID."""
    public_key_bits: int | None
    """RSA modulus / DSA prime length in bits, or the EC curve size; None when unknown."""
    public_key_curve: str | None
    """Named curve of an EC key (``secp256r1``) or its dotted OID."""
    subject_alt_names: tuple[str, ...]
    """SAN entries as ``DNS:name``, ``IP:addr``, ``email:x``, ``URI:x``."""
    is_ca: bool
    """basicConstraints says cA=TRUE."""
    sha1: str
    """SHA-1 of the DER certificate, lower-case hex (what most tools show)."""
    sha256: str
    """SHA-256 of the DER certificate, lower-case hex."""


@observation
class SslV2ClientHello(Observation):
    """An SSL 2.0 CLIENT-HELLO (also sent by old TLS clients for compatibility)."""

    PROTOCOL: ClassVar[str] = "tls"
    version: int
    """Highest version the client supports: 0x0002 (SSL 2.0), 0x0300, 0x0301, ..."""
    cipher_specs: tuple[int, ...]
    """Offered 24-bit cipher kinds (SSL 2.0 kinds and TLS suites as 0x00XXXX)."""


@observation
class SslV2ServerHello(Observation):
    """An SSL 2.0 SERVER-HELLO: the server speaks SSL 2.0."""

    PROTOCOL: ClassVar[str] = "tls"
    version: int
    """Server version (0x0002)."""
    cipher_specs: tuple[int, ...]
    """Cipher kinds the server accepts."""
    certificate_sent: bool
    """A certificate accompanied the hello (parsed separately as ``TlsCertificate``)."""
