"""Clinical dissectors (DICOM, HL7, POCT1-A) under hostile bytes, plus round trips.

Arbitrary and mutated inputs: ``signature`` returns a bool and ``dissect`` yields observations
or raises ``DissectError`` - nothing else, no warning (pytest turns warnings into errors), no
hang. Round trips: messages built by pynetdicom (DICOM), by hand from random header fields
(HL7, POCT1-A) come back with the same facts; C-STORE data sets built by pydicom give their
equipment at any encoding, fragmentation and cut, and never their patient attributes.
"""

from __future__ import annotations

import io
import time
from typing import Any
from xml.sax.saxutils import quoteattr

from hypothesis import given
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pynetdicom import dimse_messages, dimse_primitives
from pynetdicom.pdu import A_ASSOCIATE_RQ, P_DATA_TF
from pynetdicom.pdu_primitives import (
    A_ASSOCIATE,
    ImplementationClassUIDNotification,
    ImplementationVersionNameNotification,
    MaximumLengthNotification,
)
from pynetdicom.presentation import build_context

from medsec.dissect.dicom import DicomDissector, storage_sop_classes
from medsec.dissect.hl7 import Hl7Dissector
from medsec.dissect.poct import PoctDissector
from medsec.model.observations import Observation
from medsec.model.observations.dicom import (
    DicomAssociationRequest,
    DicomCommand,
    DicomEquipment,
)
from medsec.model.observations.hl7 import Hl7Message
from medsec.model.observations.poct import PoctHello

from tests_support.dissect_harness import PROPERTY, ctx, mutated, run_hostile

DISSECTORS = [DicomDissector(), Hl7Dissector(), PoctDissector()]
CONTEXT = ctx()


def run(dissector: Any, data: bytes) -> list[Observation]:
    return run_hostile(dissector, data, [CONTEXT])


# --- valid seeds to mutate ----------------------------------------------------------------

SOP_CLASSES = sorted(storage_sop_classes())
AE_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="\\")
AE_TITLE = st.text(AE_CHARS, min_size=1, max_size=16)
UID = st.lists(st.integers(0, 99999), min_size=2, max_size=8).map(
    lambda parts: "1." + ".".join(str(p) for p in parts)
)


def build_rq(
    calling: str,
    called: str,
    sop_classes: list[str],
    klass: str,
    version: str,
    maximum: int,
    transfer_syntaxes: tuple[str, ...] = ("1.2.840.10008.1.2",),
) -> bytes:
    prim = A_ASSOCIATE()
    prim.application_context_name = "1.2.840.10008.3.1.1.1"
    prim.calling_ae_title = calling
    prim.called_ae_title = called
    contexts = []
    for number, uid in enumerate(sop_classes):
        context = build_context(uid, list(transfer_syntaxes))
        context.context_id = 2 * number + 1
        contexts.append(context)
    prim.presentation_context_definition_list = contexts
    m = MaximumLengthNotification()
    m.maximum_length_received = maximum
    k = ImplementationClassUIDNotification()
    k.implementation_class_uid = klass
    v = ImplementationVersionNameNotification()
    v.implementation_version_name = version
    prim.user_information = [m, k, v]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(prim)
    return bytes(pdu.encode())


def build_store(
    sop_class: str,
    message_id: int,
    max_pdu: int,
    context_id: int,
    data: bytes = b"\x10\x00\x10\x00\x04\x00\x00\x00DOE^",  # (0010,0010) PatientName
) -> bytes:
    primitive = dimse_primitives.C_STORE()
    primitive.MessageID = message_id
    primitive.AffectedSOPClassUID = sop_class
    primitive.AffectedSOPInstanceUID = "1.2.3.4.5"
    primitive.Priority = 0
    primitive.DataSet = io.BytesIO(data)
    message = dimse_messages.C_STORE_RQ()
    message.primitive_to_message(primitive)
    out = b""
    for pdata in message.encode_msg(context_id, max_pdu):
        pdu = P_DATA_TF()
        pdu.from_primitive(pdata)
        out += pdu.encode()
    return out


DICOM_SEED = build_rq(
    "CT_SCANNER_01", "PACS", SOP_CLASSES[:5], "1.2.3.4", "SEED_1", 16384
) + build_store(SOP_CLASSES[0], 1, 64, 1)
HL7_SEED = (
    b"\x0bMSH|^~\\&|APP|FAC|RAPP|RFAC|2024||ORU^R01^ORU_R01|1|P|2.5.1\rPID|1||9\r"
    b"OBX|1|NM|X||1\r\x1c\r\x0bMSH|^~\\&|RAPP|RFAC|APP|FAC|2024||ACK|2|P|2.5.1\rMSA|AA|1\r\x1c\r"
)
POCT_SEED = (
    b'<?xml version="1.0"?><HEL.R01><HDR><HDR.version_id V="POCT1"/></HDR><DEV>'
    b'<DEV.vendor_id V="V"/><DEV.model_id V="M"/><DSC><DSC.topics_supported_cd V="OPL"/>'
    b'</DSC></DEV></HEL.R01><OBS.R01><SVC><PT><PT.patient_id V="P"/></PT></SVC></OBS.R01>'
)
SEEDS = {"dicom": DICOM_SEED, "hl7": HL7_SEED, "poct1a": POCT_SEED}

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE = (
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
)
ENCODINGS = {IMPLICIT_LE: (True, True), EXPLICIT_LE: (False, True), EXPLICIT_BE: (False, False)}


def encode(ds: Dataset, transfer_syntax: str) -> bytes:
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = ENCODINGS[transfer_syntax]
    write_dataset(fp, ds)
    return fp.getvalue()


def equipment_data_set(equipment: dict[str, Any], patient: dict[str, str]) -> Dataset:
    """A CT image head: equipment attributes (DICOM keywords) among patient and study ones."""
    ds = Dataset()
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.StudyDate = "20250102"
    for keyword, value in {**equipment, **patient}.items():
        setattr(ds, keyword, value)
    ds.StudyInstanceUID = "1.2.3.4.6"
    ds.Rows = ds.Columns = 2
    return ds


SEED_EQUIPMENT = {
    "Modality": "CT",
    "Manufacturer": "EXAMPLE MEDICAL",
    "StationName": "CT-ROOM-3",
    "ManufacturerModelName": "SCANMASTER 64",
    "DeviceSerialNumber": "SN-0042",
    "SoftwareVersions": ["SM 4.2.1", "RECON 2.0"],
}
SEED_PATIENT = {"PatientName": "zqdoe^janeqz", "PatientID": "zqpid998877qz"}
EQUIPMENT_SEED = build_rq(
    "CT_ROOM_3", "PACS", [CT_IMAGE], "1.2.3.4", "SEED_1", 16384, (EXPLICIT_LE, IMPLICIT_LE)
) + build_store(
    CT_IMAGE, 1, 200, 1, encode(equipment_data_set(SEED_EQUIPMENT, SEED_PATIENT), EXPLICIT_LE)
)


FRAMING_BYTES = (0x00, 0xFF, 0x7F, 0x80, 0x0B, 0x1C, 0x3C, 0x7C)
"""Bytes that matter to these protocols' framing, favoured by the mutations."""


@PROPERTY
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data: bytes) -> None:
    for dissector in DISSECTORS:
        run(dissector, data)


@PROPERTY
@given(st.sampled_from(DISSECTORS), st.data())
def test_mutated_valid_messages(dissector: Any, data: st.DataObject) -> None:
    seed = SEEDS[dissector.name]
    run(dissector, data.draw(mutated(seed, FRAMING_BYTES)))


@PROPERTY
@given(st.data())
def test_mutated_store_with_data_set(data: st.DataObject) -> None:
    run(DISSECTORS[0], data.draw(mutated(EQUIPMENT_SEED, FRAMING_BYTES + (0x08, 0x10, 0x18))))


@PROPERTY
@given(st.binary(max_size=4096), st.sampled_from([IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE]))
def test_arbitrary_data_set_after_a_store(data_set: bytes, transfer_syntax: str) -> None:
    """Any bytes as the data set of a well-formed C-STORE: the command, maybe equipment."""
    rq = build_rq("CT_ROOM_3", "PACS", [CT_IMAGE], "1.2.3.4", "V", 0, (transfer_syntax,))
    found = run(DISSECTORS[0], rq + build_store(CT_IMAGE, 1, 16384, 1, data_set))
    assert [type(o) for o in found][:2] == [DicomAssociationRequest, DicomCommand]
    assert all(isinstance(o, DicomEquipment) for o in found[2:]) and len(found) <= 3


@PROPERTY
@given(st.binary(max_size=2048))
def test_prefixed_arbitrary_bytes(tail: bytes) -> None:
    """Bytes that pass each signature's first checks, then anything."""
    run(DISSECTORS[0], bytes.fromhex("01 00 0000 0100 0001 0000") + tail)
    run(DISSECTORS[0], bytes.fromhex("04 00 0000 0100") + tail)
    run(DISSECTORS[1], b"\x0bMSH|^~\\&|" + tail)
    run(DISSECTORS[2], b"<HEL.R01>" + tail + b"</HEL.R01>")


# --- round trips --------------------------------------------------------------------------


@PROPERTY
@given(
    calling=AE_TITLE,
    called=AE_TITLE,
    sop_classes=st.lists(st.sampled_from(SOP_CLASSES) | UID, min_size=1, max_size=40),
    klass=UID,
    version=st.text(AE_CHARS, min_size=1, max_size=16),
    maximum=st.integers(0, 2**32 - 1),
)
def test_dicom_request_round_trip(
    calling: str, called: str, sop_classes: list[str], klass: str, version: str, maximum: int
) -> None:
    data = build_rq(calling, called, sop_classes, klass, version, maximum)
    (rq,) = DicomDissector().dissect(data, CONTEXT)
    assert isinstance(rq, DicomAssociationRequest)
    assert (rq.calling_ae_title, rq.called_ae_title) == (calling.strip(), called.strip())
    assert [p.abstract_syntax for p in rq.presentation_contexts] == sop_classes
    assert (rq.implementation_class_uid, rq.implementation_version_name) == (klass, version)
    assert rq.maximum_length_received == maximum
    table = storage_sop_classes()
    expected = {m for uid in sop_classes if (m := table[uid].modality if uid in table else None)}
    assert set(rq.modalities) == expected


@PROPERTY
@given(
    sop_class=st.sampled_from(SOP_CLASSES),
    message_id=st.integers(0, 65535),
    max_pdu=st.integers(14, 400),
    context_id=st.integers(0, 127).map(lambda n: 2 * n + 1),
    cut=st.integers(0, 200),
)
def test_dicom_store_round_trip_at_any_fragmentation(
    sop_class: str, message_id: int, max_pdu: int, context_id: int, cut: int
) -> None:
    data = build_store(sop_class, message_id, max_pdu, context_id)
    (command,) = DicomDissector().dissect(data, CONTEXT)
    assert isinstance(command, DicomCommand)
    assert (command.command_name, command.sop_class_uid) == ("C-STORE-RQ", sop_class)
    assert command.context_id == context_id and command.carries_phi
    # any cut of the stream head: the command, or quietly nothing
    assert len(run(DicomDissector(), data[: len(data) - cut])) <= 1


EQUIPMENT_TEXT = (
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-_"), min_size=1, max_size=16)
    .map(str.strip)
    .filter(bool)
)
PATIENT_TEXT = st.text(st.sampled_from("abcdefghijklmnop"), min_size=1, max_size=12).map(
    lambda text: f"zq{text}qz"  # no equipment value or field name holds "zq"
)


@PROPERTY
@given(
    equipment=st.fixed_dictionaries(
        {},
        optional={
            "Modality": st.sampled_from(["CT", "MR", "US", "OT", "DX"]),
            "Manufacturer": EQUIPMENT_TEXT,
            "InstitutionName": EQUIPMENT_TEXT,
            "StationName": EQUIPMENT_TEXT,
            "ManufacturerModelName": EQUIPMENT_TEXT,
            "DeviceSerialNumber": EQUIPMENT_TEXT,
            "SoftwareVersions": st.lists(EQUIPMENT_TEXT, min_size=1, max_size=4),
        },
    ),
    patient=st.fixed_dictionaries(
        {"PatientName": PATIENT_TEXT, "PatientID": PATIENT_TEXT},
        optional={"AccessionNumber": PATIENT_TEXT, "StudyDescription": PATIENT_TEXT},
    ),
    transfer_syntax=st.sampled_from([IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE]),
    proposed_alone=st.booleans(),
    max_pdu=st.integers(14, 2000),
    cut=st.integers(0, 600),
)
def test_dicom_equipment_round_trip(
    equipment: dict[str, Any],
    patient: dict[str, str],
    transfer_syntax: str,
    proposed_alone: bool,
    max_pdu: int,
    cut: int,
) -> None:
    proposed = (transfer_syntax,) if proposed_alone else tuple(ENCODINGS)
    data = build_rq("CT_ROOM_3", "PACS", [CT_IMAGE], "1.2.3.4", "V", 0, proposed)
    data += build_store(
        CT_IMAGE, 1, max_pdu, 1, encode(equipment_data_set(equipment, patient), transfer_syntax)
    )
    fields = {
        "Modality": "modality",
        "Manufacturer": "manufacturer",
        "InstitutionName": "institution_name",
        "StationName": "station_name",
        "ManufacturerModelName": "manufacturer_model_name",
        "DeviceSerialNumber": "device_serial_number",
    }
    expected = {fields[k]: v for k, v in equipment.items() if k in fields}
    found = run(DISSECTORS[0], data)
    facts = [o for o in found if isinstance(o, DicomEquipment)]
    if equipment:
        (eq,) = facts
        assert {name: getattr(eq, name) for name in expected} == expected
        assert eq.software_versions == tuple(equipment.get("SoftwareVersions", ()))
        assert eq.complete and eq.sop_class_uid == CT_IMAGE
        assert eq.transfer_syntax == transfer_syntax
    else:
        assert not facts
    # any cut of the stream head: a subset of the same facts, quietly
    cut_found = run(DISSECTORS[0], data[: max(len(data) - cut, 0)])
    for eq in (o for o in cut_found if isinstance(o, DicomEquipment)):
        for name, value in expected.items():
            assert getattr(eq, name) in (value, None)
        assert eq.software_versions in ((), tuple(equipment.get("SoftwareVersions", ())))
    assert "zq" not in repr(found) + repr(cut_found)


HL7_TEXT = (
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="|^~\\&"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
SEGMENT_ID = st.sampled_from(["EVN", "PID", "PV1", "NK1", "OBR", "OBX", "NTE", "ORC", "ZPI"])


@PROPERTY
@given(
    app=HL7_TEXT,
    facility=HL7_TEXT,
    code=st.sampled_from(["ADT", "ORU", "ORM", "SIU", "MDM"]),
    trigger=st.from_regex(r"[A-Z][0-9]{2}", fullmatch=True),
    version=st.sampled_from(["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6"]),
    segments=st.lists(SEGMENT_ID, max_size=30),
    terminator=st.sampled_from(["\r", "\n", "\r\n"]),
    framed=st.booleans(),
)
def test_hl7_round_trip(
    app: str,
    facility: str,
    code: str,
    trigger: str,
    version: str,
    segments: list[str],
    terminator: str,
    framed: bool,
) -> None:
    lines = [f"MSH|^~\\&|{app}|{facility}|R|RF|2024||{code}^{trigger}|1|P|{version}"]
    lines += [f"{s}|1|x" for s in segments]
    text = terminator.join(lines) + terminator
    data = b"\x0b" + text.encode() + b"\x1c\r" if framed else text.encode()
    assert Hl7Dissector().signature(data)
    (msg,) = Hl7Dissector().dissect(data, CONTEXT)
    assert isinstance(msg, Hl7Message)
    assert (msg.sending_application, msg.sending_facility) == (app, facility)
    assert (msg.message_code, msg.trigger_event, msg.version_id) == (code, trigger, version)
    assert msg.segment_ids == ("MSH", *segments)
    assert msg.carries_phi == bool({"PID", "PV1", "NK1"} & set(segments))


POCT_TEXT = (
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_categories=["Cs", "Cc"]),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)


@PROPERTY
@given(vendor=POCT_TEXT, model=POCT_TEXT, serial=POCT_TEXT, topics=st.lists(POCT_TEXT, max_size=5))
def test_poct_hello_round_trip(vendor: str, model: str, serial: str, topics: list[str]) -> None:
    dsc = "".join(f"<DSC.topics_supported_cd V={quoteattr(t)}/>" for t in topics)
    xml = (
        f"<HEL.R01><DEV><DEV.vendor_id V={quoteattr(vendor)}/>"
        f"<DEV.model_id V={quoteattr(model)}/><DEV.serial_id V={quoteattr(serial)}/>"
        f"<DSC>{dsc}</DSC></DEV></HEL.R01>"
    )
    (hello,) = PoctDissector().dissect(xml.encode(), CONTEXT)
    assert isinstance(hello, PoctHello)
    assert (hello.vendor_id, hello.model_id, hello.serial_id) == (vendor, model, serial)
    assert hello.topics_supported_cd == tuple(topics)


# --- bounded work on the worst stream heads ---------------------------------------------


def test_worst_case_heads_finish_quickly() -> None:
    tiny_pdvs = b"".join(bytes.fromhex("04 00 00000006 00000002 0100") for _ in range(65536 // 12))
    many_segments = b"\x0bMSH|^~\\&|A|B|C|D|||ADT^A01|1|P|2.3" + b"\rPID|1" * 10000 + b"\x1c\r"
    many_frames = b"\x0bMSH|^~\\&|A\r\x1c\r" * 4000
    many_docs = b"<ACK.R01></ACK.R01>" * 1700
    deep = b"<HEL.R01>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</HEL.R01>"
    store_rq = build_rq("A", "B", [CT_IMAGE], "1.2.3", "V", 0, (EXPLICIT_LE,))
    nested = b"\x08\x00\x10\x11SQ\x00\x00\xff\xff\xff\xff\xfe\xff\x00\xe0\xff\xff\xff\xff" * 3000
    deep_data_set = store_rq + build_store(CT_IMAGE, 1, 16384, 1, nested)
    tiny_stores = store_rq + b"".join(
        build_store(CT_IMAGE, 1, 16384, 1, b"\x08\x00\x70\x00LO\x02\x00" + n.to_bytes(2, "big"))
        for n in range(200)
    )
    for dissector, data in [
        (DISSECTORS[0], tiny_pdvs),
        (DISSECTORS[0], deep_data_set[:65536]),
        (DISSECTORS[0], tiny_stores[:65536]),
        (DISSECTORS[1], many_segments),
        (DISSECTORS[1], many_frames),
        (DISSECTORS[2], many_docs),
        (DISSECTORS[2], deep),
    ]:
        started = time.perf_counter()
        found = run(dissector, data)
        assert time.perf_counter() - started < 5.0, dissector.name
        assert len(found) <= 256
        assert len([o for o in found if isinstance(o, DicomEquipment)]) <= 32
