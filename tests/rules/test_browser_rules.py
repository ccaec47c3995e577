"""The browser announcement rules (fingerprints/browser.yaml): Windows versions and editions
from OS version + SV_TYPE bits, Samba never taken for Windows, on built frames and on the
real announcements of the shared captures."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.netbios_dgm import NetbiosDgmDissector
from medsec.dissect.pipeline import DissectPipeline
from medsec.identify.engine import IdentifyEngine, Identity
from medsec.identify.rules import Rule, load_rules

from tests_support.browser_frames import datagram, host_announcement, mailslot_write
from tests_support.dissect_harness import ctx

WORKSTATION, SERVER, SQL, DC, BDC = 0x1, 0x2, 0x4, 0x8, 0x10
PRINTQ, XENIX, NT, WFW, SERVER_NT = 0x200, 0x800, 0x1000, 0x2000, 0x8000
POTENTIAL, MASTER, WINDOWS = 0x10000, 0x40000, 0x400000


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules()


def identify(
    rules: list[Rule], os_version: tuple[int, int], server_type: int, comment: bytes = b""
) -> Identity | None:
    frame = host_announcement("HOST1", os_version, server_type, comment)
    context = ctx(
        transport="udp", src_ip="10.1.2.3", dst_ip="10.1.255.255", src_port=138, dst_port=138
    )
    engine = IdentifyEngine(rules)
    engine.feed(NetbiosDgmDissector().dissect(datagram(mailslot_write(frame)), context))
    found = {i.host: i for i in engine.identities()}
    return found.get("10.1.2.3")


def attrs(identity: Identity | None) -> dict[str, str]:
    if identity is None:
        return {}
    return {a.name: a.value for a in identity.attributes if a.name != "software"}


WS = "it_workstation"


@pytest.mark.parametrize(
    ("version", "flags", "expected"),
    [
        # expected: (os, os_version, category)
        ((5, 1), WORKSTATION | SERVER | NT | POTENTIAL, ("Windows", "XP", WS)),
        ((5, 2), WORKSTATION | SERVER | NT, ("Windows", "XP", WS)),
        ((5, 2), WORKSTATION | SERVER | NT | SERVER_NT, ("Windows", "2003", "server")),
        ((6, 1), WORKSTATION | SERVER | SQL | NT | POTENTIAL, ("Windows", "7", WS)),
        ((6, 1), WORKSTATION | SERVER | NT | SERVER_NT, ("Windows", "2008 R2", "server")),
        ((6, 3), WORKSTATION | SERVER | NT | DC | SERVER_NT, ("Windows", "2012 R2", "server")),
        ((10, 0), WORKSTATION | SERVER | NT, ("Windows", "10 / 11", WS)),
        ((10, 0), WORKSTATION | SERVER | NT | SERVER_NT, ("Windows", None, "server")),
        ((4, 0), WORKSTATION | SERVER | NT, ("Windows", "NT 4.0", None)),
        ((4, 0), WORKSTATION | SERVER | WFW | WINDOWS, ("Windows", "95/98/ME", WS)),
    ],
)
def test_windows_versions_and_editions(
    rules: list[Rule],
    version: tuple[int, int],
    flags: int,
    expected: tuple[str | None, str | None, str | None],
) -> None:
    found = attrs(identify(rules, version, flags))
    assert set(found) <= {"os", "os_version", "category"}
    assert (found.get("os"), found.get("os_version"), found.get("category")) == expected


def test_samba_is_never_windows(rules: list[Rule]) -> None:
    # Samba's default flags: workstation, server, print queue, SERVER_UNIX, NT, NT server;
    # also when an administrator sets "announce version = 6.1"
    for version in ((4, 9), (6, 1), (5, 0)):
        identity = identify(rules, version, WORKSTATION | SERVER | PRINTQ | XENIX | NT | SERVER_NT)
        assert identity is not None
        assert attrs(identity) == {}
        assert identity.all("software") == ["Samba"]
    ubuntu = identify(
        rules, (4, 9), WORKSTATION | XENIX | NT | SERVER_NT, b"nas server (Samba, Ubuntu)"
    )
    assert attrs(ubuntu) == {"os": "Linux"}
    dc = identify(rules, (4, 9), WORKSTATION | SERVER | XENIX | NT | SERVER_NT | DC)
    assert attrs(dc) == {"category": "server"}  # a Samba domain controller is still a server


def test_print_queue_bit_says_nothing_of_printers(rules: list[Rule]) -> None:
    assert identify(rules, (6, 1), SERVER | PRINTQ) is None  # no NT bit: nothing stated
    assert "category" not in attrs(identify(rules, (4, 9), PRINTQ | XENIX))


def test_unknown_systems_stay_unknown(rules: list[Rule]) -> None:
    # an announcement without SV_TYPE_NT or SV_TYPE_WINDOWS (another implementation)
    assert identify(rules, (6, 1), WORKSTATION | SERVER) is None
    assert identify(rules, (3, 11), WORKSTATION | SERVER | WFW) is None


def capture_identities(path: Path, rules: list[Rule]) -> dict[str, Identity]:
    if not path.is_file():
        pytest.skip(f"no capture {path}")
    pipeline = DissectPipeline(default_dissectors())
    read_capture(path, sink=pipeline)
    engine = IdentifyEngine(rules)
    engine.feed(pipeline.observations)
    return {i.host: i for i in engine.identities()}


def test_real_announcements(shared_data: Path, rules: list[Rule]) -> None:
    xp = capture_identities(shared_data / "pcap/zeek/smtp.pcap", rules)["10.10.1.20"]
    assert (xp.get("os"), xp.get("os_version"), xp.get("category")) == (
        "Windows",
        "XP",
        "it_workstation",
    )
    win9x = capture_identities(shared_data / "pcap/ndpi/dos_win98_smb_netbeui.pcap", rules)
    host = win9x["192.168.239.129"]
    assert (host.get("os"), host.get("os_version")) == ("Windows", "95/98/ME")
    assert host.get("category") == "it_workstation"
    seven = capture_identities(shared_data / "pcap/ndpi/netbios.pcap", rules)
    assert {seven[ip].get("os_version") for ip in ("10.0.5.9", "10.0.5.93")} == {"7"}
    samba = capture_identities(shared_data / "pcap/ndpi/1kxun.pcap", rules)["192.168.5.67"]
    assert samba.get("os") != "Windows" and "Samba" in samba.all("software")
