"""pcapng blocks other than packets: section headers, interface descriptions, the rest.

The kernel walks packet blocks (EPB, SPB, obsolete PB) itself and stops at any other block;
this module reads that block and tells the reader how far to skip. Specification:
draft-ietf-opsawg-pcapng (block layout: type u32, total length u32, body, total length u32).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from medsec.capture.interfaces import Interface, InterfaceTable

SHB = 0x0A0D0D0A
IDB = 0x00000001
BYTE_ORDER_MAGIC = 0x1A2B3C4D

OPT_ENDOFOPT = 0
OPT_IF_TSRESOL = 9
OPT_IF_TSOFFSET = 14


class BlockDamaged(Exception):
    """The block at the given position cannot be read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class BlockResult:
    consumed: int
    """Bytes to skip; 0 means the block is not wholly in the buffer yet."""
    big_endian: bool


def handle_block(
    buf: memoryview, pos: int, end: int, big_endian: bool, interfaces: InterfaceTable
) -> BlockResult:
    """Read the non-packet block at ``buf[pos:end]``, updating byte order and interfaces."""
    if end - pos < 12:
        return BlockResult(0, big_endian)
    (btype_le,) = struct.unpack_from("<I", buf, pos)
    if btype_le == SHB:  # palindromic: same in both byte orders
        magic = bytes(buf[pos + 8 : pos + 12])
        if magic == b"\x1a\x2b\x3c\x4d":
            big_endian = True
        elif magic == b"\x4d\x3c\x2b\x1a":
            big_endian = False
        else:
            raise BlockDamaged("section header block with an unknown byte-order magic")
    order = ">" if big_endian else "<"
    btype, blen = struct.unpack_from(order + "II", buf, pos)
    if blen < 12 or blen % 4 != 0:
        raise BlockDamaged(f"block of type {btype:#x} with impossible length {blen}")
    if blen > 64 << 20:
        raise BlockDamaged(f"block of type {btype:#x} claims {blen} bytes")
    if end - pos < blen:
        return BlockResult(0, big_endian)
    (trailer,) = struct.unpack_from(order + "I", buf, pos + blen - 4)
    if trailer != blen:
        raise BlockDamaged(f"block of type {btype:#x} has a mismatched trailing length")
    body = buf[pos + 8 : pos + blen - 4]
    if btype == SHB:
        if blen < 28:
            raise BlockDamaged("section header block too short")
        major, _minor = struct.unpack_from(order + "HH", body, 4)
        if major != 1:
            raise BlockDamaged(f"unsupported pcapng major version {major}")
        interfaces.reset()
    elif btype == IDB:
        if len(body) < 8:
            raise BlockDamaged("interface description block too short")
        linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", body, 0)
        tsresol, tsoffset = _interface_options(body[8:], order)
        interfaces.add(
            Interface(linktype=linktype, tsresol=tsresol, tsoffset=tsoffset, snaplen=snaplen)
        )
    return BlockResult(blen, big_endian)


def _interface_options(options: memoryview, order: str) -> tuple[int, int]:
    """``if_tsresol`` (default 6: microseconds) and ``if_tsoffset`` (default 0)."""
    tsresol, tsoffset = 6, 0
    i = 0
    while i + 4 <= len(options):
        code, length = struct.unpack_from(order + "HH", options, i)
        i += 4
        if code == OPT_ENDOFOPT:
            break
        value = options[i : i + length]
        if len(value) < length:
            break
        if code == OPT_IF_TSRESOL and length >= 1:
            tsresol = value[0]
        elif code == OPT_IF_TSOFFSET and length >= 8:
            (tsoffset,) = struct.unpack_from(order + "q", value, 0)
        i += (length + 3) & ~3
    return tsresol, tsoffset
