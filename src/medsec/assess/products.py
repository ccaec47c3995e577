"""What a device runs, as CPE names: identification's software and OS -> CPE 2.3 candidates.

``rules/vulns/products.yaml`` says which NVD vendor:product each product medsec names is
listed under. A candidate carries the confidence of the identification it rests on and says
which attribute it came from, so every match can tell its basis ("software DCMTK 3.6.7 (seen
with confidence 92) as cpe:2.3:a:offis:dcmtk:3.6.7").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from medsec.inventory.vuln_rows import token
from medsec.model.errors import RuleError


@dataclass(frozen=True, slots=True)
class SoftwareSeen:
    name: str
    version: str | None
    confidence: int


@dataclass(frozen=True, slots=True)
class DeviceDescription:
    """What identification says a device is and runs (the inputs of matching)."""

    device_id: int
    vendor: str | None
    model: str | None
    os: str | None
    os_version: str | None
    firmware_version: str | None
    software: tuple[SoftwareSeen, ...]
    confidence: Mapping[str, int]
    """Confidence (0-100) of ``vendor``, ``model``, ``os``, ``os_version``..."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A CPE name a device's software or OS is known by."""

    cpe: str
    """CPE 2.3 formatted string (vendor and product as the feeds spell them: ``net-snmp``);
    version ``*`` when identification saw none."""
    vendor: str
    product: str
    """Vendor and product as lookup tokens (``inventory.vuln_rows.token``: ``net_snmp``), the
    form the store's lookups and ``cpe_vendor_product`` of a CVE's criteria use."""
    version: str | None
    attribute: str
    """``software`` or ``os``."""
    seen_as: str
    """The name and version as identification reported them (``DCMTK 3.6.7``)."""
    confidence: int


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    cpes: tuple[tuple[str, str], ...]
    os_version: str | None
    version_from: str | None


def _entries(raw: Any, kind: str) -> dict[str, list[_Entry]]:
    out: dict[str, list[_Entry]] = {}
    try:
        for e in raw.get(kind, []):
            pairs = tuple(tuple(str(c).split(":", 1)) for c in e["cpes"])
            if any(len(p) != 2 or not all(p) for p in pairs):
                raise RuleError(f"vulns/products.yaml: {e['name']}: cpes are vendor:product")
            entry = _Entry(
                name=str(e["name"]),
                cpes=pairs,  # type: ignore[arg-type]
                os_version=str(e["os_version"]) if e.get("os_version") is not None else None,
                version_from=e.get("version_from"),
            )
            out.setdefault(entry.name.casefold(), []).append(entry)
    except (KeyError, TypeError, AttributeError) as exc:
        raise RuleError(f"vulns/products.yaml: malformed {kind} entry ({exc})") from exc
    return out


@lru_cache(maxsize=1)
def _products() -> tuple[dict[str, list[_Entry]], dict[str, list[_Entry]]]:
    text = resources.files("medsec.rules").joinpath("vulns/products.yaml").read_text()
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return _entries(raw, "software"), _entries(raw, "os")


_FS_QUOTED = re.compile(r"([^0-9a-z_.\-])")


def cpe_name(part: str, vendor: str, product: str, version: str | None) -> str:
    """A CPE 2.3 formatted string with the version (``*`` when unknown) and ANY elsewhere;
    the version bound as the formatted-string binding wants it (lower case, spaces as ``_``,
    other punctuation than ``.``, ``-`` and ``_`` quoted: ``3.6.7``, ``8.2p1``)."""
    text = "_".join((version or "").split()).lower()
    shown = _FS_QUOTED.sub(r"\\\1", text) if text else "*"
    return f"cpe:2.3:{part}:{vendor}:{product}:{shown}:*:*:*:*:*:*:*"


def candidates(device: DeviceDescription) -> list[Candidate]:
    """The CPE names of what ``device`` runs, from its software and OS."""
    software, systems = _products()
    out: list[Candidate] = []
    for s in device.software:
        for entry in software.get(s.name.casefold(), ()):
            seen = f"{s.name} {s.version}" if s.version else s.name
            for vendor, product in entry.cpes:
                out.append(
                    Candidate(
                        cpe_name("a", vendor, product, s.version),
                        token(vendor),
                        token(product),
                        s.version,
                        "software",
                        seen,
                        s.confidence,
                    )
                )
    if device.os:
        confidence = device.confidence.get("os", 0)
        for entry in systems.get(device.os.casefold(), ()):
            if entry.os_version is not None:
                if (device.os_version or "").casefold() != entry.os_version.casefold():
                    continue
                version = None
                confidence = min(confidence, device.confidence.get("os_version", 0))
            else:
                version = device.os_version if entry.version_from == "os_version" else None
            seen = " ".join(v for v in (device.os, device.os_version) if v)
            for vendor, product in entry.cpes:
                out.append(
                    Candidate(
                        cpe_name("o", vendor, product, version),
                        token(vendor),
                        token(product),
                        version,
                        "os",
                        seen,
                        confidence,
                    )
                )
    return out


def product_pairs(found: Sequence[Candidate]) -> set[tuple[str, str]]:
    """The (vendor, product) tokens to look vulnerabilities up by."""
    return {(c.vendor, c.product) for c in found}
