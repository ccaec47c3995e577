"""Edge labels from one capture's flows and facts."""

from __future__ import annotations

from typing import Any

import pytest

from medsec.identify.facts import Fact
from medsec.identify.flow_labels import EdgeLabels, edge_labels

HL7 = ("10.0.0.5", "10.0.0.9", "tcp", 2575)
WEB = ("10.0.0.5", "52.1.2.3", "tcp", 443)
SMTP = ("10.0.0.5", "10.0.0.25", "tcp", 25)


def fact(kind: str, src: str, sport: int, dst: str, dport: int, **fields: Any) -> Fact:
    return Fact(kind, kind.lower(), 0, "tcp", src, dst, sport, dport, None, None, 0, 1, fields)


def test_labels_from_facts_of_either_direction() -> None:
    flows = [(HL7, 40000, "hl7"), (WEB, 40001, "tls"), (SMTP, 40002, "smtp")]
    facts = [
        fact("Hl7Message", "10.0.0.9", 2575, "10.0.0.5", 40000, carries_phi=True),  # the reply
        fact(
            "TlsClientHello", "10.0.0.5", 40001, "52.1.2.3", 443, server_name="Remote.Philips.com."
        ),
        fact("CleartextCredentials", "10.0.0.5", 40002, "10.0.0.25", 25, protocol="smtp"),
        fact("StartTlsRequest", "10.0.0.5", 40002, "10.0.0.25", 25, command="STARTTLS"),
    ]
    labels = edge_labels(flows, facts)
    assert labels[HL7] == EdgeLabels(cleartext=True, phi=True)
    assert labels[WEB] == EdgeLabels(destination_name="remote.philips.com")
    assert labels[SMTP] == EdgeLabels(cleartext=False, credentials_in_clear=True)


def test_dns_answers_name_external_servers_through_aliases() -> None:
    flows = [(WEB, 40001, None)]
    facts = [
        fact(
            "DnsAliasRecord",
            "10.0.0.53",
            53,
            "10.0.0.5",
            5353,
            name="update.vendor.example",
            target="cdn.example.net",
            response=True,
        ),
        fact(
            "DnsAddressRecord",
            "10.0.0.53",
            53,
            "10.0.0.5",
            5353,
            name="cdn.example.net",
            address="52.1.2.3",
            response=True,
        ),
    ]
    assert edge_labels(flows, facts)[WEB].destination_name == "update.vendor.example"


def test_ip_literals_are_not_names_and_unlabelled_edges_are_left_out() -> None:
    flows = [(WEB, 40001, "http"), (HL7, 40000, None)]
    facts = [fact("HttpRequest", "10.0.0.5", 40001, "52.1.2.3", 443, host="52.1.2.3:443")]
    labels = edge_labels(flows, facts)
    assert labels[WEB].destination_name is None and labels[WEB].cleartext
    assert HL7 not in labels


def test_the_kinds_that_can_label_an_edge() -> None:
    from medsec.identify.flow_labels import label_rules

    kinds = label_rules().kinds
    for kind in ("Hl7Message", "DicomCommand", "FhirInteraction", "CleartextCredentials",
                 "HttpRequest", "SnmpMessage", "TlsClientHello", "DnsAddressRecord",
                 "DnsAliasRecord", "StartTlsRequest"):  # fmt: skip
        assert kind in kinds, kind
    assert "NtpMessage" not in kinds


@pytest.mark.parametrize("name", ["network/flow_labels.yaml", "devices/identifiers.yaml"])
def test_shipped_data_reads_the_same_with_the_c_loader(name: str) -> None:
    from importlib import resources

    import yaml

    from medsec.identify.rules import SAFE_LOADER

    text = resources.files("medsec.rules").joinpath(name).read_text()
    assert yaml.load(text, Loader=SAFE_LOADER) == yaml.safe_load(text)  # noqa: S506
