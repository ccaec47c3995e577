"""CSAF 2.0 reader: the CISA advisories of shared/data, documents built after the spec
(relationships, groups, every status group, VEX), malformed parts and non-CSAF files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from medsec.assess.vulns import csaf
from medsec.assess.vulns.csaf import CsafReader, version_ranges
from medsec.assess.vulns.interface import HEAD_BYTES, FeedFormatError, SkippedRecord
from medsec.assess.vulns.vendors import shipped_vendor_names
from medsec.model.vulns import Advisory, FeedRecord, VersionRange, VexStatement

READER = CsafReader()


def read(path: Path) -> tuple[list[FeedRecord], list[SkippedRecord]]:
    skipped: list[SkippedRecord] = []
    return list(READER.read(path, skipped.append)), skipped


def write(tmp_path: Path, document: Any, name: str = "doc.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def advisory_of(records: list[FeedRecord]) -> Advisory:
    advisories = [r for r in records if isinstance(r, Advisory)]
    assert len(advisories) == 1
    return advisories[0]


def csaf_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "advisories").glob("csaf_cisa_*/*.json"))


# -- the real advisories ----------------------------------------------------------------------


def test_every_cisa_advisory_imports_whole(shared_data: Path) -> None:
    files = csaf_files(shared_data)
    assert len(files) == 158
    ids: Counter[str] = Counter()
    products = vulnerabilities = scores = partial = 0
    cves: set[str] = set()
    names = shipped_vendor_names()
    for path in files:
        assert READER.detect(path.read_bytes()[:HEAD_BYTES]), path.name
        records, skipped = read(path)
        assert skipped == [], (path.name, skipped[:3])
        advisory = advisory_of(records)
        assert records == [advisory]  # none of them is a VEX document
        ids[advisory.tracking_id] += 1
        assert advisory.publisher == "CISA"
        assert advisory.url and advisory.url.startswith("https://")
        assert advisory.initial_release is not None and advisory.current_release is not None
        products += len(advisory.products)
        vulnerabilities += len(advisory.vulnerabilities)
        known = {p.product_id for p in advisory.products}
        for product in advisory.products:
            assert product.status == "unknown"
            assert product.vendor and product.product, (path.name, product)
            assert names.known(product.vendor) == product.vendor or product.vendor == "ELI"
        for vulnerability in advisory.vulnerabilities:
            assert vulnerability.products, (path.name, vulnerability.cve_id)
            assert {pid for pid, _ in vulnerability.products} <= known
            assert vulnerability.metrics
            for metric in vulnerability.metrics:  # every score names its products
                assert metric.products or metric.version == "4.0", (path.name, metric)
                assert set(metric.products) <= known
                scores += 1
                partial += bool(metric.products) and set(metric.products) != {
                    pid for pid, _ in vulnerability.products
                }
            if vulnerability.cve_id:
                cves.add(vulnerability.cve_id)
    assert sum(1 for i in ids if i.startswith("ICSMA-")) == 144
    assert all(n == 1 for n in ids.values())
    assert products >= 650
    assert vulnerabilities >= 500
    assert len(cves) >= 428
    assert scores >= 540
    assert partial >= 30  # scores for other products than those with a status


def test_non_csaf_files_are_not_detected(shared_data: Path) -> None:
    advisories = shared_data / "advisories"
    others = [
        p
        for p in advisories.rglob("*")
        if p.is_file() and not (p.suffix == ".json" and p.parent.name.startswith("csaf_cisa"))
    ]
    assert {p.suffix for p in others} >= {".asc", ".sha512", ".txt", ".csv", ".json"}
    for path in others:
        assert not READER.detect(path.read_bytes()[:HEAD_BYTES]), path.name
    for path in (shared_data / "sbom").rglob("*.json"):
        assert not READER.detect(path.read_bytes()[:HEAD_BYTES]), path.name


def test_bpl_advisory(shared_data: Path) -> None:
    path = shared_data / "advisories/csaf_cisa_icsma/icsma-24-254-01.json"
    advisory = advisory_of(read(path)[0])
    assert advisory.tracking_id == "ICSMA-24-254-01"
    assert advisory.url == "https://www.cisa.gov/news-events/ics-medical-advisories/icsma-24-254-01"
    assert advisory.version == "1"
    app, scale = advisory.products
    assert (app.vendor, app.product, app.product_id) == (
        "BPL Medical Technologies",
        "Be Well Android Application",
        "CSAFPID-0001",
    )
    assert app.versions == (VersionRange(less_than_or_equal="3.64", raw="<=3.64"),)
    assert scale.versions == (
        VersionRange(raw="vers:all/*", all_versions=True, version_type="all"),
    )
    (vulnerability,) = advisory.vulnerabilities
    assert vulnerability.cve_id == "CVE-2024-34463"
    assert vulnerability.cwes == ("CWE-319",)
    assert vulnerability.products == (("CSAFPID-0001", "affected"), ("CSAFPID-0002", "affected"))
    v3, v4 = vulnerability.metrics
    assert (v3.version, v3.base_score, v3.severity, v3.source) == ("3.1", 4.6, "MEDIUM", "CISA")
    assert v3.products == ("CSAFPID-0001", "CSAFPID-0002")
    # The 4.0 vector is in CISA's FIRST calculator link; its score is computed from it.
    assert v4.vector.startswith("CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:P")
    assert (v4.version, v4.base_score, v4.severity, v4.products) == ("4.0", 5.1, "MEDIUM", ())
    (remediation,) = vulnerability.remediations
    assert remediation.category == "mitigation"
    assert remediation.product_ids == ("CSAFPID-0001", "CSAFPID-0002")
    assert remediation.url == "https://www.bplmedicaltechnologies.com/customer-care/"
    assert vulnerability.notes[0].startswith("BPL Personal Weighing Scale")


def test_compound_vendor_goes_to_the_product_it_names(shared_data: Path) -> None:
    path = shared_data / "advisories/csaf_cisa_icsma/icsma-18-128-01.json"
    vendors = {p.product: p.vendor for p in advisory_of(read(path)[0]).products}
    assert vendors == {
        "SX-500": "Silex Technology",
        "GEH-500": "GE HealthCare",
        "GEH-SD-320AN": "GE HealthCare",
        "SD-320AN": "Silex Technology",
    }


def test_free_text_versions_and_misspelt_vendors(shared_data: Path) -> None:
    icsma = shared_data / "advisories/csaf_cisa_icsma"
    gateway = advisory_of(read(icsma / "icsma-19-164-01.json")[0])
    below = [p for p in gateway.products if p.product_id == "CSAFPID-0001"][0]
    assert below.vendor == "BD"
    assert below.versions == (
        VersionRange(less_than_or_equal="2.3.6", raw="2.3.6 and  below"),  # as written
    )
    build = [p for p in gateway.products if p.product_id == "CSAFPID-0006"][0]
    assert build.versions == (VersionRange(version="1.3.1 Build 13", raw="1.3.1 Build 13"),)
    phillips = advisory_of(read(icsma / "icsma-18-025-01.json")[0])
    assert {p.vendor for p in phillips.products} == {"Philips"}
    innokas = advisory_of(read(icsma / "icsma-21-007-01.json")[0])
    assert {p.vendor for p in innokas.products} == {"Innokas"}
    assert innokas.products[0].versions == (VersionRange(less_than="1.7.15", raw="< 1.7.15"),)


def test_not_affected_products_of_the_advisories(shared_data: Path) -> None:
    statuses: Counter[str] = Counter()
    for path in csaf_files(shared_data):
        for vulnerability in advisory_of(read(path)[0]).vulnerabilities:
            statuses.update(status for _, status in vulnerability.products)
    assert statuses["not_affected"] >= 22
    assert set(statuses) == {"affected", "not_affected"}


# -- documents built after the spec ------------------------------------------------------------


def document(**parts: Any) -> dict[str, Any]:
    top: dict[str, Any] = {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "title": "Example advisory",
            "publisher": {"category": "vendor", "name": "Example PSIRT", "namespace": "https://x"},
            "references": [
                {"category": "self", "summary": "json", "url": "https://x/adv-1.json"},
                {"category": "external", "summary": "other", "url": "https://x/other"},
            ],
            "tracking": {
                "id": "EX-2026-001",
                "version": "2",
                "initial_release_date": "2026-01-02T03:04:05Z",
                "current_release_date": "2026-02-01T00:00:00+01:00",
                "status": "final",
                "revision_history": [],
            },
        }
    }
    top.update(parts)
    return top


def leaf(category: str, name: str, product_id: str, **helper: Any) -> dict[str, Any]:
    product: dict[str, Any] = {"name": f"full {name}", "product_id": product_id}
    if helper:
        product["product_identification_helper"] = helper
    return {"category": category, "name": name, "product": product}


def branch(category: str, name: str, *children: dict[str, Any]) -> dict[str, Any]:
    return {"category": category, "name": name, "branches": list(children)}


TREE = {
    "branches": [
        branch(
            "vendor",
            "Example Med, Inc.",
            branch(
                "product_family",
                "Pumps",
                branch(
                    "product_name",
                    "InfuseOne",
                    leaf("product_version", "4.2", "P-42", cpe="cpe:2.3:h:example:infuseone:4.2"),
                    leaf("product_version_range", "vers:generic/>=4.0|<4.2", "P-40"),
                ),
            ),
            branch("architecture", "x86_64", leaf("product_name", "Gateway", "GW")),
        ),
        branch(
            "vendor",
            "Open Source Org",
            branch(
                "product_name",
                "libdicom",
                leaf(
                    "product_version",
                    "1.0.1",
                    "LIB-101",
                    purl="pkg:generic/libdicom@1.0.1",
                    model_numbers=["M-1"],
                ),
            ),
        ),
    ],
    "full_product_names": [
        {"name": "Philips IntelliVue MX40", "product_id": "MX40"},
        {"name": "Mystery Box", "product_id": "BOX"},
    ],
    "relationships": [
        {
            "category": "default_component_of",
            "product_reference": "LIB-101",
            "relates_to_product_reference": "P-42",
            "full_product_name": {
                "name": "libdicom 1.0.1 in InfuseOne 4.2",
                "product_id": "P-42:LIB",
            },
        },
        {
            "category": "installed_on",
            "product_reference": "LIB-101",
            "relates_to_product_reference": "GW",
            "full_product_name": {
                "name": "libdicom 1.0.1 on Gateway",
                "product_id": "GW:LIB",
                "product_identification_helper": {"purl": "pkg:generic/libdicom@1.0.1?on=gw"},
            },
        },
    ],
    "product_groups": [{"group_id": "G-PUMPS", "product_ids": ["P-42", "P-40"]}],
}


def test_spec_product_tree(tmp_path: Path) -> None:
    records, skipped = read(write(tmp_path, document(product_tree=TREE)))
    assert skipped == []
    advisory = advisory_of(records)
    assert (advisory.tracking_id, advisory.title, advisory.publisher, advisory.version) == (
        "EX-2026-001",
        "Example advisory",
        "Example PSIRT",
        "2",
    )
    assert advisory.url == "https://x/adv-1.json"
    assert advisory.initial_release is not None and advisory.initial_release.year == 2026
    assert advisory.current_release is not None and advisory.current_release.utcoffset()
    products = {p.product_id: p for p in advisory.products}
    assert list(products) == ["P-42", "P-40", "GW", "LIB-101", "MX40", "BOX", "P-42:LIB", "GW:LIB"]
    assert products["P-42"].vendor == "Example Med, Inc."  # unknown vendors stay as written
    assert products["P-42"].product == "InfuseOne"
    assert products["P-42"].versions == (VersionRange(version="4.2"),)
    assert products["P-42"].cpes == ("cpe:2.3:h:example:infuseone:4.2",)
    assert products["P-40"].versions == (
        VersionRange(
            version="4.0", less_than="4.2", raw="vers:generic/>=4.0|<4.2", version_type="generic"
        ),
    )
    assert (products["GW"].product, products["GW"].versions) == ("Gateway", ())
    assert products["LIB-101"].purls == ("pkg:generic/libdicom@1.0.1",)
    assert products["LIB-101"].model_numbers == ("M-1",)
    assert (products["MX40"].vendor, products["MX40"].product) == (
        "Philips",
        "Philips IntelliVue MX40",
    )
    assert products["BOX"].vendor == ""
    component = products["P-42:LIB"]
    assert (component.vendor, component.product, component.versions) == (
        "Open Source Org",
        "libdicom",
        (VersionRange(version="1.0.1"),),
    )
    assert component.purls == ("pkg:generic/libdicom@1.0.1",)
    assert products["GW:LIB"].purls == ("pkg:generic/libdicom@1.0.1?on=gw",)


def test_spec_vulnerability(tmp_path: Path) -> None:
    vulnerability = {
        "cve": "cve-2026-0001",
        "title": "Buffer overflow",
        "cwe": {"id": "CWE-787", "name": "Out-of-bounds Write"},
        "notes": [
            {"category": "description", "text": "A description."},
            {"category": "legal_disclaimer", "text": "Not kept."},
            {"category": "summary", "text": "A summary."},
        ],
        "release_date": "2026-01-02T00:00:00Z",
        "product_status": {
            "first_affected": ["P-40"],
            "known_affected": ["P-42", "P-42:LIB"],
            "last_affected": ["GW:LIB"],
            "known_not_affected": ["MX40"],
            "first_fixed": ["LIB-101"],
            "fixed": ["GW"],
            "under_investigation": ["BOX"],
            "recommended": ["LIB-101"],
        },
        "scores": [
            {
                "products": ["P-42"],
                "cvss_v3": {
                    "version": "3.1",
                    "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    "baseScore": 9.8,
                    "baseSeverity": "CRITICAL",
                },
                "cvss_v2": {
                    "version": "2.0",
                    "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P",
                    "baseScore": 7.5,
                },
            },
            {
                "products": ["P-40"],
                "cvss_v3": {
                    "version": "3.0",
                    "vectorString": "CVSS:3.0/AV:L/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
                    "baseScore": 4.0,
                    "baseSeverity": "medium",
                },
            },
        ],
        "remediations": [
            {
                "category": "vendor_fix",
                "details": "Update to 4.3.",
                "group_ids": ["G-PUMPS"],
                "url": "https://x/fix",
                "date": "2026-01-03T00:00:00Z",
            },
            {"category": "workaround", "details": "Disable DICOM.", "product_ids": ["GW"]},
        ],
    }
    records, skipped = read(
        write(tmp_path, document(product_tree=TREE, vulnerabilities=[vulnerability]))
    )
    assert skipped == []
    (entry,) = advisory_of(records).vulnerabilities
    assert (entry.cve_id, entry.title, entry.cwes) == (
        "CVE-2026-0001",
        "Buffer overflow",
        ("CWE-787",),
    )
    assert entry.notes == ("A description.", "A summary.")
    assert entry.release_date is not None
    assert entry.products == (
        ("P-40", "affected"),
        ("P-42", "affected"),
        ("P-42:LIB", "affected"),
        ("GW:LIB", "affected"),
        ("MX40", "not_affected"),
        ("LIB-101", "fixed"),
        ("GW", "fixed"),
        ("BOX", "under_investigation"),
        ("LIB-101", "recommended"),
    )
    assert [(m.version, m.base_score, m.severity, m.source, m.products) for m in entry.metrics] == [
        ("3.1", 9.8, "CRITICAL", "Example PSIRT", ("P-42",)),
        ("2.0", 7.5, None, "Example PSIRT", ("P-42",)),
        ("3.0", 4.0, "MEDIUM", "Example PSIRT", ("P-40",)),
    ]
    fix, workaround = entry.remediations
    assert (fix.category, fix.product_ids, fix.url) == (
        "vendor_fix",
        ("P-42", "P-40"),
        "https://x/fix",
    )
    assert fix.date is not None and fix.date.day == 3
    assert (workaround.category, workaround.product_ids) == ("workaround", ("GW",))


CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
LOW = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"


def test_scores_per_product(tmp_path: Path) -> None:
    """A metric keeps the products its score names; scores are one metric only when vector,
    score and products (in any order) are the same."""

    def score(vector: str, base: float, products: Any = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"cvss_v3": {"vectorString": vector, "baseScore": base}}
        return entry if products is None else entry | {"products": products}

    vulnerability = {
        "cve": "CVE-2026-0002",
        "product_status": {"known_affected": ["P-40", "P-42", "GW"]},
        "scores": [
            score(CRITICAL, 9.8, ["P-42", "P-40"]),
            score(CRITICAL, 9.8, ["GW"]),  # the same vector for another product
            score(CRITICAL, 9.8, ["P-40", "P-42", "P-40"]),  # the first again
            score(LOW, 1.6, ["P-42", "NOPE"]),
            score(LOW, 1.6),  # no products: the whole vulnerability
            score(LOW, 1.6, ["NOPE"]),  # none known: as good as none
        ],
    }
    records, skipped = read(
        write(tmp_path, document(product_tree=TREE, vulnerabilities=[vulnerability]))
    )
    (entry,) = advisory_of(records).vulnerabilities
    assert [(m.vector, m.base_score, m.products) for m in entry.metrics] == [
        (CRITICAL, 9.8, ("P-42", "P-40")),
        (CRITICAL, 9.8, ("GW",)),
        (LOW, 1.6, ("P-42",)),
        (LOW, 1.6, ()),
    ]
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.vulnerabilities[0].scores[3].products[1]", "unknown product id 'NOPE'"),
        ("$.vulnerabilities[0].scores[5].products[0]", "unknown product id 'NOPE'"),
    ]


def test_csaf_vex_statements(tmp_path: Path) -> None:
    vex = document(
        product_tree=TREE,
        vulnerabilities=[
            {
                "cve": "CVE-2020-11896",
                "product_status": {
                    "known_not_affected": ["P-42", "GW:LIB"],
                    "known_affected": ["P-40"],
                    "fixed": ["LIB-101"],
                    "under_investigation": ["GW"],
                },
                "flags": [{"label": "vulnerable_code_not_present", "product_ids": ["P-42"]}],
                "threats": [
                    {"category": "impact", "details": "Stack not used.", "product_ids": ["GW:LIB"]},
                    {"category": "exploit_status", "details": "Not kept.", "product_ids": ["P-40"]},
                ],
                "remediations": [
                    {"category": "vendor_fix", "details": "Update to 4.2.", "product_ids": ["P-40"]}
                ],
            },
            {"notes": [{"category": "summary", "text": "no CVE, no statement"}]},
        ],
    )
    vex["document"]["category"] = "csaf_vex"
    records, skipped = read(write(tmp_path, vex))
    assert skipped == []
    advisory = advisory_of(records)
    assert advisory.document_category == "csaf_vex"
    statements = [r for r in records if isinstance(r, VexStatement)]
    assert records == [advisory, *statements]
    found = {s.refs[0]: s for s in statements}
    assert list(found) == ["P-40", "P-42", "GW:LIB", "LIB-101", "GW"]
    assert all(s.cve_id == "CVE-2020-11896" and s.source == "EX-2026-001" for s in statements)
    assert (found["P-42"].status, found["P-42"].justification) == (
        "not_affected",
        "vulnerable_code_not_present",
    )
    assert found["P-42"].refs == ("P-42", "cpe:2.3:h:example:infuseone:4.2")
    assert (found["GW:LIB"].status, found["GW:LIB"].detail) == ("not_affected", "Stack not used.")
    assert found["GW:LIB"].refs == ("GW:LIB", "pkg:generic/libdicom@1.0.1?on=gw")
    assert (found["P-40"].status, found["P-40"].detail) == ("affected", "Update to 4.2.")
    assert found["LIB-101"].status == "fixed"
    assert found["GW"].status == "under_investigation"


# -- malformed parts are skipped with their path ---------------------------------------------


def test_malformed_parts_are_skipped_and_the_rest_imports(tmp_path: Path) -> None:
    tree = json.loads(json.dumps(TREE))
    tree["branches"][0]["branches"][0]["branches"][0]["branches"].append(
        {"category": "product_version"}
    )
    tree["branches"][1]["branches"].append("not a branch")
    tree["branches"].append(branch("vendor", "V", leaf("product_version", "1", "P-42")))
    tree["branches"].append(branch("vendor", "W", leaf("product_version", "1", "")))
    tree["relationships"].append(
        {
            "category": "installed_on",
            "product_reference": "NOPE",
            "relates_to_product_reference": "GW",
            "full_product_name": {"name": "x", "product_id": "X"},
        }
    )
    vulnerabilities = [
        "not an object",
        {
            "cve": "CVE-nope",
            "product_status": {"known_affected": ["P-42", "GHOST", 7]},
            "scores": [
                {
                    "products": ["P-42"],
                    "cvss_v3": {"vectorString": "CVSS:3.1/AV:Q", "baseScore": 5},
                },
                {
                    "products": ["P-42"],
                    "cvss_v3": {
                        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                        "baseScore": 99,
                    },
                },
                {"products": ["P-42"], "cvss_v2": {"baseScore": 5}},
            ],
            "remediations": [
                {"category": "pray", "details": "x", "product_ids": ["P-42"]},
                {"category": "vendor_fix", "product_ids": ["P-42"]},
                {"category": "mitigation", "details": "ok", "group_ids": ["NO-GROUP"]},
            ],
        },
    ]
    top = document(product_tree=tree, vulnerabilities=vulnerabilities)
    top["document"]["tracking"]["initial_release_date"] = "yesterday"
    records, skipped = read(write(tmp_path, top))
    advisory = advisory_of(records)
    where = {s.where: s.reason for s in skipped}
    assert set(where) == {
        "$.document.tracking.initial_release_date",
        "$.product_tree.branches[0].branches[0].branches[0].branches[2]",
        "$.product_tree.branches[1].branches[1]",
        "$.product_tree.branches[2].branches[0].product",
        "$.product_tree.branches[3].branches[0].product",
        "$.product_tree.relationships[2]",
        "$.vulnerabilities[0]",
        "$.vulnerabilities[1].cve",
        "$.vulnerabilities[1].product_status.known_affected.product_ids[1]",
        "$.vulnerabilities[1].product_status.known_affected.product_ids[2]",
        "$.vulnerabilities[1].scores[0].cvss_v3",
        "$.vulnerabilities[1].scores[1].cvss_v3",
        "$.vulnerabilities[1].scores[2].cvss_v2",
        "$.vulnerabilities[1].remediations[0]",
        "$.vulnerabilities[1].remediations[1]",
        "$.vulnerabilities[1].remediations[2].group_ids[0]",
    }
    assert "defined twice" in where["$.product_tree.branches[2].branches[0].product"]
    assert "unknown product NOPE" in where["$.product_tree.relationships[2]"]
    assert advisory.initial_release is None
    assert len(advisory.products) == 8
    (entry,) = advisory.vulnerabilities
    assert entry.cve_id is None
    assert entry.products == (("P-42", "affected"),)
    assert entry.metrics == ()
    assert [r.details for r in entry.remediations] == ["ok"]


def test_deep_branches_are_cut_at_the_depth_limit(tmp_path: Path) -> None:
    deep: dict[str, Any] = leaf("product_version", "1", "DEEP")
    for level in range(csaf.MAX_BRANCH_DEPTH + 5):
        deep = branch("product_family", f"f{level}", deep)
    tree = {"branches": [deep, branch("vendor", "Shallow", leaf("product_version", "2", "OK"))]}
    records, skipped = read(write(tmp_path, document(product_tree=tree)))
    assert [p.product_id for p in advisory_of(records).products] == ["OK"]
    (cut,) = skipped
    assert cut.where.count(".branches[0]") == csaf.MAX_BRANCH_DEPTH + 1  # the first too deep
    assert "deeper than" in cut.reason


def test_a_document_without_tracking_id_is_skipped_whole(tmp_path: Path) -> None:
    top = document(product_tree=TREE)
    del top["document"]["tracking"]["id"]
    records, skipped = read(write(tmp_path, top))
    assert records == []
    assert [s.where for s in skipped] == ["$.document.tracking.id"]


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"not json", "$"),
        (b"[1, 2]", "$"),
        (b'{"documents": {}}', "$.document"),
        (b'{"document": {"csaf_version": "1.2"}}', "$.document.csaf_version"),
        (b'{"document": []}', "$.document"),
        (b"\xff\xfe\x00garbage", "$"),
        (b"[" * 100_000 + b"]" * 100_000, "$"),
    ],
)
def test_files_that_are_not_csaf_raise_feed_format_error(
    tmp_path: Path, content: bytes, where: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(FeedFormatError) as error:
        read(path)
    assert error.value.where == where
    assert error.value.path == path
    assert str(path) in str(error.value)


def test_too_large_and_missing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, document(product_tree=TREE))
    monkeypatch.setattr(csaf, "MAX_BYTES", 100)
    with pytest.raises(FeedFormatError, match="larger than 100 bytes"):
        read(path)
    with pytest.raises(FeedFormatError, match="cannot read"):
        read(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'{"document": {"category": "csaf_vex", "csaf_version": "2.0"', True),
        (b'\xef\xbb\xbf\n  {"document":{"csaf_version" : "2.1"}}', True),
        (b'{"document": {"category": "x"}}', False),
        (b'{"csaf_version": "2.0"}', False),
        (b'[{"document": {"csaf_version": "2.0"}}]', False),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5"}', False),
        (b"", False),
    ],
)
def test_detect(head: bytes, expected: bool) -> None:
    assert READER.detect(head) is expected


# -- free-text versions -----------------------------------------------------------------------


RANGE = "product_version_range"
VERSION = "product_version"


@pytest.mark.parametrize(
    ("text", "category", "expected"),
    [
        ("3.6.7", VERSION, [{"version": "3.6.7", "raw": None}]),
        ("vers:all/*", VERSION, [{"all_versions": True, "version_type": "all"}]),
        ("All versions", RANGE, [{"all_versions": True}]),
        ("* (end-of-life 2011)", VERSION, [{"all_versions": True}]),
        ("< 3.6.7", RANGE, [{"less_than": "3.6.7"}]),
        ("<=N", RANGE, [{"less_than_or_equal": "N"}]),
        ("2.3.6 and  below", VERSION, [{"less_than_or_equal": "2.3.6"}]),
        ("Version 4.1 and prior", RANGE, [{"less_than_or_equal": "4.1"}]),
        ("prior to 4.1", RANGE, [{"less_than": "4.1"}]),
        ("2.0 and later", RANGE, [{"version": "2.0", "less_than": "*"}]),
        (">= 2.0", RANGE, [{"version": "2.0", "less_than": "*"}]),
        ("> 2.0", RANGE, [{"greater_than": "2.0"}]),
        (">= 1.3 | <= 3.1", RANGE, [{"version": "1.3", "less_than_or_equal": "3.1"}]),
        ("1.1 to 1.3.2", RANGE, [{"version": "1.1", "less_than_or_equal": "1.3.2"}]),
        ("2.X", VERSION, [{"version": "2", "less_than": "3"}]),
        ("<= 12.2.x.x", RANGE, [{"less_than": "12.3"}]),
        ("< 3.x", RANGE, [{"less_than": "3"}]),
        ("<= 1.54 (integrated into GE MobileLink)", RANGE, [{"less_than_or_equal": "1.54"}]),
        ("5.0|5.1", RANGE, [{"version": "5.0"}, {"version": "5.1"}]),
        ("<= U61 |<= L81", RANGE, [{"less_than_or_equal": "U61"}, {"less_than_or_equal": "L81"}]),
        (
            "vers:semver/>=1.0.0|<1.2.0|>=2.0.0|<2.1.0",
            RANGE,
            [
                {"version": "1.0.0", "less_than": "1.2.0", "version_type": "semver"},
                {"version": "2.0.0", "less_than": "2.1.0", "version_type": "semver"},
            ],
        ),
        ("< august 28", RANGE, [{}]),
        ("distributed  < april 1, 2018", RANGE, [{}]),
        ("<8/30/2024", RANGE, [{}]),
        ("A10 < A11", RANGE, [{}]),
        ("053L000091 (global) / 054U000091 (U.S.)", RANGE, [{}]),
        ("  ", VERSION, []),
    ],
)
def test_version_ranges(text: str, category: str, expected: list[dict[str, Any]]) -> None:
    """Every range keeps the text as written in ``raw`` (an exact version needs none)."""
    wanted = [VersionRange(**({"raw": text} | fields)) for fields in expected]
    assert list(version_ranges(text, category)) == wanted


def test_how_many_version_texts_of_the_advisories_get_bounds(shared_data: Path) -> None:
    kinds: Counter[str] = Counter()
    for path in csaf_files(shared_data):
        for product in advisory_of(read(path)[0]).products:
            for versions in product.versions:
                if versions.all_versions:
                    kinds["all"] += 1
                elif versions.raw is None:
                    kinds["exact"] += 1
                elif versions.version or versions.less_than or versions.less_than_or_equal:
                    kinds["bounds"] += 1
                else:
                    kinds["raw only"] += 1
    assert kinds["all"] >= 250
    assert kinds["bounds"] >= 250
    assert kinds["raw only"] <= 120
