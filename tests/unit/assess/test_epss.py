"""FIRST EPSS reader on files built after FIRST's daily CSV format (there is no real EPSS file
in shared/data): with and without the model comment, gzip-compressed, reordered columns, bad
rows, and files that are not EPSS."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest

from medsec.assess.vulns.cve5 import Cve5Reader
from medsec.assess.vulns.epss import EpssReader
from medsec.assess.vulns.interface import HEAD_BYTES, FeedFormatError, SkippedRecord
from medsec.assess.vulns.kev import KevReader
from medsec.assess.vulns.nvd import NvdReader
from medsec.model.vulns import EpssScore

READER = EpssReader()
OTHERS = (NvdReader(), Cve5Reader(), KevReader())

COMMENT = "#model_version:v2025.03.14,score_date:2025-06-01T00:00:00+0000"
ROWS = [
    "cve,epss,percentile",
    "CVE-1999-0001,0.01025,0.76945",
    "CVE-2019-0708,0.94440,0.99970",
    "CVE-2022-2119,0.00162,0.38311",
    "CVE-2022-43272,0.00091,0.26470",
]


def read(path: Path) -> tuple[list[EpssScore], list[SkippedRecord]]:
    skipped: list[SkippedRecord] = []
    return list(READER.read(path, skipped.append)), skipped


def write(path: Path, lines: list[str], *, compress: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def test_daily_file_with_model_comment(tmp_path: Path) -> None:
    path = write(tmp_path / "epss_scores-2025-06-01.csv", [COMMENT, *ROWS])
    head = path.read_bytes()[:HEAD_BYTES]
    assert READER.detect(head) and not any(other.detect(head) for other in OTHERS)
    scores, skipped = read(path)
    assert skipped == []
    assert scores[1] == EpssScore("CVE-2019-0708", 0.9444, 0.9997, date(2025, 6, 1), "v2025.03.14")
    assert [s.cve_id for s in scores] == [
        "CVE-1999-0001",
        "CVE-2019-0708",
        "CVE-2022-2119",
        "CVE-2022-43272",
    ]


def test_gzip_file_is_detected_from_its_raw_head_and_streamed(tmp_path: Path) -> None:
    lines = [COMMENT, "cve,epss,percentile"]
    lines += [f"CVE-2024-{n:05d},0.{n:05d},0.{99999 - n:05d}" for n in range(20_000)]
    path = write(tmp_path / "epss_scores-2025-06-01.csv.gz", lines, compress=True)
    head = path.read_bytes()[:HEAD_BYTES]
    assert head[:2] == b"\x1f\x8b"
    assert READER.detect(head) and not any(other.detect(head) for other in OTHERS)
    scores, skipped = read(path)
    assert (len(scores), skipped) == (20_000, [])
    assert scores[-1] == EpssScore("CVE-2024-19999", 0.19999, 0.8, date(2025, 6, 1), "v2025.03.14")


def test_without_comment_and_with_reordered_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "old.csv", ["percentile,cve,epss", "0.5,CVE-2021-44228,0.97"])
    assert READER.detect(path.read_bytes()) is False  # only the canonical header is recognised
    scores, _ = read(path)
    assert scores == [EpssScore("CVE-2021-44228", 0.97, 0.5, None, None)]
    path = write(tmp_path / "plain.csv", ROWS)
    assert READER.detect(path.read_bytes())
    assert [s.scored_on for s in read(path)[0]] == [None] * 4


def test_comment_with_an_unreadable_date_keeps_the_model(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", ["#model_version:v2023.03.01,score_date:someday", *ROWS])
    scores, _ = read(path)
    assert (scores[0].model_version, scores[0].scored_on) == ("v2023.03.01", None)


def test_bad_rows_are_skipped_with_their_line(tmp_path: Path) -> None:
    lines = [
        COMMENT,
        "cve,epss,percentile",
        "CVE-2024-0001,0.1,0.2",
        "CVE-2024-0002,1.5,0.2",
        "CVE-2024-0003,0.1,nan",
        "CVE-2024-0004,abc,0.2",
        "GHSA-1234,0.1,0.2",
        "CVE-2024-0006,0.1",
        "",
        '"CVE-2024-0008","0.3","0.4"',
        "CVE-2024-0009,-0.0001,0.4",
    ]
    scores, skipped = read(write(tmp_path / "e.csv", lines))
    assert [s.cve_id for s in scores] == ["CVE-2024-0001", "CVE-2024-0008"]
    assert [(s.where, s.reason) for s in skipped] == [
        ("line 4, column epss", "'1.5' is not between 0 and 1"),
        ("line 5, column percentile", "'nan' is not between 0 and 1"),
        ("line 6, column epss", "not a number: 'abc'"),
        ("line 7, column cve", "not a CVE id: 'GHSA-1234'"),
        ("line 8", "2 fields, expected 3"),
        ("line 11, column epss", "'-0.0001' is not between 0 and 1"),
    ]


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        (b"", "line 1", "empty file"),
        (COMMENT.encode() + b"\n", "line 2", "no EPSS header"),
        (b"cve,score\nCVE-2024-0001,0.1\n", "line 1", "not the EPSS header"),
        (COMMENT.encode() + b"\ncveID,vendorProject\n", "line 2", "not the EPSS header"),
        (b'{"cve": 1}', "line 1", "not the EPSS header"),
        (b"x" * 2_000_000, "line 1", "longer than"),
    ],
)
def test_files_that_are_not_epss(tmp_path: Path, content: bytes, where: str, reason: str) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(content)
    with pytest.raises(FeedFormatError) as caught:
        list(READER.read(path, lambda s: None))
    assert (caught.value.path, caught.value.where) == (path, where)
    assert reason in caught.value.reason


def test_truncated_gzip_keeps_the_rows_before_the_break(tmp_path: Path) -> None:
    lines = [COMMENT, "cve,epss,percentile"]
    lines += [f"CVE-2024-{n:05d},0.{n:05d},0.5" for n in range(50_000)]
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    got: list[EpssScore] = []
    with pytest.raises(FeedFormatError) as caught:
        got.extend(READER.read(path, lambda s: None))
    assert 0 < len(got) < 50_000
    assert got == [
        EpssScore(f"CVE-2024-{n:05d}", float(f"0.{n:05d}"), 0.5, date(2025, 6, 1), "v2025.03.14")
        for n in range(len(got))
    ]
    assert caught.value.where.startswith("line ")
    assert "cannot read" in caught.value.reason


def test_detect() -> None:
    assert READER.detect(COMMENT.encode())
    assert READER.detect(b"cve,epss,percentile\r\nCVE-1999-0001,0.1,0.2")
    assert READER.detect(gzip.compress(b"cve,epss,percentile\nCVE-1999-0001,0.1,0.2\n"))
    assert not READER.detect(b"cve,epss\n")
    assert not READER.detect(b"cveID,vendorProject,product,dateAdded\n")
    assert not READER.detect(b"\x1f\x8b\x08garbage")
    assert not READER.detect(b"")
