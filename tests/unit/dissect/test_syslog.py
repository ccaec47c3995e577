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
