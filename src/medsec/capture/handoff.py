"""Payloads handed from the capture engine to the dissect stage, and what it asks back.

The kernel copies what the dissect stage wants - UDP datagrams, link-layer frames, and for
TCP a probe (a direction's first payload) and then the direction's reassembled head - into
its ``out`` buffer, one ``emit`` row (``kernel.E_*`` columns) each. Between kernel calls the
reader takes them as a ``PayloadBatch`` and gives it to the ``PayloadSink``. The sink
answers through arrays the kernel reads: ``inspect`` (one flag per flow id) turns flows off
or marks them claimed, ``head_bytes`` says how much of each TCP direction a claimed flow's
dissector wants - so bulk transfers cost nothing after their first bytes, and Python sees
about one row per TCP direction instead of one per segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from medsec.capture import kernel as k
from medsec.capture.tables import Tables


@dataclass(frozen=True, slots=True)
class PayloadBatch:
    """Payloads of one kernel call: ``rows`` (``kernel.E_*`` columns) whose ``E_OFFSET`` and
    ``E_LENGTH`` index ``data``, the payloads laid end to end."""

    rows: np.ndarray
    data: bytes

    def __len__(self) -> int:
        return int(self.rows.shape[0])


class PayloadSink(Protocol):
    """Receives payloads; owns the per-flow arrays the kernel reads."""

    inspect: np.ndarray
    """uint8 per flow id: ``kernel.INSPECT_ON``, ``INSPECT_OFF`` or ``INSPECT_CLAIMED``."""
    inspect_new: int
    """The flag of flows whose id is past the end of ``inspect`` (new flows)."""
    head_bytes: np.ndarray
    """int64 per flow id: bytes of each TCP direction's head a claimed flow wants."""
    l2_types: np.ndarray
    """int64 EtherTypes of link-layer frames wanted (0 = 802.3 LLC frames)."""
    claimed_ports: np.ndarray
    """uint8 [2, 65536]: ports (row 0 TCP, row 1 UDP) whose flows are wanted in full, not 0;
    a UDP port's value is also the number of flows of each of its edges wanted, instead of
    ``edge_samples`` (at most ``kernel.CLAIMED_UDP_EDGE_SAMPLES``); an
    optional row 2, indexed by IP protocol number (0-255), names the protocols other than
    TCP and UDP (VRRP 112, IGMP 2) whose datagrams are handed over like UDP ones."""
    edge_samples: int
    """Flows of each edge (two hosts, service port, protocol) whose payloads are wanted, in
    order of their first payload; the kernel hands nothing of the others over (0: all)."""
    closed_edges: np.ndarray
    """uint8 per edge id (the ``E_EDGE`` of rows): set, the edge takes no more samples - the
    sink has heard enough of it. Ids past the array's end are open."""
    buffer_limit: int
    """Bytes the TCP heads being collected may hold; beyond, the largest are handed over
    early (0: no limit)."""

    def payloads(self, batch: PayloadBatch) -> None:
        """Take one batch. The answer may change the ``inspect`` flag and ``head_bytes`` of
        flows that have a row in the batch, not of others: the kernel then looks for heads to
        settle among the batch's flows only. Replacing the arrays (to grow them) or changing
        ``inspect_new`` is fine: the kernel then looks at every head."""
        ...

    def edges(self, flow_ids: np.ndarray, edge_ids: np.ndarray) -> None:
        """The edge (``E_EDGE`` of rows) of every flow that carried payload, inspected or
        not; called once the capture source has ended, before ``finish``."""
        ...

    def finish(self) -> object:
        """The capture source has ended: settle what is pending (called before ``apps_of``)."""
        ...

    def apps_of(self, flow_ids: list[int]) -> list[str | None]:
        """The application recognised in each flow's payloads (None: none), in order."""
        ...


class NoSink:
    """Wants nothing: every flow is off from the start (pure flow metering)."""

    def __init__(self) -> None:
        self.inspect = np.zeros(0, dtype=np.uint8)
        self.inspect_new = k.INSPECT_OFF
        self.head_bytes = np.zeros(0, dtype=np.int64)
        self.l2_types = np.zeros(0, dtype=np.int64)
        self.claimed_ports = np.zeros((2, 65536), dtype=np.uint8)
        self.edge_samples = 0
        self.closed_edges = np.zeros(0, dtype=np.uint8)
        self.buffer_limit = 0

    def payloads(self, batch: PayloadBatch) -> None:  # pragma: no cover - never called
        raise AssertionError("no payloads were asked for")

    def edges(self, flow_ids: np.ndarray, edge_ids: np.ndarray) -> None:
        return None

    def finish(self) -> None:
        return None

    def apps_of(self, flow_ids: list[int]) -> list[str | None]:
        return [None] * len(flow_ids)


def take_batch(tables: Tables) -> PayloadBatch:
    """What the kernel emitted so far, copied out; ``emit`` and ``out`` start over empty."""
    counts = tables.counts
    rows = tables.emit[: counts[k.C_EMITTED], : k.N_EMIT].copy()
    data = tables.out[: counts[k.C_OUT]].tobytes()
    counts[k.C_EMITTED] = 0
    counts[k.C_OUT] = 0
    counts[k.C_BATCH] += 1
    return PayloadBatch(rows, data)
