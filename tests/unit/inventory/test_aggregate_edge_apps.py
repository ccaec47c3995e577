"""Edge application rows: one per (edge, application) in the order first seen, with its flows
(``capture_rows`` counts them per edge, not in a dict keyed by a 5-tuple per flow)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inventory_synth import flow, summary

from medsec.inventory.aggregate import capture_rows
from medsec.inventory.models import sqlite_time
from medsec.model.config import SiteNetworks
from medsec.model.traffic import FlowRecord

flows = st.lists(
    st.builds(
        flow,
        st.sampled_from(("10.0.0.1", "10.0.0.2")),
        st.sampled_from(("10.0.0.9", "52.1.2.3")),
        st.sampled_from((80, 443)),
        transport=st.sampled_from(("tcp", "udp")),
        client_port=st.sampled_from((40000, 40001)),
        app=st.sampled_from((None, "http", "tls", "dns")),
    ),
    max_size=30,
)


def counted(records: list[FlowRecord]) -> list[tuple[str, str, str, int, str, int]]:
    """The rows as a dict keyed by (edge, application) gives them."""
    apps: dict[tuple[str, str, str, int, str], int] = {}
    for f in records:
        if f.app is not None:
            key = (f.client_ip, f.server_ip, f.transport, f.server_port, f.app)
            apps[key] = apps.get(key, 0) + 1
    return [(*k, n) for k, n in apps.items()]


@settings(max_examples=300, deadline=None)
@given(flows)
def test_edge_apps_in_order_first_seen_with_their_flows(records: list[FlowRecord]) -> None:
    rows = capture_rows(
        summary("f", records), SiteNetworks.default(), datetime.now(UTC), sqlite_time
    )
    assert rows.edge_apps == counted(records)


def test_an_application_name_too_long_is_refused() -> None:
    records = [flow("10.0.0.1", "10.0.0.9", 80, app="x" * 33)]
    with pytest.raises(ValueError, match="longer than 32"):
        capture_rows(summary("f", records), SiteNetworks.default(), datetime.now(UTC), sqlite_time)
