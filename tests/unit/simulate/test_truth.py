"""The truth file matches what dpkt reads back from the capture, exactly."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from simulate_capture import Generated


def _truth_edges(truth: dict[str, Any]) -> dict[tuple[str, str, str, int], tuple[int, int, int]]:
    return {
        (e["client"], e["server"], e["transport"], e["server_port"]): (
            e["flows"],
            e["packets"],
            e["bytes"],
        )
        for e in truth["edges"]
    }


@pytest.mark.parametrize("name", ["small", "bulk"])
def test_packet_and_byte_totals(name: str, request: pytest.FixtureRequest) -> None:
    generated: Generated = request.getfixturevalue(name)
    view, truth = generated.view, generated.truth
    assert view.packets == truth["packets"] == generated.result.packets
    assert view.bytes == truth["bytes"] == generated.result.bytes
    assert view.fragments == truth["fragments"]


@pytest.mark.parametrize("name", ["small", "bulk"])
def test_edges_recomputed_from_the_capture(name: str, request: pytest.FixtureRequest) -> None:
    generated: Generated = request.getfixturevalue(name)
    recomputed = generated.view.edges()
    expected = _truth_edges(generated.truth)
    assert set(recomputed) == set(expected)
    for key, counts in expected.items():
        assert recomputed[key] == counts, key


@pytest.mark.parametrize("name", ["small", "bulk"])
def test_every_frame_is_an_edge_an_arp_or_a_fragment(
    name: str, request: pytest.FixtureRequest
) -> None:
    generated: Generated = request.getfixturevalue(name)
    edges = generated.truth["edges"]
    in_edges = sum(e["packets"] for e in edges)
    view = generated.view
    assert in_edges + view.arp + view.fragments == view.packets


def test_edges_are_sorted_and_unique(small: Generated) -> None:
    def address(text: str) -> tuple[int, int]:
        parsed = ipaddress.ip_address(text)
        return parsed.version, int(parsed)

    keys = [
        (address(e["client"]), address(e["server"]), e["transport"], e["server_port"])
        for e in small.truth["edges"]
    ]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_edge_fields(small: Generated) -> None:
    edges = small.truth["edges"]
    assert all(
        set(e)
        == {
            "client",
            "server",
            "transport",
            "server_port",
            "app",
            "phi",
            "cleartext",
            "flows",
            "packets",
            "bytes",
        }
        for e in edges
    )
    apps = {e["app"] for e in edges}
    assert {
        "dhcp",
        "dns",
        "ntp",
        "hl7",
        "dicom",
        "tls",
        "http",
        "ssh",
        "smb",
        "snmp",
        "syslog",
        "icmp",
        "icmpv6",
        "telemetry",
    } <= apps
    broadcast = [e for e in edges if e["client"] == "0.0.0.0"]
    assert broadcast and all(
        (e["server"], e["transport"], e["server_port"]) == ("255.255.255.255", "udp", 67)
        for e in broadcast
    )
    for edge in edges:
        if edge["transport"] in {"icmp", "icmpv6"}:
            assert edge["server_port"] == 0
        if edge["app"] in {"hl7", "dicom"}:
            assert edge["cleartext"] and edge["phi"]
        if edge["app"] in {"tls", "ssh"}:
            assert not edge["cleartext"]
        if edge["transport"] == "udp" and edge["app"] not in {"dhcp"}:
            assert edge["server_port"] in {53, 123, 161, 514, 24105}


def test_hosts(small: Generated) -> None:
    hosts = small.truth["hosts"]
    assert len(hosts) == 30 + 9
    assert len({h["ip"] for h in hosts}) == len(hosts)
    assert len({h["mac"] for h in hosts}) == len(hosts)
    keys = {
        "ip",
        "mac",
        "vlan",
        "department",
        "role",
        "category",
        "medical",
        "vendor",
        "model",
        "hostname",
        "internal",
    }
    assert all(set(h) == keys and h["internal"] is True for h in hosts)
    for host in hosts:
        assert ipaddress.ip_address(host["ip"]) in ipaddress.ip_network(f"10.{host['vlan']}.0.0/16")
    departments = {h["department"] for h in hosts}
    assert departments == {"ICU", "Radiology", "Lab", "Wards", "Data center", "Admin"}
    roles = {h["role"] for h in hosts}
    assert {
        "patient_monitor",
        "infusion_pump",
        "ventilator",
        "ct_scanner",
        "ultrasound",
        "lab_analyzer",
        "pacs",
        "emr",
        "hl7_engine",
        "dhcp_server",
        "dns_server",
        "file_server",
    } <= roles


def test_every_host_shows_its_own_mac_in_its_own_vlan(small: Generated) -> None:
    bindings = small.view.bindings
    for host in small.truth["hosts"]:
        assert (host["mac"], host["ip"], host["vlan"]) in bindings, host["hostname"]


def test_cross_vlan_traffic_uses_the_gateway_mac(small: Generated) -> None:
    gateways = {g["vlan"]: g["mac"] for g in small.truth["gateways"]}
    assert set(gateways) == {10, 20, 30, 40, 50, 60}
    host_macs = {h["mac"] for h in small.truth["hosts"]}
    for mac, ip, vlan in small.view.bindings:
        if ip.startswith(f"10.{vlan}.") or ip == "0.0.0.0":
            continue
        assert mac == gateways[vlan], (mac, ip, vlan)
        assert mac not in host_macs


def test_external_hosts_are_public_and_contacted(small: Generated) -> None:
    externals = small.truth["external_hosts"]
    assert externals
    servers = {e["server"] for e in small.truth["edges"]}
    for external in externals:
        assert set(external) == {"ip", "name", "vendor"}
        assert ipaddress.ip_address(external["ip"]).is_global
        assert external["ip"] in servers
