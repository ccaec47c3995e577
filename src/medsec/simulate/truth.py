"""The ground-truth file written beside each capture (``<name>.truth.json``)."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from medsec.simulate.hospital import Hospital
from medsec.simulate.ledger import Ledger

GENERATOR = "medsec.simulate"
VERSION = 1


def truth_path(capture: Path) -> Path:
    """``hospital.pcap`` and ``hospital.pcap.gz`` -> ``hospital.truth.json``."""
    name = capture.name
    if name.endswith(".gz"):
        name = name[: -len(".gz")]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return capture.with_name(f"{stem}.truth.json")


def truth_document(
    *,
    seed: int,
    devices: int,
    minutes: int,
    start: str,
    packets: int,
    size: int,
    hospital: Hospital,
    ledger: Ledger,
) -> dict[str, Any]:
    """Everything a discovery test compares against, in a fixed key order."""
    edges = ledger.edges()
    contacted = {edge["server"] for edge in edges}
    hosts = sorted(hospital.hosts, key=lambda h: int(ipaddress.IPv4Address(h.ip)))
    return {
        "generator": GENERATOR,
        "version": VERSION,
        "seed": seed,
        "devices": devices,
        "minutes": minutes,
        "start": start,
        "packets": packets,
        "bytes": size,
        "fragments": ledger.fragments,
        "hosts": [
            {
                "ip": host.ip,
                "mac": host.mac,
                "vlan": host.vlan.id,
                "department": host.vlan.department,
                "role": host.role,
                "category": host.profile.category,
                "medical": host.profile.medical,
                "vendor": host.profile.vendor,
                "model": host.profile.model,
                "hostname": host.hostname,
                "internal": True,
            }
            for host in hosts
        ],
        "external_hosts": [
            {"ip": external.ip, "name": external.name, "vendor": external.vendor}
            for external in sorted(
                hospital.externals, key=lambda e: int(ipaddress.IPv4Address(e.ip))
            )
            if external.ip in contacted
        ],
        "gateways": [
            {"mac": vlan.gateway_mac, "vlan": vlan.id}
            for vlan in hospital.vlans
            if any(host.vlan.id == vlan.id for host in hospital.hosts)
        ],
        "edges": edges,
    }


def write_truth(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
