"""SBOM components x vulnerabilities on hand-made components: the CPE an SBOM gives, names
derived from purls, names alone; version boundaries; the platform a configuration asks for;
VEX statements by bom-ref; matching once per SBOM, then per device."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from medsec.assess.sbom_matching import (
    CONFIDENCE_CPE,
    CONFIDENCE_NAME,
    CONFIDENCE_PURL,
    ComponentMatch,
    SbomComponents,
    component_products,
    for_devices,
    lookup_keys,
    match_sboms,
)
from medsec.assess.vex import SbomComponent, SbomRefs, apply_vex
from medsec.assess.vulns.cyclonedx import CycloneDxReader
from medsec.model.vulns import (
    AffectedProduct,
    Component,
    CpeMatch,
    CveId,
    Sbom,
    VersionRange,
    VexStatement,
    Vulnerability,
)

SERIAL = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"


def nvd(cve: str, *matches: CpeMatch) -> Vulnerability:
    return Vulnerability(CveId(cve), "nvd", cpe_matches=matches)


OPENSSL = nvd(
    "CVE-2017-3735",
    CpeMatch("cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", True, version_end_excluding="1.0.2l"),
)


def sbom(*components: Component, sbom_id: int = 1) -> SbomComponents:
    return SbomComponents(sbom_id, "Example Monitor 2.1", components)


def matched(
    components: Sequence[Component], *vulnerabilities: Vulnerability
) -> list[ComponentMatch]:
    return match_sboms([sbom(*components)], vulnerabilities).matches


def test_the_cpe_the_sbom_gives_matches_exactly() -> None:
    c = Component("OpenSSL", "1.0.2k", cpe="cpe:2.3:a:openssl:openssl:1.0.2k:*:*:*:*:*:*:*")
    (m,) = matched([c], OPENSSL)
    assert m.component == c and m.sbom_id == 1
    assert m.match.certain and m.match.confidence == CONFIDENCE_CPE
    assert m.match.product == ("openssl", "openssl") and m.match.version == "1.0.2k"
    assert m.match.basis == (
        "SBOM Example Monitor 2.1 component OpenSSL 1.0.2k by its CPE (confidence 90) as "
        "cpe:2.3:a:openssl:openssl:1.0.2k:*:*:*:*:*:*:* matches "
        "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:* in range < 1.0.2l of CVE-2017-3735"
    )


def test_a_cpe_without_version_takes_the_components() -> None:
    c = Component("OpenSSL", "1.0.2k", cpe="cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*")
    (m,) = matched([c], OPENSSL)
    assert m.match.certain and "cpe:2.3:a:openssl:openssl:1.0.2k:" in m.match.basis


def test_a_purl_gives_vendor_and_product() -> None:
    c = Component("openssl", None, purl="pkg:generic/openssl@1.0.2k")
    (m,) = matched([c], OPENSSL)
    assert m.match.certain and m.match.confidence == CONFIDENCE_PURL
    assert m.match.basis.startswith(
        "SBOM Example Monitor 2.1 component pkg:generic/openssl@1.0.2k by its purl"
    )
    assert "in range < 1.0.2l of CVE-2017-3735" in m.match.basis


def test_purl_vendors_by_ecosystem() -> None:
    def vendors(purl: str) -> set[str | None]:
        return {g.vendor for g in component_products(Component("x", purl=purl)).guesses}

    assert "apache" in vendors("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    assert "wolfssl" in vendors("pkg:github/wolfssl/wolfssl@v4.8.1")
    assert "gin_gonic" in vendors("pkg:golang/github.com/gin-gonic/gin@v1.7.0")
    assert "angular" in vendors("pkg:npm/%40angular/core@11.0.0")
    assert "debian" not in vendors("pkg:deb/debian/openssl@1.1.1n-0+deb11u3")
    assert "openssl" in vendors("pkg:deb/debian/openssl@1.1.1n-0+deb11u3")


def test_the_feeds_spelling_is_used_for_the_candidate() -> None:
    """NVD writes ``gin-gonic``; the lookup token is ``gin_gonic``: the candidate must be
    written as the feed writes it to match its criteria."""
    gin = nvd(
        "CVE-2020-28483",
        CpeMatch("cpe:2.3:a:gin-gonic:gin:*:*:*:*:*:go:*:*", True, version_end_excluding="1.7.0"),
    )
    (m,) = matched([Component("gin", purl="pkg:golang/github.com/gin-gonic/gin@v1.6.3")], gin)
    assert m.match.product == ("gin_gonic", "gin")
    assert "cpe:2.3:a:gin-gonic:gin:v1.6.3" in m.match.basis


def test_a_name_alone_matches_any_vendor_with_the_lowest_confidence() -> None:
    c = Component("openssl", "1.0.2k")
    products = component_products(c)
    assert any(g.vendor is None and g.product == "openssl" for g in products.guesses)
    assert lookup_keys([products])[1] == {"openssl"}
    (m,) = matched([c], OPENSSL)
    assert m.match.certain and m.match.confidence == CONFIDENCE_NAME
    assert "by its name, vendor openssl from the feeds" in m.match.basis
    elsewhere = nvd(
        "CVE-2099-0001",
        CpeMatch("cpe:2.3:a:acme:widget:*:*:*:*:*:*:*:*", True, version_end_excluding="9"),
    )
    (m,) = matched([Component("widget", "1.0")], elsewhere)
    assert m.match.confidence == CONFIDENCE_NAME
    assert "vendor acme from the feeds" in m.match.basis


def test_a_cpe_given_means_no_guessing_of_vendors() -> None:
    c = Component("widget", "1.0", cpe="cpe:2.3:a:example:widget:1.0:*:*:*:*:*:*:*")
    assert all(g.vendor is not None for g in component_products(c).guesses)
    elsewhere = nvd(
        "CVE-2099-0001",
        CpeMatch("cpe:2.3:a:acme:widget:*:*:*:*:*:*:*:*", True, version_end_excluding="9"),
    )
    assert matched([c], elsewhere) == []


def test_version_boundaries() -> None:
    def hit(version: str) -> bool:
        return bool(matched([Component("openssl", purl=f"pkg:generic/openssl@{version}")], OPENSSL))

    assert hit("1.0.2k") and hit("1.0.1")
    assert not hit("1.0.2l") and not hit("1.1.0")
    including = nvd(
        "CVE-2099-0002",
        CpeMatch(
            "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
            True,
            version_start_including="1.0.2",
            version_end_including="1.0.2k",
        ),
    )
    c = Component("OpenSSL", "1.0.2k", cpe="cpe:2.3:a:openssl:openssl:1.0.2k:*:*:*:*:*:*:*")
    assert len(matched([c], including)) == 1
    older = Component("OpenSSL", "1.0.1", cpe="cpe:2.3:a:openssl:openssl:1.0.1:*:*:*:*:*:*:*")
    assert matched([older], including) == []


def test_an_unseen_version_is_possible_with_half_the_confidence() -> None:
    (m,) = matched([Component("openssl", purl="pkg:generic/openssl")], OPENSSL)
    assert not m.match.certain and m.match.confidence == CONFIDENCE_PURL // 2


def test_ecosystems_keep_packages_of_the_same_name_apart() -> None:
    pypi = nvd(
        "CVE-2099-0003",
        CpeMatch(
            "cpe:2.3:a:request_project:request:*:*:*:*:*:python:*:*",
            True,
            version_end_excluding="3",
        ),
    )
    assert matched([Component("request", purl="pkg:npm/request@2.88.0")], pypi) == []
    (m,) = matched([Component("request", purl="pkg:pypi/request@2.0")], pypi)
    assert m.match.certain


def test_cve5_affected_products() -> None:
    cve5 = Vulnerability(
        CveId("CVE-2099-0004"),
        "cve5",
        affected=(
            AffectedProduct(
                "wolfSSL", "wolfSSL", versions=(VersionRange(version="0", less_than="5.2.0"),)
            ),
        ),
    )
    (m,) = matched([Component("wolfssl", purl="pkg:github/wolfssl/wolfssl@4.8.1")], cve5)
    assert m.match.certain and "within the affected versions 0 to < 5.2.0" in m.match.basis
    assert matched([Component("wolfssl", purl="pkg:github/wolfssl/wolfssl@5.2.0")], cve5) == []


def test_a_platform_is_another_component_of_the_sbom() -> None:
    """A configuration "firmware X running on hardware Y" applies when the SBOM lists both."""
    firmware = nvd(
        "CVE-2099-0005",
        CpeMatch("cpe:2.3:o:acme:pump_firmware:*:*:*:*:*:*:*:*", True, configuration=0, node=0,
                 configuration_operator="AND", version_end_excluding="2.0"),
        CpeMatch("cpe:2.3:h:acme:pump:-:*:*:*:*:*:*:*", False, configuration=0, node=1,
                 configuration_operator="AND"),
    )  # fmt: skip
    fw = Component("pump firmware", "1.5", cpe="cpe:2.3:o:acme:pump_firmware:1.5:*:*:*:*:*:*:*")
    hw = Component("pump", cpe="cpe:2.3:h:acme:pump:-:*:*:*:*:*:*:*")
    assert matched([fw], firmware) == []
    (m,) = matched([fw, hw], firmware)
    assert m.component == fw and m.match.certain


def test_two_components_of_one_product_match_each() -> None:
    a = Component("openssl", "1.0.2k", purl="pkg:generic/openssl@1.0.2k", ref="a")
    b = Component("openssl", "1.0.2j", purl="pkg:generic/openssl@1.0.2j", ref="b")
    found = matched([a, b], OPENSSL)
    assert {m.component.ref for m in found} == {"a", "b"}


def test_unreadable_cpe_and_purl_are_skipped_and_said() -> None:
    c = Component("thing", "1", purl="pkg:", cpe="cpe:2.3:a:bad\\")
    products = component_products(c)
    assert len(products.problems) == 2
    result = match_sboms([sbom(c)], [OPENSSL])
    assert result.matches == [] and len(result.problems) == 2


def test_rejected_cves_never_match() -> None:
    rejected = Vulnerability(
        CveId("CVE-2017-3735"), "nvd", status="Rejected", cpe_matches=OPENSSL.cpe_matches
    )
    assert matched([Component("openssl", purl="pkg:generic/openssl@1.0.2k")], rejected) == []


def test_one_sbom_is_matched_once_and_given_to_its_devices() -> None:
    c = Component("openssl", purl="pkg:generic/openssl@1.0.2k")
    result = match_sboms([sbom(c, sbom_id=4), sbom(c, sbom_id=5)], [OPENSSL])
    assert sorted(m.sbom_id for m in result.matches) == [4, 5]
    given = for_devices(result.matches, {4: [10, 11], 5: []})
    assert sorted(m.device_id for m, _ in given) == [10, 11]
    assert all(origin.sbom_id == 4 for _, origin in given)


# -- VEX by bom-ref ---------------------------------------------------------------------------


def vex(*refs: str, status: str = "not_affected") -> VexStatement:
    return VexStatement(
        CveId("CVE-2017-3735"), status, "code_not_reachable", refs=refs, source="vex.json"
    )  # type: ignore[arg-type]


def two_copies() -> tuple[list, dict, dict]:  # type: ignore[type-arg]
    a = Component("openssl", "1.0.2k", purl="pkg:generic/openssl@1.0.2k", ref="libssl-a")
    b = Component("openssl", "1.0.2k", purl="pkg:generic/openssl@1.0.2k", ref="libssl-b")
    result = match_sboms([sbom(a, b)], [OPENSSL])
    given = for_devices(result.matches, {1: [7]})
    origins = {m: SbomComponent("Example Monitor 2.1", SERIAL, o.component) for m, o in given}
    refs = SbomRefs("Example Monitor 2.1", SERIAL, {"libssl-a": a, "libssl-b": b})
    return [m for m, _ in given], origins, {7: [refs]}


def test_a_vex_by_bom_ref_clears_that_component_only() -> None:
    matches, origins, boms = two_copies()
    assert len(matches) == 2
    kept, cleared = apply_vex(matches, [vex("libssl-a")], origins=origins, boms=boms)
    assert len(kept) == 1 and origins[kept[0]].component.ref == "libssl-b"
    (c,) = cleared
    assert origins[c.match].component.ref == "libssl-a"
    assert "libssl-a (component openssl 1.0.2k of SBOM Example Monitor 2.1)" in c.reason
    assert "not affected" in c.reason and "code_not_reachable" in c.reason


def test_a_bom_link_resolves_only_in_its_sbom() -> None:
    matches, origins, boms = two_copies()
    link = f"urn:cdx:{SERIAL.removeprefix('urn:uuid:')}/1#libssl-b"
    kept, _ = apply_vex(matches, [vex(link)], origins=origins, boms=boms)
    assert [origins[m].component.ref for m in kept] == ["libssl-a"]
    other = "urn:cdx:00000000-0000-0000-0000-000000000000/1#libssl-b"
    assert len(apply_vex(matches, [vex(other)], origins=origins, boms=boms)[0]) == 2


def test_bom_refs_that_do_not_clear() -> None:
    matches, origins, boms = two_copies()
    for statements in (
        [vex("libssl-c")],  # no such component
        [vex("libssl-a", status="affected")],
        [vex("libssl-a", status="under_investigation")],
    ):
        kept, cleared = apply_vex(matches, statements, origins=origins, boms=boms)
        assert len(kept) == 2 and cleared == [], statements
    kept, _ = apply_vex(matches, [vex("libssl-a")])  # no SBOMs given: nothing to resolve
    assert len(kept) == 2


def test_a_purl_statement_clears_every_copy_of_that_version() -> None:
    matches, origins, boms = two_copies()
    kept, cleared = apply_vex(
        matches, [vex("pkg:generic/openssl@1.0.2k")], origins=origins, boms=boms
    )
    assert kept == [] and len(cleared) == 2


def test_a_bom_ref_clears_what_the_device_was_seen_running() -> None:
    """A match by traffic (no SBOM origin) is cleared through the component the bom-ref
    names, when its purl names the product and version."""
    from medsec.assess.matching import VulnMatch

    seen = VulnMatch(7, CveId("CVE-2017-3735"), "nvd", True, 80, "seen", ("openssl", "openssl"),
                     "1.0.2k")  # fmt: skip
    _, _, boms = two_copies()
    kept, cleared = apply_vex([seen], [vex("libssl-a")], boms=boms)
    assert kept == [] and len(cleared) == 1
    newer = VulnMatch(7, CveId("CVE-2017-3735"), "nvd", True, 80, "seen", ("openssl", "openssl"),
                      "1.0.2j")  # fmt: skip
    assert apply_vex([newer], [vex("libssl-a")], boms=boms)[0] == [newer]


def test_a_cpe_without_platform_meets_a_criteria_with_one() -> None:
    """SBOM tools write CPEs without target software; NVD names npm packages ``node.js``."""
    lodash = nvd(
        "CVE-2021-23337",
        CpeMatch(
            "cpe:2.3:a:lodash:lodash:*:*:*:*:*:node.js:*:*", True, version_end_excluding="4.17.21"
        ),
    )
    c = Component("lodash", "4.17.20", cpe="cpe:2.3:a:lodash:lodash:4.17.20:*:*:*:*:*:*:*")
    (m,) = matched([c], lodash)
    assert m.match.certain and m.match.confidence == CONFIDENCE_CPE


# -- the real medical-device SBOMs ----------------------------------------------------------------


def test_the_case_study_sbom_meets_wolfssl_and_jquery_cves(shared_data: Path) -> None:
    """The de-identified medical-device SBOM (CycloneDX 1.4): WolfSSL 4.8.1 by the CPE it
    gives; jQuery 3.1.1, whose CPE names a vendor NVD does not use, by its purl."""
    path = shared_data / "sbom/medical_device_case_study/narrow.sbom.json"
    (record,) = CycloneDxReader().read(path, lambda s: pytest.fail(str(s)))
    assert isinstance(record, Sbom)
    wolfssl = nvd(
        "CVE-2022-25638",
        CpeMatch("cpe:2.3:a:wolfssl:wolfssl:*:*:*:*:*:*:*:*", True, version_end_excluding="5.2.0"),
    )
    jquery = nvd(
        "CVE-2020-11022",
        CpeMatch(
            "cpe:2.3:a:jquery:jquery:*:*:*:*:*:*:*:*",
            True,
            version_start_including="1.2",
            version_end_excluding="3.5.0",
        ),
    )
    fixed = nvd(
        "CVE-2099-0006",
        CpeMatch("cpe:2.3:a:wolfssl:wolfssl:*:*:*:*:*:*:*:*", True, version_end_excluding="4.8.1"),
    )
    result = match_sboms(
        [SbomComponents(1, "REDACTED", record.components)], [wolfssl, jquery, fixed]
    )
    assert result.problems == []
    by_cve = {m.match.cve_id: m for m in result.matches}
    assert set(by_cve) == {"CVE-2022-25638", "CVE-2020-11022"}
    assert by_cve["CVE-2022-25638"].match.confidence == CONFIDENCE_CPE
    assert by_cve["CVE-2022-25638"].component.ref == "BomRef.6730320963532548.7863229239413411"
    assert by_cve["CVE-2020-11022"].match.confidence == CONFIDENCE_PURL
    assert "pkg:nuget/jQuery@3.1.1 by its purl" in by_cve["CVE-2020-11022"].match.basis
