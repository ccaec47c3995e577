"""The shipped host-name rules (fingerprints/hostnames.yaml): default names operating systems
and vendors give devices identify them; names that merely contain a word do not."""

from __future__ import annotations

import pytest

from medsec.identify.engine import IdentifyEngine
from medsec.identify.rules import Rule, load_file, shipped_rule_files
from medsec.model.observations import PacketContext
from medsec.model.observations.naming import HostName


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    (path,) = [p for p in shipped_rule_files() if p.name == "hostnames.yaml"]
    return load_file(path)


def identity(name: str, rules: list[Rule]) -> dict[str, str | None]:
    ctx = PacketContext(
        ts_ns=0,
        transport="udp",
        src_ip="10.1.2.3",
        dst_ip=None,
        src_port=68,
        dst_port=67,
        src_mac=None,
        dst_mac=None,
        vlan=0,
        ethertype=0x0800,
        flow_id=1,
        from_client=True,
    )
    engine = IdentifyEngine(rules)
    engine.feed([HostName(ctx=ctx, name=name, source="DhcpRequest.host_name")])
    found = {i.host: i for i in engine.identities()}.get("10.1.2.3")
    return {a: found.get(a) if found else None for a in ("category", "vendor", "model", "os")}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("JOANNA-PC", {"category": "it_workstation", "os": "Windows"}),
        ("DESKTOP-4F7K2QX", {"category": "it_workstation", "os": "Windows"}),
        ("LAPTOP-8UJ2M3KQ", {"category": "it_workstation", "os": "Windows"}),
        ("WIN-1A2B3C4D5E6", {"category": "server", "os": "Windows"}),
        ("Anns-MacBook-Pro.local", {"category": "it_workstation", "model": "MacBook Pro"}),
        ("Lucas-iMac", {"category": "it_workstation", "vendor": "Apple", "os": "macOS"}),
        ("Lucas-iPhone", {"category": "mobile_device", "vendor": "Apple", "os": "iOS"}),
        ("android-f7ca0f571270c52d", {"category": "mobile_device", "os": "Android"}),
        ("sartiano-Precision-Tower-3620", {"vendor": "Dell", "model": "Precision-Tower-3620"}),
        ("sanji-LIFEBOOK-LH531", {"vendor": "Fujitsu", "model": "LIFEBOOK-LH531"}),
        ("caesar-thinkpad", {"category": "it_workstation", "vendor": "Lenovo"}),
        ("NPI3A5B21", {"category": "printer", "vendor": "HP"}),
        ("BRN30055C123456", {"category": "printer", "vendor": "Brother"}),
        ("SEP001122AABBCC", {"category": "voip_phone", "vendor": "Cisco"}),
        ("pfSense.localdomain", {"category": "network_infrastructure", "os": "FreeBSD"}),
        ("SRV-PACS01", {"category": "server"}),
        ("rad-pc-03", {"category": "it_workstation"}),
    ],
)
def test_default_names_identify_the_device(
    name: str, expected: dict[str, str], rules: list[Rule]
) -> None:
    found = identity(name, rules)
    assert {k: found[k] for k in expected} == expected


@pytest.mark.parametrize(
    "name",
    [
        "epcserver-backup",  # 'pc' and 'server' inside words, not tokens
        "iphonebackup",  # 'iphone' inside a word
        "win-short",  # not WIN- + 11 characters
        "PCB-TESTER",  # PC is not a token here
        "observer",
        "precision-lab",  # Dell's line only with a model or chassis after it
        "mypfsense",
        "android-1234",  # too few hex digits for an ANDROID_ID
    ],
)
def test_names_that_merely_contain_a_word_say_nothing(name: str, rules: list[Rule]) -> None:
    assert identity(name, rules) == dict.fromkeys(("category", "vendor", "model", "os"))
