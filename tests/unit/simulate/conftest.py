"""Captures generated once per test session."""

from __future__ import annotations

import pytest
from simulate_capture import Generated

from medsec.simulate import generate


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """A 30-endpoint hospital, 4 minutes, no bulk traffic."""
    out = tmp_path_factory.mktemp("small") / "hospital.pcap"
    return Generated(generate(out, devices=30, minutes=4, seed=7))


@pytest.fixture(scope="session")
def bulk(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The smallest hospital topped up to 200,000 packets in 3 minutes."""
    out = tmp_path_factory.mktemp("bulk") / "bulk.pcap"
    return Generated(generate(out, devices=10, minutes=3, seed=3, target_packets=200_000))
