"""``medsec feeds import`` end to end: the real feeds in ../shared/data import, again without
duplicates; a broken file keeps what came before the break and says where it broke."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

MEDSEC = [sys.executable, "-m", "medsec"]


def feeds(*args: str, db: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [*MEDSEC, "--db", str(db), "feeds", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_the_shared_feeds_import_and_reimport_without_duplicates(
    shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "feeds.db"
    folders = [str(shared_data / "advisories"), str(shared_data / "sbom")]
    code, first = feeds("import", *folders, db=db)
    assert code == 0
    by_format: dict[str, int] = {}
    for f in first["files"]:
        assert f["status"] in ("complete", "unrecognised"), f
        if f["format"]:
            by_format[f["format"]] = by_format.get(f["format"], 0) + 1
    assert by_format["csaf"] == 158  # 144 ICSMA + 12 healthcare ICSA + 2 others
    assert by_format["nvd"] == 6 and by_format["cve5"] == 2
    assert by_format["kev"] == 2  # the catalog as JSON and as CSV
    totals = first["totals"]
    assert totals["advisories"] == 158
    assert totals["kev_entries"] == 1404
    assert totals["vulnerabilities"] == 8  # 6 NVD records + 2 CVE 5 records
    assert totals["sboms"] > 0 and totals["vex_statements"] > 0
    unrecognised = {Path(f["path"]).name for f in first["files"] if f["format"] is None}
    assert "index.txt" in unrecognised and "icsma-24-254-01.json.asc" in unrecognised
    code, again = feeds("import", *folders, db=db)
    assert code == 0 and again["totals"] == totals
    code, status = feeds("status", db=db)
    assert code == 0 and status == totals


def test_a_broken_feed_keeps_what_came_before_the_break(shared_data: Path, tmp_path: Path) -> None:
    records = [
        json.loads(p.read_text())
        for p in sorted((shared_data / "advisories/nvd_cve_json2").glob("*.json"))
    ]
    cves = [r.get("cve", r) for r in records]
    response = json.dumps(
        {"format": "NVD_CVE", "version": "2.0", "vulnerabilities": [{"cve": c} for c in cves]}
    )
    cut = response.index('{"cve"', response.index('{"cve"', response.index('{"cve"') + 1) + 1)
    broken = tmp_path / "nvd-broken.json"
    broken.write_text(response[: cut + 40])
    db = tmp_path / "feeds.db"
    code, result = feeds("import", str(broken), db=db)
    assert code == 1
    (f,) = result["files"]
    assert f["format"] == "nvd" and f["status"] == "partial"
    assert f["records"] == 2 and "nvd-broken.json" in f["error"]
    assert result["totals"]["vulnerabilities"] == 2
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"vulnerabilities": [{"cve": 5}')
    code, result = feeds("import", str(garbage), str(broken), db=db)
    assert result["totals"]["vulnerabilities"] == 2
