"""Zabbix dissector: ZBXD messages built by the Zabbix protocol documentation (header,
zlib-compressed JSON, passive checks) and the real capture."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect.pipeline import DissectPipeline
from medsec.dissect.zabbix import ZabbixDissector
from medsec.model.errors import DissectError
from medsec.model.observations import PacketContext
from medsec.model.observations.services import ZabbixMessage

from tests_support.dissect_harness import ctx

D = ZabbixDissector()
ACTIVE = ctx(src_port=40000, dst_port=10051)
POLLER = ctx(src_port=40000, dst_port=10050, from_client=None)
AGENT = ctx(src_port=10050, dst_port=40000, from_client=None)


def zbxd(data: bytes, *, compress: bool = False) -> bytes:
    """'ZBXD', flags, data length, reserved (uncompressed length), data."""
    if compress:
        packed = zlib.compress(data)
        return b"ZBXD\x03" + struct.pack("<II", len(packed), len(data)) + packed
    return b"ZBXD\x01" + struct.pack("<II", len(data), 0) + data


def one(data: bytes, context: PacketContext) -> ZabbixMessage:
    (msg,) = D.dissect(data, context)
    assert isinstance(msg, ZabbixMessage)
    return msg


def test_active_checks_request_compressed() -> None:
    doc = {"request": "active checks", "host": "infusion-gw-1", "version": "6.4",
           "host_metadata": "ward 3 patient monitor gateway"}  # fmt: skip
    data = zbxd(json.dumps(doc).encode(), compress=True)
    assert D.signature(data)
    msg = one(data, ACTIVE)
    assert (msg.flags, msg.request, msg.host, msg.version) == (
        3,
        "active checks",
        "infusion-gw-1",
        "6.4",
    )
    assert "ward 3" not in repr(msg)


def test_agent_data_values_not_kept() -> None:
    doc = {"request": "agent data", "session": "abc", "host": "h1",
           "data": [{"itemid": 1, "value": "patient John Doe", "clock": 1}]}  # fmt: skip
    msg = one(zbxd(json.dumps(doc).encode()), ACTIVE)
    assert msg.request == "agent data" and "John" not in repr(msg)


def test_passive_check_key_and_uname_answer() -> None:
    assert one(zbxd(b"system.uname"), POLLER).item_key == "system.uname"
    assert one(zbxd(b"vfs.file.contents[/etc/passwd]"), POLLER).item_key == "vfs.file.contents"
    answer = one(zbxd(b"Linux pacs01 5.15.0-91-generic #101-Ubuntu SMP x86_64"), AGENT)
    assert (answer.uname_sysname, answer.uname_release, answer.item_key) == (
        "Linux",
        "5.15.0-91-generic",
        None,
    )
    assert "pacs01" not in repr(answer)
    # a one-word answer from the agent is a value, not a key
    assert one(zbxd(b"running"), AGENT).item_key is None


@pytest.mark.parametrize(
    "data",
    [
        b"ZBXD\x01\x05",  # header cut short
        b"ZBXD\x00" + b"\x00" * 8,  # protocol flag missing
        b"ZBXD\x03" + struct.pack("<II", 4, 10) + b"nope",  # compressed data does not inflate
    ],
)
def test_malformed(data: bytes) -> None:
    with pytest.raises(DissectError):
        list(D.dissect(data, ACTIVE))


def test_deeply_nested_json_is_contained() -> None:
    msg = one(zbxd(b"{" + b'"a":[' * 5000 + b"]" * 5000 + b"}"), ACTIVE)
    assert msg.request is None


def test_real_zabbix(shared_data: Path) -> None:
    pipeline = DissectPipeline([D])
    read_capture(shared_data / "pcap/ndpi/zabbix.pcap", sink=pipeline)
    found = [o for o in pipeline.observations if isinstance(o, ZabbixMessage)]
    assert {(o.request, o.host, o.version) for o in found if o.request == "active checks"} == {
        ("active checks", "Zabbix6.2-client", "6.2")
    }
    assert {o.item_key for o in found if o.item_key} == {"proc.num"}
    assert {o.ctx.src_ip for o in found if o.response == "success"} == {"192.168.7.17"}
