"""The simulated hospital capture the benchmarks measure, made once per simulator version.

The file's name carries a digest of the simulator's source, so a change to the simulator
(which changes the traffic) makes a new capture instead of measuring a stale one.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO / "bench-data"
SIMULATOR = REPO / "src" / "medsec" / "simulate"


def simulator_digest() -> str:
    """Short digest of every source file of the simulator."""
    digest = hashlib.sha256()
    for path in sorted(SIMULATOR.rglob("*.py")):
        digest.update(path.relative_to(SIMULATOR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:10]


def bench_capture(packets: int, devices: int, directory: Path = DEFAULT_DIR) -> Path:
    """The capture of ``packets`` packets from ``devices`` simulated endpoints (30 minutes,
    seed 7), simulated into ``directory`` when this simulator has not made it yet."""
    directory.mkdir(parents=True, exist_ok=True)
    capture = directory / f"hospital-{packets}-{devices}-{simulator_digest()}.pcap"
    if not capture.exists():
        medsec = shutil.which("medsec") or str(Path(sys.executable).parent / "medsec")
        print(f"simulating {packets:,} packets into {capture} ...", flush=True)
        partial = capture.with_suffix(".partial.pcap")
        subprocess.run(
            [
                medsec,
                "simulate",
                "--out",
                str(partial),
                "--devices",
                str(devices),
                "--minutes",
                "30",
                "--packets",
                str(packets),
                "--seed",
                "7",
            ],
            check=True,
        )
        truth = partial.with_suffix(".truth.json")
        if truth.exists():
            truth.replace(capture.with_suffix(".truth.json"))
        partial.replace(capture)
    return capture
