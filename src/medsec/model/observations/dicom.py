"""Facts stated by the DICOM upper layer protocol (PS3.8) and DIMSE command sets (PS3.7).

Association PDUs name the applications (AE titles), the software that speaks (implementation
class UID and version name) and the services wanted (presentation contexts); command sets
name the operation, and the first data set of a C-STORE names the equipment that made the
object (``DicomEquipment``). Patient and study attributes of data sets are never decoded: the
most a command states is *that* patient data crossed (``carries_phi``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from medsec.model.observations import Observation, observation


@dataclass(frozen=True, slots=True, kw_only=True)
class DicomPresentationContext:
    """One proposed presentation context of an A-ASSOCIATE-RQ (PS3.8 9.3.2.2)."""

    context_id: int
    """Presentation context ID (an odd number 1-255)."""
    abstract_syntax: str
    """Abstract syntax: the SOP class UID proposed (``1.2.840.10008.5.1.4.1.1.2``)."""
    abstract_syntax_name: str
    """Its name from the DICOM UID registry (``CT Image Storage``); empty when unknown."""
    transfer_syntaxes: tuple[str, ...]
    """Transfer syntax UIDs proposed for it, in the order sent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DicomPresentationContextResult:
    """The acceptor's answer to one presentation context in an A-ASSOCIATE-AC (PS3.8 9.3.3.2)."""

    context_id: int
    """Presentation context ID answered."""
    result: int
    """Result/reason: 0 acceptance, 1 user-rejection, 2 no-reason (provider rejection),
    3 abstract-syntax-not-supported, 4 transfer-syntaxes-not-supported."""
    result_name: str
    """``result`` as named in PS3.8 Table 9-18 (``acceptance``, ``user-rejection``, ...)."""
    transfer_syntax: str | None
    """Transfer syntax UID accepted (meaningful only for ``acceptance``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DicomRoleSelection:
    """SCP/SCU Role Selection sub-item (PS3.7 D.3.3.4)."""

    sop_class_uid: str
    """SOP class the roles apply to."""
    scu_role: bool
    """The requestor proposes (RQ) / the acceptor accepts (AC) acting as SCU."""
    scp_role: bool
    """The requestor proposes (RQ) / the acceptor accepts (AC) acting as SCP."""


@observation
class DicomAssociationRequest(Observation):
    """An A-ASSOCIATE-RQ PDU: an application entity asks another for an association."""

    PROTOCOL: ClassVar[str] = "dicom"
    protocol_version: int
    """Protocol-version field (bit 0 set for version 1)."""
    calling_ae_title: str
    """AE title of the requestor (the sender), spaces stripped."""
    called_ae_title: str
    """AE title of the intended acceptor, spaces stripped."""
    application_context_name: str
    """Application context name UID (``1.2.840.10008.3.1.1.1`` for DICOM)."""
    presentation_contexts: tuple[DicomPresentationContext, ...]
    """Proposed presentation contexts, in the order sent."""
    implementation_class_uid: str | None
    """Implementation Class UID of the requestor's software (PS3.7 D.3.3.2)."""
    implementation_version_name: str | None
    """Implementation Version Name of the requestor's software (``OFFIS_DCMTK_367``)."""
    maximum_length_received: int | None
    """Maximum PDU length the requestor can receive (0 = unlimited), PS3.8 D.1."""
    modalities: tuple[str, ...]
    """DICOM modality codes (``CT``, ``MR``...) whose storage SOP classes are proposed,
    sorted; from ``rules/dicom/sop_modality.csv``."""
    roles: tuple[DicomRoleSelection, ...]
    """SCP/SCU role selection proposals."""
    user_identity_type: str | None
    """User Identity Negotiation type (PS3.7 D.3.3.7): ``username``,
    ``username_and_passcode``, ``kerberos``, ``saml``, ``jwt``; None when absent."""
    user_identity_username: str | None
    """The user name sent for the ``username*`` types; the passcode is never kept."""
    credentials_in_clear: bool
    """A passcode or bearer token (SAML assertion, JWT) crossed in this PDU."""


@observation
class DicomAssociationAccept(Observation):
    """An A-ASSOCIATE-AC PDU: the acceptor's answer, context by context."""

    PROTOCOL: ClassVar[str] = "dicom"
    protocol_version: int
    """Protocol-version field."""
    calling_ae_title: str
    """Calling AE title echoed from the request (not tested by the standard)."""
    called_ae_title: str
    """Called AE title echoed from the request (not tested by the standard)."""
    application_context_name: str
    """Application context name UID."""
    presentation_contexts: tuple[DicomPresentationContextResult, ...]
    """Per-context results, in the order sent."""
    implementation_class_uid: str | None
    """Implementation Class UID of the acceptor's software."""
    implementation_version_name: str | None
    """Implementation Version Name of the acceptor's software."""
    maximum_length_received: int | None
    """Maximum PDU length the acceptor can receive (0 = unlimited)."""
    roles: tuple[DicomRoleSelection, ...]
    """SCP/SCU role selections accepted."""


@observation
class DicomAssociationReject(Observation):
    """An A-ASSOCIATE-RJ PDU (PS3.8 9.3.4)."""

    PROTOCOL: ClassVar[str] = "dicom"
    result: int
    """1 rejected-permanent, 2 rejected-transient."""
    result_name: str
    """``result`` named (``rejected-permanent``)."""
    source: int
    """1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation)."""
    source_name: str
    """``source`` named (``service-user``)."""
    reason: int
    """Reason/diagnostic, meaning depends on ``source``."""
    reason_name: str
    """``reason`` named (``no-reason-given``, ``called-AE-title-not-recognized``, ...)."""


@observation
class DicomAbort(Observation):
    """An A-ABORT PDU (PS3.8 9.3.8)."""

    PROTOCOL: ClassVar[str] = "dicom"
    source: int
    """0 service-user, 2 service-provider."""
    source_name: str
    """``source`` named (``service-user``)."""
    reason: int
    """Reason/diagnostic (significant only when the provider aborts)."""
    reason_name: str
    """``reason`` named (``reason-not-specified``, ``unexpected-PDU``, ...)."""


@observation
class DicomCommand(Observation):
    """A DIMSE command set carried in a P-DATA-TF (PS3.7 9.3 / 10.3), data set not read."""

    PROTOCOL: ClassVar[str] = "dicom"
    context_id: int
    """Presentation context ID the command travels on."""
    command_field: int
    """Command Field (0000,0100): 0x0001 C-STORE-RQ, 0x8001 C-STORE-RSP, ..."""
    command_name: str
    """``command_field`` named (``C-STORE-RQ``, ``C-ECHO-RSP``); ``unknown`` if not listed."""
    sop_class_uid: str | None
    """Affected SOP Class UID (0000,0002), else Requested SOP Class UID (0000,0003)."""
    sop_class_name: str
    """Its name from the DICOM UID registry; empty when unknown or absent."""
    modality: str | None
    """Modality code of ``sop_class_uid`` when it is a storage SOP class with a fixed one."""
    status: int | None
    """Status (0000,0900) of a response; None for requests."""
    status_category: str | None
    """``success``, ``pending``, ``cancel``, ``warning``, ``failure`` or ``unknown``
    (PS3.7 Annex C); None for requests."""
    move_destination: str | None
    """Move Destination (0000,0600): AE title a C-MOVE sends the instances to."""
    has_data_set: bool
    """Command Data Set Type (0000,0800) says a data set follows."""
    carries_phi: bool
    """The exchange moves patient-level data: storage of a patient object, a patient/study
    query or retrieve, a worklist query, a performed or unified procedure step."""


@observation
class DicomEquipment(Observation):
    """Equipment attributes at the head of a C-STORE-RQ data set (PS3.3 C.7.5.1 General
    Equipment, C.8.6.1 SC Equipment): who made the object being stored.

    Only these attributes are decoded, from the first bytes of the data set up to group 0018;
    patient, study and series attributes are skipped unread and never kept.

    The sender owns this equipment when it is the modality storing its own images. A PACS,
    router or workstation forwarding (C-MOVE/C-GET sub-operations, auto-routing) sends the
    equipment attributes of *other* devices - the modality that acquired each image - so rules
    should weigh this fact against the sender's other facts (AE titles, implementation class,
    how many distinct equipments it sends) before crediting it to the sender. Text values are
    decoded with the data set's Specific Character Set, stripped, unprintable characters
    replaced; absent or empty attributes are None (or an empty tuple).
    """

    PROTOCOL: ClassVar[str] = "dicom"
    context_id: int
    """Presentation context ID the data set travels on."""
    sop_class_uid: str | None
    """SOP Class UID (0008,0016) of the data set, else the command's Affected SOP Class UID."""
    transfer_syntax: str | None
    """Transfer syntax UID the data set was read with, when the stream head shows it (the
    acceptor's answer, or the only one proposed for the context); None when the encoding was
    recognised from the bytes among several proposed."""
    modality: str | None
    """Modality (0008,0060): ``CT``, ``MR``, ``US``, ``OT``..."""
    conversion_type: str | None
    """Conversion Type (0008,0064) of secondary capture: ``WSD`` workstation, ``DV`` digitized
    video, ``SYN`` synthetic..."""
    manufacturer: str | None
    """Manufacturer (0008,0070) of the equipment that produced the object."""
    institution_name: str | None
    """Institution Name (0008,0080) where the equipment is located."""
    station_name: str | None
    """Station Name (0008,1010): the user-defined name of the equipment."""
    institutional_department_name: str | None
    """Institutional Department Name (0008,1040) where the equipment is located."""
    manufacturer_model_name: str | None
    """Manufacturer's Model Name (0008,1090)."""
    device_serial_number: str | None
    """Device Serial Number (0018,1000)."""
    device_uid: str | None
    """Device UID (0018,1002): a unique identifier of the equipment."""
    gantry_id: str | None
    """Gantry ID (0018,1008) of a modality with several gantries or sources."""
    software_versions: tuple[str, ...]
    """Software Versions (0018,1020) of the equipment, one value each."""
    secondary_capture_device_id: str | None
    """Secondary Capture Device ID (0018,1010)."""
    secondary_capture_device_manufacturer: str | None
    """Secondary Capture Device Manufacturer (0018,1016)."""
    secondary_capture_device_manufacturer_model_name: str | None
    """Secondary Capture Device Manufacturer's Model Name (0018,1018)."""
    secondary_capture_device_software_versions: tuple[str, ...]
    """Secondary Capture Device Software Versions (0018,1019)."""
    complete: bool
    """The data set was read past group 0018 (or to its end): an absent attribute is absent.
    False when the fragment or the stream head ended first, so it may just be unseen."""
