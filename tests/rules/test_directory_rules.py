"""The LDAP and DRDA fingerprint rules (fingerprints/directory.yaml, drda.yaml): conditions
name real observation fields, the real captures identify as the packets show, and facts
built by the specifications identify as the public documents say."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.pipeline import DissectPipeline
from medsec.identify.engine import IdentifyEngine, Identity
from medsec.identify.facts import fact_of
from medsec.identify.flow_labels import edge_labels
from medsec.identify.rules import Rule, load_file, load_rules
from medsec.model.observations import Observation
from medsec.model.observations import database as database_observations
from medsec.model.observations import directory as directory_observations
from medsec.model.observations.database import DrdaServerAttributes
from medsec.model.observations.directory import LdapMessages, LdapRootDse

from tests_support.dissect_harness import ctx

FINGERPRINTS = Path(__file__).parents[2] / "src/medsec/rules/fingerprints"
FILES = {"directory.yaml": directory_observations, "drda.yaml": database_observations}
SERVER = ctx(src_ip="10.50.0.5", dst_ip="10.10.0.11", src_port=389, dst_port=40000)


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules()


def identify(observations: list[Observation], rules: list[Rule]) -> dict[str, Identity]:
    engine = IdentifyEngine(rules)
    engine.feed(observations)
    return {i.host: i for i in engine.identities()}


def capture(path: Path) -> DissectPipeline:
    pipeline = DissectPipeline(default_dissectors())
    read_capture(path, sink=pipeline)
    return pipeline


@pytest.mark.parametrize("name", sorted(FILES))
def test_conditions_name_fields_of_the_observations(name: str) -> None:
    module = FILES[name]
    for rule in load_file(FINGERPRINTS / name):
        for condition in rule.conditions:
            kind = getattr(module, condition.observation, None)
            assert kind is not None, (rule.id, condition.observation)
            fields = {f.name for f in dataclasses.fields(kind)}
            assert condition.field in fields, (rule.id, condition.field)


def test_global_catalog_capture(shared_data: Path, rules: list[Rule]) -> None:
    """zeek/ldap_simpleauth.pcap: 10.0.0.2 answers LDAP binds on 3268 in four-octet BER."""
    pipeline = capture(shared_data / "pcap/zeek/ldap_simpleauth.pcap")
    ids = identify(pipeline.observations, rules)
    gc = ids["10.0.0.2"]
    assert gc.get("category") == "server"
    assert gc.get("os") == "Windows"
    assert "10.0.0.1" not in ids or ids["10.0.0.1"].get("os") is None  # short BER lengths
    # both simple binds carried a password: the edge is labelled
    key = ("10.0.0.1", "10.0.0.2", "tcp", 3268)
    labels = edge_labels([(key, 25936, "ldap")], [fact_of(o) for o in pipeline.observations])
    assert labels[key].credentials_in_clear


def test_db2_capture(shared_data: Path, rules: list[Rule]) -> None:
    """ndpi/drda_db2.pcap: EXCSATRD 'QDB2/LINUX' 'SQL08024' from 192.168.106.128."""
    pipeline = capture(shared_data / "pcap/ndpi/drda_db2.pcap")
    ids = identify(pipeline.observations, rules)
    db2 = ids["192.168.106.128"]
    assert db2.get("category") == "server"
    assert db2.get("os") == "Linux"
    assert "DB2/8.2.4" in db2.all("software")
    client = ids["192.168.106.1"]
    assert client.get("category") is None
    assert client.all("software") == ["IBM Data Server Driver for JDBC and SQLJ/2.10.0"]
    key = ("192.168.106.1", "192.168.106.128", "tcp", 50000)
    labels = edge_labels([(key, 4847, "drda")], [fact_of(o) for o in pipeline.observations])
    assert labels[key].credentials_in_clear


def root_dse(
    attribute_names: tuple[str, ...] = ("supportedCapabilities",), **fields: object
) -> LdapRootDse:
    return LdapRootDse(ctx=SERVER, attribute_names=attribute_names, server_port=389, **fields)  # type: ignore[arg-type]


def test_active_directory_root_dse(rules: list[Rule]) -> None:
    dse = root_dse(
        attribute_names=("supportedCapabilities", "domainControllerFunctionality"),
        supported_capabilities=("1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670"),
        domain_controller_functionality=6,
    )
    dc = identify([dse], rules)["10.50.0.5"]
    assert (dc.get("category"), dc.get("os"), dc.get("os_version")) == (
        "server",
        "Windows",
        "2012 R2",
    )


def test_samba_root_dse_is_not_windows(rules: list[Rule]) -> None:
    dse = root_dse(
        attribute_names=("supportedCapabilities", "vendorName", "vendorVersion"),
        supported_capabilities=("1.2.840.113556.1.4.800",),
        domain_controller_functionality=4,
        vendor_name="Samba Team (https://www.samba.org)",
        vendor_version="4.19.9",
    )
    samba = identify([dse], rules)["10.50.0.5"]
    assert samba.get("os") is None and samba.get("os_version") is None
    assert "Samba/4.19.9" in samba.all("software")


@pytest.mark.parametrize(
    ("fields", "software"),
    [
        ({"object_classes": ("top", "OpenLDAProotDSE")}, "OpenLDAP"),
        ({"vendor_version": "389-Directory/1.4.3.4 B2020.077.00"}, "389 Directory Server/1.4.3.4"),
        ({"vendor_name": "Apache Software Foundation", "vendor_version": "2.0.0-M24"},
         "ApacheDS/2.0.0"),
        ({"vendor_version": "LDAP Agent for NetIQ eDirectory 9.0 (40002.38)"}, "eDirectory/9.0"),
    ],
)  # fmt: skip
def test_directory_products(fields: dict[str, object], software: str, rules: list[Rule]) -> None:
    host = identify([root_dse(("vendorName",), **fields)], rules)["10.50.0.5"]
    assert software in host.all("software")
    assert host.get("os") is None


def test_ldap_server_off_the_global_catalog_port_is_a_server_of_no_known_os(
    rules: list[Rule],
) -> None:
    answer = LdapMessages(
        ctx=SERVER,
        role="server",
        server_port=389,
        operations=("bindResponse",),
        four_byte_lengths=False,
    )
    host = identify([answer], rules)["10.50.0.5"]
    assert (host.get("category"), host.get("os")) == ("server", None)


@pytest.mark.parametrize(
    ("server_class", "os"),
    [
        ("QDB2/LINUXX8664", "Linux"),
        ("QDB2/NT64", "Windows"),
        ("QDB2/AIX64", "AIX"),
        ("QDB2/6000", "AIX"),
        ("QDB2/SUN64", "Solaris"),
        ("QDB2/HPUX", "HP-UX"),
        ("QDB2", "z/OS"),
        ("QAS", "IBM i"),
        ("QDB2/JVM", None),
    ],
)
def test_db2_server_classes(server_class: str, os: str | None, rules: list[Rule]) -> None:
    reply = DrdaServerAttributes(ctx=SERVER, reply=True, server_class_name=server_class)
    host = identify([reply], rules)["10.50.0.5"]
    assert host.get("os") == os
    assert host.get("category") == "server"


def test_db2_class_of_a_requester_says_nothing(rules: list[Rule]) -> None:
    request = DrdaServerAttributes(ctx=SERVER, reply=False, server_class_name="QDB2/NT64")
    assert "10.50.0.5" not in identify([request], rules)


def test_derby_network_server(rules: list[Rule]) -> None:
    reply = DrdaServerAttributes(
        ctx=SERVER,
        reply=True,
        server_class_name="Apache Derby",
        server_release_level="CSS10140/10.14.2.0 - (1828579)",
        product_code="CSS",
        product_version="10.14.0",
    )
    host = identify([reply], rules)["10.50.0.5"]
    assert "Apache Derby/10.14.2.0" in host.all("software")
