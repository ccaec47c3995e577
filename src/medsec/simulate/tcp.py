"""A TCP connection as a list of frames: handshake, segmented data with delayed ACKs, and
FIN teardown, with correct sequence and acknowledgement numbers.

Times are capture times at the client's access port: the client's packets are seen when
sent, the server's one RTT (plus its think time) after what they answer.
"""

from __future__ import annotations

import random
import struct

from medsec.simulate import frames as f
from medsec.simulate.catalog import TcpStack
from medsec.simulate.channels import Channel
from medsec.simulate.ledger import Frame

CLIENT = 0
SERVER = 1

SERIALIZATION_NS_PER_BYTE = 8
"""1 Gbit/s: 8 ns per byte on the wire."""


def syn_options(stack: TcpStack, offered: TcpStack | None, tsval: int, tsecr: int) -> bytes:
    """SYN (``offered`` is None) or SYN+ACK options in the stack's usual order."""
    sack = stack.sack and (offered is None or offered.sack)
    timestamps = stack.timestamps and (offered is None or offered.timestamps)
    scale = stack.window_scale
    if offered is not None and offered.window_scale is None:
        scale = None
    mss = struct.pack("!BBH", 2, 4, stack.mss)
    if stack.windows_option_order:
        options = mss
        if scale is not None:
            options += b"\x01" + struct.pack("!BBB", 3, 3, scale)
        if sack:
            options += b"\x01\x01\x04\x02"
        if timestamps:
            options += b"\x01\x01\x08\x0a" + struct.pack("!II", tsval, tsecr)
        return options
    options = mss
    if sack and timestamps:
        options += b"\x04\x02\x08\x0a" + struct.pack("!II", tsval, tsecr)
    elif timestamps:
        options += b"\x01\x01\x08\x0a" + struct.pack("!II", tsval, tsecr)
    elif sack:
        options += b"\x01\x01\x04\x02"
    if scale is not None:
        options += b"\x01" + struct.pack("!BBB", 3, 3, scale)
    return options


class TcpConversation:
    """Builds the frames of one TCP connection in time order."""

    def __init__(
        self,
        channel: Channel,
        client_stack: TcpStack,
        server_stack: TcpStack,
        *,
        start: int,
        rtt: int,
        rng: random.Random,
    ) -> None:
        self.channel = channel
        self.stacks = (client_stack, server_stack)
        self.t = start
        self.rtt = rtt
        self.rng = rng
        self.frames: list[Frame] = []
        self.seq = [rng.getrandbits(32), rng.getrandbits(32)]
        """Next sequence number each side sends."""
        self.timestamps = client_stack.timestamps and server_stack.timestamps
        mss = min(client_stack.mss, server_stack.mss)
        self.payload_mss = mss - 12 if self.timestamps else mss
        self.ts_base = [rng.getrandbits(31), rng.getrandbits(31)]
        self.ts_start = start
        self.tsecr = [0, 0]
        """Last TSval each side received from the other."""
        self.last_sender: int | None = None
        self.owed_ack: int | None = None
        """The side that received data and has not acknowledged it yet."""

    # -- low level ---------------------------------------------------------------------

    def tsval(self, side: int, at: int | None = None) -> int:
        """The side's TCP timestamp clock (1 kHz) at capture time ``at``."""
        when = self.t if at is None else at
        return (self.ts_base[side] + (when - self.ts_start) // 1000) & 0xFFFFFFFF

    def emit(
        self, side: int, flags: int, payload: bytes = b"", options: bytes | None = None
    ) -> None:
        """Write one segment from ``side`` at the current time."""
        peer = 1 - side
        ch = self.channel
        if options is None and self.timestamps:
            tsval = self.tsval(side)
            options = b"\x01\x01\x08\x0a" + struct.pack("!II", tsval, self.tsecr[side])
            self.tsecr[peer] = tsval
        ack = self.seq[peer] if flags & f.TCP_ACK else 0
        if side == CLIENT:
            segment = f.tcp(
                ch.client_ip,
                ch.server_ip,
                ch.client_port,
                ch.server_port,
                self.seq[side],
                ack,
                flags,
                self._window(side, flags),
                payload,
                options or b"",
            )
        else:
            segment = f.tcp(
                ch.server_ip,
                ch.client_ip,
                ch.server_port,
                ch.client_port,
                self.seq[side],
                ack,
                flags,
                self._window(side, flags),
                payload,
                options or b"",
            )
        self.frames.append(ch.ip_frame(self.t, side == CLIENT, f.IPPROTO_TCP, segment))
        self.seq[side] = (
            self.seq[side] + len(payload) + (1 if flags & (f.TCP_SYN | f.TCP_FIN) else 0)
        ) & 0xFFFFFFFF
        self.last_sender = side

    def _window(self, side: int, flags: int) -> int:
        stack = self.stacks[side]
        return stack.syn_window if flags & f.TCP_SYN else stack.window

    def wait(self, micros: int) -> None:
        self.t += max(0, micros)

    def _wire_time(self, size: int) -> int:
        return (size + 78) * SERIALIZATION_NS_PER_BYTE // 1000 + 2

    # -- conversation steps ----------------------------------------------------------------

    def connect(self) -> None:
        """SYN, SYN+ACK, ACK."""
        client, server = self.stacks
        self.emit(CLIENT, f.TCP_SYN, options=syn_options(client, None, self.tsval(CLIENT), 0))
        self.tsecr[SERVER] = self.tsval(CLIENT)
        self.wait(self.rtt)
        options = syn_options(server, client, self.tsval(SERVER), self.tsecr[SERVER])
        self.emit(SERVER, f.TCP_SYN | f.TCP_ACK, options=options)
        self.tsecr[CLIENT] = self.tsval(SERVER)
        self.wait(20 + self.rng.randrange(40))
        self.emit(CLIENT, f.TCP_ACK)

    def send(self, from_client: bool, payload: bytes, *, think: int | None = None) -> None:
        """One application message from a side, segmented to the MSS.

        ``think`` is the time the sender takes before answering (default: a few hundred
        microseconds for a client, a few milliseconds for a server).
        """
        side = CLIENT if from_client else SERVER
        peer = 1 - side
        if think is None:
            think = self.rng.randrange(100, 600) if from_client else self.rng.randrange(500, 4000)
        if side == SERVER and self.last_sender == CLIENT:
            self.wait(self.rtt + think)
        else:
            self.wait(think)
        if self.owed_ack == side:
            self.owed_ack = None
        elif self.owed_ack == peer:
            self._delayed_ack(peer)
        unacked = 0
        mss = self.payload_mss
        pieces = [payload[i : i + mss] for i in range(0, len(payload), mss)] or [b""]
        for number, piece in enumerate(pieces):
            last = number == len(pieces) - 1
            self.emit(side, f.TCP_ACK | (f.TCP_PSH if last else 0), piece)
            unacked += 1
            if not last:
                self.wait(self._wire_time(len(piece)))
                if unacked == 2:
                    self._immediate_ack(peer)
                    unacked = 0
        self.owed_ack = peer

    def _immediate_ack(self, side: int) -> None:
        self.wait(self.rtt if side == SERVER else 30)
        self.emit(side, f.TCP_ACK)
        self.wait(10)

    def _delayed_ack(self, side: int) -> None:
        self.wait(self.rtt if side == SERVER else 200)
        self.emit(side, f.TCP_ACK)
        self.owed_ack = None

    def close(self, from_client: bool = True) -> None:
        """FIN+ACK from ``from_client``'s side, FIN+ACK back, final ACK."""
        side = CLIENT if from_client else SERVER
        peer = 1 - side
        think = self.rng.randrange(50, 500)
        if side == SERVER and self.last_sender == CLIENT:
            self.wait(self.rtt + think)
        else:
            self.wait(think)
        self.emit(side, f.TCP_FIN | f.TCP_ACK)
        self.wait(self.rtt if peer == SERVER else 40)
        self.emit(peer, f.TCP_FIN | f.TCP_ACK)
        self.wait(self.rtt if side == SERVER else 40)
        self.emit(side, f.TCP_ACK)
        self.owed_ack = None

    def exchange(self, request: bytes, response: bytes, *, think: int | None = None) -> None:
        """Client request, server response."""
        self.send(True, request)
        self.send(False, response, think=think)
