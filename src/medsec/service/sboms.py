"""SBOMs of device models and devices (``medsec sboms``, ``medsec sbom attach|detach``,
``medsec feeds import --attach-model|--attach-device``).

An imported SBOM (CycloneDX, SPDX) is attached to a device model - ``Vendor|Model``, and
every device identified as that vendor and model carries it, vendor names compared as
``rules/vulns/vendors.yaml`` normalises them ("GE Healthcare" is "GE HealthCare"), vendor
and model case-insensitively and with punctuation folded (``vuln_rows.token``) - or to one
device (its id, IP or MAC; kept by id, which identification keeps across re-runs). One
attachment per SBOM: attaching again moves it; importing the SBOM again keeps it.

``carried_sboms`` tells matching which SBOMs the devices carry, grouped by SBOM (an SBOM of
a model is matched once, however many devices of the model there are).

JSON form of an SBOM (``medsec sboms --json``; stable: fields are only ever added)::

    {"id": 1, "key": "urn:uuid:...", "format": "cyclonedx", "spec_version": "1.4",
     "subject": {"name": "Example Monitor", "version": "2.1"}, "components": 55,
     "attached": {"kind": "model", "to": "Philips|EPIQ 7"} | {"kind": "device", "to": "7"}
                 | null,
     "devices": [{"id": 7, "device": "10.20.0.21"}],
     "source": "/path/to/file.json", "created": "...", "imported_at": "..."}
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from medsec.assess.sbom_matching import SbomComponents
from medsec.assess.vex import SbomRefs
from medsec.assess.vulns import default_readers
from medsec.assess.vulns.interface import FeedReader, Skipped
from medsec.assess.vulns.vendors import VendorNames, clean_name, shipped_vendor_names
from medsec.inventory import DeviceQuery, DeviceView, Store
from medsec.inventory.vuln_rows import AttachedKind, SbomView, sbom_key, token
from medsec.model.errors import SbomError
from medsec.model.vulns import FeedRecord, Sbom
from medsec.report.rows import iso
from medsec.service.devices import find_devices, shown_name
from medsec.service.feeds import FileImport, Progress, detect, import_file

__all__ = [
    "SBOM_FORMATS",
    "Carried",
    "SbomListing",
    "Target",
    "attach",
    "attach_target",
    "attached_text",
    "carried_sboms",
    "check_sbom_files",
    "detach",
    "import_attached",
    "list_sboms",
    "listing",
    "model_key",
    "sbom_json",
]

logger = logging.getLogger(__name__)

SBOM_FORMATS = frozenset({"cyclonedx", "spdx"})
"""Feed readers whose files can hold an SBOM."""


# -- what an SBOM is attached to ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What to attach SBOMs to."""

    kind: AttachedKind
    """``model`` or ``device``."""
    to: str
    """``Vendor|Model`` as given (trimmed), or the device id."""
    shown: str
    """``model Philips|EPIQ 7``, ``device 7 (10.20.0.21)``."""


def model_key(vendor: str | None, model: str | None, vendors: VendorNames) -> str | None:
    """The key a model is compared by: canonical vendor and model as tokens (None when the
    vendor or the model is unknown)."""
    if not vendor or not model:
        return None
    vendor_token, model_token = token(vendors.canonical(vendor)), token(model)
    if not vendor_token or not model_token:
        return None
    return f"{vendor_token}|{model_token}"


def _model_target(text: str, vendors: VendorNames) -> Target:
    vendor, bar, model = text.partition("|")
    vendor, model = clean_name(vendor), clean_name(model)
    if not bar or "|" in model or model_key(vendor, model, vendors) is None:
        raise SbomError(
            f"a model is written 'Vendor|Model' (as `medsec devices` shows them), not {text!r}"
        )
    return Target("model", f"{vendor}|{model}", f"model {vendor}|{model}")


def _device(store: Store, ref: str) -> DeviceView:
    text = ref.strip()
    if not text or (text.isdigit() and not text.isascii()):
        raise SbomError(f"no device {ref!r}: give a device id, IP or MAC")
    found = [] if text == "*" else find_devices(store, text)
    if not found:
        raise SbomError(f"no device {ref!r} in the inventory (see `medsec devices`)")
    if len(found) > 1:
        ids = ", ".join(str(d.id) for d in found[:10])
        raise SbomError(f"{ref!r} names {len(found)} devices (ids {ids}): give the device id")
    return found[0]


def attach_target(
    store: Store,
    *,
    model: str | None = None,
    device: str | None = None,
    vendors: VendorNames | None = None,
) -> Target:
    """The model (``Vendor|Model``) or the device (id, IP or MAC) to attach to, checked."""
    if (model is None) == (device is None):
        raise SbomError("attach to a model or to a device, one of the two")
    if model is not None:
        return _model_target(model, vendors or shipped_vendor_names())
    assert device is not None
    found = _device(store, device)
    return Target("device", str(found.id), f"device {found.id} ({shown_name(found)})")


def _sbom(store: Store, ref: str) -> SbomView:
    found = store.sbom(ref)
    if found is None:
        raise SbomError(f"no SBOM {ref!r} (give an id or key that `medsec sboms` lists)")
    return found


def attach(
    store: Store,
    sbom: str,
    *,
    model: str | None = None,
    device: str | None = None,
    vendors: VendorNames | None = None,
) -> SbomView:
    """Attach the SBOM (id or key) to a model or a device; the SBOM as it is now."""
    target = attach_target(store, model=model, device=device, vendors=vendors)
    view = _sbom(store, sbom)
    done = store.attach_sbom(view.id, target.kind, target.to)
    if done is None:  # removed meanwhile
        raise SbomError(f"no SBOM {sbom!r}")
    logger.info("SBOM %s attached to %s", done.key, target.shown)
    return done


def detach(store: Store, sbom: str) -> SbomView:
    """Attach the SBOM to nothing; the SBOM as it is now."""
    view = _sbom(store, sbom)
    done = store.detach_sbom(view.id)
    if done is None:
        raise SbomError(f"no SBOM {sbom!r}")
    return done


# -- which devices carry which SBOMs -------------------------------------------------------------


@dataclass
class Carried:
    """The SBOMs some devices carry, grouped by SBOM."""

    sboms: list[SbomComponents] = field(default_factory=list)
    holders: dict[int, list[int]] = field(default_factory=dict)
    """SBOM id -> the ids of the devices that carry it."""
    refs: dict[int, list[SbomRefs]] = field(default_factory=dict)
    """Device id -> the bom-refs of the SBOMs it carries (one ``SbomRefs`` per SBOM, shared)."""
    views: dict[int, SbomView] = field(default_factory=dict)


def _holders(
    attached: Sequence[SbomView], devices: Sequence[DeviceView], vendors: VendorNames
) -> dict[int, list[int]]:
    by_device: dict[str, list[int]] = {}
    by_model: dict[str, list[int]] = {}
    for s in attached:
        if s.attached_kind == "device" and s.attached_to:
            by_device.setdefault(s.attached_to, []).append(s.id)
        elif s.attached_kind == "model" and s.attached_to:
            vendor, _, model = s.attached_to.partition("|")
            key = model_key(vendor, model, vendors)
            if key is not None:
                by_model.setdefault(key, []).append(s.id)
    holders: dict[int, list[int]] = {}
    for d in devices:
        ids = list(by_device.get(str(d.id), ()))
        if by_model:
            key = model_key(d.vendor, d.model, vendors)
            ids += by_model.get(key, []) if key else []
        for sbom_id in ids:
            holders.setdefault(sbom_id, []).append(d.id)
    return holders


def carried_sboms(
    store: Store, devices: Sequence[DeviceView], vendors: VendorNames | None = None
) -> Carried:
    """The SBOMs attached to ``devices`` or to their models, with their components."""
    attached = store.sboms(attached_only=True)
    out = Carried()
    if not attached or not devices:
        return out
    holders = _holders(attached, devices, vendors or shipped_vendor_names())
    if not holders:
        return out
    components = store.sbom_components(holders)
    for view in attached:
        if view.id not in holders:
            continue
        found = tuple(components.get(view.id, ()))
        out.views[view.id] = view
        out.holders[view.id] = holders[view.id]
        out.sboms.append(SbomComponents(view.id, view.subject, found))
        refs = SbomRefs(view.subject, view.serial, {c.ref: c for c in found if c.ref})
        for device_id in holders[view.id]:
            out.refs.setdefault(device_id, []).append(refs)
    return out


# -- listing -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SbomListing:
    """An SBOM and the devices that carry it now."""

    sbom: SbomView
    devices: tuple[tuple[int, str], ...]
    """(id, shown name) of each device that carries it."""


def list_sboms(store: Store, vendors: VendorNames | None = None) -> list[SbomListing]:
    """Every imported SBOM with what it is attached to and the devices that carry it."""
    views = store.sboms()
    attached = [v for v in views if v.attached_kind]
    devices = store.devices(DeviceQuery()) if attached else []
    holders = _holders(attached, devices, vendors or shipped_vendor_names())
    shown = {d.id: shown_name(d) for d in devices}
    return [
        SbomListing(v, tuple((i, shown[i]) for i in holders.get(v.id, ()) if i in shown))
        for v in views
    ]


def listing(store: Store, sbom: str, vendors: VendorNames | None = None) -> SbomListing:
    """One SBOM (id or key) with the devices that carry it."""
    view = _sbom(store, sbom)
    return next(r for r in list_sboms(store, vendors) if r.sbom.id == view.id)


def attached_text(view: SbomView) -> str:
    """``model Philips|EPIQ 7``, ``device 7`` or ``-``."""
    if view.attached_kind is None:
        return "-"
    return f"{view.attached_kind} {view.attached_to}"


def sbom_json(listing: SbomListing) -> dict[str, Any]:
    """The documented JSON form of an SBOM (module docstring)."""
    v = listing.sbom
    return {
        "id": v.id,
        "key": v.key,
        "format": v.format,
        "spec_version": v.spec_version,
        "subject": {"name": v.subject_name, "version": v.subject_version},
        "components": v.components,
        "attached": (
            {"kind": v.attached_kind, "to": v.attached_to} if v.attached_kind is not None else None
        ),
        "devices": [{"id": i, "device": name} for i, name in listing.devices],
        "source": v.source,
        "created": iso(v.created),
        "imported_at": iso(v.imported_at),
    }


# -- importing and attaching at once ---------------------------------------------------------------


def check_sbom_files(files: Sequence[Path], readers: Sequence[FeedReader] | None = None) -> None:
    """Refuse, before anything is imported, files that cannot hold an SBOM."""
    readers = readers if readers is not None else default_readers()
    for path in files:
        reader = detect(path, readers)
        if reader is None or reader.name not in SBOM_FORMATS:
            what = f"{reader.name} data" if reader is not None else "no feed medsec reads"
            raise SbomError(
                f"{path} is {what}, not an SBOM: only SBOM files (CycloneDX, SPDX) can be "
                "attached at import"
            )


class _Recording:
    """A reader that remembers the keys of the SBOMs it yields."""

    name: ClassVar[str]

    def __init__(self, reader: FeedReader, keys: list[str]) -> None:
        self._reader = reader
        self._keys = keys
        self.name = reader.name  # type: ignore[misc]

    def detect(self, head: bytes) -> bool:
        return self._reader.detect(head)

    def read(self, path: Path, skipped: Skipped) -> Iterator[FeedRecord]:
        for record in self._reader.read(path, skipped):
            if isinstance(record, Sbom):
                self._keys.append(sbom_key(record, str(path)))
            yield record


def import_attached(
    store: Store,
    path: Path,
    target: Target,
    progress: Progress | None = None,
    readers: Sequence[FeedReader] | None = None,
) -> tuple[FileImport, list[SbomView]]:
    """Import one SBOM file and attach the SBOMs it holds to ``target``. A file that holds
    none (a CycloneDX VEX without components) is imported and then refused."""
    keys: list[str] = []
    recording: list[FeedReader] = [
        _Recording(r, keys) for r in (readers if readers is not None else default_readers())
    ]
    result = import_file(store, path, recording, progress)
    attached: list[SbomView] = []
    for key in dict.fromkeys(keys):
        view = store.sbom(key)
        if view is None:  # the import failed before the batch holding it was written
            continue
        done = store.attach_sbom(view.id, target.kind, target.to)
        if done is not None:
            attached.append(done)
    if not attached and result.status in ("complete", "partial"):
        raise SbomError(f"{path} holds no SBOM (a VEX document?): nothing to attach")
    return result, attached
