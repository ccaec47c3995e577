"""The category list reads the same with libyaml's loader as with PyYAML's own."""

from __future__ import annotations

from importlib import resources

import yaml

from medsec.identify.rules import SAFE_LOADER
from medsec.identify.taxonomy import categories


def test_categories_read_the_same_with_the_c_loader() -> None:
    text = resources.files("medsec.rules").joinpath("taxonomy/categories.yaml").read_text()
    raw = yaml.safe_load(text)
    assert yaml.load(text, Loader=SAFE_LOADER) == raw  # noqa: S506
    found = categories()
    assert list(found) == list(raw["categories"])
    for name, c in found.items():
        entry = raw["categories"][name]
        assert (c.medical, c.fda_class, c.regulation, c.description) == (
            bool(entry["medical"]),
            entry["fda_class"],
            entry["regulation"],
            str(entry["description"]),
        )
