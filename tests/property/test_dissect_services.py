"""Database, authentication, monitoring and RPC dissectors under hostile bytes, plus round
trips.

MySQL, PostgreSQL, TDS, RADIUS, Checkmk, Zabbix and DCE/RPC: arbitrary and mutated inputs
make ``signature`` return a bool and ``dissect`` yield observations or raise
``DissectError`` - nothing else, no hang. Round trips: messages built from random field
values come back with the same facts.
"""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from medsec.dissect.checkmk import CheckmkDissector
from medsec.dissect.dcerpc import DcerpcDissector
from medsec.dissect.mysql import MysqlDissector
from medsec.dissect.postgres import PostgresDissector
from medsec.dissect.radius import RadiusDissector
from medsec.dissect.tds import TdsDissector
from medsec.dissect.zabbix import ZabbixDissector
from medsec.model.observations import Observation, PacketContext
from medsec.model.observations.services import (
    CheckmkAgentOutput,
    DcerpcBind,
    MysqlServerGreeting,
    PostgresStartup,
    RadiusMessage,
    ZabbixMessage,
)

from tests_support.dissect_harness import PROPERTY, ctx, hostile_properties, run_hostile

DISSECTORS: list[Any] = [
    MysqlDissector(),
    PostgresDissector(),
    TdsDissector(),
    RadiusDissector(),
    CheckmkDissector(),
    ZabbixDissector(),
    DcerpcDissector(),
]


def contexts(dissector: Any) -> list[PacketContext]:
    """Both directions on the dissector's first port."""
    port = min(dissector.ports)
    transport = next(iter(dissector.transports))
    return [
        ctx(transport=transport, src_port=40000, dst_port=port, from_client=None),
        ctx(transport=transport, src_port=port, dst_port=40000, from_client=None),
    ]


def run(dissector: Any, data: bytes) -> list[Observation]:
    return run_hostile(dissector, data, contexts(dissector))


# --- builders of valid messages -----------------------------------------------------------


def mysql_greeting(version: bytes) -> bytes:
    body = (
        b"\x0a" + version + b"\x00" + struct.pack("<I", 1) + b"12345678\x00"
        + struct.pack("<HBHHB", 0xF7FF, 0x21, 2, 0x0008, 21) + b"\x00" * 10
        + b"123456789012\x00" + b"mysql_native_password\x00"
    )  # fmt: skip
    return len(body).to_bytes(3, "little") + b"\x00" + body


def mysql_response() -> bytes:
    attrs = b"\x03_os\x05Linux\x0c_client_name\x08libmysql"
    body = (
        struct.pack("<IIB", 0x0018A208, 1 << 24, 0x21) + b"\x00" * 23 + b"user\x00"
        + b"\x14" + b"\x01" * 20 + b"db\x00" + b"mysql_native_password\x00"
        + bytes([len(attrs)]) + attrs
    )  # fmt: skip
    return len(body).to_bytes(3, "little") + b"\x01" + body


def pg_startup(params: dict[bytes, bytes]) -> bytes:
    body = struct.pack(">I", 196608) + b"".join(
        k + b"\x00" + v + b"\x00" for k, v in params.items()
    )
    return struct.pack(">I", len(body) + 5) + body + b"\x00"


def pg_message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack(">I", len(body) + 4) + body


def tds_packet(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBHHBB", kind, 1, len(body) + 8, 0, 1, 0) + body


def radius(code: int, attributes: bytes) -> bytes:
    return struct.pack(">BBH", code, 1, 20 + len(attributes)) + bytes(16) + attributes


def zbxd(data: bytes, compress: bool = False) -> bytes:
    if compress:
        packed = zlib.compress(data)
        return b"ZBXD\x03" + struct.pack("<II", len(packed), len(data)) + packed
    return b"ZBXD\x01" + struct.pack("<II", len(data), 0) + data


def dcerpc_bind(ident: uuid.UUID, major: int, minor: int) -> bytes:
    ndr = uuid.UUID("8a885d04-1ceb-11c9-9fe8-08002b104860").bytes_le
    body = struct.pack("<HHI", 5840, 5840, 0) + b"\x01\x00\x00\x00"
    body += struct.pack("<HBB", 0, 1, 0) + ident.bytes_le + struct.pack("<HH", major, minor)
    body += ndr + struct.pack("<I", 2)
    return b"\x05\x00\x0b\x03\x10\x00\x00\x00" + struct.pack("<HHI", 16 + len(body), 0, 2) + body


SEEDS = [
    mysql_greeting(b"8.0.36"),
    mysql_response(),
    pg_startup({b"user": b"u", b"database": b"d", b"application_name": b"psql"})
    + pg_message(b"p", b"secret\x00"),
    b"N"
    + pg_message(b"R", struct.pack(">I", 10) + b"SCRAM-SHA-256\x00\x00")
    + pg_message(b"S", b"server_version\x0016.1\x00")
    + pg_message(b"E", b"SFATAL\x00C28P01\x00\x00"),
    bytes.fromhex(
        "1201002f0000010000001a000601002000010200210001030022000404002600"
        "01ff0900000000000100b80d000001"
    ),
    tds_packet(4, b"\x00\x00\x0b\x00\x06\x01\x00\x11\x00\x01\xff\x0f\x00\x0f\xa1\x00\x00\x02"),
    radius(
        1,
        b"\x04\x06\x0a\x00\x00\x01\x20\x05nas\x3d\x06\x00\x00\x00\x0f"
        b"\x1a\x0c\x00\x00\x00\x09\x01\x06abcd\x4f\x06\x02\x01\x00\x06",
    ),  # fmt: skip
    b"<<<check_mk>>>\nVersion: 2.2.0\nAgentOS: linux\nHostname: h\n<<<df>>>\nx\n",
    zbxd(json.dumps({"request": "active checks", "host": "h", "version": "6.0"}).encode(), True),
    zbxd(b"system.uname"),
    dcerpc_bind(uuid.UUID("e3514235-4b06-11d1-ab04-00c04fc2dcd2"), 4, 0),
]
FRAMING_BYTES = (0x00, 0xFF, 0x01, 0x05, 0x0A, 0x10, 0x12, 0x3C, 0x3E, 0x7B)
"""Bytes that matter to these protocols' framing, favoured by the mutations."""


(
    test_arbitrary_bytes,
    test_mutated_valid_messages,
    test_valid_heads_with_arbitrary_tails,
    test_every_seed_is_recognised_by_some_dissector,
) = hostile_properties(DISSECTORS, SEEDS, FRAMING_BYTES, run)


# --- round trips --------------------------------------------------------------------------

TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)


@PROPERTY
@given(version=TEXT.map(lambda s: "1" + s))
def test_mysql_version_round_trip(version: str) -> None:
    found = run(MysqlDissector(), mysql_greeting(version.encode()))
    assert {o.server_version for o in found if isinstance(o, MysqlServerGreeting)} == {version}


@PROPERTY
@given(app=TEXT, user=TEXT)
def test_postgres_startup_round_trip(app: str, user: str) -> None:
    data = pg_startup({b"user": user.encode(), b"application_name": app.encode()})
    (start,) = [o for o in run(PostgresDissector(), data) if isinstance(o, PostgresStartup)][:1]
    assert (start.user, start.application_name) == (user, app)


@PROPERTY
@given(nas=TEXT, port_type=st.integers(0, 40), vendor=st.integers(1, 2**32 - 1))
def test_radius_round_trip(nas: str, port_type: int, vendor: int) -> None:
    raw = nas.encode()
    attrs = (
        bytes([32, len(raw) + 2]) + raw
        + b"\x3d\x06" + struct.pack(">I", port_type)
        + b"\x1a\x08" + struct.pack(">I", vendor) + b"\x01\x02"
    )  # fmt: skip
    (msg,) = [o for o in run(RadiusDissector(), radius(4, attrs)) if isinstance(o, RadiusMessage)][
        :1
    ]
    assert (msg.nas_identifier, msg.nas_port_type, msg.vendor_ids) == (nas, port_type, (vendor,))


@PROPERTY
@given(version=TEXT, host=TEXT)
def test_checkmk_round_trip(version: str, host: str) -> None:
    data = f"<<<check_mk>>>\nVersion: {version}\nHostname: {host}\n<<<mem>>>\n".encode()
    (out,) = [o for o in run(CheckmkDissector(), data) if isinstance(o, CheckmkAgentOutput)][:1]
    assert (out.version, out.hostname, out.sections) == (version, host, ("mem",))


@PROPERTY
@given(host=TEXT, version=TEXT, compress=st.booleans())
def test_zabbix_round_trip(host: str, version: str, compress: bool) -> None:
    doc = {"request": "active checks", "host": host, "version": version}
    data = zbxd(json.dumps(doc).encode(), compress)
    (msg,) = [o for o in run(ZabbixDissector(), data) if isinstance(o, ZabbixMessage)][:1]
    assert (msg.request, msg.host, msg.version) == ("active checks", host, version)


@PROPERTY
@given(ident=st.uuids(), major=st.integers(0, 65535), minor=st.integers(0, 65535))
def test_dcerpc_bind_round_trip(ident: uuid.UUID, major: int, minor: int) -> None:
    (b,) = [
        o
        for o in run(DcerpcDissector(), dcerpc_bind(ident, major, minor))
        if isinstance(o, DcerpcBind)
    ][:1]
    assert b.interfaces == (f"{ident} v{major}.{minor}",)
