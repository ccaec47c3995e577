"""Ingest speed: 100,000 flows and 100,000 observations in one capture, on each engine.

The measured rate is logged; see it with::

    pytest tests/unit/inventory/test_store_speed.py -o log_cli=true -o log_cli_level=INFO

The bound is loose (a busy CI machine must not fail it); it catches order-of-magnitude
regressions such as per-row statements or per-row ORM objects.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import pytest
from inventory_synth import big_summary

from medsec.inventory import Store
from medsec.model.config import SiteNetworks

logger = logging.getLogger(__name__)
FLOWS = 100_000
OBSERVATIONS = 100_000
BOUND_S = 60.0


@pytest.mark.slow
def test_100k_flows_and_observations(
    store_url: str, record_property: Callable[[str, object], None]
) -> None:
    capture = big_summary(FLOWS, seed=1, n_observations=OBSERVATIONS)
    merge = big_summary(FLOWS, seed=2, n_observations=OBSERVATIONS)
    # The same flows without observations: what the observations cost on their own.
    bare = dataclasses.replace(big_summary(FLOWS, seed=3, n_observations=0), fingerprint="bare")
    with Store.open(store_url) as store:
        timings = {}
        for label, summary in (("new", capture), ("merge", merge), ("flows only", bare)):
            started = time.perf_counter()
            result = store.ingest(summary, SiteNetworks.default())
            timings[label] = (time.perf_counter() - started, result)
        totals = store.totals()
        assert (totals.flows, totals.observations) == (3 * FLOWS, 2 * OBSERVATIONS)
    for label, (seconds, result) in timings.items():
        logger.info(
            "%s: %d flows (%d edges, %d hosts) + %d observations ingested (%s) in %.2f s "
            "= %.0f flows/s",
            store.dialect,
            result.flows,
            result.edges,
            result.hosts,
            result.observations,
            label,
            seconds,
            result.flows / seconds,
        )
        key = label.replace(" ", "_")
        record_property(f"{store.dialect}_{key}_s", round(seconds, 2))
        assert seconds < BOUND_S
