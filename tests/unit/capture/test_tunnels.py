"""Tunnels the kernel looks through: PPPoE sessions, IP in IP (6in4, 4in4), GRE (plain and
ERSPAN II/III) and VXLAN. The outer tunnel stays a flow of its own; the inner packet is
accounted as its own flow (inner addresses and ports) and its payload handed over."""

from __future__ import annotations

import struct
from pathlib import Path

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.pipeline import DissectPipeline
from medsec.model.observations.management import SyslogMessage

from tests_support.capfile import Packet, ethernet, frame, pcap_bytes

T0 = 1_767_600_000_000_000_000
SYSLOG = b"<30>Jan  1 00:00:00 host app: hello"


def ip_packet(inner_frame: bytes) -> bytes:
    """The IP packet of an Ethernet frame built by ``frame`` (its 14-byte header cut)."""
    return inner_frame[14:]


def ipv4(src: str, dst: str, proto: int, payload: bytes) -> bytes:
    head = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
        bytes(int(x) for x in src.split(".")), bytes(int(x) for x in dst.split(".")),
    )  # fmt: skip
    return head + payload


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


INNER = frame("10.0.0.1", "10.0.0.2", 40000, 514, proto="udp", payload=SYSLOG,
              src_mac="02:00:00:00:00:0a", dst_mac="02:00:00:00:00:0b")  # fmt: skip
INNER6 = frame("2001:db8::1", "2001:db8::2", 40000, 514, proto="udp", payload=SYSLOG)

CASES = {
    "pppoe": ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x8864,
                      bytes.fromhex("1100 0001") + struct.pack("!H", 2 + len(ip_packet(INNER)))
                      + b"\x00\x21" + ip_packet(INNER)),
    "6in4": ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800,
                     ipv4("192.0.2.1", "198.51.100.1", 41, ip_packet(INNER6))),
    "4in4": ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800,
                     ipv4("192.0.2.1", "198.51.100.1", 4, ip_packet(INNER))),
    "gre": ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800,
                    ipv4("192.0.2.1", "198.51.100.1", 47, b"\x00\x00\x08\x00" + ip_packet(INNER))),
    "erspan2": ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800,
                        ipv4("192.0.2.1", "198.51.100.1", 47,
                             b"\x10\x00\x88\xbe" + b"\x00\x00\x00\x07" + bytes(8) + INNER)),
    "erspan3": ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800,
                        ipv4("192.0.2.1", "198.51.100.1", 47,
                             b"\x10\x00\x22\xeb" + b"\x00\x00\x00\x07" + bytes(12) + INNER)),
    "vxlan": ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800,
                      ipv4("192.0.2.1", "198.51.100.1", 17,
                           udp(50000, 4789, b"\x08\x00\x00\x00\x00\x00\x2a\x00" + INNER))),
}  # fmt: skip
OUTER = {"6in4": 41, "4in4": 4, "gre": 47, "erspan2": 47, "erspan3": 47, "vxlan": 17}


def _write(tmp_path: Path, frames: list[bytes]) -> Path:
    path = tmp_path / "t.pcap"
    path.write_bytes(pcap_bytes([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)]))
    return path


def test_inner_flows_and_the_tunnel_flow(tmp_path: Path) -> None:
    for name, tunnelled in CASES.items():
        summary = read_capture(_write(tmp_path, [tunnelled, tunnelled]))
        flows = {(f.client_ip, f.server_ip, f.server_port, f.ip_protocol): f for f in summary.flows}
        inner = ("2001:db8::1", "2001:db8::2") if name == "6in4" else ("10.0.0.1", "10.0.0.2")
        assert flows[(*inner, 514, 17)].packets_c2s == 2, name
        if name in OUTER:
            port = 4789 if name == "vxlan" else 0
            assert flows[("192.0.2.1", "198.51.100.1", port, OUTER[name])].packets_c2s == 2, name
        assert len(flows) == (2 if name in OUTER else 1), name


def test_inner_payloads_reach_the_dissectors(tmp_path: Path) -> None:
    for name, tunnelled in CASES.items():
        pipeline = DissectPipeline(default_dissectors())
        read_capture(_write(tmp_path, [tunnelled]), sink=pipeline)
        found = [o for o in pipeline.observations if isinstance(o, SyslogMessage)]
        assert len(found) == 1, name
        assert found[0].ctx.src_port == 40000 and found[0].ctx.dst_port == 514, name


def test_inner_frame_binds_its_own_mac_only(tmp_path: Path) -> None:
    summary = read_capture(_write(tmp_path, [CASES["vxlan"], CASES["6in4"]]))
    bound = {(b.ip, b.mac) for b in summary.bindings}
    assert ("10.0.0.1", "02:00:00:00:00:0a") in bound  # VXLAN: the inner frame's MAC
    assert not any(ip == "2001:db8::1" for ip, _mac in bound)  # 6in4: no MAC of its own


def test_cut_tunnels_are_counted_not_read_past(tmp_path: Path) -> None:
    frames = []
    for tunnelled in CASES.values():
        frames += [tunnelled[:n] for n in range(14, len(tunnelled), 3)]
    summary = read_capture(_write(tmp_path, frames))
    assert summary.complete and summary.stats.packets == len(frames)
