"""The tables of one capture source the kernel fills, and their growth."""

from __future__ import annotations

import numpy as np

from medsec.capture import kernel as k

INITIAL_FLOWS = 1 << 12
INITIAL_BINDINGS = 1 << 10
INITIAL_EDGES = 1 << 10
INITIAL_HEADS = 1 << 8
INITIAL_BLOCKS = 1 << 10
EMIT_ROWS = 4096
OUT_BYTES = 4 << 20
"""Payload bytes copied out per kernel call at most (at least ``kernel.OUT_PER_PACKET``)."""


class Tables:
    """Open-addressing hash tables (grown by doubling), the TCP head store and the hand-off
    buffers. Arrays only the dissect stage uses are zeroed, not touched, until then."""

    def __init__(self, flows: int = INITIAL_FLOWS, bindings: int = INITIAL_BINDINGS) -> None:
        self.fkeys = np.zeros((flows, k.N_FLOW_KEYS), dtype=np.uint64)
        self.fvals = np.zeros((flows, k.N_FLOW_VALUES), dtype=np.int64)
        self.bkeys = np.zeros((bindings, k.N_BINDING_KEYS), dtype=np.uint64)
        self.bvals = np.zeros((bindings, k.N_BINDING_VALUES), dtype=np.int64)
        self.ekeys = np.zeros((INITIAL_EDGES, k.N_EDGE_KEYS), dtype=np.uint64)
        self.evals = np.zeros((INITIAL_EDGES, k.N_EDGE_VALUES), dtype=np.int64)
        self.counts = np.zeros(k.N_COUNTS, dtype=np.int64)
        """``kernel.C_*``: used rows of each table, next ids, hand-off fill, free lists."""
        self.heads = np.zeros((0, k.N_HEAD), dtype=np.int64)
        self.blocks = np.zeros((0, k.HEAD_BLOCK), dtype=np.uint8)
        self.bnext = np.zeros(0, dtype=np.int64)
        self.counts[k.C_FREE_HEAD] = -1
        self.counts[k.C_FREE_BLOCK] = -1
        self._grow_heads(INITIAL_HEADS)
        self._grow_blocks(INITIAL_BLOCKS)
        self.emit = np.zeros((EMIT_ROWS, k.EMIT_COLUMNS), dtype=np.int64)
        self.out = np.zeros(OUT_BYTES, dtype=np.uint8)
        self.stats = np.zeros(k.N_STATS, dtype=np.int64)

    def grow_if_needed(self) -> None:
        """Double whichever table passed the kernel's load limit, or the head store."""
        if self.counts[k.C_FLOWS] * k.LOAD_LIMIT_DEN >= self.fkeys.shape[0] * k.LOAD_LIMIT_NUM:
            size = self.fkeys.shape[0] * 2
            keys = np.zeros((size, k.N_FLOW_KEYS), dtype=np.uint64)
            vals = np.zeros((size, k.N_FLOW_VALUES), dtype=np.int64)
            k.rehash(k.TABLE_FLOWS, self.fkeys, self.fvals, keys, vals, self.heads)
            self.fkeys, self.fvals = keys, vals
        if self.counts[k.C_BINDINGS] * k.LOAD_LIMIT_DEN >= self.bkeys.shape[0] * k.LOAD_LIMIT_NUM:
            size = self.bkeys.shape[0] * 2
            keys = np.zeros((size, k.N_BINDING_KEYS), dtype=np.uint64)
            vals = np.zeros((size, k.N_BINDING_VALUES), dtype=np.int64)
            k.rehash(k.TABLE_BINDINGS, self.bkeys, self.bvals, keys, vals, self.heads)
            self.bkeys, self.bvals = keys, vals
        if self.counts[k.C_EDGES] * k.LOAD_LIMIT_DEN >= self.ekeys.shape[0] * k.LOAD_LIMIT_NUM:
            size = self.ekeys.shape[0] * 2
            keys = np.zeros((size, k.N_EDGE_KEYS), dtype=np.uint64)
            vals = np.zeros((size, k.N_EDGE_VALUES), dtype=np.int64)
            k.rehash(k.TABLE_EDGES, self.ekeys, self.evals, keys, vals, self.heads)
            self.ekeys, self.evals = keys, vals
        if self.counts[k.C_FREE_HEADS] < 1:
            self._grow_heads(self.heads.shape[0])
        if self.counts[k.C_FREE_BLOCKS] < k.BLOCKS_PER_PACKET:
            self._grow_blocks(self.blocks.shape[0])

    def _grow_heads(self, more: int) -> None:
        """Add ``more`` free rows to the head table (rows keep their index)."""
        old = self.heads.shape[0]
        heads = np.zeros((old + more, k.N_HEAD), dtype=np.int64)
        heads[:old] = self.heads
        heads[old:, k.H_NEXT_FREE] = np.arange(old + 1, old + more + 1)
        heads[-1, k.H_NEXT_FREE] = self.counts[k.C_FREE_HEAD]
        self.counts[k.C_FREE_HEAD] = old
        self.counts[k.C_FREE_HEADS] += more
        self.heads = heads

    def _grow_blocks(self, more: int) -> None:
        """Add ``more`` free blocks to the head store (blocks keep their index)."""
        old = self.blocks.shape[0]
        blocks = np.zeros((old + more, k.HEAD_BLOCK), dtype=np.uint8)
        blocks[:old] = self.blocks
        bnext = np.empty(old + more, dtype=np.int64)
        bnext[:old] = self.bnext
        bnext[old:] = np.arange(old + 1, old + more + 1)
        bnext[-1] = self.counts[k.C_FREE_BLOCK]
        self.counts[k.C_FREE_BLOCK] = old
        self.counts[k.C_FREE_BLOCKS] += more
        self.blocks, self.bnext = blocks, bnext

    def used_flows(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self.fvals[:, k.F_USED] != 0
        return self.fkeys[rows], self.fvals[rows]

    def used_bindings(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self.bvals[:, k.B_USED] != 0
        return self.bkeys[rows], self.bvals[rows]

    @property
    def memory_bytes(self) -> int:
        tables = (self.fkeys, self.fvals, self.bkeys, self.bvals, self.ekeys, self.evals)
        store = (self.heads, self.blocks, self.bnext, self.emit, self.out)
        return sum(int(t.nbytes) for t in (*tables, *store))
