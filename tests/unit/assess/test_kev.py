"""CISA KEV reader: the real catalog of shared/data as JSON and as CSV (counts, equality of
the two, medical entries), gzip, reordered CSV columns, and malformed catalogs."""

from __future__ import annotations

import csv
import gzip
import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from medsec.assess.vulns.cve5 import Cve5Reader
from medsec.assess.vulns.epss import EpssReader
from medsec.assess.vulns.interface import HEAD_BYTES, FeedFormatError, SkippedRecord
from medsec.assess.vulns.kev import CSV_COLUMNS, KevReader
from medsec.assess.vulns.nvd import NvdReader
from medsec.model.vulns import KevEntry

READER = KevReader()
OTHERS = (NvdReader(), Cve5Reader(), EpssReader())


def read(path: Path) -> tuple[list[KevEntry], list[SkippedRecord]]:
    skipped: list[SkippedRecord] = []
    return list(READER.read(path, skipped.append)), skipped


def kev_folder(shared_data: Path) -> Path:
    return shared_data / "advisories" / "cisa_kev"


def entry(cve_id: str = "CVE-2020-11899", **fields: Any) -> dict[str, Any]:
    return {
        "cveID": cve_id,
        "vendorProject": "Treck",
        "product": "TCP/IP stack",
        "vulnerabilityName": "Treck TCP/IP stack Out-of-Bounds Read Vulnerability",
        "dateAdded": "2022-03-03",
        "shortDescription": "Treck TCP/IP stack contains an out-of-bounds read vulnerability.",
        "requiredAction": "Apply updates per vendor instructions.",
        "dueDate": "2022-03-17",
        "knownRansomwareCampaignUse": "Unknown",
        "notes": "https://nvd.nist.gov/vuln/detail/CVE-2020-11899",
        "cwes": ["CWE-125"],
        **fields,
    }


def catalog(entries: list[Any], **header: Any) -> dict[str, Any]:
    return {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "2026.11.20",
        "dateReleased": "2026-11-20T17:00:00.000Z",
        "count": len(entries),
        **header,
        "vulnerabilities": entries,
    }


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, indent=4), encoding="utf-8")
    return path


# -- the real catalog -------------------------------------------------------------------------


def test_real_json_catalog_holds_its_count(shared_data: Path) -> None:
    path = kev_folder(shared_data) / "known_exploited_vulnerabilities.json"
    head = path.read_bytes()[:HEAD_BYTES]
    assert READER.detect(head) and not any(other.detect(head) for other in OTHERS)
    entries, skipped = read(path)
    count = json.loads(path.read_text(encoding="utf-8"))["count"]
    assert count == 1404
    assert (len(entries), skipped) == (count, [])
    assert len({e.cve_id for e in entries}) == count
    assert sum(e.known_ransomware is True for e in entries) == 293
    assert all(e.known_ransomware in (True, None) for e in entries)
    assert all(e.vendor and e.product and e.name and e.required_action for e in entries)
    assert all(e.due_date is not None for e in entries)
    # The first catalog (2021-11-03) took over due dates of earlier directives, kept as given.
    early = [e for e in entries if e.due_date is not None and e.due_date < e.date_added]
    assert early and all(e.date_added == date(2021, 11, 3) for e in early)
    assert all(all(c.startswith("CWE-") for c in e.cwes) for e in entries)


def test_real_csv_export_holds_one_entry_per_row_and_equals_the_json(shared_data: Path) -> None:
    folder = kev_folder(shared_data)
    path = folder / "known_exploited_vulnerabilities.csv"
    head = path.read_bytes()[:HEAD_BYTES]
    assert READER.detect(head) and not any(other.detect(head) for other in OTHERS)
    entries, skipped = read(path)
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert (len(entries), skipped) == (len(rows), [])
    from_json, _ = read(folder / "known_exploited_vulnerabilities.json")
    assert entries == from_json


def test_medical_join_entries(shared_data: Path) -> None:
    entries, _ = read(kev_folder(shared_data) / "known_exploited_vulnerabilities.json")
    by_id = {e.cve_id: e for e in entries}
    assert by_id["CVE-2020-11899"] == KevEntry(  # Ripple20 (Treck), in NVD's data too
        "CVE-2020-11899",
        "Treck TCP/IP stack",
        "IPv6",
        "Treck TCP/IP stack Out-of-Bounds Read Vulnerability",
        date(2022, 3, 3),
        date(2022, 3, 17),
        "Apply updates per vendor instructions.",
        None,
        "https://nvd.nist.gov/vuln/detail/CVE-2020-11899",
        ("CWE-125",),
    )
    # EternalBlue (named in ICSMA-18-058-02) and BlueKeep (ICSMA-20-049-01), both ransomware.
    assert by_id["CVE-2017-0143"].known_ransomware is True
    assert by_id["CVE-2019-0708"].known_ransomware is True
    assert by_id["CVE-2019-0708"].due_date == date(2022, 5, 3)


def test_gzip_and_reordered_csv_columns(tmp_path: Path) -> None:
    columns = ["notes", "cveID", "dateAdded", "product", "vendorProject", "extra", "cwes"]
    lines = [
        ",".join(columns),
        '"multi\nline note",CVE-2019-0708,2021-11-03,Remote Desktop Services,Microsoft,x,'
        '"CWE-416, CWE-20"',
        "",
        ",CVE-2017-0143,2022-03-25,SMBv1,Microsoft,y,",
    ]
    path = tmp_path / "kev.csv.gz"
    path.write_bytes(gzip.compress(("\ufeff" + "\r\n".join(lines) + "\r\n").encode()))
    assert READER.detect(path.read_bytes()[:HEAD_BYTES])
    entries, skipped = read(path)
    assert skipped == []
    assert entries == [
        KevEntry(
            "CVE-2019-0708",
            "Microsoft",
            "Remote Desktop Services",
            "",
            date(2021, 11, 3),
            None,
            "",
            None,
            "multi\nline note",
            ("CWE-416", "CWE-20"),
        ),
        KevEntry("CVE-2017-0143", "Microsoft", "SMBv1", "", date(2022, 3, 25), None, "", None),
    ]


def test_ransomware_values_and_missing_optional_fields(tmp_path: Path) -> None:
    entries = [
        entry(knownRansomwareCampaignUse="Known"),
        entry("CVE-2017-0143", knownRansomwareCampaignUse="known", cwes=[], notes=None),
        {"cveID": "CVE-2019-0708", "dateAdded": "2021-11-03"},
    ]
    got, skipped = read(write_json(tmp_path / "kev.json", catalog(entries)))
    assert skipped == []
    assert [(e.known_ransomware, e.notes, e.cwes) for e in got] == [
        (True, "https://nvd.nist.gov/vuln/detail/CVE-2020-11899", ("CWE-125",)),
        (True, "", ()),
        (None, "", ()),
    ]
    assert got[2] == KevEntry("CVE-2019-0708", "", "", "", date(2021, 11, 3), None, "", None)


# -- malformed catalogs -----------------------------------------------------------------------


def test_bad_json_entries_are_skipped_with_their_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entries: list[Any] = [entry(f"CVE-2024-{1000 + n}") for n in range(7)]
    del entries[1]["cveID"]
    entries[2]["dateAdded"] = "03/03/2022"
    entries[3]["dueDate"] = 20220317
    entries[4]["cwes"] = "CWE-125"  # a string is read like the CSV's list
    entries[5]["cwes"] = [125]
    entries[6] = None
    document = catalog(entries, count=8)
    with caplog.at_level(logging.WARNING):
        got, skipped = read(write_json(tmp_path / "kev.json", document))
    assert [e.cve_id for e in got] == ["CVE-2024-1000", "CVE-2024-1004"]
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.vulnerabilities[1].cveID", "missing"),
        ("$.vulnerabilities[2].dateAdded", "not a date (YYYY-MM-DD): '03/03/2022'"),
        ("$.vulnerabilities[3].dueDate", "expected a string, found a number"),
        ("$.vulnerabilities[5].cwes[0]", "expected a string, found a number"),
        ("$.vulnerabilities[6]", "expected an object, found null"),
    ]
    assert "counts 8 entries but holds 7" in caplog.text


def test_bad_csv_rows_are_skipped_with_line_and_column(tmp_path: Path) -> None:
    rows = [
        ",".join(CSV_COLUMNS),
        "CVE-2024-1000,V,P,N,2024-01-01,S,A,2024-01-22,Unknown,,",
        "CVE-2024-1001,V,P,N,yesterday,S,A,2024-01-22,Unknown,,",
        'CVE-2024-1002,V,P,"N\n spanning two lines",2024-01-01,S,A,,Known,,CWE-79',
        "not-a-cve,V,P,N,2024-01-01,S,A,2024-01-22,Unknown,,",
        "CVE-2024-1004,V",
        "CVE-2024-1005,V,P,N,2024-01-01,S,A,2024-13-40,Unknown,,",
    ]
    path = tmp_path / "kev.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    got, skipped = read(path)
    assert [(e.cve_id, e.known_ransomware, e.due_date) for e in got] == [
        ("CVE-2024-1000", None, date(2024, 1, 22)),
        ("CVE-2024-1002", True, None),
    ]
    assert [(s.where, s.reason) for s in skipped] == [
        ("line 3, column dateAdded", "not a date (YYYY-MM-DD): 'yesterday'"),
        ("line 6, column cveID", "not a CVE id: 'not-a-cve'"),
        ("line 7, column dateAdded", "missing"),
        ("line 8, column dueDate", "not a date (YYYY-MM-DD): '2024-13-40'"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "where", "reason"),
    [
        ("kev.json", b'{"catalogVersion": "1", "count": 0}', "$", "no vulnerabilities array"),
        ("kev.json", b'{"vulnerabilities": "none"}', "$.vulnerabilities", "not a KEV catalog"),
        ("kev.json", b"[1, 2", "$[2]", "not valid JSON"),
        ("kev.csv", b"cve,epss,percentile\nCVE-2024-1000,0.1,0.2\n", "line 1", "not the KEV"),
        ("kev.csv", b"", "line 1", "not the KEV"),
        ("kev.csv", b"\x00\x01binary", "line 1", "not"),
    ],
)
def test_files_that_are_not_kev(
    tmp_path: Path, name: str, content: bytes, where: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FeedFormatError) as caught:
        list(READER.read(path, lambda s: None))
    assert (caught.value.path, caught.value.where) == (path, where)
    assert reason in caught.value.reason


def test_truncated_json_keeps_the_entries_before_the_break(tmp_path: Path) -> None:
    text = json.dumps(catalog([entry(f"CVE-2024-{1000 + n}") for n in range(6)]))
    path = tmp_path / "kev.json"
    path.write_text(text[: text.index('"CVE-2024-1004"')], encoding="utf-8")
    got: list[KevEntry] = []
    with pytest.raises(FeedFormatError) as caught:
        got.extend(READER.read(path, lambda s: None))
    assert len(got) == 4
    assert caught.value.where == "$.vulnerabilities[4]"


def test_detect_needs_the_catalog_shape() -> None:
    assert READER.detect(b'{"title": "x", "catalogVersion": "2025.08.25", "vulnerabilities": [')
    assert READER.detect(b"cveID,vendorProject,product,vulnerabilityName,dateAdded\r\n")
    assert not READER.detect(b'{"catalogVersion": "2025.08.25"')  # no entry in sight
    assert not READER.detect(b"cve,epss,percentile\n")
    assert not READER.detect(b'{"vulnerabilities": [{"cve": {"id": "CVE-2024-0001"}}]}')
    assert not READER.detect(b"")
