"""``medsec misconfigs`` end to end on recorded captures: Telnet and FTP sessions, SNMP agents
answering v1/v2c (a printer that accepts set-requests with 'public'), HTTP Basic, a macOS 10.8
browser, and a DICOM server that also presents an expired self-signed certificate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

MEDSEC = [sys.executable, "-m", "medsec"]

MANAGEMENT_CAPTURES = (
    "zeek/ftp_ipv4.pcap",
    "zeek/ftp_retr.pcap",
    "zeek/ftp_ftp-auth-tls.pcap",
    "ndpi/ftp.pcap",
    "ndpi/ftp_failed.pcap",
    "ndpi/telnet.pcap",
    "zeek/telnet-auth-missing-name.pcap",
    "zeek/snmp_snmpv1_get.pcap",
    "zeek/snmp_snmpv1_set.pcap",
    "zeek/snmp_snmpv1_trap.pcap",
    "zeek/snmp_snmpv2_get.pcap",
    "zeek/snmp_snmpv2_get_bulk.pcap",
    "zeek/snmp_snmpv2_get_next.pcap",
    "zeek/snmp_snmpv3_get_next.pcap",
    "zeek/snmp_snmpwalk-short.pcap",
    "ndpi/snmp.pcap",
    "ndpi/http_auth.pcap",
)


def medsec(*args: str, db: Path, as_json: bool = True) -> Any:
    done = subprocess.run(
        [*MEDSEC, "--db", str(db), *args, *(["--json"] if as_json else [])],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if as_json else done.stdout


@pytest.fixture(scope="module")
def management_db(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("misconfigs") / "m.db"
    pcaps = [str(shared_data / "pcap" / name) for name in MANAGEMENT_CAPTURES]
    medsec("discover", *pcaps, db=db)
    return db


def by_device(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["device"], []).append(r)
    return out


def test_management_in_clear_on_recorded_captures(management_db: Path) -> None:
    rows = medsec("misconfigs", "--as-of", "2026-11-22", db=management_db)
    kinds = [r["kind"] for r in rows]
    assert kinds.count("management_in_clear") == 8
    assert kinds.count("end_of_life_os") == 1
    assert "default_credentials" not in kinds and "tls_certificate" not in kinds
    found = by_device(rows)

    (printer,) = found["172.31.19.73"]  # an OKI printer polled with v1 'public'
    assert printer["severity"] == "critical" and printer["title"] == "SNMP v1 answered"
    assert "'public'" in printer["basis"] and "set-request with it was accepted" in printer["basis"]
    assert printer["evidence"][0]["observation"] == "SnmpMessage"
    assert printer["evidence"][0]["peer"] == "172.31.19.54"

    (telnet,) = found["192.168.0.1"]
    assert telnet["title"] == "Telnet in clear" and telnet["severity"] == "high"
    assert "a login crossed in clear" in telnet["basis"]
    (odd_port,) = found["10.0.0.2"]  # Telnet spoken on port 21
    assert odd_port["title"] == "Telnet in clear" and "tcp/21" in odd_port["basis"]

    (cisco,) = found["10.144.246.161"]
    assert cisco["severity"] == "medium" and "not a well-known default" in cisco["basis"]
    assert "R0_C@cti" not in json.dumps(rows)  # a site's community is never repeated

    loopback = found["127.0.0.1"]
    assert [r["title"] for r in loopback] == ["SNMP v1/v2c answered"]  # FTP went AUTH TLS

    (mac,) = found["192.168.0.4"]
    assert mac["kind"] == "end_of_life_os" and mac["severity"] == "high"
    assert mac["title"] == "macOS 10.8: end-of-life OS (support ended 2015-08-13)"


def test_options_device_kind_and_as_of(management_db: Path) -> None:
    one = medsec("misconfigs", "--device", "172.31.19.73", db=management_db)
    assert {r["device"] for r in one} == {"172.31.19.73"} and len(one) == 1
    eol = medsec("misconfigs", "--kind", "end_of_life_os", db=management_db)
    assert [r["device"] for r in eol] == ["192.168.0.4"]
    before = medsec(
        "misconfigs", "--kind", "end_of_life_os", "--as-of", "2015-08-13", db=management_db
    )
    assert before == []
    table = medsec("misconfigs", "--kind", "management_in_clear", db=management_db, as_json=False)
    assert "8 misconfigurations on 8 devices" in table
    done = subprocess.run(
        [*MEDSEC, "--db", str(management_db), "misconfigs", "--kind", "nonsense"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "--kind" in done.stderr


def test_an_expired_self_signed_certificate_on_a_dicom_server(
    shared_data: Path, tmp_path: Path
) -> None:
    """The loopback DICOM capture makes 127.0.0.1 a PACS; ntop's selfsigned.pcap shows the
    same address presenting an expired self-signed certificate on tcp/3001."""
    db = tmp_path / "t.db"
    pcap = shared_data / "pcap"
    medsec(
        "discover",
        str(pcap / "loopback_generated/dicom_dcmtk367_pynetdicom304_loopback.pcap"),
        str(pcap / "ndpi/selfsigned.pcap"),
        db=db,
    )
    (finding,) = medsec("misconfigs", "--kind", "tls_certificate", db=db)
    assert finding["device"] == "127.0.0.1" and finding["severity"] == "high"
    assert finding["title"] == "Expired self-signed TLS certificate on a clinical service"
    assert "expired when seen (2020-05-08 07:07:26, 1306 days after its end)" in finding["basis"]
    assert "the device is a medical device (pacs)" in finding["basis"]
    (evidence,) = finding["evidence"]
    assert evidence["observation"] == "TlsCertificate" and evidence["port"] == 3001
    # without the DICOM service the same certificate is not on a clinical service
    alone = tmp_path / "alone.db"
    medsec("discover", str(pcap / "ndpi/selfsigned.pcap"), db=alone)
    assert medsec("misconfigs", db=alone) == []
