"""TLS (and SSL 2.0) handshakes: ClientHello, ServerHello and certificates sent in clear.

The stream head of one direction is walked record by record (RFC 8446 §5.1, RFC 5246 §6.2);
handshake records are concatenated so a message may span records, and a record may span TCP
segments (the engine hands reassembled bytes). The walk stops at ChangeCipherSpec or
application data (what follows is encrypted) and quietly at a truncated tail.

Certificates (TLS <= 1.2 sends them in clear) are read with a small bounded DER reader:
names, validity, serial, algorithms, key size, SANs, basicConstraints. A certificate that
cannot be read is skipped; the rest of the handshake still yields its facts.

Other dissectors whose protocols upgrade to TLS in the same stream (RDP, STARTTLS) call
``tls_observations`` on the bytes where TLS starts.
"""

from __future__ import annotations

import hashlib
import logging
import struct
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import ClassVar, NamedTuple, TypedDict, TypeVar

from medsec.dissect.tls_fingerprints import ja3, ja3s, ja4
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.tls import (
    SslV2ClientHello,
    SslV2ServerHello,
    TlsCertificate,
    TlsClientHello,
    TlsServerHello,
)

logger = logging.getLogger(__name__)
_K = TypeVar("_K")
_V = TypeVar("_V")


class TlsError(DissectError):
    """Bytes that start like TLS but break its framing or a handshake message."""


_CT_CHANGE_CIPHER_SPEC = 20
_CT_ALERT = 21
_CT_HANDSHAKE = 22
_CT_APPLICATION_DATA = 23
_CT_HEARTBEAT = 24
_CONTENT_TYPES = frozenset(
    {_CT_CHANGE_CIPHER_SPEC, _CT_ALERT, _CT_HANDSHAKE, _CT_APPLICATION_DATA, _CT_HEARTBEAT}
)
_MAX_RECORD = 16384 + 2048  # TLSCiphertext limit (RFC 5246 §6.2.3)
_MAX_RECORDS = 256
_MAX_MESSAGES = 64
_MAX_CERTIFICATES = 16

_HS_CLIENT_HELLO = 1
_HS_SERVER_HELLO = 2
_HS_CERTIFICATE = 11

_EXT_SERVER_NAME = 0
_EXT_SUPPORTED_GROUPS = 10
_EXT_EC_POINT_FORMATS = 11
_EXT_SIGNATURE_ALGORITHMS = 13
_EXT_ALPN = 16
_EXT_SUPPORTED_VERSIONS = 43

_HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
_MAX_REMEMBERED = 4096
"""Entries per table of values derived from repeated bytes (fingerprints, OIDs, names)."""
_MAX_REMEMBERED_NAME = 1024
"""Bytes of the longest distinguished name remembered (real ones take a few hundred): the
names table stays small whatever a hostile certificate holds."""


def _remember(table: dict[_K, _V], key: _K, value: _V) -> _V:
    """Keep ``value`` under ``key`` (the table starts afresh when full); return it."""
    if len(table) >= _MAX_REMEMBERED:
        table.clear()
    table[key] = value
    return value


class TlsDissector:
    """TLS/SSL handshakes on any TCP port where a record starts the stream."""

    name: ClassVar[str] = "tls"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset(
        {
            443,  # https
            465,  # smtps
            636,  # ldaps
            853,  # dns over tls
            990,  # ftps
            992,  # telnets
            993,  # imaps
            995,  # pop3s
            2762,  # dicom-tls
            3269,  # global catalog over TLS
            4843,  # opc ua over https
            5061,  # sip-tls
            5671,  # amqps
            5986,  # winrm https
            6514,  # syslog-tls
            8443,  # https-alt
            8883,  # secure mqtt
            9443,  # https-alt
        }
    )
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 16384
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """A handshake record holding a ClientHello/ServerHello, or an SSL 2.0 hello."""
        if len(head) >= 6 and head[0] == _CT_HANDSHAKE and head[1] == 3 and head[2] <= 4:
            return head[5] in (_HS_CLIENT_HELLO, _HS_SERVER_HELLO)
        return _sslv2_header(head) is not None

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        yield from tls_observations(payload, ctx)


def tls_observations(data: bytes, ctx: PacketContext) -> list[Observation]:
    """Facts of a TLS stream head; ``TlsError`` when it is broken before any fact.

    Bytes that do not start with a TLS record or an SSL 2.0 hello give no facts (another
    protocol on a TLS port is not malformed TLS).
    """
    out: list[Observation] = []
    try:
        _walk(data, ctx, out)
    except DissectError:
        if not out:
            raise
        logger.debug("tls flow %d: malformed after %d observations", ctx.flow_id, len(out))
    return out


def _walk(data: bytes, ctx: PacketContext, out: list[Observation]) -> None:
    pos = 0
    v2 = _sslv2_header(data)
    if v2 is not None:
        header, length = v2
        end = header + length
        if end > len(data):
            return  # truncated SSL 2.0 message
        _sslv2_message(data[header:end], ctx, out)
        pos = end  # SSL 3/TLS records may follow a compatibility hello
    handshake = bytearray()
    record_version: int | None = None
    records = 0
    size = len(data)
    while pos + 5 <= size and records < _MAX_RECORDS:
        records += 1
        ctype, minor = data[pos], data[pos + 2]
        length = (data[pos + 3] << 8) | data[pos + 4]
        if ctype not in _CONTENT_TYPES or data[pos + 1] != 3 or minor > 4 or length > _MAX_RECORD:
            if pos == 0:
                return  # not TLS at all (another protocol on a TLS port): no fact, no error
            raise TlsError(f"bad TLS record header at offset {pos}")
        stop = pos + 5 + length
        if ctype == _CT_HANDSHAKE:
            if record_version is None:
                record_version = 0x0300 | minor
            handshake += data[pos + 5 : stop]
        elif ctype == _CT_CHANGE_CIPHER_SPEC or ctype == _CT_APPLICATION_DATA:
            break  # what follows is encrypted
        if stop > size:
            break  # truncated tail
        pos = stop
    if handshake:
        _handshake_messages(bytes(handshake), record_version or 0, ctx, out)


def _handshake_messages(
    data: bytes, record_version: int, ctx: PacketContext, out: list[Observation]
) -> None:
    pos = 0
    size = len(data)
    for _ in range(_MAX_MESSAGES):
        if pos + 4 > size:
            return
        msg_type = data[pos]
        end = pos + 4 + ((data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3])
        if end > size:
            return  # message continues beyond the stream head
        body = data[pos + 4 : end]
        if msg_type == _HS_CLIENT_HELLO:
            out.append(_client_hello(body, record_version, ctx))
        elif msg_type == _HS_SERVER_HELLO:
            server_hello = _server_hello(body, ctx)
            out.append(server_hello)
            if server_hello.selected_version >= 0x0304 and server_hello.selected_version < 0x0400:
                return  # TLS 1.3: the rest of the handshake is encrypted
        elif msg_type == _HS_CERTIFICATE:
            _certificates(body, ctx, out)
        pos = end


class _Reader:
    """Bounded big-endian reads over a bytes object; running out raises ``TlsError``."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def remaining(self) -> int:
        return self.end - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise TlsError("field runs past its container")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u24(self) -> int:
        return int.from_bytes(self.take(3), "big")

    def vector(self, length_bytes: int) -> _Reader:
        n = int.from_bytes(self.take(length_bytes), "big")
        start = self.pos
        self.take(n)
        return _Reader(self.data, start, start + n)


# The hellos are read with plain offsets into the message (no reader object per field):
# every length is checked against its container before use, in the order the fields come,
# so a broken hello raises the same error at the same field as a field-by-field reader.
_PAST = "field runs past its container"
_ODD = "odd-length list of 16-bit values"
_GREASE = frozenset(range(0x0A0A, 0x10000, 0x1010))
"""RFC 8701 GREASE values: 0x0A0A, 0x1A1A, ... 0xFAFA (``is_grease``)."""
_FINGERPRINTS: dict[tuple[object, ...], tuple[str, str, str, str]] = {}
"""JA3 and JA4 by the parts of a hello they are made of: clients repeat their offer on
every connection, so most hellos reuse the strings and hashes of an earlier one."""
_SERVER_FINGERPRINTS: dict[tuple[int, int, tuple[int, ...]], tuple[str, str]] = {}
"""JA3S by the parts of a ServerHello it is made of (a server answers alike every time)."""


def _vector(data: bytes, pos: int, end: int, length_bytes: int) -> tuple[int, int]:
    """[start, stop) of the vector at ``pos`` whose length prefix has ``length_bytes``."""
    start = pos + length_bytes
    if start > end:
        raise TlsError(_PAST)
    if length_bytes == 1:
        stop = start + data[pos]
    elif length_bytes == 2:
        stop = start + ((data[pos] << 8) | data[pos + 1])
    else:
        stop = start + int.from_bytes(data[pos:start], "big")
    if stop > end:
        raise TlsError(_PAST)
    return start, stop


def _u16s(data: bytes, pos: int, end: int, length_bytes: int) -> tuple[int, ...]:
    """The 16-bit values of the vector at ``pos``."""
    start, stop = _vector(data, pos, end, length_bytes)
    if (stop - start) % 2:
        raise TlsError(_ODD)
    return struct.unpack_from(f">{(stop - start) // 2}H", data, start)


class _ClientHelloFields(TypedDict):
    """The fields of a ``TlsClientHello`` read from the hello itself (all immutable)."""

    legacy_version: int
    supported_versions: tuple[int, ...]
    server_name: str | None
    alpn: tuple[str, ...]
    cipher_suites: tuple[int, ...]
    compression_methods: tuple[int, ...]
    extensions: tuple[int, ...]
    supported_groups: tuple[int, ...]
    ec_point_formats: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    grease: bool
    ja3: str
    ja3_md5: str
    ja4: str
    ja4_r: str


_MAX_CACHED_HELLOS = 256
"""ClientHellos remembered (each keyed by up to a stream head's bytes)."""
_CLIENT_HELLOS: dict[bytes, _ClientHelloFields] = {}
"""What a ClientHello states, by its bytes but the random and the session id: a device's
TLS stack sends the rest byte for byte alike on every connection to a server (unless it
offers a fresh key share). The dicts never leave ``_client_hello``."""


def _client_hello(body: bytes, record_version: int, ctx: PacketContext) -> TlsClientHello:
    end = len(body)
    if end < 35:  # legacy_version, random, legacy_session_id's length
        raise TlsError(_PAST)
    _, pos = _vector(body, 34, end, 1)  # legacy_session_id
    key = body[:2] + body[pos:]  # all the fields below are read from these bytes only
    fields = _CLIENT_HELLOS.get(key)
    if fields is None:
        fields = _client_hello_fields(body, pos)
        if len(_CLIENT_HELLOS) >= _MAX_CACHED_HELLOS:
            _CLIENT_HELLOS.clear()
        _CLIENT_HELLOS[key] = fields
    return TlsClientHello(ctx=ctx, record_version=record_version, **fields)


def _client_hello_fields(body: bytes, pos: int) -> _ClientHelloFields:
    """The hello's fields from ``pos``, just after its session id."""
    end = len(body)
    legacy_version = (body[0] << 8) | body[1]
    raw_ciphers = _u16s(body, pos, end, 2)
    pos += 2 + 2 * len(raw_ciphers)
    start, pos = _vector(body, pos, end, 1)
    compression = tuple(body[start:pos])
    grease = not _GREASE.isdisjoint(raw_ciphers)
    ciphers = tuple(c for c in raw_ciphers if c not in _GREASE) if grease else raw_ciphers
    extensions: list[int] = []
    server_name: str | None = None
    alpn: list[bytes] = []
    versions: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()
    point_formats: tuple[int, ...] = ()
    sig_algs: tuple[int, ...] = ()
    if end - pos >= 2:
        pos, exts_end = _vector(body, pos, end, 2)
        while pos < exts_end:
            # type and length (the type's 2 bytes, then a 2-byte vector), read in place
            start = pos + 4
            if start > exts_end:
                raise TlsError(_PAST)
            ext_type = (body[pos] << 8) | body[pos + 1]
            pos = start + ((body[pos + 2] << 8) | body[pos + 3])
            if pos > exts_end:
                raise TlsError(_PAST)
            if ext_type in _GREASE:
                grease = True
                continue
            extensions.append(ext_type)
            if start == pos:
                continue
            if ext_type == _EXT_SERVER_NAME:
                server_name = _server_name(body, start, pos)
            elif ext_type == _EXT_ALPN:
                alpn = _alpn_list(body, start, pos)
            elif ext_type == _EXT_SUPPORTED_VERSIONS:
                versions = _u16s(body, start, pos, 1)
            elif ext_type == _EXT_SUPPORTED_GROUPS:
                groups = _u16s(body, start, pos, 2)
            elif ext_type == _EXT_EC_POINT_FORMATS:
                first, stop = _vector(body, start, pos, 1)
                point_formats = tuple(body[first:stop])
            elif ext_type == _EXT_SIGNATURE_ALGORITHMS:
                sig_algs = _u16s(body, start, pos, 2)
    if not (
        _GREASE.isdisjoint(versions) and _GREASE.isdisjoint(groups) and _GREASE.isdisjoint(sig_algs)
    ):
        grease = True
        versions = tuple(v for v in versions if v not in _GREASE)
        groups = tuple(g for g in groups if g not in _GREASE)
        sig_algs = tuple(s for s in sig_algs if s not in _GREASE)
    ext_tuple = tuple(extensions)
    first_alpn = alpn[0] if alpn else None
    key = (
        legacy_version,
        ciphers,
        ext_tuple,
        groups,
        point_formats,
        versions,
        first_alpn,
        sig_algs,
    )
    prints = _FINGERPRINTS.get(key)
    if prints is None:
        ja3_text, ja3_hash = ja3(legacy_version, ciphers, ext_tuple, groups, point_formats)
        ja4_hash, ja4_raw = ja4(
            transport="t",
            version=max(versions) if versions else legacy_version,
            has_sni=_EXT_SERVER_NAME in ext_tuple,
            ciphers=ciphers,
            extensions=ext_tuple,
            first_alpn=first_alpn,
            signature_algorithms=sig_algs,
        )
        prints = _remember(_FINGERPRINTS, key, (ja3_text, ja3_hash, ja4_hash, ja4_raw))
    return _ClientHelloFields(
        legacy_version=legacy_version,
        supported_versions=versions,
        server_name=server_name,
        alpn=tuple(_text(a) for a in alpn),
        cipher_suites=ciphers,
        compression_methods=compression,
        extensions=ext_tuple,
        supported_groups=groups,
        ec_point_formats=point_formats,
        signature_algorithms=sig_algs,
        grease=grease,
        ja3=prints[0],
        ja3_md5=prints[1],
        ja4=prints[2],
        ja4_r=prints[3],
    )


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "backslashreplace")


def _server_name(data: bytes, pos: int, end: int) -> str | None:
    pos, names_end = _vector(data, pos, end, 2)
    while pos < names_end:
        name_type = data[pos]
        start, pos = _vector(data, pos + 1, names_end, 2)
        if name_type == 0:
            return _text(data[start:pos])
    return None


def _alpn_list(data: bytes, pos: int, end: int) -> list[bytes]:
    pos, protocols_end = _vector(data, pos, end, 2)
    out: list[bytes] = []
    while pos < protocols_end:
        start, pos = _vector(data, pos, protocols_end, 1)
        out.append(data[start:pos])
    return out


def _server_hello(body: bytes, ctx: PacketContext) -> TlsServerHello:
    end = len(body)
    if end < 35:  # legacy_version, random, legacy_session_id_echo's length
        raise TlsError(_PAST)
    legacy_version = (body[0] << 8) | body[1]
    random = body[2:34]
    _, pos = _vector(body, 34, end, 1)  # legacy_session_id_echo
    if pos + 3 > end:  # cipher_suite, compression_method
        raise TlsError(_PAST)
    cipher = (body[pos] << 8) | body[pos + 1]
    compression = body[pos + 2]
    pos += 3
    extensions: list[int] = []
    selected = legacy_version
    alpn: str | None = None
    if end - pos >= 2:
        pos, exts_end = _vector(body, pos, end, 2)
        while pos < exts_end:
            if pos + 2 > exts_end:
                raise TlsError(_PAST)
            ext_type = (body[pos] << 8) | body[pos + 1]
            start, pos = _vector(body, pos + 2, exts_end, 2)
            if ext_type in _GREASE:
                continue
            extensions.append(ext_type)
            if ext_type == _EXT_SUPPORTED_VERSIONS and pos - start >= 2:
                selected = (body[start] << 8) | body[start + 1]
            elif ext_type == _EXT_ALPN and pos > start:
                chosen = _alpn_list(body, start, pos)
                alpn = _text(chosen[0]) if chosen else None
    ext_tuple = tuple(extensions)
    key = (legacy_version, cipher, ext_tuple)
    prints = _SERVER_FINGERPRINTS.get(key)
    if prints is None:
        prints = _remember(_SERVER_FINGERPRINTS, key, ja3s(legacy_version, cipher, ext_tuple))
    text, digest = prints
    return TlsServerHello(
        ctx=ctx,
        legacy_version=legacy_version,
        selected_version=selected,
        cipher_suite=cipher,
        compression_method=compression,
        extensions=ext_tuple,
        alpn=alpn,
        hello_retry_request=random == _HRR_RANDOM,
        ja3s=text,
        ja3s_md5=digest,
    )


def _certificates(body: bytes, ctx: PacketContext, out: list[Observation]) -> None:
    pos, end = _vector(body, 0, len(body), 3)
    index = 0
    while pos < end and index < _MAX_CERTIFICATES:
        start, pos = _vector(body, pos, end, 3)
        _append_certificate(body[start:pos], index, ctx, out)
        index += 1


def _append_certificate(der: bytes, index: int, ctx: PacketContext, out: list[Observation]) -> None:
    try:
        out.append(parse_certificate(der, index, ctx))
    except DissectError as exc:
        logger.debug("tls flow %d: certificate %d skipped: %s", ctx.flow_id, index, exc)


# --- SSL 2.0 -------------------------------------------------------------------------------

_SSL2_CLIENT_HELLO = 1
_SSL2_SERVER_HELLO = 4
_SSL2_VERSIONS = frozenset({0x0002, 0x0300, 0x0301, 0x0302, 0x0303})


def _sslv2_header(data: bytes) -> tuple[int, int] | None:
    """(header length, message length) of an SSL 2.0 hello record, else None.

    Only the 2-byte header form (high bit set) is used by hellos; the message type and
    version must be those of a CLIENT-HELLO or SERVER-HELLO.
    """
    if len(data) < 5 or not data[0] & 0x80:
        return None
    length = ((data[0] & 0x7F) << 8) | data[1]
    msg_type = data[2]
    if msg_type == _SSL2_CLIENT_HELLO:
        version = int.from_bytes(data[3:5], "big")
    elif msg_type == _SSL2_SERVER_HELLO and len(data) >= 7:
        version = int.from_bytes(data[5:7], "big")
    else:
        return None
    if version not in _SSL2_VERSIONS or length < 9:
        return None
    return 2, length


def _sslv2_message(msg: bytes, ctx: PacketContext, out: list[Observation]) -> None:
    r = _Reader(msg)
    msg_type = r.u8()
    if msg_type == _SSL2_CLIENT_HELLO:
        version = r.u16()
        specs_len, session_len, challenge_len = r.u16(), r.u16(), r.u16()
        if specs_len % 3:
            raise TlsError("SSL 2.0 cipher specs not a multiple of 3 bytes")
        specs = r.take(specs_len)
        r.take(session_len)
        r.take(challenge_len)
        out.append(SslV2ClientHello(ctx=ctx, version=version, cipher_specs=_specs(specs)))
        return
    r.u8()  # session_id_hit
    r.u8()  # certificate_type (1 = X.509)
    version = r.u16()
    cert_len, specs_len, conn_len = r.u16(), r.u16(), r.u16()
    cert = r.take(cert_len)
    if specs_len % 3:
        raise TlsError("SSL 2.0 cipher specs not a multiple of 3 bytes")
    specs = r.take(specs_len)
    r.take(conn_len)
    out.append(
        SslV2ServerHello(
            ctx=ctx, version=version, cipher_specs=_specs(specs), certificate_sent=bool(cert)
        )
    )
    if cert:
        _append_certificate(cert, 0, ctx, out)


def _specs(raw: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(raw[i : i + 3], "big") for i in range(0, len(raw), 3))


# --- X.509 (a bounded DER reader, RFC 5280 §4.1) -------------------------------------------

_SEQUENCE = 0x30
_SET = 0x31
_INTEGER = 0x02
_BIT_STRING = 0x03
_OCTET_STRING = 0x04
_OID = 0x06
_BOOLEAN = 0x01
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18

_ATTRIBUTE_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "2.5.4.42": "GN",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
}
_ALGORITHM_NAMES = {
    "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.2.840.10040.4.1": "dsa",
    "1.2.840.10040.4.3": "dsa-with-sha1",
    "2.16.840.1.101.3.4.3.2": "dsa-with-sha256",
    "1.2.840.10045.2.1": "id-ecPublicKey",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.110": "X25519",
    "1.3.101.111": "X448",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
    "1.3.14.3.2.29": "sha1WithRSA",
}
_CURVES = {
    "1.2.840.10045.3.1.1": ("secp192r1", 192),
    "1.3.132.0.33": ("secp224r1", 224),
    "1.2.840.10045.3.1.7": ("secp256r1", 256),
    "1.3.132.0.34": ("secp384r1", 384),
    "1.3.132.0.35": ("secp521r1", 521),
    "1.3.132.0.10": ("secp256k1", 256),
    "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", 256),
    "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", 384),
    "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", 512),
}
_KEY_BITS = {"Ed25519": 256, "X25519": 256, "Ed448": 456, "X448": 448}
_EXT_SUBJECT_ALT_NAME = "2.5.29.17"
_EXT_BASIC_CONSTRAINTS = "2.5.29.19"
_MAX_NAME_PARTS = 64
_MAX_EXTENSIONS = 64
_MAX_SANS = 256
_MAX_CACHED_CERTIFICATES = 512
"""Certificates remembered by their DER bytes (a few KiB each, so fewer than other values)."""
_OIDS: dict[bytes, str] = {}
_NAMES: dict[bytes, _Name] = {}
_TIMES: dict[tuple[int, bytes], datetime] = {}
"""Parsed OIDs, names and times by their DER content: certificates repeat their issuer (and
a device its own name) on every connection, and a few dozen OIDs make up most of them."""
_CERTIFICATES: dict[bytes, _CertificateFields] = {}
"""What a certificate states (all but where it was seen and its place in the chain), by its
DER bytes: a server presents the same certificate on every connection. The values are
immutable and the dicts never leave ``parse_certificate``, so no caller can alter what is
remembered."""

_Element = tuple[int, int, int]
"""A DER element of a certificate: its tag and its content as [start, end) of the DER bytes
(``end`` is also where the next element starts: DER lengths are definite)."""


class _Name(NamedTuple):
    """A distinguished name: its RFC 4514 string (attributes in reverse order) and the first
    value of each attribute type (read-only: the name is shared by every certificate naming
    it)."""

    text: str
    first: Mapping[str, str]


class _CertificateFields(TypedDict):
    """The fields of a ``TlsCertificate`` that depend on its DER bytes only (all immutable)."""

    subject: str
    subject_cn: str | None
    subject_o: str | None
    subject_ou: str | None
    issuer: str
    issuer_cn: str | None
    issuer_o: str | None
    serial: str
    not_before: datetime
    not_after: datetime
    self_signed: bool
    signature_algorithm: str
    public_key_algorithm: str
    public_key_bits: int | None
    public_key_curve: str | None
    subject_alt_names: tuple[str, ...]
    is_ca: bool
    sha1: str
    sha256: str


def _der_at(data: bytes, pos: int, end: int) -> _Element:
    """The element starting at ``pos``, which must end by ``end``."""
    if pos + 2 > end:
        raise TlsError("DER element header truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise TlsError("DER high tag numbers are not used in certificates")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise TlsError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise TlsError("DER element runs past its container")
    return tag, pos, pos + length


def _children(data: bytes, element: _Element, limit: int = 64) -> list[_Element]:
    """The elements filling the content of ``element``, at most ``limit`` of them."""
    out: list[_Element] = []
    _, pos, end = element
    while pos < end:
        if len(out) >= limit:
            raise TlsError("too many DER elements")
        # most elements of a certificate are short (length < 128, one byte): read those here
        # instead of calling _der_at for each; it reads (or rejects) every other header
        if pos + 2 <= end and data[pos + 1] < 0x80 and data[pos] & 0x1F != 0x1F:
            stop = pos + 2 + data[pos + 1]
            if stop <= end:
                out.append((data[pos], pos + 2, stop))
                pos = stop
                continue
        child = _der_at(data, pos, end)
        out.append(child)
        pos = child[2]
    return out


def _expect(element: _Element, tag: int) -> _Element:
    if element[0] != tag:
        raise TlsError(f"DER tag 0x{element[0]:02x} where 0x{tag:02x} was expected")
    return element


def _content(data: bytes, element: _Element) -> bytes:
    return data[element[1] : element[2]]


def _oid(data: bytes, element: _Element) -> str:
    raw = _content(data, _expect(element, _OID))
    text = _OIDS.get(raw)
    if text is None:
        text = _remember(_OIDS, raw, _oid_text(raw))
    return text


def _oid_text(raw: bytes) -> str:
    if not raw or len(raw) > 64:
        raise TlsError("bad OID length")
    arcs: list[int] = []
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if raw[-1] & 0x80:
        raise TlsError("OID ends inside an arc")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(map(str, head + arcs[1:]))


def _string(data: bytes, element: _Element) -> str:
    tag = element[0]
    raw = _content(data, element)
    if tag == 0x1E:  # BMPString
        return raw.decode("utf-16-be", "replace")
    if tag == 0x1C:  # UniversalString
        return raw.decode("utf-32-be", "replace")
    if tag == 0x14:  # T61String: in practice Latin-1
        return raw.decode("latin-1")
    return raw.decode("utf-8", "replace")


def _name(data: bytes, element: _Element) -> _Name:
    raw = _content(data, _expect(element, _SEQUENCE))
    name = _NAMES.get(raw)
    if name is None:
        name = _name_of(data, element)
        if len(raw) <= _MAX_REMEMBERED_NAME:
            _remember(_NAMES, raw, name)
    return name


def _name_of(data: bytes, element: _Element) -> _Name:
    first: dict[str, str] = {}
    rdns: list[str] = []
    for rdn in _children(data, element, _MAX_NAME_PARTS):
        parts: list[str] = []
        for atv in _children(data, _expect(rdn, _SET), _MAX_NAME_PARTS):
            pair = _children(data, _expect(atv, _SEQUENCE), 4)
            if len(pair) < 2:
                raise TlsError("attribute without a value")
            oid = _oid(data, pair[0])
            key = _ATTRIBUTE_NAMES.get(oid, oid)
            value = _string(data, pair[1])
            first.setdefault(key, value)  # in encoded order
            parts.append(f"{key}={_escape(value)}")
        rdns.append("+".join(parts))
    return _Name(",".join(reversed(rdns)), MappingProxyType(first))


def _escape(value: str) -> str:
    out = "".join("\\" + ch if ch in ',+"\\<>;=' else ch for ch in value)
    if out.startswith(("#", " ")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


def _time(data: bytes, element: _Element) -> datetime:
    key = (element[0], _content(data, element))
    value = _TIMES.get(key)
    if value is None:
        value = _remember(_TIMES, key, _time_of(*key))
    return value


def _time_of(tag: int, content: bytes) -> datetime:
    text = content.decode("ascii", "replace")
    try:
        if tag == _UTC_TIME:
            # YYMMDDHHMM[SS]Z (RFC 5280 §4.1.2.5.1: YY < 50 means 20YY)
            year = int(text[0:2])
            year += 2000 if year < 50 else 1900
            rest = text[2:]
        elif tag == _GENERALIZED_TIME:
            year = int(text[0:4])
            rest = text[4:]
        else:
            raise TlsError("validity is not a time")
        if not rest[:8].isdigit():
            raise TlsError(f"bad certificate time {text!r}")
        month, day, hour, minute = (int(rest[i : i + 2]) for i in range(0, 8, 2))
        second = int(rest[8:10]) if rest[8:10].isdigit() else 0
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise TlsError(f"bad certificate time {text!r}") from exc


def _algorithm(data: bytes, element: _Element) -> tuple[str, _Element | None]:
    """(name or dotted OID, parameters element) of an AlgorithmIdentifier."""
    parts = _children(data, _expect(element, _SEQUENCE), 4)
    if not parts:
        raise TlsError("empty AlgorithmIdentifier")
    oid = _oid(data, parts[0])
    return _ALGORITHM_NAMES.get(oid, oid), parts[1] if len(parts) > 1 else None


def _public_key(data: bytes, element: _Element) -> tuple[str, int | None, str | None]:
    parts = _children(data, _expect(element, _SEQUENCE), 4)
    if len(parts) < 2:
        raise TlsError("SubjectPublicKeyInfo without a key")
    algorithm, params = _algorithm(data, parts[0])
    _, key_start, key_end = _expect(parts[1], _BIT_STRING)
    bits: int | None = _KEY_BITS.get(algorithm)
    curve: str | None = None
    if algorithm == "rsaEncryption" and key_end - key_start > 1:
        rsa = _der_at(data, key_start + 1, key_end)
        fields = _children(data, _expect(rsa, _SEQUENCE), 4)
        if fields:
            bits = _integer_bits(data, _expect(fields[0], _INTEGER))
    elif algorithm == "dsa" and params is not None and params[0] == _SEQUENCE:
        fields = _children(data, params, 4)
        if fields:
            bits = _integer_bits(data, _expect(fields[0], _INTEGER))
    elif algorithm == "id-ecPublicKey" and params is not None and params[0] == _OID:
        oid = _oid(data, params)
        curve, size = _CURVES.get(oid, (oid, 0))
        bits = size or None
    return algorithm, bits, curve


def _integer_bits(data: bytes, element: _Element) -> int:
    raw = _content(data, element).lstrip(b"\x00")
    return (len(raw) - 1) * 8 + raw[0].bit_length() if raw else 0


def _extensions(data: bytes, element: _Element) -> tuple[tuple[str, ...], bool]:
    sans: list[str] = []
    is_ca = False
    wrapper = _children(data, element, 1)
    if not wrapper:
        return (), False
    for ext in _children(data, _expect(wrapper[0], _SEQUENCE), _MAX_EXTENSIONS):
        fields = _children(data, _expect(ext, _SEQUENCE), 3)
        if len(fields) < 2:
            raise TlsError("extension without a value")
        oid = _oid(data, fields[0])
        _, start, end = _expect(fields[-1], _OCTET_STRING)
        if oid == _EXT_SUBJECT_ALT_NAME:
            sans.extend(_general_names(data, _der_at(data, start, end)))
        elif oid == _EXT_BASIC_CONSTRAINTS:
            inner = _der_at(data, start, end)
            flags = _children(data, _expect(inner, _SEQUENCE), 2)
            is_ca = bool(flags and flags[0][0] == _BOOLEAN and _content(data, flags[0]) != b"\x00")
    return tuple(sans), is_ca


def _general_names(data: bytes, element: _Element) -> list[str]:
    out: list[str] = []
    for name in _children(data, _expect(element, _SEQUENCE), _MAX_SANS):
        tag = name[0]
        if tag == 0x82:
            out.append("DNS:" + _content(data, name).decode("ascii", "backslashreplace"))
        elif tag == 0x87:
            out.append("IP:" + _ip_text(_content(data, name)))
        elif tag == 0x81:
            out.append("email:" + _content(data, name).decode("ascii", "backslashreplace"))
        elif tag == 0x86:
            out.append("URI:" + _content(data, name).decode("ascii", "backslashreplace"))
        elif tag == 0xA4:
            inner = _der_at(data, name[1], name[2])
            out.append("DirName:" + _name(data, inner).text)
    return out


def _ip_text(raw: bytes) -> str:
    if len(raw) == 4:
        return ".".join(map(str, raw))
    if len(raw) == 16:
        return ":".join(raw[i : i + 2].hex() for i in range(0, 16, 2))
    return raw.hex()


def parse_certificate(der: bytes, index: int, ctx: PacketContext) -> TlsCertificate:
    """A ``TlsCertificate`` from one DER certificate; ``TlsError`` when it cannot be read."""
    der = bytes(der)  # the cache key: immutable, and not a view pinning a whole capture buffer
    fields = _CERTIFICATES.get(der)
    if fields is None:
        fields = _certificate_fields(der)
        if len(_CERTIFICATES) >= _MAX_CACHED_CERTIFICATES:
            _CERTIFICATES.clear()
        _CERTIFICATES[der] = fields
    return TlsCertificate(ctx=ctx, chain_index=index, **fields)


def _certificate_fields(der: bytes) -> _CertificateFields:
    cert = _der_at(der, 0, len(der))
    outer = _children(der, _expect(cert, _SEQUENCE), 4)
    if len(outer) < 3:
        raise TlsError("certificate without TBS, algorithm and signature")
    tbs = _children(der, _expect(outer[0], _SEQUENCE), 16)
    if tbs and tbs[0][0] == 0xA0:  # [0] EXPLICIT version
        tbs = tbs[1:]
    if len(tbs) < 6:
        raise TlsError("TBSCertificate too short")
    serial = _content(der, _expect(tbs[0], _INTEGER)).hex().lstrip("0") or "0"
    issuer = _name(der, tbs[2])
    validity = _children(der, _expect(tbs[3], _SEQUENCE), 2)
    if len(validity) != 2:
        raise TlsError("validity without two times")
    subject = _name(der, tbs[4])
    key_algorithm, key_bits, curve = _public_key(der, tbs[5])
    sans: tuple[str, ...] = ()
    is_ca = False
    for extra in tbs[6:]:
        if extra[0] == 0xA3:
            sans, is_ca = _extensions(der, extra)
    signature_algorithm, _ = _algorithm(der, outer[1])
    return _CertificateFields(
        subject=subject.text,
        subject_cn=subject.first.get("CN"),
        subject_o=subject.first.get("O"),
        subject_ou=subject.first.get("OU"),
        issuer=issuer.text,
        issuer_cn=issuer.first.get("CN"),
        issuer_o=issuer.first.get("O"),
        serial=serial,
        not_before=_time(der, validity[0]),
        not_after=_time(der, validity[1]),
        self_signed=_content(der, tbs[2]) == _content(der, tbs[4]),
        signature_algorithm=signature_algorithm,
        public_key_algorithm=key_algorithm,
        public_key_bits=key_bits,
        public_key_curve=curve,
        subject_alt_names=sans,
        is_ca=is_ca,
        sha1=hashlib.sha1(der, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(der).hexdigest(),
    )
