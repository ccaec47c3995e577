"""The dissect stage's engine: routes handed-off payloads to dissectors, collects facts.

``DissectPipeline`` is the capture engine's ``PayloadSink``. Per flow it picks one dissector
(by port, else by the signature of the first payload of either direction) and tells the
kernel how much it wants: each TCP direction's head up to the dissector's ``stream_bytes``
(the kernel reassembles it in sequence order and hands it over whole), each UDP payload up to
``datagrams`` per direction; a flow's inspection is turned off in the kernel as soon as
nothing more is wanted. Only the first ``EDGE_SAMPLES`` flows of each edge (two hosts and a
service port) are inspected - the kernel counts them and hands nothing of the others over -
and the others inherit the application found on their edge. An edge a dissector wants more
flows of (``edge_flows``: UDP managers asking from a new port each time) is sampled further
only while its flows tell something new: the first flow past ``EDGE_SAMPLES`` whose payload
restates known facts only (every observation a repeat, see below) closes the edge in the
kernel.
Memory is bounded: when the
stream heads waiting for more bytes exceed ``buffer_limit``, the kernel hands the largest
over early.

A device states the same fact again and again (the same NTP header every poll, the same
HL7 sending application in every message): an observation equal to one already kept for the
same edge and sender - every field but where and when it was seen - is counted in
``DissectStats.repeated`` and not kept again. The first one stays as the evidence; flows,
hosts and bindings keep the times. Observations differing in any field (a new firmware
version, another SOP class) are all kept.

A ``DissectError`` becomes a ``MalformedPayload`` observation and a count; any other
exception from a dissector is a bug, logged with its traceback and counted, and the capture
goes on.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from operator import attrgetter
from traceback import format_exc

import numpy as np

from medsec.capture import kernel as k
from medsec.capture.handoff import PayloadBatch
from medsec.capture.kernel import (
    E_DIRECTION,
    E_DPORT,
    E_DST_HI,
    E_DST_LO,
    E_DST_MAC,
    E_EDGE,
    E_ETHERTYPE,
    E_FLOW_ID,
    E_KIND,
    E_LENGTH,
    E_OFFSET,
    E_PROTO,
    E_SPORT,
    E_SRC_HI,
    E_SRC_LO,
    E_SRC_MAC,
    E_TS,
    E_VLAN,
    KIND_HEAD,
    KIND_PROBE,
)
from medsec.dissect.interface import EDGE_SAMPLES, Dissector, edge_flows_of, ip_protocols_of
from medsec.model.errors import DissectError
from medsec.model.observations import (
    MalformedPayload,
    Observation,
    PacketContext,
    Transport,
    packet_context,
)
from medsec.model.traffic import is_host_address

logger = logging.getLogger(__name__)

BUFFER_LIMIT = 64 << 20
UNDECIDED_BYTES = k.UNDECIDED_TCP_BYTES
"""Bytes kept of a direction while no dissector has claimed its flow yet."""
_TRANSPORTS: dict[int, Transport] = {6: "tcp", 17: "udp", 136: "udp"}


BOTH = 0b11
"""``_Flow.done`` / ``_Flow.tried`` with both directions' bits (direction d is bit 1 << d)."""


@dataclass(slots=True)
class _Flow:
    """A flow being inspected: one object (its directions are bits and counters of it, not
    objects of their own - thousands of flows wait for their other direction)."""

    dissector: Dissector | None
    done: int = 0
    """Bit per direction: nothing more is wanted of it."""
    tried: int = 0
    """Bit per direction: a signature was tried on its first payload."""
    datagrams_ab: int = 0
    datagrams_ba: int = 0
    """Datagrams dissected of each direction."""
    ordinal: int = 0
    """Which flow of its edge this is (1 = the first seen), 0 when it has no edge."""


@dataclass(frozen=True, slots=True)
class DissectStats:
    payloads: int
    dissected: int
    observations: int
    malformed: int
    failures: int
    """Dissector bugs (exceptions other than DissectError), contained."""
    repeated: int = 0
    """Observations not kept: equal to one kept before for the same edge and sender."""


class DissectPipeline:
    """Receives payloads from the capture engine and keeps the observations they yield."""

    def __init__(self, dissectors: Sequence[Dissector], *, buffer_limit: int = BUFFER_LIMIT):
        self.dissectors = tuple(dissectors)
        self.inspect = np.zeros(1 << 12, dtype=np.uint8)
        self.inspect_new = k.INSPECT_ON
        self._by_port: dict[str, dict[int, Dissector]] = {"tcp": {}, "udp": {}}
        """Transport -> port -> its dissector: looked up by port alone, no key tuple per payload."""
        self._by_signature: dict[str, list[Dissector]] = {"tcp": [], "udp": []}
        self._by_ethertype: dict[int, list[Dissector]] = {}
        self._by_protocol: dict[int, Dissector] = {}
        for d in self.dissectors:
            for number in ip_protocols_of(d):
                self._by_protocol.setdefault(number, d)
            for transport in d.transports:
                if transport in ("tcp", "udp"):
                    for port in d.ports:
                        self._by_port[transport].setdefault(port, d)
                    self._by_signature[transport].append(d)
                elif transport == "l2":
                    for et in d.ethertypes:
                        self._by_ethertype.setdefault(et, []).append(d)
                    if d.llc:
                        self._by_ethertype.setdefault(0, []).append(d)
        self.l2_types = np.array(sorted(self._by_ethertype), dtype=np.int64)
        self.claimed_ports = np.zeros((3, 65536), dtype=np.uint8)
        for port in self._by_port["tcp"]:
            self.claimed_ports[0, port] = 1
        for port, owner in self._by_port["udp"].items():  # how many flows of each edge, too
            self.claimed_ports[1, port] = edge_flows_of(owner, port)
        for number in self._by_protocol:
            self.claimed_ports[2, number] = 1  # row 2: IP protocols, by number
        self.head_bytes = np.zeros(self.inspect.shape[0], dtype=np.int64)
        self.buffer_limit = buffer_limit
        self._flows: dict[int, _Flow] = {}
        self._ips: dict[int | tuple[int, int], str] = {}
        """Address text by ``_ip_key``."""
        self._macs = _MacNames()
        self.observations: list[Observation] = []
        self.apps: dict[int, str] = {}
        """Flow id -> name of the dissector that stated facts about it."""
        self.edge_samples = EDGE_SAMPLES
        self._edge_of: dict[int, int] = {}
        """Flow id -> its edge id: flows handed over so far, then (``edges``) every flow."""
        self._edge_apps: dict[int, str] = {}
        self._edge_flows: dict[int, int] = {}
        """Edge id -> flows of it seen so far."""
        self.closed_edges = np.zeros(1 << 10, dtype=np.uint8)
        self._payloads = 0
        self._dissected = 0
        self._malformed = 0
        self._failures = 0
        self._kept: set[object] = set()
        """Keys of the observations kept so far (``_keep``): edge, addresses, VLAN, class and
        own fields."""
        self._repeated = 0

    # ------------------------------------------------------------------ PayloadSink

    def payloads(self, batch: PayloadBatch) -> None:
        rows = batch.rows.tolist()
        data = batch.data
        self._payloads += len(rows)
        # bound once per batch, not looked up again for each of its rows
        head, probe, datagram = self._head, self._flow, self._datagram
        for row in rows:
            start = row[E_OFFSET]
            payload = data[start : start + row[E_LENGTH]]
            fid = row[E_FLOW_ID]
            kind = row[E_KIND]
            if fid < 0:
                self._frame(payload, row)
            elif kind == KIND_HEAD:
                head(fid, payload, row)
            elif kind == KIND_PROBE:
                probe(fid, "tcp", payload, row)
            else:
                datagram(fid, payload, row)

    def edges(self, flow_ids: np.ndarray, edge_ids: np.ndarray) -> None:
        self._edge_of.update(zip(flow_ids.tolist(), edge_ids.tolist(), strict=True))

    def apps_of(self, flow_ids: list[int]) -> list[str | None]:
        """Each flow's dissector's name, else the one found on its edge's inspected flows."""
        apps, edge_of, edge_apps = self.apps, self._edge_of, self._edge_apps
        return [apps.get(f) or edge_apps.get(edge_of.get(f, -1)) for f in flow_ids]

    def finish(self) -> DissectStats:
        """The capture has ended (the kernel handed every pending head over already)."""
        self._flows.clear()
        return self.stats

    @property
    def stats(self) -> DissectStats:
        return DissectStats(
            payloads=self._payloads,
            dissected=self._dissected,
            observations=len(self.observations),
            malformed=self._malformed,
            failures=self._failures,
            repeated=self._repeated,
        )

    # ------------------------------------------------------------------ routing

    def _off(self, fid: int) -> None:
        self._flag(fid, k.INSPECT_OFF)

    def _flag(self, fid: int, flag: int) -> None:
        if fid >= self.inspect.shape[0]:
            size = max(fid + 1, self.inspect.shape[0] * 2)
            grown = np.zeros(size, dtype=np.uint8)
            grown[: self.inspect.shape[0]] = self.inspect
            self.inspect = grown
            limits = np.zeros(size, dtype=np.int64)
            limits[: self.head_bytes.shape[0]] = self.head_bytes
            self.head_bytes = limits
        self.inspect[fid] = flag

    def _claim(self, fid: int, dissector: Dissector) -> None:
        """The flow is the dissector's: the kernel collects as much of each head as it wants."""
        self._flag(fid, k.INSPECT_CLAIMED)
        self.head_bytes[fid] = dissector.stream_bytes

    def _choose(self, transport: str, payload: bytes, row: list[int]) -> Dissector | None:
        """The port's dissector, unless its signature rejects the payload and another's
        accepts it (SSH on port 80); else the first signature that accepts the payload. An IP
        protocol other than TCP and UDP goes to the dissector that asked for its number."""
        if transport == "other":
            return self._by_protocol.get(row[E_PROTO])
        owners = self._by_port[transport]
        d = owners.get(row[E_DPORT]) or owners.get(row[E_SPORT])
        accepts = self._accepts
        if d is not None and accepts(d, payload):
            return d
        for candidate in self._by_signature[transport]:
            if candidate is not d and accepts(candidate, payload):
                return candidate
        return d

    def _accepts(self, dissector: Dissector, payload: bytes) -> bool:
        try:
            return dissector.signature(payload)
        except Exception:
            self._failures += 1
            logger.error("signature of %s failed:\n%s", dissector.name, format_exc())
            return False

    def _flow(self, fid: int, transport: str, payload: bytes, row: list[int]) -> _Flow | None:
        """The flow's state, choosing its dissector on a first payload; None: not wanted."""
        flow = self._flows.get(fid)
        direction = row[E_DIRECTION]
        if flow is None:
            if fid in self._edge_of:
                return None  # a flow already finished with
            edge = self._edge_of[fid] = row[E_EDGE]
            flow = _Flow(self._choose(transport, payload, row), tried=1 << direction)
            if edge >= 0:
                flow.ordinal = self._edge_flows[edge] = self._edge_flows.get(edge, 0) + 1
            self._flows[fid] = flow
            if flow.dissector is not None:
                self._claim(fid, flow.dissector)
        elif flow.dissector is None and not flow.tried & (1 << direction):
            flow.dissector = self._choose(transport, payload, row)
            flow.tried |= 1 << direction
            if flow.dissector is not None:
                self._claim(fid, flow.dissector)
        if flow.dissector is None and flow.tried == BOTH:
            del self._flows[fid]
            self._off(fid)
            return None
        return flow

    # ------------------------------------------------------------------ per transport

    def _head(self, fid: int, payload: bytes, row: list[int]) -> None:
        """A TCP direction's head, reassembled by the kernel: dissected whole, once."""
        flow = self._flows.get(fid)
        if flow is None:
            return  # dropped: no dissector for it
        bit = 1 << row[E_DIRECTION]
        if flow.done & bit:
            return
        flow.done |= bit
        dissector = flow.dissector
        if dissector is not None and payload:  # else undecided at the end, or evicted
            self._run(dissector, payload[: dissector.stream_bytes], self._context(row, "tcp"), fid)
        self._maybe_done(fid, flow)

    def _datagram(self, fid: int, payload: bytes, row: list[int]) -> None:
        transport = _TRANSPORTS.get(row[E_PROTO], "other")
        flow = self._flows.get(fid)
        if flow is None or flow.dissector is None:
            # a first payload: choose (a flow with a dissector `_flow` returns as it is)
            flow = self._flow(fid, transport, payload, row)
            if flow is None or flow.dissector is None:
                return
        direction = row[E_DIRECTION]
        if flow.done & (1 << direction):
            return
        if direction:
            flow.datagrams_ba += 1
            count = flow.datagrams_ba
        else:
            flow.datagrams_ab += 1
            count = flow.datagrams_ab
        self._run(flow.dissector, payload, self._context(row, transport), fid)
        if count >= flow.dissector.datagrams:
            flow.done |= 1 << direction
            self._maybe_done(fid, flow)

    def _frame(self, payload: bytes, row: list[int]) -> None:
        for dissector in self._by_ethertype.get(row[E_ETHERTYPE], ()):
            self._run(dissector, payload, self._context(row, "l2"), -1)

    # ------------------------------------------------------------------ dissecting

    def _maybe_done(self, fid: int, flow: _Flow) -> None:
        if flow.done == BOTH:
            self._flows.pop(fid, None)
            self._off(fid)

    def _run(self, dissector: Dissector, payload: bytes, ctx: PacketContext, fid: int) -> None:
        """Dissect ``payload`` of flow ``fid`` (-1: a link-layer frame), keep what it states."""
        self._dissected += 1
        try:
            found = list(dissector.dissect(payload, ctx))
        except DissectError as exc:
            self._malformed += 1
            self.observations.append(
                MalformedPayload(ctx=ctx, dissector=dissector.name, reason=str(exc)[:200])
            )
            return
        except Exception:
            self._failures += 1
            # the text only: a kept exception would pin the capture buffer through its frames
            logger.error("dissector %s failed on flow %d:\n%s", dissector.name, fid, format_exc())
            return
        if not found:
            return
        if fid < 0:
            self._keep(found, None)
            return
        edge = self._edge_of.get(fid)
        # not sampled by edge: equal within the flow only
        if not self._keep(found, -2 - fid if edge is None or edge < 0 else edge):
            self._heard_enough(fid, edge, ctx)
        self.apps.setdefault(fid, dissector.name)
        if edge is not None:
            self._edge_apps.setdefault(edge, dissector.name)

    def _heard_enough(self, fid: int, edge: int | None, ctx: PacketContext) -> None:
        """A payload of flow ``fid`` (on ``edge``) restated known facts only (a payload
        stating none - cut, or of no interest - proves nothing): past the edge's first
        ``edge_samples`` flows, no later flow of the edge is handed over - unless an end of
        it is shared by many devices (DHCP clients all send from 0.0.0.0, a server answers
        them at the broadcast address): there the next flow may be another device's."""
        flow = self._flows.get(fid)
        if flow is None or not self.edge_samples or flow.ordinal <= self.edge_samples:
            return
        src, dst = ctx.src_ip, ctx.dst_ip
        if src is None or dst is None or not (is_host_address(src) and is_host_address(dst)):
            return
        if edge is None or edge < 0:
            return
        if edge >= self.closed_edges.shape[0]:
            grown = np.zeros(max(edge + 1, self.closed_edges.shape[0] * 2), dtype=np.uint8)
            grown[: self.closed_edges.shape[0]] = self.closed_edges
            self.closed_edges = grown
        self.closed_edges[edge] = 1

    def _keep(self, found: list[Observation], edge: int | None) -> int:
        """Keep the observations not stated before on ``edge`` (None: link-layer frames) by
        the same sender; returns how many."""
        kept = self._kept
        observations = self.observations
        before = len(observations)
        getters = _OWN_FIELDS
        for obs in found:
            c = obs.ctx
            cls = type(obs)
            try:
                getter = getters.get(cls) or _own_fields(cls)
                key = (edge, c.src_ip, c.dst_ip, c.src_mac, c.dst_mac, c.vlan, cls, getter(obs))
                size = len(kept)
                kept.add(key)  # hashed once (a tuple's hash is not cached), not for `in` too
                if len(kept) == size:
                    self._repeated += 1
                    continue
            except TypeError:  # a field that cannot be hashed: kept, never compared
                pass
            observations.append(obs)
        return len(observations) - before

    # ------------------------------------------------------------------ context

    def _context(self, row: list[int], transport: Transport) -> PacketContext:
        src_ip = dst_ip = None
        if transport != "l2":
            ips = self._ips
            hi, lo = row[E_SRC_HI], row[E_SRC_LO]
            src_ip = ips.get(lo if hi == 0 else (hi, lo)) or self._ip(hi, lo)  # `_ip_key`
            hi, lo = row[E_DST_HI], row[E_DST_LO]
            dst_ip = ips.get(lo if hi == 0 else (hi, lo)) or self._ip(hi, lo)
        macs = self._macs
        return packet_context(
            row[E_TS],
            transport,
            src_ip,
            dst_ip,
            row[E_SPORT],
            row[E_DPORT],
            macs[row[E_SRC_MAC]],
            macs[row[E_DST_MAC]],
            row[E_VLAN],
            row[E_ETHERTYPE],
            row[E_FLOW_ID],
            None,
        )

    def _ip(self, hi: int, lo: int) -> str:
        key = _ip_key(hi, lo)
        text = self._ips.get(key)
        if text is None:
            h, low = hi % (1 << 64), lo % (1 << 64)  # the kernel stored uint64 bits as int64
            if h == 0 and (low >> 32) == 0xFFFF:
                text = socket.inet_ntoa((low & 0xFFFFFFFF).to_bytes(4, "big"))
            else:
                text = socket.inet_ntop(
                    socket.AF_INET6, h.to_bytes(8, "big") + low.to_bytes(8, "big")
                )
            self._ips[key] = text
        return text


def _ip_key(hi: int, lo: int) -> int | tuple[int, int]:
    """The ``_ips`` key of an address: its low half alone when the high one is 0 (IPv4,
    mapped), saving a tuple per lookup - an int never equals a tuple, so keys stay distinct."""
    return lo if hi == 0 else (hi, lo)


class _MacNames(dict[int, str | None]):
    """MAC address text (None for 0: no address) by its 48 bits, made at the first lookup -
    one subscript per lookup, where a ``None`` value rules out ``get``."""

    def __missing__(self, value: int) -> str | None:
        text = self[value] = (
            None if value == 0 else ":".join(f"{b:02x}" for b in value.to_bytes(6, "big"))
        )
        return text


_OWN_FIELDS: dict[type[Observation], attrgetter[object]] = {}
"""Class -> getter of what an observation of it states: every field but ``ctx`` (where and
when it was seen) and its ``NONCES`` (ids every message draws anew)."""


def _own_fields(cls: type[Observation]) -> attrgetter[object]:
    getter = _OWN_FIELDS.get(cls)
    if getter is None:
        names = [f.name for f in fields(cls) if f.name != "ctx" and f.name not in cls.NONCES]
        getter = _OWN_FIELDS[cls] = attrgetter(*names) if names else attrgetter("PROTOCOL")
    return getter


def observations_of(kind: type[Observation], found: Iterable[Observation]) -> list[Observation]:
    """The observations of one kind, in the order seen."""
    return [o for o in found if isinstance(o, kind)]
