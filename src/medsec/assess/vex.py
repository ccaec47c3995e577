"""VEX: a supplier's statement that a CVE does not affect (or is fixed in) a product takes the
match of that product away, and says so.

A statement applies to a match when one of its refs names the matched product - a CPE with
the same vendor and product, or a purl whose name is the product - and, when it lists
versions (or its CPE or purl pins one), the version seen is among them. Only ``not_affected``
and ``fixed`` statements take a match away; ``affected`` and ``under_investigation`` ones
leave it as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packageurl import PackageURL

from medsec.assess.cpe import ANY, NA, parse_cpe, unquote
from medsec.assess.matching import VulnMatch
from medsec.assess.versions import compare, range_contains
from medsec.inventory.vuln_rows import token
from medsec.model.vulns import VexStatement

CLEARING = frozenset({"not_affected", "fixed"})


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


def clearing_statement(match: VulnMatch, statements: Sequence[VexStatement]) -> Cleared | None:
    """The first statement that takes ``match`` away, if any."""
    if match.product is None:
        return None
    for s in statements:
        if s.cve_id != match.cve_id or s.status not in CLEARING:
            continue
        for ref in s.refs:
            names, pinned = _ref_names(ref, match.product)
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
                match, s, f"{source} says {match.cve_id} is {status} for {ref}{seen}{why}"
            )
    return None


def apply_vex(
    matches: Iterable[VulnMatch], statements: Sequence[VexStatement]
) -> tuple[list[VulnMatch], list[Cleared]]:
    """The matches no statement clears, and those it does with why."""
    by_cve: dict[str, list[VexStatement]] = {}
    for s in statements:
        by_cve.setdefault(s.cve_id, []).append(s)
    kept: list[VulnMatch] = []
    cleared: list[Cleared] = []
    for m in matches:
        found = clearing_statement(m, by_cve.get(m.cve_id, ()))
        if found is None:
            kept.append(m)
        else:
            cleared.append(found)
    return kept, cleared
