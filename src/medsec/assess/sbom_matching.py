"""SBOM components x vulnerabilities: what the SBOM of a device model (or of one device) lists,
matched against the feeds the way identification's software is (``assess.matching``).

A component is known by up to three names, each giving CPE candidates with a confidence:

1. **its CPE** (``CONFIDENCE_CPE``): the CPE the SBOM gives, exactly as written, with the
   component's version filled in when the CPE leaves it ANY;
2. **its purl** (``CONFIDENCE_PURL``, packageurl-python): the package name as the product,
   under the vendors the purl implies - the owner of a ``github``/``gitlab``/``bitbucket``
   repository or a Go module, the organisation of a Maven group (``org.apache.*`` ->
   ``apache``), an npm scope, a generic namespace, the supplier, the product's own name
   (``openssl:openssl``) and ``<name>_project`` - and the vendor:product
   ``rules/vulns/products.yaml`` lists the name under; the ecosystem (npm, PyPI, RubyGems,
   crates.io) as the CPE's target software, so a CVE of a PyPI package never applies to the
   npm package of the same name;
3. **its name** (``CONFIDENCE_NAME``): for a component without a readable CPE, the name (and
   the purl's name) under any vendor the feeds list that product for, the products.yaml
   entry of the name at ``CONFIDENCE_ALIAS``.

Candidates are written the way the feeds spell the product (``gin-gonic``, not the lookup
token ``gin_gonic``), then matched by ``matching.match_vulnerability``: NVD configurations
(the SBOM's other components are the platform a "running on" node asks for) and CVE 5
``affected`` lists, with the version ranges and the certain/possible rule of the device path.
Every match says which SBOM, which component and by which of its names::

    SBOM Example Monitor 2.1 component pkg:generic/openssl@1.0.2k by its purl (confidence
    75) as cpe:2.3:a:openssl:openssl:1.0.2k:*:*:*:*:*:*:* matches
    cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:* in range < 1.0.2l of CVE-2017-3735

An SBOM is matched once, however many devices carry it (``match_sboms``); its matches are
then given to each of them (``for_devices``). Text that is no CPE or purl is skipped and said
(``ComponentProducts.problems``), never raised.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from packageurl import PackageURL

from medsec.assess.cpe import ANY, NA, Cpe, parse_cpe, quote, unquote
from medsec.assess.matching import NvdMemo, VulnMatch, match_vulnerability
from medsec.assess.products import Candidate, DeviceDescription, SoftwareSeen, candidates
from medsec.inventory.vuln_rows import cpe_vendor_product, token
from medsec.model.vulns import Component, Vulnerability

__all__ = [
    "CONFIDENCE_ALIAS",
    "CONFIDENCE_CPE",
    "CONFIDENCE_NAME",
    "CONFIDENCE_PURL",
    "ComponentMatch",
    "ComponentProducts",
    "ProductGuess",
    "SbomComponents",
    "SbomMatching",
    "component_products",
    "for_devices",
    "lookup_keys",
    "match_sboms",
]

CONFIDENCE_CPE = 90
"""The SBOM names the component's CPE: its supplier said what it is."""
CONFIDENCE_PURL = 75
"""A vendor and product derived from the component's purl."""
CONFIDENCE_ALIAS = 60
"""The component's name is a product ``rules/vulns/products.yaml`` lists."""
CONFIDENCE_NAME = 40
"""Only the product name is known: any vendor the feeds list it under."""

MAX_TOKEN = 200
"""Longer product names are no product a feed names (the lookup column's width)."""

How = Literal["CPE", "purl", "name"]

_HOSTED = frozenset({"github", "gitlab", "bitbucket"})
"""purl types whose namespace is the repository's owner."""
_DISTRIBUTIONS = frozenset({"deb", "rpm", "apk", "alpm", "opkg", "ebuild", "conda", "qpkg"})
"""purl types whose namespace is a distribution, not the software's vendor."""
_ECOSYSTEMS = {"npm": "node.js", "pypi": "python", "gem": "ruby", "cargo": "rust", "golang": "go"}
"""purl types -> the CPE ``target_sw`` NVD gives packages of that ecosystem."""
_GROUP_ROOTS = frozenset(
    "org com net io de ch nl fr uk eu info me dev edu gov at be it jp cn ru se no fi dk".split()
)
"""First labels of reversed-domain Maven groups (``org.apache...``): not the vendor."""


@dataclass(frozen=True, slots=True)
class ProductGuess:
    """One name a component may be known by in the feeds."""

    vendor: str | None
    """Vendor token; None: any vendor the feeds list ``product`` under."""
    product: str
    """Product token (``token``: lower case, other characters as ``_``)."""
    version: str | None
    how: How
    confidence: int
    cpe: str | None = None
    """The CPE the SBOM gives (``how == "CPE"``), version filled in: the candidate itself."""
    target_sw: str = ANY
    """WFN target software the ecosystem implies (``node\\.js``), else ANY."""
    alias: bool = False
    """Found through ``rules/vulns/products.yaml``."""


@dataclass(frozen=True, slots=True)
class ComponentProducts:
    """A component and the names it may be known by, with what could not be read."""

    component: Component
    guesses: tuple[ProductGuess, ...]
    problems: tuple[str, ...] = ()
    """Why a CPE or purl of the component was skipped."""


@dataclass(frozen=True, slots=True)
class SbomComponents:
    """An SBOM to match: its id, how matches name it, and its components."""

    sbom_id: int
    subject: str
    """What it describes (``Example Monitor 2.1``), else its key."""
    components: tuple[Component, ...]


@dataclass(frozen=True, slots=True)
class ComponentMatch:
    """A vulnerability that applies (or may) to a component of an SBOM. ``match.device_id``
    is the SBOM's id until ``for_devices`` gives it to the devices that carry the SBOM."""

    sbom_id: int
    component: Component
    match: VulnMatch


@dataclass
class SbomMatching:
    matches: list[ComponentMatch] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    """(SBOM id, why) of every CPE or purl skipped as unreadable."""


# -- the names of a component -------------------------------------------------------------------


def _product(text: str | None) -> str | None:
    found = token(text) if text else ""
    return found if found and len(found) <= MAX_TOKEN else None


def _given_cpe(component: Component) -> tuple[ProductGuess | None, str | None]:
    """The guess of the CPE the component gives, or why it is unreadable."""
    if not component.cpe:
        return None, None
    name = parse_cpe(component.cpe)
    if name is None:
        return None, f"component {component.name[:80]!r}: {component.cpe[:120]!r} is no CPE name"
    if name.version == ANY and component.version:
        name = dataclasses.replace(name, version=quote(component.version))
    formatted = name.formatted()
    pair = cpe_vendor_product(formatted)
    if pair is None or len(pair[1]) > MAX_TOKEN:
        return (
            None,
            f"component {component.name[:80]!r}: CPE {component.cpe[:120]!r} names no product",
        )
    version = None if name.version in (ANY, NA) else unquote(name.version)
    guess = ProductGuess(pair[0], pair[1], version, "CPE", CONFIDENCE_CPE, cpe=formatted)
    return guess, None


def _purl(component: Component) -> tuple[PackageURL | None, str | None]:
    if not component.purl:
        return None, None
    try:
        return PackageURL.from_string(component.purl), None
    except ValueError as exc:
        reason = " ".join(str(exc).split())[:120]
        return None, (
            f"component {component.name[:80]!r}: {component.purl[:120]!r} is no package URL "
            f"({reason})"
        )


def _purl_vendors(purl: PackageURL) -> list[str]:
    """The vendors a purl implies (raw text; tokens are made by the caller)."""
    namespace = purl.namespace or ""
    kind = purl.type.casefold()
    found: list[str] = []
    if kind in _DISTRIBUTIONS or not namespace:
        pass
    elif kind == "maven":
        labels = [label for label in namespace.split(".") if label]
        if labels and labels[0].casefold() in _GROUP_ROOTS:
            labels = labels[1:]
        found.extend(labels[:1])
    elif kind == "golang":
        parts = [p for p in namespace.split("/") if p]
        found.append(parts[1] if len(parts) > 1 and "." in parts[0] else parts[-1] if parts else "")
    elif kind == "npm":
        found.append(namespace.lstrip("@"))
    elif kind in _HOSTED:
        found.append(namespace.split("/")[0])
    else:
        found.append(namespace.split("/")[-1])
    return found


def _aliases(name: str, version: str | None, confidence: int) -> list[tuple[str, str]]:
    """(vendor, product) tokens ``rules/vulns/products.yaml`` lists the name under."""
    seen = DeviceDescription(
        device_id=0,
        vendor=None,
        model=None,
        os=None,
        os_version=None,
        firmware_version=None,
        software=(SoftwareSeen(name, version, confidence),),
        confidence={},
    )
    return [(token(c.vendor), token(c.product)) for c in candidates(seen)]


@lru_cache(maxsize=1 << 14)
def component_products(component: Component) -> ComponentProducts:
    """The names ``component`` may be known by in the feeds (see the module docstring)."""
    problems: list[str] = []
    guesses: list[ProductGuess] = []
    given, problem = _given_cpe(component)
    if given is not None:
        guesses.append(given)
    if problem:
        problems.append(problem)
    purl, problem = _purl(component)
    if problem:
        problems.append(problem)
    version = component.version
    target_sw = ANY
    names = [component.name]
    if purl is not None:
        version = purl.version or component.version
        if (target := _ECOSYSTEMS.get(purl.type.casefold())) is not None:
            target_sw = quote(target)
        product = _product(purl.name)
        if product is not None:
            vendors = [*_purl_vendors(purl), component.supplier or "", purl.name]
            tokens = {token(v) for v in vendors if v} | {f"{product}_project"}
            guesses.extend(
                ProductGuess(vendor, product, version, "purl", CONFIDENCE_PURL, None, target_sw)
                for vendor in sorted(t for t in tokens if t)
            )
            guesses.extend(
                ProductGuess(vendor, aliased, version, "purl", CONFIDENCE_PURL, alias=True)
                for vendor, aliased in _aliases(purl.name, version, CONFIDENCE_PURL)
            )
        names.insert(0, purl.name)
    anyone: set[str] = set()
    for name in names:
        guesses.extend(
            ProductGuess(vendor, aliased, version, "name", CONFIDENCE_ALIAS, alias=True)
            for vendor, aliased in _aliases(name, version, CONFIDENCE_ALIAS)
        )
        product = _product(name)
        if given is not None or product is None or product in anyone:
            continue  # a CPE given says who makes it: no guessing of vendors
        anyone.add(product)
        if component.supplier and (vendor := token(component.supplier)):
            guesses.append(ProductGuess(vendor, product, version, "name", CONFIDENCE_ALIAS))
        guesses.append(
            ProductGuess(None, product, version, "name", CONFIDENCE_NAME, None, target_sw)
        )
    return ComponentProducts(component, tuple(dict.fromkeys(guesses)), tuple(problems))


def lookup_keys(
    products: Iterable[ComponentProducts],
) -> tuple[set[tuple[str, str]], set[str]]:
    """What to look vulnerabilities up by: (vendor, product) tokens of the guesses that name
    a vendor, and the product tokens of those that do not (any vendor)."""
    pairs: set[tuple[str, str]] = set()
    names: set[str] = set()
    for p in products:
        for g in p.guesses:
            if g.vendor is None:
                names.add(g.product)
            else:
                pairs.add((g.vendor, g.product))
    return pairs, names


# -- the feeds' names ---------------------------------------------------------------------------


@dataclass
class _FeedNames:
    """How the vulnerabilities at hand spell the products they name."""

    spellings: dict[tuple[str, str], set[tuple[str, str, str, str]]] = field(default_factory=dict)
    """(vendor, product) tokens -> (part, vendor, product, target_sw) WFN values of their
    CPEs."""
    vendors: dict[str, set[str]] = field(default_factory=dict)
    """Product token -> the vendor tokens it is named under."""

    def add(self, pair: tuple[str, str], cpe: str | None) -> None:
        spelled = self.spellings.setdefault(pair, set())
        self.vendors.setdefault(pair[1], set()).add(pair[0])
        name = parse_cpe(cpe) if cpe else None
        if name is not None and name.vendor not in (ANY, NA) and name.product not in (ANY, NA):
            spelled.add((name.part, name.vendor, name.product, name.target_sw))


def _named(v: Vulnerability) -> Iterator[tuple[tuple[str, str], str | None]]:
    """The (vendor, product) tokens a vulnerability names, with the CPE naming them."""
    for m in v.cpe_matches:
        pair = cpe_vendor_product(m.criteria)
        if pair is not None:
            yield pair, m.criteria
    for a in v.affected:
        vendor, product = token(a.vendor), token(a.product)
        if vendor and product:
            yield (vendor, product), None
        for cpe in a.cpes:
            pair = cpe_vendor_product(cpe)
            if pair is not None:
                yield pair, cpe


def _feed_names(vulnerabilities: Iterable[Vulnerability]) -> _FeedNames:
    names = _FeedNames()
    for v in vulnerabilities:
        for pair, cpe in _named(v):
            names.add(pair, cpe)
    return names


# -- matching -----------------------------------------------------------------------------------


def _shown(c: Component) -> str:
    """How a basis names a component: its purl when it pins the version, else its name and
    version (and purl)."""
    if c.purl and "@" in c.purl:
        return c.purl[:200]
    named = " ".join(p for p in (c.name[:120], (c.version or "")[:60]) if p)
    return f"{named} ({c.purl[:200]})" if c.purl else named


def _targets(given: str, spelled: str) -> str:
    """The target software of a candidate: the one the component implies, else the one the
    feed names the product with (a product the feed knows on one platform only)."""
    return given if given != ANY else spelled


def _candidates(
    products: ComponentProducts, attribute: str, shown: str, feed: _FeedNames
) -> list[Candidate]:
    """The CPE candidates of a component, as the feeds spell them, most confident first."""
    best: dict[str, Candidate] = {}

    def add(name: Cpe | str, vendor: str, product: str, g: ProductGuess) -> None:
        cpe = name if isinstance(name, str) else name.formatted()
        how = f"{g.how} (products.yaml)" if g.alias else g.how
        if g.vendor is None:
            how = f"{how}, vendor {vendor} from the feeds"
        found = Candidate(cpe, vendor, product, g.version, attribute, f"{shown} by its {how}",
                          g.confidence)  # fmt: skip
        old = best.get(cpe)
        if old is None or found.confidence > old.confidence:
            best[cpe] = found

    for g in products.guesses:
        if g.cpe is not None and g.vendor is not None:
            add(g.cpe, g.vendor, g.product, g)
            given = parse_cpe(g.cpe)
            if given is None or given.target_sw != ANY:
                continue
            for _, _, _, target in feed.spellings.get((g.vendor, g.product), ()):
                if target not in (ANY, NA):
                    add(dataclasses.replace(given, target_sw=target), g.vendor, g.product, g)
            continue
        vendors = [g.vendor] if g.vendor is not None else sorted(feed.vendors.get(g.product, ()))
        version = quote(g.version) if g.version else ANY
        for vendor in vendors:
            pair = (vendor, g.product)
            if pair not in feed.spellings:
                continue
            spelled = feed.spellings[pair] or {("a", vendor, g.product, ANY)}
            for part, wfn_vendor, wfn_product, target in sorted(spelled):
                name = Cpe(
                    part,
                    wfn_vendor,
                    wfn_product,
                    version,
                    target_sw=_targets(g.target_sw, target),
                )
                add(name, vendor, g.product, g)
    return sorted(best.values(), key=lambda c: (-c.confidence, c.cpe))


@dataclass
class _Prepared:
    """One SBOM's components with their candidates, indexed by the products they name."""

    sbom: SbomComponents
    entries: list[tuple[Component, list[Candidate], frozenset[tuple[str, str]]]]
    by_pair: dict[tuple[str, str], list[int]]


def _prepare(sbom: SbomComponents, feed: _FeedNames, out: SbomMatching) -> _Prepared:
    prepared = _Prepared(sbom, [], {})
    components = list(dict.fromkeys(sbom.components))
    shown = [_shown(c) for c in components]
    twice = {text for text, n in Counter(shown).items() if n > 1}
    attribute = f"SBOM {sbom.subject} component"
    for position, component in enumerate(components):
        products = component_products(component)
        out.problems.extend((sbom.sbom_id, p) for p in products.problems)
        text = shown[position]
        if text in twice:  # copies of one package: the basis tells them apart
            text += f" (bom-ref {component.ref[:120]})" if component.ref else f" (#{position + 1})"
        found = _candidates(products, attribute, text, feed)
        if not found:
            continue
        pairs = frozenset((c.vendor, c.product) for c in found)
        index = len(prepared.entries)
        prepared.entries.append((component, found, pairs))
        for pair in pairs:
            prepared.by_pair.setdefault(pair, []).append(index)
    return prepared


def _subject(sbom_id: int) -> DeviceDescription:
    return DeviceDescription(sbom_id, None, None, None, None, None, (), {})


def match_sboms(
    sboms: Sequence[SbomComponents],
    vulnerabilities: Iterable[Vulnerability],
    memo: NvdMemo | None = None,
) -> SbomMatching:
    """Every vulnerability that applies (or may) to a component of the SBOMs, one match per
    component and CVE (each SBOM once, however many devices carry it)."""
    vulnerabilities = list(vulnerabilities)
    memo = memo if memo is not None else {}
    out = SbomMatching()
    feed = _feed_names(vulnerabilities)
    prepared = [_prepare(s, feed, out) for s in sboms]
    prepared = [p for p in prepared if p.entries]
    if not prepared:
        return out
    for v in vulnerabilities:
        named = {pair for pair, _ in _named(v)}
        if v.cpe_matches:
            vulnerable = {
                pair
                for m in v.cpe_matches
                if m.vulnerable and not m.negate and (pair := cpe_vendor_product(m.criteria))
            }
            platform = named - vulnerable
        else:
            vulnerable, platform = named, set()
        for p in prepared:
            hit = sorted({i for pair in vulnerable for i in p.by_pair.get(pair, ())})
            if not hit:
                continue
            context = [
                c
                for pair in sorted(platform)
                for i in p.by_pair.get(pair, ())
                for c in p.entries[i][1]
                if (c.vendor, c.product) == pair
            ]
            for i in hit:
                component, own, pairs = p.entries[i]
                found = own + [c for c in context if c not in own]
                match = match_vulnerability(_subject(p.sbom.sbom_id), found, v, memo)
                if match is not None and match.product in pairs:
                    out.matches.append(ComponentMatch(p.sbom.sbom_id, component, match))
    return out


def for_devices(
    matches: Iterable[ComponentMatch], holders: Mapping[int, Sequence[int]]
) -> list[tuple[VulnMatch, ComponentMatch]]:
    """The SBOMs' matches given to the devices that carry them (``holders``: SBOM id ->
    device ids), each with the component match it comes from."""
    return [
        (dataclasses.replace(m.match, device_id=device_id), m)
        for m in matches
        for device_id in holders.get(m.sbom_id, ())
    ]
