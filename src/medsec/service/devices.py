"""Use cases over devices: (re-)identify the inventory, list devices, show one, export them.

Identification reads everything stored - bindings, hosts, observations, flows - and
rewrites the devices, so evidence adds up across captures and days, and new or site rules
apply to the whole history (``medsec identify``). ``discover`` calls it after ingesting.
"""

from __future__ import annotations

import gc
import json
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from medsec.identify.devices import DeviceIdentity, Held, Sighting, identify_devices
from medsec.identify.engine import AttributeResult, Evidence
from medsec.identify.rules import Rule, load_rules
from medsec.identify.taxonomy import categories
from medsec.inventory import Store
from medsec.inventory.device_rows import DeviceRow, ServiceRow, ns
from medsec.inventory.views import DeviceQuery, DeviceView, EdgeQuery, EdgeView
from medsec.model.config import Settings
from medsec.report.devices import csv_text, fhir_bundle
from medsec.report.rows import iso

__all__ = [
    "DeviceQuery",
    "DeviceView",
    "IdentifyOutcome",
    "device_json",
    "device_peers",
    "find_devices",
    "identify_inventory",
    "list_devices",
    "render",
]

SINGLE = ("category", "vendor", "model", "os", "os_version", "firmware_version", "modality")
"""Attributes with one value (the others, ``software``, list every product)."""


@dataclass(frozen=True, slots=True)
class IdentifyOutcome:
    devices: int
    medical: int
    identified: int
    """Devices with a category other than unknown."""
    facts: int
    seconds: float


def identify_inventory(
    store: Store,
    settings: Settings,
    rules: Sequence[Rule] | None = None,
    *,
    external_devices: bool = False,
) -> IdentifyOutcome:
    """Identify every device from everything stored and replace the stored devices.

    ``external_devices`` makes hosts outside the site networks devices too (``medsec eval``).

    The cyclic collector is paused meanwhile: identification builds tens of thousands of
    objects (facts, evidence, rows) that live until it returns and form no reference
    cycles, so each collection would walk them for nothing (0.01-0.03 s of the 0.3 s on the
    3-million-packet benchmark's inventory). The work is bounded by what is stored.
    """
    with collector_paused():
        return _identify_inventory(store, settings, rules, external_devices=external_devices)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (as it was after)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _identify_inventory(
    store: Store,
    settings: Settings,
    rules: Sequence[Rule] | None,
    *,
    external_devices: bool,
) -> IdentifyOutcome:
    started = time.perf_counter()
    inputs = store.identification_inputs(settings.gateway_mac_threshold)
    internal = {ip: is_internal for ip, is_internal, _, _ in inputs.hosts}
    sightings = [
        Sighting(ip=ip, mac=mac.lower(), vlan=vlan, first_ns=ns(first), last_ns=ns(last))
        for ip, mac, vlan, first, last in inputs.bindings
    ]
    sightings += [
        Sighting(ip=ip, mac=None, vlan=0, first_ns=ns(first), last_ns=ns(last))
        for ip, is_internal, first, last in inputs.hosts
        if is_internal
    ]
    identities = identify_devices(
        sightings,
        inputs.facts,
        rules if rules is not None else load_rules(settings.rule_dirs),
        internal=internal,
        gateways=inputs.gateways,
        external_devices=external_devices,
    )
    services = _services_by_device(identities, inputs.services)
    rows = [device_row(i, services.get(i.key, [])) for i in identities]
    store.replace_devices(rows)
    return IdentifyOutcome(
        devices=len(rows),
        medical=sum(r.medical for r in rows),
        identified=sum(r.category != "unknown" for r in rows),
        facts=len(inputs.facts),
        seconds=time.perf_counter() - started,
    )


def _services_by_device(
    identities: Sequence[DeviceIdentity], services: Sequence[ServiceRow]
) -> dict[str, list[ServiceRow]]:
    """Services per device: the device that held the server IP while the flows ran."""
    holders: dict[str, list[tuple[Held, str]]] = defaultdict(list)
    for identity in identities:
        for held in identity.ips:
            holders[held.value].append((held, identity.key))
    out: dict[str, list[ServiceRow]] = defaultdict(list)
    for service in services:
        owners = holders.get(service.server_ip, [])
        if len(owners) > 1:
            first, last = ns(service.first_seen), ns(service.last_seen)
            overlapping = [o for o in owners if o[0].first_ns <= last and first <= o[0].last_ns]
            owners = overlapping or owners
        for _, key in owners:
            out[key].append(service)
    return out


# a device's evidence and addresses repeat times (3M bench: 4,274 conversions of 1,334
# times); both are pure functions of the time, so remembering them is always right
@lru_cache(maxsize=65536)
def _time(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)


@lru_cache(maxsize=65536)
def _iso(ts_ns: int) -> str | None:
    return iso(_time(ts_ns))


def _evidence(e: Evidence) -> dict[str, Any]:
    return {
        "rule": e.rule_id,
        "weight": e.weight,
        "reference": e.reference,
        "time": _iso(e.ts_ns),
        "protocol": e.protocol,
        "observation": e.observation,
        "fields": list(e.fields),
        "src_ip": e.src_ip,
        "dst_ip": e.dst_ip,
        "flow_id": e.flow_id,
    }


def _attribute(a: AttributeResult) -> dict[str, Any]:
    return {
        "value": a.value,
        "confidence": a.confidence,
        "source": sorted({e.protocol for e in a.evidence}),
        "rules": [e.rule_id for e in a.evidence],
        "evidence": [_evidence(e) for e in a.evidence],
        "conflicts": [
            {"value": c.value, "confidence": c.confidence, "rules": [e.rule_id for e in c.evidence]}
            for c in a.conflicts
        ],
    }


def software_entry(value: str) -> dict[str, str | None]:
    """``name/version`` (as rules yield it) -> ``{name, version}``."""
    name, _, version = value.partition("/")
    return {"name": name, "version": version or None}


def device_row(identity: DeviceIdentity, services: Sequence[ServiceRow]) -> DeviceRow:
    single = {a.name: a for a in identity.attributes if a.name != "software"}
    software = [a for a in identity.attributes if a.name == "software"]
    category = single["category"].value if "category" in single else "unknown"
    taxon = categories().get(category)
    record: dict[str, Any] = {
        "attributes": {name: _attribute(a) for name, a in sorted(single.items())},
        "software": [{**software_entry(a.value), **_attribute(a)} for a in software],
        "identifiers": {k: list(v) for k, v in identity.identifiers.items()},
        "protocols": sorted(set(identity.protocols) | {s.app for s in services if s.app}),
        "services": [
            {
                "transport": s.transport,
                "port": s.port,
                "app": s.app,
                "flows": s.flows,
                "first_seen": iso(s.first_seen),
                "last_seen": iso(s.last_seen),
            }
            for s in sorted(services, key=lambda s: (s.transport, s.port, s.app or ""))
        ],
        "links": list(identity.links),
        "fda_class": taxon.fda_class if taxon else None,
    }
    addresses = tuple(
        (kind, h.value, h.vlan, _time(h.first_ns), _time(h.last_ns))
        for kind, held in (("mac", identity.macs), ("ip", identity.ips))
        for h in held
    )
    seen = [_time(identity.first_ns), _time(identity.last_ns)]
    return DeviceRow(
        key=identity.key,
        first_seen=seen[0],
        last_seen=seen[1],
        category=category,
        medical=bool(taxon and taxon.medical),
        vendor=single["vendor"].value if "vendor" in single else None,
        model=single["model"].value if "model" in single else None,
        os=single["os"].value if "os" in single else None,
        handles_phi=identity.handles_phi,
        record=record,
        addresses=addresses,
    )


# -- reading -----------------------------------------------------------------------------------


def list_devices(store: Store, query: DeviceQuery) -> list[DeviceView]:
    return store.devices(query)


def find_devices(store: Store, ref: str) -> list[DeviceView]:
    """Devices named by an id, an IP or a MAC."""
    return store.devices(DeviceQuery()) if ref == "*" else store.device(ref)


def device_peers(store: Store, device: DeviceView) -> list[EdgeView]:
    """The edges with one of the device's IPs at either end, largest first."""
    out: list[EdgeView] = []
    for ip in device.ips:
        out.extend(store.edges(EdgeQuery(host=ip)))
    return sorted(out, key=lambda e: -e.bytes)


def shown_name(device: DeviceView) -> str:
    """How listings name a device: its first IP address, else its key."""
    return device.ips[0] if device.ips else device.key


def device_json(device: DeviceView) -> dict[str, Any]:
    """The documented JSON form of a device (``medsec devices --json``)."""
    record = device.record
    attributes: dict[str, Any] = record.get("attributes", {})

    def value(name: str) -> Any:
        found = attributes.get(name)
        return found["value"] if found else None

    identifiers = dict(record.get("identifiers", {}))
    if value("modality"):
        identifiers["dicom_modality"] = value("modality")
    confidence = {name: a["confidence"] for name, a in attributes.items()}
    confidence["software"] = {
        f"{s['name']}/{s['version']}" if s.get("version") else s["name"]: s["confidence"]
        for s in record.get("software", [])
    }
    return {
        "id": device.id,
        "key": device.key,
        "macs": device.macs,
        "ips": device.ips,
        "vlans": device.vlans,
        "category": device.category,
        "medical": device.medical,
        "fda_class": record.get("fda_class"),
        "vendor": device.vendor,
        "model": device.model,
        "os": device.os,
        "os_version": value("os_version"),
        "firmware_version": value("firmware_version"),
        "modality": value("modality"),
        "software": [
            {"name": s["name"], "version": s.get("version")} for s in record.get("software", [])
        ],
        "hostnames": identifiers.get("hostnames", []),
        "identifiers": identifiers,
        "protocols": record.get("protocols", []),
        "services": [
            {"transport": s["transport"], "port": s["port"], "app": s["app"]}
            for s in record.get("services", [])
        ],
        "handles_phi": device.handles_phi,
        "confidence": confidence,
        "evidence": {
            **{name: a["evidence"] for name, a in attributes.items()},
            **{
                f"software:{s['name']}": s["evidence"]
                for s in record.get("software", [])
                if s.get("evidence")
            },
        },
        "conflicts": {name: a["conflicts"] for name, a in attributes.items() if a["conflicts"]},
        "addresses": [
            {
                "kind": a.kind,
                "value": a.value,
                "vlan": a.vlan,
                "first_seen": iso(a.first_seen),
                "last_seen": iso(a.last_seen),
            }
            for a in device.addresses
        ],
        "first_seen": iso(device.first_seen),
        "last_seen": iso(device.last_seen),
    }


def render(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    """Devices (``device_json`` rows) as ``json``, ``csv`` or ``fhir`` (an R4 Bundle) text."""
    if fmt == "json":
        return json.dumps(list(rows), indent=2) + "\n"
    if fmt == "csv":
        return csv_text(rows)
    if fmt == "fhir":
        return json.dumps(fhir_bundle(rows), indent=2) + "\n"
    raise ValueError(f"unknown device format {fmt!r}")
