"""Modbus/TCP dissector: Modbus Application Protocol vectors and Zeek/nDPI captures."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from medsec.dissect.modbus import ModbusDissector
from medsec.model.errors import DissectError
from medsec.model.observations.infrastructure import ModbusMessages

from tests_support.dissect_harness import ctx, payloads

D = ModbusDissector()
SERVER = ctx(transport="tcp", src_port=502, dst_port=40000)
CLIENT = ctx(transport="tcp", src_port=40000, dst_port=502)


def adu(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack("!HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def device_id(objects: dict[int, bytes]) -> bytes:
    """43/14 answer: read device id code 1, conformity 0x81, no more, next 0, objects."""
    body = b"".join(bytes([k, len(v)]) + v for k, v in objects.items())
    return b"\x2b\x0e\x01\x81\x00\x00" + bytes([len(objects)]) + body


def one(data: bytes, context: object = SERVER) -> ModbusMessages:
    (msg,) = D.dissect(data, context)  # type: ignore[arg-type]
    assert isinstance(msg, ModbusMessages)
    return msg


def test_requests_and_answers() -> None:
    req = adu(1, 1, b"\x03\x00\x00\x00\x0a") + adu(2, 1, b"\x06\x00\x01\x00\x03")
    assert D.signature(adu(1, 1, b"\x03\x00\x00\x00\x0a"))
    msg = one(req, CLIENT)
    assert (msg.role, msg.unit_ids, msg.function_codes, msg.exception_codes) == (
        "client",
        (1,),
        (3, 6),
        (),
    )
    res = one(adu(1, 1, b"\x03\x02\x00\x07") + adu(2, 255, b"\x86\x02"))
    assert (res.role, res.unit_ids, res.function_codes, res.exception_codes) == (
        "server",
        (1, 255),
        (3, 6),
        (2,),
    )


def test_read_device_identification_answer() -> None:
    objects = {0: b"Example Automation", 1: b"EA-PLC-10", 2: b"V2.4", 4: b"PLC 10", 5: b"EA10"}
    msg = one(adu(7, 0, device_id(objects)))
    assert (msg.vendor_name, msg.product_code, msg.major_minor_revision) == (
        "Example Automation",
        "EA-PLC-10",
        "V2.4",
    )
    assert (msg.product_name, msg.model_name, msg.vendor_url) == ("PLC 10", "EA10", None)


def test_a_head_cut_inside_an_adu_ends_quietly() -> None:
    data = adu(1, 1, b"\x03\x02\x00\x07") + adu(2, 1, b"\x03\x02\x00\x07")[:9]
    assert one(data).function_codes == (3,)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\x01\x00\x00", "head of 4"),
        (b"\x00\x01\x00\x01\x00\x06\x01\x03", "protocol id 0001"),
        (b"\x00\x01\x00\x00\x01\x00\x01\x03", "MBAP length 256"),
        (adu(1, 0, b"\x2b\x0e\x01\x81\x00\x00\x01\x00\x09abc"), "runs past"),
    ],
)
def test_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        list(D.dissect(data, SERVER))


def test_real_device_identification_exchange(shared_data: Path) -> None:
    roles = {}
    for p in payloads(shared_data / "pcap/zeek/modbus_modbus-eit.pcap", ports={502}):
        for msg in D.dissect(p.data, p.ctx):
            assert isinstance(msg, ModbusMessages) and msg.function_codes == (43,)
            roles.setdefault(msg.role, []).append(msg)
    assert {m.ctx.src_ip for m in roles["server"]} == {"192.168.88.100"}
    assert any(m.exception_codes == (4,) for m in roles["server"])  # slave device failure


def test_real_register_reads(shared_data: Path) -> None:
    found = [
        msg
        for p in payloads(shared_data / "pcap/ndpi/modbus.pcap", ports={502})
        for msg in D.dissect(p.data, p.ctx)
    ]
    assert {(m.role, m.function_codes) for m in found if isinstance(m, ModbusMessages)} == {
        ("client", (3,)),
        ("server", (3,)),
    }


# Active Directory's LDAP answers use BER's four-byte length form: 30 84 00 00 00 LL is an
# MBAP-like header (protocol id 0, "length" LL = the bytes that follow), then 02 01 id
# (INTEGER messageID) reads as unit 2, function 1. This bindResponse(1) success is frame 5 of
# zeek/ldap_simpleauth.pcap (Global Catalog, TCP 3268).
AD_BIND_RESPONSE = bytes.fromhex("3084000000100201016184000000070a010004000400")


@pytest.mark.parametrize(
    "pdu",
    [
        b"\x01\x00\x13\x00\x25",  # read coils request: start 19, 37 coils
        b"\x01\x05\xcd\x6b\xb2\x0e\x1b",  # its response: 5 bytes of coil status
        b"\x03\x00\x6b\x00\x03",  # read holding registers: start 107, 3 registers
        b"\x03\x06\x02\x2b\x00\x00\x00\x64",  # response: 3 registers
        b"\x05\x00\xac\xff\x00",  # write single coil (request and echo)
        b"\x07",  # read exception status request
        b"\x07\x6d",  # its response
        b"\x08\x00\x00\xa5\x37",  # diagnostics: return query data
        b"\x0b\x00\x00\x01\x08",  # get comm event counter response
        b"\x0f\x00\x13\x00\x0a\x02\xcd\x01",  # write multiple coils request
        b"\x10\x00\x01\x00\x02\x04\x00\x0a\x01\x02",  # write multiple registers request
        b"\x10\x00\x01\x00\x02",  # its response
        b"\x16\x00\x04\x00\xf2\x00\x25",  # mask write register
        b"\x17\x00\x03\x00\x06\x00\x0e\x00\x03\x06\x00\xff\x00\xff\x00\xff",  # read/write
        b"\x18\x04\xde",  # read FIFO queue request
        b"\x2b\x0e\x01\x00",  # read device identification request
        b"\x83\x02",  # exception: illegal data address
    ],
)
def test_signature_takes_spec_pdus(pdu: bytes) -> None:
    """Modbus Application Protocol v1.1b3 section 6 examples, each as one ADU."""
    assert D.signature(adu(1, 1, pdu))
    assert D.signature(adu(1, 1, pdu) + adu(2, 255, b"\x03\x00\x00\x00\x01"))


# The same answer to messageID 3072 (02 02 0c 00): unit 2, function 2, and a "byte count"
# 0x0c that matches the rest - only the BER reading tells it apart
AD_BIND_RESPONSE_3072 = bytes.fromhex("30840000000f02020c0061090a010004000402c280")


@pytest.mark.parametrize(
    "data",
    [
        AD_BIND_RESPONSE,
        AD_BIND_RESPONSE_3072,
        adu(1, 1, b"\x03\x00\x00\x00"),  # read request one byte short
        adu(1, 1, b"\x03\x05\x00\x00\x00\x00\x00"),  # odd register byte count
        adu(1, 1, b"\x10\x00\x01\x00\x02\x04\x00\x0a\x01"),  # byte count past the PDU
        adu(1, 1, b"\x83\x07"),  # exception code 7 is not defined
        adu(1, 1, b"\x64\x00"),  # function 100: not public
        adu(1, 250, b"\x03\x00\x00\x00\x01"),  # reserved unit id
        adu(1, 1, b"\x03\x00\x00\x00\x01") + b"\x00",  # a stray byte after the ADU
        adu(1, 1, b"\x03\x00\x00\x00\x01")[:-1],  # cut
    ],
)
def test_signature_refuses_what_is_not_whole_modbus(data: bytes) -> None:
    assert not D.signature(data)


def test_ldap_answers_of_a_global_catalog_are_not_modbus(shared_data: Path) -> None:
    """Regression: the server's bindResponse made 10.0.0.2 a Modbus server."""
    heads = list(payloads(shared_data / "pcap/zeek/ldap_simpleauth.pcap"))
    assert AD_BIND_RESPONSE in {p.data[: len(AD_BIND_RESPONSE)] for p in heads}
    assert heads and not any(D.signature(p.data) for p in heads)


@pytest.mark.parametrize(
    "name",
    ["zeek/modbus_modbus-eit.pcap", "zeek/modbus_modbusBig.pcap",
     "zeek/modbus_modbusSmall.pcap", "ndpi/modbus.pcap"],
)  # fmt: skip
def test_signature_takes_the_first_adu_of_every_real_direction(
    shared_data: Path, name: str
) -> None:
    heads = list(payloads(shared_data / "pcap" / name, ports={502}))
    assert heads
    for p in heads:
        first = p.data[: 6 + int.from_bytes(p.data[4:6], "big")]
        assert D.signature(first), first.hex()
