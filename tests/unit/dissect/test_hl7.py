"""HL7 v2 / MLLP dissector: spec vectors, python-hl7 as oracle, the nDPI HL7 capture."""

from __future__ import annotations

from pathlib import Path

import hl7
import pytest

from medsec.dissect.hl7 import Hl7Dissector
from medsec.model.errors import DissectError
from medsec.model.observations.hl7 import Hl7Message

from tests_support.dissect_harness import ctx, payloads

D = Hl7Dissector()
SB, EB = b"\x0b", b"\x1c\x0d"  # MLLP start block, end block + carriage return


def mllp(message: str) -> bytes:
    return SB + message.encode() + EB


def dissect(data: bytes) -> list[Hl7Message]:
    found = list(D.dissect(data, ctx(dst_port=2575)))
    assert all(isinstance(o, Hl7Message) for o in found)
    return [o for o in found if isinstance(o, Hl7Message)]


# An ORU^R01 from a lab analyser: header, patient, order, two results (HL7 v2.5.1 layout).
ORU = "\r".join(
    [
        "MSH|^~\\&|COBAS^1.2.3^ISO|LAB-A|LIS|HOSP|20240102120000||ORU^R01^ORU_R01|MSG1|P|2.5.1",
        "PID|1||123456^^^HOSP^MR||DOE^JANE||19700101|F",
        "OBR|1|||GLU^Glucose",
        "OBX|1|NM|GLU^Glucose||5.4|mmol/L",
        "OBX|2|NM|K^Potassium||4.1|mmol/L",
    ]
)
# An ACK with an application error: MSA-1 AE
ACK = "MSH|^~\\&|LIS|HOSP|COBAS|LAB-A|20240102120001||ACK^R01^ACK|A1|P|2.5.1\rMSA|AE|MSG1"
# A QC result: OBX without any patient segment
QC = "MSH|^~\\&|COBAS|LAB-A|LIS|HOSP|20240102||OUL^R22|Q1|P|2.5\rSPM|1\rOBX|1|NM|QC1||3.0"


def test_oru_header_fields_and_segments() -> None:
    (msg,) = dissect(mllp(ORU))
    assert (msg.field_separator, msg.encoding_characters) == ("|", "^~\\&")
    assert msg.sending_application == "COBAS^1.2.3^ISO"
    assert msg.sending_facility == "LAB-A"
    assert (msg.receiving_application, msg.receiving_facility) == ("LIS", "HOSP")
    assert msg.message_type == "ORU^R01^ORU_R01"
    assert (msg.message_code, msg.trigger_event, msg.message_structure) == (
        "ORU",
        "R01",
        "ORU_R01",
    )
    assert (msg.processing_id, msg.version_id) == ("P", "2.5.1")
    assert msg.segment_ids == ("MSH", "PID", "OBR", "OBX", "OBX")
    assert msg.carries_phi and msg.complete
    assert msg.acknowledgment_code is None


def test_no_patient_field_reaches_the_observation() -> None:
    (msg,) = dissect(mllp(ORU))
    text = repr(msg)
    for secret in ("DOE", "JANE", "123456", "19700101", "5.4", "Glucose"):
        assert secret not in text


def test_ack_code_and_no_phi() -> None:
    (msg,) = dissect(mllp(ACK))
    assert msg.acknowledgment_code == "AE"
    assert msg.segment_ids == ("MSH", "MSA")
    assert not msg.carries_phi


def test_results_without_patient_segment_carry_no_phi() -> None:
    (msg,) = dissect(mllp(QC))
    assert msg.segment_ids == ("MSH", "SPM", "OBX") and not msg.carries_phi
    assert msg.message_structure is None


@pytest.mark.parametrize("terminator", ["\r", "\n", "\r\n"])
def test_segment_terminators(terminator: str) -> None:
    (msg,) = dissect(mllp(ORU.replace("\r", terminator) + terminator))
    assert msg.segment_ids == ("MSH", "PID", "OBR", "OBX", "OBX")
    assert msg.version_id == "2.5.1"


def test_custom_separators_from_msh_1_and_2() -> None:
    # field separator '#', component '$', repetition '~', escape '\', subcomponent '&'
    custom = "MSH#$~\\&#PUMP$77#ICU#GW#HOSP#2024##ADT$A08#9#T#2.4\rPID#1##42\rPV1#1#I"
    (msg,) = dissect(mllp(custom))
    assert msg.field_separator == "#" and msg.encoding_characters == "$~\\&"
    assert msg.sending_application == "PUMP^77"
    assert msg.message_type == "ADT^A08"
    assert (msg.message_code, msg.trigger_event) == ("ADT", "A08")
    assert msg.processing_id == "T"
    assert msg.segment_ids == ("MSH", "PID", "PV1") and msg.carries_phi


def test_several_frames_and_a_batch() -> None:
    batch = "\r".join(["FHS|^~\\&|GW", "BHS|^~\\&|GW", ACK, ORU, "BTS|2", "FTS|1"])
    found = dissect(mllp(ACK) + b"\r\n" + mllp(batch))
    assert [m.message_code for m in found] == ["ACK", "ACK", "ORU"]
    assert found[2].segment_ids == ("MSH", "PID", "OBR", "OBX", "OBX")  # no BTS/FTS


def test_bare_hl7_without_mllp() -> None:
    (msg,) = dissect(ORU.encode() + b"\r")
    assert msg.message_type == "ORU^R01^ORU_R01" and msg.complete


def test_a_truncated_frame_is_reported_incomplete() -> None:
    data = mllp(ORU)[: len(mllp(ORU)) // 2 + 40]  # cut inside the OBR/OBX segments
    (msg,) = dissect(data)
    assert not msg.complete
    assert msg.segment_ids[:2] == ("MSH", "PID")
    assert msg.sending_facility == "LAB-A"


def test_a_frame_cut_inside_msh_gives_nothing() -> None:
    assert dissect(SB + ORU.encode()[:40]) == []
    assert dissect(mllp(ACK) + SB + ORU.encode()[:40])[0].message_code == "ACK"


@pytest.mark.parametrize(
    "data",
    [
        SB + b"GET / HTTP/1.1\r\n" + EB,  # an MLLP frame that is no HL7
        SB + b"MSH" + EB,  # header without separators
        b"HELLO WORLD",  # bare bytes that are no HL7
    ],
)
def test_malformed_raises_dissect_error(data: bytes) -> None:
    with pytest.raises(DissectError):
        dissect(data)


def test_garbage_after_a_good_frame_ends_quietly() -> None:
    found = dissect(mllp(ACK) + SB + b"\xff\xfe garbage" + EB)
    assert [m.message_code for m in found] == ["ACK"]


def test_agrees_with_python_hl7() -> None:
    """Oracle: python-hl7 reads the same MSH fields and segment IDs."""
    for text in (ORU, ACK, QC):
        (ours,) = dissect(mllp(text))
        theirs = hl7.parse(text)
        assert ours.sending_application == str(theirs.segment("MSH")[3])
        assert ours.sending_facility == str(theirs.segment("MSH")[4])
        assert ours.receiving_application == str(theirs.segment("MSH")[5])
        assert ours.message_type == str(theirs.segment("MSH")[9])
        assert ours.version_id == str(theirs.segment("MSH")[12])
        assert ours.segment_ids == tuple(str(segment[0]) for segment in theirs)


def test_signature() -> None:
    assert D.signature(mllp(ORU))
    assert D.signature(ORU.encode())
    assert D.signature(SB + b"FHS|^~\\&|GW")
    assert D.signature(mllp("MSH#$~\\&#A"))
    for head in (
        b"",
        SB,
        SB + b"MSH",
        SB + b"MSHA^~\\&|",
        SB + b"ABC|^~\\&|",
        b"GET / HTTP/1.1\r\n",
        b"\x16\x03\x01\x00\xc4\x01",
        b"MSH |",
    ):
        assert not D.signature(head), head


# --- real capture: nDPI's hl7.pcap (SOURCES.md 1.2) ----------------------------------------


def test_ndpi_capture_adt_a01_and_ack(shared_data: Path) -> None:
    heads = list(payloads(shared_data / "pcap/ndpi/hl7.pcap", ports={6661}))
    assert heads and all(D.signature(h.data) for h in heads)
    found = [m for h in heads for m in D.dissect(h.data, h.ctx) if isinstance(m, Hl7Message)]
    adt = [m for m in found if m.message_code == "ADT"]
    ack = [m for m in found if m.message_code == "ACK"]
    assert len(adt) == 1 and len(ack) == 1
    a = adt[0]
    assert a.ctx.dst_port == 6661
    assert (a.sending_application, a.sending_facility) == (
        "SENDING_APPLICATION",
        "SENDING_FACILITY",
    )
    assert (a.receiving_application, a.receiving_facility) == (
        "RECEIVING_APPLICATION",
        "RECEIVING_FACILITY",
    )
    assert a.message_type == "ADT^A01" and a.trigger_event == "A01"
    assert a.version_id == "2.3" and a.processing_id == "P"
    assert a.segment_ids == ("MSH", "EVN", "PID", "NK1", "PV1", "AL1", "AL1")
    assert a.carries_phi and a.complete
    assert "MOUSE" not in repr(a) and "Penicillin" not in repr(a)
    k = ack[0]
    assert k.ctx.src_port == 6661
    assert k.acknowledgment_code == "AA" and not k.carries_phi
    assert k.sending_application == "RECEIVING_APPLICATION"
    assert k.segment_ids == ("MSH", "MSA")
