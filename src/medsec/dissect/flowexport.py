"""Flow export: sFlow version 5 (sFlow.org, UDP 6343), NetFlow version 5 and 9 (RFC 3954,
UDP 2055/9995/9996) and IPFIX (RFC 7011, UDP 4739). Switches and routers (and some probes)
send traffic records to a collector.

Only the datagram header is read: the format and version, how many samples, records or sets
it carries, and the exporter's self-description (the sFlow agent address, the NetFlow v5
engine, the v9 source id / IPFIX observation domain). The flow records themselves describe
other hosts' traffic and are not kept. On other ports the header's own consistency (v5 size,
v9/IPFIX sets that end exactly at the end of the datagram) recognises an export.
"""

from __future__ import annotations

import ipaddress
import logging
import struct
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.infrastructure import FlowExport

logger = logging.getLogger(__name__)

NETFLOW5_HEADER = 24
NETFLOW5_RECORD = 48
NETFLOW9_HEADER = 20
IPFIX_HEADER = 16
MAX_SETS = 256


class FlowExportError(DissectError):
    """A flow-export datagram is malformed (unknown version, sizes that do not add up)."""


def _sets_end_exactly(data: bytes, start: int, *, ipfix: bool) -> int | None:
    """Number of (flow) sets from ``start`` when they tile the datagram exactly, else None.
    v9 template/options sets have ids 0/1, IPFIX 2/3; data sets 256 and up."""
    pos, count = start, 0
    while pos < len(data) and count < MAX_SETS:
        if pos + 4 > len(data):
            return None
        set_id, length = struct.unpack_from("!HH", data, pos)
        valid = set_id >= 256 or set_id in ((2, 3) if ipfix else (0, 1))
        if not valid or length < 4 or pos + length > len(data):
            return None
        pos += length
        count += 1
    return count if pos == len(data) and count else None


class FlowExportDissector:
    """sFlow v5, NetFlow v5/v9 and IPFIX exports."""

    name: ClassVar[str] = "flow-export"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({6343, 2055, 9995, 9996, 4739})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 2

    def signature(self, head: bytes) -> bool:
        """A header whose sizes add up: sFlow v5 with an IPv4/IPv6 agent, NetFlow v5 with
        24 + 48 x count bytes, v9 or IPFIX sets tiling the datagram exactly."""
        if len(head) < 16:
            return False
        if head[:8] in (b"\x00\x00\x00\x05\x00\x00\x00\x01", b"\x00\x00\x00\x05\x00\x00\x00\x02"):
            return len(head) >= 28
        version = int.from_bytes(head[:2], "big")
        count = int.from_bytes(head[2:4], "big")
        if version == 5:
            return 1 <= count <= 30 and len(head) == NETFLOW5_HEADER + NETFLOW5_RECORD * count
        if version == 9:
            return _sets_end_exactly(head, NETFLOW9_HEADER, ipfix=False) is not None
        if version == 10:
            return (
                count == len(head) and _sets_end_exactly(head, IPFIX_HEADER, ipfix=True) is not None
            )
        return False

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) < 4:
            raise FlowExportError(f"datagram of {len(payload)} bytes")
        if payload[:4] == b"\x00\x00\x00\x05":
            yield self._sflow(payload, ctx)
            return
        version = int.from_bytes(payload[:2], "big")
        if version == 5:
            yield self._netflow5(payload, ctx)
        elif version == 9:
            yield self._netflow9(payload, ctx)
        elif version == 10:
            yield self._ipfix(payload, ctx)
        else:
            raise FlowExportError(f"version {version} is neither sFlow 5, NetFlow 5/9 nor IPFIX")

    @staticmethod
    def _sflow(data: bytes, ctx: PacketContext) -> FlowExport:
        """Version, agent address type (1 IPv4, 2 IPv6), agent address, sub-agent id,
        sequence number, uptime (ms), number of samples."""
        if len(data) < 8:
            raise FlowExportError("sFlow header cut short")
        kind = int.from_bytes(data[4:8], "big")
        if kind == 1:
            size = 4
        elif kind == 2:
            size = 16
        else:
            raise FlowExportError(f"sFlow agent address type {kind}")
        if len(data) < 8 + size + 16:
            raise FlowExportError(f"sFlow header of {len(data)} bytes")
        raw = data[8 : 8 + size]
        agent = str(ipaddress.IPv4Address(raw) if size == 4 else ipaddress.IPv6Address(raw))
        sub_agent, sequence, _, samples = struct.unpack_from("!4I", data, 8 + size)
        return FlowExport(
            ctx=ctx,
            format="sflow",
            version=5,
            records=samples,
            agent_address=agent,
            sub_agent_id=sub_agent,
            sequence=sequence,
        )

    @staticmethod
    def _netflow5(data: bytes, ctx: PacketContext) -> FlowExport:
        if len(data) < NETFLOW5_HEADER:
            raise FlowExportError(f"NetFlow v5 header of {len(data)} bytes")
        count = int.from_bytes(data[2:4], "big")
        if len(data) < NETFLOW5_HEADER + NETFLOW5_RECORD * count:
            raise FlowExportError(f"{count} NetFlow v5 records do not fit {len(data)} bytes")
        (sequence,) = struct.unpack_from("!I", data, 16)
        return FlowExport(
            ctx=ctx,
            format="netflow",
            version=5,
            records=count,
            engine_type=data[20],
            engine_id=data[21],
            sequence=sequence,
        )

    @staticmethod
    def _netflow9(data: bytes, ctx: PacketContext) -> FlowExport:
        if len(data) < NETFLOW9_HEADER:
            raise FlowExportError(f"NetFlow v9 header of {len(data)} bytes")
        count = int.from_bytes(data[2:4], "big")
        sequence, source_id = struct.unpack_from("!II", data, 12)
        return FlowExport(
            ctx=ctx,
            format="netflow",
            version=9,
            records=count,
            observation_domain_id=source_id,
            sequence=sequence,
        )

    @staticmethod
    def _ipfix(data: bytes, ctx: PacketContext) -> FlowExport:
        if len(data) < IPFIX_HEADER:
            raise FlowExportError(f"IPFIX header of {len(data)} bytes")
        length = int.from_bytes(data[2:4], "big")
        if not IPFIX_HEADER <= length <= len(data):
            raise FlowExportError(f"IPFIX length {length} in a datagram of {len(data)} bytes")
        sequence, domain = struct.unpack_from("!II", data, 8)
        sets = _sets_end_exactly(data[:length], IPFIX_HEADER, ipfix=True)
        if sets is None and length > IPFIX_HEADER:
            raise FlowExportError("IPFIX sets do not add up to the message length")
        return FlowExport(
            ctx=ctx,
            format="ipfix",
            version=10,
            records=sets or 0,
            observation_domain_id=domain,
            sequence=sequence,
        )
