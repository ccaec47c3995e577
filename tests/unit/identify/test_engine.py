"""The identify engine and rule loading, on hand-made observations."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from medsec.identify.engine import IdentifyEngine, combine
from medsec.identify.rules import load_rules, parse_rules, shipped_rule_files
from medsec.model.errors import RuleError
from medsec.model.observations import Observation, observation

from tests_support.dissect_harness import ctx


@observation
class Banner(Observation):
    PROTOCOL: ClassVar[str] = "test"
    software: str
    tags: tuple[str, ...] = ()


def rules(*raw: dict[str, object]) -> list:  # type: ignore[type-arg]
    return parse_rules({"rules": list(raw)}, "test.yaml")


def rule(rule_id: str, field: str, op: str, value: object, weight: int, **yields: str) -> dict:  # type: ignore[type-arg]
    return {
        "id": rule_id,
        "when": [{"observation": "Banner", "field": field, "op": op, "value": value}],
        "weight": weight,
        "yields": yields,
        "provenance": {"reference": "a public fact"},
    }


def test_noisy_or() -> None:
    assert combine([60]) == 60
    assert combine([60, 50]) == 80
    assert combine([]) == 0


def test_distinct_rules_combine_repeats_do_not() -> None:
    engine = IdentifyEngine(
        rules(
            rule("r.one", "software", "prefix", "Acme", 60, vendor="Acme"),
            rule(
                "r.two", "tags", "equals", "acme-pump", 50, vendor="Acme", category="infusion_pump"
            ),
        )
    )
    seen = Banner(ctx=ctx(src_ip="10.1.0.5"), software="AcmeOS 2.1", tags=("x", "acme-pump"))
    engine.feed([seen] * 50)
    (identity,) = engine.identities()
    assert identity.host == "10.1.0.5"
    vendor = next(a for a in identity.attributes if a.name == "vendor")
    assert (vendor.value, vendor.confidence) == ("Acme", 80)
    assert sorted(e.rule_id for e in vendor.evidence) == ["r.one", "r.two"]
    assert identity.get("category") == "infusion_pump"


def test_regex_groups_fill_values_and_dst_subject() -> None:
    raw = rule(
        "r.ver", "software", "regex", r"^AcmeOS (?P<v>[\d.]+)$", 70, os="AcmeOS", os_version="{v}"
    )
    server = dict(raw, id="r.server", subject="dst", yields={"category": "server"})
    engine = IdentifyEngine(rules(raw, server))
    engine.feed([Banner(ctx=ctx(src_ip="10.0.0.1", dst_ip="10.0.0.9"), software="AcmeOS 4.2.1")])
    by_host = {i.host: i for i in engine.identities()}
    assert by_host["10.0.0.1"].get("os_version") == "4.2.1"
    assert by_host["10.0.0.9"].get("category") == "server"


def test_conflicts_are_reported_not_hidden() -> None:
    engine = IdentifyEngine(
        rules(
            rule("r.a", "software", "contains", "Pump", 60, category="infusion_pump"),
            rule("r.b", "software", "contains", "Monitor", 55, category="patient_monitor"),
        )
    )
    engine.feed([Banner(ctx=ctx(), software="Pump Monitor")])
    (identity,) = engine.identities()
    (category,) = identity.attributes
    assert category.value == "infusion_pump"
    assert [c.value for c in category.conflicts] == ["patient_monitor"]


def test_unknown_fields_and_kinds_do_not_fire() -> None:
    engine = IdentifyEngine(rules(rule("r.x", "nonexistent", "exists", None, 50, vendor="X")))
    engine.feed([Banner(ctx=ctx(), software="a")])
    assert engine.identities() == []


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"rules": [{"id": "x"}]}, "required"),
        ({"rules": [dict(rule("r", "software", "regex", "(", 50, vendor="V"))]}, "bad regex"),
        ({"rules": [dict(rule("r", "software", "equals", "a", 150, vendor="V"))]}, "maximum"),
        ({"rules": [dict(rule("r", "software", "equals", "a", 50, colour="red"))]}, "colour"),
    ],
)
def test_invalid_rules_are_refused_with_a_clear_message(broken: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(broken, "broken.yaml")


def test_shipped_rules_are_valid_and_ids_unique() -> None:
    loaded = load_rules()
    assert loaded, "no shipped rules"
    assert len({r.id for r in loaded}) == len(loaded)
    assert all(r.reference for r in loaded)
    assert shipped_rule_files()


def test_site_rules_add_and_override(tmp_path: Path) -> None:
    shipped = {r.id: r for r in load_rules()}
    some_id = next(iter(shipped))
    site = tmp_path / "site"
    site.mkdir()
    override = rule(some_id, "software", "equals", "x", 11, vendor="Site")
    extra = rule("site.extra", "software", "equals", "y", 12, vendor="Extra")
    override["when"][0]["observation"] = "Banner"  # type: ignore[index]
    (site / "local.yaml").write_text(yaml.safe_dump({"rules": [override, extra]}))
    merged = {r.id: r for r in load_rules([site])}
    assert merged[some_id].weight == 11 and merged["site.extra"].weight == 12
    assert len(merged) == len(shipped) + 1


def test_duplicate_ids_in_one_directory_are_refused(tmp_path: Path) -> None:
    doc = {"rules": [rule("dup", "software", "equals", "x", 10, vendor="A")]}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(RuleError, match="dup"):
        load_rules([tmp_path])


def test_taxonomy_lists_the_required_categories_and_rules_use_only_them() -> None:
    from medsec.identify.taxonomy import categories

    known = categories()
    required = {
        "patient_monitor", "patient_monitoring_gateway", "infusion_pump", "ventilator",
        "anesthesia_machine", "imaging_modality", "ecg", "lab_analyzer", "poc_device",
        "dialysis", "telemetry", "nurse_call", "medication_dispensing", "dicom_workstation",
        "pacs", "ris", "emr", "lis", "hl7_interface_engine", "it_workstation", "server",
        "web_server", "dhcp_server", "dns_server", "printer", "network_infrastructure",
        "network_management", "ip_camera", "voip_phone", "building_automation",
        "mobile_device", "iot_device", "unknown",
    }  # fmt: skip
    assert required <= set(known)
    assert known["infusion_pump"].medical and known["infusion_pump"].fda_class == 2
    assert not known["printer"].medical and known["printer"].fda_class is None
    for r in load_rules():
        for attribute, value in r.yields:
            if attribute == "category":
                assert value in known, (r.id, value)


def test_software_is_multi_valued_with_its_version() -> None:
    raw = rule("r.acme", "software", "regex", r"^Acme (?P<v>\S+)$", 70)
    raw["yields"] = {"software": "Acme", "software_version": "{v}"}
    other = rule("r.zeta", "tags", "regex", r"^zeta-(?P<v>\S+)$", 60)
    other["yields"] = {"software": "Zeta", "software_version": "{v}"}
    engine = IdentifyEngine(rules(raw, other))
    engine.feed([Banner(ctx=ctx(), software="Acme 1.2", tags=("zeta-9",))])
    (identity,) = engine.identities()
    assert identity.all("software") == ["Acme/1.2", "Zeta/9"]
    assert all(not a.conflicts for a in identity.attributes)


def test_all_items_requires_every_list_item_to_match() -> None:
    raw = rule("r.only", "tags", "regex", r"^(?P<m>CT|MR)$", 40, modality="{m}")
    raw["when"][0]["all_items"] = True  # type: ignore[index]
    engine = IdentifyEngine(rules(raw))
    engine.feed([Banner(ctx=ctx(src_ip="10.0.0.1"), software="", tags=("CT", "MR", "US"))])
    engine.feed([Banner(ctx=ctx(src_ip="10.0.0.2"), software="", tags=("CT",))])
    engine.feed([Banner(ctx=ctx(src_ip="10.0.0.3"), software="", tags=())])
    assert {i.host: i.get("modality") for i in engine.identities()} == {"10.0.0.2": "CT"}


def test_unspecified_sources_are_named_by_their_mac_and_multicast_is_nobody() -> None:
    raw = rule("r.any", "software", "equals", "x", 50, vendor="V")
    to_group = dict(raw, id="r.dst", subject="dst", yields={"category": "server"})
    engine = IdentifyEngine(rules(raw, to_group))
    engine.feed(
        [
            Banner(
                ctx=ctx(src_ip="0.0.0.0", dst_ip="255.255.255.255", src_mac="00:09:fb:00:00:01"),
                software="x",
            ),
            Banner(ctx=ctx(src_ip="10.0.0.5", dst_ip="239.255.255.250"), software="x"),
        ]
    )
    hosts = {i.host for i in engine.identities()}
    assert hosts == {"00:09:fb:00:00:01", "10.0.0.5"}


def test_values_tested_once_still_tell_types_apart() -> None:
    """The engine tests each distinct value once per rule; ``True`` and ``1`` (equal as
    keys, different as text) and a list and its tuple (alike to conditions) are kept
    apart or together as the conditions themselves would."""
    from medsec.identify.facts import Fact

    single = rule("r.true", "software", "equals", "True", 50, vendor="T")
    multi = rule("r.both", "software", "equals", "True", 40, category="server")
    multi["when"] = [  # type: ignore[index]
        *multi["when"],
        {"observation": "Banner", "field": "tags", "op": "equals", "value": "x"},
    ]
    engine = IdentifyEngine(rules(single, multi))

    def fact(ip: str, **fields: object) -> Fact:
        return Fact("Banner", "test", 0, "tcp", ip, None, 1, 2, None, None, 0, 1, fields)

    engine.feed_facts(
        [
            fact("10.0.0.1", software=True, tags=["x"]),
            fact("10.0.0.2", software=1, tags=["x"]),
            fact("10.0.0.3", software="True", tags=("x",)),
            fact("10.0.0.4", software=True, tags=("y",)),
            fact("10.0.0.5", software=True),
        ]
    )
    found = {i.host: (i.get("vendor"), i.get("category")) for i in engine.identities()}
    assert found == {
        "10.0.0.1": ("T", "server"),
        "10.0.0.3": ("T", "server"),
        "10.0.0.4": ("T", None),
        "10.0.0.5": ("T", None),
    }
