"""``stored_fact``, the fast ``Fact`` builder for observations read back from the inventory,
makes the very value the constructor makes."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medsec.identify.facts import Fact, stored_fact

TEXTS = st.one_of(st.none(), st.text(max_size=20))
INTS = st.integers(min_value=-(1 << 63), max_value=(1 << 64))
FIELDS = st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.text(), st.integers()))
VALUES = st.tuples(
    st.text(max_size=20),
    st.text(max_size=10),
    INTS,
    st.sampled_from(["tcp", "udp", "other", "l2"]),
    TEXTS,
    TEXTS,
    INTS,
    INTS,
    TEXTS,
    TEXTS,
    INTS,
    INTS,
    FIELDS,
)


def test_the_builder_takes_every_field_in_order() -> None:
    """Fails when ``Fact`` changes shape: update ``stored_fact`` with it."""
    names = tuple(inspect.signature(stored_fact).parameters)
    assert names == tuple(f.name for f in dataclasses.fields(Fact))


@given(VALUES)
def test_fast_fact_equals_the_constructed_one(values: tuple[object, ...]) -> None:
    fast = stored_fact(*values)  # type: ignore[arg-type]
    built = Fact(*values)  # type: ignore[arg-type]
    assert type(fast) is Fact
    assert fast == built and repr(fast) == repr(built)
    assert dataclasses.astuple(fast) == dataclasses.astuple(built)
    assert pickle.loads(pickle.dumps(fast)) == built
    assert dataclasses.replace(fast, vlan=7) == dataclasses.replace(built, vlan=7)


def test_fast_fact_is_still_frozen() -> None:
    fact = stored_fact("NtpMessage", "ntp", 1, "udp", None, None, 1, 2, None, None, 0, 3, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        fact.vlan = 2  # type: ignore[misc]
