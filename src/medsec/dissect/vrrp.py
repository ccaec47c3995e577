"""Virtual Router Redundancy Protocol: version 2 (RFC 3768, IPv4) and version 3 (RFC 5798,
IPv4 and IPv6), carried straight over IP (protocol 112) to 224.0.0.18 / ff02::12.

The master of a virtual router sends an advertisement every interval; backups stay silent
until it stops. So each advertisement is a fact about its sender: a router (or layer-3
switch, firewall) that holds or takes over the virtual addresses. Layout (both versions)::

    0: version (high nibble) | type (low nibble, 1 = advertisement)
    1: virtual router id     2: priority     3: count of addresses
    4: v2 auth type, 5: v2 advertisement interval (s)
       v3: 4 reserved bits + 12-bit max advertisement interval (centiseconds)
    6: checksum (2 bytes)    8: addresses (4 bytes each, 16 for IPv6 in v3)
    v2 only: 8 bytes of authentication data after the addresses - never kept.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.routing import VrrpAdvertisement

IP_PROTOCOL = 112
ADVERTISEMENT = 1


class VrrpError(DissectError):
    """A VRRP message is malformed (short, unknown version or type, addresses cut)."""


def _is_ipv6(ctx: PacketContext) -> bool:
    if ctx.src_ip is not None:
        return ":" in ctx.src_ip
    return ctx.ethertype == 0x86DD


class VrrpDissector:
    """VRRP advertisements (IP protocol 112)."""

    name: ClassVar[str] = "vrrp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"other"})
    ports: ClassVar[frozenset[int]] = frozenset()
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 2
    ip_protocols: ClassVar[frozenset[int]] = frozenset({IP_PROTOCOL})

    def signature(self, head: bytes) -> bool:
        """Version 2 or 3, type advertisement, a VRID and at least one address."""
        return len(head) >= 12 and head[0] in (0x21, 0x31) and head[1] != 0 and head[3] != 0

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) < 8:
            raise VrrpError(f"VRRP message of {len(payload)} bytes")
        version, kind = payload[0] >> 4, payload[0] & 0xF
        if version not in (2, 3):
            raise VrrpError(f"VRRP version {version}")
        if kind != ADVERTISEMENT:
            raise VrrpError(f"VRRP type {kind}")
        vrid, priority, count = payload[1], payload[2], payload[3]
        v6 = version == 3 and _is_ipv6(ctx)
        size = 16 if v6 else 4
        end = 8 + count * size
        if len(payload) < end:
            raise VrrpError(f"{count} addresses run past the {len(payload)}-byte message")
        addresses = tuple(
            str(ipaddress.IPv6Address(payload[at : at + 16]))
            if v6
            else str(ipaddress.IPv4Address(payload[at : at + 4]))
            for at in range(8, end, size)
        )
        if version == 2:
            interval = payload[5]
            auth_type: int | None = payload[4]
        else:
            interval = ((payload[4] & 0x0F) << 8) | payload[5]
            auth_type = None
        yield VrrpAdvertisement(
            ctx=ctx,
            version=version,
            virtual_router_id=vrid,
            priority=priority,
            virtual_addresses=addresses,
            advertisement_interval=interval,
            authentication_type=auth_type,
        )
