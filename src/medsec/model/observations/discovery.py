"""Discovery facts: SSDP/UPnP, LLDP (IEEE 802.1AB, LLDP-MED), CDP, WS-Discovery and DPWS
(the discovery and metadata layer of IEEE 11073 SDC medical devices).

Devices announce themselves on these protocols: a switch names its chassis and software, a
UPnP device its ``SERVER`` string and description URL, an SDC device its ``Types``
(``dpws:Device mdpws:MedicalDevice``) and ``Scopes`` (location, MDC device type), and in its
DPWS metadata its manufacturer, model, firmware and serial number.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class SsdpMessage(Observation):
    """An SSDP message (UPnP Device Architecture 2.0, HTTP over UDP 1900): a NOTIFY
    announcement, an M-SEARCH, or a search response."""

    PROTOCOL: ClassVar[str] = "ssdp"

    method: str | None
    """``NOTIFY`` or ``M-SEARCH`` (None for a response)."""
    status_code: int | None
    """Status of a search response (200); None for a request."""
    server: str | None = None
    """``SERVER`` header: ``OS/version UPnP/2.0 product/version``."""
    user_agent: str | None = None
    """``USER-AGENT`` header of an M-SEARCH."""
    usn: str | None = None
    """``USN`` (unique service name): ``uuid:...::urn:schemas-upnp-org:device:...``."""
    nt: str | None = None
    """``NT`` (notification type) of a NOTIFY."""
    nts: str | None = None
    """``NTS``: ``ssdp:alive``, ``ssdp:byebye`` or ``ssdp:update``."""
    st: str | None = None
    """``ST`` (search target) of an M-SEARCH or a search response."""
    location: str | None = None
    """``LOCATION``: URL of the device description XML."""


@observation
class LldpAdvertisement(Observation):
    """An LLDPDU (EtherType 0x88CC) from a switch port or a station."""

    PROTOCOL: ClassVar[str] = "lldp"

    chassis_id_subtype: int
    """Chassis ID subtype (4 MAC address, 5 network address, 7 locally assigned, ...)."""
    chassis_id: str
    """Chassis ID: a MAC or IP as text for those subtypes, else the string (or hex)."""
    port_id_subtype: int
    """Port ID subtype (3 MAC address, 5 interface name, 7 locally assigned, ...)."""
    port_id: str
    """Port ID, rendered like the chassis ID."""
    ttl: int
    """Seconds the information stays valid (0: the device is leaving)."""
    port_description: str | None = None
    """Port Description TLV (4)."""
    system_name: str | None = None
    """System Name TLV (5)."""
    system_description: str | None = None
    """System Description TLV (6): usually product and software version."""
    system_capabilities: tuple[str, ...] = ()
    """Capabilities the system supports (``bridge``, ``router``, ``telephone``, ...)."""
    enabled_capabilities: tuple[str, ...] = ()
    """Capabilities enabled."""
    management_addresses: tuple[str, ...] = ()
    """Management Address TLVs (8): IPv4/IPv6 text, a MAC, or hex for other families."""
    port_vlan_id: int | None = None
    """IEEE 802.1 Port VLAN ID (organisationally specific TLV 00-80-C2/1)."""
    med_device_class: int | None = None
    """LLDP-MED device type (1-3 endpoint classes, 4 network connectivity)."""
    med_hardware_revision: str | None = None
    """LLDP-MED inventory: hardware revision."""
    med_firmware_revision: str | None = None
    """LLDP-MED inventory: firmware revision."""
    med_software_revision: str | None = None
    """LLDP-MED inventory: software revision."""
    med_serial_number: str | None = None
    """LLDP-MED inventory: serial number."""
    med_manufacturer: str | None = None
    """LLDP-MED inventory: manufacturer name."""
    med_model_name: str | None = None
    """LLDP-MED inventory: model name."""
    med_asset_id: str | None = None
    """LLDP-MED inventory: asset id."""


@observation
class CdpAnnouncement(Observation):
    """A Cisco Discovery Protocol announcement (802.3 LLC/SNAP, OUI 00000c, PID 0x2000)."""

    PROTOCOL: ClassVar[str] = "cdp"

    version: int
    """CDP version (1 or 2)."""
    ttl: int
    """Holdtime in seconds."""
    device_id: str | None = None
    """Device ID TLV: the host name (sometimes with serial or MAC)."""
    addresses: tuple[str, ...] = ()
    """Addresses TLV: IPv4/IPv6 addresses of the sending interface."""
    port_id: str | None = None
    """Port ID TLV: the sending interface (``GigabitEthernet0/1``)."""
    capabilities: tuple[str, ...] = ()
    """Capabilities TLV decoded (``router``, ``switch``, ``host``, ``phone``, ...)."""
    software_version: str | None = None
    """Software Version TLV (IOS banner)."""
    platform: str | None = None
    """Platform TLV (``cisco 1601``, ``Cisco IP Phone 7960``)."""
    vtp_domain: str | None = None
    """VTP Management Domain TLV."""
    native_vlan: int | None = None
    """Native VLAN TLV."""
    management_addresses: tuple[str, ...] = ()
    """Management Addresses TLV."""


@observation
class WsDiscoveryMessage(Observation):
    """A WS-Discovery message (SOAP over UDP 3702, or a directed probe over HTTP): Hello,
    Bye, Probe, ProbeMatch, Resolve or ResolveMatch. A ProbeMatches message gives one
    observation per match."""

    PROTOCOL: ClassVar[str] = "ws-discovery"

    action: str
    """The message kind: ``Hello``, ``Bye``, ``Probe``, ``ProbeMatch``, ``Resolve``,
    ``ResolveMatch``."""
    action_uri: str | None
    """The ``wsa:Action`` header as sent."""
    endpoint_reference: str | None = None
    """``wsa:EndpointReference/wsa:Address`` of the target service (``urn:uuid:...``)."""
    types: tuple[str, ...] = ()
    """``Types`` as written (``dpws:Device``, ``mdpws:MedicalDevice``)."""
    types_expanded: tuple[str, ...] = ()
    """``Types`` with prefixes resolved, ``{namespace}local``; a QName whose prefix is not
    declared stays as written."""
    scopes: tuple[str, ...] = ()
    """``Scopes`` URIs (SDC: ``sdc.ctxt.loc:/...``, ``sdc.cdc.type:/...``)."""
    xaddrs: tuple[str, ...] = ()
    """``XAddrs``: transport addresses of the service (``http://192.0.2.5:6464/...``)."""
    metadata_version: int | None = None
    """``MetadataVersion``."""


@observation
class DpwsDeviceMetadata(Observation):
    """DPWS device metadata (``ThisModel``/``ThisDevice``/``Relationship`` in a WS-Transfer
    Get or WS-MetadataExchange response over HTTP)."""

    PROTOCOL: ClassVar[str] = "dpws"

    manufacturer: str | None = None
    """``ThisModel/Manufacturer`` (the first, when several languages are given)."""
    manufacturer_url: str | None = None
    """``ThisModel/ManufacturerUrl``."""
    model_name: str | None = None
    """``ThisModel/ModelName``."""
    model_number: str | None = None
    """``ThisModel/ModelNumber``."""
    model_url: str | None = None
    """``ThisModel/ModelUrl``."""
    presentation_url: str | None = None
    """``ThisModel/PresentationUrl``."""
    friendly_name: str | None = None
    """``ThisDevice/FriendlyName``."""
    firmware_version: str | None = None
    """``ThisDevice/FirmwareVersion``."""
    serial_number: str | None = None
    """``ThisDevice/SerialNumber``."""
    endpoint_reference: str | None = None
    """``Relationship/Host/EndpointReference/Address`` (the device's EPR)."""
    host_types: tuple[str, ...] = ()
    """``Relationship/Host/Types`` as written."""
    hosted_types: tuple[str, ...] = ()
    """``Types`` of the hosted services, as written, in order, without repeats."""
