"""Row building of ``inventory.aggregate``: the fast paths give what the plain ones give."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from medsec.inventory.aggregate import ns_time, ns_time_converter
from medsec.inventory.models import aware_time, sqlite_time

# 0001-01-01 .. 9999-12-31 in nanoseconds since 1970 (what a datetime can hold)
FIRST_NS = int((datetime(1, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000) * 1000
LAST_NS = int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()) * 1_000_000) * 1000


@settings(max_examples=500)
@given(st.lists(st.integers(FIRST_NS, LAST_NS), max_size=20))
def test_observation_times_as_sqlite_text(stamps: list[int]) -> None:
    convert = ns_time_converter(sqlite_time)
    near = [s + d for s in stamps[:3] for d in (0, 1, 999, 1000, 999_999_999, -1, -1000)]
    for ts in stamps + near:
        if FIRST_NS <= ts <= LAST_NS:
            assert convert(ts) == sqlite_time(ns_time(ts)), ts


def test_observation_times_at_edges_of_seconds() -> None:
    convert = ns_time_converter(sqlite_time)
    for ts in (0, -1, -999, -1000, -1_000_000_000, 1, 999_999_999, 1_000_000_000,
               1_767_600_000_999_999_999, 1_767_600_001_000_000_000):  # fmt: skip
        assert convert(ts) == sqlite_time(ns_time(ts)), ts
    assert convert(1_767_600_000_123_456_789) == "2026-01-05 08:00:00.123456"


def test_other_engines_get_their_own_converter() -> None:
    convert = ns_time_converter(aware_time)
    assert convert(1_767_600_000_123_456_789) == aware_time(ns_time(1_767_600_000_123_456_789))
