"""Devices x vulnerabilities: which CVEs apply to what a device runs, and why medsec thinks so.

Three ways in, each with its basis stated:

- **NVD configurations**: the device's CPE candidates (``assess.products``) against a CVE's
  CPE match criteria and version ranges (``assess.cpe.evaluate_configurations``);
- **CVE 5 ``affected``**: vendor and product (or their CPEs) and the versions listed;
- **CSAF advisories**: the device's vendor and model against the advisory's products
  (vendor names normalised, ``rules/vulns/vendors.yaml``), its firmware or software version
  against the product's version range.

A match is *certain* when the version seen lies in the range; *possible* when the product
matches but the version was not seen or cannot be compared (advisories often name all
versions of a model) - possible matches carry half the confidence. Confidence is the
identification confidence of what the match rests on (0-100): a CVE is only as sure as the
software version it was matched by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from medsec.assess.cpe import evaluate_configurations, match_cpe_range
from medsec.assess.products import Candidate, DeviceDescription
from medsec.assess.versions import range_contains
from medsec.assess.vulns.vendors import VendorNames, shipped_vendor_names
from medsec.inventory.vuln_rows import cpe_vendor_product, token
from medsec.model.vulns import Advisory, AffectedProduct, CpeMatch, CveId, Vulnerability


@dataclass(frozen=True, slots=True)
class VulnMatch:
    """One vulnerability that applies (or may apply) to one device."""

    device_id: int
    cve_id: CveId
    source: str
    """``nvd``, ``cve5`` or ``csaf:<tracking id>``."""
    certain: bool
    """The version seen lies in the affected range (False: product matches, version unknown)."""
    confidence: int
    basis: str
    """Why, in one sentence (what was seen, as which CPE or product, in which range)."""
    product: tuple[str, str] | None = None
    """The (vendor, product) CPE tokens of what matched (None for advisory matches)."""
    version: str | None = None
    """The version seen of it, if any."""
    product_ids: tuple[str, ...] = ()
    """For an advisory match: the CSAF product ids (of the advisory ``source`` names) the
    device is taken for - those whose range holds the version seen, if any - which
    per-product scores (``CvssMetric.products``) are looked up by."""


def _bounds(m: CpeMatch) -> str:
    parts = []
    if m.version_start_including:
        parts.append(f">= {m.version_start_including}")
    if m.version_start_excluding:
        parts.append(f"> {m.version_start_excluding}")
    if m.version_end_including:
        parts.append(f"<= {m.version_end_including}")
    if m.version_end_excluding:
        parts.append(f"< {m.version_end_excluding}")
    return f" in range {' and '.join(parts)}" if parts else ""


def _holds_for(m: CpeMatch, candidate: Candidate) -> bool | None:
    return match_cpe_range(
        m.criteria,
        candidate.cpe,
        version_start_including=m.version_start_including,
        version_start_excluding=m.version_start_excluding,
        version_end_including=m.version_end_including,
        version_end_excluding=m.version_end_excluding,
    )


def _seen(c: Candidate) -> str:
    return f"{c.attribute} {c.seen_as} (confidence {c.confidence})"


NvdMemo = dict[tuple[str, str, tuple[str, ...]], tuple[bool, int, CpeMatch] | None]
"""Outcomes of NVD evaluations by (CVE, source, candidate CPEs): devices that run the same
versions share them (an inventory has thousands of devices and few distinct versions)."""


def match_nvd(
    device: DeviceDescription,
    found: Sequence[Candidate],
    vulnerability: Vulnerability,
    memo: NvdMemo | None = None,
) -> VulnMatch | None:
    """The NVD configurations of ``vulnerability`` against the device's candidates (those
    whose vendor and product the configurations name: the others cannot change the answer)."""
    if not vulnerability.cpe_matches or not found:
        return None
    named = {cpe_vendor_product(m.criteria) for m in vulnerability.cpe_matches}
    relevant = [c for c in found if (c.vendor, c.product) in named]
    if not relevant:
        return None
    key = (vulnerability.cve_id, vulnerability.source, tuple(c.cpe for c in relevant))
    if memo is not None and key in memo:
        outcome = memo[key]
    else:
        outcome = _nvd_outcome(relevant, vulnerability)
        if memo is not None:
            memo[key] = outcome
    if outcome is None:
        return None
    certain, index, m = outcome
    return _nvd_match(device.device_id, vulnerability, relevant[index], m, certain)


def _nvd_match(
    device_id: int, v: Vulnerability, c: Candidate, m: CpeMatch, certain: bool
) -> VulnMatch:
    if certain:
        basis = f"{_seen(c)} as {c.cpe} matches {m.criteria}{_bounds(m)} of {v.cve_id}"
    else:
        basis = (
            f"{_seen(c)} is {c.vendor}:{c.product}, named by {m.criteria}{_bounds(m)} of "
            f"{v.cve_id}; its version was not seen"
        )
    confidence = min(c.confidence, 95) if certain else c.confidence // 2
    return VulnMatch(
        device_id, v.cve_id, v.source, certain, confidence, basis, (c.vendor, c.product), c.version
    )


def _nvd_outcome(
    relevant: Sequence[Candidate], vulnerability: Vulnerability
) -> tuple[bool, int, CpeMatch] | None:
    """(certain, which candidate, which match) of a vulnerability, or None."""
    answer, basis = evaluate_configurations(vulnerability.cpe_matches, [c.cpe for c in relevant])
    if answer is True:
        for m in basis:
            for i, c in enumerate(relevant):
                if _holds_for(m, c) is True:
                    return True, i, m
    if answer is None:
        for m in vulnerability.cpe_matches:
            if not m.vulnerable or m.negate:
                continue
            named = cpe_vendor_product(m.criteria)
            for i, c in enumerate(relevant):
                if c.version is None and named == (c.vendor, c.product):
                    if _holds_for(m, c) is not False:
                        return False, i, m
    return None


def _affected_pairs(a: AffectedProduct) -> set[tuple[str, str]]:
    pairs = {(token(a.vendor), token(a.product))}
    for cpe in a.cpes:
        found = cpe_vendor_product(cpe)
        if found is not None:
            pairs.add(found)
    return pairs


def match_cve5(
    device: DeviceDescription, found: Sequence[Candidate], vulnerability: Vulnerability
) -> VulnMatch | None:
    """The CNA's ``affected`` products and versions against the device's candidates."""
    explicit = {
        pair
        for a in vulnerability.affected
        if not all(r.all_versions for r in a.versions)
        for pair in _affected_pairs(a)
    }
    for a in vulnerability.affected:
        if a.status != "affected":
            continue
        pairs = _affected_pairs(a)
        if a.versions and all(r.all_versions for r in a.versions) and pairs & explicit:
            continue  # a CVE 5 defaultStatus: the versions listed for the product decide
        for c in found:
            if (c.vendor, c.product) not in pairs:
                continue
            listed = ", ".join(
                r.raw or _range_text(r.version, r.less_than, r.less_than_or_equal)
                for r in a.versions
            )
            if c.version is None:
                return VulnMatch(
                    device.device_id,
                    vulnerability.cve_id,
                    vulnerability.source,
                    False,
                    c.confidence // 2,
                    f"{_seen(c)} is {a.vendor} {a.product}, affected in versions {listed} "
                    f"by {vulnerability.cve_id}; its version was not seen",
                    (c.vendor, c.product),
                )
            verdicts = [range_contains(r, c.version) for r in a.versions]
            if any(v is True for v in verdicts):
                return VulnMatch(
                    device.device_id,
                    vulnerability.cve_id,
                    vulnerability.source,
                    True,
                    min(c.confidence, 95),
                    f"{_seen(c)} is {a.vendor} {a.product} {c.version}, within the affected "
                    f"versions {listed} of {vulnerability.cve_id}",
                    (c.vendor, c.product),
                    c.version,
                )
    return None


def _range_text(version: str | None, lt: str | None, le: str | None) -> str:
    if lt:
        return f"{version or '0'} to < {lt}"
    if le:
        return f"{version or '0'} to <= {le}"
    return version or "?"


def match_vulnerability(
    device: DeviceDescription,
    found: Sequence[Candidate],
    vulnerability: Vulnerability,
    memo: NvdMemo | None = None,
) -> VulnMatch | None:
    """Does ``vulnerability`` apply to the device? NVD configurations when it has any, else
    the CNA's affected list. Rejected CVEs never apply."""
    if (vulnerability.status or "").casefold() in ("rejected", "reject"):
        return None
    if vulnerability.cpe_matches:
        return match_nvd(device, found, vulnerability, memo)
    return match_cve5(device, found, vulnerability)


def _model_matches(model: str, product: str) -> bool:
    m, p = token(model), token(product)
    return bool(m) and bool(p) and (m in p or p in m)


def match_advisory(
    device: DeviceDescription, advisory: Advisory, vendors: VendorNames | None = None
) -> list[VulnMatch]:
    """The advisory's affected products of the device's vendor and model, by version."""
    if not device.vendor or not device.model:
        return []
    vendors = vendors or shipped_vendor_names()
    vendor = vendors.canonical(device.vendor)
    versions = [v for v in (device.firmware_version, *(s.version for s in device.software)) if v]
    confidence = min(device.confidence.get("vendor", 0), device.confidence.get("model", 0))
    hits: dict[str, tuple[bool, str]] = {}
    for p in advisory.products:
        if vendors.canonical(p.vendor) != vendor or not _model_matches(device.model, p.product):
            continue
        if not p.product_id:
            continue
        verdicts = [(v, range_contains(r, v)) for r in p.versions for v in versions]
        inside = next((v for v, verdict in verdicts if verdict is True), None)
        if inside is not None:
            hits[p.product_id] = (True, f"version {inside} of {p.product}")
        elif all(r.all_versions for r in p.versions) and p.versions:
            hits[p.product_id] = (True, f"{p.product} (all versions)")
        elif not any(verdict is False for _, verdict in verdicts) or not verdicts:
            hits.setdefault(p.product_id, (False, f"{p.product} (its version was not seen)"))
    out = []
    for v in advisory.vulnerabilities:
        if v.cve_id is None:
            continue
        affected = list(
            dict.fromkeys(p for p, status in v.products if status == "affected" and p in hits)
        )
        if not affected:
            continue
        matched = [p for p in affected if hits[p][0]] or affected  # in range, if any is
        certain, what = hits[matched[0]]
        out.append(
            VulnMatch(
                device.device_id,
                v.cve_id,
                f"csaf:{advisory.tracking_id}",
                certain,
                confidence if certain else confidence // 2,
                f"vendor {device.vendor} and model {device.model} (confidence "
                f"{confidence}) are {what}, affected by {v.cve_id} per "
                f"{advisory.tracking_id}",
                product_ids=tuple(matched),
            )
        )
    return out


def best(matches: Iterable[VulnMatch]) -> list[VulnMatch]:
    """One match per (device, CVE): certain before possible, then the most confident."""
    kept: dict[tuple[int, str], VulnMatch] = {}
    for m in matches:
        key = (m.device_id, m.cve_id)
        old = kept.get(key)
        if old is None or (m.certain, m.confidence) > (old.certain, old.confidence):
            kept[key] = m
    return sorted(kept.values(), key=lambda m: (m.device_id, m.cve_id))


def match_inventory(
    devices: Sequence[DeviceDescription],
    found: Mapping[int, Sequence[Candidate]],
    vulnerabilities: Iterable[Vulnerability],
) -> list[VulnMatch]:
    """``match_vulnerability`` for every device and vulnerability, with the work shared.

    An inventory has thousands of devices and few distinct versions of each product, and
    whether NVD configurations apply depends only on the candidates whose vendor:product
    they name. So devices are grouped by those candidates (their CPE names) and each group
    is evaluated once per vulnerability; only devices that have a product a *vulnerable*
    match names are considered (a platform alone never makes a configuration apply)."""
    by_id = {d.device_id: d for d in devices}
    # (vendor, product) -> device id -> its candidates of that product, in a fixed order
    holders: dict[tuple[str, str], dict[int, list[Candidate]]] = {}
    for device_id, candidates in found.items():
        for c in candidates:
            holders.setdefault((c.vendor, c.product), {}).setdefault(device_id, []).append(c)
    for per_device in holders.values():
        for cands in per_device.values():
            cands.sort(key=lambda c: c.cpe)
    out: list[VulnMatch] = []
    for v in vulnerabilities:
        if (v.status or "").casefold() in ("rejected", "reject"):
            continue
        if not v.cpe_matches:
            for device_id in _cve5_holders(v, holders):
                hit = match_cve5(by_id[device_id], found[device_id], v)
                if hit is not None:
                    out.append(hit)
            continue
        named = sorted({p for m in v.cpe_matches if (p := cpe_vendor_product(m.criteria))})
        vulnerable = {
            p
            for m in v.cpe_matches
            if m.vulnerable and not m.negate and (p := cpe_vendor_product(m.criteria))
        }
        candidates_of = {p: holders.get(p, {}) for p in named}
        checked = set().union(*(candidates_of[p].keys() for p in vulnerable if p in candidates_of))
        groups: dict[tuple[str, ...], list[tuple[int, list[Candidate]]]] = {}
        for device_id in checked:
            relevant = [c for p in named for c in candidates_of[p].get(device_id, ())]
            groups.setdefault(tuple(c.cpe for c in relevant), []).append((device_id, relevant))
        for members in groups.values():
            outcome = _nvd_outcome(members[0][1], v)
            if outcome is None:
                continue
            certain, index, m = outcome
            for device_id, relevant in members:
                c = relevant[index]
                out.append(_nvd_match(device_id, v, c, m, certain))
    return best(out)


def _cve5_holders(
    v: Vulnerability, holders: Mapping[tuple[str, str], Mapping[int, Sequence[Candidate]]]
) -> set[int]:
    out: set[int] = set()
    for a in v.affected:
        for pair in _affected_pairs(a):
            out.update(holders.get(pair, {}).keys())
    return out
