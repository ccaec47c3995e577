"""Remote access facts: RDP connection negotiation and client data, VNC/RFB handshakes."""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class RdpConnectionRequest(Observation):
    """An RDP X.224 Connection Request ([MS-RDPBCGR] 2.2.1.1)."""

    PROTOCOL: ClassVar[str] = "rdp"
    cookie: str | None
    """The ``mstshash`` cookie: a user name (often truncated to 9 characters)."""
    routing_token: bool
    """A load-balancer routing token (``Cookie: msts=``) was sent instead of a cookie."""
    requested_protocols: int | None
    """requestedProtocols of RDP_NEG_REQ (0 = standard RDP security); None when absent."""
    protocols: tuple[str, ...]
    """Names of the requested protocol flags: ``TLS``, ``CredSSP``, ``RDSTLS``,
    ``CredSSP-EX``, ``RDSAAD``; ``RDP`` for standard RDP security."""


@observation
class RdpConnectionConfirm(Observation):
    """An RDP X.224 Connection Confirm ([MS-RDPBCGR] 2.2.1.2): the security the server chose."""

    PROTOCOL: ClassVar[str] = "rdp"
    selected_protocol: int | None
    """selectedProtocol of RDP_NEG_RSP; None when the server sent none (old servers) or failed."""
    protocol: str | None
    """Name of the selected protocol (``RDP``, ``TLS``, ``CredSSP``, ...)."""
    failure_code: int | None
    """failureCode of RDP_NEG_FAILURE (e.g. 5 = HYBRID_REQUIRED_BY_SERVER), when sent."""


@observation
class RdpClientCoreData(Observation):
    """Client Core Data (TS_UD_CS_CORE, [MS-RDPBCGR] 2.2.1.3.2) of a Connect Initial sent in
    clear (standard RDP security): the client's host name and build."""

    PROTOCOL: ClassVar[str] = "rdp"
    version: int
    """RDP version the client implements (0x00080004 = RDP 5.0 to 8.1, 0x00080005+ = 10.x)."""
    client_name: str
    """The client computer's NetBIOS name."""
    client_build: int
    """Build number of the client (Windows build for Microsoft clients)."""
    keyboard_layout: int
    """Active input locale identifier (0x409 = US English)."""
    desktop_width: int
    """Requested desktop width in pixels."""
    desktop_height: int
    """Requested desktop height in pixels."""


@observation
class RdpServerCoreData(Observation):
    """Server Core Data (TS_UD_SC_CORE, [MS-RDPBCGR] 2.2.1.4.2) of a Connect Response."""

    PROTOCOL: ClassVar[str] = "rdp"
    version: int
    """RDP version the server implements (0x00080004 = RDP 5.0 to 8.1, 0x00080005+ = 10.x)."""


@observation
class RfbProtocolVersion(Observation):
    """The RFB ProtocolVersion message (RFC 6143 §7.1.1) one side of a VNC session sent."""

    PROTOCOL: ClassVar[str] = "vnc"
    version: str
    """As sent, e.g. ``003.008``; Apple Remote Desktop sends ``003.889``."""
    major: int
    """Major version (3)."""
    minor: int
    """Minor version (3, 7, 8; other values are vendor-specific)."""


@observation
class RfbSecurityTypes(Observation):
    """Security types a VNC server offers (RFC 6143 §7.1.2) - or imposes (RFB 3.3)."""

    PROTOCOL: ClassVar[str] = "vnc"
    types: tuple[int, ...]
    """Offered types: 1 None (no authentication), 2 VNC Authentication, 18 TLS, 19 VeNCrypt,
    30 Apple Remote Desktop, ...; empty when the server refused the connection."""
    names: tuple[str, ...]
    """Names of ``types`` (``None``, ``VNC Authentication``; ``type N`` when unknown)."""


@observation
class RfbServerInit(Observation):
    """The RFB ServerInit message (RFC 6143 §7.3.2): framebuffer size and desktop name."""

    PROTOCOL: ClassVar[str] = "vnc"
    width: int
    """Framebuffer width in pixels."""
    height: int
    """Framebuffer height in pixels."""
    desktop_name: str
    """The desktop name, which often names the host or the device."""
