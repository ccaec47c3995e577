#!/usr/bin/env python3
"""Throughput and memory of ``medsec discover`` against tshark and argus on the same file.

Usage::

    python benchmarks/bench_discover.py                    # simulate a 3M-packet capture once
    python benchmarks/bench_discover.py --capture F.pcap   # or use your own
    python benchmarks/bench_discover.py --packets 500000   # a smaller run

Every tool runs as its own process pinned to one core (``taskset -c 0`` when available),
after the file was read once so all of them find it in the page cache. Peak RSS comes from
``wait4`` of that process. Prints one row per tool and the ratios to medsec; asserts
nothing (speed is measured, not tested).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO / "bench-data"


@dataclass
class Run:
    tool: str
    seconds: float
    peak_rss_mib: float
    ok: bool
    note: str = ""


def run(tool: str, argv: list[str]) -> Run:
    """Run ``argv`` pinned to core 0: wall time and peak RSS (``wait4``) of that process."""
    if shutil.which("taskset"):
        argv = ["taskset", "-c", "0", *argv]  # taskset execs: same pid, same rusage
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        note = err.read().decode(errors="replace").strip()[-300:]
    return Run(tool, seconds, usage.ru_maxrss / 1024, proc.returncode == 0, note)


def capture_info(path: Path) -> tuple[int, int]:
    """(packets, bytes on the wire) as medsec's reader counts them.

    Read in a child process: this script must stay small, because a child's peak RSS as
    ``wait4`` reports it starts at its parent's RSS (Linux folds the forked image into it).
    """
    code = (
        "import sys;from pathlib import Path;from medsec.capture.reader import read_capture;"
        "s=read_capture(Path(sys.argv[1]));print(s.stats.packets, s.stats.bytes)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", type=Path, help="capture to measure (default: simulate)")
    parser.add_argument("--packets", type=int, default=3_000_000, help="simulated size")
    parser.add_argument("--devices", type=int, default=400, help="simulated endpoints")
    parser.add_argument("--skip-others", action="store_true", help="medsec only")
    args = parser.parse_args()

    medsec = shutil.which("medsec") or str(Path(sys.executable).parent / "medsec")
    capture = args.capture
    if capture is None:
        DEFAULT_DIR.mkdir(exist_ok=True)
        capture = DEFAULT_DIR / f"hospital-{args.packets}-{args.devices}.pcap"
        if not capture.exists():
            print(f"simulating {args.packets:,} packets into {capture} ...", flush=True)
            subprocess.run(
                [
                    medsec,
                    "simulate",
                    "--out",
                    str(capture),
                    "--devices",
                    str(args.devices),
                    "--minutes",
                    "30",
                    "--packets",
                    str(args.packets),
                    "--seed",
                    "7",
                ],
                check=True,
            )
    size = capture.stat().st_size
    with open(capture, "rb") as f:  # warm the page cache for every tool alike
        while f.read(16 << 20):
            pass
    packets, wire_bytes = capture_info(capture)
    print(
        f"capture: {capture} - {packets:,} packets, {size / 2**20:,.0f} MiB on disk, "
        f"mean frame {wire_bytes / max(packets, 1):,.0f} bytes"
    )

    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        # compile (or load from numba's cache) every kernel specialisation on a small
        # capture first, so no measured run pays for compilation
        small = Path(tmp) / "warm.pcap"
        subprocess.run(
            [medsec, "simulate", "--out", str(small), "--devices", "10", "--minutes", "1"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [medsec, "--db", str(Path(tmp) / "warm.db"), "discover", "--inspect", str(small)],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [medsec, "--db", str(Path(tmp) / "warm2.db"), "discover", str(small)],
            check=True,
            capture_output=True,
        )
        db = Path(tmp) / "bench.db"
        runs.append(
            run(
                "medsec discover (SQLite)",
                [medsec, "--db", str(db), "discover", str(capture), "--json"],
            )
        )
        runs.append(
            run(
                "medsec discover --inspect",
                [
                    medsec,
                    "--db",
                    str(db) + "-flows",
                    "discover",
                    str(capture),
                    "--json",
                    "--inspect",
                ],
            )
        )
        runs.append(
            run(
                "medsec capture engine only",
                [
                    sys.executable,
                    "-c",
                    "from pathlib import Path;from medsec.capture.reader import read_capture;"
                    f"read_capture(Path({str(capture)!r}))",
                ],
            )
        )
    if not args.skip_others:
        if shutil.which("tshark"):
            runs.append(
                run("tshark -q -z conv,ip", ["tshark", "-r", str(capture), "-q", "-z", "conv,ip"])
            )
        else:
            print("tshark not installed: skipped")
        if shutil.which("argus"):
            runs.append(run("argus -w /dev/null", ["argus", "-r", str(capture), "-w", "/dev/null"]))
        else:
            print("argus not installed: skipped")

    base = runs[0]
    print()
    print(
        f"{'tool':32} {'seconds':>9} {'packets/s':>12} {'MB/s':>8} {'peak RSS MiB':>13} "
        f"{'medsec x':>9}"
    )
    for r in runs:
        if not r.ok:
            print(f"{r.tool:32} failed: {r.note}")
            continue
        pps = packets / r.seconds if r.seconds else 0
        ratio = r.seconds / base.seconds if base.ok and base.seconds else 0
        print(
            f"{r.tool:32} {r.seconds:9.2f} {pps:12,.0f} {size / r.seconds / 1e6:8.1f} "
            f"{r.peak_rss_mib:13,.0f} {ratio:9.2f}"
        )
    print("\n'medsec x' = how many times longer the tool took than medsec discover.")


if __name__ == "__main__":
    main()
