"""``medsec vulns`` on a SQLite store: what a device was seen running is looked up in the
store by the same tokens the feeds are stored under (``net-snmp`` and ``net_snmp`` meet);
matches a VEX cleared are listed with the statement; an advisory scoring its products apart
gives each device the score of its product."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from medsec.inventory import Store, database_url
from medsec.model.vulns import CveId, VexStatement
from medsec.service.feeds import import_feeds
from medsec.service.findings import list_findings, refresh_findings
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


def csaf(path: Path) -> Path:
    """A CSAF advisory of two pumps, one CVE scored 9.8 for the first and 5.3 for the other."""

    def product(name: str, versions: str, product_id: str) -> dict[str, Any]:
        leaf = {
            "category": "product_version_range",
            "name": versions,
            "product": {"name": f"{name} {versions}", "product_id": product_id},
        }
        return {"category": "product_name", "name": name, "branches": [leaf]}

    def score(vector: str, base: float, product_id: str) -> dict[str, Any]:
        return {"cvss_v3": {"vectorString": vector, "baseScore": base}, "products": [product_id]}

    document = {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "title": "Example pumps",
            "publisher": {"category": "vendor", "name": "Example PSIRT", "namespace": "https://x"},
            "tracking": {
                "id": "EX-2026-007",
                "version": "1",
                "initial_release_date": "2026-01-02T03:04:05Z",
                "current_release_date": "2026-01-02T03:04:05Z",
                "status": "final",
                "revision_history": [],
            },
        },
        "product_tree": {
            "branches": [
                {
                    "category": "vendor",
                    "name": "Example Med",
                    "branches": [
                        product("InfuseOne", "vers:generic/<4.2", "P-ONE"),
                        product("InfuseTwo", "vers:generic/<2.0", "P-TWO"),
                    ],
                }
            ]
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2026-0001",
                "product_status": {"known_affected": ["P-ONE", "P-TWO"]},
                "scores": [
                    score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "P-ONE"),
                    score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3, "P-TWO"),
                ],
            }
        ],
    }
    path.write_text(json.dumps(document))
    return path


def test_each_device_gets_the_score_of_its_product(store: Store, tmp_path: Path) -> None:
    store.replace_devices(
        [
            device("ip:10.0.0.1", "10.0.0.1", vendor="Example Med", model="InfuseOne",
                   firmware="4.1"),
            device("ip:10.0.0.2", "10.0.0.2", vendor="Example Med", model="InfuseTwo",
                   firmware="1.5"),
            # the CVE by NVD on a device no score names: the highest
            device("ip:10.0.0.3", "10.0.0.3", ("Net-SNMP", "5.7.2"), vendor="Example Med",
                   model="Console"),
        ]
    )  # fmt: skip
    (done,) = import_feeds(store, [csaf(tmp_path / "csaf.json")])
    assert (done.status, done.skipped) == ("complete", 0)
    store.import_feed_records([cve("CVE-2026-0001", NET_SNMP, end_excluding="5.8")])

    rows = {r.device: r for r in list_vulnerabilities(store)}
    assert {d: r.cve_id for d, r in rows.items()} == dict.fromkeys(rows, "CVE-2026-0001")
    assert {d: r.cvss_score for d, r in rows.items()} == {
        "10.0.0.1": 9.8,
        "10.0.0.2": 5.3,
        "10.0.0.3": 9.8,
    }
    assert rows["10.0.0.2"].cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"
    assert rows["10.0.0.2"].source == "csaf:EX-2026-007"

    refresh_findings(store, now=datetime(2026, 11, 22, tzinfo=UTC))
    found = {f.facts.device: f.facts for f in list_findings(store)}
    assert {d: f.cvss_score for d, f in found.items()} == {
        "10.0.0.1": 9.8,
        "10.0.0.2": 5.3,
        "10.0.0.3": 9.8,
    }
    assert (found["10.0.0.1"].uncontrolled, found["10.0.0.2"].uncontrolled) == (True, False)
