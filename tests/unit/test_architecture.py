"""The shape of the package: public names, and data flowing one way between stages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import medsec

SRC = Path(medsec.__file__).parent
STAGES = (
    "model",
    "capture",
    "dissect",
    "identify",
    "inventory",
    "assess",
    "protect",
    "report",
    "service",
)
"""In data-flow order: a stage may import only ``model`` and the stages before it."""
SHELLS = {"cli": {"service", "model", "cli"}, "web": {"service", "model", "web"}}
"""The command line and the web UI are thin shells over ``service``."""
TOOLS = {"simulate": {"model", "simulate"}, "rules": {"rules"}}


def allowed(package: str) -> set[str]:
    if package in SHELLS:
        return SHELLS[package]
    if package in TOOLS:
        return TOOLS[package]
    index = STAGES.index(package)
    extra = {"simulate"} if package == "service" else set()
    return {*STAGES[: index + 1], "model", "rules", *extra}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "medsec" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_public_names_are_locked() -> None:
    assert medsec.__all__ == ["__version__"]


@pytest.mark.parametrize(
    "path",
    sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts),
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_no_backwards_import(path: Path) -> None:
    relative = path.relative_to(SRC)
    if len(relative.parts) == 1:
        return  # medsec/__init__.py and __main__.py
    package = relative.parts[0]
    forbidden = imported_packages(path) - allowed(package) - {"__version__"}
    assert not forbidden, f"{relative} imports {sorted(forbidden)}"
