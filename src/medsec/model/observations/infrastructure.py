"""Infrastructure and automation facts: what bridges, routers, gateways, flow exporters, smart
things and building controllers say about themselves on the wire.

* Tuya LAN discovery (tinytuya/tuyapi: UDP 6666 plain JSON, 6667 AES-128-ECB, 3.5 AES-GCM);
* IEEE 802.1D/802.1w/802.1s bridge protocol data units (STP, RSTP, MSTP, Cisco PVST+);
* Cisco HSRP (RFC 2281, version 2 TLVs);
* Ubiquiti discovery (UDP 10001 TLVs);
* NAT-PMP (RFC 6886) and PCP (RFC 6887) on UDP 5351;
* SLP (RFC 2165 version 1, RFC 2608 version 2) on UDP/TCP 427;
* BACnet/IP (ASHRAE 135 Annex J) on UDP 47808;
* Modbus/TCP (Modbus Application Protocol v1.1b3) on TCP 502;
* flow export: sFlow v5, NetFlow v5/v9 (RFC 3954), IPFIX (RFC 7011).

Secrets never become fields: an HSRP authentication string is stated only as *that* one
crossed (and whether it is the documented default), never its value.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class TuyaDiscovery(Observation):
    """A Tuya device's LAN discovery beacon (or the Tuya app's): the JSON the frame carries."""

    PROTOCOL: ClassVar[str] = "tuya"

    frame_format: str
    """``55aa`` (protocol 3.1-3.4 frame), ``6699`` (protocol 3.5 frame) or ``json`` (bare)."""
    command: int | None
    """Frame command (0x13 UDP_NEW, 0x12 UDP, 0x25 app broadcast); None for bare JSON."""
    encrypted: bool
    """The JSON was encrypted with the published discovery key (not sent in the clear)."""
    gw_id: str | None = None
    """``gwId``: the device id (``devId`` when only that is present)."""
    product_key: str | None = None
    """``productKey``: the Tuya product (firmware line) id."""
    version: str | None = None
    """``version``: the Tuya LAN protocol version (``3.1``, ``3.3``, ``3.4``, ``3.5``)."""
    ip: str | None = None
    """``ip``: the address the device states."""
    encrypt: bool | None = None
    """``encrypt``: whether the device encrypts its LAN control traffic."""
    sender: str | None = None
    """``from``: ``app`` on the Tuya app's broadcasts; None on device beacons."""


@observation
class StpBpdu(Observation):
    """A bridge protocol data unit (IEEE 802.1D-2004 clause 9, 802.1Q MSTP); only bridges send
    them (``ctx.src_mac`` is the sending port's MAC)."""

    PROTOCOL: ClassVar[str] = "stp"

    encapsulation: str
    """``llc`` (DSAP/SSAP 0x42, to 01:80:c2:00:00:00) or ``pvst+`` (Cisco SNAP PID 0x010b)."""
    protocol_version: int
    """Protocol Version Identifier: 0 STP, 2 RSTP, 3 MSTP."""
    bpdu_type: str
    """``config`` (0x00), ``tcn`` (0x80, Topology Change Notification) or ``rst`` (0x02)."""
    flags: int | None = None
    """BPDU flags (bit 0 topology change, bits 2-3 port role in RST BPDUs, bit 7 TC ack)."""
    port_role: str | None = None
    """RST/MST port role: ``master``/``alternate-backup``, ``root``, ``designated``."""
    root_priority: int | None = None
    """Root Identifier priority (multiple of 4096 with the 802.1t system id extension apart)."""
    root_system_id_extension: int | None = None
    """Root Identifier system id extension (the VLAN or MST instance under PVST+/MSTP)."""
    root_mac: str | None = None
    """Root Identifier MAC address: the root bridge."""
    root_path_cost: int | None = None
    bridge_priority: int | None = None
    """Bridge Identifier priority of the sending bridge."""
    bridge_system_id_extension: int | None = None
    bridge_mac: str | None = None
    """Bridge Identifier MAC address: the sending bridge."""
    port_id: int | None = None
    """Port Identifier (priority << 12 | port number in 802.1D-2004)."""
    message_age: float | None = None
    max_age: float | None = None
    hello_time: float | None = None
    forward_delay: float | None = None
    """Timers in seconds (the wire carries 1/256 s)."""


@observation
class HsrpMessage(Observation):
    """A Cisco Hot Standby Router Protocol message (RFC 2281; version 2 group state TLV).
    Only routers of a standby group send them."""

    PROTOCOL: ClassVar[str] = "hsrp"

    version: int
    """0 for RFC 2281 HSRP (called v1), 2 for HSRPv2."""
    op_code: int
    op_code_name: str
    """``hello``, ``coup``, ``resign`` (v2 also ``advertise`` for interface state TLVs)."""
    state: int | None = None
    state_name: str | None = None
    """``initial``, ``learn``, ``listen``, ``speak``, ``standby``, ``active``."""
    group: int | None = None
    priority: int | None = None
    hello_time: int | None = None
    """Hello time (seconds in v1, milliseconds in v2)."""
    hold_time: int | None = None
    virtual_ip: str | None = None
    """The group's virtual IP address (the hosts' default gateway)."""
    identifier: str | None = None
    """v2: the MAC address of the sending router's interface."""
    authentication: str | None = None
    """``text`` when a plain-text authentication string crossed, ``md5`` for an MD5 TLV."""
    default_authentication: bool | None = None
    """The plain-text string is the documented default (``cisco``); None without text auth."""


@observation
class UbiquitiDiscovery(Observation):
    """A Ubiquiti discovery packet (UDP 10001): a probe (no TLVs) or a device's answer."""

    PROTOCOL: ClassVar[str] = "ubiquiti"

    version: int
    """Packet version (1 or 2)."""
    command: int
    """0 for the version-1 info probe/answer; 6, 9, 11 for version-2 announcements."""
    hw_addresses: tuple[str, ...] = ()
    """MAC addresses from the MAC (0x01, 0x13) and MAC+IP (0x02) TLVs."""
    ip_addresses: tuple[str, ...] = ()
    """IPv4 addresses from the MAC+IP (0x02) TLVs."""
    firmware: str | None = None
    """TLV 0x03, the detailed firmware string (``UniFiSecurityGateway.ER-e120.v4.3.33...``)."""
    hostname: str | None = None
    """TLV 0x0b."""
    product: str | None = None
    """TLV 0x0c, the short product code (``UGW3``, ``U7PG2``)."""
    essid: str | None = None
    """TLV 0x0d, the wireless network of an access point or station."""
    model_type: str | None = None
    """TLV 0x14."""
    model: str | None = None
    """TLV 0x15."""
    firmware_version: str | None = None
    """TLV 0x16 (``4.3.33.4936086``)."""
    platform_version: str | None = None
    """TLV 0x1b."""


@observation
class PortMappingMessage(Observation):
    """A NAT-PMP (RFC 6886, version 0) or PCP (RFC 6887, version 2) message on UDP 5351.
    Responses come from the NAT gateway."""

    PROTOCOL: ClassVar[str] = "nat-pmp"

    protocol: str
    """``nat-pmp`` or ``pcp``."""
    version: int
    opcode: int
    """Opcode without the response bit (NAT-PMP 0 external address, 1 map UDP, 2 map TCP;
    PCP 0 ANNOUNCE, 1 MAP, 2 PEER)."""
    opcode_name: str
    response: bool
    """Sent by the server (NAT-PMP opcode >= 128, PCP R bit)."""
    result_code: int | None = None
    """Result code of a response (0 success)."""
    epoch: int | None = None
    """Seconds since the server's start (or its mapping table's epoch)."""
    external_address: str | None = None
    """NAT-PMP external address response / PCP MAP assigned external address."""


@observation
class SlpMessage(Observation):
    """A Service Location Protocol message (RFC 2165 v1, RFC 2608 v2)."""

    PROTOCOL: ClassVar[str] = "slp"

    version: int
    function: int
    function_name: str
    """``SrvRqst``, ``SrvRply``, ``SrvReg``, ``AttrRqst``, ``AttrRply``, ``DAAdvert``,
    ``SrvTypeRqst``, ``SrvTypeRply``, ``SAAdvert``, ..."""
    language: str | None = None
    error_code: int | None = None
    """Error code of a reply (0 no error)."""
    service_types: tuple[str, ...] = ()
    """Service types requested, registered or listed (``service:printer:lpr``)."""
    urls: tuple[str, ...] = ()
    """URL entries of replies, registrations and advertisements."""
    scopes: tuple[str, ...] = ()
    attributes: str | None = None
    """The attribute list (``(x-hp-p1=MFG:...;MDL:...)``), at most 4096 characters."""


@observation
class BacnetMessage(Observation):
    """A BACnet/IP message (ASHRAE 135 Annex J BVLL, NPDU, APDU); I-Am and ReadProperty
    answers carry the device's identity."""

    PROTOCOL: ClassVar[str] = "bacnet"

    bvlc_function: int
    """BVLC function (0x0a Original-Unicast-NPDU, 0x0b Original-Broadcast-NPDU, 0x04
    Forwarded-NPDU, ...)."""
    network_message: bool = False
    """The NPDU carries a network layer message (router traffic), not an APDU."""
    apdu_type: int | None = None
    """0 Confirmed-Request, 1 Unconfirmed-Request, 2 SimpleACK, 3 ComplexACK, 5 Error, ..."""
    service: str | None = None
    """``i-am``, ``who-is``, ``i-have``, ``who-has``, ``read-property``, ... """
    device_instance: int | None = None
    """I-Am: the device object's instance number."""
    max_apdu_length: int | None = None
    segmentation: int | None = None
    vendor_id: int | None = None
    """I-Am: the ASHRAE-assigned vendor identifier of the device's maker."""
    object_type: int | None = None
    """ReadProperty(-ACK): the object type read (8 device)."""
    property_id: int | None = None
    """ReadProperty(-ACK): the property read (121 vendor-name, 70 model-name, ...)."""
    vendor_name: str | None = None
    """ReadProperty-ACK of vendor-name (121)."""
    model_name: str | None = None
    """ReadProperty-ACK of model-name (70)."""
    firmware_revision: str | None = None
    """ReadProperty-ACK of firmware-revision (44)."""
    application_software_version: str | None = None
    """ReadProperty-ACK of application-software-version (12)."""


@observation
class ModbusMessages(Observation):
    """The Modbus/TCP ADUs at the head of one direction of a connection."""

    PROTOCOL: ClassVar[str] = "modbus"

    role: str | None
    """``server`` (sent from port 502), ``client`` (sent to it), None when neither."""
    unit_ids: tuple[int, ...]
    function_codes: tuple[int, ...]
    """Function codes seen, without the exception bit, in order of first appearance."""
    exception_codes: tuple[int, ...] = ()
    vendor_name: str | None = None
    """Read Device Identification (43/14) object 0x00 VendorName."""
    product_code: str | None = None
    """Object 0x01 ProductCode."""
    major_minor_revision: str | None = None
    """Object 0x02 MajorMinorRevision."""
    vendor_url: str | None = None
    """Object 0x03 VendorUrl."""
    product_name: str | None = None
    """Object 0x04 ProductName."""
    model_name: str | None = None
    """Object 0x05 ModelName."""


@observation
class FlowExport(Observation):
    """A flow-export datagram: its sender exports traffic records (a switch or router
    usually), its receiver collects them."""

    PROTOCOL: ClassVar[str] = "flow-export"
    NONCES: ClassVar[frozenset[str]] = frozenset({"sequence"})

    format: str
    """``sflow``, ``netflow`` or ``ipfix``."""
    version: int
    """5 (sFlow v5, NetFlow v5), 9 (NetFlow v9) or 10 (IPFIX)."""
    records: int
    """Samples (sFlow), flow records (v5) or flow sets/sets (v9/IPFIX) in the datagram."""
    agent_address: str | None = None
    """sFlow: the agent address the datagram states."""
    sub_agent_id: int | None = None
    """sFlow: sub-agent id."""
    observation_domain_id: int | None = None
    """NetFlow v9 source id / IPFIX observation domain id."""
    engine_type: int | None = None
    """NetFlow v5 engine type."""
    engine_id: int | None = None
    """NetFlow v5 engine id."""
    sequence: int | None = None
