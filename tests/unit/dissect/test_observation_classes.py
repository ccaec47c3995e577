"""Observation classes: frozen, slotted, keyword-only dataclasses whose equality, hash and
repr (written once on ``Observation``) behave as a dataclass's would."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from medsec.model.observations import Observation, PacketContext
from medsec.model.observations.management import NtpMessage
from medsec.model.observations.naming import DnsAddressRecord, DnsPointerRecord

CTX = PacketContext(
    ts_ns=1,
    transport="udp",
    src_ip="10.0.0.1",
    dst_ip="10.0.0.2",
    src_port=123,
    dst_port=123,
    src_mac=None,
    dst_mac=None,
    vlan=0,
    ethertype=0x0800,
    flow_id=0,
    from_client=None,
)


def ntp(**changes: object) -> NtpMessage:
    fields: dict[str, object] = {"ctx": CTX, "version": 4, "mode": 3, "mode_name": "client"}
    fields.update({"leap_indicator": 0, "stratum": 2}, **changes)
    return NtpMessage(**fields)  # type: ignore[arg-type]


def test_equal_by_class_and_every_field() -> None:
    assert ntp() == ntp() and hash(ntp()) == hash(ntp())
    assert ntp() != ntp(stratum=3)
    assert ntp() != ntp(ctx=dataclasses.replace(CTX, ts_ns=2))  # ctx is a field too
    assert len({ntp(), ntp(), ntp(mode=4)}) == 2


def test_other_classes_with_the_same_fields_are_not_equal() -> None:
    a = DnsAddressRecord(
        ctx=CTX, service="dns", name="a", ttl=1, section="answer", response=True, address="1.1"
    )
    assert a != ntp()
    fields = {f.name: getattr(a, f.name) for f in dataclasses.fields(a)}
    fields.pop("address")
    assert DnsPointerRecord(**fields, target="x") != a  # type: ignore[arg-type]


def test_repr_names_the_class_and_its_fields_like_a_dataclass() -> None:
    text = repr(ntp())
    assert text.startswith("NtpMessage(ctx=PacketContext(ts_ns=1, ")
    assert "mode_name='client'" in text and text.endswith("poll=None)")


def test_frozen_slotted_and_keyword_only() -> None:
    message = ntp()
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.stratum = 5  # type: ignore[misc]
    assert not hasattr(message, "__dict__")
    with pytest.raises(TypeError):
        NtpMessage(CTX, 4, 3, "client", 0)  # type: ignore[misc]
    assert isinstance(message, Observation)


def test_fields_cannot_be_deleted_and_unknown_names_not_added() -> None:
    message = ntp()
    with pytest.raises(dataclasses.FrozenInstanceError):
        del message.stratum  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.extra = 1  # type: ignore[attr-defined]
    assert message.stratum == 2


def test_constructor_takes_defaults_and_refuses_missing_or_unknown_arguments() -> None:
    message = ntp()
    assert message.poll is None  # declared default
    with pytest.raises(TypeError, match="missing keyword argument 'mode'"):
        NtpMessage(ctx=CTX, version=4, mode_name="client")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword arguments \\['colour'\\]"):
        ntp(colour="red")
    with pytest.raises(TypeError):
        NtpMessage(CTX, version=4, mode=3, mode_name="client")  # type: ignore[misc]


def test_replace_copy_and_pickle_make_equal_values() -> None:
    message = ntp()
    assert dataclasses.replace(message, stratum=3) == ntp(stratum=3)
    assert copy.copy(message) == message and copy.deepcopy(message) == message
    again = pickle.loads(pickle.dumps(message))
    assert again == message and type(again) is NtpMessage
    assert {f.name for f in dataclasses.fields(message)} >= {"ctx", "version", "poll"}
