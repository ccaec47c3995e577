"""``medsec vulns`` on a SQLite store: what a device was seen running is looked up in the
store by the same tokens the feeds are stored under (``net-snmp`` and ``net_snmp`` meet)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medsec.inventory import Store, database_url
from medsec.model.vulns import CveId, VexStatement
from medsec.service.vulns import list_vulnerabilities, vulnerability_json

from tests_support.vuln_store import NET_SNMP, cve, device


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(database_url(str(tmp_path / "v.db"))) as opened:
        yield opened


def test_products_spelled_with_a_hyphen_meet_their_cves(store: Store) -> None:
    store.replace_devices(
        [
            device("ip:10.0.0.1", "10.0.0.1", ("Net-SNMP", "5.7.2")),
            device("ip:10.0.0.2", "10.0.0.2", ("Pure-FTPd", "1.0.47")),
            device("ip:10.0.0.3", "10.0.0.3", ("FileZilla Server", "0.9.59")),
        ]
    )
    pure = "cpe:2.3:a:pureftpd:pure-ftpd:*:*:*:*:*:*:*:*"
    filezilla = "cpe:2.3:a:filezilla-project:filezilla_server:*:*:*:*:*:*:*:*"
    store.import_feed_records(
        [
            cve("CVE-2020-0001", NET_SNMP, end_excluding="5.8"),
            cve("CVE-2020-0002", NET_SNMP, end_excluding="5.7.2"),
            cve("CVE-2020-0003", pure, end_excluding="1.0.48"),
            cve("CVE-2020-0004", filezilla, end_excluding="0.9.60"),
        ]
    )
    rows = {(r.device, r.cve_id): r for r in list_vulnerabilities(store)}
    assert set(rows) == {
        ("10.0.0.1", "CVE-2020-0001"),
        ("10.0.0.2", "CVE-2020-0003"),
        ("10.0.0.3", "CVE-2020-0004"),
    }
    found = rows[("10.0.0.1", "CVE-2020-0001")]
    assert found.certain and "Net-SNMP 5.7.2" in found.basis and "< 5.8" in found.basis


def test_matches_a_vex_cleared_are_listed_with_the_statement(store: Store) -> None:
    store.replace_devices(
        [
            device("ip:10.0.0.1", "10.0.0.1", ("Net-SNMP", "5.7.2")),
            device("ip:10.0.0.2", "10.0.0.2", ("Net-SNMP", "5.6.1")),
        ]
    )
    store.import_feed_records(
        [
            cve("CVE-2020-0001", NET_SNMP, end_excluding="5.8"),
            VexStatement(
                CveId("CVE-2020-0001"),
                "not_affected",
                justification="vulnerable_code_not_in_execute_path",
                refs=("cpe:2.3:a:net-snmp:net-snmp:5.7.2:*:*:*:*:*:*:*",),
                source="urn:uuid:vendor-vex",
            ),
        ]
    )
    (standing,) = list_vulnerabilities(store)
    assert standing.device == "10.0.0.2" and not standing.cleared and standing.vex is None
    assert vulnerability_json(standing)["cleared"] is False
    assert vulnerability_json(standing)["vex"] is None
    (gone,) = list_vulnerabilities(store, cleared=True)
    assert gone.device == "10.0.0.1" and gone.cleared and gone.vex is not None
    assert (gone.vex.status, gone.vex.justification, gone.vex.source) == (
        "not_affected",
        "vulnerable_code_not_in_execute_path",
        "urn:uuid:vendor-vex",
    )
    assert "Net-SNMP 5.7.2" in gone.basis
    shown = vulnerability_json(gone)
    assert shown["cleared"] is True and shown["vex"]["status"] == "not_affected"
    assert shown["vex"]["reason"].startswith(
        "urn:uuid:vendor-vex says CVE-2020-0001 is not affected"
    )
    assert list_vulnerabilities(store, device="10.0.0.2", cleared=True) == []
    assert list_vulnerabilities(store, cleared=True, min_cvss=5.0) == []  # filters still apply
