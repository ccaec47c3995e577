"""The identify engine: observations + rules -> attributes per host, with confidence.

**Confidence.** Each rule that fires for a host supports one value of an attribute with its
weight ``w`` (1-99). Independent pieces of evidence combine like independent witnesses
(noisy-OR): ``confidence = 100 * (1 - prod(1 - w_i / 100))`` over the *distinct rules*
supporting that value - the same rule firing on a thousand packets counts once, so chatty
devices do not become more certain than quiet ones. The attribute takes the value of highest
confidence (ties: more supporting rules, then the value's text).

**Conflicts.** When another value of the same attribute reaches at least ``CONFLICT_RATIO``
of the winner's confidence, the attribute reports a conflict listing both, instead of
silently flapping between them as evidence arrives.

**Evidence.** Every value keeps the rules that support it and, per rule, the first
observation that fired it (time, protocol, kind, addresses), so a person can see why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from medsec.identify.facts import Fact, fact_of
from medsec.identify.rules import Rule, index_by_observation
from medsec.model.observations import Observation
from medsec.model.traffic import is_host_address

SubjectOf = Callable[[Fact, Literal["src", "dst"]], str | None]
"""Who a rule's subject is: the key of the host (or device) at one end of a fact, or None
when that end is nobody in particular (broadcast, unspecified, a router's MAC)."""

CONFLICT_RATIO = 0.8
MAX_CACHED = 200_000
"""Entries of each of the engine's caches of rule hits (bounds its memory)."""
MULTI_VALUED = frozenset({"software"})
"""Attributes whose values coexist (a host runs several products) instead of competing."""


@dataclass(frozen=True, slots=True)
class Evidence:
    rule_id: str
    weight: int
    reference: str
    ts_ns: int
    protocol: str
    observation: str
    src_ip: str | None
    dst_ip: str | None
    flow_id: int
    fields: tuple[str, ...] = ()
    """The observation fields the rule tested."""


@dataclass(frozen=True, slots=True)
class Candidate:
    value: str
    confidence: int
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class AttributeResult:
    """One attribute of a host: the chosen value and any serious competitor."""

    name: str
    value: str
    confidence: int
    evidence: tuple[Evidence, ...]
    conflicts: tuple[Candidate, ...] = ()


@dataclass(frozen=True, slots=True)
class Identity:
    """What the rules say about one host (keyed by IP, with the MACs it was seen with)."""

    host: str
    macs: tuple[str, ...]
    attributes: tuple[AttributeResult, ...]

    def get(self, name: str) -> str | None:
        for a in self.attributes:
            if a.name == name:
                return a.value
        return None

    def all(self, name: str) -> list[str]:
        """Every value of a multi-valued attribute (``software``)."""
        return [a.value for a in self.attributes if a.name == name]


def combine(weights: Iterable[int]) -> int:
    """Noisy-OR of rule weights, as a 0-100 integer."""
    doubt = 1.0
    for w in weights:
        doubt *= 1 - w / 100
    return round(100 * (1 - doubt))


_Hit = tuple[Rule, tuple[tuple[str, str], ...]]
"""A rule that fires, and the attribute values it yields."""
_FieldRules = tuple[str, list[Rule], list[Rule], tuple[str, ...]]
_Support = dict[str, Evidence]
"""The support of one value: rule id -> the first evidence of that rule."""


def host_of(fact: Fact, end: Literal["src", "dst"]) -> str | None:
    """The default subject: the IP address at that end; a sender without one (a DHCP
    client before its lease) is named by its MAC; multicast and broadcast are nobody."""
    ip = fact.src_ip if end == "src" else fact.dst_ip
    if ip is not None and is_host_address(ip):
        return ip
    return fact.src_mac if end == "src" else None


class IdentifyEngine:
    """Applies rules to observations; feed many batches, then ``identities()``.

    ``subject_of`` maps each end of a fact to the key results are grouped by: by default
    the host's IP address (``host_of``); the device stage passes one that names devices.
    """

    def __init__(self, rules: Sequence[Rule], subject_of: SubjectOf = host_of) -> None:
        # kind -> (field of the rules' first condition, its one-condition rules, the others,
        # the fields the others test)
        self._by_field: dict[str, list[_FieldRules]] = {}
        for kind, kind_rules in index_by_observation(rules).items():
            grouped: dict[str, tuple[list[Rule], list[Rule]]] = {}
            for rule in kind_rules:
                single, multi = grouped.setdefault(rule.conditions[0].field, ([], []))
                (single if len(rule.conditions) == 1 else multi).append(rule)
            self._by_field[kind] = [
                (f, s, m, tuple(dict.fromkeys(c.field for r in m for c in r.conditions)))
                for f, (s, m) in grouped.items()
            ]
        self._hits: dict[tuple[object, ...], list[_Hit]] = {}
        """(kind, field, value) -> the one-condition rules that value fires, with the values
        they yield; (kind, field, values of the fields tested) -> the same for the other rules:
        facts repeat values (every DHCP request of a device, every HL7 message of an
        interface), so each distinct value is tested once."""
        self._by_fields: dict[tuple[str, int], tuple[Mapping[str, object], list[_Hit]]] = {}
        """(kind, id of a fact's field mapping) -> the mapping and the rules it fires."""
        self._subject_of = subject_of
        # host -> attribute -> value -> support
        self._support: dict[str, dict[str, dict[str, _Support]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        self._macs: dict[str, set[str]] = defaultdict(set)

    def feed(self, observations: Iterable[Observation]) -> None:
        """Observations as dissectors made them."""
        self.feed_facts(fact_of(obs) for obs in observations)

    def feed_facts(self, facts: Iterable[Fact]) -> None:
        """Facts, e.g. observations read back from the inventory."""
        by_fields = self._by_fields
        for fact in facts:
            fields = fact.fields
            # facts read back share one mapping per distinct JSON text: its rules are found
            # once (the entry holds the mapping, so its id names no other while cached)
            entry = by_fields.get((fact.kind, id(fields)))
            if entry is None:
                entry = (fields, self._hits_of(fact))
                if len(by_fields) < MAX_CACHED:
                    by_fields[fact.kind, id(fields)] = entry
            for rule, values in entry[1]:
                self._support_from(rule, fact, values)

    def _hits_of(self, fact: Fact) -> list[_Hit]:
        """The rules ``fact`` fires, in rule order (by condition field, one-condition rules
        first), with the values they yield."""
        fields_rules = self._by_field.get(fact.kind)
        if not fields_rules:
            return []
        cache = self._hits
        fields = fact.fields
        out: list[_Hit] = []
        for name, single, multi, tested in fields_rules:
            value = fields.get(name)
            if value is None:
                continue  # no condition holds for an absent value: skip its rules
            if single:
                key = (fact.kind, name, _key(value))
                hits = cache.get(key) if key[2] is not None else None
                if hits is None:
                    hits = [
                        (rule, tuple(rule.values(groups)))
                        for rule in single
                        if (groups := rule.conditions[0].match(value)) is not None
                    ]
                    if key[2] is not None and len(cache) < MAX_CACHED:
                        cache[key] = hits
                out += hits
            if multi:
                values_key = _values_key(fields, tested)
                multi_key = (fact.kind, name, values_key, None)
                hits = cache.get(multi_key) if values_key is not None else None
                if hits is None:
                    hits = [
                        (rule, tuple(rule.values(groups)))
                        for rule in multi
                        if (groups := self._fires(rule, fact)) is not None
                    ]
                    if values_key is not None and len(cache) < MAX_CACHED:
                        cache[multi_key] = hits
                out += hits
        return out

    def _support_from(self, rule: Rule, fact: Fact, values: tuple[tuple[str, str], ...]) -> None:
        host = self._subject_of(fact, rule.subject)
        if host is None:
            return
        if rule.subject == "src" and fact.src_mac:
            self._macs[host].add(fact.src_mac)
        by_attribute = self._support[host]
        evidence = None  # the same for every value the rule yields from this fact
        for attribute, value in values:
            by_value = by_attribute[attribute]
            support = by_value.get(value)
            if support is None:
                support = by_value[value] = {}
            if rule.id not in support:
                if evidence is None:
                    evidence = Evidence(
                        rule_id=rule.id,
                        weight=rule.weight,
                        reference=rule.reference,
                        ts_ns=fact.ts_ns,
                        protocol=fact.protocol,
                        observation=fact.kind,
                        src_ip=fact.src_ip,
                        dst_ip=fact.dst_ip,
                        flow_id=fact.flow_id,
                        fields=tuple(c.field for c in rule.conditions),
                    )
                support[rule.id] = evidence

    @staticmethod
    def _fires(rule: Rule, fact: Fact) -> dict[str, str] | None:
        """Regex groups when every condition of the rule holds for the fact."""
        groups: dict[str, str] = {}
        fields = fact.fields
        for condition in rule.conditions:
            if condition.field not in fields:
                return None
            found = condition.match(fields[condition.field])
            if found is None:
                return None
            groups.update(found)
        return groups

    def identities(self) -> list[Identity]:
        out = []
        for host in sorted(self._support):
            attributes: list[AttributeResult] = []
            for name in sorted(self._support[host]):
                candidates = sorted(
                    (
                        Candidate(
                            value=value,
                            confidence=combine(e.weight for e in s.values()),
                            evidence=tuple(s.values()),
                        )
                        for value, s in self._support[host][name].items()
                    ),
                    key=lambda c: (-c.confidence, -len(c.evidence), c.value),
                )
                if name in MULTI_VALUED:
                    attributes.extend(
                        AttributeResult(
                            name=name, value=c.value, confidence=c.confidence, evidence=c.evidence
                        )
                        for c in sorted(candidates, key=lambda c: c.value)
                    )
                    continue
                best = candidates[0]
                rivals = tuple(
                    c for c in candidates[1:] if c.confidence >= CONFLICT_RATIO * best.confidence
                )
                attributes.append(
                    AttributeResult(
                        name=name,
                        value=best.value,
                        confidence=best.confidence,
                        evidence=best.evidence,
                        conflicts=rivals,
                    )
                )
            out.append(
                Identity(
                    host=host, macs=tuple(sorted(self._macs[host])), attributes=tuple(attributes)
                )
            )
        return out


_ABSENT = object()


def _key(value: object) -> object:
    """``value`` as a dictionary key that tells apart what conditions tell apart, or None
    when it cannot be one (a mapping). Text - the common case - is its own key; other values
    carry their type (``True`` and ``1`` are equal keys but different text), lists and
    tuples become tuples of keys (conditions read both alike)."""
    if type(value) is str:
        return value
    if isinstance(value, list | tuple):
        items = tuple(_key(v) for v in value)
        return None if any(i is None for i in items) else ("seq", items)
    if isinstance(value, str | int | float) or value is None:  # bool is an int
        return (type(value), value)
    return None


def _values_key(fields: Mapping[str, object], names: tuple[str, ...]) -> tuple[object, ...] | None:
    """The keys of the fields ``names`` (absent ones too), or None when one cannot be a key."""
    out = []
    for name in names:
        value = fields.get(name, _ABSENT)
        if value is _ABSENT:
            out.append(_ABSENT)
            continue
        key = _key(value)
        if key is None:
            return None
        out.append(key)
    return tuple(out)
