"""VRRP and IGMP dissectors under hostile bytes (IP datagrams, transport ``other``)."""

from __future__ import annotations

from typing import Any

from medsec.dissect.igmp import IgmpDissector
from medsec.dissect.vrrp import VrrpDissector
from medsec.model.observations import Observation

from tests_support.dissect_harness import ctx, hostile_properties, run_hostile

DISSECTORS: list[Any] = [VrrpDissector(), IgmpDissector()]
CONTEXTS = [
    ctx(transport="other", src_ip="192.0.2.2", dst_ip="224.0.0.18", src_port=0, dst_port=0),
    ctx(transport="other", src_ip="fe80::1", dst_ip="ff02::12", src_port=0, dst_port=0,
        ethertype=0x86DD),
]  # fmt: skip
SEEDS = [
    bytes.fromhex("21 07 64 02 01 01 0000 c0000201 c0000202") + b"secret\x00\x00",
    bytes.fromhex("31 01 ff 01 0064 0000 fe800000000000000000000000000001"),
    bytes.fromhex("31 02 64 02 0064 0000 c0000201 c0000202"),
    bytes.fromhex("11 64 ee9b 00000000"),
    bytes.fromhex("11 0a 0000 ef010203 02 7d 0001 c0000209"),
    bytes.fromhex("16 00 fa04 effffffa"),
    bytes.fromhex("22 00 0000 0000 0002 04 00 0000 e00000fb 01 01 0001 ef010101 c0000209 00000000"),
]
FRAMING = (0x00, 0x01, 0x02, 0x11, 0x16, 0x17, 0x21, 0x22, 0x31, 0xFF)


def run(dissector: Any, data: bytes) -> list[Observation]:
    return run_hostile(dissector, data, CONTEXTS)


(
    test_arbitrary_bytes,
    test_mutated_valid_messages,
    test_valid_heads_with_arbitrary_tails,
    test_every_seed_is_recognised_by_some_dissector,
) = hostile_properties(DISSECTORS, SEEDS, FRAMING, run)
