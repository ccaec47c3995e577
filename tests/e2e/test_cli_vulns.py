"""``medsec vulns`` end to end on real traffic and real feeds: the DCMTK 3.6.7 seen on the
wire in a recorded capture gets CVE-2022-43272 and not CVE-2022-2119 (fixed in 3.6.7)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

MEDSEC = [sys.executable, "-m", "medsec"]


def medsec(*args: str, db: Path) -> Any:
    done = subprocess.run(
        [*MEDSEC, "--db", str(db), *args, "--json"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_dcmtk_on_the_wire_meets_its_cves(shared_data: Path, tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    capture = shared_data / "pcap/loopback_generated/dicom_dcmtk367_pynetdicom304_loopback.pcap"
    medsec("discover", str(capture), db=db)
    medsec("feeds", "import", str(shared_data / "advisories"), db=db)
    rows = medsec("vulns", db=db)
    cves = {r["cve"]: r for r in rows}
    assert "CVE-2022-2119" not in cves
    dos = cves["CVE-2022-43272"]
    assert dos["certain"] and dos["device"] == "127.0.0.1"
    assert dos["cvss"]["score"] == 7.5 and dos["cvss"]["version"] == "3.1"
    assert "DCMTK 3.6.7" in dos["basis"]
    assert medsec("vulns", "--kev", db=db) == []
    assert [r["cve"] for r in medsec("vulns", "--min-cvss", "7", db=db)] == ["CVE-2022-43272"]
    assert medsec("vulns", "--min-cvss", "9", db=db) == []
