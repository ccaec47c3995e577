"""HL7 v2.5 messages (ADT^A01, ORU^R01, ACK) framed with MLLP. Patients are synthetic."""

from __future__ import annotations

from dataclasses import dataclass

MLLP_START = b"\x0b"
MLLP_END = b"\x1c\x0d"
SEGMENT_SEPARATOR = "\r"


@dataclass(frozen=True, slots=True)
class Party:
    """MSH sending/receiving application and facility."""

    application: str
    facility: str


@dataclass(frozen=True, slots=True)
class Observation:
    """One OBX: code^text^system, value, units."""

    code: str
    text: str
    value: str
    units: str
    value_type: str = "NM"


def mllp(message: str) -> bytes:
    """Frame a message for the Minimal Lower Layer Protocol."""
    return MLLP_START + message.encode() + MLLP_END


def _msh(sender: Party, receiver: Party, stamp: str, kind: str, control_id: str) -> str:
    return (
        f"MSH|^~\\&|{sender.application}|{sender.facility}|{receiver.application}|"
        f"{receiver.facility}|{stamp}||{kind}|{control_id}|P|2.5"
    )


def _pid(patient: int) -> str:
    return (
        f"PID|1||SIM{patient:04d}^^^SIMHOSP^MR||SIM^PATIENT^{patient:04d}||19700101|O|||"
        f"1 SIMULATION WAY^^SIMTOWN^^00000"
    )


def _pv1(patient: int, location: str) -> str:
    return f"PV1|1|I|{location}^{patient % 20 + 1:02d}^1||||SIMDOC^SIM^DOCTOR"


def adt_a01(
    sender: Party, receiver: Party, stamp: str, control_id: str, patient: int, location: str
) -> str:
    """Admit notification."""
    segments = [
        _msh(sender, receiver, stamp, "ADT^A01^ADT_A01", control_id),
        f"EVN|A01|{stamp}",
        _pid(patient),
        _pv1(patient, location),
    ]
    return SEGMENT_SEPARATOR.join(segments) + SEGMENT_SEPARATOR


def oru_r01(
    sender: Party,
    receiver: Party,
    stamp: str,
    control_id: str,
    patient: int,
    location: str,
    order: tuple[str, str],
    observations: list[Observation],
) -> str:
    """Observation result: vitals from a monitor or results from an analyzer."""
    segments = [
        _msh(sender, receiver, stamp, "ORU^R01^ORU_R01", control_id),
        _pid(patient),
        _pv1(patient, location),
        f"OBR|1||{control_id}|{order[0]}^{order[1]}^LN|||{stamp}",
    ]
    for number, obs in enumerate(observations, start=1):
        segments.append(
            f"OBX|{number}|{obs.value_type}|{obs.code}^{obs.text}^LN||{obs.value}|{obs.units}|||||F"
        )
    return SEGMENT_SEPARATOR.join(segments) + SEGMENT_SEPARATOR


def ack(sender: Party, receiver: Party, stamp: str, control_id: str, acked_id: str) -> str:
    """Application accept (MSA|AA) of message ``acked_id``."""
    segments = [
        _msh(sender, receiver, stamp, "ACK^R01^ACK", control_id),
        f"MSA|AA|{acked_id}",
    ]
    return SEGMENT_SEPARATOR.join(segments) + SEGMENT_SEPARATOR
