"""Turn the kernel's tables into values: oriented flows and address bindings.

Orientation (who is the client) follows, in order: the side that sent a SYN without ACK;
the side that received a SYN+ACK; the port heuristic (a known service port, then a
well-known port below 1024, beats a registered port, which beats an ephemeral one); and
last, whoever sent the first packet.
"""

from __future__ import annotations

import csv
import ipaddress
from collections.abc import Iterable
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


class _Names:
    """Caches text forms of addresses: each distinct IP or MAC is formatted once."""

    def __init__(self) -> None:
        self._ips: dict[tuple[int, int], str] = {}
        self._macs: dict[int, str] = {}

    def ip(self, hi: int, lo: int) -> str:
        key = (hi, lo)
        text = self._ips.get(key)
        if text is None:
            if hi == 0 and (lo >> 32) == 0xFFFF:
                text = str(ipaddress.IPv4Address(lo & 0xFFFFFFFF))
            else:
                text = str(ipaddress.IPv6Address((hi << 64) | lo))
            self._ips[key] = text
        return text

    def mac(self, value: int) -> str | None:
        if value == 0:
            return None
        text = self._macs.get(value)
        if text is None:
            raw = value.to_bytes(6, "big")
            text = ":".join(f"{b:02x}" for b in raw)
            self._macs[value] = text
        return text


def flow_records(keys: np.ndarray, vals: np.ndarray) -> list[FlowRecord]:
    """Oriented ``FlowRecord``s from the used rows of a flow table."""
    if keys.shape[0] == 0:
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
    by_syn_a = is_tcp & syn_a & ~syn_b
    by_syn_b = is_tcp & syn_b & ~syn_a
    undecided = ~(by_syn_a | by_syn_b)
    by_synack_a = undecided & is_tcp & synack_b & ~synack_a  # b answered: a is client
    by_synack_b = undecided & is_tcp & synack_a & ~synack_b
    undecided &= ~(by_synack_a | by_synack_b)
    by_port_a = undecided & has_ports & (score_b > score_a)
    by_port_b = undecided & has_ports & (score_a > score_b)
    client_is_b = by_syn_b | by_synack_b | by_port_b
    basis: list[InitiatorBasis] = ["first_packet"] * keys.shape[0]
    labels: tuple[tuple[np.ndarray, InitiatorBasis], ...] = (
        (by_syn_a | by_syn_b, "syn"),
        (by_synack_a | by_synack_b, "syn_ack"),
        (by_port_a | by_port_b, "port"),
    )
    for mask, label in labels:
        for j in np.flatnonzero(mask):
            basis[int(j)] = label

    names = _Names()
    records: list[FlowRecord] = []
    for i in range(keys.shape[0]):
        a_ip = names.ip(int(keys[i, k.K_A_HI]), int(keys[i, k.K_A_LO]))
        b_ip = names.ip(int(keys[i, k.K_B_HI]), int(keys[i, k.K_B_LO]))
        a_mac = names.mac(int(vals[i, k.F_MAC_A]))
        b_mac = names.mac(int(vals[i, k.F_MAC_B]))
        row = vals[i]
        swap = bool(client_is_b[i])
        if swap:
            c_ip, s_ip, c_port, s_port, c_mac, s_mac = (
                b_ip,
                a_ip,
                int(port_b[i]),
                int(port_a[i]),
                b_mac,
                a_mac,
            )
            pk_c, pk_s = int(row[k.F_PKTS_BA]), int(row[k.F_PKTS_AB])
            by_c, by_s = int(row[k.F_BYTES_BA]), int(row[k.F_BYTES_AB])
            fl_c, fl_s = int(row[k.F_FLAGS_BA]), int(row[k.F_FLAGS_AB])
            ev_c, ev_s = int(row[k.F_EVENTS_BA]), int(row[k.F_EVENTS_AB])
        else:
            c_ip, s_ip, c_port, s_port, c_mac, s_mac = (
                a_ip,
                b_ip,
                int(port_a[i]),
                int(port_b[i]),
                a_mac,
                b_mac,
            )
            pk_c, pk_s = int(row[k.F_PKTS_AB]), int(row[k.F_PKTS_BA])
            by_c, by_s = int(row[k.F_BYTES_AB]), int(row[k.F_BYTES_BA])
            fl_c, fl_s = int(row[k.F_FLAGS_AB]), int(row[k.F_FLAGS_BA])
            ev_c, ev_s = int(row[k.F_EVENTS_AB]), int(row[k.F_EVENTS_BA])
        p = int(proto[i])
        records.append(
            FlowRecord(
                transport=_TRANSPORTS.get(p, "other"),
                ip_protocol=p,
                client_ip=c_ip,
                server_ip=s_ip,
                client_port=c_port,
                server_port=s_port,
                vlan=int(vlan[i]),
                inner_vlan=int(inner[i]),
                client_mac=c_mac,
                server_mac=s_mac if pk_s else None,
                first_seen=to_datetime(int(row[k.F_FIRST_TS])),
                last_seen=to_datetime(int(row[k.F_LAST_TS])),
                packets_c2s=pk_c,
                packets_s2c=pk_s,
                bytes_c2s=by_c,
                bytes_s2c=by_s,
                tcp_flags_c2s=fl_c,
                tcp_flags_s2c=fl_s,
                state=tcp_state(p, ev_c, ev_s, pk_s),
                initiator=basis[i],
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
    names = _Names()
    out: list[AddressBinding] = []
    for i in range(keys.shape[0]):
        packed = int(keys[i, 2])
        mac = names.mac(packed >> 12)
        if mac is None:
            continue
        sources = int(vals[i, k.B_SOURCES])
        out.append(
            AddressBinding(
                ip=names.ip(int(keys[i, 0]), int(keys[i, 1])),
                mac=mac,
                vlan=packed & 0xFFF,
                first_seen=to_datetime(int(vals[i, k.B_FIRST_TS])),
                last_seen=to_datetime(int(vals[i, k.B_LAST_TS])),
                packets=int(vals[i, k.B_PACKETS]),
                from_arp=bool(sources & k.SRC_ARP),
                from_frames=bool(sources & k.SRC_FRAME),
            )
        )
    return out


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
