"""TDS dissector: [MS-TDS] PRELOGIN (the specification's example 4.1) and LOGIN7 records
built by the specification, and the real capture of SQL batches and results."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect.pipeline import DissectPipeline
from medsec.dissect.tds import TdsDissector
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext
from medsec.model.observations.cleartext import CleartextCredentials
from medsec.model.observations.services import TdsLogin, TdsPackets, TdsPrelogin

from tests_support.dissect_harness import ctx

D = TdsDissector()
CLIENT = ctx(src_port=40000, dst_port=1433)
SERVER = ctx(src_port=1433, dst_port=40000, from_client=False)

# [MS-TDS] 4.1 PRELOGIN request: header (type 0x12, EOM, length 0x2F), options VERSION at
# 0x1A (6 bytes), ENCRYPTION at 0x20, INSTOPT at 0x21, THREADID at 0x22, MARS at 0x26,
# terminator; data: version 9.0.0.0, encryption ON, instance "", thread id, MARS on
PRELOGIN_REQUEST = bytes.fromhex(
    "1201002f00000100"
    "00001a0006 0100200001 0200210001 0300220004 0400260001 ff"
    "090000000000 01 00 b80d0000 01".replace(" ", "")
)


def packet(kind: int, body: bytes, status: int = 1) -> bytes:
    return struct.pack(">BBHHBB", kind, status, len(body) + 8, 0, 1, 0) + body


def prelogin_response(version: bytes, encryption: int) -> bytes:
    options = (
        b"\x00" + struct.pack(">HH", 16, 6)
        + b"\x01" + struct.pack(">HH", 22, 1)
        + b"\x02" + struct.pack(">HH", 23, 1)
        + b"\xff"
    )  # fmt: skip
    return packet(4, options + version + bytes([encryption]) + b"\x00")


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def login7(*, integrated: bool = False, password: str = "Pa55word!") -> bytes:
    fields = ["WARD3-PC", "" if integrated else "sa", password, "Pyxis MedStation",
              "SQLPROD01", "", "ODBC", "", "pharmacy"]  # fmt: skip
    fixed = (
        36 + 4 * len(fields) + 6 + 4 * 3 + 4
    )  # ClientID, SSPI, AtchDBFile, ChangePassword, cbSSPILong
    offsets = b""
    data = b""
    for value in fields:
        raw = utf16(value)
        offsets += struct.pack("<HH", fixed + len(data), len(value))
        data += raw
    head = struct.pack(
        "<IIIIIIBBBBiI",
        fixed + len(data),
        0x74000004,  # TDS 7.4
        4096,
        0x07000000,  # client program version
        1234,
        0,
        0xE0,
        0x83 if integrated else 0x03,  # OptionFlags2 (0x80 fIntSecurity)
        0,
        0,
        0,
        0x409,
    )
    tail = b"\x00" * 6 + struct.pack("<HHHHHHHHI", fixed + len(data), 0, 0, 0, 0, 0, 0, 0, 0)
    record = head + offsets + tail[: fixed - len(head) - len(offsets)] + data
    return packet(16, record)


def run(data: bytes, context: PacketContext = CLIENT) -> list[Observation]:
    return list(D.dissect(data, context))


def test_spec_prelogin_request() -> None:
    assert D.signature(PRELOGIN_REQUEST)
    found = run(PRELOGIN_REQUEST)
    (p,) = [o for o in found if isinstance(o, TdsPrelogin)]
    assert (p.response, p.version, p.encryption, p.instance, p.mars) == (
        False,
        "9.0.0.0",
        "on",
        None,
        True,
    )
    assert [o.packet_types for o in found if isinstance(o, TdsPackets)] == [("prelogin",)]


def test_server_prelogin_answer_names_its_version() -> None:
    found = run(prelogin_response(bytes.fromhex("0f000fa10000"), 2), SERVER)
    (p,) = [o for o in found if isinstance(o, TdsPrelogin)]
    assert (p.response, p.version, p.encryption) == (True, "15.0.4001.0", "not-supported")


def test_login7_in_clear() -> None:
    found = run(PRELOGIN_REQUEST + login7())
    (login,) = [o for o in found if isinstance(o, TdsLogin)]
    assert (login.tds_version, login.client_program_version) == ("74000004", "07000000")
    assert (login.hostname, login.user, login.app_name, login.server_name) == (
        "WARD3-PC",
        "sa",
        "Pyxis MedStation",
        "SQLPROD01",
    )
    assert (login.library_name, login.integrated_security) == ("ODBC", False)
    (creds,) = [o for o in found if isinstance(o, CleartextCredentials)]
    assert (creds.protocol, creds.mechanism, creds.user) == ("tds", "LOGIN7", "sa")
    assert "Pa55word" not in repr(found) and "pharmacy" not in repr(found)
    assert [o.packet_types for o in found if isinstance(o, TdsPackets)] == [("prelogin", "login7")]


def test_integrated_security_is_no_cleartext_password() -> None:
    found = run(login7(integrated=True, password=""))
    (login,) = [o for o in found if isinstance(o, TdsLogin)]
    assert login.integrated_security and login.user is None
    assert not any(isinstance(o, CleartextCredentials) for o in found)


def test_tls_after_prelogin_and_tds8_give_no_login() -> None:
    tls_in_prelogin = packet(18, b"\x16\x03\x01\x00\x05hello")
    found = run(PRELOGIN_REQUEST + tls_in_prelogin + b"\x17\x03\x03\x00\x10" + b"x" * 16)
    assert not any(isinstance(o, TdsLogin) for o in found)
    assert run(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc") == []


@pytest.mark.parametrize(
    "data",
    [
        b"\x99\x01\x00\x08\x00\x00\x01\x00",  # unknown packet type
        packet(18, b"\x00\x00\x1a\x00\x06"),  # option list without its terminator
        packet(18, b"\x00\x00\xf0\x00\x06\xff"),  # option beyond the packet
        packet(16, b"\x10\x00\x00\x00" + b"\x00" * 20),  # LOGIN7 shorter than its fixed part
    ],
)
def test_malformed(data: bytes) -> None:
    with pytest.raises(DissectError):
        run(data)


def test_real_sql_batches_and_results(shared_data: Path) -> None:
    pipeline = DissectPipeline([D])
    read_capture(shared_data / "pcap/ndpi/mssql_tds.pcap", sink=pipeline)
    sent = {
        (o.ctx.src_ip, t)
        for o in pipeline.observations
        if isinstance(o, TdsPackets)
        for t in o.packet_types
    }
    assert ("10.0.0.1", "tabular-result") in sent
    assert {("10.111.111.111", "sql-batch"), ("10.111.111.111", "rpc")} <= sent


def test_signature_accepts_whole_packets_only() -> None:
    batch = packet(1, "select 1".encode("utf-16-le"))
    assert D.signature(batch) and D.signature(batch + batch[:5] + b"\x00\x00\x00")
    assert not D.signature(batch[:-1])  # a length beyond the payload
    assert not D.signature(batch[:7] + b"\x01" + batch[8:])  # window must be 0
    assert D.signature(PRELOGIN_REQUEST[:20])  # a PRELOGIN cut short still claims
    # SLP v1 SrvAck-like bytes are no TDS packet
    assert not D.signature(b"\x01\x05\x00\x8b\xec\xfe=/\xe4G>\xc6")
