"""When a finding must be mitigated and remediated: the HICP response timeframes.

The rules are data (``rules/vulns/response_timeframes.yaml``, validated by
``rules/schemas/response_timeframes.schema.json``); a site changes them with a file of the
same form at ``<site rule directory>/vulns/response_timeframes.yaml`` (the directories of
``identify.rules`` / ``$MEDSEC_RULES``), whose keys replace the shipped ones.

A vulnerability of a device is an **uncontrolled risk** when any of these holds (each can be
switched off by the data):

- its CVSS base score is at least 7.0 (``uncontrolled.cvss_at_least``);
- it is known to be exploited (CISA KEV);
- the device has patient-safety impact: a medical device of FDA class II or III, or a
  medical device whose class is unknown (``patient_safety``; a class I device is not).

Otherwise it is a **controlled risk**. Deadlines:

- uncontrolled: vendor communication and an interim mitigation within 30 days, remediation
  within 60 days, counted from the vulnerability's **disclosure** (the CVE's publication or
  the advisory's initial release, the earlier). When the disclosure date is unknown they
  count from the day medsec first saw the finding (``first seen``): a deadline from a date
  nobody knows would be no deadline at all, and counting from first sight never makes an
  old vulnerability look newer than medsec knows it to be;
- controlled: remediation at the next routine maintenance, taken as a fixed interval
  (180 days) from first seen; no interim mitigation is required;
- a KEV entry's due date caps the remediation deadline (the earlier of the two), and the
  mitigation deadline is never later than the remediation deadline.

All functions here are pure: dates in, dates out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml
from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from medsec.model.errors import RuleError

CountedFrom = Literal["disclosure", "first_seen"]

SHIPPED = "vulns/response_timeframes.yaml"
"""The shipped timeframes, relative to ``medsec.rules``; a site file has the same path
inside a site rule directory."""

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeframes:
    """The response timeframes in force (shipped, with a site's changes applied)."""

    uncontrolled_cvss: float
    """A CVSS base score at least this makes the risk uncontrolled."""
    kev_uncontrolled: bool
    """A known exploited vulnerability (KEV) is an uncontrolled risk."""
    patient_safety_uncontrolled: bool
    """A vulnerability of a device with patient-safety impact is an uncontrolled risk."""
    mitigate_days: int
    """Uncontrolled: vendor communication and interim mitigation within this many days."""
    remediate_days: int
    """Uncontrolled: remediation within this many days."""
    uncontrolled_from: CountedFrom
    routine_maintenance_days: int
    """Controlled: the interval to the next routine maintenance."""
    controlled_from: CountedFrom
    kev_due_caps: bool
    """A KEV due date earlier than the deadline replaces it."""
    fda_classes: tuple[int, ...]
    """FDA classes of medical devices with patient-safety impact."""
    medical_without_class: bool
    """A medical device of unknown FDA class has patient-safety impact."""
    sources: tuple[str, ...] = ()
    """The files the values came from, shipped first."""


# -- loading -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files("medsec.rules").joinpath("schemas/response_timeframes.schema.json")
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


def _check(document: Any, source: str) -> dict[str, Any]:
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(_schema()).iter_errors(document)
    )
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise RuleError(f"{source}: {where}: {error.message}")
    assert isinstance(document, dict)
    return document


def _read(path: Path | Any, source: str) -> dict[str, Any]:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise RuleError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise RuleError(f"{source}: not valid YAML: {exc}") from exc
    return _check(document if document is not None else {}, source)


def _merged(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """``change`` over ``base``, section by section (a site file names only what it changes)."""
    out = dict(base)
    for key, value in change.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def parse_timeframes(document: Mapping[str, Any], sources: tuple[str, ...]) -> Timeframes:
    """Timeframes from a complete (merged) document; ``RuleError`` if a value is missing."""
    try:
        uncontrolled = document["uncontrolled"]
        controlled = document["controlled"]
        safety = document["patient_safety"]
        found = Timeframes(
            uncontrolled_cvss=float(uncontrolled["cvss_at_least"]),
            kev_uncontrolled=bool(uncontrolled["kev"]),
            patient_safety_uncontrolled=bool(uncontrolled["patient_safety"]),
            mitigate_days=int(uncontrolled["mitigate_days"]),
            remediate_days=int(uncontrolled["remediate_days"]),
            uncontrolled_from=uncontrolled["counted_from"],
            routine_maintenance_days=int(controlled["remediate_days"]),
            controlled_from=controlled["counted_from"],
            kev_due_caps=bool(document["kev"]["due_date_caps"]),
            fda_classes=tuple(int(c) for c in safety["fda_classes"]),
            medical_without_class=bool(safety["medical_without_class"]),
            sources=sources,
        )
    except KeyError as exc:
        raise RuleError(f"{' + '.join(sources)}: no value for {exc.args[0]!r}") from exc
    if found.mitigate_days > found.remediate_days:
        raise RuleError(
            f"{' + '.join(sources)}: uncontrolled/mitigate_days ({found.mitigate_days}) is "
            f"later than remediate_days ({found.remediate_days})"
        )
    return found


def load_timeframes(site_dirs: Iterable[Path] = ()) -> Timeframes:
    """The shipped timeframes, then each site directory's ``vulns/response_timeframes.yaml``
    (when present) over them, in order."""
    shipped = resources.files("medsec.rules").joinpath(SHIPPED)
    document = _read(shipped, SHIPPED)
    sources = [SHIPPED]
    for directory in site_dirs:
        path = Path(directory) / SHIPPED
        if path.is_file():
            document = _merged(document, _read(path, str(path)))
            sources.append(str(path))
    return parse_timeframes(document, tuple(sources))


@lru_cache(maxsize=1)
def shipped_timeframes() -> Timeframes:
    return load_timeframes()


# -- severity ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Score:
    """A CVSS base score computed from a vector with the ``cvss`` library."""

    version: str
    """``2.0``, ``3.0``, ``3.1`` or ``4.0``."""
    base_score: float
    severity: str
    """``NONE``, ``LOW``, ``MEDIUM``, ``HIGH`` or ``CRITICAL``."""


_CVSS_ERRORS = (CVSSError, ValueError, KeyError, IndexError, TypeError, ZeroDivisionError)


def score_vector(vector: str) -> Score | None:
    """Score a CVSS v2, v3.x or v4.0 vector; None when it is no valid vector."""
    text = vector.strip()
    try:
        if text.startswith("CVSS:4.0/"):
            v4 = CVSS4(text)
            return Score("4.0", float(v4.base_score), str(v4.severity).upper())
        if text.startswith(("CVSS:3.1/", "CVSS:3.0/")):
            v3 = CVSS3(text)
            return Score(text[5:8], float(v3.base_score), str(v3.severities()[0]).upper())
        v2 = CVSS2(text)
        return Score("2.0", float(v2.base_score), str(v2.severities()[0]).upper())
    except _CVSS_ERRORS:
        return None


# -- classification ----------------------------------------------------------------------------

_ROMAN = {1: "I", 2: "II", 3: "III"}


def patient_safety_impact(
    medical: bool, fda_class: int | None, timeframes: Timeframes
) -> str | None:
    """Why the device has patient-safety impact, or None when it has none."""
    if not medical:
        return None
    if fda_class is None:
        return "medical device (FDA class unknown)" if timeframes.medical_without_class else None
    if fda_class in timeframes.fda_classes:
        return f"medical device of FDA class {_ROMAN.get(fda_class, str(fda_class))}"
    return None


@dataclass(frozen=True, slots=True)
class RiskClass:
    uncontrolled: bool
    reasons: tuple[str, ...]
    """Why uncontrolled (each criterion met), or why controlled."""


def classify(
    *,
    cvss_score: float | None,
    kev: bool,
    patient_safety: str | None,
    timeframes: Timeframes,
) -> RiskClass:
    """Uncontrolled (CVSS at or above the threshold, KEV, patient-safety impact) or
    controlled, with the reasons."""
    reasons: list[str] = []
    if cvss_score is not None and cvss_score >= timeframes.uncontrolled_cvss:
        reasons.append(f"CVSS {cvss_score:.1f} >= {timeframes.uncontrolled_cvss:.1f}")
    if kev and timeframes.kev_uncontrolled:
        reasons.append("known exploited (CISA KEV)")
    if patient_safety is not None and timeframes.patient_safety_uncontrolled:
        reasons.append(f"patient safety: {patient_safety}")
    if reasons:
        return RiskClass(True, tuple(reasons))
    score = "no CVSS score" if cvss_score is None else f"CVSS {cvss_score:.1f}"
    return RiskClass(False, (f"{score}, not known exploited, no patient-safety impact",))


# -- deadlines ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deadlines:
    mitigation: date | None
    """Vendor communication and interim mitigation due (None for a controlled risk)."""
    remediation: date
    basis: str
    """How the dates were reached, in one sentence."""


def response_deadlines(
    risk: RiskClass,
    *,
    disclosed: date | None,
    first_seen: date,
    kev_due: date | None,
    timeframes: Timeframes,
) -> Deadlines:
    """The mitigation and remediation deadlines of a finding."""
    counted_from = timeframes.uncontrolled_from if risk.uncontrolled else timeframes.controlled_from
    if counted_from == "disclosure" and disclosed is not None:
        start, named = disclosed, f"disclosure {disclosed.isoformat()}"
    elif counted_from == "disclosure":
        start, named = first_seen, f"first seen {first_seen.isoformat()} (disclosure unknown)"
    else:
        start, named = first_seen, f"first seen {first_seen.isoformat()}"
    mitigation: date | None
    if risk.uncontrolled:
        mitigation = start + timedelta(days=timeframes.mitigate_days)
        remediation = start + timedelta(days=timeframes.remediate_days)
        basis = (
            f"uncontrolled risk: mitigation within {timeframes.mitigate_days} days and "
            f"remediation within {timeframes.remediate_days} days of {named}"
        )
    else:
        mitigation = None
        remediation = start + timedelta(days=timeframes.routine_maintenance_days)
        basis = (
            f"controlled risk: remediation at the next routine maintenance, "
            f"{timeframes.routine_maintenance_days} days from {named}"
        )
    if kev_due is not None and timeframes.kev_due_caps and kev_due < remediation:
        remediation = kev_due
        basis += f"; CISA KEV due date {kev_due.isoformat()} is earlier"
    if mitigation is not None and mitigation > remediation:
        mitigation = remediation
    return Deadlines(mitigation, remediation, basis)


def overdue(
    status: str,
    *,
    due_mitigation: date | None,
    due_remediation: date | None,
    accepted_until: date | None,
    as_of: date,
) -> tuple[str, ...]:
    """Which deadlines of a finding in ``status`` have passed on ``as_of`` (a deadline is
    met on its day): ``mitigation`` (open findings), ``remediation`` (open and mitigated),
    ``acceptance`` (a risk acceptance whose end date has passed: due for review)."""
    passed: list[str] = []
    if status == "open" and due_mitigation is not None and due_mitigation < as_of:
        passed.append("mitigation")
    if status in ("open", "mitigated") and due_remediation is not None and due_remediation < as_of:
        passed.append("remediation")
    if status == "risk_accepted" and accepted_until is not None and accepted_until < as_of:
        passed.append("acceptance")
    return tuple(passed)
