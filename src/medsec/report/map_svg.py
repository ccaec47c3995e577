"""Draw the communication map as a standalone SVG picture.

Layout, deterministic and readable without a graph library: internal hosts are grouped by
VLAN (or by /24 when no VLAN is known), each group a ring of hosts; the groups sit on a
large circle, and everything outside the site is one more group, "Internet", drawn in
orange. Edges are curves bent towards the centre, their width growing with the logarithm
of the bytes they carried; external edges are orange, internal ones blue-grey.
"""

from __future__ import annotations

import ipaddress
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from medsec.inventory import EdgeView, HostView

INTERNET = "Internet"


@dataclass(frozen=True, slots=True)
class _Node:
    ip: str
    group: str
    x: float
    y: float


def _group_of(ip: str, hosts: dict[str, HostView]) -> str:
    host = hosts.get(ip)
    if host is not None and not host.internal:
        return INTERNET
    if host is not None and host.vlans:
        return f"VLAN {host.vlans[0]}"
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return "other"
    if addr.is_multicast or ip == "255.255.255.255" or addr.is_unspecified:
        return "broadcast / multicast"
    if host is None:
        return INTERNET if addr.is_global else "other"
    prefix = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _sort_key(ip: str) -> tuple[int, int]:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return (9, 0)
    return (addr.version, int(addr))


SPACING = 40.0
"""Arc length between neighbouring hosts on a group's ring (pixels)."""
GAP = 110.0
"""Space between neighbouring groups on the big circle (pixels)."""
MARGIN = 170.0


def layout(edges: Sequence[EdgeView], hosts: Iterable[HostView]) -> tuple[dict[str, _Node], float]:
    """Position every edge endpoint, and the picture's size.

    Each group is a ring whose circumference fits its hosts; the groups sit side by side on
    a big circle sized so that neighbouring rings never overlap.
    """
    by_ip = {h.ip: h for h in hosts}
    groups: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        for ip in (e.client, e.server):
            groups[_group_of(ip, by_ip)].add(ip)
    names = sorted(groups, key=lambda g: (g == INTERNET, g))
    radius = {
        g: max(28.0, SPACING * len(groups[g]) / (2 * math.pi)) if len(groups[g]) > 1 else 0.0
        for g in names
    }
    widths = [2 * (radius[g] + 38) + GAP for g in names]
    big = sum(widths) / (2 * math.pi) if len(names) > 1 else 0.0
    size = 2 * (big + max(radius.values(), default=0.0) + MARGIN)
    cx = cy = size / 2
    nodes: dict[str, _Node] = {}
    travelled = 0.0
    for name, width in zip(names, widths, strict=True):
        angle = 2 * math.pi * (travelled + width / 2) / max(sum(widths), 1.0) - math.pi / 2
        travelled += width
        gx, gy = cx + big * math.cos(angle), cy + big * math.sin(angle)
        members = sorted(groups[name], key=_sort_key)
        for mi, ip in enumerate(members):
            a = 2 * math.pi * mi / max(len(members), 1)
            r = radius[name]
            nodes[ip] = _Node(ip, name, gx + r * math.cos(a), gy + r * math.sin(a))
    return nodes, size


def render(edges: Sequence[EdgeView], hosts: Iterable[HostView], title: str) -> str:
    """The SVG document for these edges."""
    nodes, size = layout(edges, list(hosts))
    cx = cy = size / 2
    max_bytes = max((e.bytes for e in edges), default=1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size:.0f}" height="{size:.0f}" '
        f'viewBox="0 0 {size:.0f} {size:.0f}" font-family="sans-serif">',
        f'<rect width="{size:.0f}" height="{size:.0f}" fill="#ffffff"/>',
        f'<text x="20" y="34" font-size="22" font-weight="bold">{escape(title)}</text>',
        f'<text x="20" y="58" font-size="13" fill="#555">{len(nodes)} hosts, {len(edges)} '
        "edges; line width ~ log(bytes); orange = leaves the site</text>",
    ]
    groups: dict[str, list[_Node]] = defaultdict(list)
    for node in nodes.values():
        groups[node.group].append(node)
    for name, members in sorted(groups.items()):
        gx = sum(n.x for n in members) / len(members)
        gy = sum(n.y for n in members) / len(members)
        radius = max(math.hypot(n.x - gx, n.y - gy) for n in members) + 38
        fill = "#fff4e5" if name == INTERNET else "#eef3fb"
        parts.append(
            f'<circle cx="{gx:.1f}" cy="{gy:.1f}" r="{radius:.1f}" fill="{fill}" '
            'stroke="#c9d3e3" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{gx:.1f}" y="{gy - radius - 8:.1f}" font-size="15" '
            f'text-anchor="middle" font-weight="bold" fill="#334">{escape(name)} '
            f"({len(members)})</text>"
        )
    for e in sorted(edges, key=lambda e: e.bytes):
        a, b = nodes[e.client], nodes[e.server]
        width = 0.6 + 4.5 * math.log1p(e.bytes) / math.log1p(max_bytes)
        color = "#e8871e" if e.external else "#5b7db1"
        mx, my = (a.x + b.x) / 2, (a.y + b.y) / 2
        qx, qy = mx + (cx - mx) * 0.35, my + (cy - my) * 0.35
        label = f"{e.client} -> {e.server} {e.transport}/{e.server_port}: {e.bytes:,} bytes"
        parts.append(
            f'<path d="M{a.x:.1f},{a.y:.1f} Q{qx:.1f},{qy:.1f} {b.x:.1f},{b.y:.1f}" '
            f'fill="none" stroke="{color}" stroke-opacity="0.55" stroke-width="{width:.2f}">'
            f"<title>{escape(label)}</title></path>"
        )
    served: dict[str, int] = defaultdict(int)
    for e in edges:
        served[e.server] += 1
    for node in nodes.values():
        r = 4 + min(served[node.ip], 12) * 0.6
        color = "#e8871e" if node.group == INTERNET else "#1f3b66"
        parts.append(
            f'<circle cx="{node.x:.1f}" cy="{node.y:.1f}" r="{r:.1f}" fill="{color}">'
            f"<title>{escape(node.ip)}</title></circle>"
        )
        parts.append(
            f'<text x="{node.x + r + 2:.1f}" y="{node.y + 4:.1f}" font-size="10" '
            f'fill="#222">{escape(node.ip)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
