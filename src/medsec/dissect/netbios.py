"""NetBIOS name service (RFC 1001/1002) on UDP 137.

Name queries give ``NetbiosNameQuery``; registrations, refreshes, releases and positive or
negative query responses give ``NetbiosNameBinding`` (name, suffix, group flag, addresses);
node status (NBSTAT) responses give ``NetbiosNodeStatus`` with the node's name table and
MAC. Names are carried in DNS label format with the first-level encoding (each nibble as a
letter ``A``..``P``), which is undone here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.dissect.dns import DnsError, read_labels
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.naming import (
    NetbiosNameBinding,
    NetbiosNameEntry,
    NetbiosNameQuery,
    NetbiosNodeStatus,
)

logger = logging.getLogger(__name__)

OPCODES: dict[int, str] = {
    0: "query",
    5: "registration",
    6: "release",
    7: "wack",
    8: "refresh",
    9: "refresh",
    15: "multihomed-registration",
}
TYPE_NB = 0x20
TYPE_NBSTAT = 0x21
MAX_ENTRIES = 64
"""Questions plus records read per message."""


class NetbiosError(DissectError):
    """A NetBIOS name service message is malformed (bad name encoding, record past the end)."""


def decode_name(label: bytes) -> tuple[str, int]:
    """Undo the first-level encoding of a 32-byte label: the name (trailing spaces and NULs
    removed) and its suffix byte."""
    if len(label) != 32:
        raise NetbiosError(f"encoded NetBIOS name of {len(label)} bytes, 32 expected")
    raw = bytearray(16)
    for i in range(16):
        hi = label[2 * i] - 0x41
        lo = label[2 * i + 1] - 0x41
        if not (0 <= hi < 16 and 0 <= lo < 16):
            raise NetbiosError("NetBIOS name not in first-level encoding (A..P)")
        raw[i] = hi << 4 | lo
    return bytes(raw[:15]).rstrip(b" \x00").decode("ascii", "backslashreplace"), raw[15]


def _name(msg: bytes, pos: int) -> tuple[str, int, str | None, int]:
    try:
        labels, after = read_labels(msg, pos)
    except DnsError as exc:
        raise NetbiosError(str(exc)) from exc
    if not labels:
        raise NetbiosError("empty NetBIOS name")
    name, suffix = decode_name(labels[0])
    scope = ".".join(label.decode("ascii", "backslashreplace") for label in labels[1:])
    return name, suffix, scope or None, after


def _node_status(rdata: bytes) -> tuple[tuple[NetbiosNameEntry, ...], str | None]:
    if not rdata:
        raise NetbiosError("empty node status")
    count = rdata[0]
    end = 1 + 18 * count
    if end > len(rdata):
        raise NetbiosError(f"node status claims {count} names past the end")
    entries = []
    for i in range(1, end, 18):
        flags = (rdata[i + 16] << 8) | rdata[i + 17]
        entries.append(
            NetbiosNameEntry(
                name=rdata[i : i + 15].rstrip(b" \x00").decode("ascii", "backslashreplace"),
                suffix=rdata[i + 15],
                group=bool(flags & 0x8000),
                active=bool(flags & 0x0400),
            )
        )
    unit = rdata[end : end + 6]
    unit_id = ":".join(f"{b:02x}" for b in unit) if len(unit) == 6 and any(unit) else None
    return tuple(entries), unit_id


def _nb_entries(rdata: bytes) -> tuple[bool | None, tuple[str, ...]]:
    if len(rdata) % 6:
        raise NetbiosError(f"NB record data of {len(rdata)} bytes")
    if not rdata:
        return None, ()
    addresses = tuple(
        f"{rdata[i + 2]}.{rdata[i + 3]}.{rdata[i + 4]}.{rdata[i + 5]}"
        for i in range(0, len(rdata), 6)
    )
    return bool(rdata[0] & 0x80), addresses


class NetbiosNsDissector:
    """NetBIOS name service on UDP 137."""

    name: ClassVar[str] = "netbios-ns"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({137})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 8

    def signature(self, head: bytes) -> bool:
        """A known opcode and a first name of 32 letters ``A``..``P``."""
        if len(head) < 50 or (head[2] >> 3) & 0x0F not in OPCODES or head[12] != 0x20:
            return False
        return all(0x41 <= b <= 0x50 for b in head[13:45])

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        msg = payload
        if len(msg) < 12:
            raise NetbiosError(f"message of {len(msg)} bytes")
        flags = (msg[2] << 8) | msg[3]
        response = bool(flags & 0x8000)
        opcode = (flags >> 11) & 0x0F
        operation = OPCODES.get(opcode)
        if operation is None:
            raise NetbiosError(f"unknown opcode {opcode}")
        rcode = flags & 0x0F
        qdcount = (msg[4] << 8) | msg[5]
        rrcount = sum((msg[i] << 8) | msg[i + 1] for i in (6, 8, 10))
        if qdcount + rrcount > MAX_ENTRIES:
            raise NetbiosError(f"{qdcount + rrcount} entries claimed")
        out: list[Observation] = []
        pos = 12
        questions: list[tuple[str, int, str | None, int]] = []
        for _ in range(qdcount):
            name, suffix, scope, pos = _name(msg, pos)
            if pos + 4 > len(msg):
                raise NetbiosError("question runs past the end")
            qtype = (msg[pos] << 8) | msg[pos + 1]
            pos += 4
            questions.append((name, suffix, scope, qtype))
        records: list[tuple[str, int, str | None, int, int, bytes]] = []
        for _ in range(rrcount):
            name, suffix, scope, pos = _name(msg, pos)
            if pos + 10 > len(msg):
                raise NetbiosError("resource record header runs past the end")
            rtype = (msg[pos] << 8) | msg[pos + 1]
            ttl = int.from_bytes(msg[pos + 4 : pos + 8], "big")
            end = pos + 10 + ((msg[pos + 8] << 8) | msg[pos + 9])
            if end > len(msg):
                raise NetbiosError("resource record data runs past the end")
            records.append((name, suffix, scope, rtype, ttl, msg[pos + 10 : end]))
            pos = end
        if not response and opcode == 0:
            out.extend(
                NetbiosNameQuery(
                    ctx=ctx,
                    name=name,
                    suffix=suffix,
                    scope=scope,
                    node_status=qtype == TYPE_NBSTAT,
                    broadcast=bool(flags & 0x0010),
                )
                for name, suffix, scope, qtype in questions
            )
        for name, suffix, scope, rtype, ttl, rdata in records:
            if rtype == TYPE_NBSTAT and response:
                names, unit_id = _node_status(rdata)
                out.append(NetbiosNodeStatus(ctx=ctx, name=name, names=names, unit_id=unit_id))
            elif rtype == TYPE_NB:
                group, addresses = (None, ()) if opcode == 7 else _nb_entries(rdata)
                out.append(
                    NetbiosNameBinding(
                        ctx=ctx,
                        operation=operation,
                        response=response,
                        rcode=rcode,
                        name=name,
                        suffix=suffix,
                        scope=scope,
                        group=group,
                        addresses=addresses,
                        ttl=ttl,
                    )
                )
        yield from out
