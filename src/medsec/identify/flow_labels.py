"""Labels of the communication graph's edges: cleartext, PHI, credentials, destination name.

Knowledge is data (``rules/network/flow_labels.yaml``); this module applies it to one
capture's flows and observations. An observation belongs to the edge of the flow with its
5-tuple (either direction); DNS answers seen anywhere in the capture name the addresses
they resolve, so an external edge gets the name its client asked for even without TLS SNI.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

import yaml

from medsec.identify.facts import Fact
from medsec.identify.rules import SAFE_LOADER
from medsec.model.errors import RuleError
from medsec.model.observations import Observation

EdgeKey = tuple[str, str, str, int]
"""(client_ip, server_ip, transport, server_port), as the inventory keys edges."""


@dataclass(frozen=True, slots=True)
class EdgeLabels:
    cleartext: bool = False
    phi: bool = False
    credentials_in_clear: bool = False
    destination_name: str | None = None


@dataclass(frozen=True, slots=True)
class _FactTest:
    observation: str
    field: str | None
    op: str  # "true" (field is True) or "exists" (field set)

    def holds(self, fact: Fact) -> bool:
        """The fact states it (its field true, or present for ``exists``)."""
        return self.holds_in(fact.fields)

    def holds_in(self, fields: Mapping[str, Any]) -> bool:
        """``holds`` for a fact with these fields."""
        if self.field is None:
            return True
        value = fields.get(self.field)
        return value is True if self.op == "true" else value not in (None, "", [], ())


@dataclass(frozen=True, slots=True)
class LabelRules:
    cleartext_apps: frozenset[str]
    phi: Mapping[str, tuple[_FactTest, ...]]
    credentials: Mapping[str, tuple[_FactTest, ...]]
    names: Mapping[str, tuple[str, ...]]

    @property
    def kinds(self) -> frozenset[str]:
        """Observation kinds that can label an edge: the others need not become facts."""
        return (
            frozenset(self.phi)
            | frozenset(self.credentials)
            | frozenset(self.names)
            | _READ_BY_KIND
        )

    def fields_read(self, kind: str) -> tuple[str, ...]:
        """The fields ``edge_labels`` reads of a fact of ``kind`` (no others can matter)."""
        names = [t.field for t in (*self.phi.get(kind, ()), *self.credentials.get(kind, ()))]
        names += self.names.get(kind, ())
        names += _DNS_FIELDS.get(kind, ())
        return tuple(dict.fromkeys(n for n in names if n is not None))


_DNS_FIELDS = {
    "DnsAliasRecord": ("response", "target", "name"),
    "DnsAddressRecord": ("response", "name", "address"),
}
"""The fields ``edge_labels`` reads of DNS answers (the names they resolve)."""
_READ_BY_KIND = frozenset({*_DNS_FIELDS, "StartTlsRequest"})
"""Kinds ``edge_labels`` reads by name: DNS answers (destination names), STARTTLS."""


class _Seen(Protocol):
    """Where a fact was seen: a ``Fact`` or an observation's ``PacketContext``."""

    @property
    def transport(self) -> str: ...
    @property
    def src_ip(self) -> str | None: ...
    @property
    def dst_ip(self) -> str | None: ...
    @property
    def src_port(self) -> int: ...
    @property
    def dst_port(self) -> int: ...


def _tests(entries: Iterable[Mapping[str, Any]]) -> dict[str, tuple[_FactTest, ...]]:
    out: dict[str, list[_FactTest]] = {}
    for e in entries:
        test = _FactTest(str(e["observation"]), e.get("field"), str(e.get("op", "true")))
        out.setdefault(test.observation, []).append(test)
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def label_rules() -> LabelRules:
    text = resources.files("medsec.rules").joinpath("network/flow_labels.yaml").read_text()
    raw = yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 (the safe loader, in C)
    try:
        names: dict[str, list[str]] = {}
        for e in raw["destination_name_fields"]:
            names.setdefault(str(e["observation"]), []).append(str(e["field"]))
        return LabelRules(
            cleartext_apps=frozenset(str(a) for a in raw["cleartext_apps"]),
            phi=_tests(raw["phi_fields"]),
            credentials=_tests(raw["credential_facts"]),
            names={k: tuple(v) for k, v in names.items()},
        )
    except (KeyError, TypeError) as exc:
        raise RuleError(f"network/flow_labels.yaml: malformed entry ({exc})") from exc


def _ends(transport: str, a: str, pa: int, b: str, pb: int) -> tuple[str, str, str, int, int]:
    if (a, pa) <= (b, pb):
        return transport, a, b, pa, pb
    return transport, b, a, pb, pa


def _literal_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _clean_name(name: str) -> str | None:
    name = name.strip().rstrip(".").lower()
    if name.count(":") == 1:  # host:port
        name = name.split(":", 1)[0]
    if not name or _literal_ip(name) or len(name) > 253:
        return None
    return name


def edge_labels(
    flows: Sequence[tuple[EdgeKey, int, str | None]],
    facts: Iterable[Fact],
    rules: LabelRules | None = None,
) -> dict[EdgeKey, EdgeLabels]:
    """Labels per edge. ``flows``: (edge key, client port, application) of every flow."""
    return _labels(flows, ((f.kind, f.fields, f) for f in facts), rules or label_rules())


def observation_labels(
    flows: Sequence[tuple[EdgeKey, int, str | None]],
    observations: Iterable[Observation],
    rules: LabelRules | None = None,
) -> dict[EdgeKey, EdgeLabels]:
    """``edge_labels(flows, map(fact_of, observations))``, without making the facts.

    Only observations of kinds that can label an edge are read, and of them only the fields
    the rules read (``LabelRules.fields_read``): an ingest labels its edges from thousands
    of observations, and a ``Fact`` of all their fields costs more than the labelling.
    """
    rules = rules or label_rules()
    return _labels(flows, _observed(observations, rules), rules)


def _observed(
    observations: Iterable[Observation], rules: LabelRules
) -> Iterator[tuple[str, Mapping[str, Any], _Seen]]:
    """(kind, fields read, where) of each observation that can label an edge, in order."""
    kinds = rules.kinds
    read: dict[type[Observation], tuple[str, tuple[str, ...]] | None] = {}
    for o in observations:
        cls = type(o)
        if cls in read:
            plan = read[cls]
        else:
            plan = read[cls] = _plan(cls, kinds, rules)
        if plan is not None:
            kind, names = plan
            yield kind, {name: getattr(o, name) for name in names}, o.ctx


def _plan(
    cls: type[Observation], kinds: frozenset[str], rules: LabelRules
) -> tuple[str, tuple[str, ...]] | None:
    """An observation class's kind and the fields read of it (its own, as ``fact_of``
    gives them: not ``ctx``); ``None`` when its kind cannot label an edge."""
    kind = cls.__name__
    if kind not in kinds:
        return None
    own = {f.name for f in dataclasses.fields(cls)} - {"ctx"}
    return kind, tuple(n for n in rules.fields_read(kind) if n in own)


def _labels(
    flows: Sequence[tuple[EdgeKey, int, str | None]],
    facts: Iterable[tuple[str, Mapping[str, Any], _Seen]],
    rules: LabelRules,
) -> dict[EdgeKey, EdgeLabels]:
    """``edge_labels`` of facts given as (kind, fields, where they were seen)."""
    by_tuple: dict[tuple[str, str, str, int, int], EdgeKey] = {}
    clear: set[EdgeKey] = set()
    cleartext_apps = rules.cleartext_apps
    for key, client_port, app in flows:
        client, server, transport, server_port = key
        by_tuple[_ends(transport, client, client_port, server, server_port)] = key
        if app is not None and app in cleartext_apps:
            clear.add(key)
    phi: set[EdgeKey] = set()
    creds: set[EdgeKey] = set()
    upgraded: set[EdgeKey] = set()
    named: dict[EdgeKey, tuple[int, str]] = {}
    resolved: dict[str, str] = {}  # address -> name asked for
    aliases: dict[str, str] = {}  # canonical name -> alias that led to it
    cleaned: dict[str, str | None] = {}
    # names repeat (many clients ask for few servers), and _clean_name tries each as an IP
    # address: three exceptions raised and caught when it is none

    def clean(name: str) -> str | None:
        if name in cleaned:
            return cleaned[name]
        out = _clean_name(name)
        if len(cleaned) < 4096:
            cleaned[name] = out
        return out

    phi_tests, credential_tests, name_fields = rules.phi, rules.credentials, rules.names
    # the fields read here are those LabelRules.fields_read names
    for kind, fields, where in facts:
        if kind == "DnsAliasRecord" and fields.get("response"):
            aliases.setdefault(
                str(fields.get("target", "")).lower().rstrip("."),
                str(fields.get("name", "")),
            )
        elif kind == "DnsAddressRecord" and fields.get("response"):
            name = str(fields.get("name", ""))
            address = fields.get("address")
            if address and name:
                resolved[str(address)] = name
        if where.src_ip is None or where.dst_ip is None:
            continue
        on = by_tuple.get(
            _ends(where.transport, where.src_ip, where.src_port, where.dst_ip, where.dst_port)
        )
        if on is None:
            continue
        tests = phi_tests.get(kind)
        if tests and any(t.holds_in(fields) for t in tests):
            phi.add(on)
        tests = credential_tests.get(kind)
        if tests and any(t.holds_in(fields) for t in tests):
            creds.add(on)
        if kind == "StartTlsRequest":
            upgraded.add(on)
        for rank, field in enumerate(name_fields.get(kind, ())):
            value = fields.get(field)
            asked = clean(value) if isinstance(value, str) else None
            if asked and (on not in named or rank < named[on][0]):
                named[on] = (rank, asked)
    out: dict[EdgeKey, EdgeLabels] = {}
    for key in set(by_tuple.values()):
        destination = named[key][1] if key in named else None
        if destination is None and key[1] in resolved:
            canonical = resolved[key[1]].lower().rstrip(".")
            seen = {canonical}
            while canonical in aliases and aliases[canonical].lower().rstrip(".") not in seen:
                canonical = aliases[canonical].lower().rstrip(".")
                seen.add(canonical)
            destination = clean(canonical)
        labels = EdgeLabels(
            cleartext=key in clear and key not in upgraded,
            phi=key in phi,
            credentials_in_clear=key in creds,
            destination_name=destination,
        )
        if labels != EdgeLabels():
            out[key] = labels
    return out
