"""Use case: write a simulated hospital capture (the only sample data medsec ships)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from medsec.simulate import SimulationResult, generate


def simulate(
    out: Path,
    *,
    devices: int,
    minutes: int,
    seed: int,
    target_packets: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Write ``out`` and its ``.truth.json`` beside it; deterministic for a seed."""
    return generate(
        out,
        devices=devices,
        minutes=minutes,
        seed=seed,
        target_packets=target_packets,
        progress=progress,
    )
