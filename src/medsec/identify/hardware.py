"""MAC addresses -> ``HardwareAddress`` observations, with the IEEE registry netaddr ships."""

from __future__ import annotations

from functools import lru_cache

import netaddr

from medsec.model.observations import PacketContext
from medsec.model.observations.link import HardwareAddress


@lru_cache(maxsize=65536)
def organization_of(mac: str) -> str | None:
    """The IEEE organisation registered for the MAC's block (MA-L, or IAB inside the IEEE's
    own 00-50-C2 and 40-D8-55 blocks), or None."""
    try:
        eui = netaddr.EUI(mac)
        registration = eui.iab.registration() if eui.is_iab() else eui.oui.registration()
        org = registration.org
    except (netaddr.NotRegisteredError, netaddr.AddrFormatError, IndexError, ValueError):
        return None
    return str(org).strip() or None


def hardware_address(mac: str, *, ip: str | None, ts_ns: int, vlan: int = 0) -> HardwareAddress:
    """The observation that ``ip`` (when known) was seen with ``mac`` at ``ts_ns``."""
    mac = mac.lower()
    octets = mac.split(":")
    oui = "-".join(octets[:3]).upper()
    local = bool(int(octets[0], 16) & 0x02)
    ctx = PacketContext(
        ts_ns=ts_ns,
        transport="l2",
        src_ip=ip,
        dst_ip=None,
        src_port=0,
        dst_port=0,
        src_mac=mac,
        dst_mac=None,
        vlan=vlan,
        ethertype=0,
        flow_id=-1,
        from_client=None,
    )
    return HardwareAddress(
        ctx=ctx,
        mac=mac,
        oui=oui,
        organization=None if local else organization_of(mac),
        locally_administered=local,
    )
