"""The topology: how many of what, addresses and MACs."""

from __future__ import annotations

import ipaddress
import random
from collections import Counter

import pytest

from medsec.model.errors import SimulationError
from medsec.simulate.hospital import BASE_ENDPOINTS, allocate_endpoints, build_hospital


def test_smallest_hospital_is_the_base_set() -> None:
    assert Counter(allocate_endpoints(10)) == Counter(BASE_ENDPOINTS)


@pytest.mark.parametrize("devices", [10, 11, 23, 40, 100, 997])
def test_allocation_counts_and_keeps_the_base(devices: int) -> None:
    slots = allocate_endpoints(devices)
    assert len(slots) == devices
    counts = Counter(slots)
    assert all(counts[slot] >= 1 for slot in BASE_ENDPOINTS)


def test_larger_hospitals_have_more_clinical_devices() -> None:
    def roles(devices: int) -> Counter[str]:
        return Counter(role for _, role in allocate_endpoints(devices))

    small, large = roles(40), roles(200)
    for role in ("patient_monitor", "infusion_pump", "nurse_workstation"):
        assert large[role] > small[role]


@pytest.mark.parametrize("devices", [9, 0, 5001])
def test_out_of_range_device_counts(devices: int) -> None:
    with pytest.raises(SimulationError):
        allocate_endpoints(devices)


@pytest.mark.parametrize("devices", [10, 40, 600])
def test_addresses_and_macs(devices: int) -> None:
    hospital = build_hospital(devices, random.Random(4))
    hosts = hospital.hosts
    assert len(hosts) == devices + 9
    assert len({h.ip for h in hosts}) == len(hosts)
    assert len({h.mac for h in hosts}) == len(hosts)
    assert len({h.hostname for h in hosts}) == len(hosts)
    for host in hosts:
        assert host.mac.startswith(host.profile.oui)
        network = ipaddress.ip_network(f"10.{host.vlan.id}.0.0/16")
        assert ipaddress.ip_address(host.ip) in network
        assert host.ip != host.vlan.gateway_ip
    for role in ("pacs", "emr", "hl7_engine", "dhcp_server", "dns_server", "file_server"):
        assert hospital.server(role).vlan.department == "Data center"
    for external in hospital.externals:
        assert ipaddress.ip_address(external.ip).is_global


def test_topology_is_deterministic() -> None:
    first = build_hospital(40, random.Random(9))
    second = build_hospital(40, random.Random(9))
    assert first.hosts == second.hosts
    assert first.externals == second.externals
