"""Management-plane facts: SNMP (RFC 1157, 3416, 3412/3414), NTP (RFC 5905) and syslog
(RFC 3164, RFC 5424).

These say how a device is run: the SNMP community it answers to and the system description
it returns (``sysDescr`` often names product and firmware), the time sources it uses, the
host and application names it logs under. Syslog message text is never kept: on some
devices it holds patient data.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class SnmpMessage(Observation):
    """An SNMP message. For v1/v2c the community string is stated (a configuration fact:
    ``public`` is a finding); for v3 the USM engine id and user name (no decryption)."""

    PROTOCOL: ClassVar[str] = "snmp"
    NONCES: ClassVar[frozenset[str]] = frozenset({"request_id"})

    version: str
    """``1``, ``2c`` or ``3``."""
    community: str | None = None
    """v1/v2c community string; None for v3."""
    pdu_type: str | None = None
    """``get-request``, ``get-next-request``, ``get-response``, ``set-request``, ``trap``,
    ``get-bulk-request``, ``inform-request``, ``snmpV2-trap``, ``report``; None when the v3
    scoped PDU is encrypted."""
    request_id: int | None = None
    """Request id of the PDU (None for a v1 trap or an encrypted PDU)."""
    error_status: int | None = None
    """Error status of a response (0 noError, 2 noSuchName, ...)."""
    varbind_oids: tuple[str, ...] = ()
    """OIDs of the variable bindings, dotted, in order (at most 64)."""
    sys_descr: str | None = None
    """Value of sysDescr.0 (1.3.6.1.2.1.1.1.0) when the message carries it."""
    sys_object_id: str | None = None
    """Value of sysObjectID.0 (1.3.6.1.2.1.1.2.0): the vendor's product OID."""
    sys_contact: str | None = None
    """Value of sysContact.0 (1.3.6.1.2.1.1.4.0)."""
    sys_name: str | None = None
    """Value of sysName.0 (1.3.6.1.2.1.1.5.0)."""
    sys_location: str | None = None
    """Value of sysLocation.0 (1.3.6.1.2.1.1.6.0)."""
    enterprise: str | None = None
    """v1 trap: the enterprise OID of the sending agent."""
    agent_addr: str | None = None
    """v1 trap: the agent address."""
    generic_trap: int | None = None
    """v1 trap: generic trap number (0 coldStart ... 6 enterpriseSpecific)."""
    msg_authoritative_engine_id: str | None = None
    """v3: USM authoritative engine id as hex (its first bytes carry the vendor's IANA
    enterprise number)."""
    msg_user_name: str | None = None
    """v3: USM user name."""
    msg_flags: int | None = None
    """v3: msgFlags (bit 0 auth, bit 1 priv, bit 2 reportable)."""


@observation
class NtpMessage(Observation):
    """An NTP packet header."""

    PROTOCOL: ClassVar[str] = "ntp"

    version: int
    """Version number (1-4)."""
    mode: int
    """Association mode (1 symmetric active, 2 symmetric passive, 3 client, 4 server,
    5 broadcast, 6 control message, 7 private/ntpdc)."""
    mode_name: str
    """``client``, ``server``, ``broadcast``, ``control``, ``private``, ..."""
    leap_indicator: int | None
    """Leap indicator (3 = clock unsynchronised); None for control and private modes."""
    stratum: int | None = None
    """Stratum (0 unspecified/kiss-o'-death, 1 primary reference, 2-15 secondary, 16
    unsynchronised); None for control and private modes."""
    reference_id: str | None = None
    """Reference id: a four-letter code at stratum 0/1 (``GPS``, ``PPS``, kiss code
    ``RATE``), else the upstream server's IPv4 address (or an IPv6 address hash in that
    form); None when zero or not applicable."""
    poll: int | None = None
    """Poll exponent (log2 seconds)."""


@observation
class SyslogMessage(Observation):
    """The header of a syslog message, and the structured facts some vendors' log formats
    put at a fixed place in the message (tags, serial numbers, product names), read with
    anchored patterns. The free-text message is deliberately not kept."""

    PROTOCOL: ClassVar[str] = "syslog"

    facility: int
    """Facility from PRI (0 kern, 1 user, 3 daemon, 4 auth, 16-23 local0-7, ...)."""
    severity: int
    """Severity from PRI (0 emergency ... 7 debug)."""
    format: str
    """``rfc5424`` or ``rfc3164`` (the BSD format, also anything not RFC 5424)."""
    hostname: str | None = None
    """HOSTNAME field, when the message has one."""
    app_name: str | None = None
    """RFC 5424 APP-NAME, or the RFC 3164 TAG (program name)."""
    procid: str | None = None
    """RFC 5424 PROCID, or the pid in brackets after an RFC 3164 TAG."""
    msgid: str | None = None
    """RFC 5424 MSGID."""
    origin_software: str | None = None
    """RFC 5424 structured data ``[origin software=...]``."""
    origin_sw_version: str | None = None
    """RFC 5424 structured data ``[origin swVersion=...]``."""
    origin_enterprise_id: str | None = None
    """RFC 5424 structured data ``[origin enterpriseId=...]``."""
    sd_ids: tuple[str, ...] = ()
    """RFC 5424 SD-IDs of the structured data elements in order (at most 16), e.g.
    ``origin``, ``meta``, ``junos@2636.1.1.1.2.26``: a private SD-ID names the IANA
    enterprise number of the software that defined it (RFC 5424 7.2.2)."""
    tag_format: str | None = None
    """How a vendor message tag was written: ``percent`` for ``%FACILITY-SEVERITY-MNEMONIC:``
    (Cisco IOS, IOS XE/XR, NX-OS, ASA; copied by some other network operating systems), or
    ``ios-xml`` for Cisco IOS XML logging (``<ios-log-msg><facility>...``)."""
    tag_facility: str | None = None
    """FACILITY of the message tag (``SYS``, ``LINEPROTO``, ``ASA``, ``PKT_INFRA-LINK``)."""
    tag_severity: int | None = None
    """SEVERITY digit of the message tag (0-7)."""
    tag_mnemonic: str | None = None
    """MNEMONIC of the message tag (``CONFIG_I``, ``UPDOWN``, ``302013``)."""
    fortios_devid: str | None = None
    """FortiOS key=value log field ``devid`` (the unit's serial number, ``FGT60F...``)."""
    fortios_devname: str | None = None
    """FortiOS log field ``devname`` (the unit's configured host name)."""
    screenos_device_id: str | None = None
    """ScreenOS ``NetScreen device_id=`` (the unit's serial number)."""
    panos_serial: str | None = None
    """PAN-OS CSV log field 3, Serial Number of the firewall that logged."""
    panos_type: str | None = None
    """PAN-OS CSV log field 4, Type (``TRAFFIC``, ``THREAT``, ``SYSTEM``, ``CONFIG``...)."""
    event_format: str | None = None
    """``CEF`` (ArcSight Common Event Format) or ``LEEF`` (IBM QRadar Log Event Extended
    Format) when the message is one; its header names the product that logged."""
    event_vendor: str | None = None
    """CEF/LEEF header Device Vendor / Vendor."""
    event_product: str | None = None
    """CEF/LEEF header Device Product / Product."""
    event_version: str | None = None
    """CEF/LEEF header Device Version / Version."""
