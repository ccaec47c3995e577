"""``generate``: simulate a hospital network and write a pcap plus its ground truth."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from medsec.model.errors import SimulationError
from medsec.simulate.bulk import BULK_PORTS, BulkLane
from medsec.simulate.channels import Network
from medsec.simulate.conversations import Conversations
from medsec.simulate.hospital import build_hospital
from medsec.simulate.ledger import Ledger
from medsec.simulate.pcap_writer import PcapWriter
from medsec.simulate.timeline import Timeline
from medsec.simulate.traffic import Planner
from medsec.simulate.truth import truth_document, truth_path, write_truth

logger = logging.getLogger(__name__)

START = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)
START_TEXT = "2026-01-05T08:00:00Z"
START_US = int(START.timestamp()) * 1_000_000
MAX_MINUTES = 24 * 60
MAX_TARGET_PACKETS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What :func:`generate` wrote."""

    pcap: Path
    truth: Path
    packets: int
    bytes: int
    """Sum of the frame lengths."""
    hosts: int
    """Internal hosts (endpoints and servers)."""


def generate(
    out: Path,
    *,
    devices: int = 40,
    minutes: int = 10,
    seed: int = 1,
    target_packets: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Write a deterministic capture of a simulated hospital to ``out`` (gzip if ``.gz``)
    and its ground truth to ``<stem>.truth.json`` beside it.

    ``devices`` clinical/IT endpoints (10 or more) plus the data-center servers talk for
    ``minutes``; with ``target_packets``, bulk transfers are added until the capture holds
    at least that many packets. ``progress`` is called with the packets written so far.
    """
    out = Path(out)
    if not 1 <= minutes <= MAX_MINUTES:
        raise SimulationError(f"minutes must be between 1 and {MAX_MINUTES}, not {minutes}")
    if target_packets is not None and not 0 < target_packets <= MAX_TARGET_PACKETS:
        raise SimulationError(
            f"target_packets must be between 1 and {MAX_TARGET_PACKETS}, not {target_packets}"
        )
    master = random.Random(seed)
    topology_rng = random.Random(master.getrandbits(64))
    traffic_rng = random.Random(master.getrandbits(64))
    bulk_rng = random.Random(master.getrandbits(64))
    hospital = build_hospital(devices, topology_rng)
    ledger = Ledger()
    duration = minutes * 60 * 1_000_000
    logger.debug("simulating %d hosts for %d minutes into %s", len(hospital.hosts), minutes, out)
    with PcapWriter(out) as writer:
        timeline = Timeline(writer, ledger, progress)
        network = Network(hospital, traffic_rng, ledger)
        planner = Planner(
            hospital,
            Conversations(network),
            timeline,
            traffic_rng,
            start=START_US,
            duration=duration,
        )
        planner.plan()
        lane = None
        if target_packets is not None:
            bulk_network = Network(hospital, bulk_rng, ledger, ports=BULK_PORTS)
            lane = BulkLane(
                Conversations(bulk_network),
                bulk_rng,
                start=START_US,
                duration=duration,
                target=target_packets,
            )
        timeline.run(lane)
        packets, size = writer.packets, writer.bytes
    truth = truth_path(out)
    document = truth_document(
        seed=seed,
        devices=devices,
        minutes=minutes,
        start=START_TEXT,
        packets=packets,
        size=size,
        hospital=hospital,
        ledger=ledger,
    )
    write_truth(truth, document)
    return SimulationResult(
        pcap=out, truth=truth, packets=packets, bytes=size, hosts=len(hospital.hosts)
    )
