"""Facts of directory services: LDAP (RFC 4511) over TCP, and connectionless LDAP over UDP.

Which end of LDAP a host speaks (requests or responses, and on which server port - 3268 is
the Active Directory Global Catalog), how clients bind, and what a server's root DSE (the
entry with the empty DN, RFC 4512 5.1) says about it: vendor (RFC 3045), supported LDAP
versions, capabilities and extensions, Active Directory functional levels.

Never a secret: a simple bind's password and SASL credentials are never kept; when a
password crosses in clear (simple bind, SASL PLAIN) the dissector states a
``CleartextCredentials`` with the bind name as its user, as the other cleartext dissectors
keep the account whose password was exposed. The bind name is kept there only: the bind
observation keeps its form, not the name. Search bases and filters (which name users and
groups) are never kept, only whether a search asked for the root DSE and which attribute
types it asked for.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class LdapMessages(Observation):
    """The LDAP operations one direction of a connection (or one datagram) carries."""

    PROTOCOL: ClassVar[str] = "ldap"
    role: str | None
    """``client`` (requests), ``server`` (responses), None when both or neither."""
    server_port: int | None
    """Port of the server end: the destination port of requests, the source port of
    responses (389 LDAP, 3268 Active Directory Global Catalog); None without a role."""
    operations: tuple[str, ...]
    """protocolOp choices in order of first appearance, named as in RFC 4511 4.2
    (``bindRequest``, ``searchResEntry``, ``extendedReq``...)."""
    four_byte_lengths: bool
    """Every LDAPMessage SEQUENCE length was sent in the long form with four length octets
    (``30 84 00 00 00 LL``) even where one octet would do (X.690 8.1.3.5 allows it; most
    implementations send the shortest form)."""


@observation
class LdapBindRequest(Observation):
    """A BindRequest (RFC 4511 4.2); the bind name and any credential are not kept."""

    PROTOCOL: ClassVar[str] = "ldap"
    version: int
    """LDAP version asked for (3; 2 for old clients)."""
    authentication: str
    """``simple``, ``sasl``, or Microsoft's ``sicily-discovery``/``sicily-negotiate``/
    ``sicily-response`` (MS-ADTS 5.1.1.1); ``[n]`` for another context tag."""
    name_form: str | None
    """Form of the bind name: ``dn`` (``CN=...,DC=...``), ``user@domain`` (a user principal
    name), ``domain\\user`` (a down-level logon name), ``other``; None when empty (an
    anonymous bind, or a SASL bind naming no DN)."""
    password_given: bool
    """A simple bind carried a non-empty password (RFC 4513 5.1.3; it crossed in clear
    unless the connection was already under TLS)."""
    sasl_mechanism: str | None = None
    """SASL mechanism named (``GSSAPI``, ``GSS-SPNEGO``, ``EXTERNAL``, ``DIGEST-MD5``,
    ``PLAIN``)."""
    server_port: int | None = None
    """Destination port of the request."""


@observation
class LdapBindResponse(Observation):
    """A BindResponse (RFC 4511 4.2.2): the LDAPResult of a bind."""

    PROTOCOL: ClassVar[str] = "ldap"
    result_code: int
    """resultCode (0 success, 14 saslBindInProgress, 49 invalidCredentials...)."""
    result_name: str | None
    """Its name in RFC 4511 4.1.9 (``success``, ``invalidCredentials``); None if unlisted."""
    matched_dn_given: bool
    """matchedDN was not empty; its value is not kept."""
    diagnostic_message: str | None
    """diagnosticMessage when short (at most 200 characters) printable text (Active
    Directory: ``80090308: LdapErr: DSID-0C09...``); None when empty or binary."""
    server_port: int | None = None
    """Source port of the response."""


@observation
class LdapSearchRequest(Observation):
    """A SearchRequest (RFC 4511 4.5.1); its base DN and filter are never kept."""

    PROTOCOL: ClassVar[str] = "ldap"
    root_dse: bool
    """baseObject empty and scope baseObject: a read of the server's root DSE."""
    scope: str
    """``baseObject``, ``singleLevel`` or ``wholeSubtree`` (``[n]`` if another value)."""
    attributes: tuple[str, ...]
    """Attribute types asked for, in order (``supportedCapabilities``, ``*``, ``+``,
    ``1.1``); at most 32."""
    server_port: int | None = None
    """Destination port of the request."""


@observation
class LdapRootDse(Observation):
    """The root DSE entry a server returned (a SearchResultEntry with the empty DN, RFC 4512
    5.1): what the server says about itself."""

    PROTOCOL: ClassVar[str] = "ldap"
    attribute_names: tuple[str, ...]
    """Attribute types the entry holds, in order (at most 64)."""
    vendor_name: str | None = None
    """``vendorName`` (RFC 3045: ``389 Project``, ``Apache Software Foundation``,
    ``Samba Team (https://www.samba.org)``)."""
    vendor_version: str | None = None
    """``vendorVersion`` (RFC 3045: ``389-Directory/1.4.3.4 B2020.077.00``)."""
    dns_host_name: str | None = None
    """``dnsHostName`` (Active Directory, MS-ADTS 3.1.1.3.2.18): the DC's DNS name."""
    server_name: str | None = None
    """``serverName`` (MS-ADTS 3.1.1.3.2.8): DN of the DC's server object."""
    domain_controller_functionality: int | None = None
    """``domainControllerFunctionality`` (MS-ADTS 3.1.1.3.2.25): the DC's own functional
    level, set by its operating system (MS-ADTS 6.1.4.2)."""
    domain_functionality: int | None = None
    """``domainFunctionality``: the domain's functional level."""
    forest_functionality: int | None = None
    """``forestFunctionality``: the forest's functional level."""
    is_global_catalog_ready: bool | None = None
    """``isGlobalCatalogReady``."""
    supported_ldap_versions: tuple[int, ...] = ()
    """``supportedLDAPVersion`` values."""
    supported_capabilities: tuple[str, ...] = ()
    """``supportedCapabilities`` OIDs (MS-ADTS 3.1.1.3.4.3: 1.2.840.113556.1.4.800 Active
    Directory, .1851 AD LDS...)."""
    supported_extensions: tuple[str, ...] = ()
    """``supportedExtension`` OIDs (1.3.6.1.4.1.1466.20037 StartTLS)."""
    supported_sasl_mechanisms: tuple[str, ...] = ()
    """``supportedSASLMechanisms``."""
    object_classes: tuple[str, ...] = ()
    """``objectClass`` values (OpenLDAP: ``top``, ``OpenLDAProotDSE``)."""
    server_port: int | None = None
    """Source port of the entry."""


@observation
class LdapExtendedOperation(Observation):
    """An ExtendedRequest or ExtendedResponse (RFC 4511 4.12); values are not kept."""

    PROTOCOL: ClassVar[str] = "ldap"
    response: bool
    """An ExtendedResponse (or an unsolicited notification) rather than a request."""
    name: str | None
    """requestName / responseName OID (1.3.6.1.4.1.1466.20037 StartTLS,
    1.3.6.1.4.1.4203.1.11.3 Who am I?, 1.3.6.1.4.1.1466.20036 Notice of Disconnection)."""
    result_code: int | None = None
    """resultCode of a response."""
    server_port: int | None = None
    """The server end's port."""
