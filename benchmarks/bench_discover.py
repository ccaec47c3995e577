#!/usr/bin/env python3
"""Throughput and memory of ``medsec discover`` against tshark and argus on the same file.

Usage::

    python benchmarks/bench_discover.py                    # simulate a 3M-packet capture once
    python benchmarks/bench_discover.py --capture F.pcap   # or use your own
    python benchmarks/bench_discover.py --packets 500000   # a smaller run

Every tool runs as its own process pinned to one core (``taskset -c 0`` when available),
after the file was read once so all of them find it in the page cache. Peak RSS comes from
``wait4`` of that process. medsec's variants run ``--repeat`` rounds (3 by default), the
variants alternating within a round so that load from other processes falls on all alike;
each row shows the fastest and the median run, and the cost of payload inspection is the
median of the same-round ratios. The simulated capture is made once per version of the
simulator (``bench_capture.py``). Asserts nothing (speed is measured, not tested).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_capture import bench_capture

BYTECODE = """Installed Python packages run from byte-compiled modules (pip compiles them at
install time). A development environment with ``PYTHONDONTWRITEBYTECODE`` set compiles every
imported module from source on every run instead - a cost of the environment, not of the
work measured, and one that grows with the number of modules a variant imports. So by default
the warm-up run writes bytecode into a temporary cache (``PYTHONPYCACHEPREFIX``) that the
measured runs read; ``--no-bytecode-cache`` measures the other way."""


@dataclass
class Run:
    tool: str
    seconds: float
    peak_rss_mib: float
    ok: bool
    note: str = ""
    median: float = 0.0
    """Of repeated runs (``seconds`` is then the fastest)."""
    cpu: float = 0.0
    """User + system CPU seconds (the median, of repeated runs): less disturbed than wall
    time by other processes competing for the core."""


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
    cpu = usage.ru_utime + usage.ru_stime
    return Run(tool, seconds, usage.ru_maxrss / 1024, proc.returncode == 0, note, seconds, cpu)


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
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the medsec runs")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="let every run compile medsec's modules from source (see BYTECODE)",
    )
    args = parser.parse_args()

    medsec = shutil.which("medsec") or str(Path(sys.executable).parent / "medsec")
    capture = args.capture or bench_capture(args.packets, args.devices)
    size = capture.stat().st_size
    with open(capture, "rb") as f:  # warm the page cache for every tool alike
        while f.read(16 << 20):
            pass
    packets, wire_bytes = capture_info(capture)
    print(
        f"capture: {capture} - {packets:,} packets, {size / 2**20:,.0f} MiB on disk, "
        f"mean frame {wire_bytes / max(packets, 1):,.0f} bytes"
    )

    no_inspect = ["--no-inspect"] if _has_flag(medsec, "--no-inspect") else []
    variants = [
        ("discover --no-inspect (flows only)", ["discover", str(capture), "--json", *no_inspect]),
        ("discover (inspect + identify)", ["discover", str(capture), "--json", "--inspect"]),
    ]
    engine = (
        "from pathlib import Path;from medsec.capture.reader import read_capture;"
        f"read_capture(Path({str(capture)!r}))"
    )
    rounds: list[list[Run]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_bytecode_cache:
            os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
            os.environ["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        print(
            "python bytecode: "
            + ("compiled every run" if args.no_bytecode_cache else "cached by the warm-up run"),
            flush=True,
        )
        # compile (or load from numba's cache) every kernel specialisation on a small
        # capture first, so no measured run pays for compilation
        small = Path(tmp) / "warm.pcap"
        subprocess.run(
            [medsec, "simulate", "--out", str(small), "--devices", "10", "--minutes", "1"],
            check=True,
            capture_output=True,
        )
        for i, (_label, argv) in enumerate(variants):
            warm = [a if a != str(capture) else str(small) for a in argv]
            db = str(Path(tmp) / f"warm{i}.db")
            subprocess.run([medsec, "--db", db, *warm], check=True, capture_output=True)
        for r in range(args.repeat):
            # alternate the variants within each round, so load from other processes on the
            # machine falls on both alike; a fresh database every run
            this: list[Run] = []
            for i, (label, argv) in enumerate(variants):
                db = str(Path(tmp) / f"bench-{r}-{i}.db")
                this.append(run(label, [medsec, "--db", db, *argv]))
            this.append(run("capture engine only", [sys.executable, "-c", engine]))
            rounds.append(this)
            print(
                f"round {r + 1}: "
                + ", ".join(
                    f"{x.tool} {x.seconds:.2f} s" if x.ok else f"{x.tool} failed" for x in this
                ),
                flush=True,
            )
    runs = [_summarise([rnd[i] for rnd in rounds]) for i in range(len(rounds[0]))]
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
        f"{'tool':36} {'min s':>7} {'median s':>9} {'CPU s':>7} {'packets/s':>12} {'MB/s':>8} "
        f"{'peak RSS MiB':>13} {'x flows only':>13}"
    )
    for r in runs:
        if not r.ok:
            print(f"{r.tool:36} failed: {r.note}")
            continue
        pps = packets / r.seconds if r.seconds else 0
        ratio = r.median / base.median if base.ok and base.median else 0
        print(
            f"{r.tool:36} {r.seconds:7.2f} {r.median:9.2f} {r.cpu:7.2f} {pps:12,.0f} "
            f"{size / r.seconds / 1e6:8.1f} {r.peak_rss_mib:13,.0f} {ratio:13.2f}"
        )
    pairs = [rnd[1].seconds / rnd[0].seconds for rnd in rounds if rnd[0].ok and rnd[1].ok]
    if pairs:
        print(
            f"\ninspection costs {(statistics.median(pairs) - 1) * 100:+.0f}% "
            f"(median of {len(pairs)} same-round ratios; lowest {(min(pairs) - 1) * 100:+.0f}%, "
            f"highest {(max(pairs) - 1) * 100:+.0f}%)"
        )
        cpu = [rnd[1].cpu / rnd[0].cpu for rnd in rounds if rnd[0].ok and rnd[1].ok and rnd[0].cpu]
        print(
            f"in CPU time (user + system) {(statistics.median(cpu) - 1) * 100:+.0f}% "
            f"(lowest {(min(cpu) - 1) * 100:+.0f}%, highest {(max(cpu) - 1) * 100:+.0f}%)"
        )
    print(
        "'x flows only' = median time over the median of discover --no-inspect; CPU s = "
        "median user+system time; packets/s and MB/s from the fastest run."
    )


def _has_flag(medsec: str, flag: str) -> bool:
    """Whether ``medsec discover`` knows ``flag`` (``--no-inspect`` came later)."""
    out = subprocess.run([medsec, "discover", "--help"], capture_output=True, text=True)
    return flag in out.stdout


def _summarise(runs: list[Run]) -> Run:
    """One row for repeated runs of a tool: the fastest run, with the median beside it."""
    ok = [r for r in runs if r.ok]
    if not ok:
        return runs[0]
    best = min(ok, key=lambda r: r.seconds)
    median = statistics.median(r.seconds for r in ok)
    cpu = statistics.median(r.cpu for r in ok)
    rss = max(r.peak_rss_mib for r in ok)
    return Run(best.tool, best.seconds, rss, True, median=median, cpu=cpu)


if __name__ == "__main__":
    main()
