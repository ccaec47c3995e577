"""Spanning tree BPDUs: STP (IEEE 802.1D), RSTP (802.1w, 802.1D-2004 clause 9), MSTP (802.1Q
clause 14) and Cisco PVST+/Rapid-PVST+.

BPDUs travel in 802.3 frames with an LLC header (DSAP/SSAP 0x42, UI) to 01:80:c2:00:00:00;
Cisco's per-VLAN spanning tree puts the same BPDU behind LLC/SNAP (OUI 00-00-0C, PID 0x010B)
to 01:00:0c:cc:cc:cd. The dissector receives every 802.3/LLC frame (``llc``) alongside CDP;
frames that are not BPDUs give nothing. Only bridges send BPDUs, so each one is a fact about
its sender. The MSTI records of an MST BPDU are not read: the CIST part names the bridge.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.infrastructure import StpBpdu

logger = logging.getLogger(__name__)

LLC_HEADER = b"\x42\x42\x03"
"""DSAP 0x42, SSAP 0x42 (bridge spanning tree protocol), UI."""
PVST_HEADER = b"\xaa\xaa\x03\x00\x00\x0c\x01\x0b"
"""LLC/SNAP, Cisco OUI 00-00-0C, PID 0x010B (PVST+)."""
BPDU_TYPES = {0x00: "config", 0x80: "tcn", 0x02: "rst"}
PORT_ROLES = ("master-or-unknown", "alternate-backup", "root", "designated")
CONFIG_BYTES = 35
"""Protocol id through forward delay of a configuration BPDU."""


class StpError(DissectError):
    """A BPDU is malformed (unknown protocol id or type, shorter than its type needs)."""


def _bridge_id(raw: bytes) -> tuple[int, int, str]:
    """Priority (upper 4 bits, a multiple of 4096), system id extension, MAC."""
    word = (raw[0] << 8) | raw[1]
    return word & 0xF000, word & 0x0FFF, ":".join(f"{b:02x}" for b in raw[2:8])


class StpDissector:
    """BPDUs in 802.3 LLC frames and Cisco PVST+ SNAP frames."""

    name: ClassVar[str] = "stp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"l2"})
    ports: ClassVar[frozenset[int]] = frozenset()
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = True
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """The STP LLC header, or PVST+'s SNAP header, then protocol identifier 0."""
        if head.startswith(LLC_HEADER):
            return head[3:5] == b"\x00\x00"
        return head.startswith(PVST_HEADER) and head[8:10] == b"\x00\x00"

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if payload.startswith(LLC_HEADER):
            bpdu, encapsulation = payload[3:], "llc"
        elif payload.startswith(PVST_HEADER):
            bpdu, encapsulation = payload[8:], "pvst+"
        else:
            return  # CDP, VTP, DTP, NetBEUI ...: not spanning tree
        if len(bpdu) < 4:
            raise StpError(f"BPDU of {len(bpdu)} bytes")
        if bpdu[:2] != b"\x00\x00":
            raise StpError(f"protocol identifier {bpdu[:2].hex()}")
        version, kind = bpdu[2], bpdu[3]
        bpdu_type = BPDU_TYPES.get(kind)
        if bpdu_type is None:
            raise StpError(f"BPDU type {kind:#04x}")
        if bpdu_type == "tcn":
            yield StpBpdu(
                ctx=ctx, encapsulation=encapsulation, protocol_version=version, bpdu_type="tcn"
            )
            return
        if len(bpdu) < CONFIG_BYTES:
            raise StpError(f"{bpdu_type} BPDU of {len(bpdu)} bytes")
        flags = bpdu[4]
        root_priority, root_ext, root_mac = _bridge_id(bpdu[5:13])
        (cost,) = struct.unpack_from("!I", bpdu, 13)
        bridge_priority, bridge_ext, bridge_mac = _bridge_id(bpdu[17:25])
        port_id, age, max_age, hello, delay = struct.unpack_from("!5H", bpdu, 25)
        yield StpBpdu(
            ctx=ctx,
            encapsulation=encapsulation,
            protocol_version=version,
            bpdu_type=bpdu_type,
            flags=flags,
            port_role=PORT_ROLES[(flags >> 2) & 3] if bpdu_type == "rst" else None,
            root_priority=root_priority,
            root_system_id_extension=root_ext,
            root_mac=root_mac,
            root_path_cost=cost,
            bridge_priority=bridge_priority,
            bridge_system_id_extension=bridge_ext,
            bridge_mac=bridge_mac,
            port_id=port_id,
            message_age=age / 256,
            max_age=max_age / 256,
            hello_time=hello / 256,
            forward_delay=delay / 256,
        )
