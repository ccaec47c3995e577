"""``packet_context``, the dissect stage's fast ``PacketContext`` builder, makes the very value
the constructor makes."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medsec.model.observations import PacketContext, packet_context

IPS = st.one_of(st.none(), st.sampled_from(["10.0.0.1", "fe80::1", "0.0.0.0"]), st.text())
MACS = st.one_of(st.none(), st.sampled_from(["02:00:00:00:00:01"]), st.text(max_size=17))
INTS = st.integers(min_value=-(1 << 63), max_value=(1 << 64))
VALUES = st.tuples(
    INTS,
    st.sampled_from(["tcp", "udp", "other", "l2"]),
    IPS,
    IPS,
    INTS,
    INTS,
    MACS,
    MACS,
    INTS,
    INTS,
    INTS,
    st.sampled_from([None, True, False]),
)


def constructed(*values: object) -> PacketContext:
    names = [f.name for f in dataclasses.fields(PacketContext)]
    return PacketContext(**dict(zip(names, values, strict=True)))  # type: ignore[arg-type]


def test_the_builder_takes_every_field_in_order() -> None:
    """Fails when ``PacketContext`` changes shape: update ``packet_context`` with it."""
    names = tuple(inspect.signature(packet_context).parameters)
    assert names == tuple(f.name for f in dataclasses.fields(PacketContext))


@given(VALUES)
def test_fast_context_equals_the_constructed_one(values: tuple[object, ...]) -> None:
    fast = packet_context(*values)  # type: ignore[arg-type]
    built = constructed(*values)
    assert type(fast) is PacketContext
    assert fast == built and hash(fast) == hash(built) and repr(fast) == repr(built)
    assert dataclasses.astuple(fast) == values
    assert pickle.loads(pickle.dumps(fast)) == built
    assert dataclasses.replace(fast, from_client=True) == dataclasses.replace(
        built, from_client=True
    )


def test_fast_context_is_still_frozen() -> None:
    ctx = packet_context(1, "udp", None, None, 1, 2, None, None, 0, 0x0800, 3, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.ts_ns = 2  # type: ignore[misc]
