"""Ubiquiti discovery (UDP 10001): the probe UniFi controllers, airOS and EdgeOS tools send
(``01 00 00 00``) and the TLV answers and announcements of Ubiquiti devices.

A packet is version (1 or 2), command, a 16-bit length, then TLVs of a one-byte type and a
16-bit length (as Wireshark's packet-ubdp.c reads them): MAC (0x01, 0x13), MAC + IPv4 (0x02),
firmware string (0x03), hostname (0x0b), product code (0x0c), ESSID (0x0d), model (0x14,
0x15), firmware version (0x16), platform version (0x1b). Each packet gives one
``UbiquitiDiscovery``; a probe (no TLVs) gives one without device facts.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.infrastructure import UbiquitiDiscovery

logger = logging.getLogger(__name__)

TEXT_TLVS = {
    0x03: "firmware",
    0x0B: "hostname",
    0x0C: "product",
    0x0D: "essid",
    0x14: "model_type",
    0x15: "model",
    0x16: "firmware_version",
    0x1B: "platform_version",
}
MAX_TLVS = 128
MAX_ADDRESSES = 16


class UbiquitiError(DissectError):
    """A Ubiquiti discovery packet is malformed (bad version, TLV past the datagram)."""


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("utf-8", "backslashreplace")[:256]


class UbiquitiDissector:
    """Ubiquiti discovery on UDP 10001."""

    name: ClassVar[str] = "ubiquiti"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({10001})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 2

    def signature(self, head: bytes) -> bool:
        """Version 1 or 2 and a length word that is exactly the rest of the datagram, with
        at least one TLV."""
        return (
            len(head) >= 7
            and head[0] in (1, 2)
            and int.from_bytes(head[2:4], "big") == len(head) - 4
            and head[4] in (1, 2)  # answers start with a MAC or MAC + IP TLV
        )

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) < 4:
            raise UbiquitiError(f"packet of {len(payload)} bytes")
        version, command = payload[0], payload[1]
        if version not in (1, 2):
            raise UbiquitiError(f"version {version}")
        size = int.from_bytes(payload[2:4], "big")
        if size > len(payload) - 4:
            raise UbiquitiError(f"length {size} past a datagram of {len(payload)} bytes")
        body = payload[4 : 4 + size]
        texts: dict[str, str] = {}
        macs: list[str] = []
        ips: list[str] = []
        pos = 0
        for _ in range(MAX_TLVS):
            if pos >= len(body):
                break
            if pos + 3 > len(body):
                raise UbiquitiError("TLV header cut short")
            kind = body[pos]
            length = int.from_bytes(body[pos + 1 : pos + 3], "big")
            value = body[pos + 3 : pos + 3 + length]
            if len(value) < length:
                raise UbiquitiError(f"TLV {kind:#04x} of length {length} runs past the packet")
            pos += 3 + length
            if kind in (0x01, 0x13) and length == 6:
                macs.append(_mac(value))
            elif kind == 0x02 and length == 10:
                macs.append(_mac(value[:6]))
                ips.append(str(ipaddress.IPv4Address(value[6:10])))
            elif kind in TEXT_TLVS:
                texts.setdefault(TEXT_TLVS[kind], _text(value))
        yield UbiquitiDiscovery(
            ctx=ctx,
            version=version,
            command=command,
            hw_addresses=tuple(dict.fromkeys(macs))[:MAX_ADDRESSES],
            ip_addresses=tuple(dict.fromkeys(ips))[:MAX_ADDRESSES],
            firmware=texts.get("firmware"),
            hostname=texts.get("hostname"),
            product=texts.get("product"),
            essid=texts.get("essid"),
            model_type=texts.get("model_type"),
            model=texts.get("model"),
            firmware_version=texts.get("firmware_version"),
            platform_version=texts.get("platform_version"),
        )
