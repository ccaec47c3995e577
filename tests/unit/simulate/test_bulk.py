"""Bulk background traffic: packet target, frame-size mix, valid framing and checksums."""

from __future__ import annotations

import struct
from io import BytesIO

import dpkt
from pydicom.filereader import read_dataset
from simulate_capture import (
    Generated,
    check_tcp_progression,
    records,
    split_pdus,
    tcp_streams_by_port,
)


def rfc1071(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def test_target_reached_with_a_realistic_frame_mix(bulk: Generated) -> None:
    result = bulk.result
    assert result.packets >= 200_000
    assert result.packets < 200_000 * 1.02
    assert 550 <= result.bytes / result.packets <= 850
    sizes = {}
    for _, buf in records(result.pcap):
        sizes[len(buf)] = sizes.get(len(buf), 0) + 1
    assert sizes.get(1518, 0) > 0.3 * result.packets
    assert sum(n for size, n in sizes.items() if size <= 70) > 0.1 * result.packets


def test_checksums_are_valid(bulk: Generated) -> None:
    for number, (_, buf) in enumerate(records(bulk.result.pcap)):
        ip = dpkt.ethernet.Ethernet(buf).data
        if not isinstance(ip, dpkt.ip.IP):
            continue
        raw = bytes(ip)
        assert rfc1071(raw[:20]) == 0xFFFF
        if number % 7 or ip.offset or ip.mf or ip.p not in (6, 17):
            continue
        segment = raw[20 : ip.len]
        pseudo = ip.src + ip.dst + struct.pack("!BBH", 0, ip.p, len(segment))
        assert rfc1071(pseudo + segment) == 0xFFFF, number


def test_tcp_progression_across_bulk_blocks(bulk: Generated) -> None:
    check_tcp_progression(bulk)


def pdv_dataset(pdus: list[bytes]) -> bytes:
    """The data set carried by single-PDV P-DATA-TF PDUs (parsed by hand: fast)."""
    dataset = bytearray()
    for pdu in pdus:
        if pdu[0] != 4:
            continue
        pdv_length, _, control = struct.unpack("!IBB", pdu[6:12])
        assert pdv_length + 10 == len(pdu)
        if not control & 1:
            dataset += pdu[12:]
    return bytes(dataset)


def test_bulk_transfers_keep_their_application_framing(bulk: Generated) -> None:
    kinds = set()
    streams = tcp_streams_by_port(bulk.result.pcap, (104, 443, 22))
    for upstream, _ in streams[104].values():
        if len(upstream) < 1_000_000:
            continue
        kinds.add("dicom")
        pdus = split_pdus(upstream)
        assert pdus[0][0] == 1 and pdus[-1][0] == 5
        encoded = pdv_dataset(pdus)
        dataset = read_dataset(BytesIO(encoded), False, True)
        assert len(dataset.PixelData) == dataset.NumberOfFrames * dataset.Rows * dataset.Columns * 2
        assert str(dataset.PatientName).startswith("SIM^PATIENT^")
    for _, downstream in streams[443].values():
        if len(downstream) < 1_000_000:
            continue
        kinds.add("tls")
        offset = 0
        while offset < len(downstream):
            kind, version, length = struct.unpack("!BHH", downstream[offset : offset + 5])
            assert kind in (20, 22, 23) and version == 0x0303
            offset += 5 + length
        assert offset == len(downstream)
    for upstream, _ in streams[22].values():
        if len(upstream) > 1_000_000:
            kinds.add("ssh")
    assert len(kinds) >= 2
