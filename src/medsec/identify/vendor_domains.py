"""Vendor domains: which vendor a DNS name belongs to (data: ``rules/network/vendor_domains.yaml``,
validated by ``rules/schemas/vendor_domains.schema.json``).

A name matches an entry when it is the entry's suffix or a subdomain of it, compared by whole
labels and without regard to case: ``eu.remote.philips.com`` is Philips, ``evilphilips.com``
is not. When several entries match, the longest suffix wins (``carelink.medtronic.com`` before
``medtronic.com``). Sites may add or replace entries with their own files of the same form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from medsec.model.errors import RuleError


@dataclass(frozen=True, slots=True)
class VendorDomain:
    suffix: str
    """The domain, lower case: it and its subdomains belong to ``vendor``."""
    vendor: str
    purpose: str
    """What the vendor uses the domain for (corporate, remote service, updates)."""
    reference: str
    """The public fact the entry rests on."""
    reviewed: str | None = None


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files("medsec.rules").joinpath("schemas/vendor_domains.schema.json")
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


def parse_vendor_domains(document: Any, source: str) -> list[VendorDomain]:
    """Entries of one parsed document; ``RuleError`` naming the file and the path."""
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(_schema()).iter_errors(document)
    )
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise RuleError(f"{source}: {where}: {error.message}")
    entries = []
    seen: set[str] = set()
    for i, raw in enumerate(document["domains"]):
        if raw["suffix"] in seen:
            raise RuleError(f"{source}: domains/{i}: suffix {raw['suffix']} appears twice")
        seen.add(raw["suffix"])
        entries.append(
            VendorDomain(
                suffix=raw["suffix"],
                vendor=raw["vendor"],
                purpose=raw["purpose"],
                reference=raw["reference"],
                reviewed=raw.get("reviewed"),
            )
        )
    return entries


def _load(path: Path | Any, source: str) -> list[VendorDomain]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleError(f"{source}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise RuleError(f"{source}: not valid YAML: {exc}") from exc
    return parse_vendor_domains(document, source)


def load_vendor_domains(site_files: Iterable[Path] = ()) -> tuple[VendorDomain, ...]:
    """The shipped table, then each site file's entries; a later entry replaces one with
    the same suffix."""
    shipped = resources.files("medsec.rules").joinpath("network/vendor_domains.yaml")
    by_suffix = {d.suffix: d for d in _load(shipped, "network/vendor_domains.yaml")}
    for path in site_files:
        by_suffix.update((d.suffix, d) for d in _load(Path(path), str(path)))
    return tuple(by_suffix.values())


@lru_cache(maxsize=1)
def _shipped_index() -> Mapping[str, VendorDomain]:
    return {d.suffix: d for d in load_vendor_domains()}


def vendor_for(name: str, domains: Sequence[VendorDomain] | None = None) -> VendorDomain | None:
    """The entry of the longest suffix that ``name`` is or lies under, or None.

    ``name`` is a DNS name (a TLS SNI, a DNS query, an HTTP Host), any case, with or without
    the root's trailing dot; a port or anything that is not a name simply matches nothing.
    """
    index = _shipped_index() if domains is None else {d.suffix: d for d in domains}
    labels = name.strip().rstrip(".").lower().split(".")
    if any(not label for label in labels):
        return None
    for start in range(len(labels)):
        entry = index.get(".".join(labels[start:]))
        if entry is not None:
            return entry
    return None
