"""An observation's own fields as a JSON object, for any ``Observation`` subclass.

The store does not know the observation classes (each protocol family adds its own), so it
serialises them generically: every dataclass field except ``ctx``, with

* ``str``, ``int``, ``bool``, ``None`` as they are, finite ``float``\\ s as numbers;
* tuples, lists (and sets, frozensets: sorted by their JSON text) as arrays;
* nested dataclasses as objects of all their fields; mappings as objects (keys as text);
* ``datetime`` as ISO 8601 text, in UTC when it has a zone (``2025-03-01T08:00:00+00:00``;
  a naive one is written as it is, without an offset);
* ``bytes``, ``bytearray``, ``memoryview`` as lower-case hex text;
* enums as their value (serialised by these same rules);
* anything else (IP address objects, NaN, ...) as ``str(value)``.

The common case costs one ``json.dumps`` call in C: Python is called back only for the
values JSON has no type for. A value the fast path cannot encode (NaN, a mapping with
non-text keys) sends that observation through the slower, pure-Python conversion.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from medsec.model.observations import Observation

_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


_FIELDS: dict[type[Any], tuple[str, ...]] = {}


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    """The dataclass fields of ``cls``, ``ctx`` excluded for observations (cached)."""
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        if issubclass(cls, Observation):
            names = tuple(n for n in names if n != "ctx")
        _FIELDS[cls] = names
    return names


def _time(value: datetime) -> str:
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(UTC)
    return value.isoformat()


def _default(value: Any) -> Any:
    """``json.dumps``'s hook: a JSON-able stand-in for a value JSON has no type for."""
    cls = type(value)
    names = _FIELDS.get(cls)  # a nested dataclass seen before: the most common case
    if names is not None:
        return {name: getattr(value, name) for name in names}
    if cls is datetime:
        return _time(value)
    if cls is bytes:
        return value.hex()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: getattr(value, name) for name in _field_names(cls)}
    if isinstance(value, datetime):
        return _time(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return to_json_value(value)
    return str(value)


def _encoder() -> Callable[[Any], str]:
    """One JSON encoder, built once: compact, ASCII, no NaN, calling ``_default``.

    ``JSONEncoder.encode`` builds CPython's C encoder anew on every call - a third of the
    cost of a small object - so the C encoder is made once here when there is one.
    """
    try:
        from _json import make_encoder
    except ImportError:  # not CPython
        return json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_default).encode
    from json.encoder import encode_basestring_ascii

    # No markers: observations are frozen values, a cycle is a bug and ends in RecursionError.
    c_encode = make_encoder(
        None, _default, encode_basestring_ascii, None, ":", ",", False, False, False
    )

    def encode(value: Any) -> str:
        return "".join(c_encode(value, 0))

    return encode


_encode = _encoder()


def to_json_value(value: Any) -> Any:
    """``value`` as plain JSON values (dict, list, str, int, float, bool, None), by the
    rules above: the slow path, also the reference the fast path must agree with."""
    if value is None or (isinstance(value, bool | str | int) and not isinstance(value, Enum)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Enum):
        return to_json_value(value.value)
    if isinstance(value, tuple | list):
        return [to_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        items = [to_json_value(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: to_json_value(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, datetime):
        return _time(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def facts_json(obs: Observation) -> str:
    """The JSON text of ``obs``'s own fields (an object; ``ctx`` left out)."""
    own = {name: getattr(obs, name) for name in _field_names(type(obs))}
    try:
        return _encode(own)
    except (ValueError, TypeError, RecursionError):
        # NaN or infinity, a mapping with keys JSON cannot take, a cycle: the careful path.
        return _dumps(to_json_value(own))
