"""Plain, JSON-ready rows for inventory views: the one shape every output format shares."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from medsec.identify.vendor_domains import vendor_for
from medsec.inventory import CaptureView, EdgeView, FlowView, HostView


def iso(value: datetime | None) -> str | None:
    """UTC timestamp as ISO 8601 with a ``Z`` suffix (microseconds when present)."""
    if value is None:
        return None
    text = value.isoformat()
    return text.replace("+00:00", "Z")


def host_row(host: HostView) -> dict[str, Any]:
    return {
        "ip": host.ip,
        "internal": host.internal,
        "macs": list(host.macs),
        "vlans": list(host.vlans),
        "first_seen": iso(host.first_seen),
        "last_seen": iso(host.last_seen),
        "packets_sent": host.packets_sent,
        "packets_received": host.packets_received,
        "bytes_sent": host.bytes_sent,
        "bytes_received": host.bytes_received,
        "flows_as_client": host.flows_as_client,
        "flows_as_server": host.flows_as_server,
        "bindings": [
            {
                "mac": b.mac,
                "vlan": b.vlan,
                "first_seen": iso(b.first_seen),
                "last_seen": iso(b.last_seen),
                "packets": b.packets,
                "from_arp": b.from_arp,
                "from_frames": b.from_frames,
                "gateway": b.gateway,
            }
            for b in host.bindings
        ],
    }


def edge_row(edge: EdgeView) -> dict[str, Any]:
    return {
        "client": edge.client,
        "server": edge.server,
        "transport": edge.transport,
        "server_port": edge.server_port,
        "flows": edge.flows,
        "packets": edge.packets,
        "bytes": edge.bytes,
        "first_seen": iso(edge.first_seen),
        "last_seen": iso(edge.last_seen),
        "external": edge.external,
        "app": edge.app,
        "apps": list(edge.apps),
        "cleartext": edge.cleartext,
        "phi": edge.phi,
        "credentials_in_clear": edge.credentials_in_clear,
        "destination_name": edge.destination_name,
        "destination_vendor": _vendor(edge.destination_name),
    }


def _vendor(name: str | None) -> str | None:
    """The vendor whose domain ``name`` is in (``rules/network/vendor_domains.yaml``)."""
    if not name:
        return None
    found = vendor_for(name)
    return found.vendor if found else None


def flow_row(flow: FlowView) -> dict[str, Any]:
    row = {
        name: getattr(flow, name)
        for name in FlowView.__dataclass_fields__  # keep the dataclass's field order
    }
    row["first_seen"] = iso(flow.first_seen)
    row["last_seen"] = iso(flow.last_seen)
    return row


def capture_row(capture: CaptureView) -> dict[str, Any]:
    return {
        "id": capture.id,
        "source": capture.source,
        "fingerprint": capture.fingerprint,
        "format": capture.format,
        "status": capture.status,
        "error": capture.error,
        "packets": capture.packets,
        "bytes": capture.bytes,
        "first_seen": iso(capture.first_seen),
        "last_seen": iso(capture.last_seen),
        "ingested_at": iso(capture.ingested_at),
        "stats": asdict(capture.stats),
    }
