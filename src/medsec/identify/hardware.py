"""MAC addresses -> ``HardwareAddress`` observations, with the IEEE registry netaddr ships."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import netaddr

from medsec.model.observations import PacketContext
from medsec.model.observations.link import HardwareAddress

_COLON_MAC = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}")
_IAB_BLOCKS = frozenset({0x0050C2, 0x40D855})
"""The IEEE's own MA-L blocks whose 4,096-address slices are registered as IABs."""


@lru_cache(maxsize=65536)
def organization_of(mac: str) -> str | None:
    """The IEEE organisation registered for the MAC's block (MA-L, or IAB inside the IEEE's
    own 00-50-C2 and 40-D8-55 blocks), or None."""
    if len(mac) == 17 and _COLON_MAC.fullmatch(mac):  # as the capture stage writes MACs
        oui = int(mac[0:2] + mac[3:5] + mac[6:8], 16)
        if oui not in _IAB_BLOCKS:  # parsing with netaddr costs 50 us a MAC
            try:
                return str(_registered_org(oui)).strip() or None
            except (netaddr.NotRegisteredError, IndexError, ValueError):
                return None
    try:
        eui = netaddr.EUI(mac)
        if eui.is_iab():
            org = eui.iab.registration().org
        else:
            org = _registered_org(eui.value >> (24 if eui.version == 48 else 40))
    except (netaddr.NotRegisteredError, netaddr.AddrFormatError, IndexError, ValueError):
        return None
    return str(org).strip() or None


@lru_cache(maxsize=1)
def _oui_index() -> bytes:
    """netaddr's index of its MA-L registry: lines ``<OUI as int>,<offset>,<size>``."""
    return resources.files("netaddr.eui").joinpath("oui.idx").read_bytes()


@lru_cache(maxsize=65536)
def _registered_org(oui: int) -> str:
    """``netaddr.OUI(oui).registration().org``, without loading netaddr's whole index.

    netaddr parses all 35,000 lines of ``oui.idx`` into a dictionary the first time any OUI
    is looked up (40 ms); a device inventory asks for a few dozen. So the first line of the
    index for ``oui`` is found by a byte search, and its registry record is read and parsed
    as netaddr parses it (the organisation is what follows ``(hex)`` on its first line).
    Raises ``NotRegisteredError`` for an OUI the registry lacks, like netaddr.
    """
    index = _oui_index()
    needle = b"%d," % oui
    if index.startswith(needle):
        start = 0
    else:
        start = index.find(b"\n" + needle) + 1
        if start == 0:
            raise netaddr.NotRegisteredError(f"OUI {oui!r} not registered!")
    end = index.find(b"\n", start)
    entry = index[start:end] if end >= 0 else index[start:]
    _key, offset, size = (int(part) for part in entry.split(b","))
    with resources.files("netaddr.eui").joinpath("oui.txt").open("rb") as registry:
        registry.seek(offset)
        data = registry.read(size).decode("UTF-8")
    org = ""
    for text in data.split("\n"):
        text = text.strip()
        if "(hex)" in text:
            org = text.split(None, 2)[2]
    return org


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
