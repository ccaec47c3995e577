"""Framing helpers: lengths, padding, checksums and IPv4 fragments."""

from __future__ import annotations

import dpkt

from medsec.simulate import frames as f
from medsec.simulate.channels import Channel


def test_tagged_frame_is_padded_and_parses() -> None:
    frame = f.ethernet(
        f.BROADCAST_MAC,
        b"\x00\x09\xfb\x01\x02\x03",
        10,
        f.ETHERTYPE_ARP,
        f.arp(1, b"\x00\x09\xfb\x01\x02\x03", f.ip4("10.10.0.20"), f.ZERO_MAC, f.ip4("10.10.0.1")),
    )
    assert len(frame) == 60
    eth = dpkt.ethernet.Ethernet(frame)
    assert eth.vlan_tags[0].id == 10
    assert isinstance(eth.data, dpkt.arp.ARP)


def test_checksums_verify() -> None:
    src, dst = f.ip4("10.10.0.20"), f.ip4("10.50.0.12")
    segment = f.tcp(src, dst, 40000, 2575, 1, 2, f.TCP_ACK | f.TCP_PSH, 1000, b"odd length!")
    pseudo = f.pseudo_header_sum(src, dst, f.IPPROTO_TCP, len(segment))
    assert f.fold_checksum(pseudo + f.ones_complement_sum(segment)) == 0
    packet = f.ipv4(src, dst, f.IPPROTO_TCP, segment, ident=7, ttl=64)
    assert f.internet_checksum(packet[:20]) == 0
    datagram = f.udp(src, dst, 40001, 53, b"\x00\x01")
    pseudo = f.pseudo_header_sum(src, dst, f.IPPROTO_UDP, len(datagram))
    assert f.fold_checksum(pseudo + f.ones_complement_sum(datagram)) == 0
    assert f.ones_complement_sum(b"\x00\x00") == 0


def test_udp_fragments_reassemble() -> None:
    channel = Channel(
        vlan=50,
        client_ip=f.ip4("10.50.0.17"),
        server_ip=f.ip4("10.50.0.10"),
        client_mac=b"\x00\x50\x56\x00\x00\x01",
        server_mac=b"\x00\x14\x22\x00\x00\x02",
        client_ttl=64,
        server_ttl=64,
        client_port=40000,
        server_port=161,
        edge=("10.50.0.17", "10.50.0.10", "udp", 161),
        flow=("10.50.0.17", 40000, "10.50.0.10", 161, "udp", 50),
        idents={},
    )
    payload = bytes(range(256)) * 14
    pieces = channel.udp_fragments(1_000, False, payload)
    assert len(pieces) == 3
    assert pieces[0].edge is not None and not pieces[0].fragment
    assert all(p.fragment and p.edge is None for p in pieces[1:])
    data = b""
    for piece in pieces:
        ip = dpkt.ethernet.Ethernet(piece.data).data
        assert f.internet_checksum(bytes(ip)[:20]) == 0
        assert ip.offset * 8 == len(data)
        assert ip.mf == (piece is not pieces[-1])
        data += bytes(ip)[20 : ip.len]
    udp = dpkt.udp.UDP(data)
    assert udp.sport == 161 and udp.data == payload
