"""VEX: a supplier's statement that a CVE does not affect (or is fixed in) a product takes the
match of that product away, and says so.

A statement applies to a match when one of its refs names the matched product - a CPE with
the same vendor and product, or a purl whose name is the product - and, when it lists
versions (or its CPE or purl pins one), the version seen is among them. Only ``not_affected``
and ``fixed`` statements take a match away; ``affected`` and ``under_investigation`` ones
leave it as it is.

A ref that is neither a CPE nor a purl is a **bom-ref** (CycloneDX ``bom-ref``, SPDX id) or a
BOM-Link (``urn:cdx:<serial>/<version>#<bom-ref>``): it resolves through the components of
the SBOMs the device carries (``SbomRefs``; a BOM-Link only through the SBOM with its serial
number). A match that came from an SBOM component (``SbomComponent``, ``origins``) is cleared
only by a bom-ref to that very component (another copy of the product elsewhere in the SBOM
may well be reachable); a match of what the device was seen running is cleared when the
component's purl or CPE names its product and version as above (DCMTK seen on the wire, and
the DCMTK component of the device's SBOM).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote as unquote_url

from packageurl import PackageURL

from medsec.assess.cpe import ANY, NA, parse_cpe, unquote
from medsec.assess.matching import VulnMatch
from medsec.assess.versions import compare, range_contains
from medsec.inventory.vuln_rows import token
from medsec.model.vulns import Component, VexStatement

CLEARING = frozenset({"not_affected", "fixed"})


@dataclass(frozen=True, slots=True)
class SbomComponent:
    """A component of an SBOM: where an SBOM match came from, what a bom-ref names."""

    sbom: str
    """The SBOM as shown (its subject, else its key)."""
    serial: str | None
    """Its serial number (``urn:uuid:...``), for BOM-Links."""
    component: Component


@dataclass(frozen=True, slots=True)
class SbomRefs:
    """One SBOM's components by bom-ref (shared by every device that carries the SBOM)."""

    sbom: str
    serial: str | None
    components: Mapping[str, Component] = field(default_factory=dict)

    def resolve(self, ref: str) -> SbomComponent | None:
        """The component ``ref`` (a bom-ref, or a BOM-Link into this SBOM) names."""
        local: str | None = ref
        if ref.startswith("urn:cdx:") and "#" in ref:
            document, fragment = ref[len("urn:cdx:") :].split("#", 1)
            serial = f"urn:uuid:{document.split('/')[0]}".casefold()
            local = unquote_url(fragment) if (self.serial or "").casefold() == serial else None
        found = self.components.get(local) if local is not None else None
        return SbomComponent(self.sbom, self.serial, found) if found is not None else None


@dataclass(frozen=True, slots=True)
class Cleared:
    """A match a VEX statement takes away."""

    match: VulnMatch
    statement: VexStatement
    reason: str


def _ref_names(ref: str, product: tuple[str, str]) -> tuple[bool, str | None]:
    """Whether ``ref`` names ``product``, and the version it pins (None: any)."""
    if ref.startswith("cpe:"):
        name = parse_cpe(ref)
        if name is None:
            return False, None
        pair = (token(unquote(name.vendor)), token(unquote(name.product)))
        pinned = None if name.version in (ANY, NA) else unquote(name.version)
        return pair == product, pinned
    if ref.startswith("pkg:"):
        try:
            purl = PackageURL.from_string(ref)
        except ValueError:
            return False, None
        return token(purl.name) == product[1], purl.version
    return False, None


def _names(
    ref: str,
    product: tuple[str, str],
    origin: SbomComponent | None,
    boms: Sequence[SbomRefs],
) -> tuple[bool, str | None, str]:
    """Whether ``ref`` names the matched product (or the SBOM component ``origin`` a match
    came from), the version it pins (None: any), and how the reason shows the ref."""
    if origin is not None and ref in (origin.component.purl, origin.component.cpe):
        return True, None, ref
    if ref.startswith(("cpe:", "pkg:")):
        names, pinned = _ref_names(ref, product)
        return names, pinned, ref
    for bom in boms:
        found = bom.resolve(ref)
        if found is None:
            continue
        c = found.component
        shown = (
            f"{ref} (component {c.name}{' ' + c.version if c.version else ''} of SBOM {bom.sbom})"
        )
        if origin is not None:
            if found == origin:
                return True, None, shown
            continue  # another component of the SBOM (maybe another copy of the product)
        for named in (c.purl, c.cpe):
            if named:
                names, pinned = _ref_names(named, product)
                if names:
                    return True, pinned or c.version, shown
    return False, None, ref


def clearing_statement(
    match: VulnMatch,
    statements: Sequence[VexStatement],
    origin: SbomComponent | None = None,
    boms: Sequence[SbomRefs] = (),
) -> Cleared | None:
    """The first statement that takes ``match`` away, if any. ``origin``: the SBOM component
    the match came from; ``boms``: the SBOMs of the device, for bom-refs."""
    if match.product is None:
        return None
    for s in statements:
        if s.cve_id != match.cve_id or s.status not in CLEARING:
            continue
        for ref in s.refs:
            names, pinned, shown = _names(ref, match.product, origin, boms)
            if not names:
                continue
            if pinned is not None and (match.version is None or compare(pinned, match.version)):
                continue  # pins another (or an unseen) version
            if s.versions and (
                match.version is None
                or not any(range_contains(r, match.version) is True for r in s.versions)
            ):
                continue
            seen = f" (version seen: {match.version})" if match.version else ""
            status = s.status.replace("_", " ")
            why = f": {s.justification}" if s.justification else ""
            source = s.source or "a VEX document"
            return Cleared(
                match, s, f"{source} says {match.cve_id} is {status} for {shown}{seen}{why}"
            )
    return None


def apply_vex(
    matches: Iterable[VulnMatch],
    statements: Sequence[VexStatement],
    *,
    origins: Mapping[VulnMatch, SbomComponent] | None = None,
    boms: Mapping[int, Sequence[SbomRefs]] | None = None,
) -> tuple[list[VulnMatch], list[Cleared]]:
    """The matches no statement clears, and those it does with why. ``origins``: the SBOM
    component each SBOM match came from; ``boms``: the SBOMs each device (by id) carries, for
    statements that name components by bom-ref."""
    by_cve: dict[str, list[VexStatement]] = {}
    for s in statements:
        by_cve.setdefault(s.cve_id, []).append(s)
    origins = origins or {}
    boms = boms or {}
    kept: list[VulnMatch] = []
    cleared: list[Cleared] = []
    for m in matches:
        about = by_cve.get(m.cve_id)
        if not about:
            kept.append(m)
            continue
        origin = origins.get(m) if origins else None
        found = clearing_statement(m, about, origin, boms.get(m.device_id, ()))
        if found is None:
            kept.append(m)
        else:
            cleared.append(found)
    return kept, cleared
