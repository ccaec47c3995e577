"""TLS client and server fingerprints: JA3, JA3S (Salesforce) and JA4 (FoxIO, BSD-3-Clause).

* JA3 = ``SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats``: decimal
  values joined by ``-``, GREASE removed; JA3S = ``SSLVersion,Cipher,Extensions``; both are
  also given as their MD5 (github.com/salesforce/ja3).
* JA4 = ``t13d1516h2_8daaf6152771_e5627efa2ab1`` (github.com/FoxIO-LLC/ja4,
  ``technical_details/JA4.md``): transport, highest offered version, SNI or not, counts of
  ciphers and extensions, first/last character of the first ALPN, then truncated SHA-256 of
  the sorted cipher list and of the sorted extension list (SNI and ALPN left out) followed by
  the signature algorithms in wire order.

JA4S and the other JA4+ methods are under the FoxIO License 1.1, not BSD, so they are left out.
All inputs here are GREASE-free already (the dissector strips GREASE while parsing).
"""

from __future__ import annotations

import hashlib

_EXT_SERVER_NAME = 0x0000
_EXT_ALPN = 0x0010

_JA4_VERSIONS = {
    0x0304: "13",
    0x0303: "12",
    0x0302: "11",
    0x0301: "10",
    0x0300: "s3",
    0x0002: "s2",
    0xFEFF: "d1",
    0xFEFD: "d2",
    0xFEFC: "d3",
}


def is_grease(value: int) -> bool:
    """RFC 8701 GREASE value: 0x?A?A with both bytes equal (0x0A0A, 0x1A1A, ... 0xFAFA)."""
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


def ja3(
    version: int,
    ciphers: tuple[int, ...],
    extensions: tuple[int, ...],
    groups: tuple[int, ...],
    point_formats: tuple[int, ...],
) -> tuple[str, str]:
    """The JA3 string of a ClientHello and its MD5."""
    text = ",".join(
        (
            str(version),
            "-".join(map(str, ciphers)),
            "-".join(map(str, extensions)),
            "-".join(map(str, groups)),
            "-".join(map(str, point_formats)),
        )
    )
    return text, _md5(text)


def ja3s(version: int, cipher: int, extensions: tuple[int, ...]) -> tuple[str, str]:
    """The JA3S string of a ServerHello and its MD5."""
    text = f"{version},{cipher},{'-'.join(map(str, extensions))}"
    return text, _md5(text)


def ja4_alpn(first_alpn: bytes | None) -> str:
    """The two JA4 characters for the first ALPN value ("00" when there is none)."""
    if not first_alpn:
        return "00"
    first, last = first_alpn[0], first_alpn[-1]
    if _alnum(first) and _alnum(last):
        return chr(first) + chr(last)
    text = first_alpn.hex()
    return text[0] + text[-1]


def ja4(
    *,
    transport: str,
    version: int,
    has_sni: bool,
    ciphers: tuple[int, ...],
    extensions: tuple[int, ...],
    first_alpn: bytes | None,
    signature_algorithms: tuple[int, ...],
) -> tuple[str, str]:
    """JA4 and its raw (``ja4_r``) form.

    ``transport`` is ``t`` (TLS over TCP), ``q`` (QUIC) or ``d`` (DTLS); ``version`` the
    highest of ``supported_versions`` or else the hello's legacy version.
    """
    head = (
        f"{transport}{_JA4_VERSIONS.get(version, '00')}{'d' if has_sni else 'i'}"
        f"{min(len(ciphers), 99):02d}{min(len(extensions), 99):02d}{ja4_alpn(first_alpn)}"
    )
    cipher_list = ",".join(f"{c:04x}" for c in sorted(ciphers))
    kept = sorted(e for e in extensions if e not in (_EXT_SERVER_NAME, _EXT_ALPN))
    ext_list = ",".join(f"{e:04x}" for e in kept)
    if signature_algorithms:
        ext_list += "_" + ",".join(f"{s:04x}" for s in signature_algorithms)
    cipher_hash = _sha256_12(cipher_list) if ciphers else "000000000000"
    ext_hash = _sha256_12(ext_list) if kept else "000000000000"
    return f"{head}_{cipher_hash}_{ext_hash}", f"{head}_{cipher_list}_{ext_list}"


def _alnum(byte: int) -> bool:
    return 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("ascii"), usedforsecurity=False).hexdigest()


def _sha256_12(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:12]
