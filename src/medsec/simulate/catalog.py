"""What the simulated hospital is made of: TCP/IP stacks, DHCP fingerprints, device models
and the internet services devices talk to.

Vendors and OUIs are real (IEEE registry, as in Wireshark's ``manuf``); models, software
strings and cloud host names are plausible inventions for a simulation. Nothing here is
policy for the real pipeline: the identify stage must find these facts in the traffic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TcpStack:
    """How a host's TCP/IP stack looks on the wire (TTL, SYN window and options)."""

    name: str
    ttl: int
    syn_window: int
    window: int
    """Window field after the handshake (already scaled down)."""
    window_scale: int | None
    sack: bool
    timestamps: bool
    mss: int = 1460
    windows_option_order: bool = False
    """Windows orders SYN options MSS,NOP,WS,NOP,NOP,SACK; Linux MSS,SACK,TS,NOP,WS."""


WINDOWS = TcpStack("windows", 128, 64240, 1026, 8, True, False, windows_option_order=True)
LINUX = TcpStack("linux", 64, 64240, 502, 7, True, True)
EMBEDDED = TcpStack("embedded", 64, 5840, 5840, None, False, False)
RTOS = TcpStack("rtos", 255, 8192, 8192, None, False, False)


@dataclass(frozen=True, slots=True)
class DhcpProfile:
    """What a DHCP client puts in its DISCOVER/REQUEST."""

    vendor_class: str | None
    """Option 60."""
    parameter_list: tuple[int, ...]
    """Option 55, in the client's order."""
    max_message_size: int | None
    """Option 57."""


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """One kind of host: a product of a vendor, playing a role in the hospital."""

    role: str
    category: str
    medical: bool
    vendor: str
    model: str
    oui: str
    """First three bytes of the MAC, ``"00:09:fb"``."""
    stem: str
    """Short role word used in host names (``icu-mon-01``)."""
    stack: TcpStack
    dhcp: DhcpProfile | None
    """``None``: the host has a static address."""
    software: str
    """Product/software string shown in banners, HL7 MSH-3, DICOM version names."""
    cloud: str | None = None
    """External host name the device phones home to over TLS."""


WIN_DHCP = DhcpProfile("MSFT 5.0", (1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252), None)

PROFILES: dict[str, tuple[DeviceProfile, ...]] = {
    "patient_monitor": (
        DeviceProfile(
            "patient_monitor",
            "patient_monitor",
            True,
            "Philips",
            "IntelliVue MX800",
            "00:09:fb",
            "mon",
            RTOS,
            DhcpProfile("Philips IntelliVue MX800", (1, 3, 6, 15, 42, 43), 576),
            "IntelliVue M.00.03",
            "remote.philips.com",
        ),
        DeviceProfile(
            "patient_monitor",
            "patient_monitor",
            True,
            "GE Healthcare",
            "CARESCAPE B650",
            "00:40:97",
            "mon",
            EMBEDDED,
            DhcpProfile("GEHC CARESCAPE B650", (1, 3, 6, 12, 15, 28, 42), 1500),
            "CARESCAPE 3.2",
            "insite.gehealthcare.com",
        ),
    ),
    "infusion_pump": (
        DeviceProfile(
            "infusion_pump",
            "infusion_pump",
            True,
            "Baxter",
            "Sigma Spectrum IQ",
            "58:42:e4",
            "pump",
            EMBEDDED,
            DhcpProfile("Baxter Spectrum IQ", (1, 3, 6, 15, 28, 51, 58, 59), 1024),
            "SpectrumIQ/9.02",
            "spectrum.baxter.com",
        ),
        DeviceProfile(
            "infusion_pump",
            "infusion_pump",
            True,
            "B. Braun",
            "Space Infusomat",
            "00:12:21",
            "pump",
            EMBEDDED,
            DhcpProfile("BBraun SpaceCom2", (1, 3, 6, 15, 42), 576),
            "SpaceCom2/A.1.4",
            None,
        ),
    ),
    "ventilator": (
        DeviceProfile(
            "ventilator",
            "ventilator",
            True,
            "Draeger",
            "Evita V800",
            "00:30:e6",
            "vent",
            RTOS,
            DhcpProfile("Draeger Evita V800", (1, 3, 6, 12, 15, 42), 576),
            "Evita V800 SW 2.51",
            "service.draeger.com",
        ),
    ),
    "central_station": (
        DeviceProfile(
            "central_station",
            "patient_monitor",
            True,
            "Philips",
            "IntelliVue Information Center iX",
            "00:09:5c",
            "pic",
            WINDOWS,
            DhcpProfile("MSFT 5.0", WIN_DHCP.parameter_list, None),
            "PIIC iX C.03",
            "remote.philips.com",
        ),
    ),
    "ct_scanner": (
        DeviceProfile(
            "ct_scanner",
            "imaging_modality",
            True,
            "Siemens",
            "SOMATOM go.Up",
            "00:0e:8c",
            "ct",
            WINDOWS,
            DhcpProfile("SIEMENS SOMATOM", (1, 3, 6, 12, 15, 28, 42, 119), None),
            "syngo CT VA40",
            "srs.siemens-healthineers.com",
        ),
    ),
    "mr_scanner": (
        DeviceProfile(
            "mr_scanner",
            "imaging_modality",
            True,
            "GE Healthcare",
            "SIGNA Artist",
            "44:4b:5d",
            "mr",
            LINUX,
            DhcpProfile("GEHC SIGNA", (1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42), 576),
            "SIGNA DV29.1",
            "insite.gehealthcare.com",
        ),
    ),
    "ultrasound": (
        DeviceProfile(
            "ultrasound",
            "imaging_modality",
            True,
            "Philips",
            "EPIQ 7",
            "00:09:5c",
            "us",
            WINDOWS,
            DhcpProfile("Philips EPIQ", (1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 121), None),
            "EPIQ 9.0.3",
            "remote.philips.com",
        ),
    ),
    "lab_analyzer": (
        DeviceProfile(
            "lab_analyzer",
            "lab_analyzer",
            True,
            "Sysmex",
            "XN-1000",
            "00:06:6b",
            "an",
            EMBEDDED,
            DhcpProfile("Sysmex XN", (1, 3, 6), 576),
            "XN-1000 00-22",
            "caresphere.sysmex.com",
        ),
        DeviceProfile(
            "lab_analyzer",
            "lab_analyzer",
            True,
            "Roche",
            "cobas 6000",
            "00:0e:2f",
            "an",
            LINUX,
            DhcpProfile("Roche cobas", (1, 3, 6, 12, 15, 28, 42), 1500),
            "cobas 6000 05-02",
            None,
        ),
    ),
    "dicom_workstation": (
        DeviceProfile(
            "dicom_workstation",
            "workstation",
            False,
            "Dell",
            "Precision 3660",
            "00:14:22",
            "ws",
            WINDOWS,
            WIN_DHCP,
            "RadiAnt 2024.1",
        ),
    ),
    "nurse_workstation": (
        DeviceProfile(
            "nurse_workstation",
            "workstation",
            False,
            "Dell",
            "OptiPlex 7090",
            "00:14:22",
            "ws",
            WINDOWS,
            WIN_DHCP,
            "Windows 10 Enterprise",
        ),
    ),
    "it_workstation": (
        DeviceProfile(
            "it_workstation",
            "workstation",
            False,
            "HP",
            "EliteDesk 800 G6",
            "00:1b:78",
            "ws",
            WINDOWS,
            WIN_DHCP,
            "Windows 11 Enterprise",
        ),
    ),
    "printer": (
        DeviceProfile(
            "printer",
            "printer",
            False,
            "HP",
            "LaserJet Enterprise M507",
            "00:1b:78",
            "prn",
            EMBEDDED,
            DhcpProfile(
                "Hewlett-Packard JetDirect",
                (1, 3, 44, 6, 7, 12, 15, 22, 54, 58, 59, 69, 18, 144),
                None,
            ),
            "HP LaserJet M507 2409081_051040",
        ),
        DeviceProfile(
            "printer",
            "printer",
            False,
            "Zebra",
            "ZD621",
            "00:07:4d",
            "prn",
            EMBEDDED,
            DhcpProfile("Zebra Technologies ZD621", (1, 3, 6, 12, 15, 44), 576),
            "Zebra ZD621 V93.21.15Z",
        ),
    ),
}
"""Clinical and IT endpoints; counted by ``devices``. Variants alternate within a role."""

SERVER_PROFILES: dict[str, DeviceProfile] = {
    "pacs": DeviceProfile(
        "pacs",
        "server",
        True,
        "Dell",
        "PowerEdge R740",
        "00:14:22",
        "pacs",
        LINUX,
        None,
        "SimPACS 7.2",
    ),
    "emr": DeviceProfile(
        "emr",
        "server",
        False,
        "VMware",
        "Virtual Machine",
        "00:50:56",
        "emr",
        LINUX,
        None,
        "SimEMR 2025.2",
    ),
    "hl7_engine": DeviceProfile(
        "hl7_engine",
        "server",
        False,
        "VMware",
        "Virtual Machine",
        "00:50:56",
        "hl7",
        LINUX,
        None,
        "Mirth Connect 4.5.0",
    ),
    "dhcp_server": DeviceProfile(
        "dhcp_server",
        "server",
        False,
        "VMware",
        "Virtual Machine",
        "00:50:56",
        "dhcp",
        WINDOWS,
        None,
        "Windows Server 2022",
    ),
    "dns_server": DeviceProfile(
        "dns_server",
        "server",
        False,
        "VMware",
        "Virtual Machine",
        "00:50:56",
        "dns",
        WINDOWS,
        None,
        "Windows Server 2022",
    ),
    "file_server": DeviceProfile(
        "file_server",
        "server",
        False,
        "Dell",
        "PowerEdge R640",
        "00:14:22",
        "files",
        WINDOWS,
        None,
        "Windows Server 2019",
    ),
    "backup_server": DeviceProfile(
        "backup_server",
        "server",
        False,
        "Dell",
        "PowerEdge R540",
        "00:14:22",
        "backup",
        LINUX,
        None,
        "OpenSSH_8.9p1 Ubuntu-3ubuntu0.10",
    ),
    "nms": DeviceProfile(
        "nms",
        "server",
        False,
        "VMware",
        "Virtual Machine",
        "00:50:56",
        "nms",
        LINUX,
        None,
        "LibreNMS 24.1",
    ),
    "infusion_server": DeviceProfile(
        "infusion_server",
        "server",
        False,
        "Dell",
        "PowerEdge R640",
        "00:14:22",
        "pumpsrv",
        WINDOWS,
        None,
        "Microsoft-IIS/10.0",
    ),
}
"""Data-center infrastructure, always present, one each."""

SERVER_NAMES: dict[str, str] = {
    "pacs": "pacs",
    "emr": "emr",
    "hl7_engine": "hl7",
    "dhcp_server": "dhcp",
    "dns_server": "dns",
    "file_server": "files",
    "backup_server": "backup",
    "nms": "nms",
    "infusion_server": "pumpsrv",
}
"""Host names (and DNS labels under ``hospital.local``) of the servers."""

DOMAIN = "hospital.local"


@dataclass(frozen=True, slots=True)
class ExternalService:
    """An internet destination: its DNS name, who runs it, how it is reached."""

    name: str
    vendor: str
    app: str
    """``tls`` (443), ``http`` (80), ``ntp`` (123) or ``dns`` (53)."""


EXTERNAL_SERVICES: tuple[ExternalService, ...] = (
    ExternalService("remote.philips.com", "Philips", "tls"),
    ExternalService("insite.gehealthcare.com", "GE Healthcare", "tls"),
    ExternalService("srs.siemens-healthineers.com", "Siemens", "tls"),
    ExternalService("spectrum.baxter.com", "Baxter", "tls"),
    ExternalService("service.draeger.com", "Draeger", "tls"),
    ExternalService("caresphere.sysmex.com", "Sysmex", "tls"),
    ExternalService("update.microsoft.com", "Microsoft", "tls"),
    ExternalService("download.windowsupdate.com", "Microsoft", "tls"),
    ExternalService("ocsp.digicert.com", "DigiCert", "http"),
    ExternalService("security.ubuntu.com", "Canonical", "http"),
    ExternalService("pool.ntp.org", "NTP Pool", "ntp"),
    ExternalService("dns.quad9.net", "Quad9", "dns"),
)

PUBLIC_FIRST_OCTETS: tuple[int, ...] = (13, 18, 20, 34, 35, 40, 52, 104)
"""First octets of the public (globally routed) addresses the simulator hands out."""
