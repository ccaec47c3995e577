"""The OUI rules against the IEEE registry netaddr ships: every name they match exists there,
and real registered addresses identify their vendor."""

from __future__ import annotations

import re
from pathlib import Path

import netaddr
import pytest

from medsec.identify.engine import IdentifyEngine
from medsec.identify.hardware import hardware_address
from medsec.identify.rules import load_file, load_rules, shipped_rule_files

OUI_FILE = next(p for p in shipped_rule_files() if p.name == "oui.yaml")


def registry_names() -> set[str]:
    base = Path(netaddr.__file__).parent / "eui"
    names = set()
    for name in ("oui.txt", "iab.txt"):
        text = (base / name).read_text(encoding="utf-8", errors="replace")
        names.update(m.strip() for m in re.findall(r"\(hex\)\s+(.*)", text))
    return names


def test_every_alternative_of_every_rule_is_a_registry_name() -> None:
    names = registry_names()
    for rule in load_file(OUI_FILE):
        (condition,) = rule.conditions
        assert condition.observation == "HardwareAddress" and condition.field == "organization"
        assert condition.pattern is not None
        matched = {n for n in names if condition.pattern.search(n)}
        assert matched, f"{rule.id} matches no IEEE registry name"


@pytest.mark.parametrize(
    ("mac", "vendor", "category"),
    [
        ("00:09:fb:12:34:56", "Philips", "patient_monitor"),  # Philips Patient Monitoring
        ("00:50:c2:2e:00:01", "Baxter", None),  # IAB Baxter International Inc
        ("00:10:5d:00:00:01", "Draeger", None),  # Draeger Medical
        ("00:06:6b:00:00:01", "Sysmex", None),
        ("c0:a2:6d:00:00:01", "Abbott", "poc_device"),  # Abbott Point of Care
        ("00:a0:9a:00:00:01", "Nihon Kohden", None),
        ("00:00:0c:00:00:01", "Cisco", None),
    ],
)
def test_registered_addresses_name_their_vendor(
    mac: str, vendor: str, category: str | None
) -> None:
    engine = IdentifyEngine(load_rules())
    engine.feed([hardware_address(mac, ip="10.0.0.7", ts_ns=1)])
    (identity,) = engine.identities()
    assert identity.get("vendor") == vendor
    assert identity.get("category") == category


def test_a_locally_administered_address_says_nothing() -> None:
    engine = IdentifyEngine(load_rules())
    engine.feed([hardware_address("02:09:fb:12:34:56", ip="10.0.0.7", ts_ns=1)])
    assert engine.identities() == []
