"""Routing facts carried straight over IP (neither TCP nor UDP): what routers and multicast
queriers say about themselves.

* VRRP advertisements (IP protocol 112): version 2 (RFC 3768) and 3 (RFC 5798); only the
  master router of a virtual router sends them, a backup takes over when they stop;
* IGMP (IP protocol 2): membership queries (RFC 1112 v1, RFC 2236 v2, RFC 3376 v3) come from
  the segment's querier - a multicast router or a snooping switch - and membership reports
  from hosts joining groups.

Secrets never become fields: a VRRPv2 authentication string is stated only as its type.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class VrrpAdvertisement(Observation):
    """A VRRP advertisement (type 1): the sender is the master of ``virtual_router_id``."""

    PROTOCOL: ClassVar[str] = "vrrp"

    version: int
    """2 (RFC 3768, IPv4 only) or 3 (RFC 5798, IPv4 or IPv6)."""
    virtual_router_id: int
    """VRID (1-255): the virtual router on this LAN."""
    priority: int
    """255: the owner of the virtual addresses; 1-254: a backup that became master; 0: the
    master is giving the role up."""
    virtual_addresses: tuple[str, ...]
    """The IPvX addresses of the virtual router, in the order sent."""
    advertisement_interval: int
    """v2: Adver Int in seconds; v3: Max Adver Int in centiseconds."""
    authentication_type: int | None = None
    """v2 Auth Type (0 none, 1 simple text password, 2 IP Authentication Header); None for v3.
    The authentication data itself is never kept."""


@observation
class IgmpMessage(Observation):
    """An IGMP message: a membership query (from the querier) or a host's report or leave."""

    PROTOCOL: ClassVar[str] = "igmp"

    message_type: int
    """Type: 0x11 membership query, 0x12 v1 report, 0x16 v2 report, 0x17 leave group,
    0x22 v3 report."""
    message_name: str
    """``query``, ``report`` or ``leave`` (``type-0xNN`` for others)."""
    version: int
    """IGMP version: a query's from its length and Max Resp Code (RFC 3376 section 7.1);
    1, 2 or 3 for reports by type; 2 for a leave."""
    groups: tuple[str, ...] = ()
    """The group addresses queried or reported (none: a general query)."""
    general_query: bool = False
    """A query for every group (group address 0.0.0.0): sent by the segment's querier."""
    max_response_time: int | None = None
    """A query's Max Resp Time (v2, tenths of a second) or Max Resp Code (v3)."""
