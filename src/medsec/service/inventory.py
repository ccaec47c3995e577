"""Use cases over the stored inventory: open it, list hosts, edges, flows, captures, export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from medsec.inventory import (
    CaptureView,
    DeviceQuery,
    DeviceView,
    EdgeQuery,
    EdgeView,
    FlowQuery,
    FlowView,
    HostQuery,
    HostView,
    Store,
    Totals,
    database_url,
)
from medsec.model.config import Settings
from medsec.report import export as export_format
from medsec.report import map_svg
from medsec.report.export import TABLES
from medsec.report.rows import capture_row, edge_row, flow_row, host_row

__all__ = [
    "CaptureView",
    "DeviceQuery",
    "DeviceView",
    "EdgeQuery",
    "EdgeView",
    "FlowQuery",
    "FlowView",
    "HostQuery",
    "HostView",
    "Store",
    "TABLES",
    "Totals",
    "capture_row",
    "draw_map",
    "edge_row",
    "export",
    "flow_row",
    "host_row",
    "list_devices",
    "list_edges",
    "open_inventory",
]


def open_inventory(settings: Settings, db: str | None = None) -> Store:
    """Open (and migrate) the database named by ``db``, else by the settings, else ./medsec.db."""
    return Store.open(database_url(db or settings.database))


def list_hosts(store: Store, query: HostQuery) -> list[HostView]:
    return store.hosts(query)


def list_edges(store: Store, query: EdgeQuery) -> list[EdgeView]:
    return store.edges(query)


def list_devices(store: Store, query: DeviceQuery) -> list[DeviceView]:
    return store.devices(query)


def export(
    store: Store, fmt: export_format.ExportFormat, tables: list[str], out: Path | None
) -> list[Path] | str:
    return export_format.export(store, fmt, tables, out)


def rows(views: list[Any]) -> list[dict[str, Any]]:
    """JSON-ready rows for a list of views of one kind."""
    convert: dict[type, Callable[[Any], dict[str, Any]]] = {
        HostView: host_row,
        EdgeView: edge_row,
        FlowView: flow_row,
        CaptureView: capture_row,
    }
    return [convert[type(v)](v) for v in views]


def draw_map(store: Store, edges: list[EdgeView], out: Path, settings: Settings) -> Path:
    """Draw ``edges`` (grouped by the hosts' VLANs) as an SVG picture at ``out``."""
    hosts = store.hosts(HostQuery(gateway_mac_threshold=settings.gateway_mac_threshold))
    out.write_text(map_svg.render(edges, hosts, "medsec communication map"), encoding="utf-8")
    return out
