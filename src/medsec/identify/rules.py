"""Fingerprint rules and device profiles: YAML files validated by JSON Schemas in
``rules/schemas/``.

A **rule** (``fingerprint.schema.json``, a file with a top-level ``rules:`` list) says: when an
observation of a kind has fields matching all conditions, its subject (the sender, or the
receiver) has these attribute values, with this weight (1-99: how much the fact alone
convinces). Values may quote regex groups of the conditions, ``{name}``.

A **profile** (``profile.schema.json``, a file with top-level ``vendor:`` and ``profiles:``)
describes one product line of one vendor (model, category, optionally modality, clinical
function and OS) and lists the fingerprints that recognise it. Each fingerprint compiles
into an ordinary ``Rule`` with id ``<profile id>.<n>`` (n from 1) that yields the profile's
vendor, model and category (or the subset its ``supports`` names) plus its own ``yields``.

Shipped rules live in ``medsec/rules/fingerprints/``, shipped profiles in
``medsec/rules/profiles/``; a site directory holds files of either form (told apart by their
top-level key), adds rules and overrides shipped ones with the same id (Zeek's base/site
split). A site profile replaces every rule of the shipped profile with its id.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
import referencing
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
PROFILE_ATTRIBUTES = ("vendor", "model", "category", "modality", "clinical_function", "os")
"""Attributes a profile states about its product line, in the order its rules yield them."""
CACHE_FORMAT = b"\x00rules/5"
"""Names the pickled form of ``Rule`` in the cache key (5: rules and conditions built by
their constructors; regexes as ``Pattern`` with the texts they need, all of them and one of
each group of alternatives)."""
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""``yaml.safe_load``'s loader, in C when libyaml is there (ten times faster)."""
_TEMPLATE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class Pattern:
    """A regular expression compiled when first used, behind a test of the text it needs.

    A rule base holds about a thousand; read back from its cache (a pickle keeps only their
    text, flags and required text), compiling all of them again would cost more than a
    capture tests. Most expressions also need some literal text (``^Acme (?P<v>\\d+)`` needs
    ``Acme ``, ``\\bAquilion\\b|\\bTSX-?\\d{3}`` one of ``Aquilion`` and ``TSX``): a value
    without it cannot match, and is answered without the expression - so of the expressions
    a capture's values reach, only those a value could match compile.
    """

    __slots__ = ("_compiled", "choices", "flags", "fold", "needs", "pattern")

    def __init__(
        self,
        pattern: str,
        flags: int = 0,
        compiled: re.Pattern[str] | None = None,
        needs: tuple[str, ...] | None = None,
        fold: bool = False,
        choices: tuple[tuple[str, ...], ...] = (),
    ):
        self.pattern = pattern
        self.flags = flags
        self._compiled = compiled
        self.needs: tuple[str, ...] | None = needs
        """Texts every match contains (lower-case with ``fold``); None: not known, test the
        expression itself."""
        self.fold = fold
        """The expression ignores case (by its flags or an inline ``(?i)``)."""
        self.choices = choices
        """Groups of texts (lower-case with ``fold``): every match contains one text of
        each group (alternatives, ``A|B``)."""

    @classmethod
    def compile(cls, pattern: str, flags: int = 0) -> Pattern:
        """Compiled now (``re.error`` for a bad expression); one object per expression, so
        rules that share one share its compilation."""
        return _compile(pattern, int(flags))

    @property
    def compiled(self) -> re.Pattern[str]:
        found = self._compiled
        if found is None:
            found = self._compiled = re.compile(self.pattern, self.flags)
        return found

    def search(self, text: str) -> re.Match[str] | None:
        needs = self.needs
        choices = self.choices
        if needs or choices:
            tested: str | None = text
            if self.fold:  # for other text Unicode case folding decides: ask the expression
                tested = text.lower() if text.isascii() else None
            if tested is not None:
                if needs:
                    for n in needs:
                        if n not in tested:
                            return None
                for group in choices:
                    for n in group:
                        if n in tested:
                            break
                    else:
                        return None
        return self.compiled.search(text)

    @property
    def groupindex(self) -> Mapping[str, int]:
        return self.compiled.groupindex

    def __reduce__(self) -> tuple[Any, ...]:
        return Pattern, (self.pattern, self.flags, None, self.needs, self.fold, self.choices)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pattern):
            return NotImplemented
        return (self.pattern, self.flags) == (other.pattern, other.flags)

    def __hash__(self) -> int:
        return hash((self.pattern, self.flags))

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r}, {self.flags})"


_Needed = tuple[list[str], list[tuple[str, ...]]]
"""Texts a match needs: each of the first, and one of each group of the second."""


def _needed_texts(
    compiled: re.Pattern[str],
) -> tuple[tuple[str, ...] | None, bool, tuple[tuple[str, ...], ...]]:
    """What every match of ``compiled`` holds (see ``_needed_in``): the texts it needs, as
    ``Pattern`` keeps them - lower-case when the expression ignores case (and whether it
    does) - and the groups of texts it needs one of. Nothing when the expression's flags
    make the test unsound."""
    try:
        from re import _constants, _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(compiled.pattern, compiled.flags)
        flags = parsed.state.flags
        all_of, any_of = _needed_in(list(parsed.data), _constants)
    except Exception:  # another Python's private parser: no shortcut
        return None, False, ()
    ignore_case = bool(flags & re.IGNORECASE)
    if flags & (re.LOCALE | re.VERBOSE) or (ignore_case and not flags & re.UNICODE):
        return None, ignore_case, ()
    if ignore_case:  # ASCII texts only, lower-cased: a value's other text asks the expression
        all_of = [t.lower() for t in all_of if t.isascii()]
        any_of = [tuple(t.lower() for t in g) for g in any_of if all(t.isascii() for t in g)]
    return tuple(dict.fromkeys(all_of)) or None, ignore_case, tuple(dict.fromkeys(any_of))


def _needed_in(items: Sequence[tuple[Any, Any]], c: Any) -> _Needed:
    """The texts every match of the sequence ``items`` (parsed by ``re._parser``) holds:
    runs of literal characters; an item that matches at least once (a group, a repeat of at
    least one) needs what its own items need; alternatives need one text of each
    alternative (if each needs some). Anything else needs nothing, which is always sound."""
    all_of: list[str] = []
    any_of: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, value in [*items, (None, None)]:
        if op is c.LITERAL:
            run.append(chr(value))
            continue
        if run:
            all_of.append("".join(run))
            run = []
        inner: _Needed | None = None
        if op is c.SUBPATTERN and not value[1] and not value[2]:  # no local flags
            inner = _needed_in(list(value[3]), c)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and value[0] >= 1:
            inner = _needed_in(list(value[2]), c)
        elif op is c.BRANCH:
            options: list[str] = []
            for alternative in value[1]:
                texts, groups = _needed_in(list(alternative), c)
                if texts:
                    options.append(max(texts, key=len))
                elif groups:
                    fewest: tuple[str, ...] = min(groups, key=len)
                    options.extend(fewest)
                else:
                    options = []  # an alternative needing nothing: the branch needs nothing
                    break
            if options:
                any_of.append(tuple(dict.fromkeys(options)))
        if inner is not None:
            all_of += inner[0]
            any_of += inner[1]
    return all_of, any_of


@lru_cache(maxsize=8192)
def _compile(pattern: str, flags: int) -> Pattern:
    compiled = re.compile(pattern, flags)
    needs, fold, choices = _needed_texts(compiled)
    return Pattern(pattern, flags, compiled, needs, fold, choices)


def _by_constructor(obj: Any) -> tuple[Any, ...]:
    """Pickled as a call of the dataclass with its fields in order: unpickling the rule
    cache then builds each object in one call instead of setting field after field from its
    state (1,338 rules: 10 -> 6 ms)."""
    return type(obj), tuple(getattr(obj, f.name) for f in fields(obj))


@dataclass(frozen=True, slots=True)
class Condition:
    observation: str
    field: str
    op: Op
    value: Any = None
    ignore_case: bool = False
    pattern: Pattern | None = None
    all_items: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        return _by_constructor(self)

    def match(self, actual: object) -> dict[str, str] | None:
        """Regex groups (empty for other ops) when ``actual`` satisfies the condition."""
        op = self.op
        if op == "exists":
            return {} if actual not in (None, "", ()) else None
        if type(actual) is not str:  # text, the common case, needs none of these tests
            if actual is None:
                return None
            if isinstance(actual, tuple | list):
                results = [self.match(item) for item in actual]
                if self.all_items:
                    if not results or any(r is None for r in results):
                        return None
                    return results[0]
                return next((r for r in results if r is not None), None)
            actual = str(actual)
        if op != "regex":  # (a regex ignores case by its flags: it reads the text as it is)
            text, want = actual, self.value
            if self.ignore_case and isinstance(want, str):
                text, want = text.lower(), want.lower()
            if op == "equals":
                return {} if text == str(want) else None
            if op == "prefix":
                return {} if text.startswith(str(want)) else None
            if op == "contains":
                return {} if str(want) in text else None
            if op == "in":
                options = [str(v).lower() if self.ignore_case else str(v) for v in want]
                return {} if text in options else None
        assert self.pattern is not None
        m = self.pattern.search(actual)
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
    profile: str | None = None
    """Id of the profile the rule was compiled from; None for a plain rule."""
    reviewed: str | None = None
    """The provenance's ``reviewed`` note (``YYYY-MM-DD checked: <where>`` or
    ``unverified``); None when the file gives none."""

    def __reduce__(self) -> tuple[Any, ...]:
        return _by_constructor(self)

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


@dataclass(frozen=True, slots=True)
class Profile:
    """One product line of one vendor, and the rules compiled from its fingerprints."""

    id: str
    vendor: str
    model: str
    category: str
    modality: str | None
    clinical_function: str | None
    os: str | None
    reference: str
    reviewed: str | None
    source: str
    rules: tuple[Rule, ...]


_SCHEMA_BASE = "https://medsec.example/schemas/"


@lru_cache(maxsize=4)
def _schema(name: str = "fingerprint") -> dict[str, Any]:
    text = resources.files("medsec.rules").joinpath(f"schemas/{name}.schema.json")
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=4)
def _validator(name: str) -> jsonschema.protocols.Validator:
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (
            f"{_SCHEMA_BASE}{other}.schema.json",
            referencing.Resource.from_contents(_schema(other)),
        )
        for other in ("fingerprint", "profile")
    )
    schema = _schema(name)
    cls = jsonschema.validators.validator_for(schema)
    validator: jsonschema.protocols.Validator = cls(schema, registry=registry)
    return validator


def _validate(document: Any, name: str, source: str) -> None:
    error = jsonschema.exceptions.best_match(_validator(name).iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise RuleError(f"{source}: {where}: {error.message}")


def _conditions(raw: Sequence[Mapping[str, Any]], source: str, rule_id: str) -> list[Condition]:
    kinds = {c["observation"] for c in raw}
    if len(kinds) != 1:
        raise RuleError(f"{source}: rule {rule_id}: all conditions must name one observation")
    conditions = []
    for c in raw:
        pattern = None
        if c["op"] == "regex":
            try:
                pattern = Pattern.compile(
                    str(c["value"]), re.IGNORECASE if c.get("ignore_case") else 0
                )
            except re.error as exc:
                raise RuleError(f"{source}: rule {rule_id}: bad regex: {exc}") from exc
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
    return conditions


def _check_templates(
    rule_id: str, conditions: Sequence[Condition], yields: Iterable[tuple[str, str]], source: str
) -> None:
    """Every ``{name}`` in a value must be a named group of some regex condition."""
    groups: set[str] = set()
    for c in conditions:
        if c.pattern is not None:
            groups.update(c.pattern.groupindex)
    for attribute, template in yields:
        for name in _TEMPLATE.findall(template):
            if name not in groups:
                raise RuleError(
                    f"{source}: rule {rule_id}: {attribute} uses {{{name}}}, "
                    "which no regex condition captures"
                )


def parse_rules(document: object, source: str) -> list[Rule]:
    """Rules of one parsed YAML document; ``RuleError`` naming the file and the problem.

    The document may be a rule file (``rules:``) or a profile file (``vendor:`` and
    ``profiles:``): a profile file gives the rules compiled from its profiles.
    """
    if isinstance(document, dict) and "profiles" in document and "rules" not in document:
        return [rule for profile in parse_profiles(document, source) for rule in profile.rules]
    _validate(document, "fingerprint", source)
    assert isinstance(document, dict)
    rules = []
    for raw in document["rules"]:
        conditions = _conditions(raw["when"], source, raw["id"])
        yields = tuple((k, str(v)) for k, v in raw["yields"].items())
        _check_templates(raw["id"], conditions, yields, source)
        rules.append(
            Rule(
                id=raw["id"],
                conditions=tuple(conditions),
                subject=raw.get("subject", "src"),
                weight=int(raw["weight"]),
                yields=yields,
                reference=raw["provenance"]["reference"],
                source=source,
                reviewed=raw["provenance"].get("reviewed"),
            )
        )
    return rules


def parse_profiles(document: object, source: str) -> list[Profile]:
    """Profiles of one parsed profile document, each with its compiled rules.

    ``RuleError`` names the file and the path of the problem (schema, regex, a category
    missing from the taxonomy, a template no condition fills).
    """
    from medsec.identify.taxonomy import categories

    _validate(document, "profile", source)
    assert isinstance(document, dict)
    vendor = str(document["vendor"])
    known = categories()
    profiles = []
    seen: set[str] = set()
    for i, raw in enumerate(document["profiles"]):
        pid = raw["id"]
        if pid in seen:
            raise RuleError(f"{source}: profiles/{i}: profile id {pid} appears twice")
        seen.add(pid)
        if raw["category"] not in known:
            raise RuleError(
                f"{source}: profiles/{i}/category: {raw['category']!r} is not in "
                "taxonomy/categories.yaml"
            )
        stated = {"vendor": vendor, **{a: raw[a] for a in PROFILE_ATTRIBUTES if a in raw}}
        provenance = raw["provenance"]
        rules = []
        for n, fp in enumerate(raw["match"], start=1):
            rule_id = f"{pid}.{n}"
            supports = fp.get("supports", list(stated))
            missing = [a for a in supports if a not in stated]
            if missing:
                raise RuleError(
                    f"{source}: profiles/{i}/match/{n - 1}/supports: the profile states no "
                    f"{', '.join(missing)}"
                )
            own = {k: str(v) for k, v in fp.get("yields", {}).items()}
            values = {a: str(stated[a]) for a in PROFILE_ATTRIBUTES if a in supports}
            values.update(own)
            yields = tuple(values.items())
            conditions = _conditions(fp["when"], source, rule_id)
            _check_templates(rule_id, conditions, yields, source)
            fp_prov = fp.get("provenance", {})
            rules.append(
                Rule(
                    id=rule_id,
                    conditions=tuple(conditions),
                    subject=fp.get("subject", "src"),
                    weight=int(fp["weight"]),
                    yields=yields,
                    reference=fp_prov.get("reference", provenance["reference"]),
                    source=source,
                    profile=pid,
                    reviewed=fp_prov.get("reviewed", provenance.get("reviewed")),
                )
            )
        profiles.append(
            Profile(
                id=pid,
                vendor=vendor,
                model=raw["model"],
                category=raw["category"],
                modality=raw.get("modality"),
                clinical_function=raw.get("clinical_function"),
                os=raw.get("os"),
                reference=provenance["reference"],
                reviewed=provenance.get("reviewed"),
                source=source,
                rules=tuple(rules),
            )
        )
    return profiles


def _read(path: Path) -> object:
    try:
        # libyaml's safe loader when PyYAML was built with it: 10x faster on the rule base
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506
    except OSError as exc:
        raise RuleError(f"{path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML: {exc}") from exc


def _kind(document: object, path: Path) -> Literal["rules", "profiles"]:
    if isinstance(document, dict):
        if "rules" in document and "profiles" not in document:
            return "rules"
        if "profiles" in document and "rules" not in document:
            return "profiles"
    raise RuleError(
        f"{path}: (top): a rule file has a top-level 'rules:' list, a profile file "
        "'vendor:' and 'profiles:' (exactly one of the two forms)"
    )


def load_file(path: Path) -> list[Rule]:
    """The rules of one file of either form (a profile file gives its compiled rules)."""
    document = _read(path)
    if _kind(document, path) == "profiles":
        return [rule for p in parse_profiles(document, str(path)) for rule in p.rules]
    return parse_rules(document, str(path))


def load_profile_file(path: Path) -> list[Profile]:
    """The profiles of one profile file; ``RuleError`` if it is not one."""
    document = _read(path)
    if _kind(document, path) != "profiles":
        raise RuleError(f"{path}: (top): not a profile file (no 'profiles:' list)")
    return parse_profiles(document, str(path))


def _yaml_files(base: Any) -> list[Path]:
    return sorted(Path(str(p)) for p in base.iterdir() if p.name.endswith((".yaml", ".yml")))


def shipped_rule_files() -> list[Path]:
    return _yaml_files(resources.files("medsec.rules").joinpath("fingerprints"))


def shipped_profile_files() -> list[Path]:
    return _yaml_files(resources.files("medsec.rules").joinpath("profiles"))


def _site_files(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob("*.y*ml"))


def load_profiles(site_dirs: Iterable[Path] = ()) -> list[Profile]:
    """Shipped profiles, then each site directory's; a later profile replaces one of the
    same id. Rule files in site directories are skipped here (``load_rules`` reads them)."""
    by_id: dict[str, Profile] = {}
    groups = [shipped_profile_files(), *(_site_files(d) for d in site_dirs)]
    for group in groups:
        seen: dict[str, str] = {}
        for path in group:
            document = _read(path)
            if _kind(document, path) != "profiles":
                continue
            for profile in parse_profiles(document, str(path)):
                if profile.id in seen:
                    raise RuleError(f"{path}: profile id {profile.id} also in {seen[profile.id]}")
                seen[profile.id] = str(path)
                by_id[profile.id] = profile
    return list(by_id.values())


def load_rules(site_dirs: Iterable[Path] = ()) -> list[Rule]:
    """Shipped rules and profiles, then each site directory's; a later rule replaces one of
    the same id, and a later profile every rule of the profile of the same id.

    Ids must be unique within the shipped set and within each site directory.

    Parsing and validating a thousand rules takes a good part of a second, so the result is
    kept in the user's cache directory (``$MEDSEC_CACHE``, else ``$XDG_CACHE_HOME/medsec``,
    else ``~/.cache/medsec``), named by a digest of every file read, the schemas and the
    medsec version: any change to any of them is a new entry. No cache is used when the
    directory cannot be written.
    """
    groups = [
        [*shipped_rule_files(), *shipped_profile_files()],
        *(_site_files(d) for d in site_dirs),
    ]
    cached = _cache_file(groups)
    if cached is not None:
        try:
            with cached.open("rb") as f:
                found = pickle.load(f)  # noqa: S301 (written by us, named by content digest)
            if isinstance(found, list) and all(isinstance(r, Rule) for r in found):
                return found
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            pass
    rules = _load_groups(groups)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            with partial.open("wb") as f:
                pickle.dump(rules, f, protocol=pickle.HIGHEST_PROTOCOL)
            partial.replace(cached)
        except OSError:
            pass
    return rules


def _cache_file(groups: Sequence[Sequence[Path]]) -> Path | None:
    from medsec import __version__

    base = os.environ.get("MEDSEC_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "medsec"
    )
    digest = hashlib.sha256(__version__.encode() + CACHE_FORMAT)
    schemas = resources.files("medsec.rules").joinpath("schemas")
    try:
        for schema in sorted(Path(str(p)) for p in schemas.iterdir()):
            digest.update(schema.read_bytes())
        for group in groups:
            digest.update(b"\x00group")
            for path in group:
                digest.update(str(path).encode() + b"\x00" + path.read_bytes())
    except OSError:
        return None
    return Path(base) / f"rules-{digest.hexdigest()[:32]}.pickle"


def _load_groups(groups: Sequence[Sequence[Path]]) -> list[Rule]:
    by_id: dict[str, Rule] = {}
    for group in groups:
        seen: dict[str, str] = {}
        replaced: set[str] = set()
        for path in group:
            for rule in load_file(path):
                if rule.id in seen:
                    raise RuleError(f"{path}: rule id {rule.id} also in {seen[rule.id]}")
                seen[rule.id] = str(path)
                if rule.profile is not None and rule.profile not in replaced:
                    replaced.add(rule.profile)
                    for old in [k for k, r in by_id.items() if r.profile == rule.profile]:
                        del by_id[old]
                by_id[rule.id] = rule
    return list(by_id.values())


def index_by_observation(rules: Sequence[Rule]) -> dict[str, list[Rule]]:
    index: dict[str, list[Rule]] = {}
    for rule in rules:
        index.setdefault(rule.observation, []).append(rule)
    return index
