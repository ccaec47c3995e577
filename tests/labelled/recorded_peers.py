"""Labels for the captures recorded from real protocol peers (``tests_support/peers.py``).

Each case names a scenario of :data:`tests_support.peers.SCENARIOS` as its ``capture``;
:func:`record_all` records them all (root and namespaces needed) and :func:`document` turns
the recorded paths into a labels document in the format of ``README.md``::

    from labelled.recorded_peers import document, record_all
    labels = document(record_all(tmp_path))  # {"cases": [{"capture": "/tmp/.../dcmtk.pcap", ...}]}

A label says what the peer was configured to be and what a person reading the capture can
see it is - not what the shipped rules happen to conclude. Versions are those of the peer
software installed where the captures are recorded (:func:`tests_support.peers.peer_versions`),
as that is what the peers put on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests_support.peers import (
    DCMTK_CT_AE,
    DCMTK_MR_AE,
    DCMTK_PACS_AE,
    HIS_APP,
    HIS_FACILITY,
    LIS_APP,
    LIS_FACILITY,
    PYNETDICOM_ARCHIVE_AE,
    PYNETDICOM_VIEWER_AE,
    SCENARIOS,
    peer_versions,
    record_all,
)

Label = dict[str, Any]


def _product(name: str, version: str | None) -> str:
    return f"{name}/{version}" if version else name


def _host(scenario: str, host: str) -> dict[str, str]:
    """``{ip, mac}`` of a host of a scenario (``mac`` only for hosts without an address)."""
    spec = SCENARIOS[scenario]
    if spec.hosts[host] is None:
        return {"mac": spec.mac(host)}
    return {"ip": spec.ip(host), "mac": spec.mac(host)}


def cases(versions: Mapping[str, str] | None = None) -> list[Label]:
    """The labelled cases, ``capture`` being the scenario name."""
    v = peer_versions() if versions is None else versions
    dcmtk = _product("DCMTK", v.get("dcmtk"))
    pynetdicom = _product("pynetdicom", v.get("pynetdicom"))
    dcmtk_name = "OFFIS_DCMTK_" + v.get("dcmtk", "").replace(".", "")
    pynetdicom_name = "PYNETDICOM_" + v.get("pynetdicom", "").replace(".", "")
    return [
        {
            "capture": "dcmtk",
            "about": SCENARIOS["dcmtk"].about,
            "devices": [
                {
                    "host": _host("dcmtk", "pacs"),
                    "expect": {"category": "pacs", "software": [dcmtk]},
                    "basis": f"DICOM: called AE {DCMTK_PACS_AE} of every A-ASSOCIATE-RQ; "
                    "accepts C-STORE of CT and MR images (C-STORE-RSP success); "
                    f"A-ASSOCIATE-AC implementation version name {dcmtk_name}",
                },
                {
                    "host": _host("dcmtk", "ct"),
                    "expect": {
                        "category": "imaging_modality",
                        "modality": "CT",
                        "vendor": "MEDSEC TEST",
                        "model": "Peer CT 1",
                        "software": [dcmtk],
                    },
                    "basis": f"DICOM: calling AE {DCMTK_CT_AE} proposes only CT Image Storage "
                    "and sends C-STORE-RQ of CT images; A-ASSOCIATE-RQ implementation version "
                    f"name {dcmtk_name}; data sets (0008,0070) Manufacturer 'MEDSEC TEST', "
                    "(0008,1090) Manufacturer's Model Name 'Peer CT 1'",
                },
                {
                    "host": _host("dcmtk", "mr"),
                    "expect": {
                        "category": "imaging_modality",
                        "modality": "MR",
                        "vendor": "MEDSEC TEST",
                        "model": "Peer MR 1",
                        "software": [dcmtk],
                    },
                    "basis": f"DICOM: calling AE {DCMTK_MR_AE} proposes only MR Image Storage "
                    "and sends a C-STORE-RQ of an MR image; A-ASSOCIATE-RQ implementation "
                    f"version name {dcmtk_name}; data set (0008,0070) Manufacturer "
                    "'MEDSEC TEST', (0008,1090) Manufacturer's Model Name 'Peer MR 1'",
                },
            ],
        },
        {
            "capture": "pynetdicom",
            "about": SCENARIOS["pynetdicom"].about,
            "devices": [
                {
                    "host": _host("pynetdicom", "archive"),
                    "expect": {"category": "pacs", "software": [pynetdicom]},
                    "basis": f"DICOM: called AE {PYNETDICOM_ARCHIVE_AE}; accepts storage, "
                    "verification and Patient Root Q/R FIND and answers the query (C-FIND-RSP "
                    f"pending, success); A-ASSOCIATE-AC implementation version name "
                    f"{pynetdicom_name}",
                },
                {
                    "host": _host("pynetdicom", "viewer"),
                    "expect": {
                        "category": "dicom_workstation",
                        "vendor": "MEDSEC TEST",
                        "model": "Peer Viewer",
                        "software": [pynetdicom],
                    },
                    "basis": f"DICOM: calling AE {PYNETDICOM_VIEWER_AE} queries the archive at "
                    "patient level (Patient Root Q/R FIND) and stores a Secondary Capture image "
                    f"it made; A-ASSOCIATE-RQ implementation version name {pynetdicom_name}; "
                    "data set (0008,0070) Manufacturer 'MEDSEC TEST', (0008,1090) "
                    "Manufacturer's Model Name 'Peer Viewer'",
                },
            ],
        },
        {
            "capture": "hl7",
            "about": SCENARIOS["hl7"].about,
            "devices": [
                {
                    "host": _host("hl7", "his"),
                    "expect": {"category": "emr"},
                    "basis": f"HL7: MSH-3/4 {HIS_APP}/{HIS_FACILITY} sends ADT^A01 admissions "
                    "(PID, PV1) to the laboratory and receives ORU^R01 results",
                },
                {
                    "host": _host("hl7", "lis"),
                    "expect": {"category": "lis"},
                    "basis": f"HL7: MSH-3/4 {LIS_APP}/{LIS_FACILITY} sends ORU^R01 laboratory "
                    "results (OBR/OBX, LOINC coded) and receives ADT feeds",
                },
            ],
        },
        {
            "capture": "dhcp",
            "about": SCENARIOS["dhcp"].about,
            # The ISC dhclient host is not labelled: it announces only a host name and a
            # vendor class made up for the test (peers.DHCLIENT_VENDOR_CLASS), which name no
            # product; nothing else in the capture says what it is.
            "devices": [
                {
                    "host": _host("dhcp", "server"),
                    "expect": {"category": "dhcp_server"},
                    "basis": "DHCP: sends DHCPOFFER and DHCPACK, option 54 server identifier",
                },
                {
                    "host": _host("dhcp", "udhcpc"),
                    "expect": {
                        "os": "Linux",
                        "software": [_product("udhcpc", v.get("busybox"))],
                    },
                    "basis": "DHCP: option 60 vendor class 'udhcp "
                    f"{v.get('busybox', '<version>')}' in DHCPDISCOVER/DHCPREQUEST, BusyBox "
                    "udhcpc's default ('udhcp ' + BusyBox version); BusyBox runs on Linux",
                },
            ],
        },
    ]


def document(captures: Mapping[str, Path], versions: Mapping[str, str] | None = None) -> Label:
    """A labels document (``README.md`` format) for recorded ``captures`` (scenario name ->
    pcap, as :func:`record_all` returns); cases of scenarios not recorded are left out."""
    out = []
    for case in cases(versions):
        path = captures.get(case["capture"])
        if path is not None:
            out.append({**case, "capture": str(path)})
    return {"root": "here", "cases": out}


__all__ = ["cases", "document", "record_all"]
