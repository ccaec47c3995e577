"""Device profiles: one product line per profile, each fingerprint compiled into a rule."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from medsec.identify.engine import IdentifyEngine
from medsec.identify.hardware import hardware_address
from medsec.identify.rules import (
    load_file,
    load_profiles,
    load_rules,
    parse_profiles,
    parse_rules,
)
from medsec.model.errors import RuleError
from medsec.model.observations.hl7 import Hl7Message

from tests_support.dissect_harness import ctx

DOC: dict[str, Any] = {
    "vendor": "Acme Medical",
    "profiles": [
        {
            "id": "acme.pump-9",
            "model": "Pump 9",
            "category": "infusion_pump",
            "clinical_function": "infusion",
            "provenance": {"reference": "Acme Pump 9 HL7 interface spec", "reviewed": "unverified"},
            "match": [
                {
                    "weight": 60,
                    "when": [
                        {
                            "observation": "Hl7Message",
                            "field": "sending_application",
                            "op": "regex",
                            "value": r"^PUMP9(?:_(?P<ver>[0-9.]+))?$",
                        }
                    ],
                    "yields": {"software": "Pump 9 firmware", "software_version": "{ver}"},
                },
                {
                    "weight": 40,
                    "when": [
                        {
                            "observation": "HardwareAddress",
                            "field": "organization",
                            "op": "equals",
                            "value": "Philips Patient Monitoring",
                        }
                    ],
                    "supports": ["vendor"],
                    "provenance": {"reference": "IEEE MA-L 00-09-FB", "reviewed": "2026-11-22"},
                },
            ],
        }
    ],
}


def hl7(sending: str, src_ip: str = "10.10.0.11") -> Hl7Message:
    return Hl7Message(
        ctx=ctx(src_ip=src_ip, dst_ip="10.50.0.5", dst_port=2575),
        field_separator="|",
        encoding_characters="^~\\&",
        sending_application=sending,
        sending_facility=None,
        receiving_application="EMR",
        receiving_facility=None,
        message_type="ORU^R01",
        message_code="ORU",
        trigger_event="R01",
        message_structure=None,
        processing_id="P",
        version_id="2.6",
        segment_ids=("MSH",),
        acknowledgment_code=None,
        carries_phi=False,
        complete=True,
    )


def doc() -> dict[str, Any]:
    return copy.deepcopy(DOC)


def test_profile_compiles_one_rule_per_fingerprint() -> None:
    (profile,) = parse_profiles(doc(), "acme.yaml")
    assert (profile.vendor, profile.model, profile.category) == (
        "Acme Medical",
        "Pump 9",
        "infusion_pump",
    )
    first, second = profile.rules
    assert (first.id, second.id) == ("acme.pump-9.1", "acme.pump-9.2")
    assert all(r.profile == "acme.pump-9" for r in profile.rules)
    assert dict(first.yields) == {
        "vendor": "Acme Medical",
        "model": "Pump 9",
        "category": "infusion_pump",
        "clinical_function": "infusion",
        "software": "Pump 9 firmware",
        "software_version": "{ver}",
    }
    # the profile's provenance unless the fingerprint has its own
    assert first.reference == "Acme Pump 9 HL7 interface spec" and first.reviewed == "unverified"
    assert second.reference == "IEEE MA-L 00-09-FB" and second.reviewed == "2026-11-22"
    assert dict(second.yields) == {"vendor": "Acme Medical"}  # supports: [vendor]
    assert parse_rules(doc(), "acme.yaml") == list(profile.rules)  # either entry point


def test_template_groups_fill_the_yields_and_unfilled_ones_are_dropped() -> None:
    engine = IdentifyEngine(parse_rules(doc(), "acme.yaml"))
    engine.feed([hl7("PUMP9_4.2", src_ip="10.0.0.1"), hl7("PUMP9", src_ip="10.0.0.2")])
    ids = {i.host: i for i in engine.identities()}
    assert ids["10.0.0.1"].all("software") == ["Pump 9 firmware/4.2"]
    assert ids["10.0.0.2"].all("software") == ["Pump 9 firmware"]  # version group missing
    for host in ids.values():
        assert host.get("vendor") == "Acme Medical" and host.get("model") == "Pump 9"
        assert host.get("category") == "infusion_pump"


def test_supports_limits_what_a_weak_fingerprint_vouches_for() -> None:
    engine = IdentifyEngine(parse_rules(doc(), "acme.yaml"))
    engine.feed([hardware_address("00:09:fb:01:02:03", ip="10.0.0.9", ts_ns=1)])
    (identity,) = engine.identities()
    assert identity.get("vendor") == "Acme Medical"
    assert identity.get("category") is None and identity.get("model") is None


def test_a_template_no_condition_captures_is_refused() -> None:
    broken = doc()
    broken["profiles"][0]["match"][0]["yields"]["firmware_version"] = "{fw}"
    with pytest.raises(RuleError, match=r"acme\.pump-9\.1: firmware_version uses \{fw\}"):
        parse_profiles(broken, "acme.yaml")


def _broken(path: list[str | int], value: object) -> dict[str, Any]:
    d = doc()
    node: Any = d
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (_broken(["vendor"], KeyError), r"acme\.yaml: \(top\): 'vendor' is a required"),
        (_broken(["profiles", 0, "model"], KeyError), r"profiles/0: 'model' is a required"),
        (_broken(["profiles", 0, "match", 1, "weight"], 100), r"profiles/0/match/1/weight: 100"),
        (_broken(["profiles", 0, "match"], []), r"profiles/0/match: \[\] should be non-empty"),
        (
            _broken(["profiles", 0, "match", 0, "when", 0, "op"], "like"),
            r"profiles/0/match/0/when/0/op: 'like' is not one of",
        ),
        (_broken(["profiles", 0, "match", 0, "yields", "vendor"], "X"), r"'vendor' was unexpected"),
        (_broken(["profiles", 0, "category"], "toaster"), r"profiles/0/category: 'toaster' is not"),
        (_broken(["profiles", 0, "id"], "Bad Id"), r"profiles/0/id: 'Bad Id' does not match"),
        (
            _broken(["profiles", 0, "match", 0, "when", 0, "value"], "("),
            r"rule acme\.pump-9\.1: bad regex",
        ),
        (
            _broken(["profiles", 0, "match", 1, "supports"], ["os"]),
            r"profiles/0/match/1/supports: the profile states no os",
        ),
    ],
)
def test_invalid_profiles_are_refused_with_file_and_path(broken: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_profiles(broken, "acme.yaml")


def test_duplicate_profile_ids_in_one_file_are_refused() -> None:
    d = doc()
    d["profiles"].append(copy.deepcopy(d["profiles"][0]))
    with pytest.raises(RuleError, match="profile id acme.pump-9 appears twice"):
        parse_profiles(d, "acme.yaml")


def test_a_file_of_neither_form_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump({"vendor": "X", "rules": [], "profiles": []}))
    with pytest.raises(RuleError, match=r"odd\.yaml: \(top\): a rule file has"):
        load_file(path)
    path.write_text("- just a list\n")
    with pytest.raises(RuleError, match="exactly one of the two forms"):
        load_file(path)


def test_site_directories_hold_both_forms(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(doc()))
    rule_file = {
        "rules": [
            {
                "id": "site.extra",
                "when": [{"observation": "Hl7Message", "field": "version_id", "op": "exists"}],
                "weight": 10,
                "yields": {"software": "HL7"},
                "provenance": {"reference": "site"},
            }
        ]
    }
    (tmp_path / "local.yml").write_text(yaml.safe_dump(rule_file))
    shipped = load_rules()
    merged = {r.id: r for r in load_rules([tmp_path])}
    assert {"acme.pump-9.1", "acme.pump-9.2", "site.extra"} <= set(merged)
    assert len(merged) == len(shipped) + 3
    assert "acme.pump-9" in {p.id for p in load_profiles([tmp_path])}


def test_a_site_profile_replaces_every_rule_of_the_shipped_one(tmp_path: Path) -> None:
    shipped = load_profiles()
    victim = next(p for p in shipped if len(p.rules) >= 2)
    override = doc()
    override["profiles"][0]["id"] = victim.id
    del override["profiles"][0]["match"][1]  # one fingerprint instead of several
    (tmp_path / "override.yaml").write_text(yaml.safe_dump(override))
    merged = load_rules([tmp_path])
    mine = [r for r in merged if r.profile == victim.id]
    assert [r.id for r in mine] == [f"{victim.id}.1"]
    assert dict(mine[0].yields)["vendor"] == "Acme Medical"
    assert len(merged) == len(load_rules()) - len(victim.rules) + 1
    profiles = {p.id: p for p in load_profiles([tmp_path])}
    assert profiles[victim.id].vendor == "Acme Medical"


def test_a_site_rule_overrides_one_compiled_rule_by_id(tmp_path: Path) -> None:
    victim = next(p for p in load_profiles() if len(p.rules) >= 2)
    target = victim.rules[0].id
    rule_file = {
        "rules": [
            {
                "id": target,
                "when": [{"observation": "Hl7Message", "field": "version_id", "op": "exists"}],
                "weight": 5,
                "yields": {"vendor": "Site"},
                "provenance": {"reference": "site"},
            }
        ]
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(rule_file))
    merged = {r.id: r for r in load_rules([tmp_path])}
    assert merged[target].weight == 5 and merged[target].profile is None
    assert victim.rules[1].id in merged  # the profile's other rules stay


def test_duplicate_profile_ids_across_site_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(doc()))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(doc()))
    with pytest.raises(RuleError, match="acme.pump-9"):
        load_rules([tmp_path])
    with pytest.raises(RuleError, match="acme.pump-9"):
        load_profiles([tmp_path])
