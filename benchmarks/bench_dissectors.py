#!/usr/bin/env python3
"""CPU time each protocol dissector spends on a capture, as ``medsec discover --inspect``
runs them.

Usage::

    python benchmarks/bench_dissectors.py                       # the 3M-packet bench capture
    python benchmarks/bench_dissectors.py --capture F.pcap --runs 5
    python benchmarks/bench_dissectors.py --only tls,dicom      # a few dissectors' rows
    PYTHONPATH=/other/checkout/src python benchmarks/bench_dissectors.py   # another version

Every run is a new process pinned to core 0 (cold, as discover is: nothing remembered yet,
pydicom not imported; bytecode compiled by an unmeasured first run) that imports what the
CLI imports, sets up the cyclic collector as discover does (the CLI's threshold, the startup
heap frozen) and reads the capture once through the dissect pipeline, timing each
dissector's ``dissect`` with ``time.process_time()`` (the observations it yields included).
Each row shows the fastest of ``--runs`` runs (the VM is noisy), the time per call, the
observations yielded (``facts``, before the pipeline drops repeats) and the time of the
first call (which pays one-time costs: pydicom's import for DICOM); ``digest`` names every
observation kept, so two versions can be checked to state the same facts. Asserts nothing
(speed is measured, not tested).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_capture import bench_capture


def child(capture: str) -> None:
    """One measured read of ``capture``; prints seconds and calls per dissector as JSON."""
    import gc
    import hashlib
    import time

    import medsec.cli.main as cli  # everything discover has imported by then
    from medsec.capture.reader import read_capture
    from medsec.service import discover

    _, older, oldest = gc.get_threshold()
    gc.set_threshold(cli.GC_YOUNG_THRESHOLD, older, oldest)
    pipeline = discover._pipeline()
    gc.freeze()
    spent: dict[str, float] = {}
    calls: dict[str, int] = {}
    yielded: dict[str, int] = {}
    first: dict[str, float] = {}
    for dissector in pipeline.dissectors:
        inner = dissector.dissect

        def timed(payload: bytes, ctx: Any, inner: Any = inner, name: str = dissector.name) -> Any:
            found: list[Any] = []
            started = time.process_time()
            try:
                found = list(inner(payload, ctx))
                return found
            finally:
                seconds = time.process_time() - started
                spent[name] = spent.get(name, 0.0) + seconds
                first.setdefault(name, seconds)
                calls[name] = calls.get(name, 0) + 1
                yielded[name] = yielded.get(name, 0) + len(found)

        object.__setattr__(dissector, "dissect", timed)
    started = time.process_time()
    read_capture(Path(capture), sink=pipeline)
    total = time.process_time() - started
    digest = hashlib.sha256()
    for observation in pipeline.observations:
        digest.update(repr(observation).encode() + b"\n")
    print(
        json.dumps(
            {
                "spent": spent,
                "first": first,
                "calls": calls,
                "yielded": yielded,
                "kept": len(pipeline.observations),
                "read": total,
                "digest": digest.hexdigest()[:16],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--capture", type=Path, help="default: the simulated 3M-packet capture (bench_capture.py)"
    )
    parser.add_argument("--runs", type=int, default=3, help="fresh processes (default 3)")
    parser.add_argument("--only", help="comma-separated dissector names to show")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    capture = args.capture or bench_capture(3_000_000, 400)
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    scratch = tempfile.TemporaryDirectory(prefix="bench-dissectors-")
    env = dict(os.environ)
    # as bench_discover.py: modules byte-compiled by the warm-up run (a development
    # environment with PYTHONDONTWRITEBYTECODE would compile pydicom inside the first DICOM
    # call of every run), in a cache of this benchmark's own
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(scratch.name, "pycache")
    best: dict[str, float] = {}
    first: dict[str, float] = {}
    calls: dict[str, int] = {}
    yielded: dict[str, int] = {}
    kept = 0
    reads: list[float] = []
    digests = set()
    for n in range(args.runs + 1):  # run 0 compiles the bytecode and fills the page cache
        print(f"run {n}/{args.runs} ...", file=sys.stderr, flush=True)
        out = subprocess.run(
            [*pin, sys.executable, __file__, "--child", str(capture)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        if n == 0:
            continue
        for name, seconds in result["spent"].items():
            best[name] = min(best.get(name, seconds), seconds)
        for name, seconds in result["first"].items():
            first[name] = min(first.get(name, seconds), seconds)
        calls.update(result["calls"])
        yielded.update(result["yielded"])
        kept = result["kept"]
        reads.append(result["read"])
        digests.add(result["digest"])
    only = set(args.only.split(",")) if args.only else None
    print(
        f"{'dissector':14s} {'calls':>7s} {'CPU ms':>9s} {'us/call':>8s} {'facts':>7s}"
        f" {'1st call ms':>12s}"
    )
    for name, seconds in sorted(best.items(), key=lambda item: -item[1]):
        if only is None or name in only:
            per = seconds / calls[name] * 1e6
            print(
                f"{name:14s} {calls[name]:7d} {seconds * 1e3:9.1f} {per:8.1f} {yielded[name]:7d}"
                f" {first[name] * 1e3:12.2f}"
            )
    print(f"{'all':14s} {sum(calls.values()):7d} {sum(best.values()) * 1e3:9.1f}")
    print(f"whole read: {min(reads):.2f} s CPU (fastest of {len(reads)}); {kept} facts kept")
    print(f"digest of the facts kept: {', '.join(sorted(digests))}")
    scratch.cleanup()


if __name__ == "__main__":
    main()
