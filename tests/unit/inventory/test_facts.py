"""An observation's own fields as JSON, for observation classes the store has never seen."""

from __future__ import annotations

import enum
import ipaddress
import json
from datetime import UTC, date, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, ClassVar

import pytest
from inventory_synth import Mode, Part, SynthBeacon, ctx, hello

from medsec.inventory.facts import facts_json, to_json_value
from medsec.model.observations import MalformedPayload, Observation, observation


class Level(enum.IntEnum):
    LOW = 1


class Colour(enum.StrEnum):
    RED = "red"


class Pair(enum.Enum):
    BOTH = (1, b"\x01")


@observation
class Odd(Observation):
    PROTOCOL: ClassVar[str] = "odd"
    value: Any


@observation
class OddChild(Odd):
    """A subclass of a subclass: its own name is its kind, its parent's protocol."""

    extra: int = 0


def facts(obs: Observation) -> dict[str, Any]:
    text = facts_json(obs)
    assert text.isascii()
    decoded = json.loads(text)
    assert isinstance(decoded, dict)
    return decoded


def odd(value: Any) -> Any:
    return facts(Odd(ctx=ctx(0), value=value))["value"]


def test_every_field_but_ctx() -> None:
    where = ctx(0)
    parts = (
        Part(name="a", syntaxes=()),
        Part(name="b", syntaxes=("1.2",), mode=Mode.STANDBY),
    )
    obs = hello(
        where,
        7,
        seen=datetime(2025, 3, 1, 10, 30, 0, 250, tzinfo=timezone(timedelta(hours=2))),
        raw=b"\x00\xff\x10",
        parts=parts,
        note=None,
        flag=True,
    )
    assert facts(obs) == {
        "names": ["ae-7", "ward-7"],
        "seen": "2025-03-01T08:30:00.000250+00:00",  # in UTC
        "raw": "00ff10",
        "part": {
            "name": "p7",
            "syntaxes": ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"],
            "mode": None,
        },
        "parts": [
            {"name": "a", "syntaxes": [], "mode": None},
            {"name": "b", "syntaxes": ["1.2"], "mode": 2},
        ],
        "note": None,
        "flag": True,
        "count": 7,
    }
    assert facts(SynthBeacon(ctx=where, serial="SN1")) == {"serial": "SN1", "mode": "active"}
    assert facts(MalformedPayload(ctx=where, dissector="dicom", reason="short PDU")) == {
        "dissector": "dicom",
        "reason": "short PDU",
    }
    assert facts(OddChild(ctx=where, value=None, extra=3)) == {"value": None, "extra": 3}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (0, 0),
        (-(2**70), -(2**70)),
        ('ü \x00 \U0001f600 "quoted"', 'ü \x00 \U0001f600 "quoted"'),
        ((), []),
        ([1, (2, 3)], [1, [2, 3]]),
        (1.5, 1.5),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
        ((1, float("inf")), [1, "inf"]),
        (Level.LOW, 1),
        (Colour.RED, "red"),
        (Pair.BOTH, [1, "01"]),
        (Mode.STANDBY, 2),
        (bytearray(b"\xab"), "ab"),
        (memoryview(b"\x01\x02"), "0102"),
        (b"", ""),
        (datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "2025-01-02T03:04:05+00:00"),
        (datetime(2025, 1, 2, 3, 4, 5), "2025-01-02T03:04:05"),  # naive: no zone invented
        (date(2025, 1, 2), "2025-01-02"),
        (ipaddress.ip_address("10.0.0.1"), "10.0.0.1"),
        (ipaddress.ip_network("fd00::/8"), "fd00::/8"),
        (frozenset({"b", "a", "c"}), ["a", "b", "c"]),
        (frozenset({3, 1}), [1, 3]),
        ({"k": (1, 2)}, {"k": [1, 2]}),
        (MappingProxyType({"k": b"\x01"}), {"k": "01"}),
        ({1: "x"}, {"1": "x"}),
        ({(1, 2): "x", "y": float("nan")}, {"(1, 2)": "x", "y": "nan"}),
        (Part(name="n", syntaxes=("s",)), {"name": "n", "syntaxes": ["s"], "mode": None}),
        (object, str(object)),
    ],
)
def test_values(value: Any, expected: Any) -> None:
    assert odd(value) == expected
    assert to_json_value(value) == expected  # the slow path agrees


def test_nested_observation_keeps_no_context() -> None:
    inner = SynthBeacon(ctx=ctx(0), serial="x")
    assert odd(inner) == {"serial": "x", "mode": "active"}


def test_cycles_are_bugs() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(RecursionError):
        facts_json(Odd(ctx=ctx(0), value=loop))
