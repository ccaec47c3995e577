"""DICOM upper layer dissector: spec vectors, pynetdicom-built PDUs, a real DCMTK capture."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydicom._uid_dict import UID_dictionary
from pydicom.filereader import read_dataset
from pynetdicom import dimse_messages, dimse_primitives
from pynetdicom.pdu import A_ASSOCIATE_AC, A_ASSOCIATE_RQ, P_DATA_TF
from pynetdicom.pdu_primitives import (
    A_ASSOCIATE,
    ImplementationClassUIDNotification,
    ImplementationVersionNameNotification,
    MaximumLengthNotification,
    SCP_SCU_RoleSelectionNegotiation,
    UserIdentityNegotiation,
)
from pynetdicom.presentation import build_context
from pynetdicom.service_class import StorageServiceClass
from pynetdicom.sop_class import uid_to_service_class

from medsec.dissect.dicom import DicomDissector, status_category, storage_sop_classes, uid_name
from medsec.model.errors import DissectError
from medsec.model.observations import Observation
from medsec.model.observations.dicom import (
    DicomAbort,
    DicomAssociationAccept,
    DicomAssociationReject,
    DicomAssociationRequest,
    DicomCommand,
    DicomEquipment,
)

from tests_support.dissect_harness import Payload, ctx, payloads

D = DicomDissector()
CAPTURE = "pcap/loopback_generated/dicom_dcmtk367_pynetdicom304_loopback.pcap"
DICOM_PORTS = {11112, 11113, 11114}

US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
VERIFICATION = "1.2.840.10008.1.1"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"


def dissect(data: bytes) -> list[Observation]:
    return list(D.dissect(data, ctx(dst_port=104)))


def one(found: Sequence[Observation], kind: type[Observation]) -> Observation:
    matching = [o for o in found if isinstance(o, kind)]
    assert len(matching) == 1, found
    return matching[0]


# --- vectors built with pynetdicom's PDU classes -------------------------------------------


def associate_rq(
    *, user_identity: tuple[int, bytes, bytes] | None = (2, b"tech1", b"s3cret")
) -> bytes:
    prim = A_ASSOCIATE()
    prim.application_context_name = "1.2.840.10008.3.1.1.1"
    prim.calling_ae_title = "US_CART_3"
    prim.called_ae_title = "PACS"
    contexts = []
    for number, uid in enumerate([US_IMAGE, US_MULTIFRAME, VERIFICATION]):
        context = build_context(uid, [EXPLICIT_LE, IMPLICIT_LE])
        context.context_id = 2 * number + 1
        contexts.append(context)
    prim.presentation_context_definition_list = contexts
    maximum = MaximumLengthNotification()
    maximum.maximum_length_received = 32768
    klass = ImplementationClassUIDNotification()
    klass.implementation_class_uid = "1.2.3.4.5.6"
    version = ImplementationVersionNameNotification()
    version.implementation_version_name = "EXAMPLE_US_1"
    role = SCP_SCU_RoleSelectionNegotiation()
    role.sop_class_uid = US_IMAGE
    role.scu_role = True
    role.scp_role = False
    items: list[Any] = [maximum, klass, version, role]
    if user_identity is not None:
        identity = UserIdentityNegotiation()
        identity.user_identity_type = user_identity[0]
        identity.primary_field = user_identity[1]
        identity.secondary_field = user_identity[2]
        identity.positive_response_requested = False
        items.append(identity)
    prim.user_information = items
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(prim)
    return bytes(pdu.encode())


def p_data(message: object, primitive: object, context_id: int = 1, max_pdu: int = 64) -> bytes:
    """A DIMSE message encoded by pynetdicom into P-DATA-TF PDUs (fragmented at ``max_pdu``)."""
    message.primitive_to_message(primitive)  # type: ignore[attr-defined]
    out = b""
    for pdata in message.encode_msg(context_id, max_pdu):  # type: ignore[attr-defined]
        pdu = P_DATA_TF()
        pdu.from_primitive(pdata)
        out += pdu.encode()
    return out


def c_store_rq(sop_class: str = US_IMAGE, max_pdu: int = 64) -> bytes:
    primitive = dimse_primitives.C_STORE()
    primitive.MessageID = 7
    primitive.AffectedSOPClassUID = sop_class
    primitive.AffectedSOPInstanceUID = "1.2.3.4"
    primitive.Priority = 2
    # data set: (0008,0060) Modality CS "US" - never read by the dissector
    primitive.DataSet = io.BytesIO(b"\x08\x00\x60\x00\x02\x00\x00\x00US")
    return p_data(dimse_messages.C_STORE_RQ(), primitive, max_pdu=max_pdu)


def test_request_built_by_pynetdicom() -> None:
    rq = one(dissect(associate_rq()), DicomAssociationRequest)
    assert isinstance(rq, DicomAssociationRequest)
    assert (rq.calling_ae_title, rq.called_ae_title) == ("US_CART_3", "PACS")
    assert rq.protocol_version == 1
    assert rq.application_context_name == "1.2.840.10008.3.1.1.1"
    assert [(p.context_id, p.abstract_syntax) for p in rq.presentation_contexts] == [
        (1, US_IMAGE),
        (3, US_MULTIFRAME),
        (5, VERIFICATION),
    ]
    assert rq.presentation_contexts[0].abstract_syntax_name == "Ultrasound Image Storage"
    assert rq.presentation_contexts[2].transfer_syntaxes == (EXPLICIT_LE, IMPLICIT_LE)
    assert rq.implementation_class_uid == "1.2.3.4.5.6"
    assert rq.implementation_version_name == "EXAMPLE_US_1"
    assert rq.maximum_length_received == 32768
    assert rq.modalities == ("US",)
    assert len(rq.roles) == 1
    assert (rq.roles[0].sop_class_uid, rq.roles[0].scu_role, rq.roles[0].scp_role) == (
        US_IMAGE,
        True,
        False,
    )
    assert rq.user_identity_type == "username_and_passcode"
    assert rq.user_identity_username == "tech1"
    assert rq.credentials_in_clear


def test_the_passcode_never_reaches_the_observation() -> None:
    rq = one(dissect(associate_rq()), DicomAssociationRequest)
    assert "s3cret" not in repr(rq)


def test_request_without_user_identity_or_with_kerberos() -> None:
    plain = one(dissect(associate_rq(user_identity=None)), DicomAssociationRequest)
    assert isinstance(plain, DicomAssociationRequest)
    assert plain.user_identity_type is None and not plain.credentials_in_clear
    kerberos = one(
        dissect(associate_rq(user_identity=(3, b"TICKET", b""))), DicomAssociationRequest
    )
    assert isinstance(kerberos, DicomAssociationRequest)
    assert kerberos.user_identity_type == "kerberos"
    assert kerberos.user_identity_username is None  # a ticket is no user name
    assert not kerberos.credentials_in_clear


def test_accept_built_by_pynetdicom() -> None:
    prim = A_ASSOCIATE()
    prim.application_context_name = "1.2.840.10008.3.1.1.1"
    prim.calling_ae_title = "US_CART_3"
    prim.called_ae_title = "PACS"
    prim.result = 0x00
    accepted = build_context(US_IMAGE, [EXPLICIT_LE])
    accepted.context_id = 1
    accepted.result = 0x00
    refused = build_context(US_MULTIFRAME, [IMPLICIT_LE])
    refused.context_id = 3
    refused.result = 0x03
    prim.presentation_context_definition_results_list = [accepted, refused]
    maximum = MaximumLengthNotification()
    maximum.maximum_length_received = 0
    klass = ImplementationClassUIDNotification()
    klass.implementation_class_uid = "1.2.826.0.1.3680043.9.3811.3.0.4"
    version = ImplementationVersionNameNotification()
    version.implementation_version_name = "PYNETDICOM_304"
    prim.user_information = [maximum, klass, version]
    pdu = A_ASSOCIATE_AC()
    pdu.from_primitive(prim)
    ac = one(dissect(bytes(pdu.encode())), DicomAssociationAccept)
    assert isinstance(ac, DicomAssociationAccept)
    assert [(r.context_id, r.result_name, r.transfer_syntax) for r in ac.presentation_contexts] == [
        (1, "acceptance", EXPLICIT_LE),
        (3, "abstract-syntax-not-supported", IMPLICIT_LE),
    ]
    assert ac.implementation_class_uid == "1.2.826.0.1.3680043.9.3811.3.0.4"
    assert ac.implementation_version_name == "PYNETDICOM_304"
    assert ac.maximum_length_received == 0


def test_fragmented_c_store_command_is_reassembled() -> None:
    data = c_store_rq(max_pdu=64)  # the 92-byte command set needs several PDVs
    assert data.count(b"\x04\x00") > 2
    command = one(dissect(data), DicomCommand)
    assert isinstance(command, DicomCommand)
    assert command.command_name == "C-STORE-RQ" and command.command_field == 0x0001
    assert command.sop_class_uid == US_IMAGE
    assert command.sop_class_name == "Ultrasound Image Storage"
    assert command.modality == "US"
    assert command.has_data_set and command.carries_phi
    assert command.status is None and command.status_category is None


def test_c_echo_does_not_carry_phi() -> None:
    primitive = dimse_primitives.C_ECHO()
    primitive.MessageID = 1
    primitive.AffectedSOPClassUID = VERIFICATION
    command = one(dissect(p_data(dimse_messages.C_ECHO_RQ(), primitive)), DicomCommand)
    assert isinstance(command, DicomCommand)
    assert command.command_name == "C-ECHO-RQ"
    assert not command.carries_phi and not command.has_data_set
    assert command.modality is None


def test_c_find_study_root_carries_phi_and_responses_state_status() -> None:
    primitive = dimse_primitives.C_FIND()
    primitive.MessageID = 3
    primitive.AffectedSOPClassUID = STUDY_ROOT_FIND
    primitive.Priority = 0
    primitive.Identifier = io.BytesIO(b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY ")
    rq = one(dissect(p_data(dimse_messages.C_FIND_RQ(), primitive)), DicomCommand)
    assert isinstance(rq, DicomCommand)
    assert rq.command_name == "C-FIND-RQ" and rq.carries_phi
    assert rq.sop_class_name == "Study Root Query/Retrieve Information Model - FIND"

    response = dimse_primitives.C_FIND()
    response.MessageIDBeingRespondedTo = 3
    response.AffectedSOPClassUID = STUDY_ROOT_FIND
    response.Status = 0xFF00
    response.Identifier = io.BytesIO(b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY ")
    rsp = one(dissect(p_data(dimse_messages.C_FIND_RSP(), response)), DicomCommand)
    assert isinstance(rsp, DicomCommand)
    assert rsp.command_name == "C-FIND-RSP"
    assert (rsp.status, rsp.status_category) == (0xFF00, "pending")


def test_c_move_states_its_destination() -> None:
    primitive = dimse_primitives.C_MOVE()
    primitive.MessageID = 9
    primitive.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.2.2.2"
    primitive.Priority = 0
    primitive.MoveDestination = "VIEWER_7"
    primitive.Identifier = io.BytesIO(b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY ")
    command = one(dissect(p_data(dimse_messages.C_MOVE_RQ(), primitive)), DicomCommand)
    assert isinstance(command, DicomCommand)
    assert command.command_name == "C-MOVE-RQ"
    assert command.move_destination == "VIEWER_7"
    assert command.carries_phi


# --- hand-written spec vectors (PS3.8 section 9.3) ------------------------------------------

# A-ASSOCIATE-RJ: type 03, reserved, length 4; reserved, result 1 (rejected-permanent),
# source 1 (service-user), reason 7 (called-AE-title-not-recognized)
RJ = bytes.fromhex("03 00 00000004 00 01 01 07")
# A-ABORT: type 07, length 4; reserved x2, source 2 (service-provider), reason 2 (unexpected-PDU)
ABORT = bytes.fromhex("07 00 00000004 0000 02 02")
# A-RELEASE-RQ: type 05, length 4, four reserved bytes
RELEASE_RQ = bytes.fromhex("05 00 00000004 00000000")
# P-DATA-TF holding one command PDV (context 1, control header 03 = command, last fragment):
# (0000,0000) UL 56 group length; (0000,0002) UI "1.2.840.10008.1.1\0";
# (0000,0100) US 0x0030 C-ECHO-RQ; (0000,0110) US 1 message id; (0000,0800) US 0x0101 no data set
ECHO_COMMAND = bytes.fromhex(
    "0000 0000 04000000 38000000"
    "0000 0200 12000000" + b"1.2.840.10008.1.1\x00".hex() + "0000 0001 02000000 3000"
    "0000 1001 02000000 0100"
    "0000 0008 02000000 0101"
)
ECHO_PDATA = (
    bytes([0x04, 0x00])
    + (len(ECHO_COMMAND) + 6).to_bytes(4, "big")
    + (len(ECHO_COMMAND) + 2).to_bytes(4, "big")
    + bytes([0x01, 0x03])
    + ECHO_COMMAND
)


def test_reject_vector() -> None:
    rj = one(dissect(RJ), DicomAssociationReject)
    assert isinstance(rj, DicomAssociationReject)
    assert (rj.result_name, rj.source_name, rj.reason_name) == (
        "rejected-permanent",
        "service-user",
        "called-AE-title-not-recognized",
    )


def test_abort_vector() -> None:
    abort = one(dissect(ABORT), DicomAbort)
    assert isinstance(abort, DicomAbort)
    assert (abort.source_name, abort.reason_name) == ("service-provider", "unexpected-PDU")
    user = one(dissect(bytes.fromhex("07 00 00000004 0000 00 00")), DicomAbort)
    assert isinstance(user, DicomAbort)
    assert (user.source_name, user.reason_name) == ("service-user", "not-significant")


def test_release_gives_no_fact_and_echo_vector_decodes() -> None:
    assert dissect(RELEASE_RQ) == []
    command = one(dissect(ECHO_PDATA + RELEASE_RQ), DicomCommand)
    assert isinstance(command, DicomCommand)
    assert command.command_name == "C-ECHO-RQ"
    assert command.sop_class_name == "Verification SOP Class"
    assert not command.has_data_set


def test_data_pdvs_are_never_read() -> None:
    # a data PDV with no C-STORE-RQ before it (control header 02: data, last fragment)
    # holding (0010,0010) PatientName
    data = b"\x10\x00\x10\x00\x0a\x00\x00\x00DOE^JANE^^"
    pdu = bytes([0x04, 0]) + (len(data) + 6).to_bytes(4, "big")
    pdu += (len(data) + 2).to_bytes(4, "big") + bytes([0x01, 0x02]) + data
    assert dissect(pdu) == []


def test_truncated_final_pdu_is_ignored_quietly() -> None:
    rq = associate_rq()
    assert dissect(rq[:-5]) == []
    found = dissect(rq + c_store_rq()[:20])
    assert [type(o) for o in found] == [DicomAssociationRequest]


@pytest.mark.parametrize(
    "data",
    [
        bytes.fromhex("09 00 00000004 00000000"),  # PDU type 9 does not exist
        bytes.fromhex("03 00 00000002 0001"),  # A-ASSOCIATE-RJ shorter than 4 bytes
        bytes.fromhex("01 00 00000010") + bytes(16),  # A-ASSOCIATE-RQ shorter than its fields
        bytes.fromhex("04 00 00000008 00000010 0103 0000"),  # PDV longer than its PDU
        # command PDV whose element claims more bytes than the command holds
        bytes.fromhex("04 00 0000000e 0000000a 0103 0000 0001 ff000000"),
        # command set with a group 0008 element
        bytes.fromhex("04 00 00000010 0000000c 0103 0800 6000 02000000 5553"),
    ],
)
def test_malformed_bytes_raise_dissect_error(data: bytes) -> None:
    with pytest.raises(DissectError):
        dissect(data)


def test_an_overrunning_item_is_malformed() -> None:
    rq = bytearray(associate_rq())
    rq[74 + 2 : 74 + 4] = (0xFFFF).to_bytes(2, "big")  # application context item length
    with pytest.raises(DissectError):
        dissect(bytes(rq))


def test_garbage_after_understood_pdus_ends_the_walk_quietly() -> None:
    found = dissect(RJ + b"\xff" * 20)
    assert [type(o) for o in found] == [DicomAssociationReject]


def test_status_categories() -> None:
    assert status_category(0x0000) == "success"
    assert status_category(0xFF01) == "pending"
    assert status_category(0xFE00) == "cancel"
    assert status_category(0xB007) == "warning"
    assert status_category(0xA700) == "failure"
    assert status_category(0xC123) == "failure"
    assert status_category(0x0122) == "failure"
    assert status_category(0x1234) == "unknown"


# --- signature ---------------------------------------------------------------------------


def test_signature_accepts_every_pdu_kind() -> None:
    for data in (associate_rq(), RJ, ABORT, RELEASE_RQ, ECHO_PDATA, c_store_rq()):
        assert D.signature(data), data[:12].hex()


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        bytes.fromhex("16030100c4010000c00303") + bytes(40),  # TLS ClientHello
        b"\x0bMSH|^~\\&|A|B|C|D|||ADT^A01|1|P|2.3\r\x1c\r",
        b"SSH-2.0-OpenSSH_8.2\r\n",
        bytes.fromhex("01 00 00000044 0001 0000") + b"\x01" * 32,  # unprintable AE titles
        bytes.fromhex("01 00 00000044 0002 0000") + b"A" * 32,  # protocol version 2
        bytes.fromhex("03 00 00000004 00 05 01 01"),  # RJ result 5
        bytes.fromhex("04 00 00000008 00000004 0203"),  # even presentation context id
        bytes.fromhex("07 00 00000004 0000 02 09"),  # abort reason 9
    ],
)
def test_signature_rejects_other_bytes(head: bytes) -> None:
    assert not D.signature(head)


# --- the SOP class / modality table --------------------------------------------------------


def table_rows() -> list[dict[str, str]]:
    text = resources.files("medsec.rules").joinpath("dicom/sop_modality.csv").read_text()
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def test_table_rows_are_storage_classes_with_registry_names() -> None:
    rows = table_rows()
    assert len({r["sop_class_uid"] for r in rows}) == len(rows)
    for row in rows:
        uid = row["sop_class_uid"]
        assert "Storage" in row["name"], uid
        if uid in UID_dictionary:
            assert row["name"].removesuffix(" (Retired)") == UID_dictionary[uid][0]
        modality = row["modality"]
        assert modality == "" or (modality.isupper() and modality.isalnum()), uid


def test_table_covers_pynetdicom_storage_service_classes() -> None:
    """Every SOP class pynetdicom files under the Storage Service Class is in the table."""
    from pynetdicom.sop_class import _STORAGE_CLASSES

    table = storage_sop_classes()
    missing = [uid for uid in _STORAGE_CLASSES.values() if uid not in table]
    assert missing == []
    current = [uid for uid in table if not table[uid].name.endswith("(Retired)")]
    assert all(uid_to_service_class(uid) is StorageServiceClass for uid in current)


def test_table_modalities_of_common_classes() -> None:
    table = storage_sop_classes()
    expected = {
        "1.2.840.10008.5.1.4.1.1.2": "CT",
        "1.2.840.10008.5.1.4.1.1.4": "MR",
        "1.2.840.10008.5.1.4.1.1.6.1": "US",
        "1.2.840.10008.5.1.4.1.1.1": "CR",
        "1.2.840.10008.5.1.4.1.1.1.1": "DX",
        "1.2.840.10008.5.1.4.1.1.1.2": "MG",
        "1.2.840.10008.5.1.4.1.1.20": "NM",
        "1.2.840.10008.5.1.4.1.1.128": "PT",
        "1.2.840.10008.5.1.4.1.1.12.1": "XA",
        "1.2.840.10008.5.1.4.1.1.12.2": "RF",
        "1.2.840.10008.5.1.4.1.1.9.1.1": "ECG",
    }
    assert {uid: table[uid].modality for uid in expected} == expected
    assert table["1.2.840.10008.5.1.4.1.1.7"].modality is None  # Secondary Capture: any


def test_uid_name_of_garbage_is_empty_without_warnings() -> None:
    assert uid_name("1.2.840.10008.5.1.4.1.1.2") == "CT Image Storage"
    assert uid_name("not a uid \ufffd") == ""
    assert uid_name("1.2.3.4") == ""


# --- real capture: DCMTK 3.6.7 and pynetdicom 3.0.4 on loopback (SOURCES.md 1.3) -----------


@pytest.fixture(scope="module")
def capture_heads(shared_data: Path) -> list[Payload]:
    return list(payloads(shared_data / CAPTURE, stream_bytes=D.stream_bytes, ports=DICOM_PORTS))


@pytest.fixture(scope="module")
def capture(capture_heads: list[Payload]) -> list[Observation]:
    found: list[Observation] = []
    for head in capture_heads:
        assert D.signature(head.data), (head.ctx.src_port, head.ctx.dst_port)
        found += D.dissect(head.data, head.ctx)
    return found


def of(found: list[Observation], kind: type[Observation]) -> list[Observation]:
    return [o for o in found if isinstance(o, kind)]


def test_capture_dcmtk_echo_from_ct_scanner(capture: list[Observation]) -> None:
    rqs = [
        o for o in of(capture, DicomAssociationRequest) if isinstance(o, DicomAssociationRequest)
    ]
    echo = [
        r
        for r in rqs
        if r.calling_ae_title == "CT_SCANNER_01" and len(r.presentation_contexts) == 1
    ]
    to_pacs = [r for r in echo if r.called_ae_title == "PACS_ARCHIVE"]
    assert len(to_pacs) == 1
    rq = to_pacs[0]
    assert rq.implementation_class_uid == "1.2.276.0.7230010.3.0.3.6.7"
    assert rq.implementation_version_name == "OFFIS_DCMTK_367"
    assert rq.presentation_contexts[0].abstract_syntax_name == "Verification SOP Class"
    acs = [o for o in of(capture, DicomAssociationAccept) if isinstance(o, DicomAssociationAccept)]
    assert any(
        a.calling_ae_title == "CT_SCANNER_01"
        and a.implementation_version_name == "OFFIS_DCMTK_367"
        and a.implementation_class_uid == "1.2.276.0.7230010.3.0.3.6.7"
        for a in acs
    )


def test_capture_pynetdicom_workstation(capture: list[Observation]) -> None:
    rqs = [
        o for o in of(capture, DicomAssociationRequest) if isinstance(o, DicomAssociationRequest)
    ]
    ws = [r for r in rqs if r.calling_ae_title == "WORKSTATION1"]
    assert ws and all(r.implementation_class_uid == "1.2.826.0.1.3680043.9.3811.3.0.4" for r in ws)
    assert all(r.implementation_version_name == "PYNETDICOM_304" for r in ws)
    assert {r.called_ae_title for r in ws} == {"PACS_ARCHIVE", "PYN_STORESCP"}


def test_capture_storescu_proposals_and_modalities(capture: list[Observation]) -> None:
    rqs = [
        o for o in of(capture, DicomAssociationRequest) if isinstance(o, DicomAssociationRequest)
    ]
    big = [r for r in rqs if len(r.presentation_contexts) >= 100]
    assert {r.calling_ae_title for r in big} == {"CT_SCANNER_01", "MR_SCANNER_02", "WORKSTATION1"}
    for rq in big:
        assert {"CT", "MR"} <= set(rq.modalities)
    mr = [r for r in big if r.calling_ae_title == "MR_SCANNER_02"]
    assert len(mr) == 1 and mr[0].called_ae_title == "PYN_STORESCP"


def test_capture_c_store_of_ct_and_mr(capture: list[Observation]) -> None:
    commands = [o for o in of(capture, DicomCommand) if isinstance(o, DicomCommand)]
    stores = [c for c in commands if c.command_name == "C-STORE-RQ"]
    assert sorted(c.modality or "" for c in stores) == ["CT", "CT", "MR"]
    assert {c.sop_class_name for c in stores} == {"CT Image Storage", "MR Image Storage"}
    assert all(c.carries_phi and c.has_data_set for c in stores)
    responses = [c for c in commands if c.command_name == "C-STORE-RSP"]
    assert len(responses) == 3 and all(c.status_category == "success" for c in responses)
    echoes = [c for c in commands if c.command_name.startswith("C-ECHO")]
    assert len(echoes) == 4 and not any(c.carries_phi for c in echoes)


def test_capture_mr_store_pdvs_split_over_several_p_data(capture_heads: list[Payload]) -> None:
    head = next(h for h in capture_heads if h.ctx.dst_port == 11113 and b"MR_SCANNER_02" in h.data)
    assert head.data.count(b"\x04\x00\x00") > 1
    found = list(D.dissect(head.data, head.ctx))
    assert [type(o).__name__ for o in found] == [
        "DicomAssociationRequest",
        "DicomCommand",
        "DicomEquipment",
    ]
    equipment = found[2]
    assert isinstance(equipment, DicomEquipment)
    assert (equipment.manufacturer, equipment.manufacturer_model_name) == (
        "TOSHIBA_MEC",
        "MRT50H1",
    )
    assert equipment.complete and equipment.transfer_syntax == EXPLICIT_LE


def test_capture_equipment_of_each_store(capture: list[Observation]) -> None:
    """DCMTK storescu and pynetdicom send pydicom's CT and MR test images: their equipment
    comes out, read with the transfer syntax each sender chose, and no patient attribute."""
    found = [o for o in of(capture, DicomEquipment) if isinstance(o, DicomEquipment)]
    assert sorted((e.modality, e.manufacturer, e.transfer_syntax) for e in found) == [
        ("CT", "GE MEDICAL SYSTEMS", IMPLICIT_LE),
        ("CT", "GE MEDICAL SYSTEMS", EXPLICIT_LE),
        ("MR", "TOSHIBA_MEC", EXPLICIT_LE),
    ]
    assert {e.station_name for e in found} == {"CT01_OC0", "000000000"}
    assert all(e.complete for e in found)
    text = repr(capture)
    for patient_value in ("CompressedSamples", "1CT1", "4MR1", "20040119", "20040826"):
        assert patient_value not in text


def test_capture_rejected_association(capture: list[Observation]) -> None:
    rjs = [o for o in of(capture, DicomAssociationReject) if isinstance(o, DicomAssociationReject)]
    assert len(rjs) == 1
    rj = rjs[0]
    assert rj.ctx.src_port == 11114
    assert (rj.result_name, rj.source_name, rj.reason_name) == (
        "rejected-permanent",
        "service-user",
        "no-reason-given",
    )
    rqs = [
        o for o in of(capture, DicomAssociationRequest) if isinstance(o, DicomAssociationRequest)
    ]
    assert any(r.called_ae_title == "REFUSING_SCP" for r in rqs)


def test_capture_study_root_find_then_abort(capture: list[Observation]) -> None:
    rqs = [
        o for o in of(capture, DicomAssociationRequest) if isinstance(o, DicomAssociationRequest)
    ]
    finder = [
        r for r in rqs if any(p.abstract_syntax == STUDY_ROOT_FIND for p in r.presentation_contexts)
    ]
    assert len(finder) == 1 and finder[0].calling_ae_title == "WORKSTATION1"
    aborts = [o for o in of(capture, DicomAbort) if isinstance(o, DicomAbort)]
    assert len(aborts) == 1
    assert aborts[0].ctx.src_port == finder[0].ctx.src_port  # sent by the SCU side
    acs = [o for o in of(capture, DicomAssociationAccept) if isinstance(o, DicomAssociationAccept)]
    answer = next(a for a in acs if a.ctx.dst_port == finder[0].ctx.src_port)
    study_root = [
        r
        for r in answer.presentation_contexts
        if r.context_id
        == next(
            p.context_id
            for p in finder[0].presentation_contexts
            if p.abstract_syntax == STUDY_ROOT_FIND
        )
    ]
    assert study_root[0].result_name != "acceptance"


def test_capture_agrees_with_pynetdicom_and_pydicom(capture_heads: list[Payload]) -> None:
    """Oracle: pynetdicom decodes the same association PDUs, pydicom the same command sets."""
    checked = 0
    for head in capture_heads:
        data = head.data
        ours = list(D.dissect(data, head.ctx))
        pdu_type, length = data[0], int.from_bytes(data[2:6], "big")
        first = data[: 6 + length]
        if pdu_type == 0x01:
            theirs = A_ASSOCIATE_RQ()
            theirs.decode(first)
            rq = ours[0]
            assert isinstance(rq, DicomAssociationRequest)
            assert rq.calling_ae_title == theirs.calling_ae_title
            assert rq.called_ae_title == theirs.called_ae_title
            assert [p.abstract_syntax for p in rq.presentation_contexts] == [
                str(c.abstract_syntax) for c in theirs.presentation_context
            ]
            assert [p.transfer_syntaxes for p in rq.presentation_contexts] == [
                tuple(str(t) for t in c.transfer_syntax) for c in theirs.presentation_context
            ]
            info = theirs.user_information
            assert info is not None
            assert rq.implementation_class_uid == str(info.implementation_class_uid)
            assert rq.implementation_version_name == info.implementation_version_name
            assert rq.maximum_length_received == info.maximum_length
            checked += 1
        elif pdu_type == 0x02:
            theirs_ac = A_ASSOCIATE_AC()
            theirs_ac.decode(first)
            ac = ours[0]
            assert isinstance(ac, DicomAssociationAccept)
            assert [(r.context_id, r.result) for r in ac.presentation_contexts] == [
                (c.context_id, c.result) for c in theirs_ac.presentation_context
            ]
            checked += 1
        for command in (o for o in ours if isinstance(o, DicomCommand)):
            ds = read_dataset(io.BytesIO(_first_command_bytes(data)), True, True)
            assert command.command_field == ds.CommandField
            assert command.sop_class_uid == str(ds.AffectedSOPClassUID)
            checked += 1
    assert checked >= 20


def _first_command_bytes(data: bytes) -> bytes:
    """The first complete command set in a stream head, reassembled with pynetdicom's P-DATA-TF."""
    off, command = 0, b""
    while off + 6 <= len(data):
        length = int.from_bytes(data[off + 2 : off + 6], "big")
        if data[off] == 0x04:
            pdu = P_DATA_TF()
            pdu.decode(data[off : off + 6 + length])
            for item in pdu.presentation_data_value_items:
                pdv = item.presentation_data_value  # message control header, then fragment
                assert pdv is not None
                if pdv[0] & 0x01:
                    command += pdv[1:]
                    if pdv[0] & 0x02:
                        return command
        off += 6 + length
    raise AssertionError("no command in the stream head")


def test_pydicom_is_loaded_with_the_collector_paused_and_then_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its import makes long-lived objects by the hundred thousand: the collector must not
    walk them then or later, and is left as it was."""
    import gc

    from medsec.dissect import dicom

    states: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: states.append(gc.isenabled()))
    dicom._load_pydicom.cache_clear()
    dicom._load_pydicom()
    assert states == [False]  # frozen while still paused
    assert gc.isenabled()

    dicom._load_pydicom.cache_clear()
    gc.disable()
    try:
        dicom._load_pydicom()
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert states == [False]  # a collector someone else turned off: nothing frozen
