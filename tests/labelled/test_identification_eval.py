"""Identification measured on the labelled set: the shared real captures (labels read with
tshark, ``shared_captures.yaml``) and the captures of real peers recorded inside network
namespaces (``recorded_peers.py``). The report is printed; the asserted floors are what the
shipped rules reach (raise them when the rules improve, never lower them to pass).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from labelled.recorded_peers import document

from medsec.service.evaluate import Evaluation, evaluate, load_labels

from netns import require_netns, skip_or_fail
from tests_support.peers import PeersUnavailable, record_all

HERE = Path(__file__).parent

CATEGORY_ACCURACY = 0.96
"""Share of labelled hosts whose category is right, on the whole labelled set (issue 3 asks
for at least 0.95; the shipped rules and dissectors reach 0.974 today, 150 of 154)."""
PRECISION_FLOOR = {"category": 0.99, "vendor": 0.97, "os": 0.99, "software": 0.99}
"""Of the values medsec states for labelled hosts, at least this share is right."""
SHARED_CATEGORY_ACCURACY = 0.96
"""The same on the third-party captures alone (0.973 today, 142 of 146)."""


def report(result: Evaluation, title: str) -> str:
    lines = [f"{title}: {result.hosts} hosts in {result.captures} captures"]
    for name, s in result.scores.items():
        p = f"{s.precision:.1%}" if s.precision is not None else "-"
        r = f"{s.recall:.1%}" if s.recall is not None else "-"
        lines.append(
            f"  {name:<11} labelled {s.labelled:>4}  reported {s.reported:>4}  "
            f"correct {s.correct:>4}  precision {p:>6}  recall {r:>6}"
        )
    accuracy = result.category_accuracy
    lines.append(f"  category correct: {accuracy:.1%}" if accuracy is not None else "")
    lines += [
        f"  miss: {Path(m.capture).name} {m.host} {m.attribute}: "
        f"expected {m.expected!r}, got {m.got!r}"
        for m in result.misses
    ]
    return "\n".join(lines)


def cases_of(document_: Mapping[str, Any], base: Path) -> Iterable[tuple[Path, Mapping[str, Any]]]:
    return [(base / str(case["capture"]), case) for case in document_["cases"]]


def check(result: Evaluation, accuracy_floor: float) -> None:
    assert not result.unreadable
    assert result.category_accuracy is not None
    assert result.category_accuracy >= accuracy_floor, "category accuracy below the floor"
    for name, floor in PRECISION_FLOOR.items():
        precision = result.scores[name].precision
        assert precision is None or precision >= floor, f"{name} precision below {floor}"


def test_shared_captures(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = evaluate(load_labels(HERE / "shared_captures.yaml", shared_data))
    with capsys.disabled():
        print("\n" + report(result, "identification, shared captures"))  # noqa: T201 (the suite prints it)
    check(result, SHARED_CATEGORY_ACCURACY)


@pytest.mark.netns
def test_whole_labelled_set(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_netns()
    try:
        recorded = record_all(tmp_path)
    except PeersUnavailable as exc:
        skip_or_fail(str(exc))
    cases = [
        *load_labels(HERE / "shared_captures.yaml", shared_data),
        *cases_of(document(recorded), Path("/")),
    ]
    result = evaluate(cases)
    with capsys.disabled():
        print("\n" + report(result, "identification, whole labelled set"))  # noqa: T201 (the suite prints it)
    check(result, CATEGORY_ACCURACY)
