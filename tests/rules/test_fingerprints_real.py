"""The shipped fingerprint rules on real third-party captures: dissect, identify, and check
the identities the captures really show (values read from the packets by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.pipeline import DissectPipeline
from medsec.identify.engine import IdentifyEngine, Identity
from medsec.identify.rules import load_rules
from medsec.model.observations.hl7 import Hl7Message

from tests_support.dissect_harness import ctx


@pytest.fixture(scope="module")
def rules() -> list:  # type: ignore[type-arg]
    return load_rules()


def identities(path: Path, rules: list) -> dict[str, Identity]:  # type: ignore[type-arg]
    if not path.is_file():
        pytest.skip(f"no capture {path}")
    pipeline = DissectPipeline(default_dissectors())
    read_capture(path, sink=pipeline)
    engine = IdentifyEngine(rules)
    engine.feed(pipeline.observations)
    return {i.host: i for i in engine.identities()}


def test_dhcp_xerox_printer_is_keyed_by_its_mac(shared_data: Path, rules: list) -> None:  # type: ignore[type-arg]
    # the DISCOVER comes from 0.0.0.0: the engine names the client by its MAC
    ids = identities(shared_data / "pcap/ndpi/dhcp_2019.pcap", rules)
    assert "0.0.0.0" not in ids
    xerox = ids["9c:93:4e:5f:de:71"]
    assert xerox.get("vendor") == "Xerox"
    assert xerox.get("model") == "ColorQube 8580DN"
    assert xerox.get("category") == "printer"
    assert ids["192.12.193.124"].get("category") == "dhcp_server"


def test_cdp_cisco_1601_ios(shared_data: Path, rules: list) -> None:  # type: ignore[type-arg]
    ids = identities(shared_data / "pcap/zeek/cdp-v1.pcap", rules)
    router = ids["00:e0:1e:d5:d5:15"]  # CDP is layer 2: keyed by the MAC
    assert router.get("vendor") == "Cisco"
    assert router.get("model") == "1601"
    assert router.get("os") == "Cisco IOS"
    assert router.get("os_version") == "11.2(12)P"
    assert router.get("category") == "network_infrastructure"


def test_lldp_bridge_is_infrastructure(shared_data: Path, rules: list) -> None:  # type: ignore[type-arg]
    ids = identities(shared_data / "pcap/zeek/lldp.pcap", rules)
    assert ids["00:22:2d:81:db:10"].get("category") == "network_infrastructure"


def test_ssh_openssh_versions_and_ubuntu(shared_data: Path, rules: list) -> None:  # type: ignore[type-arg]
    ids = identities(shared_data / "pcap/zeek/ssh_ssh.pcap", rules)
    ubuntu = ids["192.168.2.158"]  # SSH-1.99-OpenSSH_6.6.1p1 Ubuntu-2ubuntu2, and a paramiko client
    assert "OpenSSH/6.6.1" in ubuntu.all("software")
    assert "paramiko/1.15.2" in ubuntu.all("software")
    assert ubuntu.get("os") == "Linux"
    assert ubuntu.get("os_version") == "Ubuntu 14.04"
    precise = ids["128.2.6.88"]  # SSH-2.0-OpenSSH_5.9p1 Debian-5ubuntu1.1
    assert precise.get("os_version") == "Ubuntu 12.04"
    assert ids["131.103.20.168"].all("software") == ["OpenSSH/5.3"]
    assert ids["128.2.10.238"].all("software") == ["OpenSSH/3.4"]  # 3.4+p1+gssapi+... patched build
    assert ids["131.103.20.168"].get("os") is None  # a bare OpenSSH_5.3 says nothing of the OS

    loopback = identities(shared_data / "pcap/zeek/ssh_ssh1-ssh2-fingerprints.pcap", rules)
    focal = loopback["127.0.0.1"]
    assert "OpenSSH/8.2" in focal.all("software")
    assert focal.get("os_version") == "Ubuntu 20.04"


def test_ssh_cisco(shared_data: Path, rules: list) -> None:  # type: ignore[type-arg]
    ids = identities(shared_data / "pcap/zeek/ssh_ssh_version_199.pcap", rules)
    for host in ("10.0.0.1", "10.0.0.2"):  # SSH-1.99-Cisco-1.25 / SSH-2.0-Cisco-1.25
        assert ids[host].get("vendor") == "Cisco"
        assert ids[host].get("category") == "network_infrastructure"
        assert ids[host].all("software") == ["Cisco SSH/1.25"]


def test_smb_windows_versions(shared_data: Path, rules: list) -> None:  # type: ignore[type-arg]
    smbv1 = identities(shared_data / "pcap/ndpi/smbv1.pcap", rules)
    assert smbv1["10.128.0.243"].get("os") == "Windows"  # NativeOS Windows 7 Ultimate 7601 SP1
    assert smbv1["10.128.0.243"].get("os_version") == "7"
    assert smbv1["172.16.156.130"].get("os_version") == "2000"  # NativeOS Windows 2000 2195

    smb2 = identities(shared_data / "pcap/zeek/smb_smb2.pcap", rules)
    for host in ("10.0.0.11", "10.0.0.12"):  # NTLM VERSION 6.0.6001
        assert smb2[host].get("os") == "Windows"
        assert smb2[host].get("os_version") == "Vista / Server 2008"

    smb3 = identities(shared_data / "pcap/zeek/smb_smb3.pcap", rules)
    assert smb3["10.160.65.202"].get("os_version") == "10 1607 / Server 2016"  # 10.0.14393


def test_snmp_linux_sysdescr(shared_data: Path, rules: list) -> None:  # type: ignore[type-arg]
    ids = identities(shared_data / "pcap/zeek/snmp_snmpwalk-short.pcap", rules)
    agent = ids["138.68.10.203"]
    assert agent.get("os") == "Linux"
    assert agent.get("os_version") == "4.4.0-31-generic"
    assert "Net-SNMP" in agent.all("software")  # sysObjectID 1.3.6.1.4.1.8072.3.2.10
    assert ids["138.68.14.240"].get("category") == "network_management"  # the snmpwalk side


def test_http_server_and_agents(shared_data: Path, rules: list) -> None:  # type: ignore[type-arg]
    ids = identities(shared_data / "pcap/zeek/http_get.pcap", rules)
    server = ids["192.150.187.43"]  # Server: Apache/2.4.3 (Fedora)
    assert server.all("software") == ["Apache/2.4.3"]
    assert server.get("os") == "Linux"
    assert ids["141.142.228.5"].all("software") == ["Wget/1.14"]

    wu = identities(shared_data / "pcap/ndpi/windowsupdate_over_http.pcap", rules)
    assert wu["10.0.2.15"].get("os") == "Windows"  # Microsoft-Delivery-Optimization/10.0
    assert wu["151.99.72.125"].all("software") == ["nginx"]


def test_hl7_placeholder_applications_identify_nothing(shared_data: Path, rules: list) -> None:  # type: ignore[type-arg]
    # the sample uses the literal SENDING_APPLICATION / RECEIVING_APPLICATION placeholders
    ids = identities(shared_data / "pcap/ndpi/hl7.pcap", rules)
    assert ids == {}


def _hl7(sending: str, receiving: str) -> Hl7Message:
    return Hl7Message(
        ctx=ctx(src_ip="10.10.0.11", dst_ip="10.50.0.5", dst_port=2575),
        field_separator="|",
        encoding_characters="^~\\&",
        sending_application=sending,
        sending_facility="ICU",
        receiving_application=receiving,
        receiving_facility="HOSP",
        message_type="ORU^R01",
        message_code="ORU",
        trigger_event="R01",
        message_structure=None,
        processing_id="P",
        version_id="2.6",
        segment_ids=("MSH", "PID", "OBR", "OBX"),
        acknowledgment_code=None,
        carries_phi=True,
        complete=True,
    )


@pytest.mark.parametrize(
    ("sending", "receiving", "src", "dst"),
    [
        (
            "PIIC",
            "EPIC",
            {"vendor": "Philips", "category": "patient_monitoring_gateway"},
            {"vendor": "Epic Systems", "category": "emr"},
        ),
        (
            "CARESCAPE Gateway",
            "Cloverleaf",
            {"vendor": "GE HealthCare"},
            {"category": "hl7_interface_engine"},
        ),
        (
            "XN-1000",
            "SUNQUEST",
            {"vendor": "Sysmex", "model": "XN-1000", "category": "lab_analyzer"},
            {"category": "lis"},
        ),
        ("ARCHITECT", "LIS", {"vendor": "Abbott", "category": "lab_analyzer"}, {}),
    ],
)
def test_hl7_application_rules(
    rules: list,  # type: ignore[type-arg]
    sending: str,
    receiving: str,
    src: dict[str, str],
    dst: dict[str, str],
) -> None:
    engine = IdentifyEngine(rules)
    engine.feed([_hl7(sending, receiving)])
    ids = {i.host: i for i in engine.identities()}
    for name, value in src.items():
        assert ids["10.10.0.11"].get(name) == value
    for name, value in dst.items():
        assert ids["10.50.0.5"].get(name) == value
    if not dst:
        assert "10.50.0.5" not in ids
