"""Stored facts' JSON is read with the same answer, or error, as ``json.loads`` gives."""

from __future__ import annotations

import json

import pytest

from medsec.inventory.device_rows import _facts_of, _json

TEXTS = [
    '{"a": 1, "b": [1, "x", null, true], "c": {"d": 1.5}}',
    ' {"a": 1}',
    '{"a": 1} ',
    '{"a": 1}\n',
    '{"a": 1}x',
    '{"a": 1}{"b": 2}',
    "\ufeff{}",
    "",
    "\n",
    "[1, 2]",
    '"text"',
    "1",
    "nul",
    '{"a": NaN, "b": Infinity}',
    '{"a": 1e400}',
    '{"a":',
    '{"a": "\\ud800"}',
    '{"a": 1}\x00',
    None,
    b'{"a": 1}',
    7,
]


def outcome(read: object, text: object) -> tuple[str, object]:
    try:
        return "value", read(text)  # type: ignore[operator]
    except Exception as exc:  # the same error type as json.loads
        return "error", type(exc)


@pytest.mark.parametrize("text", TEXTS)
def test_read_as_json_loads_reads(text: object) -> None:
    assert repr(outcome(_json, text)) == repr(outcome(json.loads, text))


def test_facts_with_text_that_is_no_object_have_no_fields() -> None:
    ts = "2026-01-05 08:00:00.000001"
    rows = [("K", "p", ts, "tcp", None, None, 0, 0, None, None, 0, 1, t) for t in TEXTS]
    fields = [f.fields for f in _facts_of(rows)]
    assert fields[0] == {"a": 1, "b": [1, "x", None, True], "c": {"d": 1.5}}
    assert fields[1] == fields[2] == fields[3] == {"a": 1}
    assert fields[4] == fields[5] == fields[6] == fields[7] == {}
    assert fields[9] == fields[10] == fields[11] == {}  # JSON, but no object
    assert fields[-3] == {} and fields[-2] == {"a": 1} and fields[-1] == {}
