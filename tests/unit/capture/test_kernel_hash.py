"""The kernel's table hashes spread related keys (a collapse would make tables quadratic)."""

from __future__ import annotations

import numpy as np
from numba import njit

from medsec.capture import kernel as k

V4 = np.uint64(0x0000FFFF00000000)


@njit(cache=False)
def _flow_hashes(n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.uint64)
    server = V4 | np.uint64((10 << 24) | (2 << 16) | 1)
    for i in range(n):
        client = V4 | np.uint64((10 << 24) | i)  # address and port grow together
        port = np.uint64(1024 + i % 60000)
        packed = (port << np.uint64(48)) | (np.uint64(53) << np.uint64(32)) | np.uint64(17 << 24)
        out[i] = k._flow_hash(np.uint64(0), client, np.uint64(0), server, packed)
    return out


@njit(cache=False)
def _binding_hashes(n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        mac = np.uint64(0x0009FB000000 + i)
        out[i] = k._binding_hash(np.uint64(0), V4 | np.uint64(i), (mac << np.uint64(12)) | 10)
    return out


def test_related_flow_keys_fill_distinct_slots() -> None:
    n = 100_000
    slots = _flow_hashes(n) & np.uint64((1 << 18) - 1)
    # a uniform hash into 262,144 slots leaves ~83% of 100,000 keys alone in their slot
    assert len(np.unique(slots)) > 0.75 * n


def test_related_binding_keys_fill_distinct_slots() -> None:
    n = 100_000
    slots = _binding_hashes(n) & np.uint64((1 << 18) - 1)
    assert len(np.unique(slots)) > 0.75 * n


def test_flow_hash_is_symmetric() -> None:
    @njit(cache=False)
    def both() -> tuple[np.uint64, np.uint64]:
        a, b = V4 | np.uint64(1), V4 | np.uint64(2)
        fwd = (np.uint64(40000) << np.uint64(48)) | (np.uint64(104) << np.uint64(32))
        rev = (np.uint64(104) << np.uint64(48)) | (np.uint64(40000) << np.uint64(32))
        return (
            k._flow_hash(np.uint64(0), a, np.uint64(0), b, fwd),
            k._flow_hash(np.uint64(0), b, np.uint64(0), a, rev),
        )

    h1, h2 = both()
    assert h1 == h2
