"""``medsec discover --interface`` on a veth inside network namespaces the test creates.

Traffic flows only between the test's two namespaces; medsec runs in one of them and only
listens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netns import Netns, require_netns, terminate, veth_pair

pytestmark = pytest.mark.netns

SERVER = """
import socket, sys
tcp = socket.socket(); tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind((sys.argv[1], 2575)); tcp.listen()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind((sys.argv[1], 5140))
print("ready", flush=True)
for _ in range(2):
    conn, _ = tcp.accept()
    conn.sendall(b"\\x0bMSH|^~\\\\&|ACK\\x1c\\r" + conn.recv(1000)[:0])
    conn.close()
"""

CLIENT = """
import socket, sys, time
for i in range(2):
    s = socket.create_connection((sys.argv[1], 2575), timeout=5)
    s.sendall(b"\\x0bMSH|^~\\\\&|MONITOR|ICU\\x1c\\r")
    s.recv(1000)
    s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    u.sendto(b"<13>pump 7 alarm", (sys.argv[1], 5140))
    time.sleep(0.05)
"""


def wait_for_packet_socket(ns: Netns, timeout: float = 60) -> None:
    """Until an AF_PACKET socket is open in the namespace (``/proc/net/packet`` is per
    namespace): medsec's start-up may take seconds on a loaded machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(ns.run("cat", "/proc/net/packet").stdout.splitlines()) > 1:
            time.sleep(0.2)
            return
        time.sleep(0.1)
    raise AssertionError("medsec never opened its capture socket")


def test_live_discovery_in_namespaces(tmp_path: Path) -> None:
    require_netns()
    db = tmp_path / "live.db"
    medsec = [sys.executable, "-m", "medsec", "--db", str(db)]
    with veth_pair() as pair:
        server = pair.a.start_python(SERVER, pair.a_ip)
        try:
            assert server.stdout is not None
            assert server.stdout.readline().strip() == "ready"
            capture = subprocess.Popen(
                pair.a.argv(
                    *medsec, "discover", "--interface", pair.a_if, "--duration", "6", "--json"
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            wait_for_packet_socket(pair.a)  # no traffic before medsec listens
            pair.b.python(CLIENT, pair.a_ip)
            out, err = capture.communicate(timeout=60)
            assert capture.returncode == 0, err
        finally:
            terminate(server)
    result = json.loads(out)
    assert result["captures"][0]["source"] == f"iface:{pair.a_if}"
    edges = json.loads(
        subprocess.run(
            [*medsec, "map", "--json"], capture_output=True, text=True, check=True
        ).stdout
    )
    by_service = {(e["transport"], e["server_port"]): e for e in edges}
    hl7 = by_service[("tcp", 2575)]
    assert (hl7["client"], hl7["server"], hl7["flows"]) == (pair.b_ip, pair.a_ip, 2)
    syslog = by_service[("udp", 5140)]
    assert (syslog["client"], syslog["server"], syslog["packets"]) == (pair.b_ip, pair.a_ip, 3)
    assert not any(e["external"] for e in edges)
    flows = json.loads(
        subprocess.run(
            [*medsec, "export", "--table", "flows"], capture_output=True, text=True, check=True
        ).stdout
    )["flows"]
    assert {f["state"] for f in flows if f["server_port"] == 2575} == {"established"}
    hosts = {
        h["ip"]: h
        for h in json.loads(
            subprocess.run(
                [*medsec, "hosts", "--json"], capture_output=True, text=True, check=True
            ).stdout
        )
    }
    assert hosts[pair.b_ip]["macs"] == [pair.b_mac]
    assert hosts[pair.a_ip]["macs"] == [pair.a_mac]
