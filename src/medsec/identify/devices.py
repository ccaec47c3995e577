"""Devices: the hosts of the inventory as things, across MAC, IP and DHCP lease changes.

**One device.** A device is named by its hardware: every universally or locally
administered MAC a host sent frames from (routers' MACs excluded - they speak for others) is
one device, with the IP addresses it held over time. Two MACs are one device when the same
non-MAC DHCP client identifier (option 61 that is not ``01`` + the MAC) or the same DHCPv6
DUID came from both at times that do not overlap - a device that moved from its wired to its
wireless interface, or whose interface was replaced. (Overlapping ones are kept apart: a
cloned disk image shares its DUID with its siblings, all alive at once.) An internal IP
address never seen with a MAC of its own (behind a router) is a device by itself.

**Whose fact.** An observation belongs to the device whose MAC sent or received it; failing
that, to the device that held the IP address at that time (the span holding the time, else
the nearest one). So a lease handed to another device later does not inherit the first
one's identity.

**Identity.** The identify engine runs with devices as subjects; ``identifiers`` come from
the fields ``rules/devices/identifiers.yaml`` lists; a device handles PHI when it is an end of
a fact that carried patient data (``rules/network/flow_labels.yaml``, ``phi_fields``).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml

from medsec.identify.engine import AttributeResult, IdentifyEngine
from medsec.identify.facts import Fact, fact_of
from medsec.identify.flow_labels import label_rules
from medsec.identify.hardware import hardware_address
from medsec.identify.rules import SAFE_LOADER, Rule
from medsec.identify.taxonomy import categories
from medsec.model.errors import RuleError
from medsec.model.traffic import is_host_address


@dataclass(frozen=True, slots=True)
class Sighting:
    """An IP address seen with a MAC (or alone) on a VLAN between two times."""

    ip: str | None
    mac: str | None
    vlan: int
    first_ns: int
    last_ns: int


@dataclass(frozen=True, slots=True)
class Held:
    """An address a device held: ``value`` (IP or MAC), VLAN, first and last seen."""

    value: str
    vlan: int
    first_ns: int
    last_ns: int


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    key: str
    """Stable name: ``mac:<mac>`` of its first MAC, or ``ip:<ip>`` for a MAC-less device."""
    macs: tuple[Held, ...]
    ips: tuple[Held, ...]
    attributes: tuple[AttributeResult, ...]
    identifiers: Mapping[str, tuple[str, ...]]
    protocols: tuple[str, ...]
    """Protocols of the facts it took part in (``dhcp``, ``dicom``, ...)."""
    handles_phi: bool
    links: tuple[str, ...]
    """Why several MACs are this one device (``dhcp client id 0a1b…``)."""
    first_ns: int
    last_ns: int

    def value(self, name: str) -> str | None:
        for a in self.attributes:
            if a.name == name:
                return a.value
        return None

    @property
    def category(self) -> str:
        return self.value("category") or "unknown"

    @property
    def medical(self) -> bool:
        found = categories().get(self.category)
        return bool(found and found.medical)


# -- which device: union of MACs, spans of IPs ------------------------------------------------


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent.setdefault(x, x)
        if parent != x:
            parent = self.parent[x] = self.find(parent)
        return parent

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class _Spans:
    """IP -> the devices that held it, sorted by first seen."""

    starts: list[int] = field(default_factory=list)
    items: list[tuple[int, int, str]] = field(default_factory=list)  # first, last, device

    def add(self, first: int, last: int, device: str) -> None:
        i = bisect.bisect(self.starts, first)
        self.starts.insert(i, first)
        self.items.insert(i, (first, last, device))

    def at(self, ts: int) -> str:
        if len(self.items) == 1:
            return self.items[0][2]
        best, gap = self.items[0][2], None
        for first, last, device in self.items:
            d = 0 if first <= ts <= last else min(abs(ts - first), abs(ts - last))
            if gap is None or d < gap:
                best, gap = device, d
        return best


_BROADCASTISH = ("ff:ff:ff:ff:ff:ff",)


def _unicast_mac(mac: str | None) -> bool:
    return bool(mac) and mac not in _BROADCASTISH and not int(str(mac)[:2], 16) & 0x01


def _client_id_token(fact: Fact) -> str | None:
    """A DHCP identity that survives a MAC change, or None (absent or just the MAC)."""
    if fact.kind == "DhcpRequest":
        cid = fact.fields.get("client_id")
        mac = str(fact.fields.get("client_mac") or "").replace(":", "")
        if not cid or (str(cid).startswith("01") and str(cid)[2:] == mac):
            return None
        return f"cid:{cid}"
    if fact.kind == "Dhcpv6Message" and fact.fields.get("client_duid"):
        if fact.fields.get("msg_type") in (1, 3, 5, 6, 8, 11):  # sent by the client
            return f"duid:{fact.fields['client_duid']}"
    return None


class DeviceMap:
    """Decides which device each address belongs to (see the module docstring)."""

    def __init__(
        self,
        sightings: Iterable[Sighting],
        facts: Sequence[Fact],
        *,
        internal: Mapping[str, bool],
        gateways: frozenset[str],
        external_devices: bool = False,
    ) -> None:
        self._gateways = gateways
        self._external_devices = external_devices
        self._memo: dict[tuple[str | None, str | None], str | None] = {}
        # the few facts read here, each kind picked in one pass: DHCP, and senders without an
        # address (LLDP/CDP, DHCP before a lease)
        dhcp = [f for f in facts if f.kind in _DHCP_KINDS]
        addressless = [f for f in facts if f.src_ip is None or f.src_ip in _ADDRESSLESS]
        leased = _leased(dhcp, gateways)
        if any(not internal.get(ip, False) for ip in leased):
            internal = {**internal, **dict.fromkeys(leased, True)}
        spans: list[Sighting] = []
        for s in sightings:
            if s.mac is not None and (s.mac in gateways or not _unicast_mac(s.mac)):
                s = Sighting(ip=s.ip, mac=None, vlan=s.vlan, first_ns=s.first_ns, last_ns=s.last_ns)
            if s.ip is not None and not internal.get(s.ip, False):
                if s.mac is None:
                    continue
                s = Sighting(
                    ip=None, mac=s.mac, vlan=s.vlan, first_ns=s.first_ns, last_ns=s.last_ns
                )
            spans.append(s)
        # DHCP: leases acknowledged, and identities that link MACs
        tokens: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for fact in dhcp:
            if fact.kind == "DhcpServerReply" and fact.fields.get("message_type") == 5:
                ip, mac = fact.fields.get("yiaddr"), fact.fields.get("client_mac")
                if ip and _unicast_mac(mac) and mac not in gateways and internal.get(ip, False):
                    spans.append(Sighting(str(ip), str(mac), fact.vlan, fact.ts_ns, fact.ts_ns))
            token = _client_id_token(fact) if fact.kind in _TOKEN_KINDS else None
            if token and _unicast_mac(fact.src_mac) and fact.src_mac not in gateways:
                tokens[token].append((str(fact.src_mac), fact.ts_ns))
        mac_life: dict[str, tuple[int, int]] = {}
        for s in spans:
            if s.mac is not None:
                first, last = mac_life.get(s.mac, (s.first_ns, s.last_ns))
                mac_life[s.mac] = (min(first, s.first_ns), max(last, s.last_ns))
        for fact in addressless:  # MACs known without an address
            if _unicast_mac(fact.src_mac) and fact.src_mac not in gateways:
                mac = str(fact.src_mac)
                first, last = mac_life.get(mac, (fact.ts_ns, fact.ts_ns))
                mac_life[mac] = (min(first, fact.ts_ns), max(last, fact.ts_ns))
        union = _Union()
        self.links: dict[str, list[str]] = defaultdict(list)
        for mac in mac_life:
            union.find(f"mac:{mac}")
        for token, users in sorted(tokens.items()):
            macs = sorted({m for m, _ in users})
            for a, b in zip(macs, macs[1:], strict=False):
                if a in mac_life and b in mac_life and not _overlap(mac_life[a], mac_life[b]):
                    union.join(f"mac:{a}", f"mac:{b}")
                    self.links[f"mac:{a}"].append(f"{token} from {a} and {b}")
        # device key = the component's MAC seen first (ties: lowest text)
        members: dict[str, list[str]] = defaultdict(list)
        for mac in mac_life:
            members[union.find(f"mac:{mac}")].append(mac)
        self.mac_device: dict[str, str] = {}
        for group in members.values():
            key = "mac:" + min(group, key=lambda m: (mac_life[m][0], m))
            for mac in group:
                self.mac_device[mac] = key
        self.ip_spans: dict[str, _Spans] = defaultdict(_Spans)
        self.held_macs: dict[str, dict[tuple[str, int], list[int]]] = defaultdict(dict)
        self.held_ips: dict[str, dict[tuple[str, int], list[int]]] = defaultdict(dict)
        by_ip: dict[tuple[str, str], list[int]] = {}
        for s in spans:
            if s.mac is not None:
                device = self.mac_device[s.mac]
                _widen(self.held_macs[device], (s.mac, s.vlan), s.first_ns, s.last_ns)
                if s.ip is not None:
                    _widen(self.held_ips[device], (s.ip, s.vlan), s.first_ns, s.last_ns)
                    span = by_ip.setdefault((s.ip, device), [s.first_ns, s.last_ns])
                    span[0], span[1] = min(span[0], s.first_ns), max(span[1], s.last_ns)
        for (ip, device), (first, last) in by_ip.items():
            self.ip_spans[ip].add(first, last, device)
        for s in spans:  # internal IPs never seen with a MAC of their own
            if s.mac is None and s.ip is not None and s.ip not in self.ip_spans:
                _widen(self.held_ips[f"ip:{s.ip}"], (s.ip, s.vlan), s.first_ns, s.last_ns)
        self.internal = internal
        for fact in addressless:  # MAC-only devices (LLDP/CDP senders) need an entry too
            if fact.src_mac in self.mac_device:
                device = self.mac_device[str(fact.src_mac)]
                _widen(
                    self.held_macs[device], (str(fact.src_mac), fact.vlan), fact.ts_ns, fact.ts_ns
                )

    def device_of(self, ip: str | None, mac: str | None, ts_ns: int) -> str | None:
        """The device at an end (IP and MAC) of a fact seen at ``ts_ns``."""
        key = (ip, mac)
        found = self._memo.get(key, "")  # "": not resolved yet (no device has that key)
        if found != "":
            return found
        found, timeless = self._resolve(ip, mac, ts_ns)
        if timeless:  # most ends: only an address held by several devices depends on time
            self._memo[key] = found
        return found

    def _resolve(self, ip: str | None, mac: str | None, ts_ns: int) -> tuple[str | None, bool]:
        if ip is not None and not _addressless_ip(ip) and not self.internal.get(ip, False):
            # frames from outside carry the router's MAC: the address alone names the host
            if not self._external_devices or not is_host_address(ip):
                return None, True
            key = f"ip:{ip}"
            if key not in self.held_ips:
                self.held_ips[key][(ip, 0)] = [ts_ns, ts_ns]
            return key, True
        if mac is not None and mac in self.mac_device:
            return self.mac_device[mac], True
        if ip is None:
            return None, True
        spans = self.ip_spans.get(ip)
        if spans is not None:
            return spans.at(ts_ns), len(spans.items) == 1
        if self.internal.get(ip, False):
            key = f"ip:{ip}"
            if key not in self.held_ips:
                self.held_ips[key][(ip, 0)] = [ts_ns, ts_ns]
            return key, True
        return None, True

    def subject(self, fact: Fact, end: Literal["src", "dst"]) -> str | None:
        if end == "src":
            return self.device_of(fact.src_ip, fact.src_mac, fact.ts_ns)
        return self.device_of(fact.dst_ip, fact.dst_mac, fact.ts_ns)

    def devices(self) -> list[str]:
        return sorted(set(self.held_macs) | set(self.held_ips))


def _leased(facts: Sequence[Fact], gateways: frozenset[str]) -> set[str]:
    """Addresses a DHCP server on the capturing network leased (ACK ``yiaddr``) or a client
    on it renews from its own MAC (``ciaddr`` of a request sent unrelayed): these hosts are on
    the site's networks whatever their addresses (campus and hospital LANs with public ranges),
    so their frames carry their own MACs."""
    out: set[str] = set()
    for fact in facts:
        if fact.kind == "DhcpServerReply" and fact.fields.get("message_type") == 5:
            ip, mac = fact.fields.get("yiaddr"), fact.fields.get("client_mac")
        elif fact.kind == "DhcpRequest" and not fact.fields.get("giaddr"):
            ip, mac = fact.fields.get("ciaddr"), fact.fields.get("client_mac")
            if mac != fact.src_mac:
                continue
        else:
            continue
        if ip and _unicast_mac(mac) and mac not in gateways and is_host_address(str(ip)):
            out.add(str(ip))
    return out


_ADDRESSLESS = frozenset({"0.0.0.0", "::"})
_TOKEN_KINDS = frozenset({"DhcpRequest", "Dhcpv6Message"})
"""The kinds ``_client_id_token`` reads."""
_DHCP_KINDS = frozenset({"DhcpServerReply", *_TOKEN_KINDS})
"""The kinds whose fields ``DeviceMap`` reads (``_leased``: replies and requests)."""


def _addressless_ip(ip: str) -> bool:
    return ip in _ADDRESSLESS


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _widen(
    held: dict[tuple[str, int], list[int]], key: tuple[str, int], first: int, last: int
) -> None:
    span = held.get(key)
    if span is None:
        held[key] = [first, last]
    else:
        span[0], span[1] = min(span[0], first), max(span[1], last)


# -- identifiers and PHI (data) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _IdentifierField:
    observation: str
    field: str
    kind: str
    subject: Literal["src", "dst"]
    ip_field: str | None
    only_if: Mapping[str, Any]


@lru_cache(maxsize=1)
def _device_data() -> Any:
    """``rules/devices/identifiers.yaml``, parsed once."""
    text = resources.files("medsec.rules").joinpath("devices/identifiers.yaml").read_text()
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 (the safe loader, in C)


@lru_cache(maxsize=1)
def _relayed() -> dict[tuple[str, str], frozenset[str]]:
    """(category, attribute) -> observations whose facts about that attribute describe other
    devices' objects when the device is of that category."""
    raw = _device_data()
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    try:
        for entry in raw.get("relayed", []):
            for category in entry["categories"]:
                for attribute in entry["attributes"]:
                    out[str(category), str(attribute)].update(str(o) for o in entry["observations"])
    except (KeyError, TypeError) as exc:
        raise RuleError(f"devices/identifiers.yaml: malformed relayed entry ({exc})") from exc
    return {k: frozenset(v) for k, v in out.items()}


def _own(attributes: tuple[AttributeResult, ...]) -> tuple[AttributeResult, ...]:
    """``attributes`` without values that only relayed objects support (see ``relayed``)."""
    category = next((a.value for a in attributes if a.name == "category"), "")
    relayed = _relayed()
    return tuple(
        a
        for a in attributes
        if (category, a.name) not in relayed
        or any(e.observation not in relayed[category, a.name] for e in a.evidence)
    )


@lru_cache(maxsize=1)
def _identifier_fields() -> dict[str, list[_IdentifierField]]:
    raw = _device_data()
    try:
        fields: dict[str, list[_IdentifierField]] = defaultdict(list)
        for e in raw["identifiers"]:
            fields[e["observation"]].append(
                _IdentifierField(
                    observation=e["observation"],
                    field=e["field"],
                    kind=e["kind"],
                    subject=e.get("subject", "src"),
                    ip_field=e.get("ip_field"),
                    only_if=dict(e.get("only_if", {})),
                )
            )
    except (KeyError, TypeError) as exc:
        raise RuleError(f"devices/identifiers.yaml: malformed entry ({exc})") from exc
    return dict(fields)


def _host_name(fact: Fact, spec: _IdentifierField, name: str, address: object) -> Fact:
    """A ``HostName`` fact restating a host name ``fact`` carried, with the named device as
    its source end (so the rules of ``fingerprints/hostnames.yaml`` read it as its own)."""
    ip: str | None
    mac: str | None
    if spec.ip_field is not None:
        ip, mac = str(address), None
    elif spec.subject == "dst":
        ip, mac = fact.dst_ip, fact.dst_mac
    else:
        ip, mac = fact.src_ip, fact.src_mac
    return replace(
        fact,
        kind="HostName",
        src_ip=ip,
        src_mac=mac,
        dst_ip=None,
        dst_mac=None,
        fields={"name": name, "source": f"{fact.kind}.{spec.field}"},
    )


# -- the whole stage ---------------------------------------------------------------------------


def identify_devices(
    sightings: Iterable[Sighting],
    facts: Iterable[Fact],
    rules: Sequence[Rule],
    *,
    internal: Mapping[str, bool],
    gateways: frozenset[str] = frozenset(),
    external_devices: bool = False,
) -> list[DeviceIdentity]:
    """Every device the sightings and facts show, with what the rules say about it.

    ``external_devices``: hosts outside the site networks are devices too, named by their
    address (for evaluating identification on lab captures with public addresses).
    """
    facts = list(facts)
    devices = DeviceMap(
        sightings, facts, internal=internal, gateways=gateways, external_devices=external_devices
    )
    engine = IdentifyEngine(rules, subject_of=devices.subject)
    engine.feed_facts(facts)
    first_ip: dict[str, str] = {}
    for device, held in devices.held_ips.items():
        first_ip[device] = min(held.items(), key=lambda kv: kv[1][0])[0][0]
    engine.feed_facts(
        fact_of(hardware_address(mac, ip=first_ip.get(device), ts_ns=span[0], vlan=vlan))
        for device, held in devices.held_macs.items()
        for (mac, vlan), span in held.items()
    )
    id_fields = _identifier_fields()
    phi_tests = label_rules().phi
    identifiers: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    protocols: dict[str, set[str]] = defaultdict(set)
    phi: set[str] = set()
    seen: dict[str, list[int]] = {}
    names: list[Fact] = []
    device_of = devices.device_of
    for fact in facts:
        ts = fact.ts_ns
        src = device_of(fact.src_ip, fact.src_mac, ts)
        dst = device_of(fact.dst_ip, fact.dst_mac, ts)
        for end in (src, dst):
            if end is not None:
                if fact.protocol != "malformed":
                    protocols[end].add(fact.protocol)
                span = seen.get(end)
                if span is None:
                    seen[end] = [ts, ts]
                elif ts < span[0]:
                    span[0] = ts
                elif ts > span[1]:
                    span[1] = ts
        specs = id_fields.get(fact.kind)
        tests = phi_tests.get(fact.kind)
        if specs is None and tests is None:
            continue
        ends = {"src": src, "dst": dst}
        for spec in specs or ():
            if any(fact.fields.get(k) != v for k, v in spec.only_if.items()):
                continue
            value = fact.fields.get(spec.field)
            if not isinstance(value, str) or not value.strip():
                continue
            address = None
            if spec.ip_field is not None:
                address = fact.fields.get(spec.ip_field)
                owner = devices.device_of(str(address), None, fact.ts_ns) if address else None
            else:
                owner = ends[spec.subject]
            if owner is not None:
                names_of = identifiers[owner][spec.kind]
                if spec.kind == "hostnames" and value.strip() not in names_of:
                    names.append(_host_name(fact, spec, value.strip(), address))  # once a name
                names_of.add(value.strip())
        if tests is not None and any(t.holds(fact) for t in tests):
            phi.update(d for d in ends.values() if d is not None)
    engine.feed_facts(names)
    identities = {i.host: i for i in engine.identities()}
    out = []
    for key in sorted(set(devices.devices()) | set(identities)):
        macs = tuple(
            Held(mac, vlan, s[0], s[1])
            for (mac, vlan), s in sorted(devices.held_macs.get(key, {}).items(), key=_by_time)
        )
        ips = tuple(
            Held(ip, vlan, s[0], s[1])
            for (ip, vlan), s in sorted(devices.held_ips.get(key, {}).items(), key=_by_time)
        )
        times = [h.first_ns for h in macs + ips] + [h.last_ns for h in macs + ips]
        times += seen.get(key, [])
        identity = identities.get(key)
        out.append(
            DeviceIdentity(
                key=key,
                macs=macs,
                ips=ips,
                attributes=_own(identity.attributes) if identity else (),
                identifiers={k: tuple(sorted(v)) for k, v in sorted(identifiers[key].items())},
                protocols=tuple(sorted(protocols.get(key, ()))),
                handles_phi=key in phi,
                links=tuple(devices.links.get(key, ())),
                first_ns=min(times) if times else 0,
                last_ns=max(times) if times else 0,
            )
        )
    return out


def _by_time(item: tuple[tuple[str, int], list[int]]) -> tuple[int, str]:
    return item[1][0], item[0][0]
