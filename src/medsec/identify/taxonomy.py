"""The device category list (data: ``rules/taxonomy/categories.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from medsec.identify.rules import SAFE_LOADER
from medsec.model.errors import RuleError


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    medical: bool
    fda_class: int | None
    regulation: str | None
    description: str


@lru_cache(maxsize=1)
def categories() -> dict[str, Category]:
    text = resources.files("medsec.rules").joinpath("taxonomy/categories.yaml").read_text()
    # libyaml's safe loader: 2 ms instead of 14 on every process start
    raw = yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 (the safe loader, in C)
    try:
        return {
            name: Category(
                name=name,
                medical=bool(v["medical"]),
                fda_class=v["fda_class"],
                regulation=v["regulation"],
                description=str(v["description"]),
            )
            for name, v in raw["categories"].items()
        }
    except (KeyError, TypeError) as exc:
        raise RuleError(f"taxonomy/categories.yaml: malformed entry ({exc})") from exc
