# numba infers the machine types here; numpy scalar arithmetic confuses mypy's int checks.
# mypy: disable-error-code="assignment,return-value,no-any-return"
"""The packet hot path: walk capture records and account every packet, compiled with numba.

One call walks a buffer of whole capture records (classic pcap records or pcapng blocks),
decodes the link, network and transport headers of each packet in place, and updates
open-addressing hash tables that live in numpy arrays:

* the **flow table**: one row per bidirectional conversation (5-tuple + VLANs);
* the **binding table**: one row per (IP, MAC, VLAN) seen as the source of an IP packet or
  as the sender of an ARP message;
* the **edge table** (only while payloads are inspected): one row per conversation edge -
  the two hosts, the service port (the lower of the two) and the IP protocol - so that only
  the first flows of each edge have their payloads handed to the dissect stage.

While payloads are inspected, the kernel also does the dissect stage's per-packet work: it
reassembles the head of each TCP direction (``heads``, in a store of fixed-size blocks) and
copies what is handed over - datagrams, frames, probes, whole heads - into ``out``, one
``emit`` row each, so Python sees about one row per TCP direction instead of one per
segment. The sink answers through per-flow arrays (``inspect`` flags, ``limits``).

No Python object is created per packet. The caller (``capture/reader.py``) owns the buffers,
grows the tables when a call stops with ``STATUS_TABLE_FULL``, drains ``emit`` when it stops
with ``STATUS_EMIT_FULL``, handles pcapng blocks other than packets when a call stops with
``STATUS_BLOCK``, and turns the tables into values.

Tunnels are looked through (``MAX_TUNNELS`` deep): PPPoE sessions, IP in IP (protocols 4 and
41), GRE version 0 (IP, transparent Ethernet bridging, ERSPAN types I-III) and VXLAN (UDP
4789). The outer tunnel packet is accounted as a flow of its own (the tunnel endpoints, the
VXLAN UDP ports); the inner packet then as its own flow, keyed by the inner 5-tuple and the
outer frame's VLANs, with the inner frame's MACs (none for IP in IP or GRE-carried IP), and it
is the inner payload that is handed over. Statistics count every IP header decoded.

Every read is bounds-checked against the record's captured length: malformed or truncated
packets are counted in ``stats`` and never read outside their record. Addresses are kept as
128-bit pairs (``hi``, ``lo``); an IPv4 address is stored IPv4-mapped (``::ffff:a.b.c.d``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# --- call status -----------------------------------------------------------------------
STATUS_NEED_DATA = 0
"""Every whole record in the buffer was consumed; ``pos`` is where the next one starts."""
STATUS_TABLE_FULL = 1
"""A table passed its load limit; grow it and call again from ``pos``."""
STATUS_CORRUPT = 2
"""The record at ``pos`` is damaged (impossible length, bad block trailer)."""
STATUS_BLOCK = 3
"""A pcapng block other than a packet starts at ``pos``; the caller handles it."""
STATUS_EMIT_FULL = 4
"""The payload hand-off table is full; drain it and call again from ``pos``."""
STATUS_HEADS_FULL = 5
"""The TCP heads being collected hold more than the sink's ``buffer_limit`` bytes: hand the
largest over early (``settle_heads`` with ``SETTLE_EVICT``) and call again from ``pos``."""
STATUS_DECIDE = 6
"""An undecided TCP direction has sent ``UNDECIDED_TCP_BYTES`` while its probe still waits in
``emit``: hand the batch to the sink (which may claim the flow by signature) and call again
from ``pos`` - the direction's next segment then finds the sink's answer."""

# --- capture formats --------------------------------------------------------------------
FORMAT_PCAP = 0
FORMAT_PCAPNG = 1

MAX_RECORD = 262144 * 4
"""Largest captured packet accepted (1 MiB); a larger length means a damaged record."""

# --- statistics slots ---------------------------------------------------------------------
S_PACKETS = 0
S_BYTES = 1
S_IPV4 = 2
S_IPV6 = 3
S_ARP = 4
S_TCP = 5
S_UDP = 6
S_ICMP = 7
S_OTHER_L3 = 8
S_FRAGMENTS = 9
S_TRUNCATED = 10
S_UNSUPPORTED_LINK = 11
S_FIRST_TS = 12
S_LAST_TS = 13
N_STATS = 14

# --- flow table columns ---------------------------------------------------------------------
# keys: uint64 [cap, 5] = a_hi, a_lo, b_hi, b_lo, packed(port_a, port_b, proto, vlan, inner)
# "a" is the source of the first packet seen in the flow.
K_A_HI = 0
K_A_LO = 1
K_B_HI = 2
K_B_LO = 3
K_PACKED = 4
N_FLOW_KEYS = 5

F_USED = 0
F_FIRST_TS = 1
F_LAST_TS = 2
F_PKTS_AB = 3
F_PKTS_BA = 4
F_BYTES_AB = 5
F_BYTES_BA = 6
F_FLAGS_AB = 7
F_FLAGS_BA = 8
F_MAC_A = 9
F_MAC_B = 10
F_EVENTS_AB = 11
F_EVENTS_BA = 12
F_ID = 13
"""Serial number of the flow within its capture source (stable across table growth)."""
F_EMITTED_AB = 14
"""Payload handed off for dissection: bytes (TCP) or datagrams (UDP), per direction."""
F_EMITTED_BA = 15
F_EDGE = 16
"""0 until the flow's first payload; then its edge's ``G_ID`` + 1 when the flow is one of the
edge's inspected samples, or -(``G_ID`` + 1) when it is left to them."""
F_HEAD_AB = 17
"""TCP head of each direction: 0 before its first payload, h + 1 while collected in row h of
the head table, -1 once handed over or dropped."""
F_HEAD_BA = 18
N_FLOW_VALUES = 19

# --- payload hand-off ------------------------------------------------------------------------
# Rows of the ``emit`` table: one per payload handed to the dissect stage. The payload bytes
# are copied to ``out[E_OFFSET : E_OFFSET + E_LENGTH]``.
E_FLOW_ID = 0
"""``F_ID`` of the flow, -1 for link-layer frames (LLDP, CDP)."""
E_DIRECTION = 1
"""0: sent by the flow's first sender (``a``); 1: by the other side."""
E_OFFSET = 2
E_LENGTH = 3
E_TS = 4
E_SEQ = 5
"""TCP sequence number of the payload's first byte (0 otherwise)."""
E_PROTO = 6
E_SPORT = 7
E_DPORT = 8
E_VLAN = 9
E_SRC_HI = 10
E_SRC_LO = 11
E_DST_HI = 12
E_DST_LO = 13
E_SRC_MAC = 14
E_DST_MAC = 15
E_ETHERTYPE = 16
E_TCP_FLAGS = 17
E_EDGE = 18
"""``G_ID`` of the flow's edge (-1 for link-layer frames)."""
E_KIND = 19
"""``KIND_*``: what the row hands over."""
N_EMIT = 20
"""Columns of an emit row the sink sees (``PayloadBatch.rows``)."""
E_SLOT = N_EMIT
"""Kept from the sink: the row of the flow in the flow table (-1 for link-layer frames), so
that after a batch the heads of its flows - the only ones the sink's answer can settle - are
found without a scan (``settle_heads``). Valid until the flow table grows; ``emit`` is
drained before it does."""
EMIT_COLUMNS = N_EMIT + 1

KIND_PAYLOAD = 0
"""A UDP datagram or a link-layer frame, as it came."""
KIND_PROBE = 1
"""The first payload of a TCP direction, handed over while the flow is undecided so the sink
can choose a dissector by signature. Its bytes come again at the start of the head."""
KIND_HEAD = 2
"""The head of a TCP direction: its first bytes in sequence order, retransmissions trimmed,
up to a gap, the flow's ``head_bytes`` or the end of the capture. The row's other columns
are those of the direction's first payload."""

MAX_EMIT_TCP_BYTES = 65536
"""Per flow direction: TCP payload bytes (retransmissions included) taken into the head at
most; also the longest head."""
MAX_EMIT_DATAGRAMS = 32
"""Per flow direction: UDP payloads handed off at most."""
UNDECIDED_TCP_BYTES = 4096
"""Per direction of a flow no dissector has claimed yet (and no port claims): TCP bytes kept
once the sink has seen the flow's probe and still not decided (a UDP flow hands off its first
datagram). While the probe waits in the current batch, the walk stops instead so that the sink
can decide first (``STATUS_DECIDE``): a signature-claimed flow loses nothing."""
CLAIMED_UDP_EDGE_SAMPLES = 32
"""Flows inspected per edge at most when the edge is UDP and a datagram dissector claims its
service port (``claimed_ports[1, port]`` says how many that dissector wants, instead of the
sink's ``edge_samples``): request/response managers (SNMP, syslog relays, DHCP) send each
request from a new source port, so every request is a flow of its own and the facts a device
states come spread over them (an SNMP agent's Printer-MIB answers after its system group).
Each such flow is short, so the cost stays bounded. DNS asks for ``edge_samples`` (a host's
lookups are many flows and the first ones tell enough), NTP for one (every poll restates the
same header)."""

# ``counts`` slots
C_FLOWS = 0
C_BINDINGS = 1
C_NEXT_FLOW_ID = 2
C_EMITTED = 3
C_EDGES = 4
C_NEXT_EDGE_ID = 5
C_OUT = 6
"""Bytes of ``out`` filled by the payloads of the emitted rows."""
C_FREE_HEAD = 7
"""First free row of the head table (-1: none); free rows chain through ``H_NEXT_FREE``."""
C_FREE_HEADS = 8
C_FREE_BLOCK = 9
"""First free block of the head store (-1: none); free blocks chain through ``bnext``."""
C_FREE_BLOCKS = 10
C_HEAD_BYTES = 11
"""Bytes held in heads being collected."""
C_BATCH = 12
"""Serial number of the batch being filled (``handoff.take_batch`` counts it up)."""
C_DECIDE = 13
"""1 when the packet just handed off wants the sink's decision before the next one."""
N_COUNTS = 14

# ``inspect`` flags, indexed by flow id
INSPECT_ON = 0
"""Undecided: only the first payload of each direction is handed over (for a signature),
unless a port of the flow is claimed in ``claimed_ports``."""
INSPECT_OFF = 1
"""Nothing more is wanted from this flow."""
INSPECT_CLAIMED = 2
"""A dissector took the flow: datagrams are handed over up to the per-direction budget, and
each TCP direction's head once it holds the flow's ``head_bytes`` (or ends sooner)."""

# event bits per direction
EV_PURE_SYN = 1
EV_SYN_ACK = 2
EV_RST = 4
EV_FIN = 8
EV_PAYLOAD = 16
EV_ACK = 32

# --- binding table columns -------------------------------------------------------------------
# keys: uint64 [cap, 3] = ip_hi, ip_lo, (mac << 12) | vlan
B_USED = 0
B_FIRST_TS = 1
B_LAST_TS = 2
B_PACKETS = 3
B_SOURCES = 4
N_BINDING_VALUES = 5
N_BINDING_KEYS = 3

SRC_FRAME = 1
SRC_ARP = 2

# --- edge table columns ----------------------------------------------------------------------
# keys: uint64 [cap, 5] = low_hi, low_lo, high_hi, high_lo, (service port << 8) | proto, where
# "low" is the numerically lower address of the two
G_USED = 0
G_ID = 1
"""Serial number of the edge within its capture source."""
G_FLOWS = 2
"""Flows that carried payload on this edge so far."""
N_EDGE_VALUES = 3
N_EDGE_KEYS = 5

# --- what _packet hands to _hand_off -------------------------------------------------------
HAND_NONE = 0
HAND_FRAME = 1
HAND_PAYLOAD = 2
# ``scratch`` slots: int64 [N_SCRATCH]
X_START = 0
"""Payload (or frame after the link header) ``buf[X_START:X_STOP]``."""
X_STOP = 1
X_TS = 2
X_VLAN = 3
X_MAC_SRC = 4
X_MAC_DST = 5
X_ETHERTYPE = 6
X_SLOT = 7
"""Row of the packet's flow in the flow table."""
X_DIRECTION = 8
X_FLAG = 9
"""The flow's ``inspect`` flag."""
X_SEQ = 10
X_PROTO = 11
X_SPORT = 12
X_DPORT = 13
X_TCP_FLAGS = 14
N_SCRATCH = 15

# --- TCP heads -------------------------------------------------------------------------------
# ``heads``: int64 [cap, N_HEAD], one row per TCP direction whose head is being collected.
# Columns [0, N_EMIT) hold the emit row of the direction's first payload (``E_*``); the bytes
# live in a chain of ``HEAD_BLOCK``-byte rows of ``blocks`` linked through ``bnext``.
H_USED = N_EMIT
H_FLOW_SLOT = N_EMIT + 1
"""Row of the flow in the flow table (kept current when the table grows)."""
H_NEXT_SEQ = N_EMIT + 2
"""Sequence number of the byte after those taken."""
H_LEN = N_EMIT + 3
H_FIRST_BLOCK = N_EMIT + 4
H_LAST_BLOCK = N_EMIT + 5
H_BLOCKS = N_EMIT + 6
H_STALLED = N_EMIT + 7
"""1 once the head can grow no more: a gap, the budget spent, or full while undecided."""
H_NEXT_FREE = N_EMIT + 8
H_PROBE_BATCH = N_EMIT + 9
"""``C_BATCH`` of the batch that carries the direction's probe (-1: none sent)."""
N_HEAD = N_EMIT + 10

# ``settle_heads`` modes
SETTLE_FLOWS = 0
"""The heads of the given flows that the sink's flags complete or turn off: after a batch,
those of its flows (``E_SLOT``), the only ones its answer can have changed."""
SETTLE_ALL = 1
"""Every head the sink's flags complete or turn off (a scan of the whole head table)."""
SETTLE_EVERYTHING = 2
"""Every head: the source has ended."""
SETTLE_EVICT = 3
"""The largest heads, handed over early until they hold at most the target bytes."""

HEAD_BLOCK = 1024
BLOCKS_PER_PACKET = MAX_EMIT_TCP_BYTES // HEAD_BLOCK + 2
"""Free blocks needed before a packet: one packet adds at most the longest head."""
OUT_PER_PACKET = MAX_RECORD + 64 + MAX_EMIT_TCP_BYTES
"""Free bytes of ``out`` needed before a packet: its payload (a pcapng block may carry a few
bytes more than ``MAX_RECORD``) and one head."""
_SEQ_MASK = 0xFFFFFFFF
_SEQ_HALF = 1 << 31

MAX_TUNNELS = 2
"""Tunnel headers decoded at most per packet (VXLAN, GRE/ERSPAN, IP in IP); deeper nesting
is accounted as the flow of the last tunnel reached."""

LOAD_LIMIT_NUM = 5
LOAD_LIMIT_DEN = 8
"""Tables are grown when more than 5/8 of their slots are used."""

_MAPPED_V4 = np.uint64(0x0000FFFF00000000)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_U64_30 = np.uint64(30)
_U64_27 = np.uint64(27)
_U64_31 = np.uint64(31)
_U64_48 = np.uint64(48)
_U64_32 = np.uint64(32)
_U64_24 = np.uint64(24)
_U64_12 = np.uint64(12)
_U64_8 = np.uint64(8)


@njit(cache=True)
def _mix(x: np.uint64) -> np.uint64:
    """splitmix64 finaliser."""
    x = (x ^ (x >> _U64_30)) * _M1
    x = (x ^ (x >> _U64_27)) * _M2
    return x ^ (x >> _U64_31)


@njit(cache=True)
def _u16be(buf: np.ndarray, i: int) -> int:
    return (np.int64(buf[i]) << 8) | np.int64(buf[i + 1])


@njit(cache=True)
def _u32be(buf: np.ndarray, i: int) -> int:
    return (
        (np.int64(buf[i]) << 24)
        | (np.int64(buf[i + 1]) << 16)
        | (np.int64(buf[i + 2]) << 8)
        | np.int64(buf[i + 3])
    )


@njit(cache=True)
def _u32le(buf: np.ndarray, i: int) -> int:
    return (
        (np.int64(buf[i + 3]) << 24)
        | (np.int64(buf[i + 2]) << 16)
        | (np.int64(buf[i + 1]) << 8)
        | np.int64(buf[i])
    )


@njit(cache=True)
def _u32(buf: np.ndarray, i: int, big_endian: bool) -> int:
    if big_endian:
        return _u32be(buf, i)
    return _u32le(buf, i)


@njit(cache=True)
def _u16(buf: np.ndarray, i: int, big_endian: bool) -> int:
    if big_endian:
        return _u16be(buf, i)
    return (np.int64(buf[i + 1]) << 8) | np.int64(buf[i])


@njit(cache=True)
def _u48be(buf: np.ndarray, i: int) -> np.uint64:
    v = np.uint64(0)
    for k in range(6):
        v = (v << _U64_8) | np.uint64(buf[i + k])
    return v


@njit(cache=True)
def _u64be(buf: np.ndarray, i: int) -> np.uint64:
    v = np.uint64(0)
    for k in range(8):
        v = (v << _U64_8) | np.uint64(buf[i + k])
    return v


@njit(cache=True)
def _flow_hash(
    a_hi: np.uint64, a_lo: np.uint64, b_hi: np.uint64, b_lo: np.uint64, packed: np.uint64
) -> np.uint64:
    """Hash of a flow key that does not depend on which side is ``a``."""
    port_a = packed >> _U64_48
    port_b = (packed >> _U64_32) & np.uint64(0xFFFF)
    tail = packed & np.uint64(0xFFFFFFFF)
    # each part is mixed before the next is folded in: XOR-ing raw parts would let related
    # addresses and ports cancel out (10.0.0.1:1025 and 10.0.0.2:1026 would collide)
    h_a = _mix(_mix(_mix(a_hi) ^ a_lo) ^ port_a)
    h_b = _mix(_mix(_mix(b_hi) ^ b_lo) ^ port_b)
    return _mix((h_a + h_b) ^ (tail * _GOLDEN))


@njit(cache=True)
def _binding_hash(ip_hi: np.uint64, ip_lo: np.uint64, packed: np.uint64) -> np.uint64:
    return _mix(_mix(_mix(ip_hi) ^ ip_lo) ^ packed)


@njit(cache=True)
def _edge_hash(
    a_hi: np.uint64, a_lo: np.uint64, b_hi: np.uint64, b_lo: np.uint64, packed: np.uint64
) -> np.uint64:
    return _mix(_mix(_mix(_mix(_mix(a_hi) ^ a_lo) ^ b_hi) ^ b_lo) ^ packed)


@njit(cache=True)
def _join_edge(
    ekeys: np.ndarray,
    evals: np.ndarray,
    counts: np.ndarray,
    s_hi: np.uint64,
    s_lo: np.uint64,
    d_hi: np.uint64,
    d_lo: np.uint64,
    port: int,
    proto: int,
    samples: int,
    closed_edges: np.ndarray,
) -> int:
    """Count a flow's first payload on its edge: ``F_EDGE`` for the flow (see there). An edge
    the sink closed (``closed_edges[edge id]`` set) takes no more samples."""
    if s_hi < d_hi or (s_hi == d_hi and s_lo <= d_lo):
        a_hi, a_lo, b_hi, b_lo = s_hi, s_lo, d_hi, d_lo
    else:
        a_hi, a_lo, b_hi, b_lo = d_hi, d_lo, s_hi, s_lo
    packed = (np.uint64(port) << _U64_8) | np.uint64(proto)
    mask = ekeys.shape[0] - 1
    slot = np.int64(_edge_hash(a_hi, a_lo, b_hi, b_lo, packed) & np.uint64(mask))
    while True:
        if evals[slot, G_USED] == 0:
            ekeys[slot, 0] = a_hi
            ekeys[slot, 1] = a_lo
            ekeys[slot, 2] = b_hi
            ekeys[slot, 3] = b_lo
            ekeys[slot, 4] = packed
            evals[slot, G_USED] = 1
            evals[slot, G_ID] = counts[C_NEXT_EDGE_ID]
            counts[C_NEXT_EDGE_ID] += 1
            counts[C_EDGES] += 1
            break
        if (
            ekeys[slot, 4] == packed
            and ekeys[slot, 1] == a_lo
            and ekeys[slot, 3] == b_lo
            and ekeys[slot, 0] == a_hi
            and ekeys[slot, 2] == b_hi
        ):
            break
        slot = (slot + 1) & mask
    seen = evals[slot, G_FLOWS]
    evals[slot, G_FLOWS] = seen + 1
    gid = evals[slot, G_ID]
    if seen < samples and (gid >= closed_edges.shape[0] or closed_edges[gid] == 0):
        return gid + 1
    return -(gid + 1)


@njit(cache=True)
def _bind(
    bkeys: np.ndarray,
    bvals: np.ndarray,
    ip_hi: np.uint64,
    ip_lo: np.uint64,
    mac: np.uint64,
    vlan: int,
    ts: int,
    source: int,
) -> int:
    """Record that ``ip`` was seen with ``mac`` on ``vlan``; returns 1 when a row was added."""
    packed = (mac << _U64_12) | np.uint64(vlan)
    mask = bkeys.shape[0] - 1
    h = _binding_hash(ip_hi, ip_lo, packed)
    slot = np.int64(h & np.uint64(mask))
    while True:
        if bvals[slot, B_USED] == 0:
            bkeys[slot, 0] = ip_hi
            bkeys[slot, 1] = ip_lo
            bkeys[slot, 2] = packed
            bvals[slot, B_USED] = 1
            bvals[slot, B_FIRST_TS] = ts
            bvals[slot, B_LAST_TS] = ts
            bvals[slot, B_PACKETS] = 1
            bvals[slot, B_SOURCES] = source
            return 1
        if bkeys[slot, 0] == ip_hi and bkeys[slot, 1] == ip_lo and bkeys[slot, 2] == packed:
            if ts < bvals[slot, B_FIRST_TS]:
                bvals[slot, B_FIRST_TS] = ts
            if ts > bvals[slot, B_LAST_TS]:
                bvals[slot, B_LAST_TS] = ts
            bvals[slot, B_PACKETS] += 1
            bvals[slot, B_SOURCES] |= source
            return 0
        slot = (slot + 1) & mask


@njit(cache=True)
def _account_flow(
    fkeys: np.ndarray,
    fvals: np.ndarray,
    s_hi: np.uint64,
    s_lo: np.uint64,
    d_hi: np.uint64,
    d_lo: np.uint64,
    sport: int,
    dport: int,
    proto: int,
    vlan: int,
    inner: int,
    ts: int,
    wirelen: int,
    tcp_flags: int,
    events: int,
    mac_src: np.uint64,
    mac_dst: np.uint64,
    next_id: int,
) -> tuple[int, int, int]:
    """Add one packet to its flow: ``(1 if the row is new, its slot, direction)``."""
    tail = (np.uint64(proto) << _U64_24) | (np.uint64(vlan) << _U64_12) | np.uint64(inner)
    fwd = (np.uint64(sport) << _U64_48) | (np.uint64(dport) << _U64_32) | tail
    rev = (np.uint64(dport) << _U64_48) | (np.uint64(sport) << _U64_32) | tail
    h = _flow_hash(s_hi, s_lo, d_hi, d_lo, fwd)
    mask = fkeys.shape[0] - 1
    slot = np.int64(h & np.uint64(mask))
    while True:
        if fvals[slot, F_USED] == 0:
            fkeys[slot, K_A_HI] = s_hi
            fkeys[slot, K_A_LO] = s_lo
            fkeys[slot, K_B_HI] = d_hi
            fkeys[slot, K_B_LO] = d_lo
            fkeys[slot, K_PACKED] = fwd
            fvals[slot, F_USED] = 1
            fvals[slot, F_FIRST_TS] = ts
            fvals[slot, F_LAST_TS] = ts
            fvals[slot, F_PKTS_AB] = 1
            fvals[slot, F_BYTES_AB] = wirelen
            fvals[slot, F_FLAGS_AB] = tcp_flags
            fvals[slot, F_EVENTS_AB] = events
            fvals[slot, F_MAC_A] = np.int64(mac_src)
            fvals[slot, F_MAC_B] = np.int64(mac_dst)
            fvals[slot, F_ID] = next_id
            return 1, slot, 0
        direction = -1
        if (
            fkeys[slot, K_PACKED] == fwd
            and fkeys[slot, K_A_LO] == s_lo
            and fkeys[slot, K_B_LO] == d_lo
            and fkeys[slot, K_A_HI] == s_hi
            and fkeys[slot, K_B_HI] == d_hi
        ):
            direction = 0
        elif (
            fkeys[slot, K_PACKED] == rev
            and fkeys[slot, K_A_LO] == d_lo
            and fkeys[slot, K_B_LO] == s_lo
            and fkeys[slot, K_A_HI] == d_hi
            and fkeys[slot, K_B_HI] == s_hi
        ):
            direction = 1
        if direction >= 0:
            if ts < fvals[slot, F_FIRST_TS]:
                fvals[slot, F_FIRST_TS] = ts
            if ts > fvals[slot, F_LAST_TS]:
                fvals[slot, F_LAST_TS] = ts
            if direction == 0:
                fvals[slot, F_PKTS_AB] += 1
                fvals[slot, F_BYTES_AB] += wirelen
                fvals[slot, F_FLAGS_AB] |= tcp_flags
                fvals[slot, F_EVENTS_AB] |= events
            else:
                fvals[slot, F_PKTS_BA] += 1
                fvals[slot, F_BYTES_BA] += wirelen
                fvals[slot, F_FLAGS_BA] |= tcp_flags
                fvals[slot, F_EVENTS_BA] |= events
                if fvals[slot, F_MAC_B] == 0 or fvals[slot, F_PKTS_BA] == 1:
                    fvals[slot, F_MAC_B] = np.int64(mac_src)
            return 0, slot, direction
        slot = (slot + 1) & mask


@njit(cache=True)
def _is_bindable(hi: np.uint64, lo: np.uint64) -> bool:
    """Unicast, specified source addresses only (no 0.0.0.0, ::, multicast, broadcast)."""
    if hi == np.uint64(0) and lo == np.uint64(0):
        return False
    if hi == np.uint64(0) and (lo >> _U64_32) == np.uint64(0xFFFF):
        v4 = lo & np.uint64(0xFFFFFFFF)
        if v4 == np.uint64(0) or v4 == np.uint64(0xFFFFFFFF):
            return False
        if (v4 >> np.uint64(28)) == np.uint64(0xE):
            return False
        return True
    return (hi >> np.uint64(56)) != np.uint64(0xFF)


@njit(cache=True)
def _packet(
    buf: np.ndarray,
    p: int,
    caplen: int,
    wirelen: int,
    ts: int,
    linktype: int,
    fkeys: np.ndarray,
    fvals: np.ndarray,
    bkeys: np.ndarray,
    bvals: np.ndarray,
    counts: np.ndarray,
    stats: np.ndarray,
    inspect: np.ndarray,
    inspect_new: int,
    l2_types: np.ndarray,
    claimed_ports: np.ndarray,
    scratch: np.ndarray,
) -> int:
    """Decode one packet of ``caplen`` bytes at ``buf[p]`` and account it. Returns
    ``HAND_FRAME`` / ``HAND_PAYLOAD`` when the dissect stage may want its frame or payload
    (described in ``scratch``, ``X_*``), else ``HAND_NONE``: pure metering never pays for
    the hand-off."""
    end = p + caplen
    vlan = 0
    inner = 0
    tags = 0
    mac_src = np.uint64(0)
    mac_dst = np.uint64(0)
    et = -1
    q = p
    if linktype == 1:  # Ethernet
        if caplen < 14:
            stats[S_TRUNCATED] += 1
            return HAND_NONE
        mac_dst = _u48be(buf, p)
        mac_src = _u48be(buf, p + 6)
        et = _u16be(buf, p + 12)
        q = p + 14
    elif linktype == 113:  # Linux cooked v1
        if caplen < 16:
            stats[S_TRUNCATED] += 1
            return HAND_NONE
        if _u16be(buf, p + 2) == 1 and _u16be(buf, p + 4) == 6:
            mac_src = _u48be(buf, p + 6)
        et = _u16be(buf, p + 14)
        q = p + 16
    elif linktype == 276:  # Linux cooked v2
        if caplen < 20:
            stats[S_TRUNCATED] += 1
            return HAND_NONE
        if _u16be(buf, p + 8) == 1 and buf[p + 11] == 6:
            mac_src = _u48be(buf, p + 12)
        et = _u16be(buf, p)
        q = p + 20
    elif linktype == 101 or linktype == 12 or linktype == 14:  # raw IP
        if caplen < 1:
            stats[S_TRUNCATED] += 1
            return HAND_NONE
        version = buf[p] >> 4
        if version == 4:
            et = 0x0800
        elif version == 6:
            et = 0x86DD
        q = p
    elif linktype == 228:
        et = 0x0800
    elif linktype == 229:
        et = 0x86DD
    elif linktype == 0 or linktype == 108:  # BSD loopback / OpenBSD loop
        if caplen < 4:
            stats[S_TRUNCATED] += 1
            return HAND_NONE
        if linktype == 108:
            family = _u32be(buf, p)
        else:
            family = _u32le(buf, p)
            if family > 0xFFFF:
                family = _u32be(buf, p)
        if family == 2:
            et = 0x0800
        elif family == 10 or family == 24 or family == 28 or family == 30:
            et = 0x86DD
        q = p + 4
    else:
        stats[S_UNSUPPORTED_LINK] += 1
        return HAND_NONE

    # 802.1Q / 802.1ad / legacy Q-in-Q tags
    while (et == 0x8100 or et == 0x88A8 or et == 0x9100 or et == 0x9200) and tags < 8:
        if q + 4 > end:
            stats[S_TRUNCATED] += 1
            return HAND_NONE
        vid = _u16be(buf, q) & 0xFFF
        if tags == 0:
            vlan = vid
        else:
            inner = vid
        et = _u16be(buf, q + 2)
        q += 4
        tags += 1
    host_vlan = inner if tags > 1 else vlan

    s_hi = np.uint64(0)
    s_lo = np.uint64(0)
    d_hi = np.uint64(0)
    d_lo = np.uint64(0)
    proto = 0
    l4 = 0
    l4_end = 0
    first_fragment = True
    depth = 0
    while True:
        if et == 0x8864:  # PPPoE session stage (RFC 2516): 6-byte header, PPP protocol
            if q + 8 > end:
                stats[S_TRUNCATED] += 1
                return HAND_NONE
            ppp = _u16be(buf, q + 6)
            q += 8
            if ppp == 0x0021:
                et = 0x0800
            elif ppp == 0x0057:
                et = 0x86DD
            else:
                stats[S_OTHER_L3] += 1
                return HAND_NONE
        if et == 0x0806:  # ARP
            stats[S_ARP] += 1
            if q + 28 > end:
                stats[S_TRUNCATED] += 1
                return HAND_NONE
            if _u16be(buf, q) == 1 and _u16be(buf, q + 2) == 0x0800 and buf[q + 4] == 6:
                if buf[q + 5] == 4:
                    sender_mac = _u48be(buf, q + 8)
                    sender_ip = np.uint64(_u32be(buf, q + 14))
                    if sender_mac != np.uint64(0):
                        s_lo = _MAPPED_V4 | sender_ip
                        if _is_bindable(np.uint64(0), s_lo):
                            counts[C_BINDINGS] += _bind(
                                bkeys, bvals, np.uint64(0), s_lo, sender_mac, host_vlan, ts, SRC_ARP
                            )
            return HAND_NONE

        first_fragment = True
        if et == 0x0800:
            stats[S_IPV4] += 1
            if q + 20 > end:
                stats[S_TRUNCATED] += 1
                return HAND_NONE
            vihl = buf[q]
            ihl = np.int64(vihl & 0xF) * 4
            total = _u16be(buf, q + 2)
            if (vihl >> 4) != 4 or ihl < 20 or total < ihl:
                stats[S_TRUNCATED] += 1
                return HAND_NONE
            frag = _u16be(buf, q + 6)
            proto = np.int64(buf[q + 9])
            s_hi = np.uint64(0)
            d_hi = np.uint64(0)
            s_lo = _MAPPED_V4 | np.uint64(_u32be(buf, q + 12))
            d_lo = _MAPPED_V4 | np.uint64(_u32be(buf, q + 16))
            l4 = q + ihl
            l4_end = q + total
            if (frag & 0x1FFF) != 0:
                first_fragment = False
        elif et == 0x86DD:
            stats[S_IPV6] += 1
            if q + 40 > end:
                stats[S_TRUNCATED] += 1
                return HAND_NONE
            if (buf[q] >> 4) != 6:
                stats[S_TRUNCATED] += 1
                return HAND_NONE
            plen = _u16be(buf, q + 4)
            proto = np.int64(buf[q + 6])
            s_hi = _u64be(buf, q + 8)
            s_lo = _u64be(buf, q + 16)
            d_hi = _u64be(buf, q + 24)
            d_lo = _u64be(buf, q + 32)
            l4 = q + 40
            l4_end = l4 + plen
            for _ in range(8):
                if proto == 0 or proto == 43 or proto == 60 or proto == 135 or proto == 139:
                    if l4 + 2 > end:
                        stats[S_TRUNCATED] += 1
                        return HAND_NONE
                    nxt = np.int64(buf[l4])
                    l4 += (np.int64(buf[l4 + 1]) + 1) * 8
                    proto = nxt
                elif proto == 44:  # fragment header
                    if l4 + 8 > end:
                        stats[S_TRUNCATED] += 1
                        return HAND_NONE
                    if (_u16be(buf, l4 + 2) >> 3) != 0:
                        first_fragment = False
                    proto = np.int64(buf[l4])
                    l4 += 8
                elif proto == 51:  # authentication header
                    if l4 + 2 > end:
                        stats[S_TRUNCATED] += 1
                        return HAND_NONE
                    nxt = np.int64(buf[l4])
                    l4 += (np.int64(buf[l4 + 1]) + 2) * 4
                    proto = nxt
                else:
                    break
        else:
            stats[S_OTHER_L3] += 1
            if depth == 0 and linktype == 1 and _wants_l2(l2_types, et) and end > q:
                scratch[X_START] = q
                scratch[X_STOP] = end
                scratch[X_TS] = ts
                scratch[X_VLAN] = host_vlan
                scratch[X_MAC_SRC] = np.int64(mac_src)
                scratch[X_MAC_DST] = np.int64(mac_dst)
                scratch[X_ETHERTYPE] = et if et > 1500 else 0
                return HAND_FRAME
            return HAND_NONE

        if mac_src != np.uint64(0) and _is_bindable(s_hi, s_lo):
            counts[C_BINDINGS] += _bind(bkeys, bvals, s_hi, s_lo, mac_src, host_vlan, ts, SRC_FRAME)

        if not first_fragment:
            stats[S_FRAGMENTS] += 1
            return HAND_NONE

        if depth >= MAX_TUNNELS:
            break
        # tunnels: the outer packet is accounted as its own flow, then the inner one is
        # decoded in its place (inner addresses, ports and, for an inner frame, MACs)
        stop = min(l4_end, end)
        inner_at = -1
        inner_et = 0
        outer_sport = 0
        outer_dport = 0
        outer_events = 0
        if proto == 4 or proto == 41:  # IPv4 / IPv6 in IP (RFC 2003, RFC 4213 6in4)
            inner_at = l4
            inner_et = 0x0800 if proto == 4 else 0x86DD
        elif proto == 47 and l4 + 4 <= stop:  # GRE (RFC 2784/2890), ERSPAN
            gflags = _u16be(buf, l4)
            gtype = _u16be(buf, l4 + 2)
            if (gflags & 0x7) == 0:  # version 0 (not PPTP's enhanced GRE)
                at = l4 + 4
                if (gflags & 0x8000) != 0:
                    at += 4  # checksum, reserved
                if (gflags & 0x2000) != 0:
                    at += 4  # key
                if (gflags & 0x1000) != 0:
                    at += 4  # sequence number
                if gtype == 0x0800 or gtype == 0x86DD:
                    inner_at = at
                    inner_et = gtype
                elif gtype == 0x6558:  # transparent Ethernet bridging
                    inner_at = at
                elif gtype == 0x88BE:  # ERSPAN type II (type I: no header, no sequence)
                    inner_at = at + 8 if (gflags & 0x1000) != 0 else at
                elif gtype == 0x22EB and at + 12 <= stop:  # ERSPAN type III
                    inner_at = at + 12
                    if (buf[at + 11] & 0x01) != 0:
                        inner_at += 8  # platform specific subheader
        elif (proto == 17 or proto == 136) and l4 + 16 <= stop:
            outer_dport = _u16be(buf, l4 + 2)
            if outer_dport == 4789 and (buf[l4 + 8] & 0x08) != 0:  # VXLAN (RFC 7348)
                outer_sport = _u16be(buf, l4)
                outer_events = EV_PAYLOAD
                inner_at = l4 + 16
        if inner_at < 0 or inner_at >= stop:
            break
        if outer_events != 0:
            stats[S_UDP] += 1
        created, slot, direction = _account_flow(
            fkeys,
            fvals,
            s_hi,
            s_lo,
            d_hi,
            d_lo,
            outer_sport,
            outer_dport if outer_events != 0 else 0,
            proto,
            vlan,
            inner,
            ts,
            wirelen,
            0,
            outer_events,
            mac_src,
            mac_dst,
            counts[C_NEXT_FLOW_ID],
        )
        counts[C_FLOWS] += created
        counts[C_NEXT_FLOW_ID] += created
        depth += 1
        q = inner_at
        end = stop
        if inner_et != 0:
            et = inner_et
            mac_src = np.uint64(0)  # the outer frame's MACs are the tunnel's, not the host's
            mac_dst = np.uint64(0)
        else:  # an inner Ethernet frame (its own 802.1Q tags skipped)
            if q + 14 > end:
                stats[S_TRUNCATED] += 1
                return HAND_NONE
            mac_dst = _u48be(buf, q)
            mac_src = _u48be(buf, q + 6)
            et = _u16be(buf, q + 12)
            q += 14
            tags = 0
            while (et == 0x8100 or et == 0x88A8) and tags < 8:
                if q + 4 > end:
                    stats[S_TRUNCATED] += 1
                    return HAND_NONE
                et = _u16be(buf, q + 2)
                q += 4
                tags += 1

    sport = 0
    dport = 0
    flags = 0
    events = 0
    payload = 0
    seq = 0
    if proto == 6:
        stats[S_TCP] += 1
        if l4 + 14 > end:
            stats[S_TRUNCATED] += 1
            return HAND_NONE
        sport = _u16be(buf, l4)
        dport = _u16be(buf, l4 + 2)
        flags = np.int64(buf[l4 + 13])
        doff = (np.int64(buf[l4 + 12]) >> 4) * 4
        payload = l4 + doff
        seq = _u32be(buf, l4 + 4)
        if (flags & 0x02) != 0:
            if (flags & 0x10) != 0:
                events |= EV_SYN_ACK
            else:
                events |= EV_PURE_SYN
        if (flags & 0x04) != 0:
            events |= EV_RST
        if (flags & 0x01) != 0:
            events |= EV_FIN
        if (flags & 0x10) != 0:
            events |= EV_ACK
        if l4_end - l4 > doff:
            events |= EV_PAYLOAD
    elif proto == 17 or proto == 136:  # UDP, UDP-Lite
        stats[S_UDP] += 1
        if l4 + 4 > end:
            stats[S_TRUNCATED] += 1
            return HAND_NONE
        sport = _u16be(buf, l4)
        dport = _u16be(buf, l4 + 2)
        payload = l4 + 8
        if l4_end - l4 > 8:
            events |= EV_PAYLOAD
    elif proto == 1 or proto == 58:
        stats[S_ICMP] += 1
    wanted = (events & EV_PAYLOAD) != 0
    if proto != 6 and proto != 17 and proto != 136 and claimed_ports.shape[0] > 2:
        if claimed_ports[2, proto] != 0 and l4_end > l4:  # an IP protocol a dissector wants
            payload = l4
            wanted = True

    created, slot, direction = _account_flow(
        fkeys,
        fvals,
        s_hi,
        s_lo,
        d_hi,
        d_lo,
        sport,
        dport,
        proto,
        vlan,
        inner,
        ts,
        wirelen,
        flags,
        events,
        mac_src,
        mac_dst,
        counts[C_NEXT_FLOW_ID],
    )
    counts[C_FLOWS] += created
    counts[C_NEXT_FLOW_ID] += created
    if not wanted:
        return HAND_NONE
    fid = fvals[slot, F_ID]
    flag = inspect[fid] if fid < inspect.shape[0] else inspect_new
    if flag == INSPECT_OFF or fvals[slot, F_EDGE] < 0:
        return HAND_NONE  # nothing wanted, or a flow left to its edge's first ones
    if proto == 6 and fvals[slot, F_HEAD_AB + direction] < 0:
        return HAND_NONE  # this direction's head was handed over
    stop = min(l4_end, end)
    if stop <= payload:
        return HAND_NONE
    scratch[X_START] = payload
    scratch[X_STOP] = stop
    scratch[X_TS] = ts
    scratch[X_VLAN] = host_vlan
    scratch[X_MAC_SRC] = np.int64(mac_src)
    scratch[X_MAC_DST] = np.int64(mac_dst)
    scratch[X_ETHERTYPE] = et
    scratch[X_SLOT] = slot
    scratch[X_DIRECTION] = direction
    scratch[X_FLAG] = flag
    scratch[X_SEQ] = seq
    scratch[X_PROTO] = proto
    scratch[X_SPORT] = sport
    scratch[X_DPORT] = dport
    scratch[X_TCP_FLAGS] = flags
    return HAND_PAYLOAD


@njit(cache=True)
def _hand_off(
    buf: np.ndarray,
    scratch: np.ndarray,
    what: int,
    fkeys: np.ndarray,
    fvals: np.ndarray,
    counts: np.ndarray,
    emit: np.ndarray,
    out: np.ndarray,
    claimed_ports: np.ndarray,
    ekeys: np.ndarray,
    evals: np.ndarray,
    edge_samples: int,
    closed_edges: np.ndarray,
    heads: np.ndarray,
    blocks: np.ndarray,
    bnext: np.ndarray,
    limits: np.ndarray,
) -> None:
    """Hand the frame or payload ``_packet`` described over to the dissect stage, as far as
    it wants it: an emit row, a probe, or bytes taken into a TCP head."""
    start = scratch[X_START]
    stop = scratch[X_STOP]
    ts = scratch[X_TS]
    host_vlan = scratch[X_VLAN]
    mac_src = np.uint64(scratch[X_MAC_SRC])
    mac_dst = np.uint64(scratch[X_MAC_DST])
    et = scratch[X_ETHERTYPE]
    if what == HAND_FRAME:
        at = _put(out, counts, buf, start, stop - start)
        _write_row(
            emit,
            counts[C_EMITTED],
            -1,
            0,
            at,
            stop - start,
            ts,
            0,
            0,
            0,
            0,
            host_vlan,
            np.uint64(0),
            np.uint64(0),
            np.uint64(0),
            np.uint64(0),
            mac_src,
            mac_dst,
            et,
            0,
            -1,
            KIND_PAYLOAD,
        )
        emit[counts[C_EMITTED], E_SLOT] = -1
        counts[C_EMITTED] += 1
        return
    slot = scratch[X_SLOT]
    direction = scratch[X_DIRECTION]
    flag = scratch[X_FLAG]
    seq = scratch[X_SEQ]
    proto = scratch[X_PROTO]
    sport = scratch[X_SPORT]
    dport = scratch[X_DPORT]
    flags = scratch[X_TCP_FLAGS]
    fid = fvals[slot, F_ID]
    payload = start
    if direction == 0:
        s_hi, s_lo = fkeys[slot, K_A_HI], fkeys[slot, K_A_LO]
        d_hi, d_lo = fkeys[slot, K_B_HI], fkeys[slot, K_B_LO]
    else:
        s_hi, s_lo = fkeys[slot, K_B_HI], fkeys[slot, K_B_LO]
        d_hi, d_lo = fkeys[slot, K_A_HI], fkeys[slot, K_A_LO]
    edge = fvals[slot, F_EDGE]
    if edge == 0 and edge_samples > 0:
        port = sport if sport < dport else dport
        samples = edge_samples
        if proto == 17 or proto == 136:
            wanted = int(claimed_ports[1, port])
            if wanted > 0:
                samples = min(wanted, CLAIMED_UDP_EDGE_SAMPLES)
        edge = _join_edge(
            ekeys, evals, counts, s_hi, s_lo, d_hi, d_lo, port, proto, samples, closed_edges
        )
        fvals[slot, F_EDGE] = edge
    if edge < 0:
        return  # left to the edge's first flows
    if proto == 6:
        column = F_HEAD_AB + direction
        if fvals[slot, column] < 0:
            return  # this direction's head was handed over
        port_claimed = claimed_ports[0, sport] != 0 or claimed_ports[0, dport] != 0
        if fvals[slot, column] == 0:  # the direction's first payload
            if flag == INSPECT_ON and (fvals[slot, F_HEAD_BA - direction] == 0 or not port_claimed):
                # a probe for the sink's signatures: the flow's first payload, or a later
                # direction's first one while no port settles the dissector
                at = _put(out, counts, buf, payload, stop - payload)
                _write_row(
                    emit,
                    counts[C_EMITTED],
                    fid,
                    direction,
                    at,
                    stop - payload,
                    ts,
                    seq,
                    proto,
                    sport,
                    dport,
                    host_vlan,
                    s_hi,
                    s_lo,
                    d_hi,
                    d_lo,
                    mac_src,
                    mac_dst,
                    et,
                    flags,
                    edge - 1 if edge > 0 else -1,
                    KIND_PROBE,
                )
                emit[counts[C_EMITTED], E_SLOT] = slot
                counts[C_EMITTED] += 1
                probe_batch = counts[C_BATCH]
            else:
                probe_batch = -1
            h = _open_head(heads, counts, slot, seq)
            heads[h, H_PROBE_BATCH] = probe_batch
            _write_row(
                heads,
                h,
                fid,
                direction,
                0,
                0,
                ts,
                seq,
                proto,
                sport,
                dport,
                host_vlan,
                s_hi,
                s_lo,
                d_hi,
                d_lo,
                mac_src,
                mac_dst,
                et,
                flags,
                edge - 1 if edge > 0 else -1,
                KIND_HEAD,
            )
            fvals[slot, column] = h + 1
        _tcp_segment(
            buf,
            payload,
            stop - payload,
            seq,
            fvals[slot, column] - 1,
            slot,
            direction,
            flag,
            port_claimed,
            fvals,
            counts,
            emit,
            out,
            heads,
            blocks,
            bnext,
            limits,
        )
        return
    if proto == 17 or proto == 136:
        claimed = (
            flag == INSPECT_CLAIMED or claimed_ports[1, sport] != 0 or claimed_ports[1, dport] != 0
        )
    else:  # an IP protocol's datagram
        claimed = flag == INSPECT_CLAIMED or claimed_ports[2, proto] != 0
    column = F_EMITTED_AB + direction
    emitted = fvals[slot, column]
    if not claimed and emitted >= 1:
        return  # undecided: a direction's first datagram is enough for a signature
    if emitted >= MAX_EMIT_DATAGRAMS:
        return
    fvals[slot, column] += 1
    at = _put(out, counts, buf, payload, stop - payload)
    _write_row(
        emit,
        counts[C_EMITTED],
        fid,
        direction,
        at,
        stop - payload,
        ts,
        seq,
        proto,
        sport,
        dport,
        host_vlan,
        s_hi,
        s_lo,
        d_hi,
        d_lo,
        mac_src,
        mac_dst,
        et,
        flags,
        edge - 1 if edge > 0 else -1,
        KIND_PAYLOAD,
    )
    emit[counts[C_EMITTED], E_SLOT] = slot
    counts[C_EMITTED] += 1


@njit(cache=True)
def _wants_l2(l2_types: np.ndarray, et: int) -> bool:
    """Whether link-layer frames of this EtherType (0 standing for 802.3 LLC) are wanted."""
    key = et if et > 1500 else 0
    for i in range(l2_types.shape[0]):
        if l2_types[i] == key:
            return True
    return False


@njit(cache=True)
def _write_row(
    table: np.ndarray,
    i: int,
    flow_id: int,
    direction: int,
    offset: int,
    length: int,
    ts: int,
    seq: int,
    proto: int,
    sport: int,
    dport: int,
    vlan: int,
    s_hi: np.uint64,
    s_lo: np.uint64,
    d_hi: np.uint64,
    d_lo: np.uint64,
    mac_src: np.uint64,
    mac_dst: np.uint64,
    ethertype: int,
    tcp_flags: int,
    edge: int,
    kind: int,
) -> None:
    """Fill the ``E_*`` columns of row ``i`` of ``table`` (``emit``, or ``heads``)."""
    table[i, E_FLOW_ID] = flow_id
    table[i, E_DIRECTION] = direction
    table[i, E_OFFSET] = offset
    table[i, E_LENGTH] = length
    table[i, E_TS] = ts
    table[i, E_SEQ] = seq
    table[i, E_PROTO] = proto
    table[i, E_SPORT] = sport
    table[i, E_DPORT] = dport
    table[i, E_VLAN] = vlan
    table[i, E_SRC_HI] = np.int64(s_hi)
    table[i, E_SRC_LO] = np.int64(s_lo)
    table[i, E_DST_HI] = np.int64(d_hi)
    table[i, E_DST_LO] = np.int64(d_lo)
    table[i, E_SRC_MAC] = np.int64(mac_src)
    table[i, E_DST_MAC] = np.int64(mac_dst)
    table[i, E_ETHERTYPE] = ethertype
    table[i, E_TCP_FLAGS] = tcp_flags
    table[i, E_EDGE] = edge
    table[i, E_KIND] = kind


@njit(cache=True)
def _put(out: np.ndarray, counts: np.ndarray, buf: np.ndarray, start: int, length: int) -> int:
    """Copy ``buf[start : start + length]`` to the end of ``out``; returns where it went."""
    at = counts[C_OUT]
    out[at : at + length] = buf[start : start + length]
    counts[C_OUT] = at + length
    return at


# --- TCP heads ---------------------------------------------------------------------------------


@njit(cache=True)
def _open_head(heads: np.ndarray, counts: np.ndarray, flow_slot: int, seq: int) -> int:
    """Take a free row of the head table (the caller checked one is free)."""
    h = counts[C_FREE_HEAD]
    counts[C_FREE_HEAD] = heads[h, H_NEXT_FREE]
    counts[C_FREE_HEADS] -= 1
    heads[h, H_USED] = 1
    heads[h, H_FLOW_SLOT] = flow_slot
    heads[h, H_NEXT_SEQ] = seq
    heads[h, H_LEN] = 0
    heads[h, H_FIRST_BLOCK] = -1
    heads[h, H_LAST_BLOCK] = -1
    heads[h, H_BLOCKS] = 0
    heads[h, H_STALLED] = 0
    heads[h, H_NEXT_FREE] = -1
    heads[h, H_PROBE_BATCH] = -1
    return h


@njit(cache=True)
def _append(
    heads: np.ndarray,
    blocks: np.ndarray,
    bnext: np.ndarray,
    counts: np.ndarray,
    h: int,
    buf: np.ndarray,
    p: int,
    n: int,
) -> None:
    """Append ``buf[p : p + n]`` to head ``h`` (the caller checked enough blocks are free)."""
    length = heads[h, H_LEN]
    last = heads[h, H_LAST_BLOCK]
    used = HEAD_BLOCK
    if last >= 0:
        used = length - (heads[h, H_BLOCKS] - 1) * HEAD_BLOCK
    added = n
    while n > 0:
        if used == HEAD_BLOCK:
            b = counts[C_FREE_BLOCK]
            counts[C_FREE_BLOCK] = bnext[b]
            counts[C_FREE_BLOCKS] -= 1
            bnext[b] = -1
            if last < 0:
                heads[h, H_FIRST_BLOCK] = b
            else:
                bnext[last] = b
            last = b
            heads[h, H_BLOCKS] += 1
            used = 0
        m = min(n, HEAD_BLOCK - used)
        blocks[last, used : used + m] = buf[p : p + m]
        used += m
        p += m
        n -= m
    heads[h, H_LAST_BLOCK] = last
    heads[h, H_LEN] = length + added
    counts[C_HEAD_BYTES] += added


@njit(cache=True)
def _new_bytes(next_seq: int, seq: int, n: int) -> bool:
    """Whether a segment of ``n`` bytes at ``seq`` holds bytes from ``next_seq`` on."""
    ahead = (seq - next_seq) & _SEQ_MASK
    if ahead >= _SEQ_HALF:
        return ((next_seq - seq) & _SEQ_MASK) < n
    return True


@njit(cache=True)
def _head_limit(fid: int, limits: np.ndarray) -> int:
    """Bytes of each head the sink wants from a claimed flow."""
    if fid < limits.shape[0]:
        return max(min(limits[fid], MAX_EMIT_TCP_BYTES), 0)
    return MAX_EMIT_TCP_BYTES


@njit(cache=True)
def _tcp_segment(
    buf: np.ndarray,
    p: int,
    n: int,
    seq: int,
    h: int,
    slot: int,
    direction: int,
    flag: int,
    port_claimed: bool,
    fvals: np.ndarray,
    counts: np.ndarray,
    emit: np.ndarray,
    out: np.ndarray,
    heads: np.ndarray,
    blocks: np.ndarray,
    bnext: np.ndarray,
    limits: np.ndarray,
) -> None:
    """Take one TCP segment into its direction's head: in sequence order, retransmitted bytes
    once, a gap ends the head. A claimed flow's head is handed over once it holds the flow's
    ``limits``. Until the sink decides, segments are taken whole while the direction has sent
    less than ``MAX_EMIT_TCP_BYTES`` (a claimed port) or ``UNDECIDED_TCP_BYTES`` (an
    unclaimed one); the sink cuts the head to what its dissector wants. A direction that
    reaches the undecided budget while its probe waits in the batch asks for the sink's
    decision (``C_DECIDE``) rather than ending its head."""
    decided = flag == INSPECT_CLAIMED
    column = F_EMITTED_AB + direction
    emitted = fvals[slot, column]
    budget = MAX_EMIT_TCP_BYTES if decided or port_claimed else UNDECIDED_TCP_BYTES
    limit = _head_limit(fvals[slot, F_ID], limits) if decided else MAX_EMIT_TCP_BYTES
    if emitted >= budget:
        if _new_bytes(heads[h, H_NEXT_SEQ], seq, n):
            heads[h, H_STALLED] = 1  # bytes that will never be taken: the head ends here
    elif heads[h, H_STALLED] == 0:
        fvals[slot, column] = emitted + n
        next_seq = heads[h, H_NEXT_SEQ]
        ahead = (seq - next_seq) & _SEQ_MASK
        skip = 0
        if ahead >= _SEQ_HALF:  # a retransmission, maybe overlapping new bytes
            skip = (next_seq - seq) & _SEQ_MASK
        elif ahead != 0:  # a gap: the head ends here
            heads[h, H_STALLED] = 1
            skip = n
        if skip < n:
            take = min(n - skip, max(limit - heads[h, H_LEN], 0))
            if take > 0:
                _append(heads, blocks, bnext, counts, h, buf, p + skip, take)
            heads[h, H_NEXT_SEQ] = (seq + n) & _SEQ_MASK
            if take < n - skip and not decided:
                heads[h, H_STALLED] = 1  # the longest head, before a dissector said
        if (
            not decided
            and emitted + n >= budget
            and heads[h, H_STALLED] == 0
            and heads[h, H_PROBE_BATCH] == counts[C_BATCH]
        ):
            counts[C_DECIDE] = 1  # the sink has yet to see the probe: let it decide first
    if decided and (heads[h, H_STALLED] != 0 or heads[h, H_LEN] >= limit):
        _hand_over(heads, blocks, bnext, counts, fvals, emit, out, h, limit)


@njit(cache=True)
def _close_head(
    heads: np.ndarray, bnext: np.ndarray, counts: np.ndarray, fvals: np.ndarray, h: int
) -> None:
    """Free head ``h`` and its blocks; its direction takes nothing more."""
    first = heads[h, H_FIRST_BLOCK]
    if first >= 0:
        bnext[heads[h, H_LAST_BLOCK]] = counts[C_FREE_BLOCK]
        counts[C_FREE_BLOCK] = first
        counts[C_FREE_BLOCKS] += heads[h, H_BLOCKS]
    counts[C_HEAD_BYTES] -= heads[h, H_LEN]
    fvals[heads[h, H_FLOW_SLOT], F_HEAD_AB + heads[h, E_DIRECTION]] = -1
    heads[h, H_USED] = 0
    heads[h, H_NEXT_FREE] = counts[C_FREE_HEAD]
    counts[C_FREE_HEAD] = h
    counts[C_FREE_HEADS] += 1


@njit(cache=True)
def _hand_over(
    heads: np.ndarray,
    blocks: np.ndarray,
    bnext: np.ndarray,
    counts: np.ndarray,
    fvals: np.ndarray,
    emit: np.ndarray,
    out: np.ndarray,
    h: int,
    limit: int,
) -> None:
    """Emit head ``h`` (its first ``limit`` bytes; an empty head is not emitted), then free it.
    The caller checked ``emit`` has a row and ``out`` the room."""
    n = min(heads[h, H_LEN], limit)
    if n > 0:
        at = counts[C_OUT]
        b = heads[h, H_FIRST_BLOCK]
        done = 0
        while done < n:
            m = min(n - done, HEAD_BLOCK)
            out[at + done : at + done + m] = blocks[b, :m]
            done += m
            b = bnext[b]
        counts[C_OUT] = at + n
        i = counts[C_EMITTED]
        emit[i, :N_EMIT] = heads[h, :N_EMIT]
        emit[i, E_SLOT] = heads[h, H_FLOW_SLOT]
        emit[i, E_OFFSET] = at
        emit[i, E_LENGTH] = n
        counts[C_EMITTED] = i + 1
    _close_head(heads, bnext, counts, fvals, h)


@njit(cache=True)
def _has_room(counts: np.ndarray, emit: np.ndarray, out: np.ndarray) -> bool:
    return counts[C_EMITTED] < emit.shape[0] and counts[C_OUT] + MAX_EMIT_TCP_BYTES <= out.shape[0]


@njit(cache=True)
def settle_heads(
    heads: np.ndarray,
    blocks: np.ndarray,
    bnext: np.ndarray,
    counts: np.ndarray,
    fvals: np.ndarray,
    emit: np.ndarray,
    out: np.ndarray,
    inspect: np.ndarray,
    inspect_new: int,
    limits: np.ndarray,
    mode: int,
    flows: np.ndarray,
    target: int,
) -> bool:
    """Hand heads over between walks, as ``mode`` says (``SETTLE_*``): those the sink's flags
    now complete, dropping those of flows turned off - among the heads of the flows at rows
    ``flows`` of the flow table, or of every flow - or every head (the source has ended), or
    the largest until they hold at most ``target`` bytes. Heads go in order of flow id and
    direction (eviction: largest first). False when ``emit`` or ``out`` filled up first:
    drain them and call again.

    One entry point for all of these: each one numba loads from its cache costs milliseconds
    at the start of every capture."""
    if mode == SETTLE_EVICT:
        return _evict_heads(
            heads, blocks, bnext, counts, fvals, emit, out, inspect, inspect_new, limits, target
        )
    everything = mode == SETTLE_EVERYTHING
    if mode == SETTLE_FLOWS:
        size = 2 * flows.shape[0]
    else:
        size = heads.shape[0]
    ready = np.empty(size, dtype=np.int64)
    keys = np.empty(size, dtype=np.int64)
    n = 0
    if mode == SETTLE_FLOWS:
        # most heads wait for more bytes (thousands, of long flows): only those of the flows
        # the sink just saw can settle, the walk settles the rest as their bytes come
        for i in range(flows.shape[0]):
            slot = flows[i]
            if slot < 0 or slot >= fvals.shape[0]:
                continue
            for column in (F_HEAD_AB, F_HEAD_BA):
                h = fvals[slot, column] - 1
                if h >= 0 and _settles(heads, inspect, inspect_new, limits, False, h):
                    ready[n] = h
                    keys[n] = heads[h, E_FLOW_ID] * 2 + heads[h, E_DIRECTION]
                    n += 1
    else:
        for h in range(heads.shape[0]):
            if heads[h, H_USED] == 0:
                continue
            if _settles(heads, inspect, inspect_new, limits, everything, h):
                ready[n] = h
                keys[n] = heads[h, E_FLOW_ID] * 2 + heads[h, E_DIRECTION]
                n += 1
    if n == 0:
        return True
    last = -1
    for j in np.argsort(keys[:n]):
        if keys[j] == last:
            continue  # a flow listed again: its head is handled already
        last = keys[j]
        h = ready[j]
        if not _has_room(counts, emit, out):
            return False
        fid = heads[h, E_FLOW_ID]
        flag = inspect[fid] if fid < inspect.shape[0] else inspect_new
        if flag == INSPECT_OFF:
            _close_head(heads, bnext, counts, fvals, h)
        elif flag == INSPECT_CLAIMED:
            _hand_over(heads, blocks, bnext, counts, fvals, emit, out, h, _head_limit(fid, limits))
        else:
            _hand_over(heads, blocks, bnext, counts, fvals, emit, out, h, MAX_EMIT_TCP_BYTES)
    return True


@njit(cache=True)
def _settles(
    heads: np.ndarray,
    inspect: np.ndarray,
    inspect_new: int,
    limits: np.ndarray,
    everything: bool,
    h: int,
) -> bool:
    """Whether ``settle_heads`` closes or hands over used head ``h`` now."""
    fid = heads[h, E_FLOW_ID]
    flag = inspect[fid] if fid < inspect.shape[0] else inspect_new
    if flag == INSPECT_OFF:
        return True
    if flag == INSPECT_CLAIMED:
        return everything or heads[h, H_STALLED] != 0 or heads[h, H_LEN] >= _head_limit(fid, limits)
    return everything


@njit(cache=True)
def _evict_heads(
    heads: np.ndarray,
    blocks: np.ndarray,
    bnext: np.ndarray,
    counts: np.ndarray,
    fvals: np.ndarray,
    emit: np.ndarray,
    out: np.ndarray,
    inspect: np.ndarray,
    inspect_new: int,
    limits: np.ndarray,
    target: int,
) -> bool:
    """Hand the largest heads over early until they hold at most ``target`` bytes. False when
    ``emit`` or ``out`` filled up first: drain them and call again."""
    while counts[C_HEAD_BYTES] > target:
        if not _has_room(counts, emit, out):
            return False
        best = -1
        for h in range(heads.shape[0]):
            if heads[h, H_USED] != 0 and (best < 0 or heads[h, H_LEN] > heads[best, H_LEN]):
                best = h
        if best < 0:
            break
        fid = heads[best, E_FLOW_ID]
        flag = inspect[fid] if fid < inspect.shape[0] else inspect_new
        if flag == INSPECT_OFF:
            _close_head(heads, bnext, counts, fvals, best)
        else:
            limit = _head_limit(fid, limits) if flag == INSPECT_CLAIMED else MAX_EMIT_TCP_BYTES
            _hand_over(heads, blocks, bnext, counts, fvals, emit, out, best, limit)
    return True


@njit(cache=True)
def walk(
    buf: np.ndarray,
    pos: int,
    end: int,
    fmt: int,
    big_endian: bool,
    if_linktype: np.ndarray,
    if_ts_mul: np.ndarray,
    if_ts_div: np.ndarray,
    if_ts_shift: np.ndarray,
    if_ts_offset: np.ndarray,
    fkeys: np.ndarray,
    fvals: np.ndarray,
    bkeys: np.ndarray,
    bvals: np.ndarray,
    counts: np.ndarray,
    stats: np.ndarray,
    emit: np.ndarray,
    inspect: np.ndarray,
    inspect_new: int,
    l2_types: np.ndarray,
    claimed_ports: np.ndarray,
    ekeys: np.ndarray,
    evals: np.ndarray,
    edge_samples: int,
    closed_edges: np.ndarray,
    heads: np.ndarray,
    blocks: np.ndarray,
    bnext: np.ndarray,
    out: np.ndarray,
    limits: np.ndarray,
    buffer_limit: int,
) -> tuple[int, int]:
    """Walk whole records in ``buf[pos:end]``; returns ``(status, pos)``.

    ``counts`` holds the used rows of the flow, binding and edge tables, the next flow and
    edge ids, the rows of ``emit`` and bytes of ``out`` filled, and the free lists of the head
    store (``C_*``). The call stops before a packet with ``STATUS_TABLE_FULL`` when a table
    passes the load limit or the head store runs short, with ``STATUS_EMIT_FULL`` when
    ``emit`` or ``out`` is full, and with ``STATUS_HEADS_FULL`` when the heads being collected
    hold more than ``buffer_limit`` bytes (0: no limit). It stops after a packet with
    ``STATUS_DECIDE`` when the sink should see the batch before the next packet.

    What is handed over (rows of ``emit``, bytes copied to ``out``): link-layer frames whose
    EtherType is in ``l2_types`` (0 for 802.3 LLC), and payloads of flows whose
    ``inspect[flow id]`` is not ``INSPECT_OFF`` (flows beyond the array's end take
    ``inspect_new``). With ``edge_samples > 0`` only the first ``edge_samples`` flows of each
    edge (in order of their first payload, ``F_EDGE``) hand anything over, none after the
    sink closed the edge (``closed_edges``). UDP: every
    datagram within the per-direction budget when the flow is claimed (``INSPECT_CLAIMED``,
    or a port set in ``claimed_ports[1, port]``), the first one of each direction otherwise;
    the datagrams of IP protocols set in ``claimed_ports[2, protocol]`` (when the array has
    that row) likewise.
    TCP: a probe (the direction's first payload) while the sink has yet to choose, then the
    direction's head, once complete - ``limits[flow id]`` bytes of a claimed flow, a gap, the
    budget spent - or when ``settle_heads`` hands it over.

    Interface tables (one entry per pcapng interface, one for pcap)
    give the link type and timestamp scaling: ``ns = units * mul // div`` for decimal
    resolutions, ``(units >> shift) * 1e9 + ((units & (2**shift - 1)) * 1e9 >> shift)`` for
    binary ones (``shift >= 0``), plus ``offset`` nanoseconds.
    """
    flimit = fkeys.shape[0] * LOAD_LIMIT_NUM // LOAD_LIMIT_DEN
    blimit = bkeys.shape[0] * LOAD_LIMIT_NUM // LOAD_LIMIT_DEN
    elimit = ekeys.shape[0] * LOAD_LIMIT_NUM // LOAD_LIMIT_DEN
    n_if = if_linktype.shape[0]
    last_ts = stats[S_LAST_TS]
    scratch = np.zeros(N_SCRATCH, dtype=np.int64)
    while True:
        if counts[C_FLOWS] >= flimit or counts[C_BINDINGS] >= blimit:
            return STATUS_TABLE_FULL, pos
        if counts[C_EDGES] >= elimit:
            return STATUS_TABLE_FULL, pos
        if counts[C_FREE_HEADS] < 1 or counts[C_FREE_BLOCKS] < BLOCKS_PER_PACKET:
            return STATUS_TABLE_FULL, pos
        if counts[C_EMITTED] + 2 > emit.shape[0] or counts[C_OUT] + OUT_PER_PACKET > out.shape[0]:
            return STATUS_EMIT_FULL, pos
        if buffer_limit > 0 and counts[C_HEAD_BYTES] > buffer_limit:
            return STATUS_HEADS_FULL, pos
        ifid = 0
        data = 0
        caplen = 0
        wirelen = 0
        units = np.uint64(0)
        if fmt == FORMAT_PCAP:
            if pos + 16 > end:
                return STATUS_NEED_DATA, pos
            sec = _u32(buf, pos, big_endian)
            frac = _u32(buf, pos + 4, big_endian)
            caplen = _u32(buf, pos + 8, big_endian)
            wirelen = _u32(buf, pos + 12, big_endian)
            if caplen > MAX_RECORD:
                return STATUS_CORRUPT, pos
            if pos + 16 + caplen > end:
                return STATUS_NEED_DATA, pos
            data = pos + 16
            ts = sec * 1_000_000_000 + frac * if_ts_mul[0] + if_ts_offset[0]
            pos = data + caplen
        else:
            if pos + 12 > end:
                return STATUS_NEED_DATA, pos
            btype = _u32(buf, pos, big_endian)
            blen = _u32(buf, pos + 4, big_endian)
            if blen < 12 or (blen & 3) != 0 or blen > MAX_RECORD + 64:
                if btype == 0x0A0D0D0A:
                    return STATUS_BLOCK, pos
                return STATUS_CORRUPT, pos
            if pos + blen > end:
                if btype == 0x0A0D0D0A:
                    return STATUS_BLOCK, pos
                return STATUS_NEED_DATA, pos
            if btype != 0x0A0D0D0A and _u32(buf, pos + blen - 4, big_endian) != blen:
                return STATUS_CORRUPT, pos
            if btype == 6 or btype == 2:  # enhanced / obsolete packet block
                if blen < 32:
                    return STATUS_CORRUPT, pos
                if btype == 6:
                    ifid = _u32(buf, pos + 8, big_endian)
                else:
                    ifid = _u16(buf, pos + 8, big_endian)
                if ifid >= n_if:
                    return STATUS_CORRUPT, pos
                hi = np.uint64(_u32(buf, pos + 12, big_endian))
                lo = np.uint64(_u32(buf, pos + 16, big_endian))
                units = (hi << _U64_32) | lo
                caplen = _u32(buf, pos + 20, big_endian)
                wirelen = _u32(buf, pos + 24, big_endian)
                if 28 + caplen > blen - 4:
                    return STATUS_CORRUPT, pos
                data = pos + 28
                shift = if_ts_shift[ifid]
                if shift < 0:
                    ts = np.int64(units // np.uint64(if_ts_div[ifid])) * if_ts_mul[ifid]
                else:
                    whole = np.int64(units >> np.uint64(shift))
                    part = units & ((np.uint64(1) << np.uint64(shift)) - np.uint64(1))
                    ts = whole * 1_000_000_000 + np.int64(
                        (np.float64(part) / np.float64(np.uint64(1) << np.uint64(shift))) * 1e9
                    )
                ts += if_ts_offset[ifid]
                pos += blen
            elif btype == 3:  # simple packet block: no timestamp, interface 0
                if n_if == 0:
                    return STATUS_CORRUPT, pos
                wirelen = _u32(buf, pos + 8, big_endian)
                caplen = wirelen
                if caplen > blen - 16:
                    caplen = blen - 16
                data = pos + 12
                ts = last_ts
                pos += blen
            else:
                return STATUS_BLOCK, pos
        if wirelen < caplen:
            wirelen = caplen
        stats[S_PACKETS] += 1
        stats[S_BYTES] += wirelen
        if stats[S_PACKETS] == 1 or ts < stats[S_FIRST_TS]:
            stats[S_FIRST_TS] = ts
        if ts > last_ts or stats[S_PACKETS] == 1:
            last_ts = ts
            stats[S_LAST_TS] = ts
        what = _packet(
            buf,
            data,
            caplen,
            wirelen,
            ts,
            if_linktype[ifid],
            fkeys,
            fvals,
            bkeys,
            bvals,
            counts,
            stats,
            inspect,
            inspect_new,
            l2_types,
            claimed_ports,
            scratch,
        )
        if what != HAND_NONE:
            _hand_off(
                buf,
                scratch,
                what,
                fkeys,
                fvals,
                counts,
                emit,
                out,
                claimed_ports,
                ekeys,
                evals,
                edge_samples,
                closed_edges,
                heads,
                blocks,
                bnext,
                limits,
            )
            if counts[C_DECIDE] != 0:
                counts[C_DECIDE] = 0
                return STATUS_DECIDE, pos


# ``rehash`` tables
TABLE_FLOWS = 0
TABLE_BINDINGS = 1
TABLE_EDGES = 2


@njit(cache=True)
def rehash(
    table: int,
    old_keys: np.ndarray,
    old_vals: np.ndarray,
    new_keys: np.ndarray,
    new_vals: np.ndarray,
    heads: np.ndarray,
) -> None:
    """Move every used row of a flow, binding or edge table (``TABLE_*``) into a larger, empty
    one; a flow's heads being collected learn where their flow went. One entry point for the
    three tables: each one numba loads from its cache costs milliseconds per capture."""
    mask = new_keys.shape[0] - 1
    for i in range(old_keys.shape[0]):
        if old_vals[i, 0] == 0:  # F_USED, B_USED, G_USED
            continue
        if table == TABLE_FLOWS:
            h = _flow_hash(
                old_keys[i, K_A_HI],
                old_keys[i, K_A_LO],
                old_keys[i, K_B_HI],
                old_keys[i, K_B_LO],
                old_keys[i, K_PACKED],
            )
        elif table == TABLE_BINDINGS:
            h = _binding_hash(old_keys[i, 0], old_keys[i, 1], old_keys[i, 2])
        else:
            h = _edge_hash(
                old_keys[i, 0], old_keys[i, 1], old_keys[i, 2], old_keys[i, 3], old_keys[i, 4]
            )
        slot = np.int64(h & np.uint64(mask))
        while new_vals[slot, 0] != 0:
            slot = (slot + 1) & mask
        new_keys[slot, :] = old_keys[i, :]
        new_vals[slot, :] = old_vals[i, :]
        if table == TABLE_FLOWS:
            for column in (F_HEAD_AB, F_HEAD_BA):
                if old_vals[i, column] > 0:
                    heads[old_vals[i, column] - 1, H_FLOW_SLOT] = slot
