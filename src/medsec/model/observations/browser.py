"""NetBIOS datagram service (RFC 1002 4.4, UDP 138) and CIFS Browser Protocol ([MS-BRWS])
facts.

Windows (and Samba, and others imitating them) announce themselves on UDP 138: a browser
frame travels as an SMB Trans mailslot write to ``\\MAILSLOT\\BROWSE`` (or the older LAN
Manager form to ``\\MAILSLOT\\LANMAN``) inside a NetBIOS datagram. A host announcement names
the host, its operating system version (major.minor) and its server type bits
(``SV_TYPE_WORKSTATION``, ``SV_TYPE_SERVER_NT``, ``SV_TYPE_DOMAIN_CTRL`` ...; [MS-SRVS]
2.2.2.7), which together say much of what a host is.

Every browser frame carries the NetBIOS names of its datagram: the sender's name
(``source_name``, usually ``<computer>`` with suffix 0x00 or 0x20) and the group or name it
was sent to (``destination_name``: the workgroup or domain, ``__MSBROWSE__``...). Names are
decoded from the first-level encoding, trailing spaces removed; OEM strings are shown as
ASCII with other bytes as ``\\xNN``.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class NetbiosDatagram(Observation):
    """A NetBIOS datagram service message that carries no browser frame: a datagram to
    another mailslot (``\\MAILSLOT\\NET\\NETLOGON`` ...) or other user data, a datagram
    error (0x13) or a datagram query (0x14-0x16)."""

    PROTOCOL: ClassVar[str] = "netbios-dgm"

    msg_type: int
    """MSG_TYPE: 0x10 direct unique, 0x11 direct group, 0x12 broadcast, 0x13 error,
    0x14 query request, 0x15 positive and 0x16 negative query response."""
    msg_type_name: str
    """``direct_unique``, ``direct_group``, ``broadcast``, ``error``, ``query_request``,
    ``positive_query_response`` or ``negative_query_response``."""
    source_ip: str
    """SOURCE_IP of the datagram header (the original sender, even when relayed)."""
    source_port: int
    """SOURCE_PORT of the datagram header."""
    source_name: str | None = None
    """SOURCE_NAME (0x10-0x12): the sender's NetBIOS name."""
    source_suffix: int | None = None
    """16th byte of the source name (0x00 workstation, 0x20 server service)."""
    destination_name: str | None = None
    """DESTINATION_NAME (0x10-0x12, 0x14-0x16): the name or group addressed."""
    destination_suffix: int | None = None
    """16th byte of the destination name (0x1D master browser, 0x1E browser election ...)."""
    mailslot: str | None = None
    """Mailslot name of an SMB Trans mailslot write in the user data, when it is one."""
    error_code: int | None = None
    """ERROR_CODE of an error datagram (0x82 destination name not present, 0x83 invalid
    source name, 0x84 invalid destination name)."""


@observation
class BrowserFrame(Observation):
    """Common part of a browser frame and its datagram; only its subclasses are emitted."""

    PROTOCOL: ClassVar[str] = "browser"

    opcode: int
    """Browser frame opcode ([MS-BRWS] 2.2: 1 HostAnnouncement ... 15 LocalMasterAnnouncement)."""
    mailslot: str
    """``\\MAILSLOT\\BROWSE`` or ``\\MAILSLOT\\LANMAN`` (LAN Manager announcement format)."""
    source_name: str
    """SOURCE_NAME of the datagram: the sender's NetBIOS name."""
    source_suffix: int
    """16th byte of the source name."""
    destination_name: str
    """DESTINATION_NAME of the datagram: the workgroup or domain (``<group>`` 0x00, 0x1D,
    0x1E), ``\\x01\\x02__MSBROWSE__\\x02`` (0x01), or a browser's own name."""
    destination_suffix: int
    """16th byte of the destination name."""


@observation
class BrowserHostAnnouncement(BrowserFrame):
    """A HostAnnouncement (opcode 1, [MS-BRWS] 2.2.1) or LocalMasterAnnouncement (opcode
    15, 2.2.9): a server names itself, its OS version and the services it offers."""

    announcement: str
    """``host`` (opcode 1) or ``local_master`` (opcode 15: the sender is the local master
    browser of ``destination_name``)."""
    update_count: int
    """UpdateCount (ignored on receipt; 0 in the LAN Manager form)."""
    periodicity: int
    """Periodicity: announcement interval in milliseconds."""
    server_name: str
    """ServerName: the announcing host's NetBIOS name."""
    os_version_major: int
    """OSVersionMajor (Windows: its major version, 4 for NT 4.0 and 9x, 5, 6, 10; Samba:
    the ``announce version`` setting, 4.9 by default)."""
    os_version_minor: int
    """OSVersionMinor."""
    server_type: int
    """ServerType bit field as sent ([MS-SRVS] 2.2.2.7 SV_TYPE_*)."""
    server_type_names: tuple[str, ...]
    """The SV_TYPE_* names of the bits set, lowest bit first (unnamed bits only in
    ``server_type``)."""
    browser_version_major: int | None = None
    """BrowserVersionMajor (BrowserConfigVersionMajor of a local master announcement);
    None in the LAN Manager form."""
    browser_version_minor: int | None = None
    """BrowserVersionMinor; None in the LAN Manager form."""
    signature: int | None = None
    """Signature (0xAA55 as [MS-BRWS] requires; others are stated as sent); None in the LAN
    Manager form."""
    comment: str | None = None
    """Comment (the server description), printable characters only, at most 128; None when
    empty."""


@observation
class BrowserDomainAnnouncement(BrowserFrame):
    """A DomainAnnouncement (opcode 12, [MS-BRWS] 2.2.7): a local master browser announces
    the workgroup or domain it serves to the other local masters (``__MSBROWSE__``)."""

    update_count: int
    """UpdateCount (sent as 0)."""
    periodicity: int
    """Periodicity: announcement interval of the machine group in milliseconds."""
    machine_group: str
    """MachineGroup: the workgroup or domain name."""
    browser_config_version_major: int
    """BrowserConfigVersionMajor (Windows 9x and Samba put their OS version here)."""
    browser_config_version_minor: int
    """BrowserConfigVersionMinor."""
    server_type: int
    """ServerType bit field as sent (SV_TYPE_DOMAIN_ENUM set)."""
    server_type_names: tuple[str, ...]
    """The SV_TYPE_* names of the bits set."""
    browser_version_major: int
    """BrowserVersionMajor."""
    browser_version_minor: int
    """BrowserVersionMinor."""
    signature: int
    """Signature (0xAA55 as sent by Windows NT and Samba)."""
    local_master_browser_name: str | None = None
    """LocalMasterBrowserName: the NetBIOS name of the local master (the sender)."""


@observation
class BrowserElectionRequest(BrowserFrame):
    """A RequestElection (opcode 8, [MS-BRWS] 2.2.3): a browser server's election
    criteria."""

    version: int
    """Version of the election frame."""
    criteria: int
    """Criteria as sent (little-endian 32 bits: OS byte, browser version, desire)."""
    criteria_os: int
    """The criteria's OS byte (bit 0x01 Windows for Workgroups / 9x, 0x10 NT workstation,
    0x20 NT server; Samba sends its ``os level`` setting here)."""
    criteria_browser_version_major: int
    """Browser protocol major version of the criteria."""
    criteria_browser_version_minor: int
    """Browser protocol minor version of the criteria."""
    criteria_desire: int
    """The criteria's desire byte (backup, standby, master, domain master, WINS, NT)."""
    uptime: int
    """Uptime of the browser service in milliseconds."""
    server_name: str | None = None
    """ServerName: the sender's NetBIOS name; None when empty."""


@observation
class BrowserMessage(BrowserFrame):
    """Another browser frame: AnnouncementRequest (2), GetBackupListRequest (9) and Response
    (10), BecomeBackup (11), MasterAnnouncement (13), ResetStateRequest (14)."""

    opcode_name: str
    """Name of the opcode (``announcement_request``, ``get_backup_list_request``, ...)."""
    names: tuple[str, ...] = ()
    """NetBIOS names the frame carries: ResponseName (2), BackupServerList (10),
    BrowserToPromote (11), MasterBrowserServerName (13)."""
    token: int | None = None
    """Token of a GetBackupListRequest/Response."""
