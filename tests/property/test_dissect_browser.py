"""NetBIOS datagram service / browser dissector under hostile bytes, plus a round trip.

Arbitrary and mutated datagrams make ``signature`` return a bool and ``dissect`` yield
observations or raise ``DissectError`` - nothing else. Host announcements built from random
field values come back with the same facts.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from medsec.dissect.netbios_dgm import SV_TYPES, NetbiosDgmDissector
from medsec.model.observations import Observation
from medsec.model.observations.browser import BrowserHostAnnouncement

from tests_support.browser_frames import (
    datagram,
    domain_announcement,
    election_request,
    host_announcement,
    lanman_announcement,
    mailslot_write,
    nb_name,
)
from tests_support.dissect_harness import PROPERTY, ctx, hostile_properties, run_hostile

DISSECTORS: list[Any] = [NetbiosDgmDissector()]
UDP = ctx(transport="udp", src_port=138, dst_port=138)


def run(dissector: Any, data: bytes) -> list[Observation]:
    return run_hostile(dissector, data, [UDP])


SEEDS = [
    datagram(mailslot_write(host_announcement("WS-RADIOLOGY1", (5, 1), 0x00031003, b"desk"))),
    datagram(mailslot_write(host_announcement("NAS1", (4, 9), 0x00849A03, b"nas", opcode=15))),
    datagram(mailslot_write(domain_announcement("HOSPITAL", "NAS1"))),
    datagram(mailslot_write(election_request("DC01", 0x20010F02))),
    datagram(mailslot_write(struct.pack("<BBI", 10, 2, 7) + b"NAS1\x00DC01\x00")),
    datagram(mailslot_write(b"\x02\x00WS1\x00")),
    datagram(
        mailslot_write(lanman_announcement("NAS1", (4, 9), 0x9A03, "nas"), "\\MAILSLOT\\LANMAN")
    ),
    datagram(mailslot_write(b"\x12\x00abc", "\\MAILSLOT\\NET\\NETLOGON"), msg_type=0x10),
    struct.pack("!BBH4sHB", 0x13, 0x02, 9, bytes(4), 138, 0x82),
    struct.pack("!BBH4sH", 0x14, 0x02, 9, bytes(4), 138) + nb_name("PACS", 0x20),
]
FRAMING_BYTES = (0x00, 0x01, 0x0C, 0x0F, 0x11, 0x20, 0x25, 0x41, 0x50, 0xC0, 0xFF)
"""Message types, opcodes, the name length 0x20 and the letters A/P, SMB Trans, pointers."""

(
    test_arbitrary_bytes,
    test_mutated_valid_messages,
    test_valid_heads_with_arbitrary_tails,
    test_every_seed_is_recognised_by_some_dissector,
) = hostile_properties(DISSECTORS, SEEDS, FRAMING_BYTES, run)


NAME = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=15)
COMMENT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@PROPERTY
@given(
    server=NAME,
    os_version=st.tuples(st.integers(0, 255), st.integers(0, 255)),
    server_type=st.integers(0, 0xFFFFFFFF),
    comment=COMMENT,
    group=NAME,
    suffix=st.integers(0, 255),
)
def test_host_announcement_round_trip(
    server: str,
    os_version: tuple[int, int],
    server_type: int,
    comment: str,
    group: str,
    suffix: int,
) -> None:
    frame = host_announcement(server, os_version, server_type, comment.encode())
    data = datagram(mailslot_write(frame), source=(server, 0x20), destination=(group, suffix))
    (obs,) = NetbiosDgmDissector().dissect(data, UDP)
    assert isinstance(obs, BrowserHostAnnouncement)
    assert obs.server_name == server.rstrip(" ")
    assert (obs.source_name, obs.source_suffix) == (server.rstrip(" "), 0x20)
    assert (obs.destination_name, obs.destination_suffix) == (group.rstrip(" "), suffix)
    assert (obs.os_version_major, obs.os_version_minor, obs.server_type) == (
        *os_version,
        server_type,
    )
    assert obs.server_type_names == tuple(n for bit, n in SV_TYPES if server_type & bit)
    assert obs.comment == (comment.strip() or None)
