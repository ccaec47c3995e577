"""DICOM upper layer PDUs (PS3.8) and DIMSE messages (PS3.7), encoded by pynetdicom, with
datasets encoded by pydicom. Patient data is synthetic (``SIM^PATIENT^0001``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from io import BytesIO

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom.dimse_messages import (
    C_ECHO_RQ,
    C_ECHO_RSP,
    C_FIND_RQ,
    C_FIND_RSP,
    C_STORE_RQ,
    C_STORE_RSP,
    DIMSEMessage,
)
from pynetdicom.dimse_primitives import C_ECHO, C_FIND, C_STORE
from pynetdicom.dsutils import encode
from pynetdicom.pdu import A_ASSOCIATE_AC, A_ASSOCIATE_RQ, A_RELEASE_RP, A_RELEASE_RQ, P_DATA_TF
from pynetdicom.pdu_primitives import (
    A_ASSOCIATE,
    ImplementationClassUIDNotification,
    ImplementationVersionNameNotification,
    MaximumLengthNotification,
)
from pynetdicom.presentation import build_context

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
VERIFICATION = "1.2.840.10008.1.1"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"

STORAGE_CLASSES: dict[str, str] = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
}
"""Single-frame image storage SOP classes by modality."""

MULTIFRAME_CLASSES: dict[str, str] = {
    "CT": "1.2.840.10008.5.1.4.1.1.2.1",
    "MR": "1.2.840.10008.5.1.4.1.1.4.1",
    "US": "1.2.840.10008.5.1.4.1.1.3.1",
}
"""Multi-frame (enhanced) storage SOP classes used for long transfers."""

P_DATA_HEADER_LEN = 12
"""PDU type, reserved, PDU length, PDV length, context ID, message control header."""

STATUS_SUCCESS = 0x0000
STATUS_PENDING = 0xFF00


@dataclass(frozen=True, slots=True)
class Application:
    """One side of an association."""

    ae_title: str
    implementation_uid: str
    version_name: str
    max_pdu: int = 16384


def _primitive(
    calling: Application, called: Application, abstract_syntaxes: list[str]
) -> A_ASSOCIATE:
    primitive = A_ASSOCIATE()
    primitive.application_context_name = APPLICATION_CONTEXT
    primitive.calling_ae_title = calling.ae_title
    primitive.called_ae_title = called.ae_title
    contexts = []
    for number, syntax in enumerate(abstract_syntaxes):
        context = build_context(syntax, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        context.context_id = 2 * number + 1
        contexts.append(context)
    primitive.presentation_context_definition_list = contexts
    return primitive


def _user_information(
    side: Application,
) -> tuple[
    MaximumLengthNotification,
    ImplementationClassUIDNotification,
    ImplementationVersionNameNotification,
]:
    maximum = MaximumLengthNotification()
    maximum.maximum_length_received = side.max_pdu
    klass = ImplementationClassUIDNotification()
    klass.implementation_class_uid = UID(side.implementation_uid)
    version = ImplementationVersionNameNotification()
    version.implementation_version_name = side.version_name
    return maximum, klass, version


def associate_rq(calling: Application, called: Application, abstract_syntaxes: list[str]) -> bytes:
    """A-ASSOCIATE-RQ proposing each syntax with explicit and implicit VR little endian."""
    primitive = _primitive(calling, called, abstract_syntaxes)
    primitive.user_information = [*_user_information(calling)]
    return bytes(A_ASSOCIATE_RQ(primitive).encode())


def associate_ac(calling: Application, called: Application, abstract_syntaxes: list[str]) -> bytes:
    """A-ASSOCIATE-AC accepting every proposed context with explicit VR little endian."""
    primitive = _primitive(calling, called, abstract_syntaxes)
    primitive.result = 0
    primitive.result_source = 1
    accepted = []
    for number, syntax in enumerate(abstract_syntaxes):
        context = build_context(syntax, [ExplicitVRLittleEndian])
        context.context_id = 2 * number + 1
        context.result = 0
        accepted.append(context)
    primitive.presentation_context_definition_results_list = accepted
    primitive.user_information = [*_user_information(called)]
    return bytes(A_ASSOCIATE_AC(primitive).encode())


def release_rq() -> bytes:
    return bytes(A_RELEASE_RQ().encode())


def release_rp() -> bytes:
    return bytes(A_RELEASE_RP().encode())


def _pdus(
    message: DIMSEMessage, primitive: C_ECHO | C_FIND | C_STORE, context_id: int, max_pdu: int
) -> bytes:
    message.primitive_to_message(primitive)
    return b"".join(
        bytes(P_DATA_TF(p_data).encode()) for p_data in message.encode_msg(context_id, max_pdu)
    )


def c_echo_rq(message_id: int, context_id: int) -> bytes:
    primitive = C_ECHO()
    primitive.MessageID = message_id
    primitive.AffectedSOPClassUID = VERIFICATION
    return _pdus(C_ECHO_RQ(), primitive, context_id, 16384)


def c_echo_rsp(message_id: int, context_id: int) -> bytes:
    primitive = C_ECHO()
    primitive.MessageIDBeingRespondedTo = message_id
    primitive.AffectedSOPClassUID = VERIFICATION
    primitive.Status = STATUS_SUCCESS
    return _pdus(C_ECHO_RSP(), primitive, context_id, 16384)


def c_store_rq(
    message_id: int,
    sop_class: str,
    sop_instance: str,
    context_id: int,
    dataset: bytes | None,
    max_pdu: int = 16384,
) -> bytes:
    """The C-STORE-RQ command and, if given, the encoded dataset fragmented to ``max_pdu``."""
    primitive = C_STORE()
    primitive.MessageID = message_id
    primitive.AffectedSOPClassUID = sop_class
    primitive.AffectedSOPInstanceUID = sop_instance
    primitive.Priority = 2
    if dataset is not None:
        primitive.DataSet = BytesIO(dataset)
    return _pdus(C_STORE_RQ(), primitive, context_id, max_pdu)


def c_store_rsp(message_id: int, sop_class: str, sop_instance: str, context_id: int) -> bytes:
    primitive = C_STORE()
    primitive.MessageIDBeingRespondedTo = message_id
    primitive.AffectedSOPClassUID = sop_class
    primitive.AffectedSOPInstanceUID = sop_instance
    primitive.Status = STATUS_SUCCESS
    return _pdus(C_STORE_RSP(), primitive, context_id, 16384)


def c_find_rq(message_id: int, sop_class: str, identifier: Dataset, context_id: int) -> bytes:
    primitive = C_FIND()
    primitive.MessageID = message_id
    primitive.AffectedSOPClassUID = sop_class
    primitive.Priority = 2
    primitive.Identifier = BytesIO(encode_dataset(identifier))
    return _pdus(C_FIND_RQ(), primitive, context_id, 16384)


def c_find_rsp(
    message_id: int, sop_class: str, identifier: Dataset | None, context_id: int
) -> bytes:
    """A pending response carrying ``identifier``, or the final success when ``None``."""
    primitive = C_FIND()
    primitive.MessageIDBeingRespondedTo = message_id
    primitive.AffectedSOPClassUID = sop_class
    if identifier is None:
        primitive.Status = STATUS_SUCCESS
    else:
        primitive.Status = STATUS_PENDING
        primitive.Identifier = BytesIO(encode_dataset(identifier))
    return _pdus(C_FIND_RSP(), primitive, context_id, 16384)


def p_data_header(data_len: int, context_id: int, control: int) -> bytes:
    """A P-DATA-TF header with one PDV of ``data_len`` bytes (control 0 = dataset fragment,
    2 = last dataset fragment)."""
    return struct.pack("!BBIIBB", 4, 0, data_len + 6, data_len + 2, context_id, control)


def encode_dataset(dataset: Dataset) -> bytes:
    """Explicit VR little endian encoding."""
    encoded = encode(dataset, False, True)
    if encoded is None:  # pragma: no cover - pydicom could not encode
        raise ValueError("dataset could not be encoded")
    return bytes(encoded)


@dataclass(frozen=True, slots=True)
class Study:
    """Who and what an image belongs to."""

    patient_number: int
    study_uid: str
    series_uid: str
    accession: str


@dataclass(frozen=True, slots=True)
class Modality:
    """The device that produced an image."""

    modality: str
    manufacturer: str
    model: str
    station_name: str
    software: str
    serial: str


def patient_name(number: int) -> str:
    return f"SIM^PATIENT^{number:04d}"


def image_dataset(
    study: Study,
    device: Modality,
    sop_class: str,
    sop_instance: str,
    *,
    rows: int,
    columns: int,
    frames: int = 1,
    pixels: bytes | None,
) -> Dataset:
    """An image dataset; ``pixels=None`` leaves Pixel Data out (it is appended raw)."""
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.StudyDate = "20260105"
    ds.StudyTime = "080000"
    ds.AccessionNumber = study.accession
    ds.Modality = device.modality
    ds.Manufacturer = device.manufacturer
    ds.InstitutionName = "Sim General Hospital"
    ds.StationName = device.station_name
    ds.ManufacturerModelName = device.model
    ds.PatientName = patient_name(study.patient_number)
    ds.PatientID = f"SIM{study.patient_number:04d}"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.DeviceSerialNumber = device.serial
    ds.SoftwareVersions = device.software
    ds.StudyInstanceUID = study.study_uid
    ds.SeriesInstanceUID = study.series_uid
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    if pixels is not None:
        ds.PixelData = pixels
        ds["PixelData"].VR = "OW"
    return ds


def pixel_data_header(length: int) -> bytes:
    """Explicit VR little endian header of a (7FE0,0010) OW element of ``length`` bytes."""
    return struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, length)


def study_query(modality: str) -> Dataset:
    """A STUDY-level C-FIND identifier for today's studies of a modality."""
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.PatientName = "SIM^*"
    ds.PatientID = ""
    ds.StudyDate = "20260105"
    ds.ModalitiesInStudy = modality
    ds.StudyInstanceUID = ""
    return ds


def study_match(number: int, modality: str, study_uid: str) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.PatientName = patient_name(number)
    ds.PatientID = f"SIM{number:04d}"
    ds.StudyDate = "20260105"
    ds.ModalitiesInStudy = modality
    ds.StudyInstanceUID = study_uid
    return ds


def worklist_query(modality: str, station_ae: str) -> Dataset:
    """A modality worklist C-FIND identifier for a station."""
    step = Dataset()
    step.Modality = modality
    step.ScheduledStationAETitle = station_ae
    step.ScheduledProcedureStepStartDate = "20260105"
    ds = Dataset()
    ds.PatientName = ""
    ds.PatientID = ""
    ds.AccessionNumber = ""
    ds.ScheduledProcedureStepSequence = Sequence([step])
    return ds


def worklist_item(number: int, modality: str, station_ae: str, accession: str) -> Dataset:
    step = Dataset()
    step.Modality = modality
    step.ScheduledStationAETitle = station_ae
    step.ScheduledProcedureStepStartDate = "20260105"
    ds = Dataset()
    ds.PatientName = patient_name(number)
    ds.PatientID = f"SIM{number:04d}"
    ds.AccessionNumber = accession
    ds.ScheduledProcedureStepSequence = Sequence([step])
    return ds
