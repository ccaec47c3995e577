"""Vulnerability intelligence in the store (SQLite and PostgreSQL): upserts on natural keys,
lookup tables rewritten with their records, whole records kept."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from medsec.inventory import Store
from medsec.inventory.vuln_models import (
    AdvisoryCveRow,
    SbomComponentRow,
    VulnerabilityProductRow,
    VulnerabilityRow,
)
from medsec.inventory.vuln_rows import best_metric, cpe_vendor_product, token
from medsec.model.vulns import (
    Advisory,
    AdvisoryVulnerability,
    AffectedProduct,
    Component,
    CpeMatch,
    CveId,
    CvssMetric,
    EpssScore,
    KevEntry,
    Sbom,
    VexStatement,
    Vulnerability,
)

CVE = CveId("CVE-2022-43272")


def vulnerability(description: str, product: str = "dcmtk") -> Vulnerability:
    return Vulnerability(
        cve_id=CVE,
        source="nvd",
        description=description,
        published=datetime(2022, 11, 3, tzinfo=UTC),
        metrics=(
            CvssMetric("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "HIGH"),
            CvssMetric("2.0", "AV:N/AC:L/Au:N/C:N/I:N/A:P", 5.0, "MEDIUM"),
        ),
        cpe_matches=(
            CpeMatch(
                f"cpe:2.3:a:offis:{product}:*:*:*:*:*:*:*:*", True, version_end_excluding="3.6.8"
            ),
            CpeMatch("cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*", False),
        ),
    )


def rows(store: Store, table: type) -> list:  # type: ignore[type-arg]
    with store._read() as conn:  # noqa: SLF001 - a look at the stored rows
        return list(conn.execute(select(table.__table__)))  # type: ignore[attr-defined]


def test_a_reimport_updates_and_never_duplicates(store: Store) -> None:
    assert store.import_feed_records([vulnerability("first")]) == 1
    assert store.import_feed_records([vulnerability("second", "dcmtk_tools")]) == 1
    (row,) = rows(store, VulnerabilityRow)
    assert row.record["description"] == "second"
    assert (row.cvss_version, row.cvss_score, row.severity) == ("3.1", 7.5, "HIGH")
    products = {(r.vendor, r.product) for r in rows(store, VulnerabilityProductRow)}
    assert products == {("offis", "dcmtk_tools"), ("linux", "linux_kernel")}
    assert store.feed_totals()["vulnerabilities"] == 1


def test_every_kind_is_kept_and_counted(store: Store) -> None:
    advisory = Advisory(
        tracking_id="ICSMA-24-254-01",
        title="Example Pump",
        publisher="CISA",
        initial_release=datetime(2024, 9, 10, tzinfo=UTC),
        current_release=None,
        products=(AffectedProduct("B. Braun", "Infusomat Space", product_id="CSAFPID-1"),),
        vulnerabilities=(AdvisoryVulnerability(CVE, products=(("CSAFPID-1", "affected"),)),),
    )
    kev = KevEntry(
        CVE,
        "OFFIS",
        "DCMTK",
        "DCMTK DoS",
        date(2024, 1, 2),
        date(2024, 1, 23),
        "Apply updates.",
        None,
    )
    epss = EpssScore(CVE, 0.00123, 0.47, date(2026, 11, 20))
    openssl = Component("openssl", "1.1.1k", purl="pkg:generic/openssl@1.1.1k")
    sbom = Sbom(
        "cyclonedx", "1.4", "urn:uuid:1", Component("Monitor", "2.1"),
        (openssl, Component("zlib", "1.2.11")),
    )  # fmt: skip
    vex = VexStatement(
        CVE, "not_affected", "code_not_reachable", refs=("pkg:generic/openssl@1.1.1k",)
    )
    written = store.import_feed_records([advisory, kev, epss, sbom, vex, vulnerability("x")])
    assert written == 6
    assert store.import_feed_records([advisory, kev, epss, sbom, vex]) == 5
    assert store.feed_totals() == {
        "vulnerabilities": 1,
        "advisories": 1,
        "kev_entries": 1,
        "epss_scores": 1,
        "sboms": 1,
        "sbom_components": 2,
        "vex_statements": 1,
    }
    assert [r.cve_id for r in rows(store, AdvisoryCveRow)] == [CVE]
    assert {r.name for r in rows(store, SbomComponentRow)} == {"openssl", "zlib"}


def test_an_sbom_without_serial_is_keyed_by_its_file(store: Store) -> None:
    sbom = Sbom("spdx", "2.3", None, None, (Component("busybox", "1.36.1"),))
    store.import_feed_records([sbom], source="/feeds/a.spdx")
    store.import_feed_records([sbom], source="/feeds/b.spdx")
    store.import_feed_records([sbom], source="/feeds/a.spdx")
    assert store.feed_totals()["sboms"] == 2


def test_cpe_names_and_tokens() -> None:
    assert cpe_vendor_product("cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*") == ("offis", "dcmtk")
    assert cpe_vendor_product(r"cpe:2.3:a:ge\:hc:a\.b:*:*:*:*:*:*:*:*") == ("ge_hc", "a_b")
    assert cpe_vendor_product("cpe:/a:philips:intellivue_mx40:b.06") == (
        "philips",
        "intellivue_mx40",
    )
    assert cpe_vendor_product("cpe:2.3:a:*:dcmtk:*") is None
    assert cpe_vendor_product("not a cpe") is None
    assert token("GE HealthCare") == "ge_healthcare"


def test_the_shown_score_is_nvds_newest_primary() -> None:
    nvd = CvssMetric("3.1", "CVSS:3.1/x", 7.5, source="nvd@nist.gov", primary=True)
    cna = CvssMetric("4.0", "CVSS:4.0/x", 8.7, source="cna", primary=False)
    old = CvssMetric("2.0", "AV:N", 5.0, primary=True)
    assert best_metric([cna, old, nvd]) is nvd
    assert best_metric([cna]) is cna
    assert best_metric([]) is None


def test_anything_to_match_is_a_vulnerability_or_an_advisory(store: Store) -> None:
    assert not store.has_vulnerability_feeds()
    store.import_feed_records(
        [
            KevEntry(CVE, "OFFIS", "DCMTK", "DoS", date(2023, 1, 1), None, "update", None),
            EpssScore(CVE, 0.01, 0.5, None),
            Sbom("cyclonedx", "1.4", "urn:uuid:s", None, (Component("x", "1"),)),
        ]
    )
    assert not store.has_vulnerability_feeds()  # nothing a device is matched against
    advisory = Advisory("EX-1", "t", "p", None, None, (AffectedProduct("V", "P"),), ())
    store.import_feed_records([advisory])
    assert store.has_vulnerability_feeds()
