"""sysObjectID rules name the enterprise the IANA registry gives their number: every rule whose
review says "<PEN> = '<name>'" is checked against the registry copy in ../shared/data."""

from __future__ import annotations

import re
from pathlib import Path

from medsec.identify.rules import load_file, shipped_rule_files

CLAIM = re.compile(r"checked: (\d+) = '([^']+)' in the IANA registry")


def registry(shared_data: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (shared_data / "oui/enterprises.tsv").read_text(errors="replace").splitlines():
        number, _, name = line.partition("\t")
        if number.isdigit():
            out[number] = name.strip()
    return out


def test_checked_enterprise_numbers_are_the_registrys(shared_data: Path) -> None:
    names = registry(shared_data)
    (path,) = [p for p in shipped_rule_files() if p.name == "snmp.yaml"]
    checked = 0
    for rule in load_file(path):
        claim = CLAIM.search(rule.reviewed or "")
        if claim is None:
            continue
        number, name = claim.groups()
        assert names.get(number) == name, (rule.id, number, names.get(number))
        prefixes = [c.value for c in rule.conditions if c.field == "sys_object_id"]
        assert prefixes == [f"1.3.6.1.4.1.{number}."], rule.id
        checked += 1
    assert checked >= 10
