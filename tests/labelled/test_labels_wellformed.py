"""The labelled set of the shared captures (``shared_captures.yaml``) is well formed.

These tests check the labels themselves, not medsec: the file parses in the format of
``README.md``, every capture it names exists under ``../shared/data``, every category is one of
the taxonomy, every device says where its identity is seen (``basis``) and no host is labelled
twice in one capture.
"""

from __future__ import annotations

import ipaddress
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

LABELS = Path(__file__).resolve().parent / "shared_captures.yaml"
HOST_KEYS = {"ip", "mac"}
EXPECT_KEYS = {"category", "vendor", "model", "os", "os_version", "modality", "software"}
MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def load_labels() -> dict[str, Any]:
    doc = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), "the labels file is a mapping"
    return doc


def taxonomy_categories() -> set[str]:
    path = resources.files("medsec") / "rules" / "taxonomy" / "categories.yaml"
    return set(yaml.safe_load(path.read_text(encoding="utf-8"))["categories"])


def cases() -> list[dict[str, Any]]:
    return load_labels()["cases"]


def devices() -> list[tuple[str, dict[str, Any]]]:
    return [(case["capture"], device) for case in cases() for device in case["devices"]]


def test_document_shape() -> None:
    doc = load_labels()
    assert set(doc) == {"root", "cases"}
    assert doc["root"] == "shared"
    assert isinstance(doc["cases"], list) and doc["cases"]
    for case in doc["cases"]:
        assert set(case) == {"capture", "about", "devices"}, case.get("capture")
        assert isinstance(case["about"], str) and case["about"].strip(), case["capture"]
        assert isinstance(case["devices"], list) and case["devices"], case["capture"]


def test_captures_are_listed_once_with_relative_paths() -> None:
    names = [case["capture"] for case in cases()]
    assert len(names) == len(set(names)), "a capture is listed twice"
    for name in names:
        path = Path(name)
        assert not path.is_absolute() and ".." not in path.parts, name
        assert path.parts[0] == "pcap" and path.suffix in (".pcap", ".pcapng"), name


def test_every_capture_exists(shared_data: Path) -> None:
    missing = [c["capture"] for c in cases() if not (shared_data / c["capture"]).is_file()]
    assert not missing, f"not under {shared_data}: {missing}"


def test_every_category_is_in_the_taxonomy() -> None:
    known = taxonomy_categories()
    unknown = {
        (capture, device["expect"]["category"])
        for capture, device in devices()
        if "category" in device["expect"] and device["expect"]["category"] not in known
    }
    assert not unknown


def device_params() -> list[Any]:
    return [
        pytest.param(capture, device, id=f"{Path(capture).name}:{_host_id(device['host'])}")
        for capture, device in devices()
    ]


def _host_id(host: Any) -> str:
    if isinstance(host, dict):
        return ",".join(str(v) for v in host.values())
    return str(host)


@pytest.mark.parametrize(("capture", "device"), device_params())
def test_device_is_well_formed(capture: str, device: dict[str, Any]) -> None:
    assert set(device) == {"host", "expect", "basis"}, capture
    host, expect, basis = device["host"], device["expect"], device["basis"]

    assert isinstance(host, dict) and host and set(host) <= HOST_KEYS, host
    if "ip" in host:
        ipaddress.ip_address(host["ip"])  # raises on a malformed address
    if "mac" in host:
        assert MAC.match(host["mac"]), host

    assert isinstance(basis, str) and len(basis.strip()) >= 20, (capture, host)

    assert isinstance(expect, dict) and expect, (capture, host)
    assert set(expect) <= EXPECT_KEYS, (capture, host, set(expect) - EXPECT_KEYS)
    for key in EXPECT_KEYS - {"software"}:
        if key in expect:
            assert isinstance(expect[key], str) and expect[key].strip(), (capture, host, key)
    if "software" in expect:
        software = expect["software"]
        assert isinstance(software, list) and software, (capture, host)
        assert all(isinstance(s, str) and s.strip() for s in software), (capture, host)
        assert len(software) == len(set(software)), (capture, host)
    if "modality" in expect:
        assert expect.get("category") == "imaging_modality", (capture, host)


def test_hosts_are_unique_per_capture() -> None:
    for case in cases():
        seen: set[tuple[str, str]] = set()
        for device in case["devices"]:
            keys = {(k, str(v).lower()) for k, v in device["host"].items()}
            assert not keys & seen, (case["capture"], device["host"])
            seen |= keys


def test_medical_protocol_captures_are_labelled() -> None:
    """The DICOM, SDC and HL7 captures are part of the set."""
    names = {case["capture"] for case in cases()}
    assert {
        "pcap/loopback_generated/dicom_dcmtk367_pynetdicom304_loopback.pcap",
        "pcap/loopback_generated/sdc11073_v3_wsdiscovery_soap_loopback.pcap",
        "pcap/ndpi/hl7.pcap",
    } <= names
