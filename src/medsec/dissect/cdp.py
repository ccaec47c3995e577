"""Cisco Discovery Protocol, versions 1 and 2 (802.3 frames to 01:00:0c:cc:cc:cc with an
LLC/SNAP header: DSAP/SSAP 0xAA, control 0x03, OUI 00-00-0C, PID 0x2000).

The dissector receives every 802.3/LLC frame (``llc``); frames that are not CDP (STP, VTP,
DTP, PVST+ ...) are none of its business and give nothing. One CDP frame gives one
``CdpAnnouncement``. Trailing bytes that do not form a whole TLV after at least one TLV (a
frame check sequence or trailer kept by the capture) end the frame quietly.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.discovery import CdpAnnouncement

logger = logging.getLogger(__name__)

SNAP_HEADER = b"\xaa\xaa\x03\x00\x00\x0c\x20\x00"
"""LLC (DSAP 0xAA, SSAP 0xAA, UI) + SNAP (OUI 00-00-0C, PID 0x2000 = CDP)."""

CAPABILITIES = (
    "router",
    "transparent-bridge",
    "source-route-bridge",
    "switch",
    "host",
    "igmp",
    "repeater",
    "phone",
    "remotely-managed",
    "cvta",
    "two-port-mac-relay",
)
"""Capability bits 0..10 of the Capabilities TLV."""

_IPV6_SNAP = b"\xaa\xaa\x03\x00\x00\x00\x86\xdd"


class CdpError(DissectError):
    """A CDP frame is malformed (bad version, TLV shorter than its header, bad address)."""


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("utf-8", "backslashreplace")


def _addresses(raw: bytes) -> tuple[str, ...]:
    """The Addresses TLV body: a 32-bit count, then (protocol type, protocol length,
    protocol, address length, address) entries."""
    if len(raw) < 4:
        raise CdpError("addresses TLV without a count")
    count = int.from_bytes(raw[:4], "big")
    out: list[str] = []
    pos = 4
    for _ in range(count):
        if pos + 2 > len(raw):
            raise CdpError("address entry cut short")
        proto_len = raw[pos + 1]
        proto = raw[pos + 2 : pos + 2 + proto_len]
        pos += 2 + proto_len
        if pos + 2 > len(raw):
            raise CdpError("address length cut short")
        end = pos + 2 + ((raw[pos] << 8) | raw[pos + 1])
        if end > len(raw):
            raise CdpError("address runs past its TLV")
        address = raw[pos + 2 : end]
        pos = end
        if proto == b"\xcc" and len(address) == 4:
            out.append(str(ipaddress.IPv4Address(address)))
        elif proto == _IPV6_SNAP and len(address) == 16:
            out.append(str(ipaddress.IPv6Address(address)))
        else:
            out.append(address.hex())
    return tuple(out)


class CdpDissector:
    """CDP in 802.3 LLC/SNAP frames."""

    name: ClassVar[str] = "cdp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"l2"})
    ports: ClassVar[frozenset[int]] = frozenset()
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = True
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """The LLC/SNAP header of CDP followed by version 1 or 2."""
        return head.startswith(SNAP_HEADER) and len(head) >= 12 and head[8] in (1, 2)

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if not payload.startswith(SNAP_HEADER):
            return  # another LLC/SNAP protocol
        if len(payload) < 12:
            raise CdpError(f"CDP header of {len(payload) - 8} bytes")
        version = payload[8]
        if version not in (1, 2):
            raise CdpError(f"CDP version {version}")
        text: dict[int, str] = {}
        addresses: tuple[str, ...] = ()
        management: tuple[str, ...] = ()
        capabilities: tuple[str, ...] = ()
        native_vlan: int | None = None
        pos = 12
        size = len(payload)
        seen = 0
        while pos + 4 <= size:
            tlv_type = (payload[pos] << 8) | payload[pos + 1]
            length = (payload[pos + 2] << 8) | payload[pos + 3]
            end = pos + length
            if length < 4 or end > size:
                if seen:
                    logger.debug("cdp: %d trailing bytes after the last TLV", size - pos)
                    break
                raise CdpError(f"TLV {tlv_type:#06x} at {pos} of length {length}")
            value = payload[pos + 4 : end]
            pos = end
            seen += 1
            if tlv_type in (0x0001, 0x0003, 0x0005, 0x0006, 0x0009):
                text[tlv_type] = _text(value)
            elif tlv_type == 0x0002:
                addresses = _addresses(value)
            elif tlv_type == 0x0016:
                management = _addresses(value)
            elif tlv_type == 0x0004:
                if len(value) != 4:
                    raise CdpError(f"capabilities TLV of {len(value)} bytes")
                bits = int.from_bytes(value, "big")
                capabilities = tuple(n for b, n in enumerate(CAPABILITIES) if bits >> b & 1)
            elif tlv_type == 0x000A:
                if len(value) != 2:
                    raise CdpError(f"native VLAN TLV of {len(value)} bytes")
                native_vlan = (value[0] << 8) | value[1]
        yield CdpAnnouncement(
            ctx=ctx,
            version=version,
            ttl=payload[9],
            device_id=text.get(0x0001),
            addresses=addresses,
            port_id=text.get(0x0003),
            capabilities=capabilities,
            software_version=text.get(0x0005),
            platform=text.get(0x0006),
            vtp_domain=text.get(0x0009),
            native_vlan=native_vlan,
            management_addresses=management,
        )
