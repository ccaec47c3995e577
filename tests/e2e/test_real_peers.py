"""What medsec sees in traffic recorded from real protocol peers (DCMTK, pynetdicom,
python-hl7, dnsmasq/dhclient/udhcpc) talking inside network namespaces the tests create.

The captures come from ``tests_support/peers.py``; each scenario is recorded once per test
session, then dissected, identified with the shipped rules, and fed through the CLI. Without
root (or a peer program) the tests skip; with ``MEDSEC_REQUIRE_NETNS=1`` they fail instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from labelled.recorded_peers import cases, document

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.pipeline import DissectPipeline
from medsec.identify.engine import IdentifyEngine, Identity
from medsec.identify.rules import load_rules
from medsec.identify.taxonomy import categories
from medsec.model.observations import Observation
from medsec.model.observations.addressing import DhcpRequest, DhcpServerReply
from medsec.model.observations.dicom import (
    DicomAssociationAccept,
    DicomAssociationRequest,
    DicomCommand,
)
from medsec.model.observations.hl7 import Hl7Message

from netns import skip_or_fail
from tests_support import peers
from tests_support.peers import SCENARIOS, peer_versions, record, unavailable

netns = pytest.mark.netns
ObsT = TypeVar("ObsT", bound=Observation)


@dataclass(frozen=True)
class Seen:
    """A recorded scenario and what medsec made of it."""

    pcap: Path
    observations: tuple[Observation, ...]
    identities: dict[str, Identity]
    repeated: int
    """Observations restating one kept before on the same edge (counted, not kept)."""

    def of(self, kind: type[ObsT]) -> list[ObsT]:
        return [o for o in self.observations if isinstance(o, kind)]


class _Recordings:
    """Records each scenario at most once per session (a failure is remembered too)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.seen: dict[str, Seen | BaseException] = {}

    def __call__(self, name: str) -> Seen:
        if name not in self.seen:
            reason = unavailable(name)
            if reason is not None:
                skip_or_fail(f"scenario {name}: {reason}")
            try:
                self.seen[name] = _see(record(name, self.directory))
            except Exception as exc:
                self.seen[name] = exc
        found = self.seen[name]
        if isinstance(found, BaseException):
            raise AssertionError(f"recording {name} failed: {found}") from found
        return found


def _see(pcap: Path) -> Seen:
    pipeline = DissectPipeline(default_dissectors())
    read_capture(pcap, sink=pipeline)
    engine = IdentifyEngine(load_rules())
    engine.feed(pipeline.observations)
    return Seen(
        pcap=pcap,
        observations=tuple(pipeline.observations),
        identities={i.host: i for i in engine.identities()},
        repeated=pipeline.stats.repeated,
    )


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Seen]]:
    yield _Recordings(tmp_path_factory.mktemp("peers"))


@pytest.fixture(scope="session")
def versions() -> dict[str, str]:
    return peer_versions()


def _no_patient_data(observations: Sequence[Observation]) -> None:
    text = repr(observations)
    leaked = [value for value in peers.PATIENT_VALUES if value.lower() in text.lower()]
    assert not leaked, f"patient values reached the observations: {leaked}"


def _ip(scenario: str, host: str) -> str:
    return SCENARIOS[scenario].ip(host)


# --- DCMTK -----------------------------------------------------------------------------------


@netns
def test_dcmtk_associations(recorded: Callable[[str], Seen], versions: dict[str, str]) -> None:
    seen = recorded("dcmtk")
    pacs, ct, mr = (_ip("dcmtk", h) for h in ("pacs", "ct", "mr"))
    version = versions["dcmtk"]
    name = "OFFIS_DCMTK_" + version.replace(".", "")
    uid = f"{peers.DCMTK_IMPLEMENTATION_ROOT}.0.{version}"  # dcuid.h OFFIS_IMPLEMENTATION...

    requests = seen.of(DicomAssociationRequest)
    assert sorted(
        (r.ctx.src_ip, r.ctx.dst_ip, r.calling_ae_title, r.called_ae_title, r.modalities)
        for r in requests
    ) == sorted(
        [
            (ct, pacs, peers.DCMTK_CT_AE, peers.DCMTK_PACS_AE, ()),  # echoscu
            (ct, pacs, peers.DCMTK_CT_AE, peers.DCMTK_PACS_AE, ("CT",)),  # storescu
            (mr, pacs, peers.DCMTK_MR_AE, peers.DCMTK_PACS_AE, ("MR",)),  # storescu
        ]
    )
    proposed = {
        r.modalities: {pc.abstract_syntax for pc in r.presentation_contexts} for r in requests
    }
    assert proposed == {
        (): {peers.VERIFICATION},
        ("CT",): {peers.CT_IMAGE_STORAGE},  # storescu -R: the files' SOP class only
        ("MR",): {peers.MR_IMAGE_STORAGE},
    }
    accepts = seen.of(DicomAssociationAccept)
    assert sorted((a.ctx.src_ip, a.ctx.dst_ip) for a in accepts) == sorted(
        [(pacs, ct), (pacs, ct), (pacs, mr)]
    )
    assert all(pc.result_name == "acceptance" for a in accepts for pc in a.presentation_contexts)
    pdus: list[DicomAssociationRequest | DicomAssociationAccept] = [*requests, *accepts]
    for pdu in pdus:
        assert (pdu.implementation_version_name, pdu.implementation_class_uid) == (name, uid)
        assert pdu.application_context_name == "1.2.840.10008.3.1.1.1"

    commands = Counter(
        (c.ctx.src_ip, c.command_name, c.sop_class_uid, c.modality, c.status_category)
        for c in seen.of(DicomCommand)
    )
    ct_store = (peers.CT_IMAGE_STORAGE, "CT")
    mr_store = (peers.MR_IMAGE_STORAGE, "MR")
    assert commands == Counter(
        {
            (ct, "C-ECHO-RQ", peers.VERIFICATION, None, None): 1,
            (pacs, "C-ECHO-RSP", peers.VERIFICATION, None, "success"): 1,
            # storescu stores two CT files in one association: the second store and its answer
            # restate the first ones' facts (kept once, counted as repeated)
            (ct, "C-STORE-RQ", *ct_store, None): 1,
            (pacs, "C-STORE-RSP", *ct_store, "success"): 1,
            (mr, "C-STORE-RQ", *mr_store, None): 1,
            (pacs, "C-STORE-RSP", *mr_store, "success"): 1,
        }
    )
    assert seen.repeated >= 2
    for command in seen.of(DicomCommand):
        stores = command.command_name.startswith("C-STORE")
        assert command.carries_phi is stores  # images carry patient data, an echo does not
        assert command.has_data_set is (command.command_name == "C-STORE-RQ")
    _no_patient_data(seen.observations)


@netns
def test_dcmtk_identities(recorded: Callable[[str], Seen], versions: dict[str, str]) -> None:
    seen = recorded("dcmtk")
    dcmtk = f"DCMTK/{versions['dcmtk']}"
    pacs = seen.identities[_ip("dcmtk", "pacs")]
    assert pacs.get("category") == "pacs"  # called AE MAIN_PACS
    assert dcmtk in pacs.all("software")  # from its A-ASSOCIATE-AC
    for host, modality in (("ct", "CT"), ("mr", "MR")):
        identity = seen.identities[_ip("dcmtk", host)]
        assert identity.get("category") == "imaging_modality"
        assert identity.get("modality") == modality
        assert identity.all("software") == [dcmtk]
        assert identity.macs == (SCENARIOS["dcmtk"].mac(host),)


# --- pynetdicom ------------------------------------------------------------------------------


@netns
def test_pynetdicom_associations(recorded: Callable[[str], Seen], versions: dict[str, str]) -> None:
    seen = recorded("pynetdicom")
    archive, viewer = _ip("pynetdicom", "archive"), _ip("pynetdicom", "viewer")
    version = versions["pynetdicom"]
    name = "PYNETDICOM_" + version.replace(".", "")
    uid = f"{peers.PYNETDICOM_IMPLEMENTATION_ROOT}.{version}"  # PYNETDICOM_IMPLEMENTATION_UID

    requests = seen.of(DicomAssociationRequest)
    assert [
        (r.ctx.src_ip, r.ctx.dst_ip, r.calling_ae_title, r.called_ae_title)
        + tuple(pc.abstract_syntax for pc in r.presentation_contexts)
        for r in requests
    ] == [
        (viewer, archive, peers.PYNETDICOM_VIEWER_AE, peers.PYNETDICOM_ARCHIVE_AE, sop)
        for sop in (
            peers.VERIFICATION,
            peers.SECONDARY_CAPTURE_IMAGE_STORAGE,
            peers.PATIENT_ROOT_FIND,
        )
    ]
    assert all(r.modalities == () for r in requests)  # a secondary capture has no modality
    accepts = seen.of(DicomAssociationAccept)
    # three alike acceptances (one accepted context each, the same transfer syntax): the later
    # two restate the first (kept once, counted as repeated)
    assert [(a.ctx.src_ip, a.ctx.dst_ip) for a in accepts] == [(archive, viewer)]
    assert seen.repeated >= 2
    pdus: list[DicomAssociationRequest | DicomAssociationAccept] = [*requests, *accepts]
    for pdu in pdus:
        assert (pdu.implementation_version_name, pdu.implementation_class_uid) == (name, uid)

    commands = [
        (c.ctx.src_ip, c.command_name, c.sop_class_uid, c.status_category, c.carries_phi)
        for c in seen.of(DicomCommand)
    ]
    sc, find = peers.SECONDARY_CAPTURE_IMAGE_STORAGE, peers.PATIENT_ROOT_FIND
    assert commands == [
        (viewer, "C-ECHO-RQ", peers.VERIFICATION, None, False),
        (archive, "C-ECHO-RSP", peers.VERIFICATION, "success", False),
        (viewer, "C-STORE-RQ", sc, None, True),
        (archive, "C-STORE-RSP", sc, "success", True),
        (viewer, "C-FIND-RQ", find, None, True),  # a patient-level query is patient data
        (archive, "C-FIND-RSP", find, "pending", True),  # one match ...
        (archive, "C-FIND-RSP", find, "success", True),  # ... and the end of matches
    ]
    _no_patient_data(seen.observations)


@netns
def test_pynetdicom_identities(recorded: Callable[[str], Seen], versions: dict[str, str]) -> None:
    seen = recorded("pynetdicom")
    product = f"pynetdicom/{versions['pynetdicom']}"
    archive = seen.identities[_ip("pynetdicom", "archive")]
    assert archive.get("category") == "pacs"  # called AE QR_ARCHIVE
    assert archive.all("software") == [product]
    viewer = seen.identities[_ip("pynetdicom", "viewer")]
    assert viewer.all("software") == [product]


# --- HL7 -------------------------------------------------------------------------------------


@netns
def test_hl7_messages(recorded: Callable[[str], Seen]) -> None:
    seen = recorded("hl7")
    his, lis = _ip("hl7", "his"), _ip("hl7", "lis")
    his_app = (peers.HIS_APP, peers.HIS_FACILITY)
    lis_app = (peers.LIS_APP, peers.LIS_FACILITY)
    messages = [
        (
            m.ctx.src_ip,
            m.ctx.dst_ip,
            (m.sending_application, m.sending_facility),
            (m.receiving_application, m.receiving_facility),
            m.message_type,
            m.segment_ids,
            m.acknowledgment_code,
            m.carries_phi,
        )
        for m in seen.of(Hl7Message)
    ]
    assert messages == [
        (his, lis, his_app, lis_app, "ADT^A01^ADT_A01", ("MSH", "EVN", "PID", "PV1"), None, True),
        (lis, his, lis_app, his_app, "ACK^A01^ACK", ("MSH", "MSA"), "AA", False),
        (lis, his, lis_app, his_app, "ORU^R01^ORU_R01", ("MSH", "PID", "OBR", "OBX"), None, True),
        (his, lis, his_app, lis_app, "ACK^R01^ACK", ("MSH", "MSA"), "AA", False),
    ]
    for m in seen.of(Hl7Message):
        assert (m.version_id, m.processing_id, m.complete) == ("2.5.1", "P", True)
    _no_patient_data(seen.observations)


# --- DHCP ------------------------------------------------------------------------------------


@netns
def test_dhcp_clients_and_server(recorded: Callable[[str], Seen], versions: dict[str, str]) -> None:
    seen = recorded("dhcp")
    scenario = SCENARIOS["dhcp"]
    server = scenario.ip("server")
    dhclient, udhcpc = scenario.mac("dhclient"), scenario.mac("udhcpc")
    requests = seen.of(DhcpRequest)
    assert [(r.client_mac, r.message_type_name) for r in requests] == [
        (dhclient, "DHCPDISCOVER"),
        (dhclient, "DHCPREQUEST"),
        (udhcpc, "DHCPDISCOVER"),
        (udhcpc, "DHCPREQUEST"),
    ]
    for r in requests:
        assert (r.ctx.src_ip, r.ctx.dst_ip, r.ctx.src_mac) == (
            "0.0.0.0",
            "255.255.255.255",
            r.client_mac,
        )
        if r.client_mac == dhclient:
            assert (r.host_name, r.vendor_class) == (
                peers.DHCLIENT_HOST_NAME,
                peers.DHCLIENT_VENDOR_CLASS,
            )
            # the "request" statement of dhclient.conf, in its order
            assert r.param_request_list == (1, 28, 2, 3, 15, 6, 12, 42)
        else:
            assert r.host_name == peers.UDHCPC_HOST_NAME
            assert r.vendor_class == f"udhcp {versions['busybox']}"  # BusyBox's default
            assert {1, 3, 6} <= set(r.param_request_list)
            assert r.client_id == "01" + udhcpc.replace(":", "")

    replies = seen.of(DhcpServerReply)
    assert [(r.client_mac, r.message_type_name) for r in replies] == [
        (dhclient, "DHCPOFFER"),
        (dhclient, "DHCPACK"),
        (udhcpc, "DHCPOFFER"),
        (udhcpc, "DHCPACK"),
    ]
    first, last = (int(a.rsplit(".", 1)[1]) for a in peers.DHCP_RANGE)
    for reply, request in zip(replies, requests, strict=True):
        assert reply.xid == request.xid
        assert reply.ctx.src_ip == reply.server_id == server
        assert reply.yiaddr is not None and first <= int(reply.yiaddr.rsplit(".", 1)[1]) <= last
        assert (reply.lease_time, reply.subnet_mask, reply.routers) == (
            peers.DHCP_LEASE_SECONDS,
            "255.255.255.0",
            (server,),
        )
    # each client asks for the address it was offered, from the server that offered it
    for offer, req in zip(replies[0::2], requests[1::2], strict=True):
        assert (req.requested_ip, req.server_id) == (offer.yiaddr, server)


@netns
def test_dhcp_identities(recorded: Callable[[str], Seen]) -> None:
    seen = recorded("dhcp")
    scenario = SCENARIOS["dhcp"]
    assert seen.identities[scenario.ip("server")].get("category") == "dhcp_server"
    udhcpc = seen.identities[scenario.mac("udhcpc")]  # a client before its lease: by MAC
    assert udhcpc.get("os") == "Linux"
    assert "udhcpc" in {s.split("/")[0] for s in udhcpc.all("software")}


# --- through the CLI -------------------------------------------------------------------------


def _medsec(db: Path, *args: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "medsec", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


_EDGES = {
    "dcmtk": {
        ("ct", "pacs", peers.DCMTK_PORT, "dicom", 2),
        ("mr", "pacs", peers.DCMTK_PORT, "dicom", 1),
    },
    "pynetdicom": {("viewer", "archive", peers.PYNETDICOM_PORT, "dicom", 3)},
    "hl7": {("his", "lis", peers.HL7_PORT, "hl7", 1), ("lis", "his", peers.HL7_PORT, "hl7", 1)},
}


@netns
@pytest.mark.parametrize("scenario", sorted(_EDGES))
def test_discover_inspect_and_map(
    scenario: str, recorded: Callable[[str], Seen], tmp_path: Path
) -> None:
    seen = recorded(scenario)
    db = tmp_path / "peers.db"
    summary = _medsec(db, "discover", "--inspect", "--json", str(seen.pcap))
    assert summary["captures"][0]["error"] is None
    assert summary["totals"]["hosts"] == len(SCENARIOS[scenario].hosts)
    edges = _medsec(db, "map", "--json")
    ip = SCENARIOS[scenario].ip
    assert {(e["client"], e["server"], e["server_port"], e["app"], e["flows"]) for e in edges} == {
        (ip(c), ip(s), port, app, flows) for c, s, port, app, flows in _EDGES[scenario]
    }
    assert all(e["transport"] == "tcp" and not e["external"] for e in edges)
    stored = db.read_bytes().lower()
    leaked = [v for v in peers.PATIENT_VALUES if v.lower().encode() in stored]
    assert not leaked, f"patient values reached the database: {leaked}"


# --- labels ----------------------------------------------------------------------------------


def test_labels_name_scenario_hosts() -> None:
    """Every label names a scenario and one of its hosts, with attributes of the format."""
    allowed = {"category", "vendor", "model", "os", "os_version", "modality", "software"}
    known = set(categories())
    labelled = cases({"dcmtk": "3.6.7", "pynetdicom": "3.0.4", "busybox": "1.35.0"})
    assert [c["capture"] for c in labelled] == list(SCENARIOS)
    for case in labelled:
        scenario = SCENARIOS[case["capture"]]
        hosts = {(scenario.hosts[h], scenario.mac(h)) for h in scenario.hosts}
        for device in case["devices"]:
            host = device["host"]
            assert (host.get("ip"), host["mac"]) in hosts
            assert device["expect"] and set(device["expect"]) <= allowed
            assert device["expect"].get("category", "unknown") in known
            assert device["basis"]
    assert document({"hl7": Path("/x/hl7.pcap")})["cases"][0]["capture"] == "/x/hl7.pcap"


@netns
def test_labelled_hosts_appear_in_recordings(recorded: Callable[[str], Seen]) -> None:
    """The labelled addresses and MACs are those the recorded peers used."""
    for case in cases():
        seen = recorded(case["capture"])
        addresses = {o.ctx.src_ip for o in seen.observations} | {
            o.ctx.src_mac for o in seen.observations
        }
        for device in case["devices"]:
            assert set(device["host"].values()) <= addresses, device
