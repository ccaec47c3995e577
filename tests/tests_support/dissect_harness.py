"""Helpers for dissector tests: contexts, payloads pulled out of real captures, hostility.

``payloads(path, ...)`` uses dpkt (an independent decoder) to give, per TCP direction, the
first bytes of the stream reassembled in sequence order, and per UDP datagram its payload,
exactly as the capture engine will hand them to a dissector.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dpkt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport


def ctx(
    *,
    transport: Transport = "tcp",
    src_ip: str | None = "10.10.0.11",
    dst_ip: str | None = "10.50.0.5",
    src_port: int = 40000,
    dst_port: int = 80,
    src_mac: str | None = "00:09:fb:00:00:11",
    dst_mac: str | None = "00:00:0c:07:ac:0a",
    vlan: int = 10,
    ethertype: int = 0x0800,
    ts_ns: int = 1_767_600_000_000_000_000,
    flow_id: int = 1,
    from_client: bool | None = True,
) -> PacketContext:
    return PacketContext(
        ts_ns=ts_ns,
        transport=transport,
        src_ip=src_ip,
        dst_ip=dst_ip,
        src_port=src_port,
        dst_port=dst_port,
        src_mac=src_mac,
        dst_mac=dst_mac,
        vlan=vlan,
        ethertype=ethertype,
        flow_id=flow_id,
        from_client=from_client,
    )


@dataclass(frozen=True)
class Payload:
    """One stream direction's first bytes, one datagram, or one L2 frame's payload."""

    data: bytes
    ctx: PacketContext


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def payloads(
    path: Path, *, stream_bytes: int = 16384, ports: set[int] | None = None
) -> Iterator[Payload]:
    """TCP stream heads (one per direction, in order of first appearance), then each UDP
    payload, from a classic-pcap Ethernet capture; only flows touching ``ports`` if given."""
    streams: dict[tuple[str, int, str, int], bytearray] = {}
    next_seq: dict[tuple[str, int, str, int], int] = {}
    first: dict[tuple[str, int, str, int], PacketContext] = {}
    datagrams: list[Payload] = []
    with open(path, "rb") as f:
        for ts, buf in dpkt.pcap.Reader(f):
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6):
                continue
            l4 = ip.data
            if not isinstance(l4, dpkt.tcp.TCP | dpkt.udp.UDP):
                continue
            if ports and l4.sport not in ports and l4.dport not in ports:
                continue
            src = str(ipaddress.ip_address(ip.src))
            dst = str(ipaddress.ip_address(ip.dst))
            c = PacketContext(
                ts_ns=int(ts * 1e9),
                transport="tcp" if isinstance(l4, dpkt.tcp.TCP) else "udp",
                src_ip=src,
                dst_ip=dst,
                src_port=l4.sport,
                dst_port=l4.dport,
                src_mac=_mac(eth.src),
                dst_mac=_mac(eth.dst),
                vlan=0,
                ethertype=eth.type,
                flow_id=-1,
                from_client=None,
            )
            if isinstance(l4, dpkt.udp.UDP):
                datagrams.append(Payload(bytes(l4.data), c))
                continue
            key = (src, l4.sport, dst, l4.dport)
            if l4.flags & dpkt.tcp.TH_SYN:
                next_seq[key] = (l4.seq + 1) & 0xFFFFFFFF
                continue
            data = bytes(l4.data)
            if not data:
                continue
            expected = next_seq.get(key, l4.seq)
            if l4.seq != expected:
                continue  # retransmission or gap: keep the in-order head only
            next_seq[key] = (l4.seq + len(data)) & 0xFFFFFFFF
            stream = streams.setdefault(key, bytearray())
            first.setdefault(key, c)
            if len(stream) < stream_bytes:
                stream += data[: stream_bytes - len(stream)]
    for key, stream in streams.items():
        yield Payload(bytes(stream), first[key])
    yield from datagrams


def dissect_safely(dissector: object, data: bytes, context: PacketContext) -> list[Observation]:
    """Run a dissector the way the pipeline does: observations, or DissectError only."""
    try:
        return list(dissector.dissect(data, context))  # type: ignore[attr-defined]
    except DissectError:
        return []


EXAMPLES = int(os.environ.get("MEDSEC_PROPERTY_EXAMPLES", "150"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Hypothesis settings of the dissector properties (``MEDSEC_PROPERTY_EXAMPLES`` scales)."""


def run_hostile(
    dissector: Any, data: bytes, contexts: Iterable[PacketContext] | None = None
) -> list[Observation]:
    """What the pipeline may see of hostile bytes: ``signature`` answers a bool, ``dissect``
    yields observations or raises ``DissectError`` (counted, contained) - nothing else."""
    assert isinstance(dissector.signature(data), bool)
    found: list[Observation] = []
    for context in contexts if contexts is not None else (ctx(),):
        try:
            found.extend(dissector.dissect(data, context))
        except DissectError:
            continue
    assert all(isinstance(o, Observation) for o in found)
    return found


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, special: tuple[int, ...]) -> bytes:
    """``seed`` with 1-8 edits: bit flips, bytes set to ``special`` values (a protocol's
    framing bytes), cuts, insertions and deletions."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[at] = draw(st.sampled_from(special))
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 16))]
    return bytes(data)


HostileTest = Callable[..., None]


def hostile_properties(
    dissectors: Sequence[Any],
    seeds: Sequence[bytes],
    framing: tuple[int, ...],
    run: Callable[[Any, bytes], list[Observation]],
) -> tuple[HostileTest, HostileTest, HostileTest, HostileTest]:
    """The four properties every family of dissectors holds, bound to its ``dissectors``,
    valid ``seeds`` (messages each recognised by some dissector), ``framing`` bytes favoured
    by mutations, and the family's ``run`` (``run_hostile`` with its contexts). A property
    module exposes them under its own names::

        (test_arbitrary_bytes, test_mutated_valid_messages,
         test_valid_heads_with_arbitrary_tails, test_every_seed_is_recognised_by_some_dissector,
        ) = hostile_properties(DISSECTORS, SEEDS, FRAMING_BYTES, run)
    """

    @PROPERTY
    @given(st.binary(max_size=4096))
    def arbitrary_bytes(data: bytes) -> None:
        for dissector in dissectors:
            run(dissector, data)

    @PROPERTY
    @given(st.sampled_from(list(dissectors)), st.sampled_from(list(seeds)), st.data())
    def mutated_valid_messages(dissector: Any, seed: bytes, data: st.DataObject) -> None:
        run(dissector, data.draw(mutated(seed, framing)))

    @PROPERTY
    @given(st.sampled_from(list(seeds)), st.binary(max_size=512))
    def valid_heads_with_arbitrary_tails(seed: bytes, tail: bytes) -> None:
        for dissector in dissectors:
            run(dissector, seed + tail)

    def every_seed_is_recognised_by_some_dissector() -> None:
        """The seeds are valid messages (so mutations start from something meaningful)."""
        for seed in seeds:
            assert any(run(d, seed) for d in dissectors), seed[:40]

    return (
        arbitrary_bytes,
        mutated_valid_messages,
        valid_heads_with_arbitrary_tails,
        every_seed_is_recognised_by_some_dissector,
    )
