"""NAT-PMP (RFC 6886) and its successor PCP (RFC 6887) on UDP 5351: clients ask their
gateway for its external address and for port mappings; the gateway (a NAT router or
firewall) answers.

NAT-PMP messages start with version 0 and an opcode (responses add 128); PCP messages with
version 2 and an opcode whose top bit (R) marks a response. Each datagram gives one
``PortMappingMessage``. The client's own address in a PCP request is not kept (the packet
context has it).
"""

from __future__ import annotations

import ipaddress
import logging
import struct
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.infrastructure import PortMappingMessage

logger = logging.getLogger(__name__)

NATPMP_OPCODES = {0: "external-address", 1: "map-udp", 2: "map-tcp"}
PCP_OPCODES = {0: "announce", 1: "map", 2: "peer"}
_V4_MAPPED = b"\x00" * 10 + b"\xff\xff"


class PortMappingError(DissectError):
    """A NAT-PMP or PCP message is malformed (unknown version, shorter than its opcode needs)."""


def _pcp_address(raw: bytes) -> str:
    if raw.startswith(_V4_MAPPED):
        return str(ipaddress.IPv4Address(raw[12:16]))
    return str(ipaddress.IPv6Address(raw))


class NatPmpDissector:
    """NAT-PMP and PCP on UDP 5351."""

    name: ClassVar[str] = "nat-pmp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({5351})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 2

    def signature(self, head: bytes) -> bool:
        """Sizes and opcodes only NAT-PMP/PCP use: too weak to route other ports here, so
        the dissector takes UDP 5351 only."""
        return False

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) < 2:
            raise PortMappingError(f"datagram of {len(payload)} bytes")
        version = payload[0]
        if version == 0:
            yield self._natpmp(payload, ctx)
        elif version == 2:
            yield self._pcp(payload, ctx)
        else:
            raise PortMappingError(f"version {version} is neither NAT-PMP (0) nor PCP (2)")

    @staticmethod
    def _natpmp(payload: bytes, ctx: PacketContext) -> PortMappingMessage:
        op = payload[1]
        response = op >= 128
        opcode = op & 0x7F
        name = NATPMP_OPCODES.get(opcode, f"opcode-{opcode}")
        if not response:
            return PortMappingMessage(
                ctx=ctx, protocol="nat-pmp", version=0, opcode=opcode, opcode_name=name,
                response=False,
            )  # fmt: skip
        if len(payload) < 8:
            raise PortMappingError(f"NAT-PMP response of {len(payload)} bytes")
        result, epoch = struct.unpack_from("!HI", payload, 2)
        external = None
        if opcode == 0 and result == 0:
            if len(payload) < 12:
                raise PortMappingError("external address response without the address")
            external = str(ipaddress.IPv4Address(payload[8:12]))
        return PortMappingMessage(
            ctx=ctx,
            protocol="nat-pmp",
            version=0,
            opcode=opcode,
            opcode_name=name,
            response=True,
            result_code=result,
            epoch=epoch,
            external_address=external,
        )

    @staticmethod
    def _pcp(payload: bytes, ctx: PacketContext) -> PortMappingMessage:
        if len(payload) < 24:
            raise PortMappingError(f"PCP message of {len(payload)} bytes")
        response = bool(payload[1] & 0x80)
        opcode = payload[1] & 0x7F
        name = PCP_OPCODES.get(opcode, f"opcode-{opcode}")
        if not response:
            return PortMappingMessage(
                ctx=ctx, protocol="pcp", version=2, opcode=opcode, opcode_name=name,
                response=False,
            )  # fmt: skip
        result = payload[3]
        (epoch,) = struct.unpack_from("!I", payload, 8)
        external = None
        if opcode in (1, 2) and result == 0 and len(payload) >= 24 + 36:
            external = _pcp_address(payload[24 + 20 : 24 + 36])
        return PortMappingMessage(
            ctx=ctx,
            protocol="pcp",
            version=2,
            opcode=opcode,
            opcode_name=name,
            response=True,
            result_code=result,
            epoch=epoch,
            external_address=external,
        )
