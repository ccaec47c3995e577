"""Services read for identification: grouped per server, transport, port and app, in that
order (no app first), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from medsec.inventory import Store
from medsec.inventory.device_rows import services
from medsec.inventory.models import Capture, Flow

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def flow(n: int, server: str, transport: str, port: int, app: str | None, back: int = 1) -> dict:
    return {
        "capture_id": 1,
        "transport": transport,
        "ip_protocol": 6 if transport == "tcp" else 17,
        "client_ip": "10.0.0.1",
        "server_ip": server,
        "client_port": 40000 + n,
        "server_port": port,
        "vlan": 0,
        "inner_vlan": 0,
        "client_mac": None,
        "server_mac": None,
        "first_seen": T0 + timedelta(seconds=n),
        "last_seen": T0 + timedelta(seconds=n + 1),
        "packets_c2s": 1,
        "packets_s2c": back,
        "bytes_c2s": 60,
        "bytes_s2c": 60 * back,
        "tcp_flags_c2s": 0,
        "tcp_flags_s2c": 0,
        "state": "established",
        "initiator": "client",
        "app": app,
    }


def test_services_come_grouped_and_ordered(store: Store) -> None:
    flows = [
        flow(1, "10.0.0.9", "udp", 161, None),
        flow(2, "10.0.0.2", "tcp", 443, "tls"),
        flow(3, "10.0.0.2", "tcp", 443, None),
        flow(4, "10.0.0.10", "tcp", 104, "dicom"),
        flow(5, "10.0.0.2", "tcp", 443, "tls"),
        flow(6, "10.0.0.2", "tcp", 80, "http"),
        flow(7, "10.0.0.2", "udp", 53, "dns"),
        flow(8, "10.0.0.3", "tcp", 22, None, back=0),  # no answer: no service
        flow(9, "10.0.0.3", "icmp", 0, None),  # no port: no service
    ]
    with store._write() as conn:
        conn.execute(
            insert(Capture),
            [{"fingerprint": "f", "source": "s", "format": "pcap", "status": "complete",
              "error": None, "packets": 9, "bytes": 540, "first_seen": T0, "last_seen": T0,
              "stats": {}, "ingested_at": T0}],
        )  # fmt: skip
        conn.execute(insert(Flow), flows)
    with store._read() as conn:
        found = services(conn)
    assert [(s.server_ip, s.transport, s.port, s.app, s.flows) for s in found] == [
        ("10.0.0.10", "tcp", 104, "dicom", 1),
        ("10.0.0.2", "tcp", 80, "http", 1),
        ("10.0.0.2", "tcp", 443, None, 1),
        ("10.0.0.2", "tcp", 443, "tls", 2),
        ("10.0.0.2", "udp", 53, "dns", 1),
        ("10.0.0.9", "udp", 161, None, 1),
    ]
    tls = found[3]
    assert (tls.first_seen, tls.last_seen) == (T0 + timedelta(seconds=2), T0 + timedelta(seconds=6))
