"""Capture interfaces: link type and timestamp scaling, as the kernel's lookup arrays.

A classic pcap file has one implicit interface; a pcapng section has one per Interface
Description Block, each with its own link type and timestamp resolution (``if_tsresol``:
``10**-k`` or ``2**-k`` seconds per unit) and offset (``if_tsoffset``, seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Interface:
    linktype: int
    tsresol: int = 6
    """pcapng ``if_tsresol`` byte: high bit clear = 10**-value, set = 2**-(value & 0x7f)."""
    tsoffset: int = 0
    snaplen: int = 0


class InterfaceTable:
    """The arrays the kernel reads, rebuilt whenever an interface is added."""

    def __init__(self) -> None:
        self.interfaces: list[Interface] = []
        self._rebuild()

    def reset(self) -> None:
        self.interfaces = []
        self._rebuild()

    def add(self, interface: Interface) -> None:
        self.interfaces.append(interface)
        self._rebuild()

    def set_pcap(self, linktype: int, nanosecond: bool) -> None:
        """The single interface of a classic pcap file; ``mul`` scales the fraction field."""
        self.interfaces = [Interface(linktype=linktype, tsresol=9 if nanosecond else 6)]
        self._rebuild()
        self.mul[0] = 1 if nanosecond else 1000

    def _rebuild(self) -> None:
        n = len(self.interfaces)
        self.linktype = np.zeros(n, dtype=np.int64)
        self.mul = np.ones(n, dtype=np.int64)
        self.div = np.ones(n, dtype=np.int64)
        self.shift = np.full(n, -1, dtype=np.int64)
        self.offset = np.zeros(n, dtype=np.int64)
        for i, itf in enumerate(self.interfaces):
            self.linktype[i] = itf.linktype
            self.offset[i] = itf.tsoffset * 1_000_000_000
            if itf.tsresol & 0x80:
                self.shift[i] = min(itf.tsresol & 0x7F, 63)
            else:
                k = min(itf.tsresol, 18)
                if k <= 9:
                    self.mul[i] = 10 ** (9 - k)
                else:
                    self.div[i] = 10 ** (k - 9)

    @property
    def linktypes(self) -> tuple[int, ...]:
        return tuple(sorted({i.linktype for i in self.interfaces}))
