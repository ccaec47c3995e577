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
