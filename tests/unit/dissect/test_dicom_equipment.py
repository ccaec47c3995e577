"""DICOM data set equipment facts (``DicomEquipment``): real pynetdicom associations on
loopback through a recording relay, pydicom-encoded data sets at every fragmentation and
encoding, cut stream heads, and the patient attributes that must never come out."""

from __future__ import annotations

import io
import socket
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import (
    UID,
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    SecondaryCaptureImageStorage,
)
from pynetdicom import AE, dimse_messages, dimse_primitives, evt
from pynetdicom.pdu import A_ASSOCIATE_AC, A_ASSOCIATE_RQ, P_DATA_TF
from pynetdicom.pdu_primitives import A_ASSOCIATE, MaximumLengthNotification
from pynetdicom.presentation import PresentationContext, build_context
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from medsec.dissect.dicom import DicomDissector
from medsec.model.observations import Observation
from medsec.model.observations.dicom import (
    DicomAssociationAccept,
    DicomCommand,
    DicomEquipment,
)

from tests_support.dissect_harness import ctx

D = DicomDissector()
CONTEXT = ctx(dst_port=104)

# Patient, study and instance values of the test objects: none may ever leave the dissector.
PATIENT_NAME = "Doe^Jane^Quincy"
PATIENT_ID = "PID-998877"
PATIENT_BIRTH_DATE = "19700131"
ACCESSION_NUMBER = "ACC-5566"
STUDY_DESCRIPTION = "CHEST WITHOUT CONTRAST"
REFERRING_PHYSICIAN = "House^Gregory"
STUDY_INSTANCE_UID = "1.2.826.0.1.3680043.8.498.1111111111"
SOP_INSTANCE_UID = "1.2.826.0.1.3680043.8.498.2222222222"
PATIENT_VALUES = (
    "Doe",
    "Jane",
    "Quincy",
    PATIENT_ID,
    PATIENT_BIRTH_DATE,
    ACCESSION_NUMBER,
    STUDY_DESCRIPTION,
    "House",
    "Gregory",
    STUDY_INSTANCE_UID,
    SOP_INSTANCE_UID,
    "20250102",  # study date
)


def ct_image(transfer_syntax: str = ExplicitVRLittleEndian) -> Dataset:
    """A small CT image with equipment, patient and study attributes."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(transfer_syntax)
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = UID(SOP_INSTANCE_UID)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = SOP_INSTANCE_UID
    ds.StudyDate = ds.SeriesDate = "20250102"
    ds.AccessionNumber = ACCESSION_NUMBER
    ds.Modality = "CT"
    ds.Manufacturer = "Müller Medizintechnik"
    ds.InstitutionName = "General Hospital"
    ds.ReferringPhysicianName = REFERRING_PHYSICIAN
    ds.StationName = "CT-ROOM-3"
    ds.StudyDescription = STUDY_DESCRIPTION
    ds.ManufacturerModelName = "ScanMaster 64"
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = PATIENT_BIRTH_DATE
    ds.PatientSex = "F"
    ds.DeviceSerialNumber = "SN-0042-77"
    ds.SoftwareVersions = ["SM 4.2.1", "Recon 2.0"]
    ds.StudyInstanceUID = STUDY_INSTANCE_UID
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.3333333333"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(128)
    return ds


EXPECTED = {
    "modality": "CT",
    "manufacturer": "Müller Medizintechnik",
    "institution_name": "General Hospital",
    "station_name": "CT-ROOM-3",
    "manufacturer_model_name": "ScanMaster 64",
    "device_serial_number": "SN-0042-77",
    "software_versions": ("SM 4.2.1", "Recon 2.0"),
    "sop_class_uid": CTImageStorage,
}


def equipment(found: Sequence[Observation]) -> list[DicomEquipment]:
    return [o for o in found if isinstance(o, DicomEquipment)]


def assert_no_patient_values(found: Sequence[Observation]) -> None:
    text = repr(list(found))
    for value in PATIENT_VALUES:
        assert value not in text, value


def assert_expected(eq: DicomEquipment) -> None:
    assert {name: getattr(eq, name) for name in EXPECTED} == EXPECTED


# --- a real association: pynetdicom SCU -> recording relay -> pynetdicom SCP ---------------


@dataclass
class Connection:
    """The bytes of one relayed TCP connection, per direction."""

    from_client: bytearray = field(default_factory=bytearray)
    from_server: bytearray = field(default_factory=bytearray)


class Relay:
    """A loopback TCP relay to ``target`` for one connection, recording what each side sends."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port: int = self.listener.getsockname()[1]
        self.connection = Connection()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        client, _ = self.listener.accept()
        with client, socket.create_connection(("127.0.0.1", self.target), timeout=10) as server:
            pumps = [
                threading.Thread(target=_pump, args=(client, server, self.connection.from_client)),
                threading.Thread(target=_pump, args=(server, client, self.connection.from_server)),
            ]
            for pump in pumps:
                pump.start()
            for pump in pumps:
                pump.join(10)

    def close(self) -> Connection:
        self.thread.join(10)
        self.listener.close()
        assert not self.thread.is_alive()
        return self.connection


def _pump(src: socket.socket, dst: socket.socket, record: bytearray) -> None:
    try:
        while chunk := src.recv(65536):
            record += chunk
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _on_store(event: Any) -> int:
    return 0x0000


ALL_SYNTAXES = (
    ImplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    DeflatedExplicitVRLittleEndian,
)


@contextmanager
def scp(syntaxes: Sequence[str] = ALL_SYNTAXES) -> Iterator[int]:
    """A pynetdicom storage and verification SCP on loopback accepting ``syntaxes``; yields
    its port."""
    ae = AE("ARCHIVE")
    ae.add_supported_context(CTImageStorage, list(syntaxes))
    ae.add_supported_context(Verification)
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, _on_store)]
    )
    assert server is not None
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()


def associate_and_store(
    dataset: Dataset,
    proposed: Sequence[str],
    *,
    accepted: Sequence[str] = ALL_SYNTAXES,
    echo: bool = False,
) -> Connection:
    """One association through the relay to an SCP accepting ``accepted``: optional C-ECHO,
    then a C-STORE of ``dataset``."""
    with scp(accepted) as port:
        relay = Relay(port)
        try:
            ae = AE("CT_ROOM_3")
            ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
            ae.add_requested_context(CTImageStorage, list(proposed))
            if echo:
                ae.add_requested_context(Verification)
            assoc = ae.associate("127.0.0.1", relay.port, ae_title="ARCHIVE")
            assert assoc.is_established
            try:
                if echo:
                    assert assoc.send_c_echo().Status == 0
                assert assoc.send_c_store(dataset).Status == 0
            finally:
                assoc.release()
        finally:
            connection = relay.close()
    return connection


def dissect_connection(connection: Connection) -> list[Observation]:
    found: list[Observation] = []
    for head in (connection.from_client, connection.from_server):
        found += D.dissect(bytes(head[: D.stream_bytes]), CONTEXT)
    return found


@pytest.mark.parametrize(
    "transfer_syntax",
    [
        ImplicitVRLittleEndian,
        ExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        DeflatedExplicitVRLittleEndian,
    ],
)
def test_c_store_through_a_real_association(transfer_syntax: str) -> None:
    """The only transfer syntax proposed is the one read with, and stated."""
    connection = associate_and_store(ct_image(transfer_syntax), [transfer_syntax])
    found = dissect_connection(connection)
    (eq,) = equipment(found)
    assert_expected(eq)
    assert eq.transfer_syntax == transfer_syntax
    assert eq.complete
    assert eq.context_id == 1
    store = [o for o in found if isinstance(o, DicomCommand) and o.command_name == "C-STORE-RQ"]
    assert len(store) == 1 and found.index(store[0]) < found.index(eq)
    assert_no_patient_values(found)


@pytest.mark.parametrize("transfer_syntax", ALL_SYNTAXES)
def test_several_proposed_the_bytes_tell_after_an_echo(transfer_syntax: str) -> None:
    """Several transfer syntaxes proposed and the acceptor's choice in the other direction:
    the data set's first element shows which one, after a C-ECHO on the same association."""
    connection = associate_and_store(
        ct_image(transfer_syntax), ALL_SYNTAXES, accepted=[transfer_syntax], echo=True
    )
    (ac,) = (
        o
        for o in D.dissect(bytes(connection.from_server), CONTEXT)
        if isinstance(o, DicomAssociationAccept)
    )
    assert ac.presentation_contexts[0].transfer_syntax == transfer_syntax
    found = dissect_connection(connection)
    (eq,) = equipment(found)
    assert_expected(eq)
    assert eq.transfer_syntax == transfer_syntax  # the one proposal with that encoding
    names = [o.command_name for o in found if isinstance(o, DicomCommand)]
    assert names[:2] == ["C-ECHO-RQ", "C-STORE-RQ"]
    assert_no_patient_values(found)


def test_the_head_budget_reaches_the_data_set() -> None:
    """The client's head holds association, echo, command and the equipment within the bytes
    the dissector asks for; the acceptor's head has no data set."""
    connection = associate_and_store(ct_image(), [ExplicitVRLittleEndian], echo=True)
    assert len(connection.from_client) < D.stream_bytes
    assert not equipment(list(D.dissect(bytes(connection.from_server), CONTEXT)))


# --- pydicom-encoded data sets in pynetdicom-built PDUs ------------------------------------


def encode(ds: Dataset, *, implicit: bool, little: bool) -> bytes:
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = implicit, little
    write_dataset(fp, ds)
    return fp.getvalue()


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def associate_rq(contexts: Sequence[tuple[int, str, Sequence[str]]]) -> bytes:
    prim = A_ASSOCIATE()
    prim.application_context_name = "1.2.840.10008.3.1.1.1"
    prim.calling_ae_title = "CT_ROOM_3"
    prim.called_ae_title = "ARCHIVE"
    built = []
    for context_id, abstract, syntaxes in contexts:
        context = build_context(abstract, list(syntaxes))
        context.context_id = context_id
        built.append(context)
    prim.presentation_context_definition_list = built
    maximum = MaximumLengthNotification()
    maximum.maximum_length_received = 16384
    prim.user_information = [maximum]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(prim)
    return bytes(pdu.encode())


def associate_ac(context_id: int, transfer_syntax: str) -> bytes:
    prim = A_ASSOCIATE()
    prim.application_context_name = "1.2.840.10008.3.1.1.1"
    prim.calling_ae_title = "CT_ROOM_3"
    prim.called_ae_title = "ARCHIVE"
    prim.result = 0x00
    context = PresentationContext()
    context.context_id = context_id
    context.transfer_syntax = [transfer_syntax]
    context.result = 0x00
    prim.presentation_context_definition_results_list = [context]
    maximum = MaximumLengthNotification()
    maximum.maximum_length_received = 16384
    prim.user_information = [maximum]
    pdu = A_ASSOCIATE_AC()
    pdu.from_primitive(prim)
    return bytes(pdu.encode())


def p_data(message: Any, primitive: Any, context_id: int, max_pdu: int) -> bytes:
    message.primitive_to_message(primitive)
    out = b""
    for pdata in message.encode_msg(context_id, max_pdu):
        pdu = P_DATA_TF()
        pdu.from_primitive(pdata)
        out += pdu.encode()
    return out


def c_store(
    data: bytes, *, sop_class: str = CTImageStorage, context_id: int = 1, max_pdu: int = 16382
) -> bytes:
    primitive = dimse_primitives.C_STORE()
    primitive.MessageID = 3
    primitive.AffectedSOPClassUID = sop_class
    primitive.AffectedSOPInstanceUID = SOP_INSTANCE_UID
    primitive.Priority = 0
    primitive.DataSet = io.BytesIO(data)
    return p_data(dimse_messages.C_STORE_RQ(), primitive, context_id, max_pdu)


def c_find(data: bytes, context_id: int = 3) -> bytes:
    primitive = dimse_primitives.C_FIND()
    primitive.MessageID = 4
    primitive.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.2.2.1"
    primitive.Priority = 0
    primitive.Identifier = io.BytesIO(data)
    return p_data(dimse_messages.C_FIND_RQ(), primitive, context_id, 16382)


ENCODINGS: dict[str, tuple[bool, bool]] = {
    ImplicitVRLittleEndian: (True, True),
    ExplicitVRLittleEndian: (False, True),
    ExplicitVRBigEndian: (False, False),
}


def head(transfer_syntax: str, *, max_pdu: int = 16382, ds: Dataset | None = None) -> bytes:
    implicit, little = ENCODINGS.get(transfer_syntax, (False, True))
    data = encode(ds or ct_image(), implicit=implicit, little=little)
    if transfer_syntax == DeflatedExplicitVRLittleEndian:
        data = deflate(data)
    rq = associate_rq([(1, CTImageStorage, [transfer_syntax])])
    return rq + c_store(data, max_pdu=max_pdu)


@pytest.mark.parametrize("max_pdu", [14, 40, 333, 16382])
@pytest.mark.parametrize("transfer_syntax", [*ENCODINGS, DeflatedExplicitVRLittleEndian])
def test_every_fragmentation_and_encoding(transfer_syntax: str, max_pdu: int) -> None:
    found = list(D.dissect(head(transfer_syntax, max_pdu=max_pdu), CONTEXT))
    (eq,) = equipment(found)
    assert_expected(eq)
    assert eq.complete and eq.transfer_syntax == transfer_syntax
    assert_no_patient_values(found)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm"])
def test_pydicom_test_files(name: str) -> None:
    ds = dcmread(str(get_testdata_file(name)))
    data = encode(ds, implicit=False, little=True)
    rq = associate_rq([(1, ds.SOPClassUID, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])])
    (eq,) = equipment(list(D.dissect(rq + c_store(data, sop_class=ds.SOPClassUID), CONTEXT)))
    assert eq.manufacturer == ds.Manufacturer
    assert eq.manufacturer_model_name == ds.ManufacturerModelName
    assert eq.station_name == ds.StationName
    assert eq.software_versions == (ds.SoftwareVersions,)
    assert eq.modality == ds.Modality
    assert eq.transfer_syntax == ExplicitVRLittleEndian
    assert str(ds.PatientName) not in repr(eq)


def test_the_accepted_transfer_syntax_in_the_same_head() -> None:
    """An acceptor sending C-STOREs (C-GET sub-operations) reads its own A-ASSOCIATE-AC."""
    data = encode(ct_image(), implicit=True, little=True)
    found = list(
        D.dissect(associate_ac(5, ImplicitVRLittleEndian) + c_store(data, context_id=5), CONTEXT)
    )
    (eq,) = equipment(found)
    assert_expected(eq)
    assert (eq.transfer_syntax, eq.context_id) == (ImplicitVRLittleEndian, 5)


def test_a_private_transfer_syntax_is_read_as_the_bytes_show() -> None:
    data = encode(ct_image(), implicit=True, little=True)
    rq = associate_rq([(1, CTImageStorage, ["1.2.840.113619.5.2"])])  # a vendor's private one
    (eq,) = equipment(list(D.dissect(rq + c_store(data), CONTEXT)))
    assert_expected(eq)
    assert eq.transfer_syntax == "1.2.840.113619.5.2"


def test_encapsulated_pixel_data_reads_the_explicit_header() -> None:
    data = encode(ct_image(), implicit=False, little=True)
    rq = associate_rq([(1, CTImageStorage, [JPEGBaseline8Bit, ExplicitVRLittleEndian])])
    (eq,) = equipment(list(D.dissect(rq + c_store(data), CONTEXT)))
    assert_expected(eq)
    assert eq.transfer_syntax is None  # both proposals encode the header alike


def test_a_cut_head_keeps_the_complete_elements() -> None:
    full = head(ExplicitVRLittleEndian)
    data_at = full.index(b"\x08\x00\x05\x00CS")  # first element of the data set
    model_at = full.index(b"ScanMaster 64")
    found = list(D.dissect(full[: model_at + 5], CONTEXT))  # inside the model name
    (eq,) = equipment(found)
    assert (eq.manufacturer, eq.station_name, eq.modality) == (
        "Müller Medizintechnik",
        "CT-ROOM-3",
        "CT",
    )
    assert eq.manufacturer_model_name is None and eq.software_versions == ()
    assert not eq.complete
    assert_no_patient_values(found)
    # the head ends inside the first element: the command alone
    found = list(D.dissect(full[: data_at + 6], CONTEXT))
    assert [type(o) for o in found][-1] is DicomCommand and not equipment(found)


def test_the_read_stops_after_group_0018() -> None:
    """Complete once an element beyond group 0018 shows up, even if the data goes on."""
    full = head(ExplicitVRLittleEndian)
    after = full.index(b"\x20\x00\x0d\x00UI")  # (0020,000D) Study Instance UID
    (eq,) = equipment(list(D.dissect(full[: after + 10], CONTEXT)))
    assert eq.complete and eq.software_versions == ("SM 4.2.1", "Recon 2.0")


def test_query_identifiers_are_never_read() -> None:
    """Only C-STORE data sets are read: a C-FIND identifier naming a manufacturer is not."""
    query = Dataset()
    query.Manufacturer = "Query Vendor"
    query.PatientName = PATIENT_NAME
    query.QueryRetrieveLevel = "STUDY"
    data = encode(query, implicit=True, little=True)
    rq = associate_rq([(3, "1.2.840.10008.5.1.4.1.2.2.1", [ImplicitVRLittleEndian])])
    found = list(D.dissect(rq + c_find(data), CONTEXT))
    assert not equipment(found)
    assert "Query Vendor" not in repr(found)
    assert_no_patient_values(found)


def test_a_data_set_without_equipment_gives_no_fact() -> None:
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.PatientName = PATIENT_NAME
    found = list(D.dissect(head(ExplicitVRLittleEndian, ds=ds), CONTEXT))
    assert [type(o).__name__ for o in found] == ["DicomAssociationRequest", "DicomCommand"]


def test_secondary_capture_equipment() -> None:
    ds = Dataset()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.PatientName = PATIENT_NAME
    ds.SecondaryCaptureDeviceManufacturer = "Viewer Corp"
    ds.SecondaryCaptureDeviceManufacturerModelName = "ReadStation"
    ds.SecondaryCaptureDeviceSoftwareVersions = ["7.1", "build 9"]
    ds.DeviceUID = "1.2.3.4.5.6"
    rq = associate_rq([(1, SecondaryCaptureImageStorage, [ImplicitVRLittleEndian])])
    data = encode(ds, implicit=True, little=True)
    (eq,) = equipment(list(D.dissect(rq + c_store(data, sop_class=ds.SOPClassUID), CONTEXT)))
    assert (eq.modality, eq.conversion_type, eq.device_uid) == ("OT", "WSD", "1.2.3.4.5.6")
    assert eq.secondary_capture_device_manufacturer == "Viewer Corp"
    assert eq.secondary_capture_device_manufacturer_model_name == "ReadStation"
    assert eq.secondary_capture_device_software_versions == ("7.1", "build 9")
    assert eq.manufacturer is None and eq.sop_class_uid == SecondaryCaptureImageStorage


def test_utf8_character_set() -> None:
    ds = ct_image()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.StationName = "放射線科 CT"
    (eq,) = equipment(list(D.dissect(head(ExplicitVRLittleEndian, ds=ds), CONTEXT)))
    assert eq.station_name == "放射線科 CT"


def test_same_equipment_twice_is_one_fact_another_is_another() -> None:
    other = ct_image()
    other.Manufacturer = "Other Vendor"
    data = encode(ct_image(), implicit=True, little=True)
    stream = associate_rq([(1, CTImageStorage, [ImplicitVRLittleEndian])])
    stream += c_store(data) + c_store(data) + c_store(encode(other, implicit=True, little=True))
    found = list(D.dissect(stream, CONTEXT))
    assert sorted(e.manufacturer or "" for e in equipment(found)) == [
        "Müller Medizintechnik",
        "Other Vendor",
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x08\x00",
        bytes(64),
        b"\xff" * 200,
        deflate(b"\xff" * 100),
        # (0008,0070) LO claiming 0xFFFF bytes: cut, dropped
        b"\x08\x00\x70\x00LO\xff\xffGE",
        # (0008,0070) SQ of undefined length holding garbage
        b"\x08\x00\x70\x00SQ\x00\x00\xff\xff\xff\xff" + b"\xfe\xff\x00\xe0" + b"\x01" * 40,
        # nested undefined-length sequences, deeper than the interpreter's recursion limit
        (b"\x08\x00\x10\x11SQ\x00\x00\xff\xff\xff\xff\xfe\xff\x00\xe0\xff\xff\xff\xff") * 2000,
        # (0008,0005) Specific Character Set naming nothing pydicom knows, then a manufacturer
        b"\x08\x00\x05\x00CS\x08\x00BOGUS_CS\x08\x00\x70\x00LO\x04\x00ACME",
    ],
)
def test_hostile_data_sets_never_raise(data: bytes) -> None:
    rq = associate_rq(
        [(1, CTImageStorage, [ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian])]
    )
    started = time.perf_counter()
    found = list(D.dissect(rq + c_store(data), CONTEXT))
    assert time.perf_counter() - started < 2.0
    assert [type(o).__name__ for o in found][:2] == ["DicomAssociationRequest", "DicomCommand"]
    for eq in equipment(found):
        assert eq.manufacturer in (None, "ACME")
