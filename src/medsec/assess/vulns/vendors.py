"""Vendor names: one canonical name for the many ways feeds spell a vendor (data:
``rules/vulns/vendors.yaml``, validated by ``rules/schemas/vendors.schema.json``).

Advisories write "GE Healthcare", "General Electric (GE)", "Phillips", "Medtronic ",
"Innokas YhtymÃ¤ Oy"; NVD writes ``ge``, ``philips``, ``bbraun``. Names are compared by a
folded key: mojibake repaired, accents, case and punctuation dropped, "&" read as "and", and
legal suffixes (Inc, LLC, AG, Oy...) cut from the end, so only spellings that differ in letters
need listing. A name no entry knows stays as written (trimmed): an unknown vendor is still a
vendor. Compound names ("Silex Technology and GE Healthcare") split into their parts
(``parts``). Each vendor also names its NVD CPE vendor tokens, for the matcher.

Sites may add or replace entries with their own files of the same form.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from medsec.model.errors import RuleError

_LEGAL_SUFFIXES = frozenset(
    "inc incorporated llc ltd limited co corp corporation ag gmbh oy nv bv plc ev sa kgaa ab"
    " spa srl".split()
)
"""Words cut from the end of a folded name (with a dangling "and" before them)."""
_NON_WORD = re.compile(r"[^0-9a-z]+")
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_SEPARATORS = re.compile(r"\s*(?:[,;/]|&|\band\b)\s*", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def repair_mojibake(text: str) -> str:
    """UTF-8 text that was read as Windows-1252 or Latin-1 (``YhtymÃ¤``), read again as
    UTF-8 (``Yhtymä``); any other text unchanged."""
    if not any(ch in text for ch in "ÃÂÅâ"):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def clean_name(text: str) -> str:
    """The name as written, trimmed, spaces collapsed and mojibake repaired."""
    return _SPACES.sub(" ", repair_mojibake(text)).strip()


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", repair_mojibake(text).replace("&", " and "))
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [w for w in _NON_WORD.split(ascii_text.casefold()) if w]


def vendor_key(text: str) -> str:
    """The folded form names are compared by (``"B.Braun Melsungen AG"`` ->
    ``"b braun melsungen"``); empty when nothing but punctuation or suffixes is left."""
    words = _words(text)
    while words:
        letters = 0  # a dotted abbreviation at the end ("N.V.", "e.V.") reads as one word
        while letters < len(words) and len(words[-1 - letters]) == 1:
            letters += 1
        if letters > 1 and "".join(words[-letters:]) in _LEGAL_SUFFIXES:
            del words[-letters:]
        elif words[-1] in _LEGAL_SUFFIXES or (words[-1] == "and" and len(words) > 1):
            words.pop()
        else:
            break
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class VendorEntry:
    """One vendor of the table."""

    name: str
    """The canonical name."""
    aliases: tuple[str, ...] = ()
    """Other spellings of the same company."""
    formerly: tuple[str, ...] = ()
    """Companies or brands now part of the vendor, still named by old advisories."""
    nvd: tuple[str, ...] = ()
    """NVD CPE vendor tokens (``ge``, ``gehealthcare``)."""
    nvd_seen: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    """Token -> the record it was checked in; tokens without one are unchecked."""
    reference: str = ""
    note: str | None = None

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every name the entry is known by: its own, aliases and former companies."""
        return (self.name, *self.aliases, *self.formerly)


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files("medsec.rules").joinpath("schemas/vendors.schema.json")
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


def parse_vendor_entries(document: Any, source: str) -> tuple[VendorEntry, ...]:
    """Entries of one parsed document; ``RuleError`` naming the file and the path when it
    breaks the schema, names a vendor twice, or gives one spelling to two vendors."""
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(_schema()).iter_errors(document)
    )
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise RuleError(f"{source}: {where}: {error.message}")
    entries: list[VendorEntry] = []
    owner: dict[str, str] = {}
    for i, raw in enumerate(document["vendors"]):
        entry = VendorEntry(
            name=raw["name"],
            aliases=tuple(raw.get("aliases", ())),
            formerly=tuple(raw.get("formerly", ())),
            nvd=tuple(raw.get("nvd", ())),
            nvd_seen=dict(raw.get("nvd_seen", {})),
            reference=raw["reference"],
            note=raw.get("note"),
        )
        unknown = set(entry.nvd_seen) - set(entry.nvd)
        if unknown:
            raise RuleError(f"{source}: vendors/{i}: nvd_seen names tokens not in nvd: {unknown}")
        for spelling in entry.spellings:
            key = vendor_key(spelling)
            if not key:
                raise RuleError(f"{source}: vendors/{i}: {spelling!r} folds to nothing")
            other = owner.get(key)
            if other is not None and other != entry.name:
                raise RuleError(
                    f"{source}: vendors/{i}: {spelling!r} is also a spelling of {other!r}"
                )
            owner[key] = entry.name
        if any(e.name == entry.name for e in entries):
            raise RuleError(f"{source}: vendors/{i}: vendor {entry.name!r} appears twice")
        entries.append(entry)
    return tuple(entries)


class VendorNames:
    """The vendor table as an index: spellings -> canonical names, and NVD tokens."""

    def __init__(self, entries: Iterable[VendorEntry]) -> None:
        self.entries: tuple[VendorEntry, ...] = tuple(entries)
        self._by_key: dict[str, str] = {}
        self._by_name: dict[str, VendorEntry] = {}
        self._by_token: dict[str, tuple[str, ...]] = {}
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for entry in self.entries:
            self._by_name[entry.name] = entry
            for spelling in entry.spellings:
                key = vendor_key(spelling)
                self._by_key[key] = entry.name
                words = tuple(key.split())
                self._phrases.setdefault(words[0], []).append((words, entry.name))
            for token in entry.nvd:
                self._by_token[token] = (*self._by_token.get(token, ()), entry.name)
        for token, names in self._by_token.items():
            # An NVD token names the vendor too, when it names only one and no spelling
            # of another vendor folds to it.
            key = vendor_key(token)
            if len(names) == 1 and key and key not in self._by_key:
                self._by_key[key] = names[0]

    def known(self, text: str) -> str | None:
        """The canonical name ``text`` spells, or None when no entry knows it. A name with
        a parenthesised short form ("Natus Medical, Inc. (Natus)") is tried without it, then
        by the short form."""
        key = vendor_key(text)
        if not key:
            return None
        found = self._by_key.get(key)
        if found is not None:
            return found
        if "(" in text:
            outside = vendor_key(_PARENTHESES.sub(" ", text))
            if outside in self._by_key:
                return self._by_key[outside]
            for inside in _PARENTHESES.findall(text):
                found = self._by_key.get(vendor_key(inside))
                if found is not None:
                    return found
        return None

    def canonical(self, text: str) -> str:
        """The canonical name of ``text``, or ``text`` cleaned (trimmed, mojibake
        repaired) when no entry knows it."""
        return self.known(text) or clean_name(text)

    def parts(self, text: str) -> tuple[str, ...]:
        """The vendors a (possibly compound) vendor name names, canonical where known:
        "Silex Technology and GE Healthcare" -> ("Silex Technology", "GE HealthCare"). A
        name is split at commas, semicolons, slashes, "and" and "&" only when it is not
        known whole and at least one part is known; otherwise it is one vendor."""
        whole = self.known(text)
        if whole is not None:
            return (whole,)
        cleaned = clean_name(text)
        pieces = [p for p in _SEPARATORS.split(cleaned) if vendor_key(p)]
        if len(pieces) < 2 or not any(self.known(p) for p in pieces):
            return (cleaned,) if cleaned else ()
        names: list[str] = []
        for piece in pieces:
            name = self.canonical(piece)
            if name not in names:
                names.append(name)
        return tuple(names)

    def mentioned_in(self, text: str) -> tuple[str, ...]:
        """Canonical vendors one of whose spellings appears in ``text`` as whole words
        ("GEH-500 ... integrated into GE MobileLink" -> GE HealthCare), in order of first
        appearance. NVD tokens do not count here."""
        words = _words(text)
        found: list[str] = []
        for start, word in enumerate(words):
            for phrase, name in self._phrases.get(word, ()):
                if tuple(words[start : start + len(phrase)]) == phrase and name not in found:
                    found.append(name)
        return tuple(found)

    def entry(self, vendor: str) -> VendorEntry | None:
        """The entry of a vendor, by any of its spellings."""
        name = self.known(vendor)
        return None if name is None else self._by_name[name]

    def nvd_tokens(self, vendor: str) -> tuple[str, ...]:
        """The NVD CPE vendor tokens of a vendor named any way the table knows; () for
        a vendor it does not know."""
        entry = self.entry(vendor)
        return () if entry is None else entry.nvd

    def vendors_for_nvd_token(self, token: str) -> tuple[str, ...]:
        """Canonical vendors that use an NVD CPE vendor token (``siemens`` -> both Siemens
        Healthineers and Siemens)."""
        return self._by_token.get(token.strip().lower(), ())


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SHIPPED = "vulns/vendors.yaml"
"""The shipped table, relative to ``medsec.rules``."""


def _load(path: Path | Any, source: str) -> tuple[VendorEntry, ...]:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise RuleError(f"{source}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise RuleError(f"{source}: not valid YAML: {exc}") from exc
    return parse_vendor_entries(document, source)


def load_vendor_names(site_files: Iterable[Path] = ()) -> VendorNames:
    """The shipped table, then each site file's entries; a site entry replaces the shipped
    one of the same canonical name."""
    shipped = resources.files("medsec.rules").joinpath(SHIPPED)
    by_name = {e.name: e for e in _load(shipped, SHIPPED)}
    for path in site_files:
        by_name.update((e.name, e) for e in _load(Path(path), str(path)))
    entries = tuple(by_name.values())
    # Each file was checked on its own; spellings must stay unique across the merged table.
    owner: dict[str, str] = {}
    for entry in entries:
        for spelling in entry.spellings:
            key = vendor_key(spelling)
            if owner.setdefault(key, entry.name) != entry.name:
                raise RuleError(
                    f"site vendor files: {spelling!r} names both {owner[key]!r} and {entry.name!r}"
                )
    return VendorNames(entries)


@lru_cache(maxsize=1)
def shipped_vendor_names() -> VendorNames:
    """The shipped table (read once)."""
    return load_vendor_names()


def canonical_vendor(text: str) -> str:
    """``text``'s canonical name by the shipped table, or ``text`` cleaned when unknown."""
    return shipped_vendor_names().canonical(text)
