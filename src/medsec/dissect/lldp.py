"""LLDP (IEEE 802.1AB) frames, EtherType 0x88CC, with the 802.1 Port VLAN ID and the
LLDP-MED (ANSI/TIA-1057) capabilities and inventory TLVs.

One LLDPDU gives one ``LldpAdvertisement``. The mandatory Chassis ID, Port ID and TTL TLVs
must come first; the frame's padding after the End TLV is ignored.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.discovery import LldpAdvertisement

logger = logging.getLogger(__name__)

CAPABILITIES = (
    "other",
    "repeater",
    "bridge",
    "wlan-access-point",
    "router",
    "telephone",
    "docsis-cable-device",
    "station-only",
    "c-vlan-component",
    "s-vlan-component",
    "two-port-mac-relay",
)
"""System capability bits 0..10 (IEEE 802.1AB-2016 table 8-4)."""

_OUI_8021 = b"\x00\x80\xc2"
_OUI_MED = b"\x00\x12\xbb"
_MED_INVENTORY = {
    5: "med_hardware_revision",
    6: "med_firmware_revision",
    7: "med_software_revision",
    8: "med_serial_number",
    9: "med_manufacturer",
    10: "med_model_name",
    11: "med_asset_id",
}


class LldpError(DissectError):
    """An LLDPDU is malformed (TLV past the end, mandatory TLV missing)."""


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _address(family: int, raw: bytes) -> str:
    """An address of an IANA address family (1 IPv4, 2 IPv6, 6 IEEE 802), else hex."""
    if family == 1 and len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if family == 2 and len(raw) == 16:
        return str(ipaddress.IPv6Address(raw))
    if family == 6 and len(raw) == 6:
        return _mac(raw)
    return raw.hex()


def _identifier(subtype: int, raw: bytes, mac_subtype: int, address_subtype: int) -> str:
    """Chassis/port ID text: a MAC or network address for those subtypes, else the string
    when it is printable UTF-8, else hex."""
    if subtype == mac_subtype and len(raw) == 6:
        return _mac(raw)
    if subtype == address_subtype and raw:
        return _address(raw[0], raw[1:])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.hex()
    return text if text.isprintable() else raw.hex()


def _bits(value: int) -> tuple[str, ...]:
    return tuple(name for bit, name in enumerate(CAPABILITIES) if value >> bit & 1)


class LldpDissector:
    """LLDP frames (EtherType 0x88CC)."""

    name: ClassVar[str] = "lldp"
    transports: ClassVar[frozenset[Transport]] = frozenset({"l2"})
    ports: ClassVar[frozenset[int]] = frozenset()
    ethertypes: ClassVar[frozenset[int]] = frozenset({0x88CC})
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """Starts with a Chassis ID TLV (type 1) of a valid subtype."""
        return len(head) >= 4 and head[0] >> 1 == 1 and 1 <= head[2] <= 7

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        pos = 0
        size = len(payload)
        mandatory: list[tuple[int, bytes]] = []
        fields: dict[str, str] = {}
        system_caps: tuple[str, ...] = ()
        enabled_caps: tuple[str, ...] = ()
        management: list[str] = []
        port_vlan_id: int | None = None
        med_class: int | None = None
        while pos < size:
            if pos + 2 > size:
                raise LldpError(f"TLV header at {pos} cut short")
            tlv_type = payload[pos] >> 1
            end = pos + 2 + (((payload[pos] & 1) << 8) | payload[pos + 1])
            if end > size:
                raise LldpError(f"TLV {tlv_type} at {pos} runs past the end")
            value = payload[pos + 2 : end]
            pos = end
            if len(mandatory) < 3:
                if tlv_type != len(mandatory) + 1:
                    raise LldpError(f"TLV {tlv_type} where mandatory TLV {len(mandatory) + 1}")
                if len(value) < 2:  # a subtype and one byte of ID; or the two TTL bytes
                    raise LldpError(f"mandatory TLV {tlv_type} of {len(value)} bytes")
                mandatory.append((tlv_type, value))
                continue
            if tlv_type == 0:
                break
            if tlv_type == 4:
                fields["port_description"] = _text(value)
            elif tlv_type == 5:
                fields["system_name"] = _text(value)
            elif tlv_type == 6:
                fields["system_description"] = _text(value)
            elif tlv_type == 7:
                if len(value) != 4:
                    raise LldpError(f"capabilities TLV of {len(value)} bytes")
                system_caps = _bits((value[0] << 8) | value[1])
                enabled_caps = _bits((value[2] << 8) | value[3])
            elif tlv_type == 8:
                if len(value) < 2 or value[0] < 1 or 1 + value[0] > len(value):
                    raise LldpError("management address TLV malformed")
                management.append(_address(value[1], value[2 : 1 + value[0]]))
            elif tlv_type == 127 and len(value) >= 4:
                oui, subtype, info = value[:3], value[3], value[4:]
                if oui == _OUI_8021 and subtype == 1 and len(info) == 2:
                    port_vlan_id = (info[0] << 8) | info[1]
                elif oui == _OUI_MED and subtype == 1 and len(info) == 3:
                    med_class = info[2]
                elif oui == _OUI_MED and subtype in _MED_INVENTORY:
                    fields[_MED_INVENTORY[subtype]] = _text(info)
        if len(mandatory) < 3:
            raise LldpError("LLDPDU without its chassis ID, port ID and TTL TLVs")
        chassis, port, ttl = (value for _, value in mandatory)
        yield LldpAdvertisement(
            ctx=ctx,
            chassis_id_subtype=chassis[0],
            chassis_id=_identifier(chassis[0], chassis[1:], 4, 5),
            port_id_subtype=port[0],
            port_id=_identifier(port[0], port[1:], 3, 4),
            ttl=(ttl[0] << 8) | ttl[1],
            port_description=fields.get("port_description"),
            system_name=fields.get("system_name"),
            system_description=fields.get("system_description"),
            system_capabilities=system_caps,
            enabled_capabilities=enabled_caps,
            management_addresses=tuple(management),
            port_vlan_id=port_vlan_id,
            med_device_class=med_class,
            med_hardware_revision=fields.get("med_hardware_revision"),
            med_firmware_revision=fields.get("med_firmware_revision"),
            med_software_revision=fields.get("med_software_revision"),
            med_serial_number=fields.get("med_serial_number"),
            med_manufacturer=fields.get("med_manufacturer"),
            med_model_name=fields.get("med_model_name"),
            med_asset_id=fields.get("med_asset_id"),
        )
