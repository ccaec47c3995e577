"""Labels of the communication graph's edges: cleartext, PHI, credentials, destination name.

Knowledge is data (``rules/network/flow_labels.yaml``); this module applies it to one
capture's flows and observations. An observation belongs to the edge of the flow with its
5-tuple (either direction); DNS answers seen anywhere in the capture name the addresses
they resolve, so an external edge gets the name its client asked for even without TLS SNI.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from medsec.identify.facts import Fact
from medsec.identify.rules import SAFE_LOADER
from medsec.model.errors import RuleError

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
        if self.field is None:
            return True
        value = fact.fields.get(self.field)
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


_READ_BY_KIND = frozenset({"DnsAliasRecord", "DnsAddressRecord", "StartTlsRequest"})
"""Kinds ``edge_labels`` reads by name: DNS answers (destination names), STARTTLS."""


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
    rules = rules or label_rules()
    by_tuple: dict[tuple[str, str, str, int, int], EdgeKey] = {}
    clear: set[EdgeKey] = set()
    for key, client_port, app in flows:
        client, server, transport, server_port = key
        by_tuple[_ends(transport, client, client_port, server, server_port)] = key
        if app is not None and app in rules.cleartext_apps:
            clear.add(key)
    phi: set[EdgeKey] = set()
    creds: set[EdgeKey] = set()
    upgraded: set[EdgeKey] = set()
    named: dict[EdgeKey, tuple[int, str]] = {}
    resolved: dict[str, str] = {}  # address -> name asked for
    aliases: dict[str, str] = {}  # canonical name -> alias that led to it
    for fact in facts:
        if fact.kind == "DnsAliasRecord" and fact.fields.get("response"):
            aliases.setdefault(
                str(fact.fields.get("target", "")).lower().rstrip("."),
                str(fact.fields.get("name", "")),
            )
        elif fact.kind == "DnsAddressRecord" and fact.fields.get("response"):
            name = str(fact.fields.get("name", ""))
            address = fact.fields.get("address")
            if address and name:
                resolved[str(address)] = name
        if fact.src_ip is None or fact.dst_ip is None:
            continue
        on = by_tuple.get(
            _ends(fact.transport, fact.src_ip, fact.src_port, fact.dst_ip, fact.dst_port)
        )
        if on is None:
            continue
        if any(t.holds(fact) for t in rules.phi.get(fact.kind, ())):
            phi.add(on)
        if any(t.holds(fact) for t in rules.credentials.get(fact.kind, ())):
            creds.add(on)
        if fact.kind == "StartTlsRequest":
            upgraded.add(on)
        for rank, field in enumerate(rules.names.get(fact.kind, ())):
            value = fact.fields.get(field)
            asked = _clean_name(value) if isinstance(value, str) else None
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
            destination = _clean_name(canonical)
        labels = EdgeLabels(
            cleartext=key in clear and key not in upgraded,
            phi=key in phi,
            credentials_in_clear=key in creds,
            destination_name=destination,
        )
        if labels != EdgeLabels():
            out[key] = labels
    return out
