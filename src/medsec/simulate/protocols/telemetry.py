"""Real-time waveform datagrams from patient monitors to the central station (UDP 24105).

A small fixed header (magic, stream, sequence, sample count) and 16-bit samples.
"""

from __future__ import annotations

import random
import struct

PORT = 24105
MAGIC = 0x5753
SAMPLES = 112


def waveform(stream: int, sequence: int, rng: random.Random, samples: int = SAMPLES) -> bytes:
    header = struct.pack("!HHIH2x", MAGIC, stream, sequence & 0xFFFFFFFF, samples)
    return header + rng.randbytes(2 * samples)
