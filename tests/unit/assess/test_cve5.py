"""CVE JSON 5 reader: the real cvelistV5 records of shared/data (single and as an array),
records built after the 5.1 schema (CVSS v4.0 beside v3.1, ADP containers, version statuses
and default statuses, package names, rejected records), and malformed files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from medsec.assess.vulns.cve5 import Cve5Reader, package_url
from medsec.assess.vulns.epss import EpssReader
from medsec.assess.vulns.interface import HEAD_BYTES, FeedFormatError, SkippedRecord
from medsec.assess.vulns.kev import KevReader
from medsec.assess.vulns.nvd import NvdReader
from medsec.model.vulns import AffectedProduct, CvssMetric, Reference, VersionRange, Vulnerability

READER = Cve5Reader()
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:L/SA:L"
OTHERS = (NvdReader(), KevReader(), EpssReader())


def read(path: Path) -> tuple[list[Vulnerability], list[SkippedRecord]]:
    skipped: list[SkippedRecord] = []
    return list(READER.read(path, skipped.append)), skipped


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def cve5_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "advisories" / "cvelist_v5").glob("*.json"))


def record(cve_id: str = "CVE-1900-1234", **cna: Any) -> dict[str, Any]:
    """A published CVE 5.1 record whose CNA container holds ``cna``."""
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": cve_id,
            "assignerOrgId": "b3476cb9-2e3d-41a6-98d0-0f47421a65b6",
            "assignerShortName": "example",
            "state": "PUBLISHED",
            "datePublished": "2024-03-01T10:00:00.000Z",
            "dateUpdated": "2024-04-01T10:00:00.000Z",
        },
        "containers": {
            "cna": {
                "providerMetadata": {"orgId": "b3476cb9", "shortName": "example"},
                "descriptions": [{"lang": "en", "value": f"Description of {cve_id}."}],
                "affected": [
                    {
                        "vendor": "Example",
                        "product": "Pump",
                        "versions": [{"version": "1.0", "status": "affected"}],
                    }
                ],
                "references": [{"url": "https://example.org/advisory"}],
                **cna,
            }
        },
    }


# -- the real records -------------------------------------------------------------------------


def test_real_records_are_detected_and_read(shared_data: Path) -> None:
    files = cve5_files(shared_data)
    assert [p.name for p in files] == ["CVE-2020-25158.json", "CVE-2022-2119.json"]
    for path in files:
        head = path.read_bytes()[:HEAD_BYTES]
        assert READER.detect(head), path.name
        assert not any(other.detect(head) for other in OTHERS), path.name
        records, skipped = read(path)
        assert skipped == []
        assert [r.cve_id for r in records] == [path.stem]
        assert records[0].source == "cve5" and records[0].status == "PUBLISHED"


def test_dcmtk_record_states_a_custom_range_below_367(shared_data: Path) -> None:
    (dcmtk,), _ = read(shared_data / "advisories" / "cvelist_v5" / "CVE-2022-2119.json")
    assert dcmtk.title == "OFFIS DCMTK Path Traversal"
    assert dcmtk.assigner == "icscert"
    assert dcmtk.published == datetime(2022, 6, 24, 15, 0, 20, 534244, tzinfo=UTC)
    assert dcmtk.last_modified == datetime(2024, 9, 16, 20, 2, 41, 102000, tzinfo=UTC)
    assert dcmtk.affected == (
        AffectedProduct(
            "OFFIS",
            "DCMTK",
            (VersionRange(version="0", less_than="3.6.7", version_type="custom"),),
            "affected",
        ),
    )
    assert dcmtk.metrics == (
        CvssMetric("3.1", "CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 7.5, "HIGH", "icscert"),
    )
    assert dcmtk.cwes == ("CWE-22",)
    # The CNA's reference and the CVE Program container's copy of it are one reference.
    assert dcmtk.references == (
        Reference(
            "https://www.cisa.gov/uscert/ics/advisories/icsma-22-174-01",
            ("x_refsource_MISC", "x_transferred"),
        ),
    )


def test_braun_record_has_inclusive_bounds_and_exact_versions(shared_data: Path) -> None:
    (braun,), _ = read(shared_data / "advisories" / "cvelist_v5" / "CVE-2020-25158.json")
    spacecom, battery, module = braun.affected
    assert spacecom.vendor == "B. Braun Melsungen AG" and spacecom.product == "SpaceCom"
    assert spacecom.versions == (
        VersionRange(version="0", less_than_or_equal="U61", version_type="custom"),
        VersionRange(version="0", less_than_or_equal="L81", version_type="custom"),
    )
    assert battery.product == "Battery pack with Wi-Fi"
    assert module.versions == (VersionRange(version="A10"), VersionRange(version="A11"))
    assert braun.cwes == ("CWE-79",)
    assert braun.published == datetime(2022, 4, 14, 20, 5, 56, tzinfo=UTC)


def test_an_array_of_the_real_records(shared_data: Path, tmp_path: Path) -> None:
    documents = [json.loads(p.read_text(encoding="utf-8")) for p in cve5_files(shared_data)]
    singly = [read(p)[0][0] for p in cve5_files(shared_data)]
    path = write(tmp_path / "bundle.json", documents)
    assert READER.detect(path.read_bytes()[:HEAD_BYTES])
    assert read(path) == (singly, [])


# -- records built after the schema ----------------------------------------------------------


def test_metrics_of_cna_and_adp_containers(tmp_path: Path) -> None:
    document = record(
        metrics=[
            {
                "format": "CVSS",
                "scenarios": [{"lang": "en", "value": "GENERAL"}],
                "cvssV4_0": {
                    "version": "4.0",
                    "baseScore": 7.8,
                    "baseSeverity": "HIGH",
                    "vectorString": V40,
                },
                "cvssV3_1": {
                    "version": "3.1",
                    "baseScore": 9.8,
                    "baseSeverity": "CRITICAL",
                    "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                },
            },
            {"other": {"type": "ssvc", "content": {"options": []}}},
        ]
    )
    document["containers"]["adp"] = [
        {
            "providerMetadata": {"orgId": "134c704f", "shortName": "CISA-ADP"},
            "title": "CISA ADP Vulnrichment",
            "metrics": [
                {
                    "cvssV3_0": {
                        "version": "3.0",
                        "baseScore": 5.3,
                        "vectorString": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
                    }
                },
                {
                    "cvssV2_0": {
                        "version": "2.0",
                        "baseScore": 5,
                        "vectorString": "AV:N/AC:L/Au:N/C:P/I:N/A:N",
                    }
                },
            ],
            "problemTypes": [
                {
                    "descriptions": [
                        {"lang": "en", "type": "CWE", "description": "CWE-787 Out-of-bounds Write"},
                        {"lang": "en", "type": "text", "description": "Memory corruption"},
                    ]
                }
            ],
            "references": [
                {"url": "https://example.org/advisory", "tags": ["vendor-advisory"]},
                {"url": "https://cisa.example/kev", "tags": ["government-resource"]},
            ],
        }
    ]
    document["containers"]["cna"]["problemTypes"] = [
        {
            "descriptions": [
                {
                    "lang": "en",
                    "cweId": "CWE-78",
                    "type": "CWE",
                    "description": "CWE-78 OS Command Injection",
                }
            ]
        }
    ]
    (vulnerability,), skipped = read(write(tmp_path / "r.json", document))
    assert skipped == []
    assert [
        (m.version, m.base_score, m.severity, m.source, m.primary) for m in vulnerability.metrics
    ] == [
        ("4.0", 7.8, "HIGH", "example", True),
        ("3.1", 9.8, "CRITICAL", "example", True),
        ("3.0", 5.3, None, "CISA-ADP", False),
        ("2.0", 5.0, None, "CISA-ADP", False),
    ]
    assert vulnerability.cwes == ("CWE-78", "CWE-787")
    assert vulnerability.references == (
        Reference("https://example.org/advisory", ("vendor-advisory",)),
        Reference("https://cisa.example/kev", ("government-resource",)),
    )


def test_version_statuses_default_status_and_packages(tmp_path: Path) -> None:
    affected = [
        {
            "vendor": "Example.org",
            "product": "Example Enterprise",
            "collectionURL": "https://example.org/packages",
            "packageName": "example_enterprise",
            "cpes": ["cpe:2.3:a:example:enterprise:*:*:*:*:*:*:*:*"],
            "versions": [
                {
                    "version": "1.0.0",
                    "status": "affected",
                    "lessThan": "1.0.6",
                    "versionType": "semver",
                },
                {
                    "version": "2.1.0",
                    "status": "unaffected",
                    "lessThan": "2.1.*",
                    "changes": [{"at": "2.1.6", "status": "affected"}],
                    "versionType": "semver",
                },
                {
                    "version": "3.0.0",
                    "status": "unaffected",
                    "lessThan": "*",
                    "versionType": "semver",
                },
            ],
            "defaultStatus": "unaffected",
        },
        {
            "collectionURL": "https://pypi.org",
            "packageName": "pydicom",
            "defaultStatus": "affected",
        },
        {
            "vendor": "Philips",
            "product": "IntelliVue MX800",
            "defaultStatus": "affected",
            "versions": [{"version": "M.00", "status": "unaffected"}],
        },
        {"vendor": "n/a", "product": "n/a", "versions": [{"version": "n/a", "status": "affected"}]},
        {"vendor": "GE", "product": "CARESCAPE"},
    ]
    (vulnerability,), skipped = read(write(tmp_path / "r.json", record(affected=affected)))
    assert skipped == []
    cpes = ("cpe:2.3:a:example:enterprise:*:*:*:*:*:*:*:*",)
    assert vulnerability.affected == (
        AffectedProduct(
            "Example.org",
            "Example Enterprise",
            (VersionRange("1.0.0", less_than="1.0.6", version_type="semver"),),
            "affected",
            cpes,
        ),
        AffectedProduct(
            "Example.org",
            "Example Enterprise",
            (
                VersionRange("2.1.0", less_than="2.1.*", version_type="semver"),
                VersionRange("3.0.0", less_than="*", version_type="semver"),
            ),
            "not_affected",
            cpes,
        ),
        AffectedProduct(
            "",
            "pydicom",
            (VersionRange(all_versions=True),),
            "affected",
            purls=("pkg:pypi/pydicom",),
        ),
        AffectedProduct("Philips", "IntelliVue MX800", (VersionRange("M.00"),), "not_affected"),
        AffectedProduct(
            "Philips", "IntelliVue MX800", (VersionRange(all_versions=True),), "affected"
        ),
        AffectedProduct("n/a", "n/a", (VersionRange("n/a"),), "affected"),
        AffectedProduct("GE", "CARESCAPE", (), "unknown"),
    )


def test_rejected_record_reads_its_reasons(tmp_path: Path) -> None:
    document = {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.0",
        "cveMetadata": {
            "cveId": "CVE-2023-0001",
            "assignerShortName": "example",
            "state": "REJECTED",
            "dateRejected": "2023-05-01T00:00:00",
        },
        "containers": {
            "cna": {
                "providerMetadata": {"orgId": "x"},
                "rejectedReasons": [{"lang": "en", "value": "Duplicate of X."}],
            }
        },
    }
    (vulnerability,), _ = read(write(tmp_path / "r.json", document))
    assert (vulnerability.status, vulnerability.description) == ("REJECTED", "Duplicate of X.")
    assert vulnerability.metrics == vulnerability.affected == vulnerability.references == ()


@pytest.mark.parametrize(
    ("collection", "package", "purl"),
    [
        (
            "https://repo.maven.apache.org/maven2",
            "org.apache.logging.log4j:log4j-core",
            "pkg:maven/org.apache.logging.log4j/log4j-core",
        ),
        ("https://registry.npmjs.org", "@angular/core", "pkg:npm/%40angular/core"),
        ("https://www.npmjs.com/", "cornerstone-core", "pkg:npm/cornerstone-core"),
        ("https://github.com", "DCMTK/dcmtk", "pkg:github/dcmtk/dcmtk"),
        (
            "https://pkg.go.dev",
            "github.com/suyashkumar/dicom",
            "pkg:golang/github.com/suyashkumar/dicom",
        ),
        ("https://github.com", "dcmtk", None),
        ("https://example.org/packages", "anything", None),
        ("not a url", "x", None),
        ("http://[::1", "x", None),
        (None, "x", None),
    ],
)
def test_package_url_from_collection_and_name(
    collection: str | None, package: str, purl: str | None
) -> None:
    assert package_url(collection, package) == purl


# -- malformed files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        (b"{}", "$", "no cveMetadata"),
        (b'{"dataType": "CSAF"}', "$", "no cveMetadata"),
        (b"null", "$", "top level"),
        (b'{"cveMetadata": {', "$.cveMetadata", "not valid JSON"),
    ],
)
def test_files_that_are_not_cve5(tmp_path: Path, content: bytes, where: str, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(FeedFormatError) as caught:
        list(READER.read(path, lambda s: None))
    assert (caught.value.path, caught.value.where) == (path, where)
    assert reason in caught.value.reason


def test_bad_records_are_skipped_with_their_path(tmp_path: Path) -> None:
    records: list[Any] = [record(f"CVE-2024-{1000 + n}") for n in range(9)]
    del records[1]["cveMetadata"]["cveId"]
    records[2]["dataVersion"] = "4.0"
    records[3]["containers"]["cna"]["affected"][0]["versions"][0]["status"] = "vulnerable"
    records[4]["containers"]["cna"]["metrics"] = [{"cvssV3_1": {"vectorString": "V"}}]
    records[5]["containers"]["cna"]["affected"] = [{"versions": []}]
    records[6]["containers"]["adp"] = [{"references": [{"url": 5}]}]
    records[7] = "CVE-2024-1007"
    result, skipped = read(write(tmp_path / "bundle.json", records))
    assert [r.cve_id for r in result] == ["CVE-2024-1000", "CVE-2024-1008"]
    assert [(s.where, s.reason) for s in skipped] == [
        ("$[1].cveMetadata.cveId", "missing"),
        ("$[2].dataVersion", "version '4.0' is not 5.x"),
        ("$[3].containers.cna.affected[0].versions[0].status", "unknown status 'vulnerable'"),
        ("$[4].containers.cna.metrics[0].cvssV3_1.baseScore", "missing"),
        ("$[5].containers.cna.affected[0]", "names no vendor, product or packageName"),
        ("$[6].containers.adp[0].references[0].url", "expected a string, found a number"),
        ("$[7]", "expected an object, found a string"),
    ]


def test_a_single_bad_record_is_skipped_not_an_error(tmp_path: Path) -> None:
    document = record()
    document["cveMetadata"]["cveId"] = "CVE-19-1"
    records, skipped = read(write(tmp_path / "one.json", document))
    assert records == []
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.cveMetadata.cveId", "not a CVE id: 'CVE-19-1'")
    ]


def test_truncated_bundle_keeps_the_records_before_the_break(tmp_path: Path) -> None:
    text = json.dumps([record(f"CVE-2024-{1000 + n}") for n in range(5)])
    path = tmp_path / "cut.json"
    path.write_text(text[: text.index('"CVE-2024-1003"') + 5], encoding="utf-8")
    got: list[Vulnerability] = []
    with pytest.raises(FeedFormatError) as caught:
        got.extend(READER.read(path, lambda s: None))
    assert [r.cve_id for r in got] == ["CVE-2024-1000", "CVE-2024-1001", "CVE-2024-1002"]
    assert caught.value.where == "$[3]"
