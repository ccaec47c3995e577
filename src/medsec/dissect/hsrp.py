"""Cisco Hot Standby Router Protocol: version 1 (RFC 2281, UDP 1985 to 224.0.0.2) and
version 2 (UDP 1985 to 224.0.0.102, UDP 2029 to ff02::66 for IPv6), the first-hop redundancy
protocol of Cisco routers and layer-3 switches.

Version 1 is one fixed 20-byte message; version 2 is a sequence of TLVs (type, length): the
group state TLV (1) carries what version 1 did plus the sender's interface MAC, and text (3)
or MD5 (4) authentication TLVs may follow. Only the routers of a standby group send HSRP, so
each message is a fact about its sender. The authentication string is never kept: only that
one crossed in the clear, and whether it is the documented default ``cisco``.
"""

from __future__ import annotations

import ipaddress
import logging
import struct
from collections.abc import Iterator
from dataclasses import replace
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.infrastructure import HsrpMessage

logger = logging.getLogger(__name__)

OP_CODES = {0: "hello", 1: "coup", 2: "resign", 3: "advertise"}
V1_STATES = {0: "initial", 1: "learn", 2: "listen", 4: "speak", 8: "standby", 16: "active"}
V2_STATES = {0: "disabled", 1: "initial", 2: "learn", 3: "listen", 4: "speak", 5: "standby",
             6: "active"}  # fmt: skip
DEFAULT_TEXT = b"cisco\x00\x00\x00"
"""The authentication string of a group configured without one (RFC 2281 section 5)."""
MAX_TLVS = 64


class HsrpError(DissectError):
    """An HSRP message is malformed (short, unknown version, TLV past the datagram)."""


def _group_state(value: bytes, ctx: PacketContext) -> HsrpMessage:
    """The v2 group state TLV: version, op code, state, IP version, group, identifier (MAC),
    priority, hello and hold time (ms), virtual IP (16 bytes, IPv4 in the first 4)."""
    if len(value) < 40:
        raise HsrpError(f"group state TLV of {len(value)} bytes")
    version, op, state, ip_version = value[:4]
    (group,) = struct.unpack_from("!H", value, 4)
    priority, hello, hold = struct.unpack_from("!3I", value, 12)
    if ip_version == 6:
        vip = str(ipaddress.IPv6Address(value[24:40]))
    else:
        vip = str(ipaddress.IPv4Address(value[24:28]))
    return HsrpMessage(
        ctx=ctx,
        version=version,
        op_code=op,
        op_code_name=OP_CODES.get(op, f"op-{op}"),
        state=state,
        state_name=V2_STATES.get(state),
        group=group,
        priority=priority,
        hello_time=hello,
        hold_time=hold,
        virtual_ip=vip,
        identifier=":".join(f"{b:02x}" for b in value[6:12]),
    )


class HsrpDissector:
    """HSRP v1 and v2 on UDP 1985 (and 2029 for HSRP for IPv6)."""

    name: ClassVar[str] = "hsrp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({1985, 2029})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 2

    def signature(self, head: bytes) -> bool:
        """A v1 message (version 0, known op code and state) or a v2 group state TLV."""
        if len(head) == 20 and head[0] == 0:
            return head[1] in OP_CODES and head[2] in V1_STATES
        return len(head) >= 42 and head[0] == 1 and head[1] == 40 and head[2] == 2

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if not payload:
            raise HsrpError("empty datagram")
        if payload[0] == 0:
            yield self._v1(payload, ctx)
        elif payload[0] in (1, 2, 3, 4):
            yield from self._v2(payload, ctx)
        else:
            raise HsrpError(f"neither HSRP v1 (version 0) nor a v2 TLV: {payload[0]:#04x}")

    @staticmethod
    def _v1(payload: bytes, ctx: PacketContext) -> HsrpMessage:
        if len(payload) < 20:
            raise HsrpError(f"HSRP v1 message of {len(payload)} bytes")
        op, state, hello, hold, priority, group = payload[1:7]
        auth = payload[8:16]
        return HsrpMessage(
            ctx=ctx,
            version=0,
            op_code=op,
            op_code_name=OP_CODES.get(op, f"op-{op}"),
            state=state,
            state_name=V1_STATES.get(state),
            group=group,
            priority=priority,
            hello_time=hello,
            hold_time=hold,
            virtual_ip=str(ipaddress.IPv4Address(payload[16:20])),
            authentication="text",
            default_authentication=auth == DEFAULT_TEXT,
        )

    @staticmethod
    def _v2(payload: bytes, ctx: PacketContext) -> Iterator[HsrpMessage]:
        pos = 0
        groups: list[HsrpMessage] = []
        authentication: str | None = None
        default: bool | None = None
        for _ in range(MAX_TLVS):
            if pos >= len(payload):
                break
            if pos + 2 > len(payload):
                raise HsrpError("TLV header cut short")
            kind, length = payload[pos], payload[pos + 1]
            value = payload[pos + 2 : pos + 2 + length]
            if len(value) < length:
                raise HsrpError(f"TLV {kind} of length {length} runs past the datagram")
            pos += 2 + length
            if kind == 1:
                groups.append(_group_state(value, ctx))
            elif kind == 3:
                authentication = "text"
                default = value == DEFAULT_TEXT
            elif kind == 4:
                authentication = "md5"
        for group in groups:  # none: interface state (advertise) TLVs only
            yield replace(group, authentication=authentication, default_authentication=default)
