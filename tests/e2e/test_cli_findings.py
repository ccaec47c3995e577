"""``medsec findings`` end to end on real traffic and real feeds: the DCMTK 3.6.7 seen on the
wire gets a finding for CVE-2022-43272 (CVSS 7.5: an uncontrolled risk, due 30 and 60 days
after its publication on 2022-12-02) as soon as the feeds are imported, worked through the
status workflow with its history, and refreshes keep what a person set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

MEDSEC = [sys.executable, "-m", "medsec"]
CVE = "CVE-2022-43272"


def run(
    *args: str, db: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MEDSEC, "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def medsec(*args: str, db: Path, env: dict[str, str] | None = None) -> Any:
    done = run(*args, "--json", db=db, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def overdue(db: Path, day: str) -> list[tuple[str, list[str]]]:
    rows = medsec("findings", "--overdue", "--as-of", day, db=db)
    return [(r["cve"], r["overdue"]) for r in rows]


def test_findings_of_dcmtk_on_the_wire_through_the_workflow(
    shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "f.db"
    capture = shared_data / "pcap/loopback_generated/dicom_dcmtk367_pynetdicom304_loopback.pcap"
    assert medsec("discover", str(capture), db=db)["findings"] is None  # no feeds: no work
    imported = run("feeds", "import", str(shared_data / "advisories"), "--json", db=db)
    assert imported.returncode == 0, imported.stderr
    counts = json.loads(imported.stdout)["findings"]  # the findings follow the feeds
    assert counts["created"] == counts["total"] >= 1 and counts["closed"] == 0
    assert f"findings: {counts['created']} new, 0 closed" in imported.stderr
    explicit = medsec("findings", "refresh", db=db)  # the same refresh: nothing new
    assert (explicit["created"], explicit["updated"]) == (0, counts["total"])

    # with feeds, a discovery that identified devices refreshes them too
    other = shared_data / "pcap/loopback_generated/sdc11073_v3_wsdiscovery_soap_loopback.pcap"
    discovered = run("discover", str(other), "--json", db=db)
    assert discovered.returncode == 0, discovered.stderr
    after = json.loads(discovered.stdout)["findings"]
    assert after["total"] >= counts["total"] and after["closed"] == 0
    assert f"findings: {after['created']} new, 0 closed" in discovered.stderr
    (finding,) = [f for f in medsec("findings", db=db) if f["cve"] == CVE]
    assert finding["device"] == "127.0.0.1" and finding["device_key"] == "ip:127.0.0.1"
    assert (finding["status"], finding["status_by"], finding["matched"]) == ("open", "medsec", True)
    assert finding["cvss"] == {
        "version": "3.1",
        "score": 7.5,
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        "severity": "HIGH",
    }
    assert finding["certain"] and "DCMTK 3.6.7" in finding["basis"]
    assert (finding["kev"], finding["disclosed"]) == (False, "2022-12-02")
    assert finding["patient_safety"]  # a PACS: medical, FDA class II
    assert finding["uncontrolled"] and finding["risk_reasons"][0] == "CVSS 7.5 >= 7.0"
    assert finding["due"]["mitigation"] == "2023-01-01"  # published + 30 days
    assert finding["due"]["remediation"] == "2023-01-31"  # published + 60 days
    assert "of disclosure 2022-12-02" in finding["due"]["basis"]
    finding_id = str(finding["id"])

    assert overdue(db, "2022-12-20") == []
    assert overdue(db, "2023-01-01") == []  # met on the day
    assert overdue(db, "2023-01-15") == [(CVE, ["mitigation"])]
    assert overdue(db, "2023-02-01") == [(CVE, ["mitigation", "remediation"])]

    refused = run("finding", finding_id, "set-status", "mitigated", db=db)
    assert refused.returncode == 2
    assert "mitigated needs the compensating control (--control)" in refused.stderr
    assert run("finding", "999", db=db).returncode == 2

    control = "VLAN 40; ACL: only the PACS reaches port 11112"
    changed = medsec(
        "finding", finding_id, "set-status", "mitigated", "--control", control, "--by", "alice",
        db=db,
    )  # fmt: skip
    assert (changed["status"], changed["status_by"], changed["status_auto"]) == (
        "mitigated", "alice", False,
    )  # fmt: skip
    assert [(h["who"], h["from"], h["to"], h["control"]) for h in changed["history"]] == [
        ("medsec", None, "open", None),
        ("alice", "open", "mitigated", control),
    ]
    shown = run("finding", finding_id, db=db)
    assert shown.returncode == 0 and "History" in shown.stdout and "alice" in shown.stdout

    assert overdue(db, "2023-01-15") == []  # mitigated: only the remediation is owed
    assert overdue(db, "2023-02-01") == [(CVE, ["remediation"])]
    assert [f["cve"] for f in medsec("findings", "--status", "mitigated", db=db)] == [CVE]

    again = medsec("findings", "refresh", db=db)
    assert (again["created"], again["closed"], again["updated"]) == (0, 0, again["total"])
    kept = medsec("finding", finding_id, db=db)
    assert (kept["status"], kept["matched"]) == ("mitigated", True)
    assert len(kept["history"]) == 2

    # a site shortens the remediation time: the next refresh moves the deadline
    site = tmp_path / "site"
    (site / "vulns").mkdir(parents=True)
    (site / "vulns/response_timeframes.yaml").write_text("uncontrolled: {remediate_days: 45}\n")
    medsec("findings", "refresh", db=db, env={"MEDSEC_RULES": str(site)})
    moved = medsec("finding", finding_id, db=db)
    assert moved["due"]["remediation"] == "2023-01-16" and moved["status"] == "mitigated"

    # $USER names who changed it when --by is not given
    done = medsec(
        "finding", finding_id, "set-status", "remediated", "--why", "DCMTK 3.6.8 installed",
        db=db, env={"USER": "bob"},
    )  # fmt: skip
    assert (done["status"], done["history"][-1]["who"], done["overdue"]) == (
        "remediated",
        "bob",
        [],
    )
    assert overdue(db, "2030-01-01") == []
    invalid = run("finding", finding_id, "set-status", "mitigated", "--control", "x", db=db)
    assert invalid.returncode == 2 and "cannot go from remediated to mitigated" in invalid.stderr
