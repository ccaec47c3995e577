"""Hostile bytes never make the capture reader raise anything but its documented errors.

The kernel is compiled code: an out-of-bounds read would not raise, it would read garbage
or crash the process. ``test_kernel_bounds_in_pure_python`` therefore runs these same
properties in a subprocess with ``NUMBA_DISABLE_JIT=1``, where every out-of-bounds index
raises ``IndexError``. Captures are read twice, the second time with the dissect stage as
the payload sink (edge samples, TCP heads, hand-off), which must not change a flow.
"""

from __future__ import annotations

import gzip
import ipaddress
import os
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import dpkt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.pipeline import DissectPipeline
from medsec.model.errors import CaptureError

from tests_support.capfile import (
    Iface,
    Packet,
    Section,
    ethernet,
    frame,
    pcap_bytes,
    pcapng_bytes,
)

EXAMPLES = int(os.environ.get("MEDSEC_PROPERTY_EXAMPLES", "150"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

LINKTYPES = [1, 113, 276, 101, 12, 14, 228, 229, 0, 108, 147]


def valid_capture() -> bytes:
    frames = [
        frame("10.0.0.1", "10.0.0.2", 40000, 104, flags=2, vlans=[10]),
        frame("10.0.0.2", "10.0.0.1", 104, 40000, flags=18, vlans=[10]),
        frame("2001:db8::1", "2001:db8::2", 5353, 5353, proto="udp", payload=b"abc"),
        frame("10.0.0.1", "8.8.8.8", proto="icmp"),
    ]
    return pcap_bytes([Packet(1_700_000_000_000_000_000 + i, f) for i, f in enumerate(frames)])


def read(tmp_path: Path, data: bytes, name: str = "f.pcap", *, buffer_limit: int = 1 << 20) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        summary = read_capture(path)
    except CaptureError:
        return
    assert summary.stats.packets >= 0
    assert summary.complete == (summary.error is None)
    for f in summary.flows:
        assert 0 <= f.client_port <= 65535 and 0 <= f.server_port <= 65535
        assert f.first_seen <= f.last_seen
    pipeline = DissectPipeline(default_dissectors(), buffer_limit=buffer_limit)
    inspected = read_capture(path, sink=pipeline)
    assert pipeline.stats.failures == 0
    assert inspected.stats == summary.stats
    assert [replace(f, app=None) for f in inspected.flows] == list(summary.flows)


@PROPERTY
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    read(tmp_path, data)


@PROPERTY
@given(
    body=st.binary(max_size=3000),
    magic=st.sampled_from(
        [b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"]
    ),
    linktype=st.sampled_from(LINKTYPES),
)
def test_pcap_header_then_garbage(tmp_path: Path, body: bytes, magic: bytes, linktype: int) -> None:
    order = ">" if magic[0] == 0xA1 else "<"
    header = magic + struct.pack(order + "HHiIII", 2, 4, 0, 0, 65535, linktype)
    read(tmp_path, header + body)


@PROPERTY
@given(
    frames=st.lists(st.binary(max_size=200), max_size=30),
    linktype=st.sampled_from(LINKTYPES),
)
def test_random_frames_in_valid_records(tmp_path: Path, frames: list[bytes], linktype: int) -> None:
    """Well-formed records whose packets are random bytes: every record is counted."""
    data = pcap_bytes([Packet(i, f) for i, f in enumerate(frames)], linktype=linktype)
    path = tmp_path / "r.pcap"
    path.write_bytes(data)
    summary = read_capture(path)
    assert summary.complete and summary.stats.packets == len(frames)
    read(tmp_path, data)


@PROPERTY
@given(
    frames=st.lists(st.binary(max_size=120), max_size=20),
    prefix=st.sampled_from(
        [
            bytes.fromhex("ffffffffffff0200000000010800"),  # Ethernet, IPv4
            bytes.fromhex("ffffffffffff0200000000018100000a86dd"),  # VLAN, IPv6
            bytes.fromhex("ffffffffffff02000000000188a80064810000140800"),  # Q-in-Q
            bytes.fromhex("ffffffffffff0200000000010806"),  # ARP
        ]
    ),
)
def test_random_network_headers(tmp_path: Path, frames: list[bytes], prefix: bytes) -> None:
    data = pcap_bytes([Packet(i, prefix + f) for i, f in enumerate(frames)])
    path = tmp_path / "n.pcap"
    path.write_bytes(data)
    summary = read_capture(path)
    assert summary.complete and summary.stats.packets == len(frames)
    read(tmp_path, data)


HOSTS = ["10.0.0.1", "10.0.0.2", "2001:db8::1"]
SEGMENT = st.tuples(
    st.sampled_from(HOSTS),
    st.sampled_from(HOSTS),
    st.sampled_from([80, 104, 443, 2575, 40000, 40001]),
    st.sampled_from([80, 104, 443, 2575, 40000, 40001]),
    st.integers(0, (1 << 32) - 1),
    st.integers(0, 255),
    st.binary(max_size=1500),
)


def _segment(
    src: str, dst: str, sport: int, dport: int, seq: int, flags: int, data: bytes
) -> bytes:
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, flags=flags, data=data)
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version != d.version:
        d = ipaddress.ip_address("10.0.0.9" if s.version == 4 else "2001:db8::9")
    if s.version == 6:
        ip6 = dpkt.ip6.IP6(src=s.packed, dst=d.packed, nxt=6, hlim=64, data=tcp)
        ip6.plen = len(bytes(tcp))
        return ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x86DD, bytes(ip6))
    ip = dpkt.ip.IP(src=s.packed, dst=d.packed, p=6, data=tcp)
    ip.len = 20 + len(bytes(tcp))
    return ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800, bytes(ip))


@PROPERTY
@given(
    segments=st.lists(SEGMENT, max_size=60),
    cuts=st.lists(st.integers(0, 2000), max_size=60),
    buffer_limit=st.sampled_from([0, 64, 1 << 20]),
)
def test_random_tcp_segments(
    tmp_path: Path,
    segments: list[tuple[str, str, int, int, int, int, bytes]],
    cuts: list[int],
    buffer_limit: int,
) -> None:
    """TCP heads from hostile segments: any sequence numbers, flags, captured lengths (a
    record may be cut anywhere) and a tiny head budget that forces early hand-over."""
    packets = []
    for i, seg in enumerate(segments):
        raw = _segment(*seg)
        if i < len(cuts) and cuts[i] < len(raw):
            packets.append(Packet(i, raw[: cuts[i]], origlen=len(raw)))
        else:
            packets.append(Packet(i, raw))
    read(tmp_path, pcap_bytes(packets), buffer_limit=buffer_limit)


@PROPERTY
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_mutated_pcap(tmp_path: Path, flips: list[tuple[int, int]], cut: int | None) -> None:
    data = bytearray(valid_capture())
    for pos, value in flips:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    read(tmp_path, bytes(data))


@PROPERTY
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
    big_endian=st.booleans(),
)
def test_mutated_pcapng(
    tmp_path: Path, flips: list[tuple[int, int]], cut: int | None, big_endian: bool
) -> None:
    section = Section(
        interfaces=[Iface(1), Iface(101, tsresol=9), Iface(1, tsresol=0x80 | 30)],
        packets=[
            Packet(10**18, frame("10.0.0.1", "10.0.0.2", 1, 2), interface=0),
            Packet(10**18, frame("10.0.0.1", "10.0.0.2", 1, 2)[14:], interface=1),
            Packet(10**18, frame("10.0.0.3", "10.0.0.4", 3, 4), interface=2),
        ],
        big_endian=big_endian,
        extra_blocks=[(4, b"\x01\x00\x04\x00abcd\x00\x00\x00\x00")],
    )
    data = bytearray(pcapng_bytes([section]))
    for pos, value in flips:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    read(tmp_path, bytes(data), "f.pcapng")


@PROPERTY
@given(cut=st.integers(0, 10**6), flip=st.tuples(st.integers(0, 10**6), st.integers(0, 255)))
def test_mutated_gzip(tmp_path: Path, cut: int, flip: tuple[int, int]) -> None:
    data = bytearray(gzip.compress(valid_capture()))
    data[flip[0] % len(data)] = flip[1]
    read(tmp_path, bytes(data[: cut % (len(data) + 1)]), "f.pcap.gz")


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already running without the JIT"
)
def test_kernel_bounds_in_pure_python() -> None:
    """The properties above, interpreted: any out-of-bounds read raises IndexError there."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", MEDSEC_PROPERTY_EXAMPLES="60")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            # hashing relies on wrapping uint64 multiplication, which numpy warns about
            "-W",
            "ignore:overflow encountered:RuntimeWarning",
            __file__,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
