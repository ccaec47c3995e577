"""The flow and binding tables of one capture source, and their growth."""

from __future__ import annotations

import numpy as np

from medsec.capture import kernel as k

INITIAL_FLOWS = 1 << 12
INITIAL_BINDINGS = 1 << 10
INITIAL_EDGES = 1 << 10
EMIT_ROWS = 4096


class Tables:
    """Open-addressing hash tables the kernel fills; grown by doubling."""

    def __init__(self, flows: int = INITIAL_FLOWS, bindings: int = INITIAL_BINDINGS) -> None:
        self.fkeys = np.zeros((flows, k.N_FLOW_KEYS), dtype=np.uint64)
        self.fvals = np.zeros((flows, k.N_FLOW_VALUES), dtype=np.int64)
        self.bkeys = np.zeros((bindings, k.N_BINDING_KEYS), dtype=np.uint64)
        self.bvals = np.zeros((bindings, k.N_BINDING_VALUES), dtype=np.int64)
        self.ekeys = np.zeros((INITIAL_EDGES, k.N_EDGE_KEYS), dtype=np.uint64)
        self.evals = np.zeros((INITIAL_EDGES, k.N_EDGE_VALUES), dtype=np.int64)
        self.counts = np.zeros(k.N_COUNTS, dtype=np.int64)
        """``kernel.C_*``: used rows of each table, next flow and edge ids, emitted payloads."""
        self.emit = np.zeros((EMIT_ROWS, k.N_EMIT), dtype=np.int64)
        self.stats = np.zeros(k.N_STATS, dtype=np.int64)

    def grow_if_needed(self) -> None:
        """Double whichever table passed the kernel's load limit."""
        if self.counts[k.C_FLOWS] * k.LOAD_LIMIT_DEN >= self.fkeys.shape[0] * k.LOAD_LIMIT_NUM:
            size = self.fkeys.shape[0] * 2
            keys = np.zeros((size, k.N_FLOW_KEYS), dtype=np.uint64)
            vals = np.zeros((size, k.N_FLOW_VALUES), dtype=np.int64)
            k.rehash_flows(self.fkeys, self.fvals, keys, vals)
            self.fkeys, self.fvals = keys, vals
        if self.counts[k.C_BINDINGS] * k.LOAD_LIMIT_DEN >= self.bkeys.shape[0] * k.LOAD_LIMIT_NUM:
            size = self.bkeys.shape[0] * 2
            keys = np.zeros((size, k.N_BINDING_KEYS), dtype=np.uint64)
            vals = np.zeros((size, k.N_BINDING_VALUES), dtype=np.int64)
            k.rehash_bindings(self.bkeys, self.bvals, keys, vals)
            self.bkeys, self.bvals = keys, vals
        if self.counts[k.C_EDGES] * k.LOAD_LIMIT_DEN >= self.ekeys.shape[0] * k.LOAD_LIMIT_NUM:
            size = self.ekeys.shape[0] * 2
            keys = np.zeros((size, k.N_EDGE_KEYS), dtype=np.uint64)
            vals = np.zeros((size, k.N_EDGE_VALUES), dtype=np.int64)
            k.rehash_edges(self.ekeys, self.evals, keys, vals)
            self.ekeys, self.evals = keys, vals

    def used_flows(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self.fvals[:, k.F_USED] != 0
        return self.fkeys[rows], self.fvals[rows]

    def used_bindings(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self.bvals[:, k.B_USED] != 0
        return self.bkeys[rows], self.bvals[rows]

    @property
    def memory_bytes(self) -> int:
        tables = (self.fkeys, self.fvals, self.bkeys, self.bvals, self.ekeys, self.evals)
        return sum(int(t.nbytes) for t in tables)
