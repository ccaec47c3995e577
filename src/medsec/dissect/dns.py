"""DNS, multicast DNS / DNS-SD and LLMNR (RFC 1035, 6762, 6763, 4795).

UDP 53/5353/5355 carry one message per datagram; TCP 53 carries messages behind a two-byte
length prefix (RFC 1035 4.2.2), several per stream, the last perhaps cut short (ignored).
Queries give ``DnsQuery`` per question; every section's A/AAAA, PTR, CNAME, SRV, TXT and
HINFO records give their own observation. Compressed names are followed with a bounded number
of jumps and a bounded length, so a pointer loop is an error, not a hang.

The name readers here are also used by the DHCP, DHCPv6 and NetBIOS dissectors.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import ClassVar, TypedDict

from medsec.dissect.interface import EDGE_SAMPLES
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.naming import (
    DnsAddressRecord,
    DnsAliasRecord,
    DnsHostInfoRecord,
    DnsPointerRecord,
    DnsQuery,
    DnsRecord,
    DnsServiceRecord,
    DnsTextRecord,
)

logger = logging.getLogger(__name__)

MAX_NAME_OCTETS = 255
"""RFC 1035 limit on a name's wire length (labels and their length bytes)."""
MAX_JUMPS = 64
"""Compression pointers followed per name before the name is called a loop."""
MAX_RECORDS = 512
"""Questions plus records read per message (a 64 KiB message cannot honestly hold more)."""
MAX_TCP_MESSAGES = 64
"""Messages read from one TCP stream head."""

TYPE_NAMES: dict[int, str] = {
    1: "A",
    2: "NS",
    5: "CNAME",
    6: "SOA",
    12: "PTR",
    13: "HINFO",
    15: "MX",
    16: "TXT",
    28: "AAAA",
    33: "SRV",
    35: "NAPTR",
    41: "OPT",
    43: "DS",
    46: "RRSIG",
    47: "NSEC",
    48: "DNSKEY",
    64: "SVCB",
    65: "HTTPS",
    252: "AXFR",
    255: "ANY",
}

_SECTIONS = ("answer", "authority", "additional")
_SERVICE_BY_PORT = {5353: "mdns", 5355: "llmnr"}
_KNOWN_OPCODES = frozenset({0, 1, 2, 4, 5})


class _Common(TypedDict):
    ctx: PacketContext
    service: str
    name: str
    ttl: int
    section: str
    response: bool


class DnsError(DissectError):
    """A DNS message is malformed (bad name, record past the end, pointer loop)."""


def read_labels(msg: bytes, offset: int) -> tuple[list[bytes], int]:
    """The labels of the (possibly compressed) name at ``offset`` and the offset just after
    the name in place. Raises ``DnsError`` on a name past the end, a reserved label type, a
    pointer loop or an over-long name."""
    labels: list[bytes] = []
    pos = offset
    after = -1
    jumps = 0
    octets = 1
    size = len(msg)
    while True:
        if pos >= size:
            raise DnsError(f"name at {offset} runs past the end")
        n = msg[pos]
        if n == 0:
            return labels, (pos + 1 if after < 0 else after)
        kind = n & 0xC0
        if kind == 0xC0:
            if pos + 1 >= size:
                raise DnsError(f"compression pointer at {pos} cut short")
            if after < 0:
                after = pos + 2
            jumps += 1
            if jumps > MAX_JUMPS:
                raise DnsError(f"name at {offset}: compression pointer loop")
            pos = ((n & 0x3F) << 8) | msg[pos + 1]
            continue
        if kind:
            raise DnsError(f"name at {offset}: reserved label type 0x{kind:02x}")
        end = pos + 1 + n
        if end > size:
            raise DnsError(f"label at {pos} runs past the end")
        octets += n + 1
        if octets > MAX_NAME_OCTETS:
            raise DnsError(f"name at {offset} longer than {MAX_NAME_OCTETS} octets")
        labels.append(msg[pos + 1 : end])
        pos = end


def name_text(labels: list[bytes]) -> str:
    """Presentation text of a name: labels joined by dots, ``.`` for the root."""
    if not labels:
        return "."
    # one decode of the joined name: the same text as label by label (a dot is ASCII, so
    # no UTF-8 sequence spans it and every bad byte is escaped alike), without a generator
    return b".".join(labels).decode("utf-8", "backslashreplace")


def read_name(msg: bytes, offset: int) -> tuple[str, int]:
    """The name at ``offset`` as text and the offset after it (see ``read_labels``)."""
    labels, after = read_labels(msg, offset)
    return name_text(labels), after


def decode_wire_name(data: bytes) -> str:
    """An uncompressed wire-format name filling ``data`` (DHCP options 81 and 39); a name
    that is not terminated by the root label is read as a partial name (RFC 4702/4704)."""
    labels: list[bytes] = []
    pos = 0
    size = len(data)
    while pos < size:
        n = data[pos]
        if n == 0:
            break
        if n & 0xC0:
            raise DnsError("compressed or reserved label in an uncompressed name")
        end = pos + 1 + n
        if end > size:
            raise DnsError("label runs past the end of the name")
        labels.append(data[pos + 1 : end])
        pos = end
    return name_text(labels) if labels else ""


def _character_strings(rdata: bytes) -> list[bytes]:
    out: list[bytes] = []
    pos = 0
    size = len(rdata)
    while pos < size:
        end = pos + 1 + rdata[pos]
        if end > size:
            raise DnsError("character-string runs past the end of its record")
        out.append(rdata[pos + 1 : end])
        pos = end
    return out


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _txt_entries(rdata: bytes) -> tuple[tuple[str, str | None], ...]:
    entries: list[tuple[str, str | None]] = []
    for raw in _character_strings(rdata):
        if not raw:
            continue  # an empty TXT record is one empty string (RFC 6763 6.1)
        key, eq, value = raw.partition(b"=")
        entries.append((_text(key), _text(value) if eq else None))
    return tuple(entries)


def _flavour(ctx: PacketContext) -> str:
    return _SERVICE_BY_PORT.get(ctx.dst_port) or _SERVICE_BY_PORT.get(ctx.src_port) or "dns"


def parse_message(msg: bytes, ctx: PacketContext, service: str) -> list[Observation]:
    """Observations of one whole DNS message."""
    size = len(msg)
    if size < 12:
        raise DnsError(f"message of {size} bytes is shorter than the 12-byte header")
    ident = (msg[0] << 8) | msg[1]
    response = bool(msg[2] & 0x80)
    qdcount = (msg[4] << 8) | msg[5]
    counts = (
        (msg[6] << 8) | msg[7],
        (msg[8] << 8) | msg[9],
        (msg[10] << 8) | msg[11],
    )
    if qdcount + sum(counts) > MAX_RECORDS:
        raise DnsError(f"{qdcount + sum(counts)} entries claimed, more than {MAX_RECORDS}")
    out: list[Observation] = []
    pos = 12
    for _ in range(qdcount):
        name, pos = read_name(msg, pos)
        if pos + 4 > size:
            raise DnsError("question runs past the end")
        qtype = (msg[pos] << 8) | msg[pos + 1]
        qclass = (msg[pos + 2] << 8) | msg[pos + 3]
        pos += 4
        if not response:
            out.append(
                DnsQuery(
                    ctx=ctx,
                    service=service,
                    transaction_id=ident,
                    name=name,
                    qtype=qtype,
                    qtype_name=TYPE_NAMES.get(qtype, f"TYPE{qtype}"),
                    unicast_response=service == "mdns" and bool(qclass & 0x8000),
                )
            )
    for section, count in zip(_SECTIONS, counts, strict=True):
        for _ in range(count):
            name, pos = read_name(msg, pos)
            if pos + 10 > size:
                raise DnsError("resource record header runs past the end")
            rtype = (msg[pos] << 8) | msg[pos + 1]
            ttl = int.from_bytes(msg[pos + 4 : pos + 8], "big")
            rdlength = (msg[pos + 8] << 8) | msg[pos + 9]
            start = pos + 10
            end = start + rdlength
            if end > size:
                raise DnsError(f"{TYPE_NAMES.get(rtype, rtype)} record data runs past the end")
            pos = end
            record = _record(msg, start, end, rtype, ctx, service, name, ttl, section, response)
            if record is not None:
                out.append(record)
    return out


def _record(
    msg: bytes,
    start: int,
    end: int,
    rtype: int,
    ctx: PacketContext,
    service: str,
    name: str,
    ttl: int,
    section: str,
    response: bool,
) -> DnsRecord | None:
    common = _Common(
        ctx=ctx, service=service, name=name, ttl=ttl, section=section, response=response
    )
    rdlength = end - start
    if rtype == 1 or rtype == 28:
        if rdlength != (4 if rtype == 1 else 16):
            raise DnsError(f"{TYPE_NAMES[rtype]} record of {rdlength} bytes")
        raw = msg[start:end]
        # inet_ntoa writes IPv4 as ipaddress does, ~6x faster; IPv6 keeps ipaddress's text
        address = socket.inet_ntoa(raw) if rtype == 1 else str(ipaddress.IPv6Address(raw))
        return DnsAddressRecord(address=address, **common)
    if rtype == 12 or rtype == 5:
        target, after = read_name(msg, start)
        if after > end:
            raise DnsError(f"{TYPE_NAMES[rtype]} target runs past its record")
        cls = DnsPointerRecord if rtype == 12 else DnsAliasRecord
        return cls(target=target, **common)
    if rtype == 33:
        if rdlength < 7:
            raise DnsError(f"SRV record of {rdlength} bytes")
        target, after = read_name(msg, start + 6)
        if after > end:
            raise DnsError("SRV target runs past its record")
        return DnsServiceRecord(
            target=target,
            priority=(msg[start] << 8) | msg[start + 1],
            weight=(msg[start + 2] << 8) | msg[start + 3],
            port=(msg[start + 4] << 8) | msg[start + 5],
            **common,
        )
    if rtype == 16:
        return DnsTextRecord(entries=_txt_entries(msg[start:end]), **common)
    if rtype == 13:
        strings = _character_strings(msg[start:end])
        if len(strings) != 2:
            raise DnsError(f"HINFO record with {len(strings)} character-strings")
        return DnsHostInfoRecord(cpu=_text(strings[0]), os=_text(strings[1]), **common)
    return None


def _looks_like_message(msg: bytes) -> bool:
    """A strict header-and-first-question check (used by the signature)."""
    if len(msg) < 17:
        return False
    flags = msg[2]
    if (flags >> 3) & 0x0F not in _KNOWN_OPCODES or msg[3] & 0x40:  # opcode, Z bit
        return False
    qdcount = (msg[4] << 8) | msg[5]
    if not 1 <= qdcount <= 8:
        return False
    if ((msg[6] << 8) | msg[7]) + ((msg[8] << 8) | msg[9]) + ((msg[10] << 8) | msg[11]) > 256:
        return False
    if msg[12] == 32 and all(0x41 <= b <= 0x50 for b in msg[13:45]):
        return False  # a NetBIOS first-level encoded name: NetBIOS-NS, not DNS
    pos = 12
    octets = 1
    while True:
        if pos >= len(msg):
            return False
        n = msg[pos]
        if n == 0:
            pos += 1
            break
        if n > 63 or octets + n + 1 > MAX_NAME_OCTETS:
            return False  # the first question's name is never compressed
        octets += n + 1
        pos += 1 + n
    if octets == 1 or pos + 4 > len(msg):
        return False
    qclass = ((msg[pos + 2] << 8) | msg[pos + 3]) & 0x7FFF
    return qclass in (1, 3, 4, 255)


class DnsDissector:
    """DNS over UDP and TCP, mDNS/DNS-SD and LLMNR."""

    name: ClassVar[str] = "dns"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp", "tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({53, 5353, 5355})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 16384
    datagrams: ClassVar[int] = 32
    edge_flows: ClassVar[Mapping[int, int]] = MappingProxyType({53: EDGE_SAMPLES})
    """A host's unicast lookups are many flows and the first ones tell enough (mDNS and LLMNR
    announce and ask different names: the default)."""

    def signature(self, head: bytes) -> bool:
        """A DNS header whose first question is a plain, well-formed name of class IN/ANY
        (as one datagram, or behind a TCP length prefix)."""
        if _looks_like_message(head):
            return True
        return len(head) > 2 and ((head[0] << 8) | head[1]) >= 17 and _looks_like_message(head[2:])

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        service = _flavour(ctx)
        if ctx.transport != "tcp":
            yield from parse_message(payload, ctx, service)
            return
        pos = 0
        size = len(payload)
        for _ in range(MAX_TCP_MESSAGES):
            if pos + 2 > size:
                return
            length = (payload[pos] << 8) | payload[pos + 1]
            end = pos + 2 + length
            if end > size:
                return  # the stream head stops inside this message
            yield from parse_message(payload[pos + 2 : end], ctx, service)
            pos = end
