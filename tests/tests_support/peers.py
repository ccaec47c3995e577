"""Captures recorded from real protocol peers talking inside throw-away network namespaces.

Each scenario builds a small switched LAN (:func:`netns.lan`: one namespace per host, a
bridge in a hub namespace), starts ``tcpdump`` on the bridge - a mirror port that sees every
frame - runs real implementations against each other, stops the recorder cleanly and returns
the pcap:

* ``dcmtk``: DCMTK ``storescp`` as an archive; ``echoscu`` then ``storescu`` from a CT
  scanner and ``storescu`` from an MR scanner, sending small DICOM images made with pydicom;
* ``pynetdicom``: a pynetdicom archive (Storage, Verification, Patient Root Q/R FIND SCP)
  and a pynetdicom review workstation doing C-ECHO, C-STORE of a secondary capture and a
  patient-level C-FIND, one association each;
* ``hl7``: python-hl7 MLLP servers (``hl7.mllp.start_hl7_server``) and clients
  (``hl7.client.MLLPClient``) on a hospital information system and a laboratory system: an
  ADT^A01 admission one way, an ORU^R01 result the other, each acknowledged;
* ``dhcp``: ``dnsmasq`` serving DHCP; ISC ``dhclient`` and BusyBox ``udhcpc`` each obtain a
  lease, announcing a host name and a vendor class.

Addresses, MACs (:func:`netns.lan_mac`), AE titles and HL7 application names are fixed, so
labels (``tests/labelled/recorded_peers.py``) and assertions can name them. Every process is
time-boxed and dies with its namespace, also when a scenario fails. Nothing leaves the
test's namespaces. Needs root, ``ip``, ``tcpdump`` and each scenario's programs:
:func:`unavailable` says why a scenario cannot run, :func:`record` raises
:class:`PeersUnavailable` with that reason.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from netns import (
    PYTHON,
    Lan,
    Netns,
    lan,
    lan_mac,
    missing_tools,
    system_tool,
    unavailable_reason,
)

PEER_TIMEOUT = 30.0
"""Seconds any one peer command may take."""

# --- DCMTK ---------------------------------------------------------------------------------
DCMTK_PORT = 11112
DCMTK_PACS_AE = "MAIN_PACS"
DCMTK_CT_AE = "CT_SCANNER1"
DCMTK_MR_AE = "MR_SCANNER1"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
SECONDARY_CAPTURE_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
VERIFICATION = "1.2.840.10008.1.1"
DCMTK_IMPLEMENTATION_ROOT = "1.2.276.0.7230010.3"
"""DCMTK's implementation class UID root (``dcmdata/include/dcmtk/dcmdata/dcuid.h``)."""

# --- pynetdicom ----------------------------------------------------------------------------
PYNETDICOM_PORT = 104
PYNETDICOM_ARCHIVE_AE = "QR_ARCHIVE"
PYNETDICOM_VIEWER_AE = "VIEW_WS1"
PYNETDICOM_IMPLEMENTATION_ROOT = "1.2.826.0.1.3680043.9.3811"
"""pynetdicom's implementation class UID root (``pynetdicom/__init__.py``)."""

# --- HL7 -----------------------------------------------------------------------------------
HL7_PORT = 2575
HIS_APP, HIS_FACILITY = "HIS", "GENERAL_HOSPITAL"
LIS_APP, LIS_FACILITY = "LIS", "CENTRAL_LAB"

# --- DHCP ----------------------------------------------------------------------------------
DHCP_RANGE = ("10.199.0.100", "10.199.0.150")
DHCP_LEASE_SECONDS = 3600
DHCLIENT_HOST_NAME = "peer-dhclient"
DHCLIENT_VENDOR_CLASS = "medsec-test-peer/1.0"
UDHCPC_HOST_NAME = "peer-udhcpc"

# --- patient data sent by the peers: none of it may reach an observation --------------------
PATIENT_NAME = "TESTPATIENT^ALICE"
PATIENT_ID = "MRN778899"
PATIENT_BIRTH_DATE = "19700101"
PATIENT_ADDRESS = "12 ELM STREET"
PATIENT_PHONE = "555-0100"
ATTENDING = "ATTENDING^BOB"
RESULT_TEST = "Glucose"
PATIENT_VALUES = (
    "TESTPATIENT",
    "ALICE",
    PATIENT_ID,
    PATIENT_BIRTH_DATE,
    PATIENT_ADDRESS,
    PATIENT_PHONE,
    "ATTENDING",
    RESULT_TEST,
)
"""Strings the peers send in patient fields (DICOM data sets, HL7 PID/PV1/OBX)."""

HL7_ADT = "\r".join(
    [
        f"MSH|^~\\&|{HIS_APP}|{HIS_FACILITY}|{LIS_APP}|{LIS_FACILITY}|20250101120000||"
        "ADT^A01^ADT_A01|ADT0001|P|2.5.1",
        "EVN|A01|20250101120000",
        f"PID|1||{PATIENT_ID}^^^GH^MR||{PATIENT_NAME}^Q||{PATIENT_BIRTH_DATE}|F|||"
        f"{PATIENT_ADDRESS}^^SPRINGFIELD^IL^62701||{PATIENT_PHONE}",
        f"PV1|1|I|WARD3^301^A^GH||||1234^{ATTENDING}",
    ]
)
HL7_ORU = "\r".join(
    [
        f"MSH|^~\\&|{LIS_APP}|{LIS_FACILITY}|{HIS_APP}|{HIS_FACILITY}|20250101121500||"
        "ORU^R01^ORU_R01|ORU0001|P|2.5.1",
        f"PID|1||{PATIENT_ID}^^^GH^MR||{PATIENT_NAME}^Q||{PATIENT_BIRTH_DATE}|F",
        f"OBR|1|ORD123|LAB456|2345-7^{RESULT_TEST}^LN|||20250101113000",
        f"OBX|1|NM|2345-7^{RESULT_TEST}^LN||98|mg/dL|70-99|N|||F",
    ]
)


class PeersUnavailable(Exception):
    """A scenario cannot run here (not root, no namespaces, a program missing)."""


@dataclass(frozen=True)
class Scenario:
    """One recorded exchange between real peers."""

    name: str
    about: str
    tools: tuple[str, ...]
    """Programs it needs besides ``ip`` and ``tcpdump``."""
    hosts: Mapping[str, str | None]
    """Host name -> IPv4 address (``None``: no address, a DHCP client); MACs follow the
    order (:func:`netns.lan_mac`)."""
    run: Callable[[Lan, Path], None]
    """Runs the peers on the LAN; ``Path`` is a scratch directory."""

    def mac(self, host: str) -> str:
        return lan_mac(list(self.hosts).index(host))

    def ip(self, host: str) -> str:
        address = self.hosts[host]
        assert address is not None, f"{host} has no fixed address"
        return address


# --- processes -----------------------------------------------------------------------------


def _start(ns: Netns, log: Path, *command: str) -> subprocess.Popen[str]:
    """A long-running peer in ``ns``, its output to ``log`` (a pipe nobody reads could
    fill up and stall it)."""
    with log.open("w") as out:
        return subprocess.Popen(ns.argv(*command), stdout=out, stderr=subprocess.STDOUT, text=True)


def _stop(process: subprocess.Popen[str], log: Path, *, sig: int = signal.SIGTERM) -> str:
    """Stop a peer started by :func:`_start` and return its log."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return log.read_text(errors="replace")


@contextmanager
def _serving(
    ns: Netns, log: Path, port: int, *command: str, transport: str = "tcp"
) -> Iterator[subprocess.Popen[str]]:
    """A server in ``ns``, listening on ``port`` before the block runs, stopped after."""
    process = _start(ns, log, *command)
    try:
        ns.wait_listening(port, transport=transport, process=process)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{command[0]} log: {_stop(process, log)[-2000:]}") from exc
    try:
        yield process
    except BaseException:
        _stop(process, log)
        raise
    _stop(process, log)


def _client(ns: Netns, *command: str) -> str:
    """Run a one-shot peer to completion; its stdout+stderr, or an error naming it."""
    result = ns.run(*command, timeout=PEER_TIMEOUT, check=False)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise AssertionError(f"{command[0]} exited {result.returncode}: {output[-3000:]}")
    return output


def _python(ns: Netns, code: str, *args: str) -> str:
    return _client(ns, PYTHON, "-c", code, *args)


# --- the recorder ----------------------------------------------------------------------------


def _collect(stream: IO[str], lines: list[str], marker: str, seen: threading.Event) -> None:
    for line in stream:
        lines.append(line)
        if marker in line:
            seen.set()


@contextmanager
def recording(ns: Netns, interface: str, path: Path, *, settle: float = 0.5) -> Iterator[Path]:
    """``tcpdump -w path`` on ``interface`` of ``ns`` while the block runs.

    Returns once tcpdump listens; on exit waits ``settle`` seconds for the last frames, stops
    it with SIGINT (it then flushes and closes the file) and checks that every frame the
    kernel handed over was written (none dropped): the pcap is complete.
    """
    process = subprocess.Popen(
        ns.argv(
            "tcpdump",
            "-i",
            interface,
            "-w",
            str(path),
            "-U",  # write each packet as it comes
            "--immediate-mode",  # ... and get it from the kernel at once
            "-n",
            "-s",
            "0",
            "-Z",
            "root",  # keep root: the output file is in a root-owned temporary directory
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    listening = threading.Event()
    reader = threading.Thread(
        target=_collect, args=(process.stderr, lines, "listening on", listening), daemon=True
    )
    reader.start()
    try:
        deadline = time.monotonic() + 15
        while not listening.wait(0.05):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"tcpdump did not start: {''.join(lines)}")
        yield path
        time.sleep(settle)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        process.stderr.close()
    report = "".join(lines)
    captured = re.search(r"(\d+) packets? captured", report)
    received = re.search(r"(\d+) packets? received by filter", report)
    dropped = re.search(r"(\d+) packets? dropped by kernel", report)
    if not (captured and received and dropped) or process.returncode != 0:
        raise AssertionError(f"tcpdump did not finish cleanly ({process.returncode}): {report}")
    if dropped.group(1) != "0" or captured.group(1) != received.group(1):
        raise AssertionError(f"tcpdump lost frames: {report}")


# --- DICOM files ---------------------------------------------------------------------------


def write_image(
    path: Path,
    *,
    sop_class: str,
    modality: str,
    manufacturer: str,
    model: str,
    station: str,
) -> Path:
    """A small but well-formed DICOM image file (Part 10, explicit VR little endian)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

    instance = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = UID(sop_class)
    ds.SOPInstanceUID = instance
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20250101"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
    ds.AccessionNumber = "ACC0001"
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.Modality = modality
    ds.Manufacturer = manufacturer
    ds.ManufacturerModelName = model
    ds.StationName = station
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = PATIENT_BIRTH_DATE
    ds.PatientSex = "F"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(range(128))
    ds.save_as(path, enforce_file_format=True)
    return path


# --- scenario: DCMTK -----------------------------------------------------------------------


def _run_dcmtk(net: Lan, work: Path) -> None:
    pacs, ct, mr = net["pacs"], net["ct"], net["mr"]
    assert pacs.ip is not None
    received = work / "received"
    received.mkdir()
    images = work / "images"
    images.mkdir()
    ct_files = [
        write_image(
            images / f"ct{i}.dcm",
            sop_class=CT_IMAGE_STORAGE,
            modality="CT",
            manufacturer="MEDSEC TEST",
            model="Peer CT 1",
            station="CT1",
        )
        for i in (1, 2)
    ]
    mr_file = write_image(
        images / "mr1.dcm",
        sop_class=MR_IMAGE_STORAGE,
        modality="MR",
        manufacturer="MEDSEC TEST",
        model="Peer MR 1",
        station="MR1",
    )
    timeouts = ("-to", "10", "-ta", "10", "-td", "10")
    storescp = (
        "storescp",
        "--aetitle",
        DCMTK_PACS_AE,
        "--output-directory",
        str(received),
        "-ta",
        "10",
        "-td",
        "10",
        str(DCMTK_PORT),
    )
    log = work / "storescp.log"
    with _serving(pacs.ns, log, DCMTK_PORT, *storescp):
        peer = (pacs.ip, str(DCMTK_PORT))
        _client(ct.ns, "echoscu", "-aet", DCMTK_CT_AE, "-aec", DCMTK_PACS_AE, *timeouts, *peer)
        _client(
            ct.ns,
            "storescu",
            "-R",  # propose only the SOP classes of the files, as a modality does
            "-aet",
            DCMTK_CT_AE,
            "-aec",
            DCMTK_PACS_AE,
            *timeouts,
            *peer,
            *map(str, ct_files),
        )
        _client(
            mr.ns,
            "storescu",
            "-R",
            "-aet",
            DCMTK_MR_AE,
            "-aec",
            DCMTK_PACS_AE,
            *timeouts,
            *peer,
            str(mr_file),
        )
    stored = sorted(p.name[:2] for p in received.iterdir())
    if stored != ["CT", "CT", "MR"]:  # storescp names files <modality>.<SOP instance UID>
        raise AssertionError(f"storescp stored {stored}: {log.read_text(errors='replace')}")


# --- scenario: pynetdicom ------------------------------------------------------------------

_PYNETDICOM_ARCHIVE = f"""
import sys
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import (
    CTImageStorage, MRImageStorage, PatientRootQueryRetrieveInformationModelFind,
    SecondaryCaptureImageStorage, Verification,
)

def on_store(event):
    print("stored", event.request.AffectedSOPClassUID, flush=True)
    return 0x0000

def on_find(event):
    query = event.identifier
    print("find", query.QueryRetrieveLevel, flush=True)
    if query.QueryRetrieveLevel != "PATIENT":
        yield 0xC000, None
        return
    match = Dataset()
    match.QueryRetrieveLevel = "PATIENT"
    match.PatientName = {PATIENT_NAME!r}
    match.PatientID = {PATIENT_ID!r}
    match.PatientBirthDate = {PATIENT_BIRTH_DATE!r}
    yield 0xFF00, match

ae = AE(sys.argv[1])
for sop_class in (CTImageStorage, MRImageStorage, SecondaryCaptureImageStorage, Verification,
                  PatientRootQueryRetrieveInformationModelFind):
    ae.add_supported_context(sop_class)
ae.start_server((sys.argv[2], int(sys.argv[3])), block=True,
                evt_handlers=[(evt.EVT_C_STORE, on_store), (evt.EVT_C_FIND, on_find)])
"""

_PYNETDICOM_VIEWER = """
import sys
from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind, SecondaryCaptureImageStorage, Verification,
)

me, peer, host, port, image = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]

def associate(sop_class):
    ae = AE(me)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.add_requested_context(sop_class)
    assoc = ae.associate(host, port, ae_title=peer)
    if not assoc.is_established:
        sys.exit(f"association for {sop_class} not established")
    return assoc

assoc = associate(Verification)
status = assoc.send_c_echo()
assoc.release()
assert status.Status == 0, status

assoc = associate(SecondaryCaptureImageStorage)
status = assoc.send_c_store(dcmread(image))
assoc.release()
assert status.Status == 0, status

query = Dataset()
query.QueryRetrieveLevel = "PATIENT"
query.PatientName = "TESTPATIENT*"
query.PatientID = ""
assoc = associate(PatientRootQueryRetrieveInformationModelFind)
responses = assoc.send_c_find(query, PatientRootQueryRetrieveInformationModelFind)
statuses = [status.Status for status, _ in responses]
assoc.release()
assert statuses == [0xFF00, 0x0000], statuses
print("done", flush=True)
"""


def _run_pynetdicom(net: Lan, work: Path) -> None:
    archive, viewer = net["archive"], net["viewer"]
    assert archive.ip is not None
    image = write_image(
        work / "sc1.dcm",
        sop_class=SECONDARY_CAPTURE_IMAGE_STORAGE,
        modality="OT",
        manufacturer="MEDSEC TEST",
        model="Peer Viewer",
        station="VIEW1",
    )
    log = work / "archive.log"
    scp = (PYTHON, "-c", _PYNETDICOM_ARCHIVE, PYNETDICOM_ARCHIVE_AE, archive.ip)
    with _serving(archive.ns, log, PYNETDICOM_PORT, *scp, str(PYNETDICOM_PORT)) as server:
        out = _python(
            viewer.ns,
            _PYNETDICOM_VIEWER,
            PYNETDICOM_VIEWER_AE,
            PYNETDICOM_ARCHIVE_AE,
            archive.ip,
            str(PYNETDICOM_PORT),
            str(image),
        )
        assert "done" in out, out
    served = _stop(server, log)
    if f"stored {SECONDARY_CAPTURE_IMAGE_STORAGE}" not in served or "find PATIENT" not in served:
        raise AssertionError(f"the archive did not serve the store and find: {served}")


# --- scenario: HL7 -------------------------------------------------------------------------

_HL7_SERVER = """
import asyncio, sys
from hl7.mllp import start_hl7_server

host, port, app, facility = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

async def handle(reader, writer):
    try:
        while not writer.is_closing():
            message = await reader.readmessage()
            print("received", message.segment("MSH")[9], flush=True)
            writer.writemessage(message.create_ack(application=app, facility=facility))
            await writer.drain()
    except asyncio.IncompleteReadError:
        if not writer.is_closing():
            writer.close()
            await writer.wait_closed()

async def main():
    async with await start_hl7_server(handle, host, port) as server:
        await server.serve_forever()

asyncio.run(main())
"""

_HL7_CLIENT = """
import json, sys
from hl7.client import MLLPClient

host, port, messages = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
with MLLPClient(host, port) as client:
    for message in messages:
        ack = client.send_message(message)
        assert b"MSA|AA|" in ack, ack
print("acknowledged", len(messages), flush=True)
"""


def _run_hl7(net: Lan, work: Path) -> None:
    his, lis = net["his"], net["lis"]
    assert his.ip is not None and lis.ip is not None
    his_log, lis_log = work / "his.log", work / "lis.log"
    port = str(HL7_PORT)
    with ExitStack() as stack:
        his_server = stack.enter_context(
            _serving(
                his.ns, his_log, HL7_PORT, PYTHON, "-c", _HL7_SERVER, his.ip, port, HIS_APP,
                HIS_FACILITY,
            )
        )  # fmt: skip
        lis_server = stack.enter_context(
            _serving(
                lis.ns, lis_log, HL7_PORT, PYTHON, "-c", _HL7_SERVER, lis.ip, port, LIS_APP,
                LIS_FACILITY,
            )
        )  # fmt: skip
        # The HIS admits a patient (ADT^A01 to the lab), the lab sends back a result.
        _python(his.ns, _HL7_CLIENT, lis.ip, port, json.dumps([HL7_ADT]))
        _python(lis.ns, _HL7_CLIENT, his.ip, port, json.dumps([HL7_ORU]))
        for server, log, expected in (
            (lis_server, lis_log, "ADT^A01"),
            (his_server, his_log, "ORU^R01"),
        ):
            served = _stop(server, log)
            if f"received {expected}" not in served:
                raise AssertionError(f"the server did not get {expected}: {served}")


# --- scenario: DHCP ------------------------------------------------------------------------


def _wait_for(path: Path, text: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + PEER_TIMEOUT
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} in {path.name}: {log.read_text(errors='replace')}")


def _run_dhcp(net: Lan, work: Path) -> None:
    server, dhclient, udhcpc = net["server"], net["dhclient"], net["udhcpc"]
    assert server.ip is not None
    leases = work / "dnsmasq.leases"
    dnsmasq = (
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--port=0",  # DHCP only, no DNS
        f"--interface={server.interface}",
        "--bind-interfaces",
        f"--dhcp-range={DHCP_RANGE[0]},{DHCP_RANGE[1]},255.255.255.0,{DHCP_LEASE_SECONDS}",
        f"--dhcp-option=option:router,{server.ip}",
        "--dhcp-authoritative",
        f"--dhcp-leasefile={leases}",
        f"--pid-file={work / 'dnsmasq.pid'}",
        "--no-ping",  # offer at once instead of pinging the address first
        "--log-dhcp",
        "--log-facility=-",
        "--user=root",
        "--group=root",
    )
    config = work / "dhclient.conf"
    config.write_text(
        f'send host-name "{DHCLIENT_HOST_NAME}";\n'
        f'send vendor-class-identifier "{DHCLIENT_VENDOR_CLASS}";\n'
        "request subnet-mask, broadcast-address, time-offset, routers, domain-name,\n"
        "        domain-name-servers, host-name, ntp-servers;\n"
    )
    lease = work / "dhclient.leases"
    with _serving(server.ns, work / "dnsmasq.log", 67, *dnsmasq, transport="udp"):
        # dhclient-script is replaced by /bin/true: nothing on the host (resolv.conf) changes.
        log = work / "dhclient.log"
        client = _start(
            dhclient.ns,
            log,
            "dhclient",
            "-d",
            "-1",
            "-v",
            "-cf",
            str(config),
            "-lf",
            str(lease),
            "-pf",
            str(work / "dhclient.pid"),
            "-sf",
            "/bin/true",
            dhclient.interface,
        )
        try:
            _wait_for(lease, "fixed-address 10.199.0.", client, log)
        finally:
            _stop(client, log)
        out = _client(
            udhcpc.ns,
            "udhcpc",
            "-i",
            udhcpc.interface,
            "-f",  # foreground
            "-q",  # quit once the lease is obtained
            "-n",  # exit (failing) when there is none
            "-t",
            "5",
            "-T",
            "2",
            "-s",
            "/bin/true",  # no configuration script: the lease is only obtained
            "-x",
            f"hostname:{UDHCPC_HOST_NAME}",
        )
        if "lease of 10.199.0." not in out:
            raise AssertionError(f"udhcpc got no lease: {out}")
    granted = leases.read_text()
    for host in (dhclient, udhcpc):
        if host.mac not in granted:
            raise AssertionError(f"dnsmasq granted no lease to {host.mac}: {granted}")


SCENARIOS: Mapping[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="dcmtk",
            about="DCMTK storescp archive; echoscu+storescu from a CT, storescu from an MR",
            tools=("storescp", "storescu", "echoscu"),
            hosts={"pacs": "10.199.0.1", "ct": "10.199.0.2", "mr": "10.199.0.3"},
            run=_run_dcmtk,
        ),
        Scenario(
            name="pynetdicom",
            about="pynetdicom archive (storage, verification, patient root find) and viewer",
            tools=(),
            hosts={"archive": "10.199.0.1", "viewer": "10.199.0.2"},
            run=_run_pynetdicom,
        ),
        Scenario(
            name="hl7",
            about="python-hl7 MLLP: HIS sends ADT^A01 to the LIS, the LIS sends ORU^R01 back",
            tools=(),
            hosts={"his": "10.199.0.1", "lis": "10.199.0.2"},
            run=_run_hl7,
        ),
        Scenario(
            name="dhcp",
            about="dnsmasq DHCP server; ISC dhclient and BusyBox udhcpc obtain leases",
            tools=("dnsmasq", "dhclient", "udhcpc"),
            hosts={"server": "10.199.0.1", "dhclient": None, "udhcpc": None},
            run=_run_dhcp,
        ),
    )
}


def unavailable(name: str) -> str | None:
    """Why scenario ``name`` cannot be recorded here, or ``None`` when it can."""
    reason = unavailable_reason()
    if reason is not None:
        return reason
    missing = missing_tools("tcpdump", *SCENARIOS[name].tools)
    if missing:
        return f"not installed: {', '.join(missing)} (see scripts/system-packages.sh)"
    return None


def record(name: str, directory: Path) -> Path:
    """Record scenario ``name`` into ``directory/<name>.pcap`` (scratch files beside it)."""
    reason = unavailable(name)
    if reason is not None:
        raise PeersUnavailable(f"scenario {name}: {reason}")
    scenario = SCENARIOS[name]
    work = directory / f"{name}.work"
    work.mkdir(parents=True)
    pcap = directory / f"{name}.pcap"
    with lan(scenario.hosts, prefix=f"ms-{name[:5]}") as net:
        with recording(net.hub, net.bridge, pcap):
            scenario.run(net, work)
    return pcap


def record_all(directory: Path) -> dict[str, Path]:
    """Every scenario recorded into ``directory``: scenario name -> pcap. Raises
    :class:`PeersUnavailable` when one of them cannot run here."""
    return {name: record(name, directory) for name in SCENARIOS}


def peer_versions() -> dict[str, str]:
    """Versions of the installed peer software that sends them on the wire: ``dcmtk``
    (OFFIS_DCMTK_367 -> 3.6.7), ``pynetdicom``, ``busybox`` (udhcpc's vendor class)."""
    versions: dict[str, str] = {}
    import pynetdicom

    versions["pynetdicom"] = str(pynetdicom.__version__)
    if not missing_tools("storescp"):
        out = subprocess.run(
            [system_tool("storescp"), "--version"], capture_output=True, text=True, check=False
        ).stdout
        if found := re.search(r"storescp v(\d+\.\d+\.\d+)", out):
            versions["dcmtk"] = found.group(1)
    if not missing_tools("busybox"):
        out = subprocess.run(["busybox"], capture_output=True, text=True, check=False).stdout
        if found := re.search(r"BusyBox v(\d+\.\d+\.\d+)", out):
            versions["busybox"] = found.group(1)
    return versions


__all__ = [
    "SCENARIOS",
    "PeersUnavailable",
    "Scenario",
    "peer_versions",
    "record",
    "record_all",
    "recording",
    "unavailable",
    "write_image",
]
