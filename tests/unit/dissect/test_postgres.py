"""PostgreSQL dissector: protocol 3.0 start-up messages built by the documentation
(chapter "Frontend/Backend Protocol", Message Formats) and the real captures."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect.pipeline import DissectPipeline
from medsec.dissect.postgres import PostgresDissector
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext
from medsec.model.observations.cleartext import CleartextCredentials
from medsec.model.observations.services import PostgresServerResponse, PostgresStartup

from tests_support.dissect_harness import ctx

D = PostgresDissector()
CLIENT = ctx(src_port=40000, dst_port=5432)
SERVER = ctx(src_port=5432, dst_port=40000, from_client=False)


def startup(params: dict[bytes, bytes]) -> bytes:
    """Int32 length, Int32 196608 (3.0), name/value strings, terminating NUL."""
    body = struct.pack(">I", 196608) + b"".join(
        k + b"\x00" + v + b"\x00" for k, v in params.items()
    )
    body += b"\x00"
    return struct.pack(">I", len(body) + 4) + body


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack(">I", len(body) + 4) + body


PARAMS = {
    b"user": b"ris_app",
    b"database": b"radiology",
    b"application_name": b"RIS-Connector",
    b"client_encoding": b"UTF8",
}


def run(data: bytes, context: PacketContext = CLIENT) -> list[Observation]:
    return list(D.dissect(data, context))


def test_startup_parameters() -> None:
    data = startup(PARAMS)
    assert D.signature(data)
    (s,) = run(data)
    assert isinstance(s, PostgresStartup)
    assert (s.request, s.protocol_version, s.user, s.database_given) == (
        "startup",
        "3.0",
        "ris_app",
        True,
    )
    assert (s.application_name, s.client_encoding) == ("RIS-Connector", "UTF8")
    assert s.parameter_names == ("user", "database", "application_name", "client_encoding")
    assert "radiology" not in repr(s)


@pytest.mark.parametrize(
    ("password", "kind"),
    [
        (b"md5" + b"0123456789abcdef" * 2 + b"\x00", "md5"),
        (b"SCRAM-SHA-256\x00" + struct.pack(">i", 8) + b"n,,n=,r=", "sasl"),
        (b"Winter2024!\x00", "cleartext"),
    ],
)
def test_password_message_kind_never_its_content(password: bytes, kind: str) -> None:
    found = run(startup(PARAMS) + message(b"p", password))
    (s,) = [o for o in found if isinstance(o, PostgresStartup)]
    assert s.password_message == kind
    creds = [o for o in found if isinstance(o, CleartextCredentials)]
    assert [(c.protocol, c.user) for c in creds] == (
        [("postgres", "ris_app")] if kind == "cleartext" else []
    )
    assert "Winter2024" not in repr(found) and "0123456789abcdef" not in repr(found)


def test_ssl_request_then_tls_and_refused_then_startup() -> None:
    ssl = struct.pack(">II", 8, 80877103)
    assert D.signature(ssl)
    found = run(ssl + b"\x16\x03\x01\x02\x00")
    assert [o.request for o in found if isinstance(o, PostgresStartup)] == ["ssl"]
    found = run(ssl + startup(PARAMS))
    assert [o.request for o in found if isinstance(o, PostgresStartup)] == ["ssl", "startup"]
    (cancel,) = run(struct.pack(">IIII", 16, 80877102, 1234, 5678))
    assert isinstance(cancel, PostgresStartup) and cancel.request == "cancel"


def test_server_asks_cleartext_and_reports_version() -> None:
    data = (
        b"N"  # SSLRequest refused
        + message(b"R", struct.pack(">I", 3))  # AuthenticationCleartextPassword
        + message(b"R", struct.pack(">I", 0))  # AuthenticationOk
        + message(b"S", b"server_encoding\x00UTF8\x00")
        + message(b"S", b"server_version\x0016.1 (Ubuntu 16.1-1.pgdg22.04+1)\x00")
        + message(b"Z", b"I")
    )
    (r,) = run(data, SERVER)
    assert isinstance(r, PostgresServerResponse)
    assert (r.encryption_answer, r.authentication, r.server_version, r.server_encoding) == (
        "N",
        "cleartext",
        "16.1 (Ubuntu 16.1-1.pgdg22.04+1)",
        "UTF8",
    )


def test_server_error_keeps_only_sqlstate() -> None:
    data = message(b"R", struct.pack(">I", 5) + b"salt") + message(
        b"E", b'SFATAL\x00C28P01\x00Mpassword authentication failed for user "ris_app"\x00\x00'
    )
    (r,) = run(data, SERVER)
    assert isinstance(r, PostgresServerResponse)
    assert (r.authentication, r.error_code) == ("md5", "28P01")
    assert "failed" not in repr(r)


def test_sasl_mechanisms_and_accepted_tls() -> None:
    (r,) = run(
        message(b"R", struct.pack(">I", 10) + b"SCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00"),
        SERVER,
    )
    assert isinstance(r, PostgresServerResponse)
    assert r.sasl_mechanisms == ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")
    (tls,) = run(b"S\x16\x03\x03", SERVER)
    assert isinstance(tls, PostgresServerResponse) and tls.encryption_answer == "S"


@pytest.mark.parametrize(
    "data",
    [
        struct.pack(">II", 12, 0x00020000) + b"user",  # protocol 2.0
        struct.pack(">II", 100000, 196608) + b"user\x00x\x00",  # absurd length
        message(b"R", struct.pack(">I", 0)) + b"R\x00\x00\x00\x01",  # length below 4
    ],
)
def test_malformed(data: bytes) -> None:
    with pytest.raises(DissectError):
        run(data, SERVER if data[:1] == b"R" else CLIENT)


def test_not_a_backend_stream_gives_nothing() -> None:
    assert run(b"HTTP/1.1 200 OK\r\n\r\n", SERVER) == []


def observed(path: Path) -> list[Observation]:
    pipeline = DissectPipeline([D])
    read_capture(path, sink=pipeline)
    return pipeline.observations


def test_real_psql_login(shared_data: Path) -> None:
    found = observed(shared_data / "pcap/zeek/postgresql_psql-login.pcap")
    starts = [o for o in found if isinstance(o, PostgresStartup)]
    assert [s.request for s in starts] == ["ssl", "startup"]
    assert (starts[1].application_name, starts[1].user, starts[1].password_message) == (
        "psql",
        "zeek",
        "sasl",
    )
    (r,) = [o for o in found if isinstance(o, PostgresServerResponse)]
    assert (r.encryption_answer, r.authentication, r.server_version) == (
        "N",
        "sasl",
        "14.5 (Debian 14.5-1.pgdg110+1)",
    )


def test_real_md5_logins(shared_data: Path) -> None:
    found = observed(shared_data / "pcap/ndpi/pgsql.pcap")
    assert {o.server_version for o in found if isinstance(o, PostgresServerResponse)} >= {"7.4.6"}
    assert {o.password_message for o in found if isinstance(o, PostgresStartup)} >= {"md5"}
    assert not any(isinstance(o, CleartextCredentials) for o in found)
