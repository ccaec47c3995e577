"""DICOM upper layer (PS3.8 section 9) and DIMSE command sets (PS3.7), from a TCP stream head.

Each complete PDU at the head of one direction of a connection gives at most one fact:

* A-ASSOCIATE-RQ / -AC / -RJ and A-ABORT: the association negotiation, decoded in full;
* P-DATA-TF: command PDVs (message control header bit 0 set) are reassembled per
  presentation context and their command set (group 0000, implicit VR little endian) is
  decoded into a ``DicomCommand``; data PDVs - where patient attributes live - are skipped
  unread;
* A-RELEASE-RQ/RP: checked, no fact.

The parser is hand-written and bounded (every length is checked against the bytes present):
pynetdicom's PDU classes raise ``KeyError``/``AssertionError``/``struct.error`` and warnings on
hostile bytes, so they serve as the test oracle instead. A truncated final PDU (the stream
head ends inside it) is ignored quietly; bytes that break the framing raise ``DissectError``
when nothing before them was understood, and otherwise end the walk after the facts already
found.
"""

from __future__ import annotations

import csv
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import ClassVar

from pydicom import config as pydicom_config
from pydicom.uid import UID

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.dicom import (
    DicomAbort,
    DicomAssociationAccept,
    DicomAssociationReject,
    DicomAssociationRequest,
    DicomCommand,
    DicomPresentationContext,
    DicomPresentationContextResult,
    DicomRoleSelection,
)

logger = logging.getLogger(__name__)

# PDU types, PS3.8 Table 9-1 ... 9.3.
A_ASSOCIATE_RQ = 0x01
A_ASSOCIATE_AC = 0x02
A_ASSOCIATE_RJ = 0x03
P_DATA_TF = 0x04
A_RELEASE_RQ = 0x05
A_RELEASE_RP = 0x06
A_ABORT = 0x07

_PDU_HEADER = 6  # type, reserved, 4-byte big-endian length
_ASSOCIATE_FIXED = 68  # protocol version, reserved, called AE, calling AE, 32 reserved
_MAX_ASSOCIATE = 1 << 20  # an A-ASSOCIATE-RQ with 128 contexts is ~20 KiB
_MAX_COMMAND = 1 << 16  # a command set is a few hundred bytes
_MAX_TEXT = 128  # UIDs are at most 64 characters, AE titles 16, version names 16

_PC_RESULT = {
    0: "acceptance",
    1: "user-rejection",
    2: "no-reason",
    3: "abstract-syntax-not-supported",
    4: "transfer-syntaxes-not-supported",
}
_RJ_RESULT = {1: "rejected-permanent", 2: "rejected-transient"}
_RJ_SOURCE = {
    1: "service-user",
    2: "service-provider-acse",
    3: "service-provider-presentation",
}
_RJ_REASON = {  # PS3.8 Table 9-21, by source
    1: {
        1: "no-reason-given",
        2: "application-context-name-not-supported",
        3: "calling-AE-title-not-recognized",
        7: "called-AE-title-not-recognized",
    },
    2: {1: "no-reason-given", 2: "protocol-version-not-supported"},
    3: {1: "temporary-congestion", 2: "local-limit-exceeded"},
}
_ABORT_SOURCE = {0: "service-user", 1: "reserved", 2: "service-provider"}
_ABORT_REASON = {  # PS3.8 Table 9-26, significant when the provider aborts
    0: "reason-not-specified",
    1: "unrecognized-PDU",
    2: "unexpected-PDU",
    4: "unrecognized-PDU-parameter",
    5: "unexpected-PDU-parameter",
    6: "invalid-PDU-parameter-value",
}
_USER_IDENTITY_TYPE = {  # PS3.7 Table D.3-14
    1: "username",
    2: "username_and_passcode",
    3: "kerberos",
    4: "saml",
    5: "jwt",
}

_COMMAND_NAME = {  # PS3.7 Table E.1-1 (Command Field)
    0x0001: "C-STORE-RQ",
    0x8001: "C-STORE-RSP",
    0x0010: "C-GET-RQ",
    0x8010: "C-GET-RSP",
    0x0020: "C-FIND-RQ",
    0x8020: "C-FIND-RSP",
    0x0021: "C-MOVE-RQ",
    0x8021: "C-MOVE-RSP",
    0x0030: "C-ECHO-RQ",
    0x8030: "C-ECHO-RSP",
    0x0100: "N-EVENT-REPORT-RQ",
    0x8100: "N-EVENT-REPORT-RSP",
    0x0110: "N-GET-RQ",
    0x8110: "N-GET-RSP",
    0x0120: "N-SET-RQ",
    0x8120: "N-SET-RSP",
    0x0130: "N-ACTION-RQ",
    0x8130: "N-ACTION-RSP",
    0x0140: "N-CREATE-RQ",
    0x8140: "N-CREATE-RSP",
    0x0150: "N-DELETE-RQ",
    0x8150: "N-DELETE-RSP",
    0x0FFF: "C-CANCEL-RQ",
}
_NO_DATA_SET = 0x0101  # Command Data Set Type value meaning "no data set"

# Non-storage SOP classes whose operations carry patient-level attributes (query keys and
# identifiers, worklist items, procedure steps). Storage SOP classes of patient objects come
# from rules/dicom/sop_modality.csv.
_PATIENT_LEVEL_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.2.1.1",  # Patient Root Query/Retrieve Information Model - FIND
        "1.2.840.10008.5.1.4.1.2.1.2",  # Patient Root Query/Retrieve Information Model - MOVE
        "1.2.840.10008.5.1.4.1.2.1.3",  # Patient Root Query/Retrieve Information Model - GET
        "1.2.840.10008.5.1.4.1.2.2.1",  # Study Root Query/Retrieve Information Model - FIND
        "1.2.840.10008.5.1.4.1.2.2.2",  # Study Root Query/Retrieve Information Model - MOVE
        "1.2.840.10008.5.1.4.1.2.2.3",  # Study Root Query/Retrieve Information Model - GET
        "1.2.840.10008.5.1.4.1.2.3.1",  # Patient/Study Only Q/R Information Model - FIND
        "1.2.840.10008.5.1.4.1.2.3.2",  # Patient/Study Only Q/R Information Model - MOVE
        "1.2.840.10008.5.1.4.1.2.3.3",  # Patient/Study Only Q/R Information Model - GET
        "1.2.840.10008.5.1.4.1.2.4.2",  # Composite Instance Root Retrieve - MOVE
        "1.2.840.10008.5.1.4.1.2.4.3",  # Composite Instance Root Retrieve - GET
        "1.2.840.10008.5.1.4.1.2.5.3",  # Composite Instance Retrieve Without Bulk Data - GET
        "1.2.840.10008.5.1.4.31",  # Modality Worklist Information Model - FIND
        "1.2.840.10008.5.1.4.32.1",  # General Purpose Worklist Information Model - FIND
        "1.2.840.10008.5.1.4.32.2",  # General Purpose Scheduled Procedure Step
        "1.2.840.10008.5.1.4.32.3",  # General Purpose Performed Procedure Step
        "1.2.840.10008.3.1.2.3.3",  # Modality Performed Procedure Step
        "1.2.840.10008.3.1.2.3.4",  # Modality Performed Procedure Step Retrieve
        "1.2.840.10008.3.1.2.3.5",  # Modality Performed Procedure Step Notification
        "1.2.840.10008.5.1.4.34.6.1",  # Unified Procedure Step - Push
        "1.2.840.10008.5.1.4.34.6.2",  # Unified Procedure Step - Watch
        "1.2.840.10008.5.1.4.34.6.3",  # Unified Procedure Step - Pull
        "1.2.840.10008.5.1.4.34.6.4",  # Unified Procedure Step - Event
        "1.2.840.10008.5.1.4.34.6.5",  # Unified Procedure Step - Query
        "1.2.840.10008.5.1.4.37.1",  # General Relevant Patient Information Query
        "1.2.840.10008.5.1.4.37.2",  # Breast Imaging Relevant Patient Information Query
        "1.2.840.10008.5.1.4.37.3",  # Cardiac Relevant Patient Information Query
        "1.2.840.10008.3.1.2.1.1",  # Detached Patient Management
        "1.2.840.10008.3.1.2.2.1",  # Detached Visit Management
        "1.2.840.10008.3.1.2.3.1",  # Detached Study Management
    }
)


@dataclass(frozen=True, slots=True)
class StorageSopClass:
    """One row of ``rules/dicom/sop_modality.csv``."""

    uid: str
    modality: str | None
    name: str


@functools.cache
def storage_sop_classes() -> dict[str, StorageSopClass]:
    """Storage SOP classes of patient objects, by UID (``rules/dicom/sop_modality.csv``)."""
    text = resources.files("medsec.rules").joinpath("dicom/sop_modality.csv").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    table: dict[str, StorageSopClass] = {}
    for row in csv.DictReader(lines):
        uid = row["sop_class_uid"].strip()
        table[uid] = StorageSopClass(uid, row["modality"].strip() or None, row["name"].strip())
    return table


def _is_uid(text: str) -> bool:
    return 0 < len(text) <= 64 and all(c.isdigit() or c == "." for c in text)


@functools.lru_cache(maxsize=4096)
def uid_name(uid: str) -> str:
    """Name of ``uid`` in the DICOM UID registry (pydicom's dictionary), else ``""``."""
    if not _is_uid(uid):
        return ""
    known = UID(uid, validation_mode=pydicom_config.IGNORE)
    if known.type:
        return str(known.name)
    row = storage_sop_classes().get(uid)
    return row.name if row else ""


def _text(raw: bytes | memoryview) -> str:
    """Printable ASCII of a fixed or UID field, padding stripped, bounded."""
    chars = bytes(raw[:_MAX_TEXT]).strip(b" \x00").decode("latin-1")
    return "".join(c if " " <= c <= "~" else "\ufffd" for c in chars)


def _u16(buf: bytes | memoryview, off: int) -> int:
    return (buf[off] << 8) | buf[off + 1]


def _u32(buf: bytes | memoryview, off: int) -> int:
    return (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]


def _items(buf: memoryview, what: str) -> Iterator[tuple[int, memoryview]]:
    """(item type, item value) of the variable items/sub-items filling ``buf`` (PS3.8 9.3.2)."""
    off = 0
    while off < len(buf):
        if off + 4 > len(buf):
            raise DissectError(f"DICOM {what}: truncated item header")
        item_type = buf[off]
        length = _u16(buf, off + 2)
        end = off + 4 + length
        if end > len(buf):
            raise DissectError(f"DICOM {what}: item 0x{item_type:02x} overruns its container")
        yield item_type, buf[off + 4 : end]
        off = end


@dataclass
class _UserInformation:
    maximum_length_received: int | None = None
    implementation_class_uid: str | None = None
    implementation_version_name: str | None = None
    roles: tuple[DicomRoleSelection, ...] = ()
    user_identity_type: str | None = None
    user_identity_username: str | None = None
    credentials_in_clear: bool = False


def _user_information(value: memoryview) -> _UserInformation:
    info = _UserInformation()
    roles: list[DicomRoleSelection] = []
    for sub_type, sub in _items(value, "user information"):
        if sub_type == 0x51:  # Maximum Length
            if len(sub) != 4:
                raise DissectError("DICOM maximum length sub-item is not 4 bytes")
            info.maximum_length_received = _u32(sub, 0)
        elif sub_type == 0x52:
            info.implementation_class_uid = _text(sub)
        elif sub_type == 0x55:
            info.implementation_version_name = _text(sub)
        elif sub_type == 0x54:  # SCP/SCU Role Selection
            if len(sub) < 2:
                raise DissectError("DICOM role selection sub-item too short")
            uid_length = _u16(sub, 0)
            if len(sub) != 4 + uid_length:
                raise DissectError("DICOM role selection sub-item length mismatch")
            roles.append(
                DicomRoleSelection(
                    sop_class_uid=_text(sub[2 : 2 + uid_length]),
                    scu_role=sub[2 + uid_length] == 1,
                    scp_role=sub[3 + uid_length] == 1,
                )
            )
        elif sub_type == 0x58:  # User Identity (RQ)
            if len(sub) < 4:
                raise DissectError("DICOM user identity sub-item too short")
            kind = sub[0]
            primary_length = _u16(sub, 2)
            if 4 + primary_length > len(sub):
                raise DissectError("DICOM user identity primary field overruns")
            primary = sub[4 : 4 + primary_length]
            secondary_length = 0
            if 4 + primary_length + 2 <= len(sub):
                secondary_length = _u16(sub, 4 + primary_length)
            info.user_identity_type = _USER_IDENTITY_TYPE.get(kind, f"unknown-{kind}")
            if kind in (1, 2):
                info.user_identity_username = _text(primary)
            info.credentials_in_clear = (kind == 2 and secondary_length > 0) or (
                kind in (4, 5) and primary_length > 0
            )
    info.roles = tuple(roles)
    return info


def _associate_header(body: memoryview, what: str) -> tuple[int, str, str]:
    if len(body) < _ASSOCIATE_FIXED:
        raise DissectError(f"DICOM {what} shorter than its fixed fields")
    return _u16(body, 0), _text(body[4:20]), _text(body[20:36])


def _associate_rq(body: memoryview, ctx: PacketContext) -> DicomAssociationRequest:
    version, called, calling = _associate_header(body, "A-ASSOCIATE-RQ")
    app_context = ""
    contexts: list[DicomPresentationContext] = []
    info = _UserInformation()
    for item_type, value in _items(body[_ASSOCIATE_FIXED:], "A-ASSOCIATE-RQ"):
        if item_type == 0x10:
            app_context = _text(value)
        elif item_type == 0x20:
            if len(value) < 4:
                raise DissectError("DICOM presentation context item too short")
            abstract = ""
            transfers: list[str] = []
            for sub_type, sub in _items(value[4:], "presentation context"):
                if sub_type == 0x30:
                    abstract = _text(sub)
                elif sub_type == 0x40:
                    transfers.append(_text(sub))
            contexts.append(
                DicomPresentationContext(
                    context_id=value[0],
                    abstract_syntax=abstract,
                    abstract_syntax_name=uid_name(abstract),
                    transfer_syntaxes=tuple(transfers),
                )
            )
        elif item_type == 0x50:
            info = _user_information(value)
    table = storage_sop_classes()
    modalities = {
        row.modality
        for pc in contexts
        if (row := table.get(pc.abstract_syntax)) is not None and row.modality
    }
    return DicomAssociationRequest(
        ctx=ctx,
        protocol_version=version,
        calling_ae_title=calling,
        called_ae_title=called,
        application_context_name=app_context,
        presentation_contexts=tuple(contexts),
        implementation_class_uid=info.implementation_class_uid,
        implementation_version_name=info.implementation_version_name,
        maximum_length_received=info.maximum_length_received,
        modalities=tuple(sorted(modalities)),
        roles=info.roles,
        user_identity_type=info.user_identity_type,
        user_identity_username=info.user_identity_username,
        credentials_in_clear=info.credentials_in_clear,
    )


def _associate_ac(body: memoryview, ctx: PacketContext) -> DicomAssociationAccept:
    version, called, calling = _associate_header(body, "A-ASSOCIATE-AC")
    app_context = ""
    results: list[DicomPresentationContextResult] = []
    info = _UserInformation()
    for item_type, value in _items(body[_ASSOCIATE_FIXED:], "A-ASSOCIATE-AC"):
        if item_type == 0x10:
            app_context = _text(value)
        elif item_type == 0x21:
            if len(value) < 4:
                raise DissectError("DICOM presentation context result item too short")
            transfer: str | None = None
            for sub_type, sub in _items(value[4:], "presentation context result"):
                if sub_type == 0x40:
                    transfer = _text(sub)
            result = value[2]
            results.append(
                DicomPresentationContextResult(
                    context_id=value[0],
                    result=result,
                    result_name=_PC_RESULT.get(result, "reserved"),
                    transfer_syntax=transfer or None,
                )
            )
        elif item_type == 0x50:
            info = _user_information(value)
    return DicomAssociationAccept(
        ctx=ctx,
        protocol_version=version,
        calling_ae_title=calling,
        called_ae_title=called,
        application_context_name=app_context,
        presentation_contexts=tuple(results),
        implementation_class_uid=info.implementation_class_uid,
        implementation_version_name=info.implementation_version_name,
        maximum_length_received=info.maximum_length_received,
        roles=info.roles,
    )


def _associate_rj(body: memoryview, ctx: PacketContext) -> DicomAssociationReject:
    if len(body) < 4:
        raise DissectError("DICOM A-ASSOCIATE-RJ shorter than 4 bytes")
    result, source, reason = body[1], body[2], body[3]
    return DicomAssociationReject(
        ctx=ctx,
        result=result,
        result_name=_RJ_RESULT.get(result, "reserved"),
        source=source,
        source_name=_RJ_SOURCE.get(source, "reserved"),
        reason=reason,
        reason_name=_RJ_REASON.get(source, {}).get(reason, "reserved"),
    )


def _abort(body: memoryview, ctx: PacketContext) -> DicomAbort:
    if len(body) < 4:
        raise DissectError("DICOM A-ABORT shorter than 4 bytes")
    source, reason = body[2], body[3]
    reason_name = _ABORT_REASON.get(reason, "reserved") if source == 2 else "not-significant"
    return DicomAbort(
        ctx=ctx,
        source=source,
        source_name=_ABORT_SOURCE.get(source, "reserved"),
        reason=reason,
        reason_name=reason_name,
    )


def status_category(status: int) -> str:
    """Category of a DIMSE status code (PS3.7 Annex C)."""
    if status == 0x0000:
        return "success"
    if status in (0xFF00, 0xFF01):
        return "pending"
    if status == 0xFE00:
        return "cancel"
    if status in (0x0001, 0x0107, 0x0116) or 0xB000 <= status <= 0xBFFF:
        return "warning"
    if 0xA000 <= status <= 0xAFFF or 0xC000 <= status <= 0xCFFF or 0x0100 <= status <= 0x02FF:
        return "failure"
    return "unknown"


def _command_elements(buf: bytes) -> dict[int, bytes]:
    """Element number -> value of a group 0000 command set in implicit VR little endian."""
    elements: dict[int, bytes] = {}
    off = 0
    while off < len(buf):
        if off + 8 > len(buf):
            raise DissectError("DICOM command set: truncated element header")
        group = buf[off] | (buf[off + 1] << 8)
        element = buf[off + 2] | (buf[off + 3] << 8)
        length = buf[off + 4] | (buf[off + 5] << 8) | (buf[off + 6] << 16) | (buf[off + 7] << 24)
        if group != 0x0000:
            raise DissectError(f"DICOM command set holds group 0x{group:04x}")
        end = off + 8 + length
        if end > len(buf):
            raise DissectError("DICOM command set: element overruns the command")
        elements[element] = buf[off + 8 : end]
        off = end
    return elements


def _us(elements: dict[int, bytes], element: int) -> int | None:
    value = elements.get(element)
    if value is None:
        return None
    if len(value) != 2:
        raise DissectError(f"DICOM command element (0000,{element:04x}) is not a US")
    return value[0] | (value[1] << 8)


def _command(buf: bytes, context_id: int, ctx: PacketContext) -> DicomCommand:
    elements = _command_elements(buf)
    field = _us(elements, 0x0100)
    if field is None:
        raise DissectError("DICOM command set without Command Field (0000,0100)")
    sop: str | None = None
    if 0x0002 in elements:
        sop = _text(elements[0x0002])
    elif 0x0003 in elements:
        sop = _text(elements[0x0003])
    status = _us(elements, 0x0900)
    data_set_type = _us(elements, 0x0800)
    move = elements.get(0x0600)
    row = storage_sop_classes().get(sop) if sop else None
    phi = row is not None or (sop is not None and sop in _PATIENT_LEVEL_SOP_CLASSES)
    return DicomCommand(
        ctx=ctx,
        context_id=context_id,
        command_field=field,
        command_name=_COMMAND_NAME.get(field, "unknown"),
        sop_class_uid=sop or None,
        sop_class_name=uid_name(sop) if sop else "",
        modality=row.modality if row else None,
        status=status,
        status_category=status_category(status) if status is not None else None,
        move_destination=_text(move) if move is not None else None,
        has_data_set=data_set_type is not None and data_set_type != _NO_DATA_SET,
        carries_phi=phi,
    )


def _p_data(
    body: memoryview, ctx: PacketContext, pending: dict[int, bytearray]
) -> Iterator[DicomCommand]:
    """Commands completed by the PDVs of one P-DATA-TF; data PDVs are skipped unread."""
    off = 0
    while off < len(body):
        if off + 6 > len(body):
            raise DissectError("DICOM P-DATA-TF: truncated PDV header")
        length = _u32(body, off)
        end = off + 4 + length
        if length < 2 or end > len(body):
            raise DissectError("DICOM P-DATA-TF: PDV length does not fit the PDU")
        context_id, header = body[off + 4], body[off + 5]
        if header & 0x01:  # command fragment
            buf = pending.setdefault(context_id, bytearray())
            if len(buf) + length - 2 > _MAX_COMMAND:
                raise DissectError("DICOM command set larger than 64 KiB")
            buf += body[off + 6 : end]
            if header & 0x02:  # last fragment
                del pending[context_id]
                yield _command(bytes(buf), context_id, ctx)
        off = end


def _printable(raw: bytes) -> bool:
    return all(0x20 <= b <= 0x7E for b in raw)


class DicomDissector:
    """DICOM upper layer associations and DIMSE commands (PS3.8, PS3.7)."""

    name: ClassVar[str] = "dicom"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({104, 4242, 11112})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 65536
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """A PDU header (type 0x01-0x07, reserved 0) with a length and fields that fit it."""
        if len(head) < 10 or head[1] != 0:
            return False
        pdu_type = head[0]
        length = _u32(head, 2)
        if pdu_type in (A_ASSOCIATE_RQ, A_ASSOCIATE_AC):
            if len(head) < 42 or not _ASSOCIATE_FIXED <= length <= _MAX_ASSOCIATE:
                return False
            if head[6:8] != b"\x00\x01" or not _printable(head[10:42]):
                return False
            return pdu_type == A_ASSOCIATE_AC or head[10:26].strip(b" ") != b""
        if pdu_type == A_ASSOCIATE_RJ:
            return length == 4 and head[7] in (1, 2) and head[8] in (1, 2, 3)
        if pdu_type in (A_RELEASE_RQ, A_RELEASE_RP):
            return length == 4
        if pdu_type == A_ABORT:
            return length == 4 and head[8] in (0, 1, 2) and head[9] <= 6
        if pdu_type == P_DATA_TF:
            if len(head) < 12 or length < 6:
                return False
            pdv = _u32(head, 6)
            return 2 <= pdv <= length - 4 and head[10] % 2 == 1 and head[11] <= 3
        return False

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        found: list[Observation] = []
        try:
            for observation in self._walk(payload, ctx):
                found.append(observation)  # noqa: PERF402 - keeps facts found before an error
        except DissectError as exc:
            if not found:
                raise
            logger.debug("dicom flow %d: stopped after %d facts: %s", ctx.flow_id, len(found), exc)
        yield from found

    def _walk(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        view = memoryview(payload)
        pending: dict[int, bytearray] = {}
        off = 0
        while off + _PDU_HEADER <= len(view):
            pdu_type = view[off]
            if not A_ASSOCIATE_RQ <= pdu_type <= A_ABORT:
                raise DissectError(f"DICOM: unknown PDU type 0x{pdu_type:02x}")
            end = off + _PDU_HEADER + _u32(view, off + 2)
            if end > len(view):
                return  # the stream head ends inside this PDU
            body = view[off + _PDU_HEADER : end]
            if pdu_type == A_ASSOCIATE_RQ:
                yield _associate_rq(body, ctx)
            elif pdu_type == A_ASSOCIATE_AC:
                yield _associate_ac(body, ctx)
            elif pdu_type == A_ASSOCIATE_RJ:
                yield _associate_rj(body, ctx)
            elif pdu_type == P_DATA_TF:
                yield from _p_data(body, ctx, pending)
            elif pdu_type == A_ABORT:
                yield _abort(body, ctx)
            elif len(body) != 4:
                raise DissectError("DICOM A-RELEASE PDU is not 4 bytes long")
            off = end
