"""Which vulnerabilities apply to which devices (``medsec vulns``): identification's software,
OS, vendor and model, and the components of the SBOMs attached to the devices or their models,
matched against the imported feeds, with severity (CVSS), exploitation (KEV, EPSS) and the
basis of every match."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from medsec.assess.matching import (
    VulnMatch,
    best,
    match_advisory,
    match_inventory,
)
from medsec.assess.products import (
    DeviceDescription,
    SoftwareSeen,
    candidates,
    product_pairs,
)
from medsec.assess.sbom_matching import component_products, for_devices, lookup_keys, match_sboms
from medsec.assess.vex import Cleared, SbomComponent, apply_vex
from medsec.assess.vulns.vendors import VendorNames, shipped_vendor_names
from medsec.inventory import DeviceQuery, DeviceView, Store
from medsec.inventory.vuln_rows import best_metric, token
from medsec.model.vulns import Advisory, AdvisoryVulnerability, CvssMetric, Vulnerability
from medsec.service.devices import find_devices, shown_name
from medsec.service.sboms import Carried, carried_sboms

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceVulnerability:
    """A vulnerability that applies (``certain``) or may apply to a device, and how bad."""

    device_id: int
    device: str
    """How the device is shown: its first IP, else its key."""
    cve_id: str
    source: str
    certain: bool
    confidence: int
    basis: str
    cvss_version: str | None
    cvss_score: float | None
    cvss_vector: str | None
    severity: str | None
    kev: bool
    kev_due: date | None
    known_ransomware: bool | None
    epss: float | None
    epss_percentile: float | None
    advisories: tuple[str, ...]
    remediations: tuple[str, ...]
    """What the advisories say to do (vendor fixes first)."""
    vex: VexClearance | None = None
    """For a match a VEX statement took away (``list_vulnerabilities(cleared=True)``): the
    statement; None for a match that stands."""

    @property
    def cleared(self) -> bool:
        return self.vex is not None


@dataclass(frozen=True, slots=True)
class VexClearance:
    """Why a match is gone: the VEX statement that says the product is not affected or fixed."""

    status: str
    """``not_affected`` or ``fixed``."""
    justification: str | None
    """The supplier's justification (``code_not_reachable``...), when given."""
    detail: str | None
    source: str
    """The document that said it (serial number, tracking id, file name)."""
    reason: str
    """In one sentence, naming the product or component the statement was about."""

    @classmethod
    def of(cls, cleared: Cleared) -> VexClearance:
        s = cleared.statement
        return cls(s.status, s.justification, s.detail, s.source, cleared.reason)


def describe(device: DeviceView) -> DeviceDescription:
    """The matching inputs of a stored device."""
    record = device.record
    attributes: dict[str, Any] = record.get("attributes", {})

    def value(name: str) -> str | None:
        found = attributes.get(name)
        return str(found["value"]) if found else None

    return DeviceDescription(
        device_id=device.id,
        vendor=device.vendor,
        model=device.model,
        os=device.os,
        os_version=value("os_version"),
        firmware_version=value("firmware_version"),
        software=tuple(
            SoftwareSeen(str(s["name"]), s.get("version"), int(s.get("confidence", 0)))
            for s in record.get("software", [])
        ),
        confidence={name: int(a["confidence"]) for name, a in attributes.items()},
    )


@dataclass(frozen=True, slots=True)
class Assessment:
    matches: list[VulnMatch]
    """One per device and CVE, the best basis."""
    vulnerabilities: dict[str, Vulnerability]
    """The CVE records the matching read, by CVE id (NVD's when several sources)."""
    advisories: list[Advisory]
    cleared: list[Cleared]
    """Matches a VEX statement took away (not affected / fixed), with why."""


def _sbom_matches(
    store: Store, carried: Carried
) -> tuple[list[VulnMatch], dict[VulnMatch, SbomComponent], list[Vulnerability]]:
    """The matches the devices get from the SBOMs they carry (each SBOM matched once), the
    component each comes from, and the records they rest on."""
    if not carried.sboms:
        return [], {}, []
    products = [component_products(c) for s in carried.sboms for c in dict.fromkeys(s.components)]
    pairs, names = lookup_keys(products)
    found = store.vulnerabilities_for_products(pairs) if pairs else []
    if names:
        found += store.vulnerabilities_for_product_names(names)
    vulnerabilities = list({(v.cve_id, v.source): v for v in found}.values())
    result = match_sboms(carried.sboms, vulnerabilities)
    for sbom_id, problem in result.problems:
        logger.debug("SBOM %s: skipped %s", carried.views[sbom_id].key, problem)
    given = for_devices(result.matches, carried.holders)
    origins = {
        match: SbomComponent(
            carried.views[m.sbom_id].subject, carried.views[m.sbom_id].serial, m.component
        )
        for match, m in given
    }
    return [match for match, _ in given], origins, vulnerabilities


def device_matches(
    store: Store, devices: Sequence[DeviceView], vendors: VendorNames | None = None
) -> Assessment:
    """Every vulnerability match of the devices, with the records they rest on: what they
    were seen running, the SBOMs they carry, the advisories of their vendor and model; VEX
    statements take away those they clear (by CPE, purl or an SBOM's bom-ref)."""
    vendors = vendors or shipped_vendor_names()
    described = [describe(d) for d in devices]
    found = {d.device_id: candidates(d) for d in described}
    pairs = set().union(*(product_pairs(c) for c in found.values())) if found else set()
    vulnerabilities = store.vulnerabilities_for_products(pairs) if pairs else []
    matches = match_inventory(described, found, vulnerabilities)
    carried = carried_sboms(store, devices, vendors)
    from_sboms, origins, sbom_vulnerabilities = _sbom_matches(store, carried)
    matches.extend(from_sboms)
    vendor_tokens = {token(vendors.canonical(d.vendor)) for d in described if d.vendor}
    advisories = store.advisories_for_vendors(vendor_tokens) if vendor_tokens else []
    for d in described:
        for a in advisories:
            matches.extend(match_advisory(d, a, vendors))
    records: dict[str, Vulnerability] = {}
    for v in (*vulnerabilities, *sbom_vulnerabilities):  # NVD's when the CVE program's is there
        if v.cve_id not in records or v.source == "nvd":
            records[v.cve_id] = v
    statements = store.vex_statements({m.cve_id for m in matches}) if matches else []
    kept, cleared = apply_vex(matches, statements, origins=origins, boms=carried.refs)
    kept = best(kept)
    standing = {(m.device_id, m.cve_id) for m in kept}
    gone: dict[tuple[int, str], Cleared] = {}
    for c in cleared:  # what a VEX took away and nothing else still matches, once
        key = (c.match.device_id, c.match.cve_id)
        if key not in standing:
            gone.setdefault(key, c)
    return Assessment(kept, records, advisories, list(gone.values()))


def _for_products(
    metrics: Sequence[CvssMetric], products: frozenset[str]
) -> tuple[tuple[CvssMetric, ...], bool]:
    """The scores of one advisory's vulnerability that apply to ``products`` (its product
    ids the match rests on), and whether they name them: those naming one of them; else those
    for the whole vulnerability; else - all for other products - the highest of each CVSS
    version."""
    named = tuple(m for m in metrics if products & set(m.products))
    if named:
        return named, True
    general = tuple(m for m in metrics if not m.products)
    if general:
        return general, False
    highest: dict[str, CvssMetric] = {}
    for m in metrics:
        if m.version not in highest or m.base_score > highest[m.version].base_score:
            highest[m.version] = m
    return tuple(highest.values()), False


def scores(
    match: VulnMatch,
    record: Vulnerability | None,
    stated: Iterable[tuple[Advisory, AdvisoryVulnerability]],
) -> tuple[tuple[CvssMetric, ...], ...]:
    """The CVSS scores a match may show, in tiers, the most specific first: the advisories'
    scores for the very product the match rests on (CSAF scores name the product ids they are
    for; ``VulnMatch.product_ids``); the CVE record's own; the advisories' other scores (for
    the whole vulnerability, else the highest of those for other products)."""
    named: list[CvssMetric] = []
    other: list[CvssMetric] = []
    for a, v in stated:
        own = match.source == f"csaf:{a.tracking_id}"
        found, names = _for_products(v.metrics, frozenset(match.product_ids if own else ()))
        (named if names else other).extend(found)
    return tuple(named), tuple(record.metrics if record else ()), tuple(other)


def pick(tiers: Iterable[Iterable[CvssMetric]], version: str | None = None) -> CvssMetric | None:
    """The score to show (``best_metric``) of the first tier that has one (of ``version``)."""
    for tier in tiers:
        found = best_metric(m for m in tier if version is None or m.version == version)
        if found is not None:
            return found
    return None


def _advisory_facts(
    advisories: Iterable[Advisory], cve: str
) -> tuple[tuple[str, ...], tuple[str, ...], list[tuple[Advisory, AdvisoryVulnerability]]]:
    ids: list[str] = []
    fixes: list[str] = []
    stated: list[tuple[Advisory, AdvisoryVulnerability]] = []
    for a in advisories:
        for v in a.vulnerabilities:
            if v.cve_id != cve:
                continue
            ids.append(a.tracking_id)
            stated.append((a, v))
            ranked = sorted(v.remediations, key=lambda r: r.category != "vendor_fix")
            fixes.extend(f"{r.category}: {r.details}" for r in ranked[:3])
    return tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(fixes)), stated


def list_vulnerabilities(
    store: Store,
    *,
    device: str | None = None,
    kev_only: bool = False,
    min_cvss: float | None = None,
    certain_only: bool = False,
    cleared: bool = False,
) -> list[DeviceVulnerability]:
    """Vulnerabilities of the inventory's devices (or of one device: id, IP or MAC);
    ``cleared``: instead, the matches a VEX statement took away, each with the statement."""
    devices = find_devices(store, device) if device else store.devices(DeviceQuery())
    assessment = device_matches(store, devices)
    found: list[tuple[VulnMatch, VexClearance | None]] = (
        [(c.match, VexClearance.of(c)) for c in assessment.cleared]
        if cleared
        else [(m, None) for m in assessment.matches]
    )
    kev, epss = store.exploitation({m.cve_id for m, _ in found})
    shown = {d.id: shown_name(d) for d in devices}
    out = []
    for m, vex in found:
        ids, fixes, stated = _advisory_facts(assessment.advisories, m.cve_id)
        metric = pick(scores(m, assessment.vulnerabilities.get(m.cve_id), stated))
        known = kev.get(m.cve_id)
        score = epss.get(m.cve_id)
        row = DeviceVulnerability(
            device_id=m.device_id,
            device=shown.get(m.device_id, str(m.device_id)),
            cve_id=m.cve_id,
            source=m.source,
            certain=m.certain,
            confidence=m.confidence,
            basis=m.basis,
            cvss_version=metric.version if metric else None,
            cvss_score=metric.base_score if metric else None,
            cvss_vector=metric.vector if metric else None,
            severity=metric.severity if metric else None,
            kev=known is not None,
            kev_due=known.due_date if known else None,
            known_ransomware=known.known_ransomware if known else None,
            epss=score.score if score else None,
            epss_percentile=score.percentile if score else None,
            advisories=ids,
            remediations=fixes,
            vex=vex,
        )
        if kev_only and not row.kev:
            continue
        if min_cvss is not None and (row.cvss_score is None or row.cvss_score < min_cvss):
            continue
        if certain_only and not row.certain:
            continue
        out.append(row)
    out.sort(key=lambda r: (not r.kev, -(r.cvss_score or 0.0), r.device, r.cve_id))
    return out


def vulnerability_json(row: DeviceVulnerability) -> dict[str, Any]:
    """One row of ``medsec vulns --json``; ``cleared`` and ``vex`` (status, justification,
    detail, source, reason) say whether a VEX statement took the match away
    (``medsec vulns --cleared``) and which."""
    return {
        "device_id": row.device_id,
        "device": row.device,
        "cve": row.cve_id,
        "source": row.source,
        "certain": row.certain,
        "confidence": row.confidence,
        "basis": row.basis,
        "cvss": {
            "version": row.cvss_version,
            "score": row.cvss_score,
            "vector": row.cvss_vector,
            "severity": row.severity,
        },
        "kev": row.kev,
        "kev_due": row.kev_due.isoformat() if row.kev_due else None,
        "known_ransomware": row.known_ransomware,
        "epss": row.epss,
        "epss_percentile": row.epss_percentile,
        "advisories": list(row.advisories),
        "remediations": list(row.remediations),
        "cleared": row.cleared,
        "vex": (
            {
                "status": row.vex.status,
                "justification": row.vex.justification,
                "detail": row.vex.detail,
                "source": row.vex.source,
                "reason": row.vex.reason,
            }
            if row.vex
            else None
        ),
    }
