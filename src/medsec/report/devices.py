"""Devices for other tools: flat CSV rows and FHIR R4 ``Device`` resources.

Both take the documented JSON form of a device (``service.devices.device_json``).

FHIR mapping (R4, http://hl7.org/fhir/R4/device.html): ``identifier`` holds the medsec key
and every MAC (type text ``MAC address``); ``manufacturer``; ``deviceName`` the model
(``model-name``) and host names (``other``); ``type`` the medsec category (code system
``urn:medsec:category``); ``version`` the OS, firmware and software versions, each typed;
``property`` the IP addresses, VLANs, DICOM modality and AE titles, HL7 applications, whether
it handles PHI, and the FDA class of its category; ``note`` the confidence of each attribute.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

CATEGORY_SYSTEM = "urn:medsec:category"
KEY_SYSTEM = "urn:medsec:device"
CSV_COLUMNS = (
    "id",
    "category",
    "medical",
    "vendor",
    "model",
    "os",
    "os_version",
    "firmware_version",
    "modality",
    "software",
    "ips",
    "macs",
    "vlans",
    "hostnames",
    "handles_phi",
    "protocols",
    "services",
    "category_confidence",
    "vendor_confidence",
    "model_confidence",
    "os_confidence",
    "first_seen",
    "last_seen",
)


def _software(device: Mapping[str, Any]) -> list[str]:
    return [
        f"{s['name']}/{s['version']}" if s.get("version") else str(s["name"])
        for s in device.get("software", [])
    ]


def csv_text(devices: Iterable[Mapping[str, Any]]) -> str:
    """One row per device; lists joined with spaces (software and services with ``; ``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in devices:
        confidence = d.get("confidence", {})
        writer.writerow(
            [
                d["id"],
                d["category"],
                "true" if d["medical"] else "false",
                d.get("vendor") or "",
                d.get("model") or "",
                d.get("os") or "",
                d.get("os_version") or "",
                d.get("firmware_version") or "",
                d.get("modality") or "",
                "; ".join(_software(d)),
                " ".join(d.get("ips", [])),
                " ".join(d.get("macs", [])),
                " ".join(str(v) for v in d.get("vlans", [])),
                " ".join(d.get("hostnames", [])),
                "true" if d.get("handles_phi") else "false",
                " ".join(d.get("protocols", [])),
                "; ".join(
                    f"{s['transport']}/{s['port']}" + (f" {s['app']}" if s.get("app") else "")
                    for s in d.get("services", [])
                ),
                *(confidence.get(name, "") for name in ("category", "vendor", "model", "os")),
                d.get("first_seen", ""),
                d.get("last_seen", ""),
            ]
        )
    return out.getvalue()


def _property(text: str, values: Iterable[str]) -> dict[str, Any] | None:
    codes = [{"text": str(v)} for v in values if str(v)]
    if not codes:
        return None
    return {"type": {"text": text}, "valueCode": codes}


def fhir_device(d: Mapping[str, Any]) -> dict[str, Any]:
    """One FHIR R4 ``Device`` resource."""
    identifiers: list[dict[str, Any]] = [{"system": KEY_SYSTEM, "value": str(d["key"])}]
    identifiers += [
        {"type": {"text": "MAC address"}, "system": "urn:medsec:mac", "value": mac}
        for mac in d.get("macs", [])
    ]
    names = []
    if d.get("model"):
        names.append({"name": d["model"], "type": "model-name"})
    names += [{"name": h, "type": "other"} for h in d.get("hostnames", [])]
    versions = []
    for label, key in (
        ("os", "os"),
        ("os version", "os_version"),
        ("firmware", "firmware_version"),
    ):
        if d.get(key):
            versions.append({"type": {"text": label}, "value": str(d[key])})
    versions.extend(
        {"type": {"text": str(s["name"])}, "value": str(s.get("version") or "")}
        for s in d.get("software", [])
    )
    versions = [v for v in versions if v["value"]]
    identifiers_of = d.get("identifiers", {})
    properties = [
        _property("ip-address", d.get("ips", [])),
        _property("vlan", (str(v) for v in d.get("vlans", []))),
        _property("dicom-modality", [d["modality"]] if d.get("modality") else []),
        _property("dicom-ae-title", identifiers_of.get("dicom_ae_titles", [])),
        _property("hl7-application", identifiers_of.get("hl7_applications", [])),
        _property("handles-phi", ["true" if d.get("handles_phi") else "false"]),
        _property("fda-class", [str(d["fda_class"])] if d.get("fda_class") is not None else []),
    ]
    resource: dict[str, Any] = {
        "resourceType": "Device",
        "id": f"medsec-{d['id']}",
        "identifier": identifiers,
        "status": "active",
        "type": {
            "coding": [{"system": CATEGORY_SYSTEM, "code": str(d["category"])}],
            "text": str(d["category"]).replace("_", " "),
        },
        "property": [p for p in properties if p is not None],
    }
    if d.get("vendor"):
        resource["manufacturer"] = str(d["vendor"])
    if names:
        resource["deviceName"] = names
    if versions:
        resource["version"] = versions
    confidence = {k: v for k, v in d.get("confidence", {}).items() if isinstance(v, int)}
    if confidence:
        resource["note"] = [
            {
                "text": "medsec confidence (0-100): "
                + ", ".join(f"{k} {v}" for k, v in sorted(confidence.items()))
            }
        ]
    return resource


def fhir_bundle(devices: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A ``collection`` Bundle of ``Device`` resources."""
    entries = [
        {"fullUrl": f"urn:medsec:device:{d['id']}", "resource": fhir_device(d)} for d in devices
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
