"""SBOM component matching and VEX bom-refs under hostile text: any purl, CPE, name, version
or ref - arbitrary text, and real ones with characters inserted, dropped or replaced - gives
names or a stated problem, matches or none, never an exception or a warning."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsec.assess.matching import VulnMatch
from medsec.assess.sbom_matching import (
    SbomComponents,
    component_products,
    for_devices,
    lookup_keys,
    match_sboms,
)
from medsec.assess.vex import SbomComponent, SbomRefs, apply_vex
from medsec.model.vulns import (
    AffectedProduct,
    Component,
    CpeMatch,
    CveId,
    VersionRange,
    VexStatement,
    Vulnerability,
)

EXAMPLES = int(os.environ.get("MEDSEC_PROPERTY_EXAMPLES", "150"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

REAL_PURLS = (
    "pkg:generic/openssl@1.0.2k",
    "pkg:github/wolfssl/wolfssl",
    "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar",
    "pkg:npm/%40angular/core@11.0.0",
    "pkg:golang/github.com/gin-gonic/gin@v1.7.0#subpath",
    "pkg:deb/debian/openssl@1.1.1n-0+deb11u3?arch=amd64&distro=bullseye",
    "pkg:nuget/Newtonsoft.Json@9.0.1",
)
REAL_CPES = (
    "cpe:2.3:a:openssl:openssl:1.0.2k:*:*:*:*:*:*:*",
    "cpe:2.3:h:qualcomm:atheros_qca9563:*:*:*:*:*:*:*:*",
    "cpe:2.3:o:amazon:freertos:10.0.1:*:*:*:-:*:*:*",
    "cpe:2.3:a:the_legion_of_the_bouncy_castle_inc.:bouncycastle:1.8.1:*:*:*:*:*:*:*",
    "cpe:/a:openssl:openssl:1.0.2k",
)
VULNERABILITIES = (
    Vulnerability(
        CveId("CVE-2017-3735"),
        "nvd",
        cpe_matches=(
            CpeMatch(
                "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", True, version_end_excluding="1.0.2l"
            ),
            CpeMatch("cpe:2.3:h:qualcomm:atheros_qca9563:-:*:*:*:*:*:*:*", False, node=1),
        ),
    ),
    Vulnerability(
        CveId("CVE-2099-0001"),
        "cve5",
        affected=(
            AffectedProduct(
                "Newtonsoft", "Json", versions=(VersionRange(version="0", less_than="13.0.1"),)
            ),
        ),
    ),
)


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[str, ...]) -> str:
    """A real string with a few characters inserted, dropped or replaced."""
    text = list(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        where = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(("insert", "drop", "replace")))
        char = draw(st.characters())
        if action == "insert":
            text.insert(where, char)
        elif text and where < len(text):
            if action == "drop":
                del text[where]
            else:
                text[where] = char
    return "".join(text)


purls = st.one_of(st.none(), st.text(max_size=80), mutated(REAL_PURLS))
cpes = st.one_of(st.none(), st.text(max_size=80), mutated(REAL_CPES))
names = st.one_of(st.sampled_from(("openssl", "Newtonsoft.Json", "json")), st.text(max_size=40))
versions = st.one_of(st.none(), st.text(max_size=20), st.sampled_from(("1.0.2k", "13.0")))
components = st.builds(
    Component,
    name=names,
    version=versions,
    supplier=st.one_of(st.none(), st.text(max_size=30)),
    purl=purls,
    cpe=cpes,
    kind=st.none(),
    ref=st.one_of(st.none(), st.text(max_size=20)),
)


@PROPERTY
@given(component=components)
def test_any_component_gives_names_or_problems(component: Component) -> None:
    products = component_products(component)
    assert products.component == component
    for g in products.guesses:
        assert g.product and (g.vendor is None or g.vendor)
        assert 0 < g.confidence <= 100
    assert all(isinstance(p, str) for p in products.problems)
    pairs, product_names = lookup_keys([products])
    assert all(v and p for v, p in pairs) and all(product_names)


@PROPERTY
@given(found=st.lists(components, max_size=6), refs=st.lists(st.text(max_size=60), max_size=3))
def test_matching_any_components_never_raises(found: list[Component], refs: list[str]) -> None:
    result = match_sboms([SbomComponents(1, "hostile", tuple(found))], VULNERABILITIES)
    for m in result.matches:
        assert m.sbom_id == 1 and m.component in found
        assert m.match.basis.startswith("SBOM hostile component ")
    given_to = for_devices(result.matches, {1: [7]})
    origins = {m: SbomComponent("hostile", "urn:uuid:x", o.component) for m, o in given_to}
    boms = {7: [SbomRefs("hostile", "urn:uuid:x", {c.ref: c for c in found if c.ref})]}
    statements = [
        VexStatement(CveId(cve), "not_affected", refs=(*refs, *(c.ref or "" for c in found)))
        for cve in ("CVE-2017-3735", "CVE-2099-0001")
    ]
    matches = [m for m, _ in given_to]
    kept, cleared = apply_vex(matches, statements, origins=origins, boms=boms)
    assert len(kept) + len(cleared) == len(matches)


@PROPERTY
@given(ref=st.one_of(st.text(max_size=80), mutated(("urn:cdx:x/1#a", *REAL_PURLS, *REAL_CPES))))
def test_any_vex_ref_never_raises(ref: str) -> None:
    seen = VulnMatch(7, CveId("CVE-2017-3735"), "nvd", True, 80, "seen", ("openssl", "openssl"),
                     "1.0.2k")  # fmt: skip
    component = Component("openssl", "1.0.2k", purl="pkg:generic/openssl@1.0.2k", ref="a")
    boms = {7: [SbomRefs("Monitor", "urn:uuid:x", {"a": component})]}
    statement = VexStatement(CveId("CVE-2017-3735"), "fixed", refs=(ref,))
    kept, cleared = apply_vex([seen], [statement], boms=boms)
    assert len(kept) + len(cleared) == 1
