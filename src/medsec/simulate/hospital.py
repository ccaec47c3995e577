"""The simulated hospital's topology: departments on VLANs, their hosts, the gateways and
the internet hosts they reach.

Addresses: VLAN ``v`` is ``10.v.0.0/16`` with its gateway at ``10.v.0.1``; data-center
servers sit at ``10.50.0.10`` upwards, endpoints at ``10.v.0.20`` upwards. Every VLAN has
its own router MAC (the HSRP virtual MAC ``00:00:0c:07:ac:<group>``).
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from functools import cached_property

from medsec.model.errors import SimulationError
from medsec.simulate.catalog import (
    DOMAIN,
    EXTERNAL_SERVICES,
    PROFILES,
    PUBLIC_FIRST_OCTETS,
    SERVER_NAMES,
    SERVER_PROFILES,
    DeviceProfile,
)

MIN_DEVICES = 10
MAX_DEVICES = 5000


@dataclass(frozen=True, slots=True)
class Vlan:
    """One department's VLAN."""

    id: int
    department: str
    prefix: str
    """Host-name prefix of the department (``icu``)."""

    @property
    def gateway_ip(self) -> str:
        return f"10.{self.id}.0.1"

    @property
    def gateway_mac(self) -> str:
        return f"00:00:0c:07:ac:{self.id:02x}"

    @property
    def netmask(self) -> str:
        return "255.255.0.0"

    def address(self, index: int) -> str:
        """The ``index``-th host address of the VLAN (0-based, from .20 for endpoints)."""
        return f"10.{self.id}.{index // 200}.{20 + index % 200}"


ICU = Vlan(10, "ICU", "icu")
RADIOLOGY = Vlan(20, "Radiology", "rad")
LAB = Vlan(30, "Lab", "lab")
WARDS = Vlan(40, "Wards", "ward")
DATA_CENTER = Vlan(50, "Data center", "dc")
ADMIN = Vlan(60, "Admin", "adm")
VLANS: tuple[Vlan, ...] = (ICU, RADIOLOGY, LAB, WARDS, DATA_CENTER, ADMIN)

BASE_ENDPOINTS: tuple[tuple[Vlan, str], ...] = (
    (ICU, "patient_monitor"),
    (ICU, "infusion_pump"),
    (ICU, "ventilator"),
    (ICU, "central_station"),
    (RADIOLOGY, "ct_scanner"),
    (RADIOLOGY, "ultrasound"),
    (LAB, "lab_analyzer"),
    (WARDS, "nurse_workstation"),
    (ADMIN, "it_workstation"),
    (ADMIN, "printer"),
)
"""The endpoints of the smallest hospital (``devices=10``)."""

EXTRA_WEIGHTS: tuple[tuple[Vlan, str, int], ...] = (
    (ICU, "patient_monitor", 8),
    (ICU, "infusion_pump", 8),
    (ICU, "ventilator", 2),
    (ICU, "nurse_workstation", 1),
    (RADIOLOGY, "mr_scanner", 1),
    (RADIOLOGY, "ct_scanner", 1),
    (RADIOLOGY, "ultrasound", 1),
    (RADIOLOGY, "dicom_workstation", 3),
    (LAB, "lab_analyzer", 3),
    (LAB, "printer", 1),
    (WARDS, "patient_monitor", 6),
    (WARDS, "infusion_pump", 10),
    (WARDS, "nurse_workstation", 5),
    (WARDS, "printer", 2),
    (ADMIN, "it_workstation", 3),
    (ADMIN, "printer", 1),
)
"""How endpoints beyond the base ten are spread (largest-remainder shares of the weights)."""

PREFERRED_VENDORS: dict[tuple[int, str], str] = {(LAB.id, "printer"): "Zebra"}
"""Departments that buy one vendor for a role (label printers in the lab)."""

AE_TITLES: dict[str, str] = {
    "ct_scanner": "CT_SCANNER",
    "mr_scanner": "MR_SCANNER",
    "ultrasound": "US_EPIQ",
    "dicom_workstation": "RAD_WS",
}


@dataclass(frozen=True, slots=True)
class Host:
    """An internal endpoint or server."""

    ip: str
    mac: str
    vlan: Vlan
    profile: DeviceProfile
    hostname: str
    number: int
    """1-based number of the host among those of its role."""

    @property
    def role(self) -> str:
        return self.profile.role

    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.{DOMAIN}"

    @property
    def ae_title(self) -> str:
        """DICOM application entity title."""
        if self.role == "pacs":
            return "PACS_ARCHIVE"
        return f"{AE_TITLES.get(self.role, self.hostname.upper())}_{self.number:02d}"


@dataclass(frozen=True, slots=True)
class ExternalHost:
    """An internet host reached through the firewall."""

    ip: str
    name: str
    vendor: str
    app: str


@dataclass(frozen=True)
class Hospital:
    """The whole topology."""

    hosts: tuple[Host, ...]
    externals: tuple[ExternalHost, ...]
    vlans: tuple[Vlan, ...] = VLANS
    _by_role: dict[str, tuple[Host, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        groups: dict[str, list[Host]] = {}
        for host in self.hosts:
            groups.setdefault(host.role, []).append(host)
        self._by_role.update({role: tuple(members) for role, members in groups.items()})

    def role(self, role: str) -> tuple[Host, ...]:
        """All hosts of a role, in creation order (may be empty)."""
        return self._by_role.get(role, ())

    def server(self, role: str) -> Host:
        """The one data-center server of a role."""
        return self._by_role[role][0]

    @cached_property
    def _externals(self) -> dict[str, ExternalHost]:
        return {external.name: external for external in self.externals}

    def external(self, name: str) -> ExternalHost:
        return self._externals[name]

    @cached_property
    def names(self) -> dict[str, str]:
        """DNS name -> address for every name a host may look up."""
        table = {host.fqdn: host.ip for host in self.hosts}
        table.update({external.name: external.ip for external in self.externals})
        return table


def allocate_endpoints(devices: int) -> list[tuple[Vlan, str]]:
    """Which endpoints a hospital of ``devices`` endpoints has (deterministic, no RNG)."""
    if not MIN_DEVICES <= devices <= MAX_DEVICES:
        raise SimulationError(
            f"devices must be between {MIN_DEVICES} and {MAX_DEVICES}, not {devices}"
        )
    extra = devices - len(BASE_ENDPOINTS)
    total_weight = sum(weight for _, _, weight in EXTRA_WEIGHTS)
    shares = [extra * weight // total_weight for _, _, weight in EXTRA_WEIGHTS]
    remainders = sorted(
        range(len(EXTRA_WEIGHTS)),
        key=lambda i: (-(extra * EXTRA_WEIGHTS[i][2] % total_weight), i),
    )
    for i in remainders[: extra - sum(shares)]:
        shares[i] += 1
    slots = list(BASE_ENDPOINTS)
    for (vlan, role, _), count in zip(EXTRA_WEIGHTS, shares, strict=True):
        slots.extend([(vlan, role)] * count)
    order = {vlan.id: i for i, vlan in enumerate(VLANS)}
    roles = list(PROFILES)
    slots.sort(key=lambda slot: (order[slot[0].id], roles.index(slot[1])))
    return slots


def _unique_mac(oui: str, rng: random.Random, used: set[str]) -> str:
    while True:
        mac = f"{oui}:{rng.randrange(256):02x}:{rng.randrange(256):02x}:{rng.randrange(256):02x}"
        if mac not in used:
            used.add(mac)
            return mac


def _public_ip(rng: random.Random, used: set[str]) -> str:
    while True:
        address = (
            f"{rng.choice(PUBLIC_FIRST_OCTETS)}.{rng.randrange(1, 255)}."
            f"{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"
        )
        if address not in used and ipaddress.IPv4Address(address).is_global:
            used.add(address)
            return address


def build_hospital(devices: int, rng: random.Random) -> Hospital:
    """Create the topology for ``devices`` endpoints plus the data-center servers."""
    slots = allocate_endpoints(devices)
    used_macs: set[str] = set()
    hosts: list[Host] = []
    per_vlan: dict[int, int] = {}
    per_role: dict[str, int] = {}
    per_name: dict[str, int] = {}
    for vlan, role in slots:
        variants = PROFILES[role]
        number = per_role.get(role, 0) + 1
        per_role[role] = number
        profile = variants[(number - 1) % len(variants)]
        preferred = PREFERRED_VENDORS.get((vlan.id, role))
        if preferred is not None:
            profile = next(p for p in variants if p.vendor == preferred)
        index = per_vlan.get(vlan.id, 0)
        per_vlan[vlan.id] = index + 1
        stem = f"{vlan.prefix}-{profile.stem}"
        name_number = per_name.get(stem, 0) + 1
        per_name[stem] = name_number
        hosts.append(
            Host(
                ip=vlan.address(index),
                mac=_unique_mac(profile.oui, rng, used_macs),
                vlan=vlan,
                profile=profile,
                hostname=f"{stem}-{name_number:02d}",
                number=number,
            )
        )
    for offset, (role, profile) in enumerate(SERVER_PROFILES.items()):
        hosts.append(
            Host(
                ip=f"10.{DATA_CENTER.id}.0.{10 + offset}",
                mac=_unique_mac(profile.oui, rng, used_macs),
                vlan=DATA_CENTER,
                profile=profile,
                hostname=SERVER_NAMES[role],
                number=1,
            )
        )
    used_ips: set[str] = set()
    externals = tuple(
        ExternalHost(_public_ip(rng, used_ips), service.name, service.vendor, service.app)
        for service in EXTERNAL_SERVICES
    )
    return Hospital(hosts=tuple(hosts), externals=externals)
