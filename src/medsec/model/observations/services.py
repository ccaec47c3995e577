"""Facts of back-office services: databases (MySQL/MariaDB, PostgreSQL, Microsoft SQL Server
TDS), RADIUS, monitoring agents (Checkmk, Zabbix) and DCE/RPC binds.

What a server says about itself (its version string), what a client says about itself
(program, library, host and OS names it volunteers) and which end of the protocol a host
speaks. Never a query, a result row, a monitored value or a secret: authentication responses,
passwords and RADIUS User-Password are not read; when a password crosses in clear (a
PostgreSQL cleartext password message, a TDS LOGIN7 outside TLS) the dissector states a
``CleartextCredentials`` with the user name at most, as the cleartext dissectors do. User
names are kept as those do; database names only as present or not.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class MysqlServerGreeting(Observation):
    """A MySQL/MariaDB server's initial handshake packet (Protocol::HandshakeV10)."""

    PROTOCOL: ClassVar[str] = "mysql"
    protocol_version: int
    """Protocol version (10; 9 for servers before 3.21)."""
    server_version: str
    """Human-readable server version (``5.7.31-log``, ``8.0.36``,
    ``5.5.5-10.6.12-MariaDB-0ubuntu0.22.04.1``: MariaDB prefixes ``5.5.5-``)."""
    capability_flags: int
    """Server capability flags (lower and upper 16 bits joined when both are present)."""
    character_set: int | None = None
    """Default collation id."""
    auth_plugin_name: str | None = None
    """Default authentication plugin (``mysql_native_password``, ``caching_sha2_password``)."""


@observation
class MysqlClientHandshake(Observation):
    """A MySQL client's handshake response (Protocol::HandshakeResponse41) or SSL request;
    the auth response is never read."""

    PROTOCOL: ClassVar[str] = "mysql"
    capability_flags: int
    """Client capability flags."""
    ssl_request: bool
    """The client asked for TLS (CLIENT_SSL): what follows is encrypted."""
    user: str | None = None
    """Login user name (None in an SSL request)."""
    database_given: bool = False
    """A default schema was named (CLIENT_CONNECT_WITH_DB); its name is not kept."""
    auth_plugin_name: str | None = None
    """Authentication plugin the client used."""
    attribute_names: tuple[str, ...] = ()
    """Names of the connection attributes sent (CLIENT_CONNECT_ATTRS), in order."""
    client_os: str | None = None
    """Attribute ``_os`` (``Linux``, ``Win64``, ``osx10.15``)."""
    client_name: str | None = None
    """Attribute ``_client_name`` (``libmysql``, ``libmariadb``, ``mysql-connector-java``)."""
    client_version: str | None = None
    """Attribute ``_client_version``."""
    platform: str | None = None
    """Attribute ``_platform`` (``x86_64``)."""
    program_name: str | None = None
    """Attribute ``program_name`` (``mysql``, ``mysqldump``, an application's name)."""


@observation
class PostgresStartup(Observation):
    """A PostgreSQL client's first message: StartupMessage, SSLRequest, GSSENCRequest or
    CancelRequest (PostgreSQL protocol 3, 53.7)."""

    PROTOCOL: ClassVar[str] = "postgres"
    request: str
    """``startup``, ``ssl``, ``gssenc`` or ``cancel``."""
    protocol_version: str | None = None
    """``3.0`` (StartupMessage only)."""
    parameter_names: tuple[str, ...] = ()
    """Names of the startup parameters sent (``user``, ``database``, ``application_name``)."""
    user: str | None = None
    """Parameter ``user``."""
    database_given: bool = False
    """Parameter ``database`` was sent; its value is not kept."""
    application_name: str | None = None
    """Parameter ``application_name`` (``psql``, ``pgAdmin 4``, a JDBC application)."""
    client_encoding: str | None = None
    """Parameter ``client_encoding``."""
    password_message: str | None = None
    """The client's next authentication message, when in the same stream head: ``md5``,
    ``sasl`` (SASLInitialResponse) or ``cleartext``; never its content."""


@observation
class PostgresServerResponse(Observation):
    """What a PostgreSQL server answers at connection start: the SSL/GSS answer, the
    authentication it asks for, and ParameterStatus values (53.7)."""

    PROTOCOL: ClassVar[str] = "postgres"
    encryption_answer: str | None = None
    """Answer to SSLRequest/GSSENCRequest: ``S``/``G`` (accepted) or ``N`` (refused)."""
    authentication: str | None = None
    """Authentication requested: ``ok``, ``cleartext``, ``md5``, ``sasl``, ``gss``,
    ``sspi``, ``kerberos5``, ``scm``."""
    sasl_mechanisms: tuple[str, ...] = ()
    """Mechanisms offered by AuthenticationSASL (``SCRAM-SHA-256``)."""
    server_version: str | None = None
    """ParameterStatus ``server_version`` (``14.5 (Debian 14.5-1.pgdg110+1)``)."""
    server_encoding: str | None = None
    """ParameterStatus ``server_encoding``."""
    error_code: str | None = None
    """SQLSTATE of an ErrorResponse at startup (``28P01`` bad password, ``3D000`` no such
    database); the message text is not kept."""


@observation
class TdsPrelogin(Observation):
    """A TDS PRELOGIN message ([MS-TDS] 2.2.6.5) from a client, or the server's answer."""

    PROTOCOL: ClassVar[str] = "tds"
    response: bool
    """The server's answer (carried in a tabular-result packet) rather than a request."""
    version: str | None = None
    """VERSION option as ``major.minor.build.subbuild``: the server's product version in a
    response (``15.0.4153.0`` = SQL Server 2019), the client library's in a request."""
    encryption: str | None = None
    """ENCRYPTION option: ``off``, ``on``, ``not-supported``, ``required``, ``client-cert``."""
    instance: str | None = None
    """INSTOPT option: the instance name asked for or answered."""
    mars: bool | None = None
    """MARS option."""


@observation
class TdsLogin(Observation):
    """A TDS LOGIN7 record ([MS-TDS] 2.2.6.4) read in clear; the password is never read."""

    PROTOCOL: ClassVar[str] = "tds"
    tds_version: str
    """TDS version requested, hex (``74000004`` = TDS 7.4)."""
    client_program_version: str
    """ClientProgVer, hex."""
    hostname: str | None = None
    """HostName: the client machine's name."""
    user: str | None = None
    """UserName for SQL Server authentication (None with integrated security)."""
    app_name: str | None = None
    """AppName (``Microsoft SQL Server Management Studio``, ``sqlcmd``, ``jTDS``)."""
    server_name: str | None = None
    """ServerName the client asked for."""
    library_name: str | None = None
    """CltIntName, the client interface library (``ODBC``, ``OLEDB``, ``.Net SqlClient Data
    Provider``, ``DB-Library``)."""
    integrated_security: bool = False
    """fIntSecurity: Windows (SSPI) authentication instead of a SQL password."""


@observation
class TdsPackets(Observation):
    """The TDS packet types one direction of a connection starts with ([MS-TDS] 2.2.3.1.1)."""

    PROTOCOL: ClassVar[str] = "tds"
    packet_types: tuple[str, ...]
    """Distinct types in order: ``sql-batch``, ``rpc``, ``tabular-result``, ``attention``,
    ``bulk-load``, ``transaction-manager``, ``login7``, ``sspi``, ``prelogin``..."""


@observation
class RadiusMessage(Observation):
    """A RADIUS packet (RFC 2865, 2866, 5176); User-Password and other secrets are not
    read, the User-Name only as present or not."""

    PROTOCOL: ClassVar[str] = "radius"
    code: int
    """Packet code (1 Access-Request, 2 Access-Accept, 3 Access-Reject, 4/5 Accounting,
    11 Access-Challenge, 40-45 Disconnect/CoA)."""
    code_name: str
    """``Access-Request``, ``Access-Accept``, ``Accounting-Request``, ... or ``code-<n>``."""
    attribute_types: tuple[int, ...]
    """Attribute types in order, without repeats."""
    nas_ip_address: str | None = None
    """NAS-IP-Address (4) or NAS-IPv6-Address (95)."""
    nas_identifier: str | None = None
    """NAS-Identifier (32): the access server's configured name."""
    nas_port_type: int | None = None
    """NAS-Port-Type (61): 15 Ethernet, 19 Wireless-802.11, 5 Virtual (VPN), 0 Async."""
    service_type: int | None = None
    """Service-Type (6): 1 Login, 2 Framed, 10 Call-Check (MAC authentication)..."""
    vendor_ids: tuple[int, ...] = ()
    """IANA enterprise numbers of the Vendor-Specific attributes (9 Cisco, 311 Microsoft,
    14179 Airespace, 14823 Aruba, 25053 Ruckus), in order, without repeats."""
    eap_type: int | None = None
    """Type of the EAP-Message carried when it is a Request/Response (1 Identity, 13 TLS,
    21 TTLS, 25 PEAP, 26 MSCHAPv2)."""


@observation
class CheckmkAgentOutput(Observation):
    """The header of a Checkmk (Check_MK) agent's plain-text answer: the ``<<<check_mk>>>``
    section and the names of the sections that follow; section contents are never kept."""

    PROTOCOL: ClassVar[str] = "checkmk"
    version: str | None = None
    """``Version:`` of the agent (``1.4.0p9``, ``2.2.0p1``)."""
    agent_os: str | None = None
    """``AgentOS:`` (``linux``, ``windows``, ``aix``, ``freebsd``...)."""
    hostname: str | None = None
    """``Hostname:`` of the monitored host."""
    architecture: str | None = None
    """``Architecture:`` (Windows agent: ``64bit``)."""
    sections: tuple[str, ...] = ()
    """Names of the ``<<<section>>>`` headers in order, without repeats (at most 64)."""


@observation
class ZabbixMessage(Observation):
    """A Zabbix protocol message (``ZBXD`` header, zlib-compressed JSON or a plain item
    request/answer); values are never kept."""

    PROTOCOL: ClassVar[str] = "zabbix"
    flags: int
    """Header flags (1 Zabbix protocol, 2 compressed, 4 large packet)."""
    request: str | None = None
    """JSON ``request`` (``active checks``, ``agent data``, ``sender data``,
    ``proxy config``...)."""
    response: str | None = None
    """JSON ``response`` (``success``, ``failed``)."""
    host: str | None = None
    """JSON ``host``: the name the agent or sender is configured under."""
    version: str | None = None
    """JSON ``version`` of an agent's request (``6.2``)."""
    item_key: str | None = None
    """Key of a passive check request (``agent.version``, ``system.uname``, ``proc.num``)
    without its parameters."""
    uname_sysname: str | None = None
    """First word of a ``system.uname``-style answer (``Linux``, ``Windows``, ``FreeBSD``)."""
    uname_release: str | None = None
    """Release in that answer (``5.15.0-91-generic``, ``10.0.19045``)."""


@observation
class DcerpcBind(Observation):
    """A connection-oriented DCE/RPC bind or alter-context ([C706] 12.6.4.3, [MS-RPCE]):
    the interfaces a client asks to use on the server."""

    PROTOCOL: ClassVar[str] = "dcerpc"
    packet_type: str
    """``bind`` or ``alter_context``."""
    interfaces: tuple[str, ...]
    """Abstract syntaxes as ``<uuid> v<major>.<minor>``, in order, without repeats."""
    interface_names: tuple[str, ...] = ()
    """Names of the known ones (``DRSUAPI``, ``NETLOGON``, ``EPM``, ``SAMR``...)."""
    auth_type: int | None = None
    """Authentication type of the verifier (9 SPNEGO, 10 NTLMSSP, 16 Kerberos, 68 Netlogon)."""
