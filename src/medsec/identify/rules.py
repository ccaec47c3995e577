"""Fingerprint rules: YAML files validated by ``rules/schemas/fingerprint.schema.json``.

A rule says: when an observation of a kind has fields matching all conditions, its subject
(the sender, or the receiver) has these attribute values, with this weight (1-99: how much
the fact alone convinces). Values may quote regex groups of the conditions, ``{name}``.

Shipped rules live in ``medsec/rules/fingerprints/``; a site directory adds rules and
overrides shipped ones with the same id (Zeek's base/site split).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from medsec.model.errors import RuleError

Op = Literal["equals", "prefix", "contains", "regex", "in", "exists"]
ATTRIBUTES = (
    "category",
    "vendor",
    "model",
    "os",
    "os_version",
    "software",
    "software_version",
    "firmware_version",
    "modality",
    "clinical_function",
)
_TEMPLATE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Condition:
    observation: str
    field: str
    op: Op
    value: Any = None
    ignore_case: bool = False
    pattern: re.Pattern[str] | None = None
    all_items: bool = False

    def match(self, actual: object) -> dict[str, str] | None:
        """Regex groups (empty for other ops) when ``actual`` satisfies the condition."""
        if self.op == "exists":
            return {} if actual not in (None, "", ()) else None
        if actual is None:
            return None
        if isinstance(actual, tuple | list):
            results = [self.match(item) for item in actual]
            if self.all_items:
                if not results or any(r is None for r in results):
                    return None
                return results[0]
            return next((r for r in results if r is not None), None)
        text = str(actual)
        want = self.value
        if self.ignore_case and isinstance(want, str):
            text, want = text.lower(), want.lower()
        if self.op == "equals":
            return {} if text == str(want) else None
        if self.op == "prefix":
            return {} if text.startswith(str(want)) else None
        if self.op == "contains":
            return {} if str(want) in text else None
        if self.op == "in":
            options = [str(v).lower() if self.ignore_case else str(v) for v in want]
            return {} if text in options else None
        assert self.pattern is not None
        m = self.pattern.search(str(actual))
        if m is None:
            return None
        return {k: v for k, v in m.groupdict().items() if v is not None}


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    conditions: tuple[Condition, ...]
    subject: Literal["src", "dst"]
    weight: int
    yields: tuple[tuple[str, str], ...]
    reference: str
    source: str
    """The file the rule came from."""

    @property
    def observation(self) -> str:
        return self.conditions[0].observation

    def values(self, groups: Mapping[str, str]) -> list[tuple[str, str]]:
        """The attribute values, templates filled from regex groups; unfillable ones dropped.

        ``software`` and ``software_version`` become one ``software`` value ``name/version``
        (or ``name``): a host runs several products, each with its own version.
        """
        out = []
        for attribute, template in self.yields:
            missing = False

            def fill(m: re.Match[str]) -> str:
                nonlocal missing
                if m.group(1) not in groups:
                    missing = True
                    return ""
                return groups[m.group(1)]

            value = _TEMPLATE.sub(fill, template).strip()
            if not missing and value:
                out.append((attribute, value))
        found = dict(out)
        if "software_version" in found:
            out.remove(("software_version", found["software_version"]))
            if "software" in found:
                out.remove(("software", found["software"]))
                out.append(("software", f"{found['software']}/{found['software_version']}"))
        return out


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files("medsec.rules").joinpath("schemas/fingerprint.schema.json")
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


def parse_rules(document: object, source: str) -> list[Rule]:
    """Rules of one parsed YAML document; ``RuleError`` naming the file and the problem."""
    try:
        jsonschema.validate(document, _schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise RuleError(f"{source}: {where}: {exc.message}") from exc
    assert isinstance(document, dict)
    rules = []
    for raw in document["rules"]:
        conditions = []
        kinds = {c["observation"] for c in raw["when"]}
        if len(kinds) != 1:
            raise RuleError(f"{source}: rule {raw['id']}: all conditions must name one observation")
        for c in raw["when"]:
            pattern = None
            if c["op"] == "regex":
                try:
                    pattern = re.compile(
                        str(c["value"]), re.IGNORECASE if c.get("ignore_case") else 0
                    )
                except re.error as exc:
                    raise RuleError(f"{source}: rule {raw['id']}: bad regex: {exc}") from exc
            conditions.append(
                Condition(
                    observation=c["observation"],
                    field=c["field"],
                    op=c["op"],
                    value=c.get("value"),
                    ignore_case=bool(c.get("ignore_case", False)),
                    pattern=pattern,
                    all_items=bool(c.get("all_items", False)),
                )
            )
        rules.append(
            Rule(
                id=raw["id"],
                conditions=tuple(conditions),
                subject=raw.get("subject", "src"),
                weight=int(raw["weight"]),
                yields=tuple((k, str(v)) for k, v in raw["yields"].items()),
                reference=raw["provenance"]["reference"],
                source=source,
            )
        )
    return rules


def load_file(path: Path) -> list[Rule]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleError(f"{path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML: {exc}") from exc
    return parse_rules(document, str(path))


def shipped_rule_files() -> list[Path]:
    base = resources.files("medsec.rules").joinpath("fingerprints")
    return sorted(Path(str(p)) for p in base.iterdir() if p.name.endswith((".yaml", ".yml")))


def load_rules(site_dirs: Iterable[Path] = ()) -> list[Rule]:
    """Shipped rules, then each site directory's; a later rule replaces one of the same id.

    Ids must be unique within the shipped set and within each site directory.
    """
    by_id: dict[str, Rule] = {}
    for group in [shipped_rule_files(), *(sorted(Path(d).glob("*.y*ml")) for d in site_dirs)]:
        seen: dict[str, str] = {}
        for path in group:
            for rule in load_file(path):
                if rule.id in seen:
                    raise RuleError(f"{path}: rule id {rule.id} also in {seen[rule.id]}")
                seen[rule.id] = str(path)
                by_id[rule.id] = rule
    return list(by_id.values())


def index_by_observation(rules: Sequence[Rule]) -> dict[str, list[Rule]]:
    index: dict[str, list[Rule]] = {}
    for rule in rules:
        index.setdefault(rule.observation, []).append(rule)
    return index
