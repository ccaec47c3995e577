"""RADIUS (RFC 2865 authentication, RFC 2866 accounting, RFC 5176 dynamic authorization) on
UDP 1812/1813 and the legacy 1645/1646, and CoA on 3799.

Each packet gives its code and the attributes that describe the network access server:
NAS-IP-Address / NAS-IPv6-Address, NAS-Identifier, NAS-Port-Type (Ethernet switch, 802.11
access point, VPN), Service-Type, the vendors of its Vendor-Specific attributes and the EAP
method carried. Who sends Access-Accept/Reject/Challenge is the RADIUS server; who sends
Access-Request, the NAS. User-Password, CHAP-Password, the User-Name's value, tunnel
passwords and every other attribute value are never read.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.services import RadiusMessage

logger = logging.getLogger(__name__)

CODES = {
    1: "Access-Request",
    2: "Access-Accept",
    3: "Access-Reject",
    4: "Accounting-Request",
    5: "Accounting-Response",
    11: "Access-Challenge",
    12: "Status-Server",
    13: "Status-Client",
    40: "Disconnect-Request",
    41: "Disconnect-ACK",
    42: "Disconnect-NAK",
    43: "CoA-Request",
    44: "CoA-ACK",
    45: "CoA-NAK",
}
HEADER = 20
"""Code, identifier, length and the 16-byte authenticator."""
MAX_LENGTH = 4096
MAX_ATTRIBUTES = 128
NAS_IP_ADDRESS = 4
NAS_PORT_TYPE = 61
SERVICE_TYPE = 6
NAS_IDENTIFIER = 32
NAS_IPV6_ADDRESS = 95
VENDOR_SPECIFIC = 26
EAP_MESSAGE = 79


class RadiusError(DissectError):
    """A RADIUS packet that breaks its format."""


class RadiusDissector:
    """RADIUS on UDP 1812, 1813, 1645, 1646 and 3799, and wherever a datagram is laid out
    exactly like a RADIUS packet."""

    name: ClassVar[str] = "radius"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({1812, 1813, 1645, 1646, 3799})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 8

    def signature(self, head: bytes) -> bool:
        """A known code, a length equal to the datagram's, and attributes that end exactly
        there."""
        if len(head) < HEADER or head[0] not in CODES:
            return False
        if int.from_bytes(head[2:4], "big") != len(head) or len(head) > MAX_LENGTH:
            return False
        pos = HEADER
        for _ in range(MAX_ATTRIBUTES):
            if pos == len(head):
                return True
            if pos + 2 > len(head) or head[pos + 1] < 2:
                return False
            pos += head[pos + 1]
        return False

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) < HEADER:
            raise RadiusError(f"{len(payload)} bytes, shorter than the header")
        code = payload[0]
        length = int.from_bytes(payload[2:4], "big")
        if not HEADER <= length <= min(len(payload), MAX_LENGTH):
            raise RadiusError(f"length {length} for a {len(payload)}-byte datagram")
        types: list[int] = []
        vendors: list[int] = []
        nas_ip: str | None = None
        nas_id: str | None = None
        port_type: int | None = None
        service: int | None = None
        eap: int | None = None
        pos = HEADER
        for _ in range(MAX_ATTRIBUTES):
            if pos >= length:
                break
            if pos + 2 > length:
                raise RadiusError("attribute header cut short")
            kind, size = payload[pos], payload[pos + 1]
            if size < 2 or pos + size > length:
                raise RadiusError(f"attribute {kind} of length {size} overruns the packet")
            value = payload[pos + 2 : pos + size]
            pos += size
            if kind not in types:
                types.append(kind)
            if kind == NAS_IP_ADDRESS and len(value) == 4 and nas_ip is None:
                nas_ip = str(ipaddress.IPv4Address(value))
            elif kind == NAS_IPV6_ADDRESS and len(value) == 16 and nas_ip is None:
                nas_ip = str(ipaddress.IPv6Address(value))
            elif kind == NAS_IDENTIFIER and nas_id is None:
                nas_id = value[:64].decode("utf-8", "backslashreplace") or None
            elif kind == NAS_PORT_TYPE and len(value) == 4:
                port_type = int.from_bytes(value, "big")
            elif kind == SERVICE_TYPE and len(value) == 4:
                service = int.from_bytes(value, "big")
            elif kind == VENDOR_SPECIFIC and len(value) >= 4:
                vendor = int.from_bytes(value[:4], "big")
                if vendor not in vendors and len(vendors) < 16:
                    vendors.append(vendor)
            elif kind == EAP_MESSAGE and eap is None and len(value) >= 5 and value[0] in (1, 2):
                eap = value[4]  # first fragment: code, id, length, type
        yield RadiusMessage(
            ctx=ctx,
            code=code,
            code_name=CODES.get(code, f"code-{code}"),
            attribute_types=tuple(types),
            nas_ip_address=nas_ip,
            nas_identifier=nas_id,
            nas_port_type=port_type,
            service_type=service,
            vendor_ids=tuple(vendors),
            eap_type=eap,
        )
