"""``observation_labels`` gives what ``edge_labels`` gives for the facts of the observations,
whatever their fields hold (it reads only the fields the rules name, without making facts)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st

from medsec.identify.facts import fact_of
from medsec.identify.flow_labels import (
    EdgeKey,
    edge_labels,
    label_rules,
    observation_labels,
)
from medsec.model.observations import Observation, PacketContext, observation

# Classes named as the kinds the rules read (a kind is its class's name), each with the
# fields the rules read and others; some lack a field the rules read.


@observation
class Hl7Message(Observation):
    PROTOCOL: ClassVar[str] = "hl7"
    carries_phi: Any = None
    message_type: Any = None


@observation
class DicomCommand(Observation):  # no carries_phi: a rule's field it does not have
    PROTOCOL: ClassVar[str] = "dicom"
    command_field: Any = None


@observation
class TlsClientHello(Observation):
    PROTOCOL: ClassVar[str] = "tls"
    server_name: Any = None
    alpn: Any = None


@observation
class HttpRequest(Observation):
    PROTOCOL: ClassVar[str] = "http"
    host: Any = None
    basic_auth: Any = None
    path: Any = None


@observation
class SnmpMessage(Observation):
    PROTOCOL: ClassVar[str] = "snmp"
    community: Any = None


@observation
class CleartextCredentials(Observation):
    PROTOCOL: ClassVar[str] = "credentials"
    protocol: Any = None


@observation
class StartTlsRequest(Observation):
    PROTOCOL: ClassVar[str] = "smtp"
    command: Any = None


@observation
class DnsAddressRecord(Observation):
    PROTOCOL: ClassVar[str] = "dns"
    name: Any = None
    address: Any = None
    response: Any = None


@observation
class DnsAliasRecord(Observation):
    PROTOCOL: ClassVar[str] = "dns"
    name: Any = None
    target: Any = None
    response: Any = None


@observation
class NtpMessage(Observation):  # a kind that labels nothing
    PROTOCOL: ClassVar[str] = "ntp"
    host: Any = None


KINDS = (
    Hl7Message,
    DicomCommand,
    TlsClientHello,
    HttpRequest,
    SnmpMessage,
    CleartextCredentials,
    StartTlsRequest,
    DnsAddressRecord,
    DnsAliasRecord,
    NtpMessage,
)
IPS = ("10.0.0.5", "10.0.0.9", "52.1.2.3")
PORTS = (25, 443, 40000)
NAMES = ("remote.philips.com", "Remote.Philips.COM.", "cdn.example.net", "52.1.2.3",
         "[::1]", "host:8080", " a.b ", "")  # fmt: skip
VALUES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from((None, True, False, 1, 0, "", (), [], "yes")),
    st.sampled_from(NAMES + IPS),
)
ips = st.sampled_from(IPS)
names = st.sampled_from(NAMES)
FIELDS = {  # values that make DNS answers name edges, mostly
    "address": st.one_of(ips, VALUES),
    "name": st.one_of(names, VALUES),
    "target": st.one_of(names, VALUES),
    "response": st.one_of(st.just(True), VALUES),
}
ports = st.sampled_from(PORTS)
transports = st.sampled_from(("tcp", "udp"))
Flow = tuple[EdgeKey, int, str | None]


@st.composite
def flows(draw: st.DrawFn) -> list[Flow]:
    return draw(
        st.lists(
            st.tuples(
                st.tuples(ips, ips, transports, ports),
                ports,
                st.sampled_from((None, "hl7", "smtp", "tls")),
            ),
            min_size=1,
            max_size=8,
        )
    )


@st.composite
def observed(draw: st.DrawFn, flows: list[Flow]) -> list[Observation]:
    """Observations of the kinds the rules read, most of them on one of the flows."""
    out = []
    for _ in range(draw(st.integers(0, 16))):
        (client, server, transport, server_port), client_port, _ = draw(st.sampled_from(flows))
        ends: list[tuple[str | None, int]] = [(client, client_port), (server, server_port)]
        if draw(st.booleans()):  # the reply
            ends.reverse()
        if draw(st.integers(0, 5)) == 0:  # or anywhere
            ends = [(draw(st.one_of(st.none(), ips)), draw(ports)), (draw(ips), draw(ports))]
            transport = draw(transports)
        (src_ip, src_port), (dst_ip, dst_port) = ends
        where = PacketContext(
            ts_ns=0,
            transport=transport,  # type: ignore[arg-type]
            src_ip=src_ip,
            dst_ip=dst_ip,
            src_port=src_port,
            dst_port=dst_port,
            src_mac=None,
            dst_mac=None,
            vlan=0,
            ethertype=0x0800,
            flow_id=1,
            from_client=None,
        )
        kind = draw(st.sampled_from(KINDS))
        names = [f.name for f in dataclasses.fields(kind) if f.name != "ctx"]
        out.append(kind(ctx=where, **{n: draw(FIELDS.get(n, VALUES)) for n in names}))
    return out


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_observation_labels_are_the_labels_of_their_facts(data: st.DataObject) -> None:
    edges = data.draw(flows())
    seen = data.draw(observed(edges))
    expected = edge_labels(edges, [fact_of(o) for o in seen])
    assert observation_labels(edges, seen) == expected


def test_the_fields_read_are_those_the_rules_name() -> None:
    rules = label_rules()
    assert rules.fields_read("HttpRequest") == ("basic_auth", "host")
    assert rules.fields_read("SnmpMessage") == ("community",)
    assert rules.fields_read("CleartextCredentials") == ()  # a test without a field
    assert set(rules.fields_read("DnsAddressRecord")) == {"response", "name", "address"}
    assert rules.fields_read("NtpMessage") == ()


def test_dns_answers_seen_anywhere_name_an_edge_through_an_alias() -> None:
    web: EdgeKey = ("10.0.0.5", "52.1.2.3", "tcp", 443)
    dns = PacketContext(ts_ns=0, transport="udp", src_ip="10.0.0.53", dst_ip="10.0.0.5",
                        src_port=53, dst_port=5353, src_mac=None, dst_mac=None, vlan=0,
                        ethertype=0x0800, flow_id=2, from_client=False)  # fmt: skip
    seen: list[Observation] = [
        DnsAliasRecord(
            ctx=dns, name="update.vendor.example", target="CDN.example.net.", response=True
        ),  # fmt: skip
        DnsAddressRecord(ctx=dns, name="cdn.example.net", address="52.1.2.3", response=True),
    ]
    labels = observation_labels([(web, 40001, None)], seen)
    assert labels == edge_labels([(web, 40001, None)], [fact_of(o) for o in seen])
    assert labels[web].destination_name == "update.vendor.example"
