"""The dissect stage: protocol payloads -> observations (facts, no decisions).

The dissectors medsec runs are listed here explicitly, in routing order: for a flow, the
first dissector whose ports hold either port wins; otherwise the first whose signature
accepts the payload. Order matters for signatures that overlap: DPWS metadata is HTTP
carrying SOAP, so ``DpwsDissector`` must come before any general HTTP dissector.
"""

from __future__ import annotations

from medsec.dissect.bacnet import BacnetDissector
from medsec.dissect.banners import (
    FtpDissector,
    ImapDissector,
    Pop3Dissector,
    SmtpDissector,
    TelnetDissector,
)
from medsec.dissect.cdp import CdpDissector
from medsec.dissect.checkmk import CheckmkDissector
from medsec.dissect.dcerpc import DcerpcDissector
from medsec.dissect.dhcp import DhcpDissector
from medsec.dissect.dhcpv6 import Dhcpv6Dissector
from medsec.dissect.dicom import DicomDissector
from medsec.dissect.dns import DnsDissector
from medsec.dissect.drda import DrdaDissector
from medsec.dissect.flowexport import FlowExportDissector
from medsec.dissect.hl7 import Hl7Dissector
from medsec.dissect.hsrp import HsrpDissector
from medsec.dissect.http import HttpDissector
from medsec.dissect.igmp import IgmpDissector
from medsec.dissect.interface import Dissector
from medsec.dissect.ldap import LdapDissector
from medsec.dissect.lldp import LldpDissector
from medsec.dissect.modbus import ModbusDissector
from medsec.dissect.mysql import MysqlDissector
from medsec.dissect.natpmp import NatPmpDissector
from medsec.dissect.netbios import NetbiosNsDissector
from medsec.dissect.netbios_dgm import NetbiosDgmDissector
from medsec.dissect.ntp import NtpDissector
from medsec.dissect.poct import PoctDissector
from medsec.dissect.postgres import PostgresDissector
from medsec.dissect.radius import RadiusDissector
from medsec.dissect.remote_access import RdpDissector, VncDissector
from medsec.dissect.slp import SlpDissector
from medsec.dissect.smb import SmbDissector
from medsec.dissect.snmp import SnmpDissector
from medsec.dissect.ssdp import SsdpDissector
from medsec.dissect.ssh import SshDissector
from medsec.dissect.stp import StpDissector
from medsec.dissect.syslog import SyslogDissector
from medsec.dissect.tds import TdsDissector
from medsec.dissect.tls import TlsDissector
from medsec.dissect.tuya import TuyaDissector
from medsec.dissect.ubiquiti import UbiquitiDissector
from medsec.dissect.vrrp import VrrpDissector
from medsec.dissect.wsdiscovery import DpwsDissector, WsDiscoveryDissector
from medsec.dissect.zabbix import ZabbixDissector

__all__ = ["Dissector", "default_dissectors"]


def default_dissectors() -> list[Dissector]:
    """One instance of every shipped dissector, in routing order."""
    return [
        # clinical
        DicomDissector(),
        Hl7Dissector(),
        PoctDissector(),
        WsDiscoveryDissector(),
        DpwsDissector(),
        # addressing, naming and discovery
        DhcpDissector(),
        Dhcpv6Dissector(),
        DnsDissector(),
        NetbiosNsDissector(),
        NetbiosDgmDissector(),
        SsdpDissector(),
        LldpDissector(),
        CdpDissector(),
        # management
        SnmpDissector(),
        NtpDissector(),
        SyslogDissector(),
        # applications, crypto handshakes and cleartext services
        TlsDissector(),
        SshDissector(),
        HttpDissector(),
        SmbDissector(),
        RdpDissector(),
        VncDissector(),
        FtpDissector(),
        SmtpDissector(),
        Pop3Dissector(),
        ImapDissector(),
        TelnetDissector(),
        # databases, authentication, monitoring agents and RPC
        MysqlDissector(),
        PostgresDissector(),
        TdsDissector(),
        RadiusDissector(),
        LdapDissector(),
        DrdaDissector(),
        CheckmkDissector(),
        ZabbixDissector(),
        DcerpcDissector(),
        # infrastructure, smart things and automation
        TuyaDissector(),
        StpDissector(),
        HsrpDissector(),
        VrrpDissector(),
        IgmpDissector(),
        UbiquitiDissector(),
        NatPmpDissector(),
        SlpDissector(),
        BacnetDissector(),
        ModbusDissector(),
        FlowExportDissector(),
    ]
