"""Infrastructure, smart-thing and automation dissectors under hostile bytes, plus round trips.

Tuya, STP/RSTP, HSRP, Ubiquiti discovery, NAT-PMP/PCP, SLP, BACnet/IP, Modbus/TCP and flow
export: arbitrary and mutated inputs make ``signature`` return a bool and ``dissect`` yield
observations or raise ``DissectError`` - nothing else, no warning, no hang. Round trips:
messages built from random field values come back with the same facts.
"""

from __future__ import annotations

import binascii
import json
import struct
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from medsec.dissect.bacnet import BacnetDissector
from medsec.dissect.flowexport import FlowExportDissector
from medsec.dissect.hsrp import HsrpDissector
from medsec.dissect.modbus import ModbusDissector
from medsec.dissect.natpmp import NatPmpDissector
from medsec.dissect.slp import SlpDissector
from medsec.dissect.stp import StpDissector
from medsec.dissect.tuya import UDP_KEY, TuyaDissector
from medsec.dissect.ubiquiti import UbiquitiDissector
from medsec.model.observations import Observation, PacketContext
from medsec.model.observations.infrastructure import (
    BacnetMessage,
    FlowExport,
    HsrpMessage,
    ModbusMessages,
    SlpMessage,
    StpBpdu,
    TuyaDiscovery,
    UbiquitiDiscovery,
)

from tests_support.dissect_harness import PROPERTY, ctx, hostile_properties, run_hostile

DISSECTORS: list[Any] = [
    TuyaDissector(),
    StpDissector(),
    HsrpDissector(),
    UbiquitiDissector(),
    NatPmpDissector(),
    SlpDissector(),
    BacnetDissector(),
    ModbusDissector(),
    FlowExportDissector(),
]
L2 = ctx(transport="l2", src_ip=None, dst_ip=None, src_port=0, dst_port=0, ethertype=0)


def contexts(dissector: Any) -> list[PacketContext]:
    """One context per transport the dissector takes, on its first port."""
    port = min(dissector.ports, default=40000)
    out = []
    for transport in sorted(dissector.transports):
        if transport == "l2":
            out.append(L2)
        else:
            out.append(ctx(transport=transport, src_port=port, dst_port=port))
    return out


def run(dissector: Any, data: bytes) -> list[Observation]:
    return run_hostile(dissector, data, contexts(dissector))


# --- builders of valid messages -----------------------------------------------------------


def tuya(beacon: dict[str, Any]) -> bytes:
    plain = json.dumps(beacon).encode()
    pad = 16 - len(plain) % 16
    enc = Cipher(algorithms.AES(UDP_KEY), modes.ECB()).encryptor()
    body = b"\x00\x00\x00\x00" + enc.update(plain + bytes([pad]) * pad) + enc.finalize()
    data = b"\x00\x00\x55\xaa" + struct.pack("!3I", 0, 0x13, len(body) + 8) + body
    return data + struct.pack("!I", binascii.crc32(data)) + b"\x00\x00\xaa\x55"


def bpdu(bridge_mac: bytes, priority: int, port: int) -> bytes:
    return (
        b"\x42\x42\x03\x00\x00\x02\x02\x3c"
        + struct.pack("!H", priority) + bytes.fromhex("00000c000001")
        + struct.pack("!I", 19)
        + struct.pack("!H", priority) + bridge_mac
        + struct.pack("!5H", port, 0, 20 * 256, 2 * 256, 15 * 256) + b"\x00"
    )  # fmt: skip


def hsrp2(group: int, priority: int, vip: bytes) -> bytes:
    value = (
        bytes([2, 0, 6, 4]) + struct.pack("!H", group) + bytes.fromhex("00000c0000aa")
        + struct.pack("!3I", priority, 3000, 10000) + vip + bytes(12)
    )  # fmt: skip
    return bytes([1, len(value)]) + value + b"\x03\x08cisco\x00\x00\x00"


def ubnt(product: bytes, hostname: bytes) -> bytes:
    def tlv(kind: int, value: bytes) -> bytes:
        return bytes([kind]) + struct.pack("!H", len(value)) + value

    body = (
        tlv(0x02, bytes.fromhex("0027220000aa") + bytes([192, 0, 2, 20]))
        + tlv(0x0B, hostname) + tlv(0x0C, product) + tlv(0x16, b"4.3.33")
    )  # fmt: skip
    return b"\x02\x06" + struct.pack("!H", len(body)) + body


def slp_attr_reply(attributes: bytes) -> bytes:
    body = b"\x00\x00" + struct.pack("!H", len(attributes)) + attributes + b"\x00"
    length = 16 + len(body)
    return b"\x02\x07" + length.to_bytes(3, "big") + bytes(5) + b"\x00\x07\x00\x02en" + body


def bacnet_i_am(instance: int, vendor: int) -> bytes:
    apdu = (
        b"\x10\x00\xc4" + struct.pack("!I", 8 << 22 | instance)
        + b"\x22\x05\xc4\x91\x03\x22" + struct.pack("!H", vendor)
    )  # fmt: skip
    npdu = b"\x01\x20\xff\xff\x00\xff" + apdu
    return b"\x81\x0b" + struct.pack("!H", 4 + len(npdu)) + npdu


def modbus_device_id(vendor: bytes, code: bytes) -> bytes:
    pdu = (
        b"\x2b\x0e\x01\x81\x00\x00\x02"
        + bytes([0, len(vendor)]) + vendor + bytes([1, len(code)]) + code
    )  # fmt: skip
    return struct.pack("!HHHB", 1, 0, len(pdu) + 1, 0) + pdu


def sflow(agent: bytes, samples: int) -> bytes:
    return struct.pack("!II", 5, 1) + agent + struct.pack("!4I", 1, 2, 3, samples)


SEEDS: list[bytes] = [
    tuya({"ip": "192.0.2.7", "gwId": "bf01", "encrypt": True, "productKey": "k", "version": "3.3"}),
    bpdu(bytes.fromhex("00000c000002"), 0x8001, 0x8003),
    b"\xaa\xaa\x03\x00\x00\x0c\x01\x0b" + bpdu(bytes(6), 0x8001, 1)[3:],
    bytes([0, 0, 16, 3, 10, 110, 1, 0]) + b"cisco\x00\x00\x00" + bytes([192, 0, 2, 1]),
    hsrp2(920, 90, bytes([192, 0, 2, 1])),
    ubnt(b"UGW3", b"ubnt"),
    b"\x00\x80\x00\x00\x00\x00\x04\xd2\xc6\x33\x64\x07",
    b"\x02\x81\x00\x00" + bytes(20) + bytes(36),
    slp_attr_reply(b"(x-hp-p1=MFG:Hewlett-Packard;MDL:HP LaserJet;CLS:PRINTER;)"),
    bacnet_i_am(1234, 5),
    modbus_device_id(b"Example", b"EX-1") + struct.pack("!HHHB", 2, 0, 3, 1) + b"\x83\x02",
    sflow(bytes([192, 0, 2, 1]), 2),
    struct.pack("!HHIIII", 9, 1, 1, 2, 3, 42) + struct.pack("!HH", 256, 8) + bytes(4),
    struct.pack("!HHIII", 10, 24, 1, 5, 7) + struct.pack("!HH", 2, 8) + bytes(4),
]  # fmt: skip


FRAMING_BYTES = (0x00, 0xFF, 0x7F, 0x80, 0x55, 0xAA, 0x42, 0x01, 0x02, 0x28, 0x81, 0x3E, 0x2B)
"""Bytes that matter to these protocols' framing, favoured by the mutations."""


(
    test_arbitrary_bytes,
    test_mutated_valid_messages,
    test_valid_heads_with_arbitrary_tails,
    test_every_seed_is_recognised_by_some_dissector,
) = hostile_properties(DISSECTORS, SEEDS, FRAMING_BYTES, run)


# --- round trips --------------------------------------------------------------------------

TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s != "")


@PROPERTY
@given(gw_id=TEXT, product_key=TEXT, version=st.sampled_from(["3.1", "3.3", "3.4"]),
       encrypt=st.booleans())  # fmt: skip
def test_tuya_round_trip(gw_id: str, product_key: str, version: str, encrypt: bool) -> None:
    data = tuya({"gwId": gw_id, "productKey": product_key, "version": version, "encrypt": encrypt})
    d = TuyaDissector()
    assert d.signature(data)
    (msg,) = d.dissect(data, ctx(transport="udp", dst_port=6667))
    assert isinstance(msg, TuyaDiscovery)
    assert (msg.gw_id, msg.product_key, msg.version, msg.encrypt) == (
        gw_id,
        product_key,
        version,
        encrypt,
    )


@PROPERTY
@given(mac=st.binary(min_size=6, max_size=6), priority=st.integers(0, 0xFFFF),
       port=st.integers(0, 0xFFFF))  # fmt: skip
def test_stp_round_trip(mac: bytes, priority: int, port: int) -> None:
    (msg,) = StpDissector().dissect(bpdu(mac, priority, port), L2)
    assert isinstance(msg, StpBpdu)
    assert msg.bridge_mac == ":".join(f"{b:02x}" for b in mac)
    assert (msg.bridge_priority, msg.bridge_system_id_extension, msg.port_id) == (
        priority & 0xF000,
        priority & 0x0FFF,
        port,
    )


@PROPERTY
@given(
    group=st.integers(0, 4095), priority=st.integers(0, 255), vip=st.binary(min_size=4, max_size=4)
)
def test_hsrp_round_trip(group: int, priority: int, vip: bytes) -> None:  # fmt: skip
    (msg,) = HsrpDissector().dissect(hsrp2(group, priority, vip), ctx(transport="udp"))
    assert isinstance(msg, HsrpMessage)
    assert (msg.group, msg.priority, msg.virtual_ip) == (group, priority, ".".join(map(str, vip)))
    assert msg.default_authentication is True


@PROPERTY
@given(product=TEXT, hostname=TEXT)
def test_ubiquiti_round_trip(product: str, hostname: str) -> None:
    data = ubnt(product.encode(), hostname.encode())
    d = UbiquitiDissector()
    assert d.signature(data)
    (msg,) = d.dissect(data, ctx(transport="udp"))
    assert isinstance(msg, UbiquitiDiscovery)
    assert (msg.product, msg.hostname, msg.firmware_version) == (product, hostname, "4.3.33")


@PROPERTY
@given(attributes=TEXT.filter(lambda t: ")" not in t))
def test_slp_round_trip(attributes: str) -> None:
    data = slp_attr_reply(f"(x={attributes})".encode())
    d = SlpDissector()
    assert d.signature(data)
    (msg,) = d.dissect(data, ctx(transport="udp", src_port=427))
    assert isinstance(msg, SlpMessage)
    assert (msg.function_name, msg.attributes) == ("AttrRply", f"(x={attributes})")


@PROPERTY
@given(instance=st.integers(0, 0x3FFFFF), vendor=st.integers(0, 0xFFFF))
def test_bacnet_i_am_round_trip(instance: int, vendor: int) -> None:
    data = bacnet_i_am(instance, vendor)
    d = BacnetDissector()
    assert d.signature(data)
    (msg,) = d.dissect(data, ctx(transport="udp", src_port=47808, dst_port=47808))
    assert isinstance(msg, BacnetMessage)
    assert (msg.service, msg.device_instance, msg.vendor_id) == ("i-am", instance, vendor)


@PROPERTY
@given(vendor=TEXT, code=TEXT)
def test_modbus_device_identification_round_trip(vendor: str, code: str) -> None:
    data = modbus_device_id(vendor.encode(), code.encode())
    (msg,) = ModbusDissector().dissect(data, ctx(transport="tcp", src_port=502, dst_port=40000))
    assert isinstance(msg, ModbusMessages)
    assert (msg.role, msg.vendor_name, msg.product_code) == ("server", vendor, code)


@PROPERTY
@given(agent=st.binary(min_size=4, max_size=4), samples=st.integers(0, 0xFFFFFFFF))
def test_sflow_round_trip(agent: bytes, samples: int) -> None:
    data = sflow(agent, samples)
    d = FlowExportDissector()
    assert d.signature(data)
    (msg,) = d.dissect(data, ctx(transport="udp", dst_port=6343))
    assert isinstance(msg, FlowExport)
    assert (msg.agent_address, msg.records) == (".".join(map(str, agent)), samples)
