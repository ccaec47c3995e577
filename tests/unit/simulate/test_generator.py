"""generate(): determinism, file layout, parameters, progress."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from simulate_capture import Generated

from medsec.model.errors import SimulationError
from medsec.simulate import SimulationResult, generate


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a.pcap", devices=12, minutes=2, seed=5)
    second = generate(tmp_path / "b.pcap", devices=12, minutes=2, seed=5)
    assert _digest(first.pcap) == _digest(second.pcap)
    assert first.truth.read_text() == second.truth.read_text()
    assert (first.packets, first.bytes, first.hosts) == (
        second.packets,
        second.bytes,
        second.hosts,
    )


def test_different_seed_gives_different_capture(tmp_path: Path) -> None:
    first = generate(tmp_path / "a.pcap", devices=12, minutes=2, seed=5)
    second = generate(tmp_path / "b.pcap", devices=12, minutes=2, seed=6)
    assert _digest(first.pcap) != _digest(second.pcap)
    assert first.truth.read_text() != second.truth.read_text()


def test_gzip_output_holds_the_same_capture(tmp_path: Path) -> None:
    plain = generate(tmp_path / "plain.pcap", devices=10, minutes=1, seed=2)
    packed = generate(tmp_path / "packed.pcap.gz", devices=10, minutes=1, seed=2)
    assert packed.truth == tmp_path / "packed.truth.json"
    assert gzip.decompress(packed.pcap.read_bytes()) == plain.pcap.read_bytes()
    again = generate(tmp_path / "again.pcap.gz", devices=10, minutes=1, seed=2)
    assert _digest(again.pcap) == _digest(packed.pcap)


def test_pcap_global_header(small: Generated) -> None:
    header = small.result.pcap.read_bytes()[:24]
    magic, major, minor, zone, sigfigs, snaplen, linktype = struct.unpack("<IHHiIII", header)
    assert (magic, major, minor, zone, sigfigs) == (0xA1B2C3D4, 2, 4, 0, 0)
    assert (snaplen, linktype) == (65535, 1)


def test_result_and_truth_header(small: Generated) -> None:
    result, truth = small.result, small.truth
    assert isinstance(result, SimulationResult)
    assert result.truth == result.pcap.with_name("hospital.truth.json")
    assert list(truth)[:8] == [
        "generator",
        "version",
        "seed",
        "devices",
        "minutes",
        "start",
        "packets",
        "bytes",
    ]
    assert truth["generator"] == "medsec.simulate"
    assert truth["version"] == 1
    assert (truth["seed"], truth["devices"], truth["minutes"]) == (7, 30, 4)
    assert truth["start"] == "2026-01-05T08:00:00Z"
    assert (truth["packets"], truth["bytes"]) == (result.packets, result.bytes)
    assert result.hosts == len(truth["hosts"])


def test_first_and_last_packet_inside_the_window(small: Generated) -> None:
    data = small.result.pcap.read_bytes()
    first_seconds = struct.unpack("<I", data[24:28])[0]
    assert first_seconds >= 1_767_600_000  # 2026-01-05T08:00:00Z
    assert first_seconds < 1_767_600_000 + 4 * 60
    assert small.view.timestamps_ordered


def test_progress_is_reported(tmp_path: Path) -> None:
    seen: list[int] = []
    result = generate(
        tmp_path / "p.pcap",
        devices=10,
        minutes=1,
        seed=1,
        target_packets=120_000,
        progress=seen.append,
    )
    assert seen
    assert seen == sorted(seen)
    assert seen[-1] == result.packets


@pytest.mark.parametrize(
    "kwargs",
    [
        {"devices": 9},
        {"devices": 5001},
        {"minutes": 0},
        {"minutes": 24 * 60 + 1},
        {"target_packets": 0},
    ],
)
def test_impossible_parameters_are_refused(tmp_path: Path, kwargs: dict[str, int]) -> None:
    with pytest.raises(SimulationError):
        generate(tmp_path / "x.pcap", **kwargs)  # type: ignore[arg-type]


def test_unwritable_destination_is_a_simulation_error(tmp_path: Path) -> None:
    with pytest.raises(SimulationError):
        generate(tmp_path / "missing" / "x.pcap", devices=10, minutes=1)


def test_output_does_not_depend_on_hash_randomisation(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from medsec.simulate import generate; "
        "generate(Path(sys.argv[1]), devices=10, minutes=1, seed=11, target_packets=30_000)"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        out = tmp_path / f"h{hash_seed}.pcap"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env)
        digests.add((_digest(out), _digest(out.with_name(f"h{hash_seed}.truth.json"))))
    assert len(digests) == 1
