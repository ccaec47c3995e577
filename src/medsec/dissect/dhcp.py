"""DHCPv4 and BOOTP (RFC 2131, RFC 2132; option overload 52, RFC 3396 long options).

A BOOTREQUEST gives a ``DhcpRequest`` (the client's self-description: MAC, host name,
vendor class, the ordered parameter request list), a BOOTREPLY a ``DhcpServerReply`` (the
lease). Options split over several instances of the same code are concatenated (RFC 3396);
options overloaded into ``file``/``sname`` (option 52) are read too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.dissect.dns import DnsError, decode_wire_name
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.addressing import DhcpRequest, DhcpServerReply

logger = logging.getLogger(__name__)

MAGIC_COOKIE = b"\x63\x82\x53\x63"
_FIXED = 236
"""Length of the BOOTP header before the magic cookie."""

MESSAGE_TYPES: dict[int, str] = {
    1: "DHCPDISCOVER",
    2: "DHCPOFFER",
    3: "DHCPREQUEST",
    4: "DHCPDECLINE",
    5: "DHCPACK",
    6: "DHCPNAK",
    7: "DHCPRELEASE",
    8: "DHCPINFORM",
    9: "DHCPFORCERENEW",
    10: "DHCPLEASEQUERY",
    11: "DHCPLEASEUNASSIGNED",
    12: "DHCPLEASEUNKNOWN",
    13: "DHCPLEASEACTIVE",
    14: "DHCPBULKLEASEQUERY",
    15: "DHCPLEASEQUERYDONE",
    16: "DHCPACTIVELEASEQUERY",
    17: "DHCPLEASEQUERYSTATUS",
    18: "DHCPTLS",
}


class DhcpError(DissectError):
    """A DHCP/BOOTP message is malformed (short header, option past the end)."""


def _ip(raw: bytes) -> str:
    return f"{raw[0]}.{raw[1]}.{raw[2]}.{raw[3]}"


def _ip_or_none(raw: bytes) -> str | None:
    return None if raw == b"\x00\x00\x00\x00" else _ip(raw)


def _ips(raw: bytes, code: int) -> tuple[str, ...]:
    if len(raw) % 4:
        raise DhcpError(f"option {code}: {len(raw)} bytes is no list of IPv4 addresses")
    return tuple(_ip(raw[i : i + 4]) for i in range(0, len(raw), 4))


def _one_ip(options: dict[int, bytes], code: int) -> str | None:
    raw = options.get(code)
    if raw is None:
        return None
    if len(raw) != 4:
        raise DhcpError(f"option {code}: {len(raw)} bytes is no IPv4 address")
    return _ip(raw)


def _text(raw: bytes) -> str:
    """Option text: trailing NULs (C strings) dropped, non-UTF-8 bytes shown as ``\\xNN``."""
    return raw.rstrip(b"\x00").decode("utf-8", "backslashreplace")


def _opt_text(options: dict[int, bytes], code: int) -> str | None:
    raw = options.get(code)
    return None if raw is None else _text(raw)


def _uint(options: dict[int, bytes], code: int, size: int) -> int | None:
    raw = options.get(code)
    if raw is None:
        return None
    if len(raw) != size:
        raise DhcpError(f"option {code}: {len(raw)} bytes, {size} expected")
    return int.from_bytes(raw, "big")


def _read_options(
    data: bytes, start: int, end: int, values: dict[int, bytes], codes: list[int]
) -> None:
    """Options between ``start`` and ``end`` (or the end option): values of repeated codes
    are concatenated (RFC 3396), codes are listed in wire order."""
    pos = start
    while pos < end:
        code = data[pos]
        if code == 0:
            pos += 1
            continue
        if code == 255:
            return
        if pos + 1 >= end:
            raise DhcpError(f"option {code} at {pos} has no length byte")
        stop = pos + 2 + data[pos + 1]
        if stop > end:
            raise DhcpError(f"option {code} at {pos} runs past the end")
        codes.append(code)
        value = data[pos + 2 : stop]
        values[code] = values[code] + value if code in values else value
        pos = stop


def _user_class(raw: bytes) -> tuple[str, ...]:
    """RFC 3004 instances (length-prefixed) when they fill the option exactly, else the
    whole value (Microsoft clients send plain text)."""
    items: list[str] = []
    pos = 0
    while pos < len(raw):
        n = raw[pos]
        end = pos + 1 + n
        if n == 0 or end > len(raw):
            return (_text(raw),)
        items.append(_text(raw[pos + 1 : end]))
        pos = end
    return tuple(items)


def _client_fqdn(raw: bytes) -> str | None:
    """Option 81: flags, two rcodes, then the name, wire-encoded when the E flag is set."""
    if len(raw) < 3:
        raise DhcpError(f"option 81 of {len(raw)} bytes")
    name = raw[3:]
    if raw[0] & 0x04:
        try:
            text = decode_wire_name(name)
        except DnsError as exc:
            raise DhcpError(f"option 81: {exc}") from exc
    else:
        text = _text(name)
    return text or None


def _relay_agent(raw: bytes | None) -> tuple[str | None, str | None]:
    """Option 82 sub-options 1 (circuit id) and 2 (remote id) as hex."""
    if raw is None:
        return None, None
    circuit: str | None = None
    remote: str | None = None
    pos = 0
    while pos + 2 <= len(raw):
        sub, n = raw[pos], raw[pos + 1]
        end = pos + 2 + n
        if end > len(raw):
            raise DhcpError("option 82: sub-option runs past the end")
        if sub == 1:
            circuit = raw[pos + 2 : end].hex()
        elif sub == 2:
            remote = raw[pos + 2 : end].hex()
        pos = end
    return circuit, remote


def _field_text(raw: bytes) -> str | None:
    """``sname``/``file`` header fields: NUL-terminated text, None when empty."""
    text = raw.split(b"\x00", 1)[0]
    return _text(text) if text else None


class DhcpDissector:
    """DHCPv4/BOOTP on UDP 67/68."""

    name: ClassVar[str] = "dhcp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({67, 68})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 8

    def signature(self, head: bytes) -> bool:
        """BOOTP op 1 or 2, Ethernet-sized hlen, and the DHCP magic cookie at offset 236."""
        return (
            len(head) >= 240
            and head[0] in (1, 2)
            and head[2] <= 16
            and head[236:240] == (MAGIC_COOKIE)
        )

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if len(payload) < _FIXED:
            raise DhcpError(f"{len(payload)} bytes is shorter than the BOOTP header")
        op = payload[0]
        if op not in (1, 2):
            raise DhcpError(f"op {op} is neither BOOTREQUEST nor BOOTREPLY")
        htype = payload[1]
        hlen = payload[2]
        if hlen > 16:
            raise DhcpError(f"hlen {hlen} exceeds the 16-byte chaddr")
        xid = int.from_bytes(payload[4:8], "big")
        client_mac = payload[28 : 28 + hlen].hex(":")  # two lower-case digits a byte
        values: dict[int, bytes] = {}
        codes: list[int] = []
        overload = 0
        if len(payload) >= 240 and payload[236:240] == MAGIC_COOKIE:
            _read_options(payload, 240, len(payload), values, codes)
            raw = values.get(52)
            if raw is not None:
                if len(raw) != 1:
                    raise DhcpError("option 52 (overload) is not one byte")
                overload = raw[0]
            if overload & 1:
                _read_options(payload, 108, 236, values, codes)  # file
            if overload & 2:
                _read_options(payload, 44, 108, values, codes)  # sname
        raw_type = values.get(53)
        message_type: int | None = None
        if raw_type is not None:
            if len(raw_type) != 1:
                raise DhcpError("option 53 (message type) is not one byte")
            message_type = raw_type[0]
        circuit_id, remote_id = _relay_agent(values.get(82))
        ciaddr = _ip_or_none(payload[12:16])
        giaddr = _ip_or_none(payload[24:28])
        if op == 1:
            type_name = (
                "BOOTREQUEST"
                if message_type is None
                else MESSAGE_TYPES.get(message_type, f"DHCP-{message_type}")
            )
            client_id = values.get(61)
            user_class = values.get(77)
            fqdn = values.get(81)
            yield DhcpRequest(
                ctx=ctx,
                message_type=message_type,
                message_type_name=type_name,
                xid=xid,
                htype=htype,
                client_mac=client_mac,
                ciaddr=ciaddr,
                giaddr=giaddr,
                host_name=_opt_text(values, 12),
                requested_ip=_one_ip(values, 50),
                server_id=_one_ip(values, 54),
                param_request_list=tuple(values.get(55, b"")),
                max_message_size=_uint(values, 57, 2),
                vendor_class=_opt_text(values, 60),
                client_id=None if client_id is None else client_id.hex(),
                user_class=() if user_class is None else _user_class(user_class),
                client_fqdn=None if fqdn is None else _client_fqdn(fqdn),
                relay_agent_circuit_id=circuit_id,
                relay_agent_remote_id=remote_id,
                option_codes=tuple(codes),
            )
            return
        type_name = (
            "BOOTREPLY"
            if message_type is None
            else MESSAGE_TYPES.get(message_type, f"DHCP-{message_type}")
        )
        yield DhcpServerReply(
            ctx=ctx,
            message_type=message_type,
            message_type_name=type_name,
            xid=xid,
            htype=htype,
            client_mac=client_mac,
            yiaddr=_ip_or_none(payload[16:20]),
            ciaddr=ciaddr,
            siaddr=_ip_or_none(payload[20:24]),
            giaddr=giaddr,
            server_id=_one_ip(values, 54),
            lease_time=_uint(values, 51, 4),
            subnet_mask=_one_ip(values, 1),
            routers=_ips(values.get(3, b""), 3),
            domain_name_servers=_ips(values.get(6, b""), 6),
            domain_name=_opt_text(values, 15),
            host_name=_opt_text(values, 12),
            vendor_class=_opt_text(values, 60),
            server_host_name=None if overload & 2 else _field_text(payload[44:108]),
            tftp_server_name=_opt_text(values, 66),
            boot_file_name=_opt_text(values, 67)
            or (None if overload & 1 else _field_text(payload[108:236])),
            relay_agent_circuit_id=circuit_id,
            relay_agent_remote_id=remote_id,
            option_codes=tuple(codes),
        )
