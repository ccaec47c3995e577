"""Misconfigurations of the inventory's devices (``medsec misconfigs``): default credentials,
management in clear, end-of-life operating systems and bad certificates on clinical services,
from what identification concluded and what the stored observations and edges show."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from medsec.assess.misconfig import (
    KINDS,
    Conversation,
    DeviceFacts,
    Evidence,
    HeldAddress,
    Misconfiguration,
    Sighting,
    find_misconfigurations,
)
from medsec.inventory import (
    DeviceQuery,
    DeviceView,
    EdgeQuery,
    EdgeView,
    InvalidQuery,
    ObservationQuery,
    ObservationView,
    Store,
)
from medsec.report.rows import iso
from medsec.service.devices import find_devices, shown_name

__all__ = [
    "KINDS",
    "Misconfiguration",
    "list_misconfigurations",
    "misconfiguration_json",
]

OBSERVATION_KINDS = ("CleartextCredentials", "HttpRequest", "SnmpMessage", "TlsCertificate")
"""The observations the checks read."""


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _attribute_evidence(record: dict[str, Any], *names: str) -> tuple[Evidence, ...]:
    attributes: dict[str, Any] = record.get("attributes", {})
    out = [
        Evidence(
            str(e.get("observation") or "identification"),
            _time(e.get("time")),
            e.get("dst_ip"),
            None,
            None,
            e.get("flow_id"),
            f"{name} by rule {e.get('rule')} (weight {e.get('weight')})",
        )
        for name in names
        for e in (attributes.get(name) or {}).get("evidence", [])
    ]
    return tuple(out)


def describe(device: DeviceView) -> DeviceFacts:
    """The inputs of the checks for a stored device."""
    record = device.record
    attributes: dict[str, Any] = record.get("attributes", {})

    def value(name: str) -> str | None:
        found = attributes.get(name)
        return str(found["value"]) if found else None

    def confidence(name: str) -> int:
        found = attributes.get(name)
        return int(found["confidence"]) if found else 0

    return DeviceFacts(
        device_id=device.id,
        shown=shown_name(device),
        category=device.category,
        medical=device.medical,
        vendor=device.vendor,
        model=device.model,
        os=device.os,
        os_version=value("os_version"),
        addresses=tuple(
            HeldAddress(a.value, a.first_seen, a.last_seen)
            for a in device.addresses
            if a.kind == "ip"
        ),
        services=tuple(sorted({str(s["app"]) for s in record.get("services", []) if s["app"]})),
        model_confidence=confidence("model"),
        os_confidence=min(confidence("os"), confidence("os_version")),
        model_evidence=_attribute_evidence(record, "vendor", "model"),
        os_evidence=_attribute_evidence(record, "os", "os_version"),
    )


def conversation(e: EdgeView) -> Conversation:
    return Conversation(
        client=e.client,
        server=e.server,
        transport=e.transport,
        server_port=e.server_port,
        apps=e.apps,
        cleartext=e.cleartext,
        credentials_in_clear=e.credentials_in_clear,
        first_seen=e.first_seen,
        last_seen=e.last_seen,
        flows=e.flows,
    )


def sighting(o: ObservationView) -> Sighting:
    return Sighting(
        kind=o.kind,
        time=o.ts,
        src_ip=o.src_ip,
        dst_ip=o.dst_ip,
        src_port=o.src_port,
        dst_port=o.dst_port,
        transport=o.transport,
        flow_id=o.flow_id,
        facts=o.facts,
    )


def _inputs(
    store: Store, devices: Sequence[DeviceView], everything: bool
) -> tuple[list[EdgeView], list[ObservationView]]:
    """Edges and observations of the devices (of the whole inventory when ``everything``)."""
    if everything:
        edges = store.edges(EdgeQuery())
        observations = [
            o for kind in OBSERVATION_KINDS for o in store.observations(ObservationQuery(kind=kind))
        ]
        return edges, observations
    edge_keys: dict[tuple[str, str, str, int], EdgeView] = {}
    found: dict[int, ObservationView] = {}
    for ip in sorted({ip for d in devices for ip in d.ips}):
        for e in store.edges(EdgeQuery(host=ip)):
            edge_keys[(e.client, e.server, e.transport, e.server_port)] = e
        for kind in OBSERVATION_KINDS:
            for o in store.observations(ObservationQuery(host=ip, kind=kind)):
                found[o.id] = o
    return list(edge_keys.values()), sorted(found.values(), key=lambda o: (o.ts, o.id))


def list_misconfigurations(
    store: Store,
    *,
    device: str | None = None,
    kind: str | None = None,
    as_of: date | None = None,
) -> list[Misconfiguration]:
    """Misconfigurations of the inventory's devices (or of one device: id, IP or MAC), most
    severe first; end-of-life judged on ``as_of`` (today, UTC, by default)."""
    if kind is not None and kind not in KINDS:
        raise InvalidQuery(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    devices = find_devices(store, device) if device else store.devices(DeviceQuery())
    if not devices:
        return []
    edges, observations = _inputs(store, devices, everything=device is None)
    return find_misconfigurations(
        [describe(d) for d in devices],
        (conversation(e) for e in edges),
        (sighting(o) for o in observations),
        as_of=as_of or datetime.now(UTC).date(),
        kinds=KINDS if kind is None else (kind,),
    )


def _evidence_json(e: Evidence) -> dict[str, Any]:
    return {
        "observation": e.observation,
        "time": iso(e.time),
        "peer": e.peer,
        "port": e.port,
        "transport": e.transport,
        "flow_id": e.flow_id,
        "detail": e.detail,
    }


def misconfiguration_json(m: Misconfiguration) -> dict[str, Any]:
    """The documented JSON form of a misconfiguration (``medsec misconfigs --json``)."""
    return {
        "kind": m.kind,
        "device_id": m.device_id,
        "device": m.device,
        "severity": m.severity,
        "title": m.title,
        "basis": m.basis,
        "reference": m.reference,
        "url": m.url,
        "evidence": [_evidence_json(e) for e in m.evidence],
    }


def counts(rows: Iterable[Misconfiguration]) -> dict[str, int]:
    """How many of each kind."""
    out: dict[str, int] = dict.fromkeys(KINDS, 0)
    for m in rows:
        out[m.kind] += 1
    return out
