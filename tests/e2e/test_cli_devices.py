"""``medsec discover`` identifies devices; ``devices``, ``device``, ``identify`` and the
FHIR R4 / CSV exports, end to end on a simulated hospital (real console script)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from medsec.simulate import generate

MEDSEC = [sys.executable, "-m", "medsec"]
DEVICE_KEYS = {
    "id", "macs", "ips", "category", "medical", "vendor", "model", "os", "software",
    "hostnames", "identifiers", "protocols", "services", "handles_phi", "confidence", "evidence",
}  # fmt: skip


def medsec(*args: str, db: Path) -> str:
    done = subprocess.run(
        [*MEDSEC, "--db", str(db), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"medsec {' '.join(args)} -> {done.returncode}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    where = tmp_path_factory.mktemp("devices")
    sim = generate(where / "h.pcap", devices=24, minutes=3, seed=11)
    db = where / "m.db"
    summary = json.loads(medsec("discover", str(sim.pcap), "--json", db=db))
    truth = json.loads(sim.truth.read_text())
    return {"db": db, "summary": summary, "truth": truth}


def devices(db: Path, *args: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(medsec("devices", "--json", *args, db=db))
    return found


def test_discover_identifies_devices_by_default(hospital: dict[str, Any]) -> None:
    summary = hospital["summary"]["devices"]
    assert summary["devices"] >= len(hospital["truth"]["hosts"])
    assert summary["medical"] > 0 and summary["identified"] > summary["medical"]


def test_devices_json_has_the_documented_fields(hospital: dict[str, Any]) -> None:
    found = devices(hospital["db"])
    assert found
    for d in found:
        assert DEVICE_KEYS <= set(d), DEVICE_KEYS - set(d)
        assert isinstance(d["medical"], bool) and isinstance(d["handles_phi"], bool)
        assert all({"name", "version"} <= set(s) for s in d["software"])
        assert all({"transport", "port", "app"} == set(s) for s in d["services"])
        for name, evidence in d["evidence"].items():
            assert evidence, name
            assert {"rule", "time", "protocol", "observation", "fields"} <= set(evidence[0])


def test_medical_devices_are_the_simulators_medical_devices(hospital: dict[str, Any]) -> None:
    """Every device medsec calls medical is one the simulator made medical, or plays a role
    medsec's taxonomy counts as medical (the simulator calls a DICOM reading workstation an
    IT workstation; FDA 21 CFR 892.2050 does not)."""
    from medsec.identify.taxonomy import categories

    medical_roles = {name for name, c in categories().items() if c.medical}
    truth = {h["ip"]: h for h in hospital["truth"]["hosts"]}
    medical = devices(hospital["db"], "--medical")
    assert medical
    for d in medical:
        ips = [ip for ip in d["ips"] if ip in truth]
        assert ips, d["ips"]
        assert any(truth[ip]["medical"] or truth[ip]["role"] in medical_roles for ip in ips), (
            d["ips"],
            d["category"],
        )


def test_filters(hospital: dict[str, Any]) -> None:
    db = hospital["db"]
    every = devices(db)
    vlan10 = devices(db, "--vlan", "10")
    assert vlan10 and all(10 in d["vlans"] for d in vlan10)
    subnet = devices(db, "--subnet", "10.10.0.0/16")
    assert {d["id"] for d in subnet} == {
        d["id"] for d in every if any(ip.startswith("10.10.") for ip in d["ips"])
    }
    category = every[0]["category"]
    assert all(d["category"] == category for d in devices(db, "--category", category))
    phi = devices(db, "--phi")
    assert phi and all(d["handles_phi"] for d in phi)


def test_device_by_id_ip_and_mac(hospital: dict[str, Any]) -> None:
    db = hospital["db"]
    one = next(d for d in devices(db) if d["ips"] and d["macs"])
    for ref in (str(one["id"]), one["ips"][0], one["macs"][0].upper()):
        (shown,) = json.loads(medsec("device", ref, "--json", db=db))
        assert shown["id"] == one["id"]
        assert "peers" in shown and "addresses" in shown
    text = medsec("device", str(one["id"]), db=db)
    assert "Addresses over time" in text


def test_identify_again_keeps_ids(hospital: dict[str, Any]) -> None:
    db = hospital["db"]
    before = {d["key"]: d["id"] for d in devices(db)}
    medsec("identify", db=db)
    assert {d["key"]: d["id"] for d in devices(db)} == before


def test_fhir_bundle_of_r4_devices(hospital: dict[str, Any], tmp_path: Path) -> None:
    from fhir.resources.R4B.bundle import Bundle

    out = tmp_path / "devices.fhir.json"
    medsec("devices", "--format", "fhir", "--out", str(out), db=hospital["db"])
    document = json.loads(out.read_text())
    bundle = Bundle.model_validate(document)  # the FHIR library validates every resource
    assert bundle.entry and len(bundle.entry) == len(devices(hospital["db"]))
    kinds = {e["resource"]["resourceType"] for e in document["entry"]}
    assert kinds == {"Device"}
    with_vendor = [e["resource"] for e in document["entry"] if "manufacturer" in e["resource"]]
    assert with_vendor


def test_csv_export(hospital: dict[str, Any]) -> None:
    text = medsec("devices", "--format", "csv", db=hospital["db"])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(devices(hospital["db"]))
    assert {"id", "category", "vendor", "ips", "macs", "handles_phi"} <= set(rows[0])


def test_map_filters_by_label(hospital: dict[str, Any]) -> None:
    """``map --phi --cleartext``: the patient data that crossed the network readable."""
    db = hospital["db"]
    exposed = json.loads(medsec("map", "--phi", "--cleartext", "--json", db=db))
    assert exposed and all(e["phi"] and e["cleartext"] for e in exposed)
    assert {e["app"] for e in exposed} <= {"hl7", "dicom", "http"}
    truth = {
        (e["client"], e["server"], e["transport"], e["server_port"])
        for e in hospital["truth"]["edges"]
        if e["phi"] and e["cleartext"] and e["app"] in ("hl7", "dicom")
    }
    found = {(e["client"], e["server"], e["transport"], e["server_port"]) for e in exposed}
    assert truth <= found
