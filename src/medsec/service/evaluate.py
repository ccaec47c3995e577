"""``medsec eval``: identification measured against a labelled set of captures.

A labels file (format: ``tests/labelled/README.md``) names captures and, per host, the
identity a person established from the packets. Each capture is discovered into its own
in-memory inventory and identified - with hosts outside the default site networks taken as
devices too (named by address), since lab captures use public addresses - and the devices
are compared with the labels.

Per attribute: *precision* = correct / values medsec reported for labelled hosts that carry
that attribute in their label, *recall* = correct / labelled values. A missing category counts
as wrong. Values compare case-insensitively, without punctuation and company suffixes
(Inc, Ltd, GmbH ...). ``software`` is a list: each labelled product is a value; a labelled
version must equal the reported one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from medsec.identify.rules import Rule, load_rules
from medsec.inventory import Store
from medsec.model.config import Settings
from medsec.model.errors import ConfigError, MedsecError
from medsec.service.devices import device_json, identify_inventory
from medsec.service.discover import discover_file

ATTRIBUTES = ("category", "vendor", "model", "os", "os_version", "modality", "software")
_SUFFIXES = {
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "gmbh",
    "co",
    "corp",
    "corporation",
    "llc",
    "ag",
    "sa",
    "bv",
    "nv",
    "plc",
    "kg",
    "company",
}


def normalise(value: object) -> str:
    words = re.sub(r"[^0-9a-z]+", " ", str(value).casefold()).split()
    while words and words[-1] in _SUFFIXES:
        words.pop()
    return " ".join(words)


@dataclass
class Score:
    labelled: int = 0
    reported: int = 0
    correct: int = 0

    @property
    def precision(self) -> float | None:
        return self.correct / self.reported if self.reported else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None


@dataclass(frozen=True, slots=True)
class Miss:
    capture: str
    host: str
    attribute: str
    expected: str
    got: str | None


@dataclass
class Evaluation:
    scores: dict[str, Score] = field(default_factory=lambda: {a: Score() for a in ATTRIBUTES})
    misses: list[Miss] = field(default_factory=list)
    captures: int = 0
    hosts: int = 0
    unreadable: list[str] = field(default_factory=list)

    @property
    def category_accuracy(self) -> float | None:
        return self.scores["category"].recall

    def as_json(self) -> dict[str, Any]:
        return {
            "captures": self.captures,
            "hosts": self.hosts,
            "category_accuracy": self.category_accuracy,
            "attributes": {
                a: {
                    "labelled": s.labelled,
                    "reported": s.reported,
                    "correct": s.correct,
                    "precision": s.precision,
                    "recall": s.recall,
                }
                for a, s in self.scores.items()
            },
            "misses": [_miss(m) for m in self.misses],
            "unreadable": self.unreadable,
        }


def _miss(m: Miss) -> dict[str, Any]:
    return {
        "capture": m.capture,
        "host": m.host,
        "attribute": m.attribute,
        "expected": m.expected,
        "got": m.got,
    }


def load_labels(path: Path, root: Path | None = None) -> list[tuple[Path, Mapping[str, Any]]]:
    """(capture path, case) pairs of a labels file; ``root`` overrides the file's ``root``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read labels {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"labels {path} are not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
        raise ConfigError(f"labels {path}: expected a mapping with a 'cases' list")
    base = root or _root(path, str(document.get("root", "here")))
    return [(base / str(case["capture"]), case) for case in document["cases"]]


def _root(path: Path, root: str) -> Path:
    if root == "here":
        return path.parent
    if root == "shared":
        for parent in path.resolve().parents:
            candidate = parent / "shared" / "data"
            if candidate.is_dir():
                return candidate
        raise ConfigError(f"labels {path}: no shared/data directory above it; pass --root")
    return (path.parent / root).resolve()


def evaluate(
    cases: Iterable[tuple[Path, Mapping[str, Any]]],
    *,
    rules: Sequence[Rule] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    rules = list(rules) if rules is not None else load_rules()
    settings = Settings()
    result = Evaluation()
    for capture, case in cases:
        if progress:
            progress(capture.name)
        with Store.open("sqlite://") as store:
            try:
                discover_file(capture, store, settings, dissect=True)
            except MedsecError as exc:
                result.unreadable.append(f"{capture}: {exc}")
                continue
            identify_inventory(store, settings, rules, external_devices=True)
            devices = [device_json(d) for d in store.devices()]
        result.captures += 1
        for labelled in case.get("devices", []):
            result.hosts += 1
            _score(result, str(capture), labelled, devices)
    return result


def _find(
    host: Mapping[str, Any], devices: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    mac = str(host.get("mac", "")).lower() or None
    ip = host.get("ip")
    if mac is not None:
        for d in devices:
            if mac in d["macs"] and (ip is None or ip in d["ips"] or not d["ips"]):
                return d
    if ip is not None:
        holders = [d for d in devices if ip in d["ips"]]
        if holders:
            return max(holders, key=lambda d: (d["category"] != "unknown", len(d["protocols"])))
    return None


def _score(
    result: Evaluation,
    capture: str,
    labelled: Mapping[str, Any],
    devices: Sequence[Mapping[str, Any]],
) -> None:
    host = labelled.get("host", {})
    name = " ".join(f"{k}={v}" for k, v in host.items())
    found = _find(host, devices)
    expect: Mapping[str, Any] = labelled.get("expect", {})
    for attribute, want in expect.items():
        if attribute not in result.scores:
            continue
        score = result.scores[attribute]
        if attribute == "software":
            reported = {
                normalise(s["name"]): (s.get("version") or None)
                for s in (found or {}).get("software", [])
            }
            for entry in want if isinstance(want, list) else [want]:
                wanted_name, _, wanted_version = str(entry).partition("/")
                score.labelled += 1
                key = normalise(wanted_name)
                got_version = reported.get(key)
                if key in reported:
                    score.reported += 1
                    if not wanted_version or normalise(wanted_version) == normalise(
                        got_version or ""
                    ):
                        score.correct += 1
                        continue
                result.misses.append(
                    Miss(capture, name, "software", str(entry), _software_text(found))
                )
            continue
        score.labelled += 1
        got = (found or {}).get(attribute)
        if got in (None, "unknown"):
            result.misses.append(Miss(capture, name, attribute, str(want), None))
            continue
        score.reported += 1
        if normalise(got) == normalise(want):
            score.correct += 1
        else:
            result.misses.append(Miss(capture, name, attribute, str(want), str(got)))


def _software_text(found: Mapping[str, Any] | None) -> str | None:
    if not found or not found.get("software"):
        return None
    return ", ".join(
        f"{s['name']}/{s['version']}" if s.get("version") else str(s["name"])
        for s in found["software"]
    )
