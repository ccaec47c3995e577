"""Syslog dissector: RFC 5424 / RFC 3164 / RFC 6587 vectors and real captures."""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest

from medsec.dissect.syslog import SyslogDissector
from medsec.model.errors import DissectError
from medsec.model.observations import PacketContext
from medsec.model.observations.management import SyslogMessage

from tests_support.dissect_harness import ctx, payloads

D = SyslogDissector()
UDP = ctx(transport="udp", src_port=514, dst_port=514)
TCP = ctx(transport="tcp", src_port=40000, dst_port=514)

# RFC 5424 6.5 example 1 (BOM omitted) and example 3 with an added "origin" element
RFC5424 = (
    b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
    b"'su root' failed for lonvick on /dev/pts/8"
)
RFC5424_SD = (
    b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
    b'[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
    b'[origin software="Pump\\"OS\\]" swVersion="4.2" enterpriseId="99999"] '
    b"Patient DOE^JANE infusion started"
)
# RFC 3164 5.4 example 1
RFC3164 = b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"


def one(data: bytes, context: PacketContext = UDP) -> SyslogMessage:
    (msg,) = D.dissect(data, context)
    assert isinstance(msg, SyslogMessage)
    return msg


def test_rfc5424_header() -> None:
    msg = one(RFC5424)
    assert (msg.facility, msg.severity, msg.format) == (4, 2, "rfc5424")
    assert (msg.hostname, msg.app_name, msg.procid, msg.msgid) == (
        "mymachine.example.com",
        "su",
        None,
        "ID47",
    )
    assert msg.origin_software is None


def test_rfc5424_origin_structured_data() -> None:
    msg = one(RFC5424_SD)
    assert (msg.facility, msg.severity) == (20, 5)
    assert (msg.origin_software, msg.origin_sw_version, msg.origin_enterprise_id) == (
        'Pump"OS]',
        "4.2",
        "99999",
    )


def test_message_text_never_kept() -> None:
    for data in (RFC5424, RFC5424_SD, RFC3164):
        text = repr(one(data))
        for secret in ("lonvick", "DOE", "JANE", "infusion", "pts/8"):
            assert secret not in text


def test_rfc3164_header() -> None:
    msg = one(RFC3164)
    assert (msg.facility, msg.severity, msg.format) == (4, 2, "rfc3164")
    assert (msg.hostname, msg.app_name, msg.procid) == ("mymachine", "su", None)


@pytest.mark.parametrize(
    ("data", "hostname", "app_name", "procid"),
    [
        (b"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", "10.0.0.99", None, None),
        (b"<30>snmpd[6956]: Connection from UDP", None, "snmpd", "6956"),
        (b"<30>Mar  9 04:44:28 host1 filebeat: INFO", "host1", "filebeat", None),
        (b"<30>Mar  9 04:44:28 cron[77]: job", None, "cron", "77"),
        (b"<14>2024-01-02T03:04:05+01:00 ward-gw dhcpd[9]: ok", "ward-gw", "dhcpd", "9"),
        (b"<189>72: Mar  3 19:57:17.371: %LINK-5-CHANGED: Interface", None, None, None),
        (b"<6>", None, None, None),
    ],
)
def test_bsd_variants(
    data: bytes, hostname: str | None, app_name: str | None, procid: str | None
) -> None:
    msg = one(data)
    assert msg.format == "rfc3164"
    assert (msg.hostname, msg.app_name, msg.procid) == (hostname, app_name, procid)


def test_tcp_octet_counting_and_newline_framing() -> None:
    counted = b"%d %s" % (len(RFC5424), RFC5424)
    found = list(D.dissect(counted * 2 + b"99 <34>1 cut", TCP))
    assert [o.format for o in found if isinstance(o, SyslogMessage)] == ["rfc5424"] * 2
    found = list(D.dissect(RFC3164 + b"\n" + RFC5424 + b"\r\n" + b"<13>partial", TCP))
    assert [o.format for o in found if isinstance(o, SyslogMessage)] == ["rfc3164", "rfc5424"]


def test_rsh_on_tcp_514_is_not_syslog() -> None:
    assert list(D.dissect(b"1022\x00root\x00root\x00ls -l\x00", TCP)) == []
    assert list(D.dissect(b"\x00root\x00", TCP)) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no PRI"),
        (b"Oct 11 22:14:15 host su: x", "no PRI"),
        (b"<192>1 - - - - -", "above 191"),
        (b"<a1>x", "1-3 digits"),
        (b"<1234>x", "1-3 digits"),
        (b"<34>1 2003-10-11T22:14:15.003Z host", "cut short"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, UDP))


def test_malformed_octet_count() -> None:
    with pytest.raises(DissectError, match="octet count"):
        list(D.dissect(b"%d %s12x <34>" % (len(RFC3164), RFC3164), TCP))


def test_signature() -> None:
    assert D.signature(RFC5424) and D.signature(RFC3164)
    assert D.signature(b"%d %s" % (len(RFC5424), RFC5424))
    assert not D.signature(b"<30>snmpd[6956]: no timestamp")  # too loose to claim a flow
    assert not D.signature(b"<html><body>")
    assert not D.signature(b"1022\x00root\x00")


def test_zeek_single_message(shared_data: Path) -> None:
    (p,) = payloads(shared_data / "pcap/zeek/syslog-single-udp.pcap", ports={514})
    msg = one(p.data, p.ctx)
    assert (msg.facility, msg.severity, msg.app_name) == (16, 5, "robin")


def test_ndpi_mixed_devices(shared_data: Path) -> None:
    found = [
        o
        for p in payloads(shared_data / "pcap/ndpi/syslog.pcap", ports={514})
        for o in D.dissect(p.data, p.ctx)
    ]
    assert len(found) == 71 and all(isinstance(o, SyslogMessage) for o in found)
    seen = {
        (o.hostname, o.app_name, o.procid)
        for o in found
        if isinstance(o, SyslogMessage) and o.app_name
    }
    assert {
        (None, "snmpd", "6956"),
        ("nb6", "chillispot", "4222"),
        ("NDC3CLNDMVA22", "kernel", None),
        ("ndc3lvmsdptd2", "filebeat", None),
    } <= seen


def test_zeek_tcp_stream_with_mixed_framing(shared_data: Path) -> None:
    # raw-IP capture (linktype 228): octet-counted and newline-framed messages alternate
    stream = b""
    with open(shared_data / "pcap/zeek/tcp-syslog.pcap", "rb") as f:
        reader = dpkt.pcap.Reader(f)
        assert reader.datalink() == 228
        for _, buf in reader:
            tcp = dpkt.ip.IP(buf).data
            if tcp.dport == 514:
                stream += bytes(tcp.data)
    assert D.signature(stream)
    found = list(D.dissect(stream, TCP))
    assert [(o.facility, o.severity) for o in found if isinstance(o, SyslogMessage)] == [
        (1, 5),
        (1, 6),
        (1, 7),
        (2, 0),
    ]
    assert {(o.hostname, o.app_name) for o in found if isinstance(o, SyslogMessage)} == {
        ("mymachine", "su")
    }


# --- vendor facts at fixed places of the message -------------------------------------------


@pytest.mark.parametrize(
    ("data", "form", "facility", "severity", "mnemonic"),
    [
        # IOS, service sequence-numbers + timestamps log datetime msec
        (b"<189>72: Mar  3 19:57:17.371: %LINK-5-CHANGED: Interface Gi0/2, changed", "percent",
         "LINK", 5, "CHANGED"),
        # IOS, unsynchronised clock ('*'), logging origin-id hostname
        (b"<187>38: R1: *Sep 22 13:39:11.250: %LINK-3-UPDOWN: Interface Et0/2, changed",
         "percent", "LINK", 3, "UPDOWN"),
        # IOS with the [syslog@9 ...] sequence element
        (b'<189>85: R1: [syslog@9 s_sn="5"]: *Sep 22 13:47:45.672: %SYS-5-CONFIG_I: by console',
         "percent", "SYS", 5, "CONFIG_I"),
        # IOS XML logging
        (b"<189>92: R1: <ios-log-msg><facility>SYS</facility><severity>5</severity>"
         b"<msg-id>CONFIG_I</msg-id><time>*Sep 22</time><args><arg id=\"0\">console</arg>",
         "ios-xml", "SYS", 5, "CONFIG_I"),
        # ASA without and with a header
        (b"<166>%ASA-6-302013: Built outbound TCP connection 1", "percent", "ASA", 6, "302013"),
        (b"<166>Jan 01 2020 00:00:00: %ASA-6-302013: Built outbound", "percent", "ASA", 6,
         "302013"),
        # NX-OS: host, year-first timestamp with zone
        (b"<189>nx01: 2017 Jul 26 14:42:46 UTC: %AUTHPRIV-6-SYSTEM_MSG: pam_unix", "percent",
         "AUTHPRIV", 6, "SYSTEM_MSG"),
        # IOS XR: node id, process, space before the colon
        (b"<187>102: RP/0/RSP0/CPU0:Jan  5 10:00:00.123 UTC: ifmgr[227]: "
         b"%PKT_INFRA-LINK-3-UPDOWN : Interface Gi0/0/0/1", "percent", "PKT_INFRA-LINK", 3,
         "UPDOWN"),
        # Arista EOS: BSD header, agent name as the tag
        (b"<189>May  9 16:13:35 PE-1A Ebra: %LINEPROTO-5-UPDOWN: Line protocol on Et4",
         "percent", "LINEPROTO", 5, "UPDOWN"),
        # RFC 5424 carrying the tag in MSG
        (b"<189>1 2024-01-01T00:00:00Z r1 - - - - %SYS-5-RESTART: System restarted", "percent",
         "SYS", 5, "RESTART"),
    ],
)  # fmt: skip
def test_cisco_message_tag(
    data: bytes, form: str, facility: str, severity: int, mnemonic: str
) -> None:
    msg = one(data)
    assert (msg.tag_format, msg.tag_facility, msg.tag_severity, msg.tag_mnemonic) == (
        form,
        facility,
        severity,
        mnemonic,
    )


@pytest.mark.parametrize(
    "data",
    [
        # a tag quoted inside free text is not at the anchored place
        b"<13>Mar  9 04:44:27 host app: user wrote %SYS-5-CONFIG_I: in a note",
        b"<13>Mar  9 04:44:27 host app: 50%-off-3-X: sale",
        b"<189>%sys-5-config_i: lower case is not a tag",
    ],
)
def test_no_tag_outside_its_place(data: bytes) -> None:
    assert one(data).tag_facility is None


def test_fortios_devid_and_devname() -> None:
    quoted = (
        b'<189>date=2021-12-09 time=16:29:06 devname="FW-WARD-3" devid="FGT60FTK20000001" '
        b'eventtime=1639052948154831889 tz="+0400" logid="0000000013" type="traffic" '
        b'srcip=10.1.2.3 user="jdoe" msg="patient portal"'
    )
    msg = one(quoted)
    assert (msg.fortios_devid, msg.fortios_devname) == ("FGT60FTK20000001", "FW-WARD-3")
    assert "jdoe" not in repr(msg) and "patient" not in repr(msg)
    bare = b"<189>date=2019-04-04 time=09:19:21 devname=fw01 devid=FG800D0123456789 logid=1"
    assert one(bare).fortios_devid == "FG800D0123456789"
    # key=value pairs that do not start the message are free text
    late = b"<13>Mar  9 04:44:27 host app: note devid=FGT60FTK20000001"
    assert one(late).fortios_devid is None


def test_screenos_device_id() -> None:
    msg = one(
        b"<133>ssg: NetScreen device_id=0185082008001541  [Root]system-notification-00257"
        b'(traffic): start_time="2019-05-09 14:50:08" src=10.0.0.1'
    )
    assert (msg.app_name, msg.screenos_device_id) == ("ssg", "0185082008001541")


def test_panos_serial_and_type() -> None:
    msg = one(
        b"<14>Oct  4 18:54:26 pa-01 1,2023/10/04 18:54:26,012501002341,TRAFFIC,end,2561,"
        b"2023/10/04 18:54:24,10.1.1.1,10.2.2.2"
    )
    assert (msg.hostname, msg.panos_serial, msg.panos_type) == ("pa-01", "012501002341", "TRAFFIC")


def test_cef_and_leef_headers() -> None:
    msg = one(
        b"<134>Jan  1 00:00:00 fw01 CEF:0|Check Point|VPN-1 & FireWall-1|R81\\|x|Accept|"
        b"Accept|Low|src=10.0.0.1 suser=jdoe"
    )
    assert (msg.event_format, msg.event_vendor, msg.event_product, msg.event_version) == (
        "CEF",
        "Check Point",
        "VPN-1 & FireWall-1",
        "R81|x",
    )
    assert "jdoe" not in repr(msg)
    leef = one(b"<13>LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8")
    assert (leef.event_format, leef.event_vendor, leef.event_product) == (
        "LEEF",
        "Lancope",
        "StealthWatch",
    )


def test_rfc5424_sd_ids() -> None:
    msg = one(
        b"<14>1 2024-01-01T00:00:00Z srx-1 RT_FLOW - RT_FLOW_SESSION_CREATE "
        b'[junos@2636.1.1.1.2.26 source-address="10.0.0.1"][meta sequenceId="1"] text'
    )
    assert msg.sd_ids == ("junos@2636.1.1.1.2.26", "meta")
    assert (msg.app_name, msg.msgid) == ("RT_FLOW", "RT_FLOW_SESSION_CREATE")
    assert one(RFC5424_SD).sd_ids == ("exampleSDID@32473", "origin")
    assert one(RFC5424).sd_ids == ()


def test_ndpi_vendor_formats(shared_data: Path) -> None:
    found = [
        o
        for p in payloads(shared_data / "pcap/ndpi/syslog.pcap", ports={514})
        for o in D.dissect(p.data, p.ctx)
        if isinstance(o, SyslogMessage)
    ]
    tags = {(o.tag_format, o.tag_facility, o.tag_mnemonic) for o in found if o.tag_format}
    assert {
        ("percent", "LINK", "CHANGED"),
        ("percent", "IPV6_ACL", "ACCESSLOGP"),
        ("percent", "SYS", "LOGGINGHOST_STARTSTOP"),
        ("ios-xml", "LINEPROTO", "UPDOWN"),
    } <= tags
    assert {o.fortios_devid for o in found if o.fortios_devid} == {"FGT61ETK19009449"}
    # message text of none of them is kept
    assert not any("Configured from console" in repr(o) for o in found)
