#!/usr/bin/env python3
"""Import of an NVD-sized feed, and matching an inventory against it (issue 4, item 5).

Usage::

    python benchmarks/bench_feeds.py                          # 300,000 CVEs, 10,000 devices
    python benchmarks/bench_feeds.py --cves 30000 --devices 1000

Writes the feed with ``make_nvd_feed.py`` when it is not in ``bench-data/`` yet, imports it
with ``medsec feeds import`` into a fresh SQLite file (one process: wall time, CPU time and
peak RSS from ``wait4``), stores ``--devices`` devices whose software and OS are drawn from
products the feed's vocabulary shares with ``rules/vulns/products.yaml`` (versions old and
new, fixed seed), then times ``medsec vulns --json`` over all of them. Prints the figures;
asserts nothing (speed is measured, not tested). Targets (issue 4): import under 10 minutes
and 1 GiB RSS, matching under 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench-data"
SEED = 20261122

SOFTWARE = {
    "DCMTK": ["3.6.2", "3.6.5", "3.6.6", "3.6.7", "3.6.8"],
    "OpenSSH": ["5.3", "7.4", "8.2", "9.3"],
    "Apache": ["2.2.15", "2.4.29", "2.4.54", "2.4.58"],
    "Apache Tomcat": ["7.0.47", "8.5.50", "9.0.30"],
    "nginx": ["1.10.3", "1.18.0", "1.24.0"],
    "Microsoft IIS": ["7.5", "8.5", "10.0"],
    "Samba": ["3.6.25", "4.9.5", "4.17.12"],
    "PostgreSQL": ["9.6.24", "12.3", "15.4"],
    "MySQL": ["5.5.62", "5.7.30", "8.0.34"],
    "PHP": ["5.4.16", "7.4.3", "8.1.2"],
    "Python": ["2.7.5", "3.8.10", "3.11.4"],
    "lighttpd": ["1.4.35", "1.4.55"],
    "Net-SNMP": ["5.7.2", "5.7.3", "5.9.1"],
    "Exim": ["4.92", "4.96"],
    "vsFTPd": ["2.3.4", "3.0.3"],
}
SYSTEMS = [
    ("Windows", "XP", None),
    ("Windows", "7", None),
    ("Windows", "10", None),
    ("Windows", "2008 R2", None),
    ("Windows", "2012 R2", None),
    ("Linux", None, "4.4.0"),
    ("Linux", None, "5.4.0"),
    ("Linux", None, None),
]


def measured(argv: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS MiB and stdout of a process (pinned to core 0)."""
    if shutil.which("taskset"):
        argv = ["taskset", "-c", "0", *argv]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            sys.exit(f"{' '.join(argv)} failed: {err.read().decode(errors='replace')[-500:]}")
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode()


def store_devices(db: Path, count: int) -> None:
    from medsec.inventory import Store, database_url
    from medsec.inventory.device_rows import DeviceRow

    rng = random.Random(SEED)
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        software = [
            {"name": name, "version": rng.choice(versions), "confidence": rng.randint(60, 99)}
            for name, versions in rng.sample(sorted(SOFTWARE.items()), rng.randint(1, 4))
        ]
        os_name, os_version, kernel = rng.choice(SYSTEMS)
        attributes = {"os": {"value": os_name, "confidence": rng.randint(40, 95)}}
        if os_version or kernel:
            attributes["os_version"] = {
                "value": os_version or kernel,
                "confidence": rng.randint(30, 90),
            }
        ip = f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}"
        rows.append(
            DeviceRow(
                key=f"ip:{ip}",
                first_seen=now,
                last_seen=now,
                category="server",
                medical=False,
                vendor=None,
                model=None,
                os=os_name,
                handles_phi=False,
                record={"attributes": attributes, "software": software},
                addresses=(("ip", ip, 0, now, now),),
            )
        )
    with Store.open(database_url(str(db))) as store:
        store.replace_devices(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cves", type=int, default=300_000)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--feed", type=Path, help="an NVD feed file to use instead")
    args = parser.parse_args()
    medsec = shutil.which("medsec") or str(Path(sys.executable).parent / "medsec")
    feed = args.feed or DATA / f"nvd-{args.cves // 1000}k.json"
    if not feed.exists():
        DATA.mkdir(exist_ok=True)
        subprocess.run(
            [sys.executable, str(REPO / "benchmarks/make_nvd_feed.py"), "--cves", str(args.cves),
             "--out", str(feed)],
            check=True,
        )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "feeds.db"
        wall, cpu, rss, out = measured(
            [medsec, "--db", str(db), "feeds", "import", str(feed), "--json"]
        )
        result = json.loads(out)
        (imported,) = result["files"]
        print(f"feed: {feed} ({feed.stat().st_size / 2**20:,.0f} MiB)")
        print(
            f"import: {imported['records']:,} CVEs ({imported['skipped']} skipped, "
            f"{imported['status']}) in {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {rss:.0f} MiB"
        )
        print(f"database: {db.stat().st_size / 2**20:,.0f} MiB; {result['totals']}")
        started = time.perf_counter()
        store_devices(db, args.devices)
        print(f"devices: {args.devices:,} stored in {time.perf_counter() - started:.1f} s")
        wall, cpu, rss, out = measured([medsec, "--db", str(db), "vulns", "--json"])
        rows = json.loads(out)
        certain = sum(1 for r in rows if r["certain"])
        print(
            f"matching: {len(rows):,} device x CVE matches ({certain:,} certain) on "
            f"{len({r['device_id'] for r in rows}):,} devices in {wall:.1f} s wall, "
            f"{cpu:.1f} s CPU, peak RSS {rss:.0f} MiB"
        )


if __name__ == "__main__":
    main()
