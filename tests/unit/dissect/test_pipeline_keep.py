"""Which observations the pipeline keeps: repeats are counted, not kept - per edge and sender,
within the flow for flows of no edge, per addresses for link-layer frames - and observations
whose fields cannot be hashed are all kept. Batches are built by hand (no kernel)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from medsec.capture import kernel as k
from medsec.capture.handoff import PayloadBatch
from medsec.dissect.pipeline import DissectPipeline
from medsec.model.observations import Observation, PacketContext, Transport, observation


@observation
class Said(Observation):
    PROTOCOL: ClassVar[str] = "fake"
    data: bytes


@observation
class Listed(Observation):
    PROTOCOL: ClassVar[str] = "fake"
    items: list[int]  # unhashable


class Echo:
    """Claims UDP port 7000 and link-layer 0x88CC; states its payload (a list: ``L``)."""

    name: ClassVar[str] = "echo"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp", "l2"})
    ports: ClassVar[frozenset[int]] = frozenset({7000})
    ethertypes: ClassVar[frozenset[int]] = frozenset({0x88CC})
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 100
    datagrams: ClassVar[int] = 10

    def signature(self, head: bytes) -> bool:
        return False

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if payload.startswith(b"L"):
            yield Listed(ctx=ctx, items=list(payload))
        else:
            yield Said(ctx=ctx, data=payload)


def _ip(text: str) -> tuple[int, int]:
    """The kernel's two int64 columns of an address (IPv4 mapped into IPv6)."""
    value = int(ipaddress.IPv6Address(f"::ffff:{text}"))
    return value >> 64, value & ((1 << 64) - 1)


@dataclass(frozen=True)
class Row:
    """One hand-made row: a UDP datagram to port 7000 (a negative ``fid``: a frame)."""

    payload: bytes
    fid: int = 0
    edge: int = 0
    vlan: int = 0
    src: str = "10.0.0.1"


def batch(rows: list[Row]) -> PayloadBatch:
    table = np.zeros((len(rows), k.N_EMIT), dtype=np.int64)
    data = b""
    for i, r in enumerate(rows):
        values = {
            k.E_FLOW_ID: r.fid,
            k.E_OFFSET: len(data),
            k.E_LENGTH: len(r.payload),
            k.E_TS: 1_767_600_000_000_000_000 + i,
            k.E_PROTO: 17 if r.fid >= 0 else 0,
            k.E_SPORT: 40000 if r.fid >= 0 else 0,
            k.E_DPORT: 7000 if r.fid >= 0 else 0,
            k.E_VLAN: r.vlan,
            k.E_SRC_MAC: 0x020000000001,
            k.E_DST_MAC: 0x020000000002,
            k.E_ETHERTYPE: 0x0800 if r.fid >= 0 else 0x88CC,
            k.E_EDGE: r.edge,
            k.E_KIND: k.KIND_PAYLOAD,
        }
        values[k.E_SRC_HI], values[k.E_SRC_LO] = _ip(r.src)
        values[k.E_DST_HI], values[k.E_DST_LO] = _ip("10.0.0.2")
        for column, value in values.items():
            table[i, column] = value
        data += r.payload
    return PayloadBatch(table, data)


def kept(pipeline: DissectPipeline) -> list[tuple[str | None, int, object]]:
    return [
        (o.ctx.src_ip, o.ctx.flow_id, o.data if isinstance(o, Said) else "list")
        for o in pipeline.observations
    ]


def test_repeats_on_an_edge_by_one_sender_are_counted_not_kept() -> None:
    pipeline = DissectPipeline([Echo()])
    pipeline.payloads(
        batch(
            [
                Row(fid=1, payload=b"same", edge=5),
                Row(fid=2, payload=b"same", edge=5),  # another flow of the edge
                Row(fid=2, payload=b"same", edge=5, vlan=7),  # another VLAN
                Row(fid=3, payload=b"same", edge=6),  # another edge
                Row(fid=4, payload=b"same", edge=5, src="10.0.0.9"),  # other sender
            ]
        )
    )
    assert kept(pipeline) == [
        ("10.0.0.1", 1, b"same"),
        ("10.0.0.1", 2, b"same"),
        ("10.0.0.1", 3, b"same"),
        ("10.0.0.9", 4, b"same"),
    ]
    assert pipeline.stats.repeated == 1
    assert pipeline.apps == {1: "echo", 2: "echo", 3: "echo", 4: "echo"}


def test_flows_of_no_edge_are_compared_within_the_flow_only() -> None:
    pipeline = DissectPipeline([Echo()])
    pipeline.payloads(
        batch(
            [
                Row(fid=1, payload=b"same", edge=-1),
                Row(fid=1, payload=b"same", edge=-1),
                Row(fid=2, payload=b"same", edge=-1),
            ]
        )
    )
    assert kept(pipeline) == [("10.0.0.1", 1, b"same"), ("10.0.0.1", 2, b"same")]
    assert pipeline.stats.repeated == 1


def test_link_layer_frames_are_compared_by_their_addresses() -> None:
    pipeline = DissectPipeline([Echo()])
    pipeline.payloads(batch([Row(fid=-1, payload=b"lldp"), Row(fid=-1, payload=b"lldp")]))
    assert kept(pipeline) == [(None, -1, b"lldp")]
    assert pipeline.stats.repeated == 1 and not pipeline.apps


def test_observations_that_cannot_be_hashed_are_all_kept() -> None:
    pipeline = DissectPipeline([Echo()])
    pipeline.payloads(batch([Row(fid=1, payload=b"L1", edge=5), Row(fid=1, payload=b"L1", edge=5)]))
    assert kept(pipeline) == [("10.0.0.1", 1, "list"), ("10.0.0.1", 1, "list")]
    stats = pipeline.stats
    assert (stats.repeated, stats.failures, stats.observations) == (0, 0, 2)
