"""NVD CVE API 2.0 reader: the real per-CVE records of shared/data, API responses and feed
files built from them (plain and gzip), spec-built records (CVSS v4.0/v3.0, rejected CVEs),
and malformed files: wrong top level, bad records skipped with their JSON path, truncated
and damaged files stopping with the records before the fault kept. Also the streaming
helpers of ``jsonstream`` the reader stands on (size and depth limits)."""

from __future__ import annotations

import gzip
import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from medsec.assess.vulns.cve5 import Cve5Reader
from medsec.assess.vulns.epss import EpssReader
from medsec.assess.vulns.interface import HEAD_BYTES, FeedFormatError, SkippedRecord
from medsec.assess.vulns.jsonstream import BadElement, Element, Member, Records, document_parts
from medsec.assess.vulns.kev import KevReader
from medsec.assess.vulns.nvd import NvdReader
from medsec.model.vulns import CpeMatch, CvssMetric, Reference, VersionRange, Vulnerability

READER = NvdReader()
OTHERS = (Cve5Reader(), KevReader(), EpssReader())


def read(path: Path) -> tuple[list[Vulnerability], list[SkippedRecord]]:
    skipped: list[SkippedRecord] = []
    return list(READER.read(path, skipped.append)), skipped


def read_until_error(
    path: Path,
) -> tuple[list[Vulnerability], list[SkippedRecord], FeedFormatError]:
    records: list[Vulnerability] = []
    skipped: list[SkippedRecord] = []
    with pytest.raises(FeedFormatError) as caught:
        records.extend(READER.read(path, skipped.append))  # keeps what came before the error
    return records, skipped, caught.value


def nvd_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "advisories" / "nvd_cve_json2").glob("*.json"))


def real_cves(shared_data: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in nvd_files(shared_data)]


def response(cves: list[Any], **header: Any) -> dict[str, Any]:
    """An API 2.0 response (the shape of NVD's feed files too) around ``cves``."""
    return {
        "resultsPerPage": len(cves),
        "startIndex": 0,
        "totalResults": len(cves),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-11-22T00:00:00.000",
        **header,
        "vulnerabilities": [{"cve": cve} for cve in cves],
    }


def write(path: Path, document: Any, *, indent: int | None = 2) -> Path:
    path.write_text(json.dumps(document, indent=indent), encoding="utf-8")
    return path


def minimal(cve_id: str = "CVE-2024-0001", **fields: Any) -> dict[str, Any]:
    return {
        "id": cve_id,
        "sourceIdentifier": "cna@example.org",
        "published": "2024-01-02T03:04:05.678",
        "lastModified": "2024-02-03T04:05:06.789",
        "vulnStatus": "Analyzed",
        "descriptions": [{"lang": "en", "value": f"Description of {cve_id}."}],
        **fields,
    }


# -- the real records -------------------------------------------------------------------------


def test_every_real_record_is_detected_and_read(shared_data: Path) -> None:
    files = nvd_files(shared_data)
    assert len(files) == 6
    for path in files:
        head = path.read_bytes()[:HEAD_BYTES]
        assert READER.detect(head), path.name
        assert not any(other.detect(head) for other in OTHERS), path.name
        records, skipped = read(path)
        assert skipped == []
        assert [r.cve_id for r in records] == [path.stem]
        record = records[0]
        assert record.source == "nvd"
        assert record.description and record.description == record.description.strip()
        assert record.published is not None and record.published.tzinfo is UTC
        assert record.last_modified is not None and record.last_modified >= record.published
        assert record.metrics and record.references and record.cwes


def test_dcmtk_path_traversal_is_a_range_below_367(shared_data: Path) -> None:
    path = shared_data / "advisories" / "nvd_cve_json2" / "CVE-2022-2119.json"
    (record,), _ = read(path)
    assert record.status == "Modified"
    assert record.assigner == "ics-cert@hq.dhs.gov"
    assert record.published == datetime(2022, 6, 24, 15, 15, 10, 687000, tzinfo=UTC)
    assert record.description.startswith("OFFIS DCMTK's (All versions prior to 3.6.7)")
    assert record.cwes == ("CWE-22",)
    assert record.cpe_matches == (
        CpeMatch(
            criteria="cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*",
            vulnerable=True,
            version_end_excluding="3.6.7",
        ),
    )
    assert record.metrics == (
        CvssMetric(
            "3.1",
            "CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
            7.5,
            "HIGH",
            "ics-cert@hq.dhs.gov",
            primary=False,
        ),
        CvssMetric(
            "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL", "nvd@nist.gov"
        ),
        CvssMetric("2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, "HIGH", "nvd@nist.gov"),
    )


def test_dcmtk_memory_leak_names_367_exactly(shared_data: Path) -> None:
    (record,), _ = read(shared_data / "advisories" / "nvd_cve_json2" / "CVE-2022-43272.json")
    assert [m.criteria for m in record.cpe_matches] == ["cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*"]
    assert record.cpe_matches[0].version_end_excluding is None


def test_firmware_and_hardware_configurations_keep_their_structure(shared_data: Path) -> None:
    (record,), _ = read(shared_data / "advisories" / "nvd_cve_json2" / "CVE-2019-10966.json")
    matches = record.cpe_matches
    assert len(matches) == 8
    assert {m.configuration for m in matches} == {0, 1, 2, 3}
    assert all(m.configuration_operator == "AND" and m.node_operator == "OR" for m in matches)
    assert [(m.node, m.vulnerable) for m in matches if m.configuration == 0] == [
        (0, True),
        (1, False),
    ]
    assert matches[1].criteria == "cpe:2.3:h:ge:aestiva_7100:-:*:*:*:*:*:*:*"
    # The CNA's affected block NVD carries, read as CVE 5 "affected".
    (product,) = record.affected
    assert (product.vendor, product.product, product.status) == (
        "GE",
        "Aestiva and Aespire",
        "affected",
    )
    assert product.versions == (
        VersionRange(version="versions 7100"),
        VersionRange(version="versions 7900"),
    )
    # The same URL from two sources is one reference with the tags of both.
    assert len(record.references) == 2
    assert record.references[1] == Reference(
        "https://www.us-cert.gov/ics/advisories/icsma-19-190-01",
        ("Mitigation", "Third Party Advisory", "US Government Resource"),
    )


def test_vendor_versions_escaped_cpes_and_unanalysed_records(shared_data: Path) -> None:
    folder = shared_data / "advisories" / "nvd_cve_json2"
    (braun,), _ = read(folder / "CVE-2020-25158.json")
    spacecom = [m for m in braun.cpe_matches if "spacecom:*" in m.criteria]
    assert spacecom[0].version_end_including == "l81"
    (treck,), _ = read(folder / "CVE-2020-11899.json")
    assert treck.cpe_matches[0].criteria == "cpe:2.3:a:treck:tcp\\/ip:*:*:*:*:*:*:*:*"
    assert treck.cpe_matches[0].version_end_excluding == "6.0.1.66"
    assert [m.primary for m in treck.metrics] == [True, False, True]
    (orthanc,), _ = read(folder / "CVE-2023-7238.json")
    assert orthanc.status == "Received"
    assert orthanc.cpe_matches == ()
    assert orthanc.description.startswith("A XSS payload")  # leading newline trimmed


def test_api_response_of_the_real_records_plain_and_gzip(shared_data: Path, tmp_path: Path) -> None:
    cves = real_cves(shared_data)
    singly = [read(p)[0][0] for p in nvd_files(shared_data)]
    plain = write(tmp_path / "nvdcve-2.0-modified.json", response(cves))
    records, skipped = read(plain)
    assert records == singly and skipped == []
    compressed = tmp_path / "nvdcve-2.0-modified.json.gz"
    compressed.write_bytes(gzip.compress(plain.read_bytes()))
    assert READER.detect(compressed.read_bytes()[:HEAD_BYTES])
    assert read(compressed) == (singly, [])
    compact = write(tmp_path / "compact.json", response(cves), indent=None)
    assert READER.detect(compact.read_bytes()[:HEAD_BYTES])
    assert read(compact) == (singly, [])
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + compact.read_bytes())
    assert READER.detect(bom.read_bytes()[:HEAD_BYTES])
    assert read(bom) == (singly, [])
    item = write(tmp_path / "item.json", {"cve": cves[0]})
    assert read(item) == ([singly[0]], [])


def test_header_keys_after_the_array_and_an_empty_feed(tmp_path: Path) -> None:
    document = {"vulnerabilities": [{"cve": minimal()}], "format": "NVD_CVE", "version": "2.0"}
    path = write(tmp_path / "late.json", document)
    assert READER.detect(path.read_bytes())
    assert [r.cve_id for r in read(path)[0]] == ["CVE-2024-0001"]
    assert read(write(tmp_path / "empty.json", response([]))) == ([], [])


def test_each_shared_file_is_claimed_by_its_reader_only(shared_data: Path) -> None:
    """CSAF advisories (whose vulnerabilities also open with "cve"), SBOMs, captures and the
    KEV schema are none of these formats."""
    readers = (READER, *OTHERS)
    claimed: dict[str, set[str]] = {}
    for path in sorted(shared_data.rglob("*")):
        if path.is_file():
            head = path.read_bytes()[:HEAD_BYTES]
            for reader in readers:
                if reader.detect(head):
                    claimed.setdefault(reader.name, set()).add(path.parent.name + "/" + path.name)
    advisories = shared_data / "advisories"
    assert claimed == {
        "nvd": {f"nvd_cve_json2/{p.name}" for p in (advisories / "nvd_cve_json2").iterdir()},
        "cve5": {f"cvelist_v5/{p.name}" for p in (advisories / "cvelist_v5").iterdir()},
        "kev": {
            "cisa_kev/known_exploited_vulnerabilities.json",
            "cisa_kev/known_exploited_vulnerabilities.csv",
        },
    }


# -- spec-built records ----------------------------------------------------------------------


def test_cvss_v40_and_v30_metrics_come_newest_first(tmp_path: Path) -> None:
    v40 = {
        "source": "cna@example.org",
        "type": "Secondary",
        "cvssData": {
            "version": "4.0",
            "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "baseScore": 9.3,
            "baseSeverity": "CRITICAL",
        },
    }
    v30 = {
        "source": "nvd@nist.gov",
        "type": "Primary",
        "cvssData": {
            "version": "3.0",
            "vectorString": "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
            "baseScore": 5,
            "baseSeverity": "MEDIUM",
        },
    }
    cve = minimal(metrics={"cvssMetricV30": [v30], "cvssMetricV40": [v40], "cvssMetricV99": 1})
    (record,), skipped = read(write(tmp_path / "f.json", response([cve])))
    assert skipped == []
    assert [(m.version, m.base_score, m.severity, m.primary) for m in record.metrics] == [
        ("4.0", 9.3, "CRITICAL", False),
        ("3.0", 5.0, "MEDIUM", True),
    ]


def test_weaknesses_leave_out_nvd_placeholders(tmp_path: Path) -> None:
    weaknesses = [
        {
            "source": "nvd@nist.gov",
            "type": "Primary",
            "description": [
                {"lang": "en", "value": "NVD-CWE-Other"},
                {"lang": "en", "value": "CWE-787"},
            ],
        },
        {
            "source": "cna@example.org",
            "type": "Secondary",
            "description": [
                {"lang": "en", "value": "NVD-CWE-noinfo"},
                {"lang": "en", "value": "CWE-787"},
                {"lang": "en", "value": "CWE-125"},
            ],
        },
    ]
    (record,), _ = read(write(tmp_path / "f.json", response([minimal(weaknesses=weaknesses)])))
    assert record.cwes == ("CWE-787", "CWE-125")


def test_configuration_operators_negation_and_bounds(tmp_path: Path) -> None:
    configurations = [
        {
            "nodes": [
                {
                    "operator": "OR",
                    "negate": False,
                    "cpeMatch": [
                        {
                            "vulnerable": True,
                            "criteria": "cpe:2.3:a:philips:intellispace_portal:*:*:*:*:*:*:*:*",
                            "versionStartIncluding": "9.0",
                            "versionEndExcluding": "12.1",
                            "matchCriteriaId": "X",
                        },
                        {
                            "vulnerable": True,
                            "criteria": "cpe:2.3:a:philips:vue_pacs:*:*:*:*:*:*:*:*",
                            "versionStartExcluding": "12.0",
                            "versionEndIncluding": "12.2.1",
                        },
                    ],
                }
            ]
        },
        {
            "operator": "and",
            "nodes": [
                {
                    "operator": "OR",
                    "cpeMatch": [
                        {
                            "vulnerable": True,
                            "criteria": "cpe:2.3:o:ge:mac_5500_firmware:-:*:*:*:*:*:*:*",
                        }
                    ],
                },
                {
                    "operator": "AND",
                    "negate": True,
                    "cpeMatch": [
                        {"vulnerable": False, "criteria": "cpe:2.3:h:ge:mac_5500:-:*:*:*:*:*:*:*"}
                    ],
                },
            ],
        },
    ]
    (record,), _ = read(
        write(tmp_path / "f.json", response([minimal(configurations=configurations)]))
    )
    first, second, firmware, hardware = record.cpe_matches
    assert (first.version_start_including, first.version_end_excluding) == ("9.0", "12.1")
    assert (second.version_start_excluding, second.version_end_including) == ("12.0", "12.2.1")
    assert (first.configuration, second.configuration, first.configuration_operator) == (0, 0, "OR")
    assert (firmware.configuration, firmware.node, firmware.configuration_operator) == (1, 0, "AND")
    assert (hardware.node, hardware.node_operator, hardware.negate) == (1, "AND", True)
    assert not hardware.vulnerable


def test_rejected_cves_are_yielded_with_their_status(tmp_path: Path) -> None:
    rejected = minimal(
        "CVE-2023-9999",
        vulnStatus="Rejected",
        metrics={},
        references=[],
        descriptions=[{"lang": "en", "value": "Rejected reason: duplicate."}],
    )
    (record,), _ = read(write(tmp_path / "f.json", response([rejected])))
    assert (record.status, record.description) == ("Rejected", "Rejected reason: duplicate.")


def test_lower_case_id_and_non_english_first_description(tmp_path: Path) -> None:
    cve = minimal(
        "cve-2024-12345",
        descriptions=[{"lang": "es", "value": "Una."}, {"lang": "en", "value": " One. "}],
    )
    (record,), _ = read(write(tmp_path / "f.json", response([cve])))
    assert (record.cve_id, record.description) == ("CVE-2024-12345", "One.")
    cve = minimal(descriptions=[{"lang": "es", "value": "Sólo."}])
    (record,), _ = read(write(tmp_path / "g.json", response([cve])))
    assert record.description == "Sólo."


# -- malformed files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        (b'"NVD_CVE"', "$", "top level"),
        (b"42", "$", "top level"),
        (b"", "$", "not valid JSON"),
        (b"{}", "$", "no vulnerabilities array"),
        (b'{"vulnerabilities": {}}', "$.vulnerabilities", "expected an array"),
        (b'{"format": "NVD_CPE", "vulnerabilities": []}', "$.format", "NVD_CPE"),
        (b'{"format": "NVD_CVE", "version": "1.1", "vulnerabilities": []}', "$.version", "1.1"),
        (b'{"format": "NVD_CVE", "version": 2, "vulnerabilities": []}', "$.version", "2"),
        (b"<?xml version='1.0'?><nvd/>", "$", "not valid JSON"),
        (b'{"vulnerabilities": [] } trailing', "$", "not valid JSON"),
    ],
)
def test_files_that_are_not_nvd_json(
    tmp_path: Path, content: bytes, where: str, reason: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    records, _skipped, error = read_until_error(path)
    assert records == []
    assert (error.path, error.where) == (path, where)
    assert reason in error.reason
    assert str(path) in str(error)


def test_missing_file_and_damaged_gzip(tmp_path: Path) -> None:
    _, _, error = read_until_error(tmp_path / "absent.json")
    assert "cannot open" in error.reason
    whole = gzip.compress(
        json.dumps(response([minimal(f"CVE-2024-{n:04d}") for n in range(1000, 1400)])).encode()
    )
    path = tmp_path / "cut.json.gz"
    path.write_bytes(whole[: len(whole) // 2])
    records, _, error = read_until_error(path)
    assert 0 < len(records) < 400
    assert error.where == f"$.vulnerabilities[{len(records)}]"
    assert "cannot read" in error.reason or "not valid JSON" in error.reason
    path.write_bytes(b"\x1f\x8b" + b"\x00" * 40)
    assert read_until_error(path)[2].where == "$"


def test_bad_records_are_skipped_with_their_path(tmp_path: Path) -> None:
    cves: list[Any] = [minimal(f"CVE-2024-{1000 + n}") for n in range(14)]
    del cves[1]["id"]
    cves[2]["id"] = "GHSA-xxxx-yyyy-zzzz"
    cves[3]["metrics"] = {
        "cvssMetricV31": [
            {
                "source": "x",
                "type": "Primary",
                "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N", "baseScore": "9.8"},
            }
        ]
    }
    cves[4]["configurations"] = [{"nodes": [{"operator": "XOR", "cpeMatch": []}]}]
    cves[5]["configurations"] = [
        {"nodes": [{"cpeMatch": [{"criteria": "cpe:/a:x:y", "vulnerable": True}]}]}
    ]
    cves[6]["references"] = [{"url": "https://example.org", "tags": ["Patch", 7]}]
    cves[7]["published"] = "yesterday"
    cves[8]["metrics"] = {"cvssMetricV31": [{"cvssData": {"vectorString": "V", "baseScore": 11}}]}
    cves[9]["configurations"] = [
        {"nodes": [{"cpeMatch": [{"criteria": "cpe:2.3:a:x:y:*:*:*:*:*:*:*:*"}]}]}
    ]
    cves[10] = ["not", "an", "object"]
    cves[12]["metrics"] = {"cvssMetricV31": ["9.8"]}
    document = response(cves)
    document["vulnerabilities"][13] = {"item": "without cve"}
    records, skipped = read(write(tmp_path / "f.json", document))
    assert [r.cve_id for r in records] == ["CVE-2024-1000", "CVE-2024-1011"]
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.vulnerabilities[1].cve.id", "missing"),
        ("$.vulnerabilities[2].cve.id", "not a CVE id: 'GHSA-xxxx-yyyy-zzzz'"),
        (
            "$.vulnerabilities[3].cve.metrics.cvssMetricV31[0].cvssData.baseScore",
            "expected a number, found a string",
        ),
        (
            "$.vulnerabilities[4].cve.configurations[0].nodes[0].operator",
            "operator 'XOR' is neither OR nor AND",
        ),
        (
            "$.vulnerabilities[5].cve.configurations[0].nodes[0].cpeMatch[0].criteria",
            "not a CPE 2.3 name",
        ),
        ("$.vulnerabilities[6].cve.references[0].tags[1]", "expected a string, found a number"),
        ("$.vulnerabilities[7].cve.published", "not an ISO 8601 time: 'yesterday'"),
        (
            "$.vulnerabilities[8].cve.metrics.cvssMetricV31[0].cvssData.baseScore",
            "score 11.0 is not between 0 and 10",
        ),
        ("$.vulnerabilities[9].cve.configurations[0].nodes[0].cpeMatch[0].vulnerable", "missing"),
        ("$.vulnerabilities[10].cve", "expected an object, found an array"),
        (
            "$.vulnerabilities[12].cve.metrics.cvssMetricV31[0]",
            "expected an object, found a string",
        ),
        ("$.vulnerabilities[13].id", "missing"),
    ]
    assert all(s.path == tmp_path / "f.json" for s in skipped)


def test_truncated_file_keeps_the_records_before_the_break(tmp_path: Path) -> None:
    text = json.dumps(response([minimal(f"CVE-2024-{1000 + n}") for n in range(10)]), indent=2)
    cut = text.index('"CVE-2024-1007"')
    path = tmp_path / "cut.json"
    path.write_text(text[:cut], encoding="utf-8")
    records, skipped, error = read_until_error(path)
    assert [r.cve_id for r in records] == [f"CVE-2024-{1000 + n}" for n in range(7)]
    assert skipped == []
    assert error.where == "$.vulnerabilities[7]"
    assert error.reason.startswith("not valid JSON")


def test_invalid_bytes_and_overflowing_numbers_stop_at_their_record(tmp_path: Path) -> None:
    for bad in (b'"\xff\xfe"', b"1e999", b"123456789012345678901234567890", b"NaN"):
        text = json.dumps(response([minimal("CVE-2024-1000"), minimal("CVE-2024-1001")]))
        content = text.encode().replace(b'"Analyzed"', bad, 2).replace(bad, b'"Analyzed"', 1)
        path = tmp_path / "bad.json"
        path.write_bytes(content)
        records, _, error = read_until_error(path)
        assert [r.cve_id for r in records] == ["CVE-2024-1000"]
        assert error.where == "$.vulnerabilities[1]"


def test_deep_nesting_skips_the_record_without_building_it(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    text = json.dumps(response([minimal("CVE-2024-1000"), "DEEP", minimal("CVE-2024-1002")]))
    path = tmp_path / "deep.json"
    path.write_bytes(text.encode().replace(b'"DEEP"', b'{"cve": ' + deep + b"}"))
    records, skipped = read(path)
    assert [r.cve_id for r in records] == ["CVE-2024-1000", "CVE-2024-1002"]
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.vulnerabilities[1]", "nested deeper than 64 levels")
    ]


def test_unbalanced_deep_brackets_and_long_nested_keys_end_in_an_error(tmp_path: Path) -> None:
    # ijson's prefix-tracking parser would keep every open container's dotted path here
    # (quadratic memory: gigabytes for a file of a few hundred kilobytes).
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 200_000)
    assert read_until_error(path)[2].where == "$[0]"
    path.write_bytes(b'{"vulnerabilities": [' + (b'{"' + b"k" * 1000 + b'":') * 300)
    assert read_until_error(path)[2].where == "$.vulnerabilities[0]"


def test_document_parts_bounds_records_in_bytes(tmp_path: Path) -> None:
    small = json.dumps({"cve": minimal()})
    big = json.dumps({"cve": minimal(descriptions=[{"lang": "en", "value": "x" * 300_000}])})
    path = tmp_path / "big.json"
    path.write_text(f'{{"vulnerabilities": [{small}, {small}, {big}, {small}]}}', encoding="utf-8")
    parts = []
    with pytest.raises(FeedFormatError) as caught:
        parts.extend(document_parts(path, "vulnerabilities", max_record_bytes=100_000))
    assert [type(p) for p in parts] == [Records, Element, Element]
    assert caught.value.where == "$.vulnerabilities[2]"
    assert caught.value.reason == "a record runs on for more than 100000 bytes"
    # With the default limit it is an ordinary record.
    assert len([p for p in document_parts(path, "vulnerabilities") if isinstance(p, Element)]) == 4


def test_document_parts_of_a_root_array_and_of_members(tmp_path: Path) -> None:
    path = tmp_path / "parts.json"
    path.write_text('[{"a": 1}, [[[]]], 3]', encoding="utf-8")
    assert list(document_parts(path, None)) == [
        Records("$"),
        Element("$[0]", {"a": 1}),
        Element("$[1]", [[[]]]),
        Element("$[2]", 3),
    ]
    assert list(document_parts(path, None, max_depth=2))[2] == BadElement(
        "$[1]", "nested deeper than 2 levels"
    )
    path.write_text('{"a b": {"c": [true, null]}, "list": [1.5]}', encoding="utf-8")
    assert list(document_parts(path, "list")) == [
        Member("a b", {"c": [True, None]}),
        Records("$.list"),
        Element("$.list[0]", 1.5),
    ]
    path.write_text('{"a b": [1, 2', encoding="utf-8")
    with pytest.raises(FeedFormatError) as caught:
        list(document_parts(path, None))
    assert caught.value.where == "$['a b']"


def test_the_benchmark_feed_generator_writes_what_the_reader_reads(tmp_path: Path) -> None:
    script = Path(__file__).parents[3] / "benchmarks" / "make_nvd_feed.py"
    spec = importlib.util.spec_from_file_location("make_nvd_feed", script)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    path = tmp_path / "nvd-300.json"
    size = generator.write_feed(path, 300, generator.SEED, 2)
    assert size == path.stat().st_size
    assert READER.detect(path.read_bytes()[:HEAD_BYTES])
    records, skipped = read(path)
    assert (len(records), skipped) == (300, [])
    assert len({r.cve_id for r in records}) == 300
    analysed = [r for r in records if r.status in ("Analyzed", "Modified")]
    assert analysed and all(r.cpe_matches and r.metrics for r in analysed)
    assert any(r.status == "Rejected" for r in records)
    assert any(
        m.version_end_excluding or m.version_end_including for r in records for m in r.cpe_matches
    )
    compact = tmp_path / "compact.json"
    generator.write_feed(compact, 300, generator.SEED, None)
    assert read(compact) == (records, [])
