"""NetBIOS datagram service and browser dissector: frames built from RFC 1002 / [MS-BRWS] /
[MS-CIFS], and the real announcements of the shared captures."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.netbios_dgm import NetbiosDgmDissector, server_type_names
from medsec.dissect.pipeline import DissectPipeline
from medsec.model.errors import DissectError
from medsec.model.observations import Observation
from medsec.model.observations.browser import (
    BrowserDomainAnnouncement,
    BrowserElectionRequest,
    BrowserHostAnnouncement,
    BrowserMessage,
    NetbiosDatagram,
)

from tests_support.browser_frames import (
    datagram,
    domain_announcement,
    election_request,
    host_announcement,
    lanman_announcement,
    mailslot_write,
    nb_name,
)
from tests_support.dissect_harness import ctx

D = NetbiosDgmDissector()
UDP = ctx(transport="udp", src_port=138, dst_port=138, dst_ip="10.1.255.255")
XP_FLAGS = 0x00031003  # workstation, server, NT, potential + backup browser


def one(data: bytes) -> Observation:
    (obs,) = D.dissect(data, UDP)
    return obs


def test_registered_after_the_name_service() -> None:
    names = [d.name for d in default_dissectors()]
    assert names.index("netbios-dgm") == names.index("netbios-ns") + 1


def test_server_type_names() -> None:
    assert server_type_names(XP_FLAGS) == (
        "SV_TYPE_WORKSTATION",
        "SV_TYPE_SERVER",
        "SV_TYPE_NT",
        "SV_TYPE_POTENTIAL_BROWSER",
        "SV_TYPE_BACKUP_BROWSER",
    )
    assert server_type_names(0x80400000) == ("SV_TYPE_WINDOWS", "SV_TYPE_DOMAIN_ENUM")
    assert server_type_names(0x08000000) == ()  # an unnamed bit stays in the raw value only


def test_host_announcement_fields() -> None:
    frame = host_announcement("WS-RADIOLOGY1", (6, 1), XP_FLAGS, b"Reading room 2", update_count=3)
    obs = one(datagram(mailslot_write(frame)))
    assert isinstance(obs, BrowserHostAnnouncement)
    assert (obs.opcode, obs.announcement, obs.mailslot) == (1, "host", "\\MAILSLOT\\BROWSE")
    assert (obs.source_name, obs.source_suffix) == ("WS-RADIOLOGY1", 0x00)
    assert (obs.destination_name, obs.destination_suffix) == ("HOSPITAL", 0x1D)
    assert (obs.update_count, obs.periodicity, obs.server_name) == (3, 720000, "WS-RADIOLOGY1")
    assert (obs.os_version_major, obs.os_version_minor) == (6, 1)
    assert obs.server_type == XP_FLAGS and "SV_TYPE_NT" in obs.server_type_names
    assert (obs.browser_version_major, obs.browser_version_minor) == (15, 1)
    assert (obs.signature, obs.comment) == (0xAA55, "Reading room 2")


def test_sixteen_byte_server_name_and_hostile_comment() -> None:
    # a 16-byte name has no NUL; control bytes and non-ASCII are dropped from the comment,
    # which is cut at 128 characters
    frame = host_announcement("ABCDEFGHIJKLMNOP", (5, 1), 1, b"\x1b[31mx\xff" + b"y" * 300)
    obs = one(datagram(mailslot_write(frame)))
    assert isinstance(obs, BrowserHostAnnouncement)
    assert obs.server_name == "ABCDEFGHIJKLMNOP"
    assert obs.comment is not None and obs.comment.startswith("[31mxy") and len(obs.comment) == 128


def test_local_master_announcement_from_a_scoped_name() -> None:
    frame = host_announcement("NAS1", (4, 9), 0x00849A03, b"nas1 server", opcode=15)
    obs = one(datagram(mailslot_write(frame), destination=("HOSPITAL", 0x1E), msg_type=0x12))
    assert isinstance(obs, BrowserHostAnnouncement)
    assert (obs.announcement, obs.destination_suffix) == ("local_master", 0x1E)
    assert "SV_TYPE_XENIX_SERVER" in obs.server_type_names
    # NetBIOS scope labels after the encoded name are skipped
    names = nb_name("WS1", 0, scope=b"\x04corp\x03lan") + nb_name("HOSPITAL", 0x1D)
    header = struct.pack("!BBH4sHHH", 0x11, 2, 1, bytes(4), 138, len(names), 0)
    obs = one(header + names + mailslot_write(frame))
    assert isinstance(obs, BrowserHostAnnouncement) and obs.source_name == "WS1"


def test_domain_announcement() -> None:
    obs = one(datagram(mailslot_write(domain_announcement("HOSPITAL", "NAS1"))))
    assert isinstance(obs, BrowserDomainAnnouncement)
    assert (obs.machine_group, obs.local_master_browser_name) == ("HOSPITAL", "NAS1")
    assert (obs.browser_config_version_major, obs.browser_config_version_minor) == (4, 9)
    assert obs.server_type_names == ("SV_TYPE_NT", "SV_TYPE_DOMAIN_ENUM")
    assert (obs.browser_version_major, obs.signature) == (15, 0xAA55)


def test_election_request_criteria() -> None:
    # criteria as sent little-endian: desire 0x02 (master), browser 15.1, OS 0x20 (NT server)
    obs = one(datagram(mailslot_write(election_request("DC01", 0x20010F02, uptime=5000))))
    assert isinstance(obs, BrowserElectionRequest)
    assert (obs.version, obs.criteria_os, obs.criteria_desire) == (1, 0x20, 0x02)
    assert (obs.criteria_browser_version_major, obs.criteria_browser_version_minor) == (15, 1)
    assert (obs.uptime, obs.server_name) == (5000, "DC01")


@pytest.mark.parametrize(
    ("frame", "opcode_name", "names", "token"),
    [
        (b"\x02\x00WS1\x00", "announcement_request", ("WS1",), None),
        (struct.pack("<BBI", 9, 4, 17900), "get_backup_list_request", (), 17900),
        (struct.pack("<BBI", 10, 2, 7) + b"NAS1\x00DC01\x00", "get_backup_list_response",
         ("NAS1", "DC01"), 7),
        (b"\x0bWS1\x00", "become_backup", ("WS1",), None),
        (b"\x0dDC01\x00", "master_announcement", ("DC01",), None),
        (b"\x0e\x01", "reset_state_request", (), None),
    ],
)  # fmt: skip
def test_other_browser_frames(
    frame: bytes, opcode_name: str, names: tuple[str, ...], token: int | None
) -> None:
    obs = one(datagram(mailslot_write(frame)))
    assert isinstance(obs, BrowserMessage)
    assert (obs.opcode, obs.opcode_name, obs.names, obs.token) == (
        frame[0],
        opcode_name,
        names,
        token,
    )


def test_lanman_announcement() -> None:
    frame = lanman_announcement("NAS1", (4, 9), 0x00009A03, "nas1 server")
    obs = one(datagram(mailslot_write(frame, "\\MAILSLOT\\LANMAN")))
    assert isinstance(obs, BrowserHostAnnouncement)
    assert (obs.mailslot, obs.server_name, obs.comment) == (
        "\\MAILSLOT\\LANMAN",
        "NAS1",
        "nas1 server",
    )
    assert (obs.os_version_major, obs.os_version_minor, obs.periodicity) == (4, 9, 720000)
    assert obs.browser_version_major is None and obs.signature is None


def test_other_mailslots_and_unknown_opcodes_give_the_datagram() -> None:
    netlogon = one(datagram(mailslot_write(b"\x12\x00abc", "\\MAILSLOT\\NET\\NETLOGON")))
    assert isinstance(netlogon, NetbiosDatagram)
    assert (netlogon.msg_type_name, netlogon.mailslot) == (
        "direct_group",
        "\\MAILSLOT\\NET\\NETLOGON",
    )
    assert (netlogon.source_ip, netlogon.source_port, netlogon.source_name) == (
        "10.1.2.3",
        138,
        "WS-RADIOLOGY1",
    )
    unknown = one(datagram(mailslot_write(b"\x63\x00")))
    assert isinstance(unknown, NetbiosDatagram) and unknown.mailslot == "\\MAILSLOT\\BROWSE"
    other = one(datagram(b"not smb at all", msg_type=0x10))
    assert isinstance(other, NetbiosDatagram) and other.mailslot is None
    reply = one(datagram(mailslot_write(b"\x01", reply=True)))
    assert isinstance(reply, NetbiosDatagram) and reply.mailslot is None


def test_later_fragments_are_not_parsed_as_smb() -> None:
    frame = host_announcement("WS1", (5, 1), 1)
    obs = one(datagram(mailslot_write(frame), flags=0x00))  # not the first fragment
    assert isinstance(obs, NetbiosDatagram) and obs.mailslot is None


def test_error_and_query_datagrams() -> None:
    error = one(struct.pack("!BBH4sHB", 0x13, 0x02, 9, bytes([10, 0, 0, 1]), 138, 0x82))
    assert isinstance(error, NetbiosDatagram)
    assert (error.msg_type_name, error.error_code, error.source_ip) == ("error", 0x82, "10.0.0.1")
    query = one(struct.pack("!BBH4sH", 0x14, 0x02, 9, bytes(4), 138) + nb_name("PACS", 0x20))
    assert isinstance(query, NetbiosDatagram)
    assert (query.msg_type_name, query.destination_name, query.destination_suffix) == (
        "query_request",
        "PACS",
        0x20,
    )


@pytest.mark.parametrize(
    "data",
    [
        b"\x11\x02\x00",  # shorter than the header
        b"\x42" + bytes(20),  # unknown message type
        b"\x13\x02" + bytes(8),  # error without a code
        datagram(b"")[:30],  # source name cut short
        datagram(b"").replace(b"\x20E", b"\x20Z", 1),  # name not in A..P
        datagram(b"")[:-1],  # destination name without its root label
        datagram(mailslot_write(host_announcement("WS1", (5, 1), 1)[:20])),  # short frame
        datagram(mailslot_write(b"\x08\x01")),  # short election
        datagram(mailslot_write(b"\x0a\x01")),  # short backup list response
        datagram(mailslot_write(b"x" * 40)[:40]),  # Trans words past the end
        datagram(b"\xffSMB\x25" + bytes(27) + b"\x02" + bytes(6)),  # 2 parameter words
    ],
)
def test_malformed_datagrams_raise_dissect_error(data: bytes) -> None:
    with pytest.raises(DissectError):
        list(D.dissect(data, UDP))


def test_trans_data_outside_the_request_is_malformed() -> None:
    smb = bytearray(mailslot_write(host_announcement("WS1", (5, 1), 1)))
    struct.pack_into("<H", smb, 33 + 22, 5000)  # DataCount past the end
    with pytest.raises(DissectError):
        list(D.dissect(datagram(bytes(smb)), UDP))


def test_signature() -> None:
    data = datagram(mailslot_write(host_announcement("WS1", (5, 1), 1)))
    assert D.signature(data)
    assert not D.signature(data[:60])
    assert not D.signature(b"\x13" + data[1:])
    assert not D.signature(data[:15] + b"z" + data[16:])  # source name not in A..P


# --- real captures ----------------------------------------------------------------------


def observations(path: Path) -> list[Observation]:
    if not path.is_file():
        pytest.skip(f"no capture {path}")
    pipeline = DissectPipeline([NetbiosDgmDissector()])
    read_capture(path, sink=pipeline)
    return list(pipeline.observations)


def announcements(path: Path) -> dict[str, BrowserHostAnnouncement]:
    return {
        o.ctx.src_ip or "": o for o in observations(path) if isinstance(o, BrowserHostAnnouncement)
    }


def test_windows_xp_host_announcement(shared_data: Path) -> None:
    # zeek smtp.pcap frame 60: 'MIT-3D655AA09DD' announces OS 5.1, workstation, NT (no NT server)
    xp = announcements(shared_data / "pcap/zeek/smtp.pcap")["10.10.1.20"]
    assert (xp.server_name, xp.source_name, xp.destination_name) == (
        "MIT-3D655AA09DD",
        "MIT-3D655AA09DD",
        "WORKGROUP",
    )
    assert (xp.os_version_major, xp.os_version_minor, xp.server_type) == (5, 1, XP_FLAGS)
    assert (xp.browser_version_major, xp.browser_version_minor, xp.signature) == (15, 1, 0xAA55)


def test_windows_98_frames(shared_data: Path) -> None:
    found = observations(shared_data / "pcap/ndpi/dos_win98_smb_netbeui.pcap")
    hosts = [o for o in found if isinstance(o, BrowserHostAnnouncement)]
    assert {(o.server_name, o.os_version_major, o.os_version_minor) for o in hosts} == {
        ("MDJR98", 4, 0)
    }
    first = hosts[0]
    assert first.server_type == 0x00402003  # workstation, server, WfW, Windows 95+
    assert (first.browser_version_major, first.browser_version_minor) == (21, 4)
    assert {o.announcement for o in hosts} == {"host", "local_master"}
    elections = [o for o in found if isinstance(o, BrowserElectionRequest)]
    assert elections and elections[-1].criteria_os == 0x01  # Windows for Workgroups / 9x
    (domain,) = [o for o in found if isinstance(o, BrowserDomainAnnouncement)]
    assert (domain.machine_group, domain.local_master_browser_name) == ("WORKGROUP", "MDJR98")
    assert {o.opcode_name for o in found if isinstance(o, BrowserMessage)} == {
        "announcement_request"
    }


def test_windows_7_host_announcements(shared_data: Path) -> None:
    found = announcements(shared_data / "pcap/ndpi/netbios.pcap")
    assert {
        ip: (o.server_name, o.os_version_major, o.os_version_minor) for ip, o in found.items()
    } == {
        "10.0.5.9": ("NVR9", 6, 1),
        "10.0.5.93": ("BOWIE", 6, 1),
    }
    assert found["10.0.5.9"].server_type == 0x00011007  # ... SQL server, NT, no NT server


def test_samba_local_master_and_mac_backup_list_requests(shared_data: Path) -> None:
    found = observations(shared_data / "pcap/ndpi/1kxun.pcap")
    (samba,) = [o for o in found if isinstance(o, BrowserHostAnnouncement)]
    assert (samba.server_name, samba.announcement) == ("SANJI-LIFEBOOK-L", "local_master")
    assert (samba.os_version_major, samba.os_version_minor) == (4, 9)  # Samba's default
    assert "SV_TYPE_XENIX_SERVER" in samba.server_type_names  # SV_TYPE_SERVER_UNIX
    assert samba.comment == "sanji-LIFEBOOK-LH531 server (Samba, Ubuntu)"
    requests = [o for o in found if isinstance(o, BrowserMessage)]
    assert {o.destination_name for o in requests} == {"WORKGROUP", "MSHOME", "MYGROUP"}
    assert {o.opcode_name for o in requests} == {"get_backup_list_request"}
