"""Payloads handed from the capture engine to the dissect stage, and what it asks back.

The kernel records, for flows the dissect stage still wants, where each payload sits in the
current buffer (``kernel.E_*`` columns). Before the buffer is reused, the reader copies
those payloads into a ``PayloadBatch`` and gives it to the ``PayloadSink``. The sink says,
through ``inspect`` (one flag per flow id), which flows it no longer needs, so bulk
transfers stop costing anything after their first packets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from medsec.capture import kernel as k


@dataclass(frozen=True, slots=True)
class PayloadBatch:
    """Payloads of one kernel call: ``rows`` (``kernel.E_*`` columns) whose ``E_OFFSET`` and
    ``E_LENGTH`` index ``data``, the payloads laid end to end."""

    rows: np.ndarray
    data: bytes

    def __len__(self) -> int:
        return int(self.rows.shape[0])


class PayloadSink(Protocol):
    """Receives payloads; owns the per-flow inspect flags the kernel reads."""

    inspect: np.ndarray
    """uint8 per flow id: ``kernel.INSPECT_ON`` or ``INSPECT_OFF``."""
    inspect_new: int
    """The flag of flows whose id is past the end of ``inspect`` (new flows)."""
    l2_types: np.ndarray
    """int64 EtherTypes of link-layer frames wanted (0 = 802.3 LLC frames)."""
    claimed_ports: np.ndarray
    """uint8 [2, 65536]: ports (row 0 TCP, row 1 UDP) whose flows are wanted in full."""
    edge_samples: int
    """Flows of each edge (two hosts, service port, protocol) whose payloads are wanted, in
    order of their first payload; the kernel hands nothing of the others over (0: all)."""

    def payloads(self, batch: PayloadBatch) -> None: ...

    def edges(self, flow_ids: np.ndarray, edge_ids: np.ndarray) -> None:
        """The edge (``E_EDGE`` of rows) of every flow that carried payload, inspected or
        not; called once the capture source has ended, before ``finish``."""
        ...

    def finish(self) -> object:
        """The capture source has ended: settle what is pending (called before ``app_of``)."""
        ...

    def app_of(self, flow_id: int) -> str | None:
        """The application recognised in the flow's payloads, if any."""
        ...


class NoSink:
    """Wants nothing: every flow is off from the start (pure flow metering)."""

    def __init__(self) -> None:
        self.inspect = np.zeros(0, dtype=np.uint8)
        self.inspect_new = k.INSPECT_OFF
        self.l2_types = np.zeros(0, dtype=np.int64)
        self.claimed_ports = np.zeros((2, 65536), dtype=np.uint8)
        self.edge_samples = 0

    def payloads(self, batch: PayloadBatch) -> None:  # pragma: no cover - never called
        raise AssertionError("no payloads were asked for")

    def edges(self, flow_ids: np.ndarray, edge_ids: np.ndarray) -> None:
        return None

    def finish(self) -> None:
        return None

    def app_of(self, flow_id: int) -> str | None:
        return None


def copy_out(buf: np.ndarray, emit: np.ndarray, n: int) -> PayloadBatch:
    """The first ``n`` emitted payloads, copied out of ``buf`` (which is about to be reused)."""
    rows = emit[:n].copy()
    offsets = rows[:, k.E_OFFSET]
    lengths = rows[:, k.E_LENGTH]
    spans = zip(offsets.tolist(), lengths.tolist(), strict=True)
    data = b"".join([buf[o : o + length].tobytes() for o, length in spans])
    starts = np.zeros(n, dtype=np.int64)
    if n > 1:
        np.cumsum(lengths[:-1], out=starts[1:])
    rows[:, k.E_OFFSET] = starts
    return PayloadBatch(rows, data)
