"""Link-layer facts: the hardware address a host was seen with and who registered it.

The first three bytes of a universally administered MAC (the OUI) are assigned by the IEEE
to one organisation; medsec looks them up in the IEEE registry netaddr ships. The
organisation names the maker of the network interface, which for embedded medical devices
is usually the device maker (``Philips Patient Monitoring``, ``Draeger Medical``) and for
modules bought in (``Silex Technology``, ``Digi International``) only hints at one.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class HardwareAddress(Observation):
    """A host's MAC address and the IEEE registration of its OUI (``ctx.src_mac`` is it)."""

    PROTOCOL: ClassVar[str] = "ethernet"

    mac: str
    """Lower-case, colon-separated (``00:09:fb:12:34:56``)."""
    oui: str
    """The first three bytes, upper-case, dash-separated as the IEEE writes them (``00-09-FB``)."""
    organization: str | None
    """The IEEE registry's organisation name for the OUI (MA-L or IAB); None when the
    registry does not know it or the address is locally administered."""
    locally_administered: bool
    """Bit 1 of the first byte: a random or assigned address (phones' private MACs, VMs)."""
