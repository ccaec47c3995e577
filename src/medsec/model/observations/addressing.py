"""Address assignment facts: DHCPv4 (RFC 2131/2132) and DHCPv6 (RFC 8415).

A DHCP client states much about itself before it has an address: its MAC, the host name it
wants, its vendor class (``Mfg=Xerox;Mod=ColorQube 8580DN;...``) and the ordered list of
options it asks for, the classic passive fingerprint. Servers state the lease they hand out.
Addresses are text (``192.0.2.7``), MACs lower-case colon-separated, opaque identifiers
lower-case hex without separators.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class DhcpRequest(Observation):
    """A DHCPv4/BOOTP message sent by a client (``op`` = 1, BOOTREQUEST): DISCOVER, REQUEST,
    INFORM, DECLINE, RELEASE, or plain BOOTP."""

    PROTOCOL: ClassVar[str] = "dhcp"
    NONCES: ClassVar[frozenset[str]] = frozenset({"xid"})

    message_type: int | None
    """Option 53 (1 DISCOVER, 3 REQUEST, 4 DECLINE, 7 RELEASE, 8 INFORM); None for BOOTP."""
    message_type_name: str
    """``DHCPDISCOVER``, ``DHCPREQUEST``, ...; ``BOOTREQUEST`` without option 53."""
    xid: int
    """Transaction id chosen by the client."""
    htype: int
    """Hardware address type (1 = Ethernet)."""
    client_mac: str
    """``chaddr``: the first ``hlen`` bytes, colon-separated hex (a MAC when htype is 1)."""
    ciaddr: str | None = None
    """Client address the client already holds (INFORM, renewals); None when 0.0.0.0."""
    giaddr: str | None = None
    """Relay agent address; None when 0.0.0.0 (not relayed)."""
    host_name: str | None = None
    """Option 12, the host name the client announces."""
    requested_ip: str | None = None
    """Option 50, the address the client asks for."""
    server_id: str | None = None
    """Option 54, the server the client selects (REQUEST after OFFER)."""
    param_request_list: tuple[int, ...] = ()
    """Option 55 in the client's order (order matters for fingerprints)."""
    max_message_size: int | None = None
    """Option 57, maximum DHCP message size the client accepts."""
    vendor_class: str | None = None
    """Option 60, vendor class identifier (``MSFT 5.0``, ``dhcpcd-5.5.6``, ``Mfg=...``)."""
    client_id: str | None = None
    """Option 61 as hex, type byte included (``01`` + MAC for Ethernet)."""
    user_class: tuple[str, ...] = ()
    """Option 77: the RFC 3004 user class instances, or the whole value as one string."""
    client_fqdn: str | None = None
    """Option 81, the fully qualified name the client asks DNS to be updated with."""
    relay_agent_circuit_id: str | None = None
    """Option 82 sub-option 1 (circuit id) as hex, added by a relay agent."""
    relay_agent_remote_id: str | None = None
    """Option 82 sub-option 2 (remote id) as hex."""
    option_codes: tuple[int, ...] = ()
    """Codes of all options present, in wire order (pad and end excluded)."""


@observation
class DhcpServerReply(Observation):
    """A DHCPv4/BOOTP message sent by a server or relay (``op`` = 2, BOOTREPLY): OFFER, ACK,
    NAK, or plain BOOTP reply."""

    PROTOCOL: ClassVar[str] = "dhcp"
    NONCES: ClassVar[frozenset[str]] = frozenset({"xid"})

    message_type: int | None
    """Option 53 (2 OFFER, 5 ACK, 6 NAK); None for BOOTP."""
    message_type_name: str
    """``DHCPOFFER``, ``DHCPACK``, ...; ``BOOTREPLY`` without option 53."""
    xid: int
    """Transaction id of the client request answered."""
    htype: int
    """Hardware address type (1 = Ethernet)."""
    client_mac: str
    """``chaddr`` of the client the reply is for."""
    yiaddr: str | None = None
    """Address offered or assigned to the client; None when 0.0.0.0."""
    ciaddr: str | None = None
    """Client address echoed (ACK to INFORM); None when 0.0.0.0."""
    siaddr: str | None = None
    """Next server (TFTP) address; None when 0.0.0.0."""
    giaddr: str | None = None
    """Relay agent address; None when 0.0.0.0."""
    server_id: str | None = None
    """Option 54, the server identifier."""
    lease_time: int | None = None
    """Option 51, lease time in seconds."""
    subnet_mask: str | None = None
    """Option 1."""
    routers: tuple[str, ...] = ()
    """Option 3, default gateways in order."""
    domain_name_servers: tuple[str, ...] = ()
    """Option 6, DNS servers in order."""
    domain_name: str | None = None
    """Option 15."""
    host_name: str | None = None
    """Option 12, a host name the server assigns."""
    vendor_class: str | None = None
    """Option 60 when a server sends one (``PXEClient`` in proxy DHCP)."""
    server_host_name: str | None = None
    """The ``sname`` header field (unless option 52 overloads it with options)."""
    tftp_server_name: str | None = None
    """Option 66, the TFTP server name."""
    boot_file_name: str | None = None
    """Option 67, or the ``file`` header field when not overloaded."""
    relay_agent_circuit_id: str | None = None
    """Option 82 sub-option 1 (circuit id) as hex."""
    relay_agent_remote_id: str | None = None
    """Option 82 sub-option 2 (remote id) as hex."""
    option_codes: tuple[int, ...] = ()
    """Codes of all options present, in wire order (pad and end excluded)."""


@observation
class Dhcpv6Message(Observation):
    """A DHCPv6 message (RFC 8415); for relayed messages, the innermost client or server
    message, with the relay's link address."""

    PROTOCOL: ClassVar[str] = "dhcpv6"
    NONCES: ClassVar[frozenset[str]] = frozenset({"transaction_id"})

    msg_type: int
    """1 SOLICIT, 2 ADVERTISE, 3 REQUEST, 5 RENEW, 7 REPLY, 11 INFORMATION-REQUEST, ..."""
    msg_type_name: str
    """``SOLICIT``, ``REPLY``, ... (``UNKNOWN-<n>`` for unassigned types)."""
    transaction_id: int
    """24-bit transaction id."""
    client_duid: str | None = None
    """Option 1 (client identifier), the DUID as hex."""
    client_duid_type: int | None = None
    """DUID type: 1 LLT, 2 EN, 3 LL, 4 UUID."""
    client_link_layer_address: str | None = None
    """MAC carried in a DUID-LLT/DUID-LL of hardware type 1 (Ethernet)."""
    server_duid: str | None = None
    """Option 2 (server identifier), the DUID as hex."""
    option_request: tuple[int, ...] = ()
    """Option 6 (ORO): requested option codes in the client's order."""
    user_class: tuple[str, ...] = ()
    """Option 15, the user class data items."""
    vendor_class_enterprise: int | None = None
    """Option 16, IANA enterprise number of the vendor class."""
    vendor_class: tuple[str, ...] = ()
    """Option 16, the vendor class data items (``MSFT 5.0``)."""
    vendor_opts_enterprise: int | None = None
    """Option 17 (vendor-specific information), its enterprise number."""
    client_fqdn: str | None = None
    """Option 39, the client's fully qualified domain name."""
    relay_link_address: str | None = None
    """Link address of the (outermost) RELAY-FORW/RELAY-REPL wrapping the message."""
    option_codes: tuple[int, ...] = ()
    """Codes of all top-level options of the message, in wire order."""
