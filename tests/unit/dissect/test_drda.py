"""DRDA dissector: DSS/DDM objects built by DRDA Vol. 3, and nDPI's drda_db2 capture (a JDBC
client and Db2 8.2 on Linux, SECMEC 3: user id and password in clear)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.drda import DrdaDissector, decode_text, product_id
from medsec.dissect.pipeline import DissectPipeline
from medsec.model.errors import DissectError
from medsec.model.observations import Observation
from medsec.model.observations.cleartext import CleartextCredentials
from medsec.model.observations.database import DrdaAccessRdb, DrdaSecurity, DrdaServerAttributes

from tests_support.directory_frames import ddm, dss, excsat, secmec, text
from tests_support.dissect_harness import ctx, payloads

D = DrdaDissector()
CLIENT = ctx(src_port=40000, dst_port=50000)
SERVER = ctx(src_ip="10.50.0.5", dst_ip="10.10.0.11", src_port=50000, dst_port=40000)

# frame 6 of ndpi/drda_db2.pcap: DSS (length 0x5b, D0, format 0x43 chained object, corr 1),
# EXCSATRD 0x1443: EXTNAM 'db2db2agent00000C410', MGRLVLLS (AGENT 7, SQLAM 7, RDB 7,
# SECMGR 7, CMNTCPIP 5), SRVCLSNM 'QDB2/LINUX', SRVNAM 'db2', SRVRLSLV 'SQL08024' - all
# EBCDIC; then DSS ACCSECRD 0x14AC with SECMEC 3 (USRIDPWD)
REAL_EXCSATRD = bytes.fromhex(
    "005bd0430001005514430018115e8482f28482f281878595a3f0f0f0f0f0c3f4f1f000181404140300072407"
    "0007240f00071440000714740005000e1147d8c4c2f261d3c9d5e4e70007116d8482f2000c115ae2d8d3f0f8"
    "f0f2f40010d0030002000a14ac000611a20003"
)


def facts(data: bytes, context: object = CLIENT) -> list[Observation]:
    return list(D.dissect(data, context))  # type: ignore[arg-type]


def only(kind: type, found: list[Observation]) -> list:  # type: ignore[type-arg]
    return [o for o in found if isinstance(o, kind)]


def test_real_excsatrd() -> None:
    assert D.signature(REAL_EXCSATRD)
    found = facts(REAL_EXCSATRD, SERVER)
    (attrs,) = only(DrdaServerAttributes, found)
    assert attrs.reply
    assert (attrs.server_class_name, attrs.server_release_level, attrs.server_name) == (
        "QDB2/LINUX",
        "SQL08024",
        "db2",
    )
    assert attrs.external_name == "db2db2agent00000C410"
    assert (attrs.product_code, attrs.product_version) == ("SQL", "8.2.4")
    assert attrs.manager_levels == ("AGENT=7", "SQLAM=7", "RDB=7", "SECMGR=7", "CMNTCPIP=5")
    (security,) = only(DrdaSecurity, found)
    assert (security.command, security.security_mechanisms) == ("ACCSECRD", ("USRIDPWD",))


def test_excsat_in_ascii_and_utf8() -> None:
    """Some requesters (and Derby after UTF-8 is agreed) send DDM strings outside EBCDIC."""
    ascii_excsat = dss(excsat("app", "host-1", "QDB2/LINUXX8664", "SQL11055", encoding="ascii"))
    (attrs,) = only(DrdaServerAttributes, facts(ascii_excsat))
    assert (attrs.reply, attrs.server_class_name, attrs.product_version) == (
        False,
        "QDB2/LINUXX8664",
        "11.5.5",
    )
    derby = dss(
        excsat(None, "db-host", "Apache Derby", "CSS10140/10.14.2.0 - (1828579)",
               reply=True, encoding="utf-8"),
        kind=3,
    )  # fmt: skip
    (attrs,) = only(DrdaServerAttributes, facts(derby, SERVER))
    assert attrs.server_class_name == "Apache Derby"
    assert attrs.server_release_level == "CSS10140/10.14.2.0 - (1828579)"
    assert (attrs.product_code, attrs.product_version) == ("CSS", "10.14.0")


def test_secchk_with_a_clear_password() -> None:
    body = secmec(3) + text(0x2110, "SAMPLE") + text(0x11A0, "db2inst1") + text(0x11A1, "hunter2")
    found = facts(dss(ddm(0x106E, body), correlation=2))
    (security,) = only(DrdaSecurity, found)
    assert (security.command, security.security_mechanisms) == ("SECCHK", ("USRIDPWD",))
    assert security.user_given and security.password_given
    (creds,) = only(CleartextCredentials, found)
    assert (creds.protocol, creds.mechanism, creds.user) == ("drda", "SECCHK USRIDPWD", "db2inst1")
    assert "hunter2" not in repr(found) and "SAMPLE" not in repr(found)


def test_encrypted_and_kerberos_mechanisms_state_no_credentials() -> None:
    encrypted = secmec(9) + text(0x11A0, "db2inst1") + ddm(0x11DC, b"\x8f" * 32)  # SECTKN
    found = facts(dss(ddm(0x106E, encrypted)))
    assert only(DrdaSecurity, found)[0].security_mechanisms == ("EUSRIDPWD",)
    assert not only(CleartextCredentials, found)
    # a server offering several mechanisms lists them all (ACCSECRD, SECMEC 9, 3, 11)
    offer = facts(dss(ddm(0x14AC, ddm(0x11A2, bytes.fromhex("0009 0003 000b"))), kind=3), SERVER)
    assert only(DrdaSecurity, offer)[0].security_mechanisms == ("EUSRIDPWD", "USRIDPWD", "KERSEC")


def test_accrdbrm_product_id() -> None:
    body = ddm(0x1149, b"\x00\x00") + text(0x112E, "SQL110122") + text(0x002F, "QTDSQLX86")
    (rdb,) = only(DrdaAccessRdb, facts(dss(ddm(0x2201, body), kind=2), SERVER))
    assert (rdb.reply, rdb.product_id, rdb.product_code, rdb.product_version) == (
        True,
        "SQL110122",
        "SQL",
        "11.1.2.2",
    )
    assert rdb.type_definition_name == "QTDSQLX86"


def test_decode_text() -> None:
    assert decode_text("QDB2/NT64".encode("cp500")) == "QDB2/NT64"
    assert decode_text(b"QDB2/NT64") == "QDB2/NT64"
    assert decode_text("Zürich".encode()) == "Zürich"
    # JCC's EXTNAM: EBCDIC text, then a binary correlation token
    assert decode_text("db2jcc_application".encode("cp500") + b"\x17\x01\x11") == (
        "db2jcc_application"
    )
    assert decode_text(b"\x01\x02\x03\x04") is None
    assert decode_text(b"") is None


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("SQL08024", ("SQL", "8.2.4")),
        ("DSN12015", ("DSN", "12.1.5")),
        ("QSQ07050", ("QSQ", "7.5.0")),
        ("JCC04330", ("JCC", "4.33.0")),
        ("SQL110122", ("SQL", "11.1.2.2")),
        ("CSS10140/10.14.2.0 - (1828579)", ("CSS", "10.14.0")),
        ("Apache Derby", (None, None)),
        ("SQL0802", (None, None)),
        (None, (None, None)),
    ],
)
def test_product_id(value: str | None, parts: tuple[str | None, str | None]) -> None:
    assert product_id(value) == parts


def test_cut_and_later_broken_objects_end_quietly() -> None:
    first = dss(excsat("app", "host", "QDB2/JVM", "JCC04330"), chained=True)
    second = dss(ddm(0x106D, secmec(3)), correlation=2)
    assert len(only(DrdaServerAttributes, facts(first + second[:8]))) == 1
    broken = second[:10] + b"\x00\x02\x11\xa2" + second[14:]  # a parameter of length 2
    found = facts(first + broken)
    assert only(DrdaServerAttributes, found) and not only(DrdaSecurity, found)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\x0a\xd1\x01\x00\x01\x00\x04\x10\x41", "not a DSS"),  # magic D1
        (b"\x00\x0a\xd0\x01\x00\x01\x00\x05\x10\x41", "not a DSS"),  # DDM length != DSS - 6
        (b"\x00\x0a\xd0\x09\x00\x01\x00\x04\x10\x41", "not a DSS"),  # type 9
        (dss(ddm(0x1041, b"\x00\x09\x11\x47abc")), "parameter"),  # parameter past the object
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        facts(data)


def test_signature_refuses_other_protocols() -> None:
    assert not D.signature(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03")
    assert not D.signature(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert not D.signature(dss(ddm(0x7777, b"")))  # not an object a conversation starts with
    assert D.signature(dss(ddm(0x106D, secmec(4))))


def test_real_capture(shared_data: Path) -> None:
    heads = list(payloads(shared_data / "pcap/ndpi/drda_db2.pcap"))
    found = [o for p in heads for o in D.dissect(p.data, p.ctx)]
    requester, server = only(DrdaServerAttributes, found)
    assert (requester.reply, requester.server_class_name, requester.server_release_level) == (
        False,
        "QDB2/JVM",
        "JCC02100",
    )
    assert (server.reply, server.server_class_name, server.server_release_level) == (
        True,
        "QDB2/LINUX",
        "SQL08024",
    )
    (creds,) = only(CleartextCredentials, found)
    assert (creds.mechanism, creds.user) == ("SECCHK USRIDPWD", "MYUSER")
    assert [
        (r.reply, r.product_id, r.type_definition_name) for r in only(DrdaAccessRdb, found)
    ] == [
        (False, "JCC02100", "QTDSQLASC"),
        (True, "SQL08024", "QTDSQLX86"),
    ]


def test_real_capture_through_the_engine(shared_data: Path) -> None:
    pipeline = DissectPipeline(default_dissectors())
    read_capture(shared_data / "pcap/ndpi/drda_db2.pcap", sink=pipeline)
    assert pipeline.stats.failures == 0 and pipeline.stats.malformed == 0
    assert set(pipeline.apps.values()) == {"drda"}
