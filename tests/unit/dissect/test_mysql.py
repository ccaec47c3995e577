"""MySQL/MariaDB dissector: HandshakeV10 and HandshakeResponse41 built by the protocol
documentation, and the real captures."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect.mysql import MysqlDissector
from medsec.dissect.pipeline import DissectPipeline
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext
from medsec.model.observations.cleartext import CleartextCredentials
from medsec.model.observations.services import MysqlClientHandshake, MysqlServerGreeting

from tests_support.dissect_harness import ctx

D = MysqlDissector()
SERVER = ctx(src_port=3306, dst_port=40000, from_client=False)
CLIENT = ctx(src_port=40000, dst_port=3306)


def packet(seq: int, payload: bytes) -> bytes:
    """3-byte little-endian payload length, sequence id, payload."""
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


def greeting(version: bytes, plugin: bytes = b"mysql_native_password") -> bytes:
    return packet(
        0,
        b"\x0a"  # protocol version 10
        + version
        + b"\x00"
        + struct.pack("<I", 42)  # connection id
        + b"abcdefgh"  # auth-plugin-data-part-1
        + b"\x00"  # filler
        + struct.pack("<H", 0xF7FF)  # capability flags (lower)
        + b"\x21"  # character set utf8_general_ci
        + struct.pack("<H", 0x0002)  # status flags
        + struct.pack("<H", 0x81FF)  # capability flags (upper): PLUGIN_AUTH, CONNECT_ATTRS...
        + b"\x15"  # auth plugin data length 21
        + b"\x00" * 10
        + b"ijklmnopqrst\x00"  # auth-plugin-data-part-2
        + plugin
        + b"\x00",
    )


def lenenc(raw: bytes) -> bytes:
    return bytes([len(raw)]) + raw


def response(user: bytes, plugin: bytes, attrs: dict[bytes, bytes], db: bool = True) -> bytes:
    caps = 0x00000200 | 0x00008000 | 0x00080000 | 0x00100000 | (0x8 if db else 0)
    body = struct.pack("<IIB", caps, 16777216, 0x21) + b"\x00" * 23 + user + b"\x00"
    body += lenenc(b"S3CRET-SCRAMBLE-20B!")  # auth response (CLIENT_SECURE_CONNECTION)
    if db:
        body += b"patients_db\x00"
    body += plugin + b"\x00"
    pairs = b"".join(lenenc(k) + lenenc(v) for k, v in attrs.items())
    return packet(1, body + lenenc(pairs))


def one(data: bytes, context: PacketContext = SERVER) -> list[Observation]:
    return list(D.dissect(data, context))


def test_mysql_greeting() -> None:
    (g,) = one(greeting(b"5.7.31-log"))
    assert isinstance(g, MysqlServerGreeting)
    assert (g.protocol_version, g.server_version, g.auth_plugin_name, g.character_set) == (
        10,
        "5.7.31-log",
        "mysql_native_password",
        0x21,
    )
    assert g.capability_flags == 0x81FFF7FF
    assert "abcdefgh" not in repr(g)  # the scramble is not kept


def test_mariadb_greeting_and_signature() -> None:
    data = greeting(b"5.5.5-10.5.8-MariaDB-1:10.5.8+maria~focal")
    assert D.signature(data)
    (g,) = one(data)
    assert isinstance(g, MysqlServerGreeting)
    assert g.server_version == "5.5.5-10.5.8-MariaDB-1:10.5.8+maria~focal"
    assert not D.signature(b"GET / HTTP/1.1\r\n")
    assert not D.signature(packet(0, b"\x0aNotAVersion\x00"))


def test_client_attributes_kept_auth_response_and_schema_not() -> None:
    data = response(
        b"pharmacy",
        b"mysql_native_password",
        {
            b"_os": b"Win64",
            b"_client_name": b"libmysql",
            b"_pid": b"4242",
            b"_client_version": b"8.0.33",
            b"_platform": b"x86_64",
            b"program_name": b"MedDispense",
        },
    )
    (c,) = one(data, CLIENT)
    assert isinstance(c, MysqlClientHandshake)
    assert (c.user, c.database_given, c.auth_plugin_name, c.ssl_request) == (
        "pharmacy",
        True,
        "mysql_native_password",
        False,
    )
    assert (c.client_os, c.client_name, c.client_version, c.platform, c.program_name) == (
        "Win64",
        "libmysql",
        "8.0.33",
        "x86_64",
        "MedDispense",
    )
    assert c.attribute_names == (
        "_os",
        "_client_name",
        "_pid",
        "_client_version",
        "_platform",
        "program_name",
    )
    text = repr(c)
    assert "S3CRET" not in text and "patients_db" not in text and "4242" not in text


def test_clear_password_plugin_is_cleartext_credentials() -> None:
    found = one(response(b"svc", b"mysql_clear_password", {}, db=False), CLIENT)
    creds = [o for o in found if isinstance(o, CleartextCredentials)]
    assert [(c.protocol, c.mechanism, c.user) for c in creds] == [
        ("mysql", "mysql_clear_password", "svc")
    ]
    assert "S3CRET" not in repr(found)


def test_ssl_request() -> None:
    caps = 0x00000200 | 0x00008000 | 0x00000800
    (c,) = one(packet(1, struct.pack("<IIB", caps, 16777216, 0x21) + b"\x00" * 23), CLIENT)
    assert isinstance(c, MysqlClientHandshake) and c.ssl_request and c.user is None


@pytest.mark.parametrize(
    "data",
    [
        packet(0, b"\x0a5.7.31"),  # version without its NUL
        packet(0, b"\x0a5.7.31\x00\x01\x02"),  # connection id cut short
        packet(1, struct.pack("<I", 0x200) + b"\x00" * 8),  # response cut short
        packet(0, b""),
    ],
)
def test_malformed(data: bytes) -> None:
    with pytest.raises(DissectError):
        one(data)


def test_cut_short_heads_and_other_packets_give_nothing() -> None:
    assert one(greeting(b"8.0.36")[:20]) == []
    assert one(packet(2, b"\x00\x00\x00\x02\x00\x00\x00")) == []  # an OK packet


def observed(path: Path) -> list[Observation]:
    pipeline = DissectPipeline([D])
    read_capture(path, sink=pipeline)
    return pipeline.observations


def test_real_mysql_and_mariadb(shared_data: Path) -> None:
    found = observed(shared_data / "pcap/ndpi/mysql.pcapng") + observed(
        shared_data / "pcap/zeek/mysql_mysql.pcap"
    )
    versions = {o.server_version for o in found if isinstance(o, MysqlServerGreeting)}
    assert versions == {"8.0.36", "5.5.5-10.6.12-MariaDB-0ubuntu0.22.04.1", "5.0.54"}
    clients = [o for o in found if isinstance(o, MysqlClientHandshake)]
    assert any(c.ssl_request for c in clients)
    (attrs,) = [c for c in clients if c.client_name]
    assert (attrs.client_os, attrs.client_name, attrs.client_version, attrs.program_name) == (
        "Linux",
        "libmariadb",
        "3.3.4",
        "mysql",
    )
