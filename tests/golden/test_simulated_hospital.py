"""Golden: a simulated hospital capture -> hosts and edges, against two references.

1. The simulator's ground truth (``.truth.json``), written independently of the capture
   engine while the packets were generated: every edge with its exact flows, packets and
   bytes; every internal host with its MAC and VLAN.
2. ``hospital_small.expected.json`` beside this file: the full normalised output (hosts with
   bindings, edges, flow states and initiators) of a reviewed run. ``pytest --update-golden``
   rewrites it; review the diff before committing.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from medsec.model.config import Settings
from medsec.service.discover import discover_file
from medsec.service.inventory import open_inventory, rows
from medsec.simulate import generate

HERE = Path(__file__).parent
EXPECTED = HERE / "hospital_small.expected.json"


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    where = tmp_path_factory.mktemp("golden")
    result = generate(where / "hospital.pcap", devices=24, minutes=3, seed=11)
    settings = Settings()
    store = open_inventory(settings, str(where / "golden.db"))
    with store:
        outcome = discover_file(result.pcap, store, settings, dissect=True)
        assert outcome.ok, outcome.error
        output = {
            "hosts": rows(store.hosts()),
            "edges": rows(store.edges()),
            "flows": rows(store.flows()),
        }
    return {"truth": json.loads(result.truth.read_text()), "output": output}


def edge_key(e: dict[str, Any]) -> tuple[str, str, str, int]:
    return (e["client"], e["server"], e["transport"], e["server_port"])


def test_every_edge_with_exact_counts(hospital: dict[str, Any]) -> None:
    truth = {edge_key(e): e for e in hospital["truth"]["edges"]}
    found = {edge_key(e): e for e in hospital["output"]["edges"]}
    assert set(found) == set(truth)
    for key, expected in truth.items():
        got = found[key]
        assert (got["flows"], got["packets"], got["bytes"]) == (
            expected["flows"],
            expected["packets"],
            expected["bytes"],
        ), key


def test_every_internal_host_with_its_mac_and_vlan(hospital: dict[str, Any]) -> None:
    truth = {h["ip"]: h for h in hospital["truth"]["hosts"]}
    found = {h["ip"]: h for h in hospital["output"]["hosts"]}
    for ip, expected in truth.items():
        assert ip in found, ip
        assert found[ip]["internal"] is True
        assert found[ip]["macs"] == [expected["mac"]], ip
        assert found[ip]["vlans"] == [expected["vlan"]], ip


def test_no_host_that_is_not_there(hospital: dict[str, Any]) -> None:
    """Beyond the truth's hosts: only the external hosts, the VLAN gateways and the IPv6
    link-local addresses (EUI-64) of true hosts."""
    truth = hospital["truth"]
    known = {h["ip"] for h in truth["hosts"]} | {h["ip"] for h in truth["external_hosts"]}
    macs = {h["mac"] for h in truth["hosts"]}
    gateway_macs = {g["mac"] for g in truth["gateways"]}
    for host in hospital["output"]["hosts"]:
        ip = host["ip"]
        if ip in known:
            continue
        addr = ipaddress.ip_address(ip)
        if addr.version == 6 and addr.is_link_local:
            assert set(host["macs"]) <= macs, ip
        else:
            assert set(host["macs"]) <= gateway_macs, ip


def test_external_hosts(hospital: dict[str, Any]) -> None:
    truth = {h["ip"] for h in hospital["truth"]["external_hosts"]}
    found = {h["ip"] for h in hospital["output"]["hosts"] if not h["internal"]}
    assert found == truth


def normalised(output: dict[str, Any]) -> dict[str, Any]:
    flows = sorted(
        ({k: v for k, v in f.items() if k not in ("id", "capture_id")} for f in output["flows"]),
        key=lambda f: (f["first_seen"], f["client_ip"], f["client_port"], f["server_ip"]),
    )
    return {"hosts": output["hosts"], "edges": output["edges"], "flows": flows}


def test_matches_reviewed_output(hospital: dict[str, Any], request: pytest.FixtureRequest) -> None:
    current = normalised(hospital["output"])
    if request.config.getoption("--update-golden"):
        EXPECTED.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"rewrote {EXPECTED.name}: review the diff")
    assert EXPECTED.exists(), "no golden file yet: run pytest --update-golden and review it"
    expected = json.loads(EXPECTED.read_text())
    for part in ("hosts", "edges", "flows"):
        assert current[part] == expected[part], part


def test_edges_are_labelled_with_their_application(hospital: dict[str, Any]) -> None:
    """Every edge of a protocol medsec dissects carries the application the simulator wrote
    (IPP travels as HTTP); no edge is labelled with an application it does not carry."""
    from medsec.dissect import default_dissectors

    dissected = {d.name for d in default_dissectors()}
    carried_as = {"ipp": "http"}
    found = {edge_key(e): e for e in hospital["output"]["edges"]}
    checked = 0
    for edge in hospital["truth"]["edges"]:
        expected = carried_as.get(edge["app"], edge["app"])
        got = found[edge_key(edge)]["app"]
        if expected in dissected:
            assert got == expected, edge_key(edge)
            checked += 1
        else:
            assert got is None, (edge_key(edge), got)
    assert checked > 100


def test_edges_say_whether_they_carry_phi_and_travel_in_clear(hospital: dict[str, Any]) -> None:
    """Against the simulator's truth: on edges whose application medsec reads, ``phi`` is
    what the simulator sent (HL7 with patient segments, DICOM storage) and ``cleartext`` is
    whether the protocol was readable; no edge is marked PHI that carried none."""
    found = {edge_key(e): e for e in hospital["output"]["edges"]}
    readable = {"hl7", "dicom", "http", "dns", "dhcp", "ntp", "snmp", "syslog"}
    checked = 0
    for edge in hospital["truth"]["edges"]:
        got = found[edge_key(edge)]
        if not edge["phi"]:
            assert got["phi"] is False, edge_key(edge)
        if edge["app"] in ("hl7", "dicom"):
            assert got["phi"] is edge["phi"], edge_key(edge)
            checked += 1
        if edge["app"] in readable | {"tls", "ssh"}:
            assert got["cleartext"] is edge["cleartext"], edge_key(edge)
            checked += 1
    assert checked > 100
