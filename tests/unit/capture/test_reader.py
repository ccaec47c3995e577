"""The capture reader on synthetic files: formats, byte orders, resolutions, link types."""

from __future__ import annotations

import gzip
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dpkt
import pytest

from medsec.capture.reader import read_capture
from medsec.model.errors import CaptureNotFound, NotACapture
from medsec.model.traffic import CaptureSummary, FlowRecord

from tests_support.capfile import (
    Iface,
    Packet,
    Section,
    arp,
    ethernet,
    frame,
    pcap_bytes,
    pcapng_bytes,
)

T0 = 1_767_600_000_123_456_789  # 2026-01-05T08:00:00.123456789Z
SYN, ACK, RST, FIN, PSH = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_RST, dpkt.tcp.TH_FIN, 8

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
C_MAC, S_MAC = "02:00:00:00:00:0c", "02:00:00:00:00:05"


def handshake(
    client: str = "10.1.0.10", server: str = "10.2.0.5", cport: int = 40000, sport: int = 104
) -> list[bytes]:
    """SYN, SYN-ACK, ACK, a request and its answer, FIN both ways."""
    c = {"src_mac": C_MAC, "dst_mac": S_MAC}
    s = {"src_mac": S_MAC, "dst_mac": C_MAC}
    return [
        frame(client, server, cport, sport, flags=SYN, **c),
        frame(server, client, sport, cport, flags=SYN | ACK, **s),
        frame(client, server, cport, sport, flags=ACK, **c),
        frame(client, server, cport, sport, flags=ACK | PSH, payload=b"x" * 100, **c),
        frame(server, client, sport, cport, flags=ACK | PSH, payload=b"y" * 300, **s),
        frame(client, server, cport, sport, flags=FIN | ACK, **c),
        frame(server, client, sport, cport, flags=FIN | ACK, **s),
    ]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def only_flow(summary: CaptureSummary) -> FlowRecord:
    assert len(summary.flows) == 1, summary.flows
    return summary.flows[0]


def packets(frames: list[bytes], step_ns: int = 1_000_000) -> list[Packet]:
    return [Packet(T0 + i * step_ns, f) for i, f in enumerate(frames)]


@pytest.mark.parametrize("big_endian", [False, True], ids=["le", "be"])
@pytest.mark.parametrize("nanosecond", [False, True], ids=["usec", "nsec"])
def test_classic_pcap_variants(tmp_path: Path, big_endian: bool, nanosecond: bool) -> None:
    data = pcap_bytes(packets(handshake()), big_endian=big_endian, nanosecond=nanosecond)
    summary = read_capture(write(tmp_path, "h.pcap", data))
    assert summary.complete and summary.format == "pcap"
    assert summary.stats.packets == 7
    flow = only_flow(summary)
    assert (flow.client_ip, flow.server_ip, flow.client_port, flow.server_port) == (
        "10.1.0.10",
        "10.2.0.5",
        40000,
        104,
    )
    assert flow.transport == "tcp" and flow.state == "established" and flow.initiator == "syn"
    assert (flow.packets_c2s, flow.packets_s2c) == (4, 3)
    frames = handshake()
    assert flow.bytes_c2s == sum(len(frames[i]) for i in (0, 2, 3, 5))
    assert flow.bytes_s2c == sum(len(frames[i]) for i in (1, 4, 6))
    assert (flow.client_mac, flow.server_mac) == (C_MAC, S_MAC)
    assert flow.first_seen == EPOCH + timedelta(microseconds=T0 // 1000)
    assert flow.last_seen - flow.first_seen == timedelta(microseconds=6000)


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    raw = pcap_bytes(packets(handshake()))
    plain = read_capture(write(tmp_path, "a.pcap", raw))
    zipped = read_capture(write(tmp_path, "a.pcap.gz", gzip.compress(raw)))
    assert zipped.format == "pcap.gz" and zipped.complete
    assert zipped.flows == plain.flows and zipped.stats == plain.stats


@pytest.mark.parametrize("block", ["epb", "pb"])
def test_pcapng_sections_interfaces_and_resolutions(tmp_path: Path, block: str) -> None:
    """Two sections of different byte order; interfaces of different link types and clocks."""
    eth = handshake()
    raw_ip = [f[14:] for f in handshake("10.9.0.1", "10.9.0.2", 5000, 22)]
    first = Section(
        interfaces=[Iface(1, tsresol=6), Iface(101, tsresol=9, tsoffset=10)],
        packets=[Packet(T0 + i * 1000, f, interface=0) for i, f in enumerate(eth)]
        + [Packet(T0 + i * 1000, f, interface=1) for i, f in enumerate(raw_ip)],
        big_endian=False,
        block=block,
        extra_blocks=[(4, b"\x00\x00\x00\x00"), (0x00000BAD, b"\x00\x00\x7f\x00abcd")],
    )
    second = Section(
        interfaces=[Iface(1, tsresol=0x80 | 20)],  # 2**-20 s units
        packets=[Packet(T0 + 5_000_000_000, frame("10.3.0.1", "10.3.0.2", 1234, 53, proto="udp"))],
        big_endian=True,
        block=block,
    )
    summary = read_capture(write(tmp_path, "m.pcapng", pcapng_bytes([first, second])))
    assert summary.complete, summary.error
    assert summary.format == "pcapng"
    assert summary.link_types == (1,)  # the last section's interfaces
    assert summary.stats.packets == 15
    by_port = {f.server_port: f for f in summary.flows}
    assert set(by_port) == {104, 22, 53}
    assert by_port[22].client_mac is None  # raw IP has no link-layer addresses
    # both interfaces wrote the same instants: the second one's 10 s if_tsoffset is applied
    assert by_port[22].first_seen == by_port[104].first_seen
    assert by_port[53].transport == "udp" and by_port[53].initiator == "port"
    # binary resolution is accurate to a microsecond
    expected = datetime.fromtimestamp((T0 + 5_000_000_000) / 1e9, UTC)
    assert abs((by_port[53].first_seen - expected).total_seconds()) < 2e-6


def test_pcapng_simple_packet_blocks(tmp_path: Path) -> None:
    section = Section(interfaces=[Iface(1, snaplen=0)], packets=packets(handshake()), block="spb")
    summary = read_capture(write(tmp_path, "s.pcapng", pcapng_bytes([section])))
    assert summary.complete and summary.stats.packets == 7
    assert only_flow(summary).state == "established"


def sll(frame_bytes: bytes) -> bytes:
    """Linux cooked v1 header in place of the Ethernet header."""
    src = frame_bytes[6:12]
    return struct.pack(">HHH8sH", 0, 1, 6, src + b"\x00\x00", 0x0800) + frame_bytes[14:]


def sll2(frame_bytes: bytes) -> bytes:
    src = frame_bytes[6:12]
    return struct.pack(">HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, src + b"\x00\x00") + frame_bytes[14:]


def null_le(frame_bytes: bytes) -> bytes:
    return struct.pack("<I", 2) + frame_bytes[14:]


def null_be(frame_bytes: bytes) -> bytes:
    return struct.pack(">I", 2) + frame_bytes[14:]


def loop(frame_bytes: bytes) -> bytes:
    return struct.pack(">I", 2) + frame_bytes[14:]


def raw(frame_bytes: bytes) -> bytes:
    return frame_bytes[14:]


@pytest.mark.parametrize(
    ("linktype", "convert", "has_mac"),
    [
        (113, sll, True),
        (276, sll2, True),
        (101, raw, False),
        (12, raw, False),
        (228, raw, False),
        (0, null_le, False),
        (0, null_be, False),
        (108, loop, False),
    ],
    ids=["sll", "sll2", "raw101", "raw12", "ipv4-228", "null-le", "null-be", "loop"],
)
def test_link_types(tmp_path: Path, linktype: int, convert, has_mac: bool) -> None:  # type: ignore[no-untyped-def]
    frames = [convert(f) for f in handshake()]
    summary = read_capture(
        write(tmp_path, "l.pcap", pcap_bytes(packets(frames), linktype=linktype))
    )
    assert summary.complete and summary.stats.unsupported_link == 0
    flow = only_flow(summary)
    assert flow.state == "established" and flow.server_port == 104
    assert (flow.client_mac == C_MAC) is has_mac
    if has_mac:
        assert {(b.ip, b.mac) for b in summary.bindings} == {
            ("10.1.0.10", C_MAC),
            ("10.2.0.5", S_MAC),
        }


def test_ipv6_link_type_229(tmp_path: Path) -> None:
    frames = [f[14:] for f in handshake("2001:db8::1", "2001:db8::2")]
    summary = read_capture(write(tmp_path, "6.pcap", pcap_bytes(packets(frames), linktype=229)))
    flow = only_flow(summary)
    assert (flow.client_ip, flow.server_ip) == ("2001:db8::1", "2001:db8::2")
    assert summary.stats.ipv6 == 7


def test_unsupported_link_type_is_counted(tmp_path: Path) -> None:
    summary = read_capture(
        write(tmp_path, "u.pcap", pcap_bytes(packets(handshake()), linktype=105))
    )
    assert summary.complete and summary.stats.unsupported_link == 7 and not summary.flows


def test_vlan_and_qinq(tmp_path: Path) -> None:
    frames = [
        frame("10.10.0.5", "10.50.0.2", 40001, 2575, vlans=[10], src_mac=C_MAC),
        frame("10.10.0.5", "10.50.0.2", 40001, 2575, vlans=[100, 20], src_mac=C_MAC),
        frame("10.10.0.5", "10.50.0.2", 40001, 2575, src_mac=C_MAC),
    ]
    summary = read_capture(write(tmp_path, "v.pcap", pcap_bytes(packets(frames))))
    keys = sorted((f.vlan, f.inner_vlan) for f in summary.flows)
    assert keys == [(0, 0), (10, 0), (100, 20)]
    assert sorted(b.vlan for b in summary.bindings) == [0, 10, 20]


def test_ipv4_options_fragments_and_icmp(tmp_path: Path) -> None:
    import ipaddress

    base = bytes(
        dpkt.ip.IP(
            src=ipaddress.ip_address("10.0.0.1").packed,
            dst=ipaddress.ip_address("10.0.0.2").packed,
            p=17,
            hl=6,
            opts=b"\x94\x04\x00\x00",  # router alert: IHL 6
            data=dpkt.udp.UDP(sport=5000, dport=514, data=b"<13>hello"),
        )
    )
    assert base[0] == 0x46
    first_fragment = bytearray(base)
    first_fragment[6:8] = struct.pack(">H", 0x2000)  # MF, offset 0
    later_fragment = bytearray(base)
    later_fragment[6:8] = struct.pack(">H", 0x0003)  # offset 24 bytes
    frames = [
        ethernet(C_MAC, S_MAC, 0x0800, base),
        ethernet(C_MAC, S_MAC, 0x0800, bytes(first_fragment)),
        ethernet(C_MAC, S_MAC, 0x0800, bytes(later_fragment)),
        frame("10.0.0.1", "10.0.0.2", proto="icmp"),
    ]
    summary = read_capture(write(tmp_path, "f.pcap", pcap_bytes(packets(frames))))
    assert summary.stats.fragments == 1
    by_transport = {f.transport: f for f in summary.flows}
    assert by_transport["udp"].server_port == 514 and by_transport["udp"].packets_c2s == 2
    assert by_transport["icmp"].server_port == 0 and by_transport["icmp"].state == "none"


def test_ipv6_extension_headers(tmp_path: Path) -> None:
    import ipaddress

    udp = bytes(dpkt.udp.UDP(sport=546, dport=547, data=b"\x01abc", ulen=12))
    hop = bytes([60, 0]) + b"\x00" * 6  # hop-by-hop -> destination options
    dst = bytes([44, 0]) + b"\x00" * 6  # destination options -> fragment
    frag_first = bytes([17, 0]) + struct.pack(">HI", 0x0001, 7)  # offset 0, M
    frag_later = bytes([17, 0]) + struct.pack(">HI", 0x0010, 7)  # offset 2 (x8 bytes)

    def ip6(ext: bytes) -> bytes:
        body = ext + udp
        hdr = struct.pack(">IHBB", 0x60000000, len(body), 0, 64)
        hdr += ipaddress.ip_address("fe80::1").packed + ipaddress.ip_address("ff02::1:2").packed
        return ethernet(C_MAC, "33:33:00:01:00:02", 0x86DD, hdr + body)

    frames = [ip6(hop + dst + frag_first), ip6(hop + dst + frag_later)]
    summary = read_capture(write(tmp_path, "e.pcap", pcap_bytes(packets(frames))))
    flow = only_flow(summary)
    assert (flow.client_port, flow.server_port, flow.transport) == (546, 547, "udp")
    assert summary.stats.fragments == 1
    assert [(b.ip, b.mac) for b in summary.bindings] == [("fe80::1", C_MAC)]


def test_arp_bindings(tmp_path: Path) -> None:
    frames = [
        arp("00:09:fb:00:00:01", "10.10.0.11", "10.10.0.1"),
        arp("00:09:fb:00:00:01", "10.10.0.11", "10.10.0.1"),
        arp("00:00:00:00:00:00", "10.10.0.12", "10.10.0.1"),  # no sender MAC: ignored
        arp("00:09:fb:00:00:03", "0.0.0.0", "10.10.0.13"),  # ARP probe: no binding
    ]
    summary = read_capture(write(tmp_path, "a.pcap", pcap_bytes(packets(frames))))
    assert summary.stats.arp == 4 and not summary.flows
    (binding,) = summary.bindings
    assert (binding.ip, binding.mac, binding.packets) == ("10.10.0.11", "00:09:fb:00:00:01", 2)
    assert binding.from_arp and not binding.from_frames


@pytest.mark.parametrize(
    ("frames", "state", "initiator", "client"),
    [
        ([("c", SYN), ("s", RST | ACK)], "rejected", "syn", "10.1.0.10"),
        ([("c", SYN), ("c", SYN)], "half_open", "syn", "10.1.0.10"),
        ([("s", SYN | ACK), ("c", ACK)], "established", "syn_ack", "10.1.0.10"),
        ([("s", ACK | PSH), ("c", ACK)], "established", "port", "10.1.0.10"),
        ([("s", ACK | PSH)], "partial", "port", "10.1.0.10"),
    ],
    ids=["rejected", "half-open", "synack-only", "midstream", "one-way"],
)
def test_tcp_state_and_initiator(
    tmp_path: Path, frames: list[tuple[str, int]], state: str, initiator: str, client: str
) -> None:
    built = [
        frame("10.1.0.10", "10.2.0.5", 40000, 104, flags=f)
        if side == "c"
        else frame("10.2.0.5", "10.1.0.10", 104, 40000, flags=f)
        for side, f in frames
    ]
    summary = read_capture(write(tmp_path, "t.pcap", pcap_bytes(packets(built))))
    flow = only_flow(summary)
    assert (flow.state, flow.initiator, flow.client_ip, flow.server_port) == (
        state,
        initiator,
        client,
        104,
    )


def test_udp_service_port_orientation(tmp_path: Path) -> None:
    """The DHCP server's answer is oriented to the server even though it came first."""
    frames = [
        frame("10.0.0.1", "10.0.0.77", 67, 68, proto="udp"),
        frame("10.0.0.77", "10.0.0.1", 68, 67, proto="udp"),
        frame("10.0.0.8", "10.0.0.9", 50000, 50001, proto="udp"),
    ]
    summary = read_capture(write(tmp_path, "d.pcap", pcap_bytes(packets(frames))))
    by_port = {f.server_port: f for f in summary.flows}
    assert by_port[67].client_ip == "10.0.0.77" and by_port[67].initiator == "port"
    assert by_port[67].packets_c2s == 1 and by_port[67].packets_s2c == 1
    # two ephemeral ports: the lower one serves; equal scores: first sender is the client
    assert by_port[50001].client_ip == "10.0.0.8"


def test_table_growth_keeps_every_flow(tmp_path: Path) -> None:
    """More flows and bindings than the initial tables hold: all are kept, none merged."""
    frames = [
        frame(
            f"10.{i >> 8 & 255}.{i & 255}.1",
            "10.200.0.1",
            30000 + i % 1000,
            80,
            flags=SYN,
            src_mac=f"02:00:00:00:{i >> 8 & 255:02x}:{i & 255:02x}",
        )
        for i in range(20_000)
    ]
    summary = read_capture(write(tmp_path, "g.pcap", pcap_bytes(packets(frames, 1000))))
    assert len(summary.flows) == 20_000
    assert len(summary.bindings) == 20_000
    assert all(f.state == "half_open" for f in summary.flows)


# ------------------------------------------------------------------ damaged and wrong files


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CaptureNotFound, match="no such file"):
        read_capture(tmp_path / "nope.pcap")


@pytest.mark.parametrize(
    "content", [b"", b"hello, this is not a capture\n", b"\x1f\x8b\x08garbage"], ids=str
)
def test_not_a_capture(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(NotACapture, match="not a capture|damaged gzip"):
        read_capture(write(tmp_path, "x.pcap", content))


def test_pcap_header_only_is_an_empty_capture(tmp_path: Path) -> None:
    summary = read_capture(write(tmp_path, "e.pcap", pcap_bytes([])))
    assert summary.complete and summary.stats.packets == 0 and summary.first_seen is None


def test_truncated_pcap_keeps_what_was_read(tmp_path: Path) -> None:
    data = pcap_bytes(packets(handshake()))
    frames = handshake()
    fourth_record = 24 + sum(16 + len(f) for f in frames[:3])
    cut = fourth_record + 16 + 10  # inside the fourth record's data
    summary = read_capture(write(tmp_path, "t.pcap", data[:cut]))
    assert not summary.complete
    assert summary.stats.packets == 3
    assert f"offset {fourth_record}" in (summary.error or "")
    assert "truncated" in (summary.error or "")
    assert only_flow(summary).state == "established"


def test_damaged_record_length(tmp_path: Path) -> None:
    data = bytearray(pcap_bytes(packets(handshake())))
    second = 24 + 16 + len(handshake()[0])
    data[second + 8 : second + 12] = struct.pack("<I", 0x7FFFFFF0)
    summary = read_capture(write(tmp_path, "d.pcap", bytes(data)))
    assert not summary.complete and summary.stats.packets == 1
    assert f"offset {second}" in (summary.error or "")


def test_damaged_pcapng_trailer(tmp_path: Path) -> None:
    section = Section(interfaces=[Iface(1)], packets=packets(handshake()))
    data = bytearray(pcapng_bytes([section]))
    # find the third EPB and break its trailing length
    pos, seen = 0, 0
    while True:
        btype, blen = struct.unpack_from("<II", data, pos)
        if btype == 6:
            seen += 1
            if seen == 3:
                data[pos + blen - 4 : pos + blen] = b"\xff\xff\xff\xff"
                break
        pos += blen
    summary = read_capture(write(tmp_path, "d.pcapng", bytes(data)))
    assert not summary.complete and summary.stats.packets == 2
    assert f"offset {pos}" in (summary.error or "")


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    frames = [frame("10.0.0.1", "10.0.0.2", 1000 + i, 80, flags=SYN) for i in range(5000)]
    compressed = gzip.compress(pcap_bytes(packets(frames)))
    summary = read_capture(write(tmp_path, "t.pcap.gz", compressed[: len(compressed) // 2]))
    assert not summary.complete
    assert 0 < summary.stats.packets < 5000
    assert "offset" in (summary.error or "")
