"""``Fact``: one observation as the identify stage reads it, fresh or read back from a store.

Rules test an observation's own fields by name. A fresh observation holds them as its
dataclass attributes; a stored one as JSON values (tuples became lists). ``Fact`` gives both
the same face - a kind, where it was seen, and a mapping of field values - so the same rules
give the same result on a capture being read and on the inventory of last year.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from medsec.model.observations import Observation


@dataclass(frozen=True, slots=True)
class Fact:
    kind: str
    """Observation class name (``DhcpRequest``)."""
    protocol: str
    ts_ns: int
    transport: str
    src_ip: str | None
    dst_ip: str | None
    src_port: int
    dst_port: int
    src_mac: str | None
    dst_mac: str | None
    vlan: int
    flow_id: int
    fields: Mapping[str, Any]
    """The observation's own fields (``ctx`` excluded)."""


class _FactDraft:
    """A fact being made: the slots of ``Fact``, without its frozen ``__setattr__``."""

    __slots__ = tuple(f.name for f in dataclasses.fields(Fact))


def stored_fact(
    kind: str,
    protocol: str,
    ts_ns: int,
    transport: str,
    src_ip: str | None,
    dst_ip: str | None,
    src_port: int,
    dst_port: int,
    src_mac: str | None,
    dst_mac: str | None,
    vlan: int,
    flow_id: int,
    fields: Mapping[str, Any],
) -> Fact:
    """``Fact(...)`` by position, five times faster (0.25 against 1.2 us; identification reads
    back every stored observation as one). The frozen ``__init__`` sets each field through
    ``object.__setattr__``; here plain stores fill a ``_FactDraft`` in, which then becomes a
    ``Fact`` by ``__class__`` assignment - allowed only between classes of the same slots and
    layout, as the draft's are the fact's fields (``packet_context`` does the same for
    contexts). A ``__post_init__`` or another field on ``Fact`` needs this function changed
    too: its test compares the two ways."""
    fact: Any = _FactDraft()
    fact.kind = kind
    fact.protocol = protocol
    fact.ts_ns = ts_ns
    fact.transport = transport
    fact.src_ip = src_ip
    fact.dst_ip = dst_ip
    fact.src_port = src_port
    fact.dst_port = dst_port
    fact.src_mac = src_mac
    fact.dst_mac = dst_mac
    fact.vlan = vlan
    fact.flow_id = flow_id
    fact.fields = fields
    fact.__class__ = Fact
    return cast(Fact, fact)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _own_fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(kind) if f.name != "ctx")
        _FIELDS[kind] = names
    return names


def fact_of(obs: Observation) -> Fact:
    ctx = obs.ctx
    return Fact(
        kind=type(obs).__name__,
        protocol=obs.PROTOCOL,
        ts_ns=ctx.ts_ns,
        transport=ctx.transport,
        src_ip=ctx.src_ip,
        dst_ip=ctx.dst_ip,
        src_port=ctx.src_port,
        dst_port=ctx.dst_port,
        src_mac=ctx.src_mac,
        dst_mac=ctx.dst_mac,
        vlan=ctx.vlan,
        flow_id=ctx.flow_id,
        fields={name: getattr(obs, name) for name in _own_fields(type(obs))},
    )
