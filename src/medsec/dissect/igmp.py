"""Internet Group Management Protocol (IP protocol 2): versions 1 (RFC 1112), 2 (RFC 2236)
and 3 (RFC 3376).

Membership queries come from the segment's querier - a multicast router, or a switch doing
IGMP snooping with its querier on - so a general query is a fact about its sender's role;
membership reports and leaves come from hosts joining and leaving groups. Layout::

    0: type   1: max resp time (v2) / code (v3), 0 in v1   2: checksum   4: group address
    query v3 (12+ bytes): 8: S|QRV, 9: QQIC, 10: number of sources, 12: sources
    report v3 (type 0x22): 6: number of group records, 8: records
        (record type, aux data len (words), number of sources, group, sources, aux data)
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.routing import IgmpMessage

IP_PROTOCOL = 2
QUERY = 0x11
V1_REPORT = 0x12
V2_REPORT = 0x16
LEAVE = 0x17
V3_REPORT = 0x22
NAMES = {QUERY: "query", V1_REPORT: "report", V2_REPORT: "report", LEAVE: "leave",
         V3_REPORT: "report"}  # fmt: skip
MAX_RECORDS = 64
"""Group records of a v3 report read at most."""


class IgmpError(DissectError):
    """An IGMP message is malformed (short, group records past the message)."""


def _group(payload: bytes, at: int) -> str:
    return str(ipaddress.IPv4Address(payload[at : at + 4]))


class IgmpDissector:
    """IGMP queries, reports and leaves (IP protocol 2)."""

    name: ClassVar[str] = "igmp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"other"})
    ports: ClassVar[frozenset[int]] = frozenset()
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 2
    ip_protocols: ClassVar[frozenset[int]] = frozenset({IP_PROTOCOL})

    def signature(self, head: bytes) -> bool:
        """A known message type of at least 8 bytes."""
        return len(head) >= 8 and head[0] in NAMES

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) < 8:
            raise IgmpError(f"IGMP message of {len(payload)} bytes")
        kind, code = payload[0], payload[1]
        name = NAMES.get(kind, f"type-{kind:#04x}")
        if kind == QUERY:
            if len(payload) >= 12:
                version = 3
            else:
                version = 2 if code != 0 else 1
            group = _group(payload, 4)
            general = group == "0.0.0.0"
            yield IgmpMessage(
                ctx=ctx,
                message_type=kind,
                message_name=name,
                version=version,
                groups=() if general else (group,),
                general_query=general,
                max_response_time=code if version > 1 else None,
            )
        elif kind in (V1_REPORT, V2_REPORT, LEAVE):
            version = 1 if kind == V1_REPORT else 2
            yield IgmpMessage(
                ctx=ctx,
                message_type=kind,
                message_name=name,
                version=version,
                groups=(_group(payload, 4),),
            )
        elif kind == V3_REPORT:
            (count,) = struct.unpack_from("!H", payload, 6)
            groups: list[str] = []
            at = 8
            for _ in range(min(count, MAX_RECORDS)):
                if at + 8 > len(payload):
                    raise IgmpError("group record runs past the message")
                aux, sources = payload[at + 1], struct.unpack_from("!H", payload, at + 2)[0]
                groups.append(_group(payload, at + 4))
                at += 8 + 4 * sources + 4 * aux
            if at > len(payload):
                raise IgmpError("group record sources run past the message")
            yield IgmpMessage(
                ctx=ctx, message_type=kind, message_name=name, version=3, groups=tuple(groups)
            )
        else:
            raise IgmpError(f"IGMP type {kind:#04x}")
