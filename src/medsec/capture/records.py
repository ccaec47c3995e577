"""Turn the kernel's tables into values: oriented flows and address bindings.

Orientation (who is the client) follows, in order: the side that sent a SYN without ACK;
the side that received a SYN+ACK; the port heuristic (a known service port, then a
well-known port below 1024, beats a registered port, which beats an ephemeral one); and
last, whoever sent the first packet.
"""

from __future__ import annotations

import csv
import socket
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources

import numpy as np

from medsec.capture import kernel as k
from medsec.model.traffic import AddressBinding, FlowRecord, InitiatorBasis, TcpState, Transport

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_NS = 253402300799 * 1_000_000_000  # 9999-12-31T23:59:59Z

_TRANSPORTS: dict[int, Transport] = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}

SCORE_SERVICE = 4
SCORE_WELL_KNOWN = 3
SCORE_REGISTERED = 2
SCORE_EPHEMERAL = 1


@lru_cache(maxsize=1)
def service_ports() -> dict[tuple[int, int], str]:
    """``(ip_protocol, port) -> service`` from ``rules/network/service_ports.csv``."""
    text = resources.files("medsec.rules").joinpath("network/service_ports.csv").read_text()
    table: dict[tuple[int, int], str] = {}
    rows = csv.reader(line for line in text.splitlines() if line and not line.startswith("#"))
    for transport, port, service, *_ in rows:
        proto = 6 if transport == "tcp" else 17
        table[(proto, int(port))] = service
    return table


def _port_scores(proto: np.ndarray, port: np.ndarray) -> np.ndarray:
    score = np.where(port < 1024, SCORE_WELL_KNOWN, SCORE_REGISTERED)
    score = np.where(port >= 49152, SCORE_EPHEMERAL, score)
    known = service_ports()
    if known:
        keys = np.array([p * 65536 + n for (p, n) in known], dtype=np.int64)
        score = np.where(np.isin(proto * 65536 + port, keys), SCORE_SERVICE, score)
    return score


def to_datetime(ns: int) -> datetime:
    ns = min(max(ns, 0), MAX_NS)
    return EPOCH + timedelta(microseconds=ns // 1000)


def ip_texts(hi: np.ndarray, lo: np.ndarray) -> list[str]:
    """Text form of each 128-bit (hi, lo) address; each distinct address is formatted once."""
    if hi.shape[0] == 0:
        return []
    pairs = np.stack([hi, lo], axis=1)
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    texts = []
    for h, low in uniq.tolist():
        if h == 0 and (low >> 32) == 0xFFFF:
            texts.append(socket.inet_ntoa((low & 0xFFFFFFFF).to_bytes(4, "big")))
        else:
            packed = h.to_bytes(8, "big") + low.to_bytes(8, "big")
            texts.append(socket.inet_ntop(socket.AF_INET6, packed))
    return [texts[i] for i in inverse.reshape(-1).tolist()]


def mac_texts(values: np.ndarray) -> list[str | None]:
    """``aa:bb:cc:dd:ee:ff`` for each 48-bit value, None for 0 (no link-layer address)."""
    if values.shape[0] == 0:
        return []
    uniq, inverse = np.unique(values, return_inverse=True)
    texts: list[str | None] = [
        None if v == 0 else ":".join(f"{b:02x}" for b in v.to_bytes(6, "big"))
        for v in uniq.tolist()
    ]
    return [texts[i] for i in inverse.reshape(-1).tolist()]


def datetimes(ns: np.ndarray) -> list[datetime]:
    micros = (np.clip(ns, 0, MAX_NS) // 1000).tolist()
    return [EPOCH + timedelta(microseconds=m) for m in micros]


def flow_records(
    keys: np.ndarray,
    vals: np.ndarray,
    apps_of: Callable[[list[int]], list[str | None]] | None = None,
) -> list[FlowRecord]:
    """Oriented ``FlowRecord``s from the used rows of a flow table; ``apps_of`` names the
    application recognised in each flow (by flow ids, in their order)."""
    n = keys.shape[0]
    if n == 0:
        return []
    packed = keys[:, k.K_PACKED]
    port_a = (packed >> np.uint64(48)).astype(np.int64)
    port_b = ((packed >> np.uint64(32)) & np.uint64(0xFFFF)).astype(np.int64)
    proto = ((packed >> np.uint64(24)) & np.uint64(0xFF)).astype(np.int64)
    vlan = ((packed >> np.uint64(12)) & np.uint64(0xFFF)).astype(np.int64)
    inner = (packed & np.uint64(0xFFF)).astype(np.int64)
    ev_a = vals[:, k.F_EVENTS_AB]
    ev_b = vals[:, k.F_EVENTS_BA]
    syn_a = (ev_a & k.EV_PURE_SYN) != 0
    syn_b = (ev_b & k.EV_PURE_SYN) != 0
    synack_a = (ev_a & k.EV_SYN_ACK) != 0
    synack_b = (ev_b & k.EV_SYN_ACK) != 0
    is_tcp = proto == 6
    has_ports = is_tcp | (proto == 17) | (proto == 136)

    score_a = _port_scores(proto, port_a)
    score_b = _port_scores(proto, port_b)
    by_syn = is_tcp & (syn_a != syn_b)
    undecided = ~by_syn
    by_synack = undecided & is_tcp & (synack_a != synack_b)
    undecided &= ~by_synack
    by_port = undecided & has_ports & (score_a != score_b)
    # b is the client when: b sent the only pure SYN, a sent the only SYN+ACK, or a's port
    # looks more like a service than b's
    swap = (by_syn & syn_b) | (by_synack & synack_a) | (by_port & (score_a > score_b))
    basis_code = np.select([by_syn, by_synack, by_port], [0, 1, 2], default=3)
    basis_names: tuple[InitiatorBasis, ...] = ("syn", "syn_ack", "port", "first_packet")

    def pick(a: np.ndarray, b: np.ndarray) -> tuple[list[int], list[int]]:
        return np.where(swap, b, a).tolist(), np.where(swap, a, b).tolist()

    ip_a = ip_texts(keys[:, k.K_A_HI], keys[:, k.K_A_LO])
    ip_b = ip_texts(keys[:, k.K_B_HI], keys[:, k.K_B_LO])
    mac_a = mac_texts(vals[:, k.F_MAC_A])
    mac_b = mac_texts(vals[:, k.F_MAC_B])
    swaps = swap.tolist()
    c_port, s_port = pick(port_a, port_b)
    pk_c, pk_s = pick(vals[:, k.F_PKTS_AB], vals[:, k.F_PKTS_BA])
    by_c, by_s = pick(vals[:, k.F_BYTES_AB], vals[:, k.F_BYTES_BA])
    fl_c, fl_s = pick(vals[:, k.F_FLAGS_AB], vals[:, k.F_FLAGS_BA])
    ev_c, ev_s = pick(ev_a, ev_b)
    first = datetimes(vals[:, k.F_FIRST_TS])
    last = datetimes(vals[:, k.F_LAST_TS])
    protos = proto.tolist()
    vlans = vlan.tolist()
    inners = inner.tolist()
    bases = basis_code.tolist()
    ids = vals[:, k.F_ID].tolist()
    apps = apps_of(ids) if apps_of is not None else [None] * n

    records: list[FlowRecord] = []
    for i in range(n):
        sw = swaps[i]
        p = protos[i]
        records.append(
            FlowRecord(
                transport=_TRANSPORTS.get(p, "other"),
                ip_protocol=p,
                client_ip=ip_b[i] if sw else ip_a[i],
                server_ip=ip_a[i] if sw else ip_b[i],
                client_port=c_port[i],
                server_port=s_port[i],
                vlan=vlans[i],
                inner_vlan=inners[i],
                client_mac=mac_b[i] if sw else mac_a[i],
                server_mac=(mac_a[i] if sw else mac_b[i]) if pk_s[i] else None,
                first_seen=first[i],
                last_seen=last[i],
                packets_c2s=pk_c[i],
                packets_s2c=pk_s[i],
                bytes_c2s=by_c[i],
                bytes_s2c=by_s[i],
                tcp_flags_c2s=fl_c[i],
                tcp_flags_s2c=fl_s[i],
                state=tcp_state(p, ev_c[i], ev_s[i], pk_s[i]),
                initiator=basis_names[bases[i]],
                app=apps[i],
            )
        )
    return records


def tcp_state(proto: int, ev_client: int, ev_server: int, server_packets: int) -> TcpState:
    """Connection state from the events each side sent (see ``kernel.EV_*``)."""
    if proto != 6:
        return "none"
    if ev_client & k.EV_PURE_SYN:
        if ev_server & k.EV_SYN_ACK:
            return "established"
        if ev_server & k.EV_RST:
            return "rejected"
        if server_packets == 0:
            return "half_open"
        return "partial"
    if (ev_client & k.EV_ACK) and (ev_server & k.EV_ACK) and not (ev_server & k.EV_PURE_SYN):
        return "established"
    return "partial"


def binding_records(keys: np.ndarray, vals: np.ndarray) -> list[AddressBinding]:
    """``AddressBinding``s from the used rows of a binding table."""
    packed = keys[:, 2]
    ips = ip_texts(keys[:, 0], keys[:, 1])
    macs = mac_texts((packed >> np.uint64(12)).astype(np.int64))
    vlans = (packed & np.uint64(0xFFF)).astype(np.int64).tolist()
    first = datetimes(vals[:, k.B_FIRST_TS])
    last = datetimes(vals[:, k.B_LAST_TS])
    packets = vals[:, k.B_PACKETS].tolist()
    sources = vals[:, k.B_SOURCES].tolist()
    return [
        AddressBinding(
            ip=ips[i],
            mac=mac,
            vlan=vlans[i],
            first_seen=first[i],
            last_seen=last[i],
            packets=packets[i],
            from_arp=bool(sources[i] & k.SRC_ARP),
            from_frames=bool(sources[i] & k.SRC_FRAME),
        )
        for i, mac in enumerate(macs)
        if mac is not None
    ]


def sort_flows(flows: Iterable[FlowRecord]) -> list[FlowRecord]:
    """Deterministic order: by first packet, then key."""
    return sorted(
        flows,
        key=lambda f: (
            f.first_seen,
            f.client_ip,
            f.server_ip,
            f.transport,
            f.client_port,
            f.server_port,
            f.vlan,
            f.inner_vlan,
        ),
    )
