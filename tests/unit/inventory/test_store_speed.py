"""Ingest speed: 100,000 flows in one capture, on each engine.

The measured rate is logged; see it with::

    pytest tests/unit/inventory/test_store_speed.py -o log_cli=true -o log_cli_level=INFO

The bound is loose (a busy CI machine must not fail it); it catches order-of-magnitude
regressions such as per-row statements or per-row ORM objects.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from inventory_synth import big_summary

from medsec.inventory import Store
from medsec.model.config import SiteNetworks

logger = logging.getLogger(__name__)
FLOWS = 100_000
BOUND_S = 60.0


@pytest.mark.slow
def test_100k_flows(store_url: str, record_property: Callable[[str, object], None]) -> None:
    capture = big_summary(FLOWS, seed=1)
    merge = big_summary(FLOWS, seed=2)
    with Store.open(store_url) as store:
        started = time.perf_counter()
        result = store.ingest(capture, SiteNetworks.default())
        first = time.perf_counter() - started
        started = time.perf_counter()
        store.ingest(merge, SiteNetworks.default())  # into existing hosts, edges, bindings
        second = time.perf_counter() - started
        assert store.totals().flows == 2 * FLOWS
    for label, seconds in (("new", first), ("merge", second)):
        logger.info(
            "%s: %d flows (%d edges, %d hosts) ingested (%s) in %.2f s = %.0f flows/s",
            store.dialect,
            FLOWS,
            result.edges,
            result.hosts,
            label,
            seconds,
            FLOWS / seconds,
        )
        record_property(f"{store.dialect}_{label}_flows_per_s", round(FLOWS / seconds))
    assert first < BOUND_S and second < BOUND_S
