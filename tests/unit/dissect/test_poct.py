"""POCT1-A dissector. No public POCT1-A capture exists (SOURCES.md), so the vectors below are
written from the public POCT1-A2 message structure: root element = message type, ``HDR``
header, ``DEV`` device object with ``DCP``/``DSC`` capabilities in the hello, values in the
``V`` attribute, patient data in ``SVC``/``PT`` of ``OBS.R01``. Element names as they appear in
published vendor interface examples (a glucose-meter hello from a "DML interface
specification 6.2.4" quoted in public integration tests; a Quidel Sofia POCT1-A field
catalogue); the values here are invented.
"""

from __future__ import annotations

import pytest

from medsec.dissect.poct import PoctDissector
from medsec.model.errors import DissectError
from medsec.model.observations import Observation
from medsec.model.observations.poct import PoctHello, PoctMessage

from tests_support.dissect_harness import ctx

D = PoctDissector()

HELLO = b"""<?xml version="1.0" encoding="UTF-8"?>
<HEL.R01>
  <HDR>
    <HDR.message_type V="HEL.R01" SN="POCT1" SV="1"/>
    <HDR.control_id V="1001"/>
    <HDR.version_id V="POCT1"/>
    <HDR.creation_dttm V="2025-03-01T08:00:00+01:00"/>
  </HDR>
  <DEV>
    <DEV.device_id V="WARD4-GLU-02"/>
    <DEV.vendor_id V="EXAMPLEDX"/>
    <DEV.model_id V="GlucoCheck 500"/>
    <DEV.serial_id V="GC5-000123"/>
    <DEV.manufacturer_name V="Example Diagnostics"/>
    <DEV.hw_version V="B2"/>
    <DEV.sw_version V="4.2.1"/>
    <DEV.device_name V="Ward 4 meter"/>
    <DCP>
      <DCP.application_timeout V="60"/>
    </DCP>
    <DSC>
      <DSC.connection_profile_cd V="SA"/>
      <DSC.topics_supported_cd V="OPL" SN="POCT1" SV="1"/>
      <DSC.topics_supported_cd V="DTV" SN="POCT1" SV="1"/>
      <DSC.directives_supported_cd V="START_CONTINUOUS"/>
      <DSC.max_message_sz V="16384"/>
    </DSC>
  </DEV>
</HEL.R01>
"""
# A patient result: the patient id and the value sit inside SVC/PT/OBS.
OBSERVATION = b"""<OBS.R01>
  <HDR><HDR.message_type V="OBS.R01"/><HDR.control_id V="1004"/></HDR>
  <SVC>
    <SVC.role_cd V="OBS"/>
    <PT>
      <PT.patient_id V="MRN-777-1234"/>
      <OBS><OBS.observation_id V="2345-7" SN="LN"/><OBS.value V="6.1" U="mmol/L"/></OBS>
    </PT>
    <OPR><OPR.operator_id V="NURSE42"/></OPR>
  </SVC>
</OBS.R01>"""
# A quality-control result: no patient element.
QC = b"""<OBS.R02><HDR><HDR.message_type V="OBS.R02"/></HDR>
<SVC><SVC.role_cd V="LQC"/><OBS><OBS.value V="2.9"/></OBS></SVC></OBS.R02>"""
STATUS = (
    b'<DST.R01><HDR><HDR.message_type V="DST.R01"/></HDR>'
    b'<DST><DST.new_observations_qty V="3"/></DST></DST.R01>'
)
ACK = b'<ACK.R01><HDR/><ACK><ACK.type_cd V="AA"/><ACK.ack_control_id V="1001"/></ACK></ACK.R01>'
EOT = b'<EOT.R01><HDR/><EOT><EOT.topic_cd V="OBS"/></EOT></EOT.R01>'


def dissect(data: bytes) -> list[Observation]:
    return list(D.dissect(data, ctx(dst_port=5000)))


def test_hello_identifies_the_device() -> None:
    (hello,) = dissect(HELLO)
    assert isinstance(hello, PoctHello)
    assert hello.version_id == "POCT1"
    assert hello.device_id == "WARD4-GLU-02"
    assert (hello.vendor_id, hello.model_id, hello.serial_id) == (
        "EXAMPLEDX",
        "GlucoCheck 500",
        "GC5-000123",
    )
    assert hello.manufacturer_name == "Example Diagnostics"
    assert (hello.hw_version, hello.sw_version) == ("B2", "4.2.1")
    assert hello.device_name == "Ward 4 meter"
    assert hello.application_timeout == 60
    assert hello.connection_profile_cd == "SA"
    assert hello.topics_supported_cd == ("OPL", "DTV")
    assert hello.directives_supported_cd == ("START_CONTINUOUS",)
    assert hello.max_message_sz == 16384


def test_a_device_conversation_back_to_back() -> None:
    found = dissect(HELLO + b"\r\n" + STATUS + OBSERVATION + QC + EOT)
    assert isinstance(found[0], PoctHello)
    messages = [o for o in found[1:] if isinstance(o, PoctMessage)]
    assert [(m.message_type, m.carries_phi) for m in messages] == [
        ("DST.R01", False),
        ("OBS.R01", True),
        ("OBS.R02", False),
        ("EOT.R01", False),
    ]


def test_patient_values_never_reach_an_observation() -> None:
    text = repr(dissect(OBSERVATION))
    for secret in ("MRN-777-1234", "6.1", "NURSE42", "2345-7"):
        assert secret not in text


def test_value_in_element_text_and_latin1_declaration() -> None:
    data = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>'
        b'<HEL.R01><DEV><DEV.device_id V="">Station K\xf6ln</DEV.device_id>'
        b'<DEV.vendor_id V="X"/><DSC.max_message_sz V="lots"/></DEV></HEL.R01>'
    )
    (hello,) = dissect(data)
    assert isinstance(hello, PoctHello)
    assert hello.device_id == "Station K\u00f6ln"
    assert hello.max_message_sz is None and hello.model_id is None


def test_a_message_cut_by_the_stream_head_is_ignored() -> None:
    found = dissect(ACK + OBSERVATION[:60])
    assert [o.message_type for o in found if isinstance(o, PoctMessage)] == ["ACK.R01"]
    assert dissect(HELLO[:200]) == []


@pytest.mark.parametrize(
    "data",
    [
        # entity expansion ("billion laughs") is refused before any parser sees it
        b'<HEL.R01><!DOCTYPE x [<!ENTITY a "aaaa">]><DEV.device_id V="&a;"/></HEL.R01>',
        b'<?xml version="1.0"?><!DOCTYPE HEL.R01 SYSTEM "http://x/"><HEL.R01></HEL.R01>',
        b"<HEL.R01><DEV></HEL.R01>",  # mismatched tags
        b"<html><body>no</body></html>",  # not a POCT1-A message type
        b"plain text",
    ],
)
def test_malformed_or_hostile_xml_raises_dissect_error(data: bytes) -> None:
    with pytest.raises(DissectError):
        dissect(data)


def test_garbage_after_a_good_message_ends_quietly() -> None:
    found = dissect(ACK + b"\x00\x01garbage<")
    assert [type(o) for o in found] == [PoctMessage]


def test_signature() -> None:
    for head in (HELLO, OBSERVATION, ACK, b"\xef\xbb\xbf<HEL.R01>", b"  <KPA.R01/>"):
        assert D.signature(head), head[:20]
    for head in (
        b"",
        b"<?xml version='1.0'?><html>",
        b"<HEL.R1>",
        b"<hel.r01>",
        b"<HEL.R01x>",
        b"GET / HTTP/1.1\r\n",
        b"\x0bMSH|^~\\&|",
        b"<?xml version='1.0'?>" + b" " * 300,
    ):
        assert not D.signature(head), head[:30]
