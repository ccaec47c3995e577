"""The pipeline's fast ``PacketContext`` builder makes the very value the constructor makes."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medsec.dissect import pipeline
from medsec.model.observations import PacketContext

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


def test_the_fast_builder_is_in_use() -> None:
    """Fails when ``PacketContext`` changes shape: update ``_context_maker`` with it."""
    assert pipeline._packet_context is not pipeline._construct_context
    assert pipeline._CONTEXT_FIELDS == tuple(f.name for f in dataclasses.fields(PacketContext))


@given(VALUES)
def test_fast_context_equals_the_constructed_one(values: tuple[object, ...]) -> None:
    fast = pipeline._packet_context(*values)  # type: ignore[arg-type]
    built = pipeline._construct_context(*values)  # type: ignore[arg-type]
    assert type(fast) is PacketContext
    assert fast == built and hash(fast) == hash(built) and repr(fast) == repr(built)
    assert dataclasses.astuple(fast) == values
    assert pickle.loads(pickle.dumps(fast)) == built
    assert dataclasses.replace(fast, from_client=True) == dataclasses.replace(
        built, from_client=True
    )


def test_fast_context_is_still_frozen() -> None:
    ctx = pipeline._packet_context(1, "udp", None, None, 1, 2, None, None, 0, 0x0800, 3, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.ts_ns = 2  # type: ignore[misc]


def test_a_context_class_with_its_own_init_logic_gets_the_constructor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(PacketContext, "__post_init__", lambda self: None, raising=False)
    assert pipeline._context_maker() is pipeline._construct_context


def test_a_context_class_of_another_layout_gets_the_constructor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Wider:
        __slots__ = (*pipeline._CONTEXT_FIELDS, "extra")

    monkeypatch.setattr(pipeline, "_Draft", Wider)
    assert pipeline._context_maker() is pipeline._construct_context
