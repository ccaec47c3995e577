"""The medsec command end to end: real console script, temporary SQLite database."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import dpkt
import pytest

from tests_support.capfile import Packet, arp, frame, pcap_bytes

MEDSEC = [sys.executable, "-m", "medsec"]
EDGE_KEYS = {
    "client",
    "server",
    "transport",
    "server_port",
    "flows",
    "packets",
    "bytes",
    "first_seen",
    "last_seen",
    "external",
}
DAY = 86_400 * 1_000_000_000
T0 = 1_767_600_000_000_000_000  # 2026-01-05T08:00:00Z


def medsec(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*MEDSEC, "--db", str(db), *args], capture_output=True, text=True, timeout=300
    )
    if check and done.returncode != 0:
        raise AssertionError(f"medsec {' '.join(args)} -> {done.returncode}: {done.stderr}")
    return done


def as_json(*args: str, db: Path) -> Any:
    return json.loads(medsec(*args, "--json", db=db).stdout)


def conversation(t0: int, client: str, server: str, sport: int, dport: int) -> list[Packet]:
    c = {"src_mac": "00:09:fb:00:00:11", "dst_mac": "00:1b:21:00:00:05"}
    s = {"src_mac": "00:1b:21:00:00:05", "dst_mac": "00:09:fb:00:00:11"}
    frames = [
        frame(client, server, sport, dport, flags=dpkt.tcp.TH_SYN, **c),
        frame(server, client, dport, sport, flags=dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK, **s),
        frame(client, server, sport, dport, payload=b"\x0bMSH|^~\\&|MON\x1c\r", **c),
        frame(server, client, dport, sport, payload=b"\x0bMSH|^~\\&|ACK\x1c\r", **s),
    ]
    return [Packet(t0 + i * 1_000_000, f) for i, f in enumerate(frames)]


@pytest.fixture
def day_one(tmp_path: Path) -> Path:
    packets = conversation(T0, "10.10.0.11", "10.50.0.5", 40001, 2575)
    packets += conversation(T0 + 10**9, "10.10.0.11", "52.1.2.3", 40002, 443)
    packets.append(Packet(T0 + 2 * 10**9, arp("00:09:fb:00:00:11", "10.10.0.11", "10.10.0.1")))
    path = tmp_path / "day1.pcap"
    path.write_bytes(pcap_bytes(packets))
    return path


@pytest.fixture
def day_two(tmp_path: Path) -> Path:
    packets = conversation(T0 + DAY, "10.10.0.11", "10.50.0.5", 40100, 2575)
    path = tmp_path / "day2.pcap.gz"
    path.write_bytes(gzip.compress(pcap_bytes(packets)))
    return path


def test_discover_then_map_and_hosts(tmp_path: Path, day_one: Path) -> None:
    db = tmp_path / "m.db"
    result = as_json("discover", str(day_one), db=db)
    assert result["captures"][0]["packets"] == 9 and result["captures"][0]["error"] is None
    edges = as_json("map", db=db)
    assert len(edges) == 2 and all(EDGE_KEYS <= set(e) for e in edges)
    by_server = {e["server"]: e for e in edges}
    hl7 = by_server["10.50.0.5"]
    assert (hl7["client"], hl7["transport"], hl7["server_port"], hl7["flows"]) == (
        "10.10.0.11",
        "tcp",
        2575,
        1,
    )
    assert hl7["packets"] == 4 and hl7["external"] is False
    assert by_server["52.1.2.3"]["external"] is True
    datetime.fromisoformat(hl7["first_seen"].replace("Z", "+00:00"))
    hosts = {h["ip"]: h for h in as_json("hosts", db=db)}
    assert set(hosts) == {"10.10.0.11", "10.50.0.5", "52.1.2.3"}
    assert hosts["10.10.0.11"]["macs"] == ["00:09:fb:00:00:11"]
    assert hosts["52.1.2.3"]["internal"] is False
    assert [h["ip"] for h in as_json("hosts", "--external", db=db)] == ["52.1.2.3"]
    assert [e["server"] for e in as_json("map", "--external", db=db)] == ["52.1.2.3"]
    assert [e["server_port"] for e in as_json("map", "--port", "2575", db=db)] == [2575]
    table = medsec("map", db=db).stdout
    assert "10.50.0.5" in table and "tcp/2575" in table


def test_same_capture_twice_changes_nothing(tmp_path: Path, day_one: Path) -> None:
    db = tmp_path / "twice.db"
    medsec("discover", str(day_one), db=db)
    before = (as_json("map", db=db), as_json("hosts", db=db))
    again = as_json("discover", str(day_one), db=db)
    assert again["captures"][0]["skipped"] is True
    assert (as_json("map", db=db), as_json("hosts", db=db)) == before
    copy = tmp_path / "copy-of-day1.pcap"
    shutil.copy(day_one, copy)  # same content under another name: still the same capture
    assert as_json("discover", str(copy), db=db)["captures"][0]["skipped"] is True


def test_days_merge_and_move_first_last_seen(tmp_path: Path, day_one: Path, day_two: Path) -> None:
    db = tmp_path / "days.db"
    medsec("discover", str(day_two), str(day_one), db=db)  # order does not matter
    hl7 = next(e for e in as_json("map", db=db) if e["server_port"] == 2575)
    assert hl7["flows"] == 2 and hl7["packets"] == 8
    assert hl7["first_seen"].startswith("2026-01-05T08:00:00")
    assert hl7["last_seen"].startswith("2026-01-06T08:00:00")


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (None, 3, "no such file"),
        (b"not a capture at all", 4, "not a capture file"),
    ],
    ids=["missing", "not-a-capture"],
)
def test_unreadable_inputs(tmp_path: Path, content: bytes | None, code: int, message: str) -> None:
    path = tmp_path / "input.pcap"
    if content is not None:
        path.write_bytes(content)
    done = medsec("discover", str(path), db=tmp_path / "x.db", check=False)
    assert done.returncode == code
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr


def test_truncated_capture_keeps_what_was_read(tmp_path: Path, day_one: Path) -> None:
    data = day_one.read_bytes()
    cut = tmp_path / "cut.pcap"
    first_records = conversation(T0, "10.10.0.11", "10.50.0.5", 40001, 2575)
    damage = 24 + sum(16 + len(p.data) for p in first_records)
    cut.write_bytes(data[: damage + 20])
    db = tmp_path / "cut.db"
    done = medsec("discover", str(cut), db=db, check=False)
    assert done.returncode == 5
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and f"offset {damage}" in errors[0]
    edges = as_json("map", db=db)
    assert [(e["server"], e["packets"]) for e in edges] == [("10.50.0.5", 4)]
    captures = as_json("captures", db=db)
    assert captures[0]["status"] == "partial" and str(damage) in captures[0]["error"]


def test_export_csv_and_json(tmp_path: Path, day_one: Path) -> None:
    db = tmp_path / "e.db"
    medsec("discover", str(day_one), db=db)
    out = tmp_path / "csv"
    medsec("export", "--format", "csv", "--out", str(out), db=db)
    assert sorted(p.name for p in out.iterdir()) == [
        "captures.csv",
        "edges.csv",
        "flows.csv",
        "hosts.csv",
    ]
    header = (out / "edges.csv").read_text().splitlines()[0].split(",")
    assert EDGE_KEYS <= set(header)
    doc = json.loads(medsec("export", "--format", "json", db=db).stdout)
    assert set(doc) == {"hosts", "edges", "flows", "captures"}
    assert len(doc["flows"]) == 2 and doc["flows"][0]["state"] == "established"
    one = medsec("export", "--format", "csv", "--table", "hosts", db=db).stdout
    assert one.splitlines()[0].startswith("ip,internal")


def test_map_svg_is_drawn(tmp_path: Path, day_one: Path) -> None:
    db = tmp_path / "svg.db"
    medsec("discover", str(day_one), db=db)
    svg = tmp_path / "map.svg"
    medsec("map", "--svg", str(svg), db=db)
    text = svg.read_text()
    assert text.startswith("<svg") and "10.50.0.5" in text and "Internet" in text


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    done = medsec("discover", db=tmp_path / "u.db", check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    done = medsec("hosts", "--network", "not-a-cidr", db=tmp_path / "u.db", check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr


def test_inspect_labels_edges_and_keeps_no_patient_data(shared_data: Path, tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "inspect.db"
    pcaps = shared_data / "pcap"
    hl7 = pcaps / "ndpi" / "hl7.pcap"
    dicom = pcaps / "loopback_generated" / "dicom_dcmtk367_pynetdicom304_loopback.pcap"
    medsec("discover", "--inspect", str(hl7), str(dicom), db=db)
    edges = as_json("map", db=db)
    apps = {(e["server_port"], e["app"]) for e in edges}
    assert {(6661, "hl7"), (11112, "dicom"), (11113, "dicom")} <= apps
    assert all(e["apps"] == ([e["app"]] if e["app"] else []) for e in edges)
    # the ADT^A01 in hl7.pcap is about patient MOUSE^MICKEY, id 135769: the device facts
    # (sending application) are kept, nothing of the PID/NK1 segments is
    exported = medsec("export", "--format", "json", db=db).stdout
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    assert "SENDING_APPLICATION" in dump
    for text in (exported, dump):
        for secret in ("MOUSE", "MICKEY", "135769", "Main St", "ohtoodles"):
            assert secret not in text
