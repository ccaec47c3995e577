"""DHCPv6 (RFC 8415) on UDP 546/547.

Client and server messages give a ``Dhcpv6Message`` with the DUIDs, the option request
order, the vendor class (enterprise number and data, e.g. ``MSFT 5.0``), the user class and
the client FQDN. Relay messages are unwrapped (option 9) to the message they carry, at most
``MAX_RELAY_DEPTH`` deep.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.dissect.dns import DnsError, decode_wire_name
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.addressing import Dhcpv6Message

logger = logging.getLogger(__name__)

MAX_RELAY_DEPTH = 8
"""Relay-in-relay nesting followed (RFC 8415 HOP_COUNT_LIMIT is 8)."""

MESSAGE_TYPES: dict[int, str] = {
    1: "SOLICIT",
    2: "ADVERTISE",
    3: "REQUEST",
    4: "CONFIRM",
    5: "RENEW",
    6: "REBIND",
    7: "REPLY",
    8: "RELEASE",
    9: "DECLINE",
    10: "RECONFIGURE",
    11: "INFORMATION-REQUEST",
    12: "RELAY-FORW",
    13: "RELAY-REPL",
    14: "LEASEQUERY",
    15: "LEASEQUERY-REPLY",
    16: "LEASEQUERY-DONE",
    17: "LEASEQUERY-DATA",
    18: "RECONFIGURE-REQUEST",
    19: "RECONFIGURE-REPLY",
    20: "DHCPV4-QUERY",
    21: "DHCPV4-RESPONSE",
}
_RELAY_TYPES = frozenset({12, 13})


class Dhcpv6Error(DissectError):
    """A DHCPv6 message is malformed (short header, option past the end)."""


def _options(data: bytes, start: int) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    pos = start
    size = len(data)
    while pos < size:
        if pos + 4 > size:
            raise Dhcpv6Error(f"option header at {pos} cut short")
        code = (data[pos] << 8) | data[pos + 1]
        end = pos + 4 + ((data[pos + 2] << 8) | data[pos + 3])
        if end > size:
            raise Dhcpv6Error(f"option {code} at {pos} runs past the end")
        out.append((code, data[pos + 4 : end]))
        pos = end
    return out


def _items(raw: bytes, code: int) -> tuple[str, ...]:
    """The length-prefixed (two bytes) data items of options 15 and 16."""
    items: list[str] = []
    pos = 0
    while pos < len(raw):
        if pos + 2 > len(raw):
            raise Dhcpv6Error(f"option {code}: item length cut short")
        end = pos + 2 + ((raw[pos] << 8) | raw[pos + 1])
        if end > len(raw):
            raise Dhcpv6Error(f"option {code}: item runs past the end")
        items.append(raw[pos + 2 : end].decode("utf-8", "backslashreplace"))
        pos = end
    return tuple(items)


def _duid_link_layer(duid: bytes) -> str | None:
    """The MAC inside a DUID-LLT (type 1) or DUID-LL (type 3) of hardware type 1."""
    if len(duid) < 4 or duid[2:4] != b"\x00\x01":
        return None
    kind = duid[1] if duid[0] == 0 else 0
    address = duid[8:] if kind == 1 else duid[4:] if kind == 3 else b""
    if len(address) != 6:
        return None
    return ":".join(f"{b:02x}" for b in address)


class Dhcpv6Dissector:
    """DHCPv6 on UDP 546 (client) / 547 (server, relay)."""

    name: ClassVar[str] = "dhcpv6"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({546, 547})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 8

    def signature(self, head: bytes) -> bool:
        """A client/server message type whose options exactly fill the datagram and include
        a client or server identifier (option 1 or 2)."""
        if len(head) < 8 or not 1 <= head[0] <= 11:
            return False
        try:
            options = _options(head, 4)
        except Dhcpv6Error:
            return False
        return any(code in (1, 2) for code, _ in options)

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        data = payload
        link_address: str | None = None
        for _ in range(MAX_RELAY_DEPTH + 1):
            if len(data) < 4:
                raise Dhcpv6Error(f"message of {len(data)} bytes")
            if data[0] not in _RELAY_TYPES:
                break
            if len(data) < 34:
                raise Dhcpv6Error(f"relay message of {len(data)} bytes")
            if link_address is None:
                link_address = str(ipaddress.IPv6Address(data[2:18]))
            inner = [value for code, value in _options(data, 34) if code == 9]
            if not inner:
                return  # a relay message without a relayed message states nothing more
            data = inner[0]
        else:
            raise Dhcpv6Error(f"relay messages nested deeper than {MAX_RELAY_DEPTH}")
        msg_type = data[0]
        options = _options(data, 4)
        values = dict(options)
        client = values.get(1)
        server = values.get(2)
        oro = values.get(6, b"")
        if len(oro) % 2:
            raise Dhcpv6Error("option 6 (ORO) of odd length")
        vendor_class = values.get(16)
        if vendor_class is not None and len(vendor_class) < 4:
            raise Dhcpv6Error("option 16 (vendor class) without an enterprise number")
        vendor_opts = values.get(17)
        if vendor_opts is not None and len(vendor_opts) < 4:
            raise Dhcpv6Error("option 17 (vendor opts) without an enterprise number")
        fqdn_raw = values.get(39)
        fqdn: str | None = None
        if fqdn_raw is not None:
            if not fqdn_raw:
                raise Dhcpv6Error("option 39 (client FQDN) without flags")
            try:
                fqdn = decode_wire_name(fqdn_raw[1:]) or None
            except DnsError as exc:
                raise Dhcpv6Error(f"option 39: {exc}") from exc
        yield Dhcpv6Message(
            ctx=ctx,
            msg_type=msg_type,
            msg_type_name=MESSAGE_TYPES.get(msg_type, f"UNKNOWN-{msg_type}"),
            transaction_id=int.from_bytes(data[1:4], "big"),
            client_duid=None if client is None else client.hex(),
            client_duid_type=(client[0] << 8) | client[1]
            if client is not None and len(client) >= 2
            else None,
            client_link_layer_address=None if client is None else _duid_link_layer(client),
            server_duid=None if server is None else server.hex(),
            option_request=tuple((oro[i] << 8) | oro[i + 1] for i in range(0, len(oro), 2)),
            user_class=_items(values.get(15, b""), 15),
            vendor_class_enterprise=None
            if vendor_class is None
            else int.from_bytes(vendor_class[:4], "big"),
            vendor_class=() if vendor_class is None else _items(vendor_class[4:], 16),
            vendor_opts_enterprise=None
            if vendor_opts is None
            else int.from_bytes(vendor_opts[:4], "big"),
            client_fqdn=fqdn,
            relay_link_address=link_address,
            option_codes=tuple(code for code, _ in options),
        )
