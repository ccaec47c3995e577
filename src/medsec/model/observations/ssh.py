"""SSH facts: the identification strings both ends send, and their key-exchange offers."""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class SshBanner(Observation):
    """An SSH identification string (RFC 4253 §4.2): ``SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5``."""

    PROTOCOL: ClassVar[str] = "ssh"
    banner: str
    """The identification line without CR LF (at most 255 characters)."""
    protocol_version: str
    """``2.0``, ``1.99`` (both 1 and 2) or ``1.5``."""
    software_version: str
    """The softwareversion field, e.g. ``OpenSSH_8.2p1``."""
    comments: str | None
    """Text after the first space, e.g. ``Ubuntu-4ubuntu0.5``."""
    product: str
    """Software name part of ``software_version`` (``OpenSSH``, ``dropbear``, ``Cisco``)."""
    product_version: str | None
    """Version part of ``software_version`` (``8.2p1``), when it has one."""


@observation
class SshKexInit(Observation):
    """An SSH_MSG_KEXINIT (RFC 4253 §7.1): the algorithms a side offers, and its HASSH."""

    PROTOCOL: ClassVar[str] = "ssh"
    role: str
    """``client`` or ``server``: from the flow direction when known, else from the ports
    (the side on an SSH port, or else on the lower port, is taken as the server)."""
    kex_algorithms: tuple[str, ...]
    """Key exchange methods, in preference order."""
    server_host_key_algorithms: tuple[str, ...]
    """Host key algorithms."""
    encryption_client_to_server: tuple[str, ...]
    """Ciphers client to server."""
    encryption_server_to_client: tuple[str, ...]
    """Ciphers server to client."""
    mac_client_to_server: tuple[str, ...]
    """MACs client to server."""
    mac_server_to_client: tuple[str, ...]
    """MACs server to client."""
    compression_client_to_server: tuple[str, ...]
    """Compression client to server."""
    compression_server_to_client: tuple[str, ...]
    """Compression server to client."""
    hassh_algorithms: str
    """The HASSH input: ``kex;enc;mac;compression`` with the client-to-server lists for a
    client (HASSH) and the server-to-client lists for a server (HASSH-S)."""
    hassh: str
    """MD5 of ``hassh_algorithms``, lower-case hex (Salesforce HASSH / HASSH-S)."""
