"""Facts stated by HL7 version 2 messages (usually framed by MLLP over TCP).

Only the message header (MSH), the acknowledgment code (MSA-1) and the list of segment IDs
are kept: they name the applications and facilities talking and the kind of message. No
field of a patient segment (PID, NK1, PV1, OBX...) ever becomes an observation; that patient
data was present is stated by ``carries_phi`` alone.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class Hl7Message(Observation):
    """One HL7 v2 message: its header, its segment IDs, and whether patient data rode in it."""

    PROTOCOL: ClassVar[str] = "hl7"
    field_separator: str
    """MSH-1, the field separator (``|``)."""
    encoding_characters: str
    """MSH-2: component, repetition, escape, subcomponent (and truncation) characters."""
    sending_application: str | None
    """MSH-3 Sending Application (components joined with ``^``)."""
    sending_facility: str | None
    """MSH-4 Sending Facility (components joined with ``^``)."""
    receiving_application: str | None
    """MSH-5 Receiving Application (components joined with ``^``)."""
    receiving_facility: str | None
    """MSH-6 Receiving Facility (components joined with ``^``)."""
    message_type: str | None
    """MSH-9 Message Type, components joined with ``^`` (``ADT^A01^ADT_A01``)."""
    message_code: str | None
    """MSH-9.1 Message Code (``ADT``, ``ORU``, ``ACK``)."""
    trigger_event: str | None
    """MSH-9.2 Trigger Event (``A01``)."""
    message_structure: str | None
    """MSH-9.3 Message Structure (``ADT_A01``), when sent."""
    processing_id: str | None
    """MSH-11 Processing ID (``P`` production, ``T`` training, ``D`` debugging)."""
    version_id: str | None
    """MSH-12 Version ID (``2.3``, ``2.5.1``)."""
    segment_ids: tuple[str, ...]
    """Segment IDs in order of appearance (``("MSH", "EVN", "PID", "PV1")``), at most 512."""
    acknowledgment_code: str | None
    """MSA-1 Acknowledgment Code of an acknowledgment (``AA``, ``AE``, ``AR``, ``CA``...)."""
    carries_phi: bool
    """A patient-identifying segment (PID, PD1, NK1, PV1, PV2, MRG, GT1, IN1-IN3, QRD) is
    present."""
    complete: bool
    """False when the stream head ended inside the message: ``segment_ids`` (and so
    ``carries_phi``) cover only its beginning."""
