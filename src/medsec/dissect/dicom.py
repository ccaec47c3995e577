"""DICOM upper layer (PS3.8 section 9), DIMSE command sets (PS3.7) and the equipment named by
C-STORE data sets (PS3.3), from a TCP stream head.

The complete PDUs at the head of one direction of a connection give these facts:

* A-ASSOCIATE-RQ / -AC / -RJ and A-ABORT: the association negotiation, decoded in full;
* P-DATA-TF: command PDVs (message control header bit 0 set) are reassembled per
  presentation context and their command set (group 0000, implicit VR little endian) is
  decoded into a ``DicomCommand``;
* the data set following a C-STORE-RQ: its fragments in the head are gathered and pydicom
  reads only the equipment attributes up to group 0018 (``DicomEquipment``), skipping every
  other element (patient, study, series) unread; every other data set - query identifiers,
  worklist items, procedure steps - is skipped unread;
* A-RELEASE-RQ/RP: checked, no fact.

A head holds one direction only, so the data set's transfer syntax comes from what that
direction states: the A-ASSOCIATE-AC when the acceptor sends the C-STORE (C-GET), else the
A-ASSOCIATE-RQ's proposals for the context - the only one proposed, or the one the first
element's bytes show (byte order, explicit or implicit VR; deflate is inflated, bounded).

The parser is hand-written and bounded (every length is checked against the bytes present):
pynetdicom's PDU classes raise ``KeyError``/``AssertionError``/``struct.error`` and warnings on
hostile bytes, so they serve as the test oracle instead. A truncated final PDU (the stream
head ends inside it) gives only its complete command PDVs and the data fragments it holds;
bytes that break the framing raise ``DissectError`` when nothing before them was understood,
and otherwise end the walk after the facts already found. A data set that does not parse
gives no fact, never an error.
"""

from __future__ import annotations

import csv
import functools
import gc
import io
import logging
import struct
import warnings
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.dicom import (
    DicomAbort,
    DicomAssociationAccept,
    DicomAssociationReject,
    DicomAssociationRequest,
    DicomCommand,
    DicomEquipment,
    DicomPresentationContext,
    DicomPresentationContextResult,
    DicomRoleSelection,
)

if TYPE_CHECKING:
    from pydicom.tag import BaseTag


@functools.cache
def _load_pydicom() -> None:
    """Import pydicom, where a UID is first named or a data set read - so a capture without
    DICOM does not pay for it (about 50 ms).

    Its import builds about 100,000 objects that live as long as the process (the data and
    UID dictionaries, its modules): made with the cyclic collector paused and then moved out
    of its reach (``gc.freeze``, as the startup heap before a capture), so that no
    collection walks them - the collections the import set off cost 20-25 ms on the
    3-million-packet benchmark. Whatever else is alive by then stays alive or is freed by
    reference counting; the collector only stops looking at it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        import pydicom.charset
        import pydicom.dataelem
        import pydicom.filereader
        import pydicom.uid
        import pydicom.valuerep  # noqa: F401
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


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
_C_STORE_RQ = 0x0001

# Attributes read from the data set of a C-STORE-RQ: its SOP class and the equipment (PS3.3
# C.7.5.1 General Equipment, C.8.6.1 SC Equipment), tag -> DicomEquipment field. Nothing else
# of a data set is decoded; patient, study and series attributes are skipped unread.
_EQUIPMENT_TAGS: dict[int, str] = {
    0x0008_0016: "sop_class_uid",
    0x0008_0060: "modality",
    0x0008_0064: "conversion_type",
    0x0008_0070: "manufacturer",
    0x0008_0080: "institution_name",
    0x0008_1010: "station_name",
    0x0008_1040: "institutional_department_name",
    0x0008_1090: "manufacturer_model_name",
    0x0018_1000: "device_serial_number",
    0x0018_1002: "device_uid",
    0x0018_1008: "gantry_id",
    0x0018_1010: "secondary_capture_device_id",
    0x0018_1016: "secondary_capture_device_manufacturer",
    0x0018_1018: "secondary_capture_device_manufacturer_model_name",
    0x0018_1019: "secondary_capture_device_software_versions",
    0x0018_1020: "software_versions",
}
_SPECIFIC_CHARACTER_SET = 0x0008_0005
_READ_TAGS: list[BaseTag | int] = [_SPECIFIC_CHARACTER_SET, *_EQUIPMENT_TAGS]
_LAST_EQUIPMENT_GROUP = 0x0018
_MAX_DATA_HEAD = 1 << 16  # data set bytes gathered per C-STORE (a stream head is 64 KiB)
_MAX_READS = 64  # data sets read per stream head
_MAX_EQUIPMENT = 32  # distinct equipment facts per stream head
_MAX_VALUES = 16
_MAX_VALUE_BYTES = 1024
_EXPLICIT_VRS = frozenset(
    b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL "
    b"UN UR US UT UV".split()
)

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
    _load_pydicom()
    from pydicom import config as pydicom_config
    from pydicom.uid import UID

    known = UID(uid, validation_mode=pydicom_config.IGNORE)
    if known.type:
        return str(known.name)
    row = storage_sop_classes().get(uid)
    return row.name if row else ""


def _text(raw: bytes | memoryview) -> str:
    """Printable ASCII of a fixed or UID field, padding stripped, bounded."""
    if len(raw) > _MAX_TEXT:
        raw = raw[:_MAX_TEXT]
    # latin-1 maps byte to code point one to one: decoding before stripping is the same, and
    # str() decodes a memoryview without copying it to bytes first
    chars = str(raw, "latin-1").strip(" \x00")
    if chars.isascii() and chars.isprintable():  # the usual case: nothing to replace
        return chars
    return "".join(c if " " <= c <= "~" else "\ufffd" for c in chars)


def _u16(buf: bytes | memoryview, off: int) -> int:
    return (buf[off] << 8) | buf[off + 1]


def _u32(buf: bytes | memoryview, off: int) -> int:
    return (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]


_PDU_HEAD = struct.Struct(">BxI").unpack_from
"""Type and length of a PDU header (PS3.8 9.3.1)."""
_PDV_HEAD = struct.Struct(">IBB").unpack_from
"""Length, presentation context ID and message control header of a PDV (PS3.8 9.3.5.1)."""
_ITEM_HEADER = struct.Struct(">BxH").unpack_from
"""Type and length of an item or sub-item header (PS3.8 9.3.2)."""


def _items(buf: memoryview, what: str) -> Iterator[tuple[int, memoryview]]:
    """(item type, item value) of the variable items/sub-items filling ``buf`` (PS3.8 9.3.2)."""
    off = 0
    size = len(buf)
    while off < size:
        if off + 4 > size:
            raise DissectError(f"DICOM {what}: truncated item header")
        item_type, length = _ITEM_HEADER(buf, off)
        end = off + 4 + length
        if end > size:
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


_ELEMENT_HEADER = struct.Struct("<HHI").unpack_from
"""Group, element and value length of an implicit VR little endian element header."""


def _command_elements(buf: bytes) -> dict[int, bytes]:
    """Element number -> value of a group 0000 command set in implicit VR little endian."""
    elements: dict[int, bytes] = {}
    off = 0
    size = len(buf)
    while off < size:
        if off + 8 > size:
            raise DissectError("DICOM command set: truncated element header")
        group, element, length = _ELEMENT_HEADER(buf, off)
        if group != 0x0000:
            raise DissectError(f"DICOM command set holds group 0x{group:04x}")
        end = off + 8 + length
        if end > size:
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


@dataclass(frozen=True, slots=True)
class _Encoding:
    """How a data set is encoded: what pydicom's reader needs to know."""

    implicit_vr: bool
    little_endian: bool
    deflated: bool = False


_EXPLICIT_LE = _Encoding(implicit_vr=False, little_endian=True)


@functools.lru_cache(maxsize=256)
def _transfer_syntax_encoding(uid: str) -> _Encoding | None:
    """Encoding of a transfer syntax UID; None when pydicom does not know it (private)."""
    if not _is_uid(uid):
        return None
    _load_pydicom()
    from pydicom import config as pydicom_config
    from pydicom.uid import UID

    try:
        ts = UID(uid, validation_mode=pydicom_config.IGNORE)
        if not ts.is_transfer_syntax:
            return None
        return _Encoding(ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated)
    except ValueError:
        return None


def _sniff(data: bytes) -> _Encoding | None:
    """Encoding shown by a data set's first element, which is in group 0008 (the SOP Class
    UID (0008,0016) is required and groups 0001-0007 are not allowed in a data set)."""
    if len(data) < 8:
        return None
    if data[0:2] == b"\x08\x00":
        little = True
    elif data[0:2] == b"\x00\x08":
        little = False
    else:
        return None
    return _Encoding(implicit_vr=data[4:6] not in _EXPLICIT_VRS, little_endian=little)


def _inflate(data: bytes, whole: bool) -> tuple[bytes, bool]:
    """The first bytes of a deflated data set (raw deflate, PS3.5 A.5), output bounded, and
    whether they are all of it."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, _MAX_DATA_HEAD)
    except zlib.error:
        return b"", False
    return out, whole and inflater.eof


class _Reader:
    """pydicom's data set reader and text decoding, imported once: an import statement per
    read or value costs more than the work it names (about 1.6 us each even when pydicom is
    loaded)."""

    __slots__ = (
        "convert_encodings",
        "decode_bytes",
        "default_encodings",
        "delimiters",
        "element_generator",
        "raw_element",
    )

    def __init__(self) -> None:
        _load_pydicom()
        from pydicom.charset import convert_encodings, decode_bytes, default_encoding
        from pydicom.dataelem import RawDataElement
        from pydicom.filereader import data_element_generator
        from pydicom.valuerep import TEXT_VR_DELIMS

        self.convert_encodings = convert_encodings
        self.decode_bytes = decode_bytes
        self.default_encodings: Sequence[str] = (default_encoding,)
        """The codecs of an absent Specific Character Set: one immutable sequence shared by
        every read (pydicom's decoder only indexes it)."""
        self.delimiters = TEXT_VR_DELIMS
        self.element_generator = data_element_generator
        self.raw_element = RawDataElement


@functools.cache
def _reader() -> _Reader:
    return _Reader()


def _values(raw: bytes, encodings: Sequence[str], reader: _Reader) -> tuple[str, ...]:
    """Non-empty values of a text element, decoded, stripped, unprintables replaced."""
    if len(raw) > _MAX_VALUE_BYTES:
        raw = raw[:_MAX_VALUE_BYTES]
    try:
        text = reader.decode_bytes(raw, encodings, reader.delimiters)
    except Exception:  # pydicom's decoders on hostile bytes and character sets
        text = raw.decode("latin-1")
    values = []
    for part in text.split("\\")[:_MAX_VALUES]:
        value = part.strip(" \x00")
        if not value.isprintable():  # rare: replace character by character
            value = "".join(c if c.isprintable() else "\ufffd" for c in value)
        if value:
            values.append(value)
    return tuple(values)


def _encodings(charset: bytes | None, reader: _Reader) -> Sequence[str]:
    """Python codecs of a Specific Character Set (0008,0005) value; the default when absent
    or unknown."""
    if not charset:
        return reader.default_encodings
    terms = [t.strip(" \x00") for t in charset[:256].decode("latin-1").split("\\")][:8]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about misspelt terms it corrects
        try:
            return reader.convert_encodings(terms)
        except Exception:  # an unknown term while pydicom is set to raise
            return reader.default_encodings


def _read_elements(
    data: bytes, encoding: _Encoding, reader: _Reader
) -> tuple[dict[int, bytes], bool, bool]:
    """Raw values of ``_READ_TAGS`` in a data set's first bytes; whether the read stopped at
    an element beyond group 0018; whether it reached the end of ``data``. Other elements,
    undefined-length sequences included, are skipped or parsed past by pydicom and never
    kept; an element cut by the end of ``data`` is dropped; whatever breaks the reader ends
    it."""
    found: dict[int, bytes] = {}
    stopped = False

    def beyond_equipment(tag: BaseTag, _vr: str | None, _length: int) -> bool:
        nonlocal stopped
        # the group by shift, not the ``group`` property (a Python call per element)
        stopped = tag >> 16 > _LAST_EQUIPMENT_GROUP
        return stopped

    fp = io.BytesIO(data)
    elements = reader.element_generator(
        fp,
        encoding.implicit_vr,
        encoding.little_endian,
        stop_when=beyond_equipment,
        specific_tags=_READ_TAGS,
    )
    raw_element = reader.raw_element
    ended = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about what it tolerates
        try:
            for element in elements:
                if not isinstance(element, raw_element) or element.length == 0xFFFFFFFF:
                    continue  # a sequence or an undefined length: not an equipment value
                value = element.value
                if not isinstance(value, bytes) or len(value) != element.length:
                    break  # cut by the end of the bytes we have
                found.setdefault(int(element.tag), value)
            else:
                ended = fp.tell() <= len(data)
        except Exception as exc:  # pydicom's reader on hostile bytes: keep what was read
            logger.debug("dicom data set read stopped: %s", type(exc).__name__)
    return found, stopped, ended


@dataclass(slots=True)
class _DataSet:
    """The fragments of one C-STORE-RQ data set gathered from a stream head."""

    context_id: int
    sop_class_uid: str | None
    data: bytearray = field(default_factory=bytearray)
    whole: bool = False
    """The last fragment arrived (and fitted ``_MAX_DATA_HEAD``)."""


class _Stream:
    """One stream head walked PDU by PDU, with what it stated so far."""

    def __init__(self, ctx: PacketContext) -> None:
        self.ctx = ctx
        self.commands: dict[int, bytearray] = {}
        """Command fragments by presentation context ID."""
        self.data_sets: dict[int, _DataSet] = {}
        """C-STORE-RQ data sets being gathered, by presentation context ID."""
        self.proposed: dict[int, tuple[str, ...]] = {}
        """Transfer syntaxes proposed per context by an A-ASSOCIATE-RQ in this head."""
        self.accepted: dict[int, str] = {}
        """Transfer syntax accepted per context by an A-ASSOCIATE-AC in this head."""
        self.equipment: set[tuple[object, ...]] = set()
        """The field values (all but ``ctx``) of the equipment facts found."""
        self.reads = 0

    def walk(self, payload: bytes) -> Iterator[Observation]:
        view = memoryview(payload)
        size = len(view)
        off = 0
        while off + _PDU_HEADER <= size:
            pdu_type, length = _PDU_HEAD(view, off)
            if not A_ASSOCIATE_RQ <= pdu_type <= A_ABORT:
                raise DissectError(f"DICOM: unknown PDU type 0x{pdu_type:02x}")
            end = off + _PDU_HEADER + length
            if end > size:  # the stream head ends inside this PDU
                if pdu_type == P_DATA_TF:
                    yield from self._p_data(view[off + _PDU_HEADER :], cut=True)
                return
            body = view[off + _PDU_HEADER : end]
            if pdu_type == A_ASSOCIATE_RQ:
                rq = _associate_rq(body, self.ctx)
                self.proposed = {
                    pc.context_id: pc.transfer_syntaxes for pc in rq.presentation_contexts
                }
                yield rq
            elif pdu_type == A_ASSOCIATE_AC:
                ac = _associate_ac(body, self.ctx)
                self.accepted = {
                    r.context_id: r.transfer_syntax
                    for r in ac.presentation_contexts
                    if r.result == 0 and r.transfer_syntax
                }
                yield ac
            elif pdu_type == A_ASSOCIATE_RJ:
                yield _associate_rj(body, self.ctx)
            elif pdu_type == P_DATA_TF:
                yield from self._p_data(body, cut=False)
            elif pdu_type == A_ABORT:
                yield _abort(body, self.ctx)
            elif len(body) != 4:
                raise DissectError("DICOM A-RELEASE PDU is not 4 bytes long")
            off = end

    def finish(self) -> Iterator[DicomEquipment]:
        """Equipment of the data sets the head ended inside."""
        for data_set in list(self.data_sets.values()):
            yield from self._equipment(data_set)
        self.data_sets.clear()

    def _p_data(self, body: memoryview, *, cut: bool) -> Iterator[Observation]:
        """Commands completed by the PDVs of one P-DATA-TF, equipment of C-STORE data sets
        completed. ``cut``: the head ends inside this PDU - its complete command PDVs are
        read and its data fragments gathered, up to the first PDV that does not fit, quietly."""
        off = 0
        size = len(body)
        while off < size:
            if off + 6 > size:
                if cut:
                    return
                raise DissectError("DICOM P-DATA-TF: truncated PDV header")
            length, context_id, header = _PDV_HEAD(body, off)
            end = off + 4 + length
            if length < 2 or (end > size and not cut):
                if cut:
                    return
                raise DissectError("DICOM P-DATA-TF: PDV length does not fit the PDU")
            if header & 0x01:  # command fragment
                if end > size:
                    return  # a command cut by the end of the head: ignored
                buf = self.commands.setdefault(context_id, bytearray())
                if len(buf) + length - 2 > _MAX_COMMAND:
                    raise DissectError("DICOM command set larger than 64 KiB")
                buf += body[off + 6 : end]
                if header & 0x02:  # last fragment
                    del self.commands[context_id]
                    command = _command(bytes(buf), context_id, self.ctx)
                    yield command
                    yield from self._expect_data_set(command)
            elif (data_set := self.data_sets.get(context_id)) is not None:
                fragment = body[off + 6 : end]  # cut short when the head ends inside it
                room = _MAX_DATA_HEAD - len(data_set.data)
                data_set.data += fragment[:room]
                last = bool(header & 0x02) and end <= size
                data_set.whole = last and len(fragment) <= room
                if last or len(data_set.data) >= _MAX_DATA_HEAD:
                    del self.data_sets[context_id]
                    yield from self._equipment(data_set)
            off = end

    def _expect_data_set(self, command: DicomCommand) -> Iterator[DicomEquipment]:
        earlier = self.data_sets.pop(command.context_id, None)
        if earlier is not None:  # a command before the last fragment: read what came
            yield from self._equipment(earlier)
        if command.command_field == _C_STORE_RQ and command.has_data_set:
            self.data_sets[command.context_id] = _DataSet(command.context_id, command.sop_class_uid)

    def _equipment(self, data_set: _DataSet) -> Iterator[DicomEquipment]:
        if self.reads >= _MAX_READS or len(self.equipment) >= _MAX_EQUIPMENT:
            return
        self.reads += 1
        fields = self._read_equipment(data_set)
        if fields is None:
            return
        # Two facts of one head share its ctx, so they are equal exactly when these values
        # are: the tuple is hashed and compared (in C) instead of a fact made and hashed
        # field by field (in Python) only to be dropped as a repeat.
        key = tuple(fields.values())
        if key not in self.equipment:
            self.equipment.add(key)
            yield DicomEquipment(ctx=self.ctx, **fields)

    def _encoding(self, data_set: _DataSet) -> tuple[_Encoding, str | None, bytes, bool] | None:
        """How to read a data set: its encoding, its transfer syntax UID when the head shows
        it, the bytes to read (inflated when deflated) and whether they are all of it."""
        data, whole = bytes(data_set.data), data_set.whole
        proposed = self.proposed.get(data_set.context_id, ())
        known = self.accepted.get(data_set.context_id)
        if known is None and len(proposed) == 1:
            known = proposed[0]
        encoding = _transfer_syntax_encoding(known) if known else None
        sniffed = _sniff(data)
        if (
            encoding is not None
            and sniffed is not None
            and not encoding.deflated
            and sniffed.little_endian == encoding.little_endian
        ):
            encoding = sniffed  # explicit VR sent in an implicit context, or the reverse
        if encoding is None:  # several proposed, or a private transfer syntax: the bytes tell
            candidates = [(t, e) for t in proposed if (e := _transfer_syntax_encoding(t))]
            encoding = sniffed
            if encoding is None and any(e.deflated for _, e in candidates):
                encoding = _Encoding(implicit_vr=False, little_endian=True, deflated=True)
            if encoding is None:
                return None
            if known is None:
                matching = [t for t, e in candidates if e == encoding]
                known = matching[0] if len(matching) == 1 else None
        if encoding.deflated:
            data, whole = _inflate(data, whole)
            encoding = _EXPLICIT_LE
        return encoding, known, data, whole

    def _read_equipment(self, data_set: _DataSet) -> dict[str, Any] | None:
        """The fields of the equipment fact of a data set but its ``ctx``, if it names any."""
        how = self._encoding(data_set)
        if how is None:
            return None
        encoding, transfer_syntax, data, whole = how
        reader = _reader()
        raw, stopped, ended = _read_elements(data, encoding, reader)
        encodings = _encodings(raw.get(_SPECIFIC_CHARACTER_SET), reader)
        first: dict[str, str] = {}  # the first value of each attribute with one
        several: dict[str, tuple[str, ...]] = {}  # every value of the multi-valued ones
        for tag, value in raw.items():
            name = _EQUIPMENT_TAGS.get(tag)
            if name is not None and (values := _values(value, encodings, reader)):
                first[name] = values[0]
                several[name] = values
        if not any(name != "sop_class_uid" for name in first):
            return None
        one = first.get
        sop = one("sop_class_uid")
        return {
            "context_id": data_set.context_id,
            "sop_class_uid": sop if sop and _is_uid(sop) else data_set.sop_class_uid,
            "transfer_syntax": transfer_syntax,
            "modality": one("modality"),
            "conversion_type": one("conversion_type"),
            "manufacturer": one("manufacturer"),
            "institution_name": one("institution_name"),
            "station_name": one("station_name"),
            "institutional_department_name": one("institutional_department_name"),
            "manufacturer_model_name": one("manufacturer_model_name"),
            "device_serial_number": one("device_serial_number"),
            "device_uid": one("device_uid"),
            "gantry_id": one("gantry_id"),
            "software_versions": several.get("software_versions", ()),
            "secondary_capture_device_id": one("secondary_capture_device_id"),
            "secondary_capture_device_manufacturer": one("secondary_capture_device_manufacturer"),
            "secondary_capture_device_manufacturer_model_name": one(
                "secondary_capture_device_manufacturer_model_name"
            ),
            "secondary_capture_device_software_versions": several.get(
                "secondary_capture_device_software_versions", ()
            ),
            "complete": stopped or (ended and whole),
        }


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
        stream = _Stream(ctx)
        try:
            for observation in stream.walk(payload):
                found.append(observation)  # noqa: PERF402 - keeps facts found before an error
        except DissectError as exc:
            if not found:
                raise
            logger.debug("dicom flow %d: stopped after %d facts: %s", ctx.flow_id, len(found), exc)
        found.extend(stream.finish())
        yield from found
