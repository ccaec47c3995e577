"""SMB/CIFS and NTLM facts: dialects, signing, native OS strings, NTLM names and OS versions.

NTLM messages travel inside SMB, HTTP (``Authorization: NTLM``) and other carriers; they say
which Windows version a host runs and its NetBIOS/DNS names. Password hashes and challenge
responses are never kept, only what kind of response was sent.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class NetbiosSessionRequest(Observation):
    """A NetBIOS session request (RFC 1002 §4.3.2, TCP 139) naming both ends."""

    PROTOCOL: ClassVar[str] = "smb"
    called_name: str
    """NetBIOS name of the server being called (trailing spaces removed)."""
    called_suffix: int
    """The 16th byte of the called name (0x20 = file server service)."""
    calling_name: str
    """NetBIOS name of the calling client."""
    calling_suffix: int
    """The 16th byte of the calling name (0x00 = workstation)."""


@observation
class SmbNegotiateRequest(Observation):
    """An SMB1 or SMB2 NEGOTIATE request: the dialects a client offers ([MS-CIFS], [MS-SMB2])."""

    PROTOCOL: ClassVar[str] = "smb"
    smb_version: int
    """1 for an SMB1 (0xFF 'SMB') header, 2 for SMB2/3 (0xFE 'SMB')."""
    dialects: tuple[str, ...]
    """Offered dialects: SMB1 strings (``NT LM 0.12``, ``SMB 2.002``) or SMB2 names (``3.1.1``)."""
    dialect_revisions: tuple[int, ...]
    """SMB2 dialect revision codes (0x0202 ... 0x0311); empty for SMB1."""
    client_guid: str | None
    """SMB2 ClientGuid (RFC 4122 text form); None for SMB1."""
    signing_required: bool | None
    """SMB2 SecurityMode says the client requires signing; None for SMB1."""
    netname: str | None
    """SMB 3.1.1 NETNAME context: the server name the client connects to."""


@observation
class SmbNegotiateResponse(Observation):
    """An SMB1 or SMB2 NEGOTIATE response: the dialect a server picked and its security mode."""

    PROTOCOL: ClassVar[str] = "smb"
    smb_version: int
    """1 for an SMB1 header, 2 for SMB2/3."""
    dialect_revision: int | None
    """SMB2 DialectRevision (0x0202 ... 0x0311, 0x02FF = multi-protocol wildcard)."""
    dialect: str | None
    """Name of the SMB2 dialect (``2.0.2``, ``2.1``, ``3.0``, ``3.0.2``, ``3.1.1``)."""
    dialect_index: int | None
    """SMB1: index of the chosen dialect in the client's list (0xFFFF = none acceptable)."""
    server_guid: str | None
    """ServerGuid (SMB2, or SMB1 with extended security) in RFC 4122 text form."""
    signing_enabled: bool
    """The server supports message signing."""
    signing_required: bool
    """The server requires message signing."""
    capabilities: int
    """Capabilities bit field as sent (SMB1 CAP_* or SMB2_GLOBAL_CAP_*)."""
    domain: str | None
    """SMB1 without extended security: the server's primary domain / workgroup."""
    server_name: str | None
    """SMB1 without extended security: the server's NetBIOS name, when sent."""


@observation
class SmbSessionSetup(Observation):
    """Native OS and LAN manager strings of an SMB1 SESSION_SETUP_ANDX request or response."""

    PROTOCOL: ClassVar[str] = "smb"
    response: bool
    """Sent by the server (a response) rather than the client."""
    native_os: str | None
    """NativeOS, e.g. ``Windows 5.1`` (XP) or ``Unix``."""
    native_lan_manager: str | None
    """NativeLanMan, e.g. ``Windows 2000 LAN Manager`` or ``Samba 3.0.28``."""
    primary_domain: str | None
    """PrimaryDomain, when present."""
    account_name: str | None
    """AccountName of a request without extended security (the user name, never a password)."""


@observation
class SmbTreeConnect(Observation):
    """The share path of a TREE_CONNECT request (``\\\\SERVER\\share``)."""

    PROTOCOL: ClassVar[str] = "smb"
    path: str
    """UNC path of the share."""
    service: str | None
    """SMB1 service type (``A:`` disk, ``IPC``, ``?????``); None for SMB2."""


@observation
class NtlmNegotiate(Observation):
    """An NTLM NEGOTIATE_MESSAGE ([MS-NLMP] §2.2.1.1)."""

    PROTOCOL: ClassVar[str] = "ntlm"
    carrier: str
    """Protocol the message travelled in (``smb``, ``http``, ...)."""
    flags: int
    """NegotiateFlags."""
    domain: str | None
    """Supplied domain name (OEM), when sent."""
    workstation: str | None
    """Supplied workstation name (OEM), when sent."""
    os_version: str | None
    """Client Windows version ``major.minor.build`` from the VERSION field, when sent."""


@observation
class NtlmChallenge(Observation):
    """An NTLM CHALLENGE_MESSAGE ([MS-NLMP] §2.2.1.2): the server's names and OS version."""

    PROTOCOL: ClassVar[str] = "ntlm"
    carrier: str
    """Protocol the message travelled in (``smb``, ``http``, ...)."""
    flags: int
    """NegotiateFlags."""
    target_name: str | None
    """TargetName (domain or server name)."""
    nb_computer_name: str | None
    """MsvAvNbComputerName: the server's NetBIOS name."""
    nb_domain_name: str | None
    """MsvAvNbDomainName."""
    dns_computer_name: str | None
    """MsvAvDnsComputerName: the server's FQDN."""
    dns_domain_name: str | None
    """MsvAvDnsDomainName."""
    dns_tree_name: str | None
    """MsvAvDnsTreeName: the forest."""
    os_version: str | None
    """Server Windows version ``major.minor.build`` from the VERSION field, when sent."""


@observation
class NtlmAuthenticate(Observation):
    """An NTLM AUTHENTICATE_MESSAGE ([MS-NLMP] §2.2.1.3): who logs on from which host."""

    PROTOCOL: ClassVar[str] = "ntlm"
    carrier: str
    """Protocol the message travelled in (``smb``, ``http``, ...)."""
    flags: int
    """NegotiateFlags."""
    user_name: str | None
    """UserName (empty for an anonymous logon)."""
    domain_name: str | None
    """DomainName."""
    workstation: str | None
    """Workstation: the client's NetBIOS name."""
    response_kind: str
    """``NTLMv2``, ``NTLMv1`` (24-byte NT response: weak) or ``anonymous`` (no NT response)."""
    os_version: str | None
    """Client Windows version ``major.minor.build`` from the VERSION field, when sent."""
