"""LDAP dissector: RFC 4511 vectors built by the spec, and Zeek's ldap_simpleauth capture
(an Active Directory Global Catalog on TCP 3268 answering simple binds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.ldap import LdapDissector
from medsec.dissect.pipeline import DissectPipeline
from medsec.model.errors import DissectError
from medsec.model.observations import Observation
from medsec.model.observations.cleartext import CleartextCredentials, StartTlsRequest
from medsec.model.observations.directory import (
    LdapBindRequest,
    LdapBindResponse,
    LdapExtendedOperation,
    LdapMessages,
    LdapRootDse,
    LdapSearchRequest,
)
from medsec.model.observations.infrastructure import ModbusMessages

from tests_support.directory_frames import (
    bind_sasl,
    bind_simple,
    entry,
    extended_request,
    message,
    result,
    search,
)
from tests_support.dissect_harness import ctx, payloads

D = LdapDissector()
CLIENT = ctx(src_port=40000, dst_port=389)
SERVER = ctx(src_ip="10.50.0.5", dst_ip="10.10.0.11", src_port=389, dst_port=40000)
GC_SERVER = ctx(src_ip="10.50.0.5", dst_ip="10.10.0.11", src_port=3268, dst_port=40000)
CLDAP = ctx(transport="udp", src_port=389, dst_port=50123)

# frames 4 and 5 of zeek/ldap_simpleauth.pcap: a simple bind as a user principal name with
# the password 'passwor8d1' (Zeek's test capture; never kept), and the Global Catalog's
# bindResponse(1) success written with four-octet lengths (30 84 00 00 00 10 ... 61 84 ...)
REAL_BIND = bytes.fromhex(
    "3032020101602d020103041c78787878787878787878784078782e7878782e78787878782e6e6574"
    "800a70617373776f72386431"
)
REAL_BIND_RESPONSE = bytes.fromhex("3084000000100201016184000000070a010004000400")

# An Active Directory DC's root DSE as MS-ADTS 3.1.1.3.2 describes it (no vendorName)
AD_ROOT_DSE = entry(
    "",
    [
        ("dnsHostName", ["dc1.example.org"]),
        ("serverName", ["CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,"
                        "CN=Configuration,DC=example,DC=org"]),
        ("supportedCapabilities", ["1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670",
                                   "1.2.840.113556.1.4.1791", "1.2.840.113556.1.4.1935",
                                   "1.2.840.113556.1.4.2080", "1.2.840.113556.1.4.2237"]),
        ("supportedLDAPVersion", ["3", "2"]),
        ("supportedSASLMechanisms", ["GSSAPI", "GSS-SPNEGO", "EXTERNAL", "DIGEST-MD5"]),
        ("isGlobalCatalogReady", ["TRUE"]),
        ("domainFunctionality", ["7"]),
        ("forestFunctionality", ["7"]),
        ("domainControllerFunctionality", ["7"]),
    ],
)  # fmt: skip
OPENLDAP_ROOT_DSE = entry(
    "",
    [
        ("objectClass", ["top", "OpenLDAProotDSE"]),
        ("supportedExtension", ["1.3.6.1.4.1.1466.20037", "1.3.6.1.4.1.4203.1.11.3"]),
        ("supportedLDAPVersion", ["3"]),
    ],
)


def facts(data: bytes, context: object = CLIENT) -> list[Observation]:
    return list(D.dissect(data, context))  # type: ignore[arg-type]


def only(kind: type, found: list[Observation]) -> list:  # type: ignore[type-arg]
    return [o for o in found if isinstance(o, kind)]


def test_simple_bind_states_cleartext_credentials_without_the_password() -> None:
    found = facts(REAL_BIND, ctx(src_port=25936, dst_port=3268))
    (summary,) = only(LdapMessages, found)
    assert (summary.role, summary.server_port, summary.operations) == (
        "client",
        3268,
        ("bindRequest",),
    )
    assert not summary.four_byte_lengths
    (bind,) = only(LdapBindRequest, found)
    assert (bind.version, bind.authentication, bind.name_form, bind.password_given) == (
        3,
        "simple",
        "user@domain",
        True,
    )
    (creds,) = only(CleartextCredentials, found)
    assert (creds.protocol, creds.mechanism, creds.user) == (
        "ldap",
        "simple bind",
        "xxxxxxxxxxx@xx.xxx.xxxxx.net",
    )
    assert "passwor8d1" not in repr(found)


def test_global_catalog_answer_with_four_octet_lengths() -> None:
    found = facts(REAL_BIND_RESPONSE, GC_SERVER)
    (summary,) = only(LdapMessages, found)
    assert (summary.role, summary.server_port, summary.four_byte_lengths) == ("server", 3268, True)
    (res,) = only(LdapBindResponse, found)
    assert (res.result_code, res.result_name, res.matched_dn_given) == (0, "success", False)
    assert res.diagnostic_message is None


def test_anonymous_and_unauthenticated_binds_state_no_credentials() -> None:
    anonymous = facts(message(1, bind_simple("", b"")))
    assert only(LdapBindRequest, anonymous)[0].name_form is None
    unauthenticated = facts(message(1, bind_simple("cn=reader,dc=example,dc=org", b"")))
    (bind,) = only(LdapBindRequest, unauthenticated)
    assert (bind.name_form, bind.password_given) == ("dn", False)
    assert not only(CleartextCredentials, anonymous + unauthenticated)


def test_sasl_binds() -> None:
    (gssapi,) = only(LdapBindRequest, facts(message(1, bind_sasl("GSS-SPNEGO", b"\x60\x82"))))
    assert (gssapi.authentication, gssapi.sasl_mechanism, gssapi.name_form) == (
        "sasl",
        "GSS-SPNEGO",
        None,
    )
    # RFC 4616 PLAIN: authzid NUL authcid NUL password, in clear
    plain = facts(message(2, bind_sasl("PLAIN", b"\x00alice\x00s3cret")))
    (creds,) = only(CleartextCredentials, plain)
    assert (creds.mechanism, creds.user) == ("SASL PLAIN", "alice")
    assert "s3cret" not in repr(plain)


def test_down_level_name_and_sicily_bind() -> None:
    (bind,) = only(LdapBindRequest, facts(message(1, bind_simple("EXAMPLE\\alice", b"pw"))))
    assert bind.name_form == "domain\\user"
    # MS-ADTS 5.1.1.1: sicilyPackageDiscovery [9], an empty octet string
    sicily = message(1, b"\x60\x07" + b"\x02\x01\x03" + b"\x04\x00" + b"\x89\x00")
    (discovery,) = only(LdapBindRequest, facts(sicily))
    assert discovery.authentication == "sicily-discovery"


def test_bind_failure_with_an_active_directory_diagnostic() -> None:
    text = "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563"
    (res,) = only(LdapBindResponse, facts(message(1, result(0x61, 49, "", text)), SERVER))
    assert (res.result_code, res.result_name, res.diagnostic_message) == (
        49,
        "invalidCredentials",
        text,
    )
    long = facts(message(1, result(0x61, 49, "dc=example", "x" * 300)), SERVER)
    (res,) = only(LdapBindResponse, long)
    assert res.diagnostic_message is None and res.matched_dn_given


def test_root_dse_search_and_active_directory_entry() -> None:
    request = message(1, search("", 0, ["supportedCapabilities", "dnsHostName", "+"]))
    (asked,) = only(LdapSearchRequest, facts(request))
    assert (asked.root_dse, asked.scope, asked.attributes) == (
        True,
        "baseObject",
        ("supportedCapabilities", "dnsHostName", "+"),
    )
    answer = message(1, AD_ROOT_DSE, four=True) + message(1, result(0x65, 0), four=True)
    found = facts(answer, SERVER)
    assert only(LdapMessages, found)[0].operations == ("searchResEntry", "searchResDone")
    (dse,) = only(LdapRootDse, found)
    assert dse.dns_host_name == "dc1.example.org"
    assert dse.server_name is not None and dse.server_name.startswith("CN=DC1,")
    assert "1.2.840.113556.1.4.800" in dse.supported_capabilities
    assert (dse.domain_controller_functionality, dse.forest_functionality) == (7, 7)
    assert dse.is_global_catalog_ready is True
    assert dse.supported_ldap_versions == (3, 2)
    assert dse.vendor_name is None and "vendorName" not in dse.attribute_names


def test_subtree_search_keeps_neither_base_nor_filter() -> None:
    assertion = b"\xa3\x14" + b"\x04\x0esAMAccountName" + b"\x04\x02jd"
    found = facts(message(2, search("DC=example,DC=org", 2, ["cn"], assertion)))
    (asked,) = only(LdapSearchRequest, found)
    assert (asked.root_dse, asked.scope, asked.attributes) == (False, "wholeSubtree", ("cn",))
    assert "example" not in repr(found) and "jd" not in repr(asked)


def test_entries_other_than_the_root_dse_are_not_read() -> None:
    person = entry("CN=Jane Doe,OU=Staff,DC=example,DC=org", [("mail", ["jane@example.org"])])
    found = facts(message(3, person), SERVER)
    assert not only(LdapRootDse, found)
    assert "Jane" not in repr(found)


def test_openldap_root_dse_and_vendor_attributes() -> None:
    (dse,) = only(LdapRootDse, facts(message(1, OPENLDAP_ROOT_DSE), SERVER))
    assert dse.object_classes == ("top", "OpenLDAProotDSE")
    assert dse.supported_extensions[0] == "1.3.6.1.4.1.1466.20037"
    vendor = entry("", [("vendorName", ["389 Project"]),
                        ("vendorVersion", ["389-Directory/1.4.3.4 B2020.077.00"])])  # fmt: skip
    (dse,) = only(LdapRootDse, facts(message(1, vendor), SERVER))
    assert (dse.vendor_name, dse.vendor_version) == (
        "389 Project",
        "389-Directory/1.4.3.4 B2020.077.00",
    )


def test_start_tls_request_ends_the_clear_part() -> None:
    data = message(1, extended_request("1.3.6.1.4.1.1466.20037")) + b"\x16\x03\x01\x02\x00\x01"
    found = facts(data)
    (start,) = only(StartTlsRequest, found)
    assert (start.protocol, start.command) == ("ldap", "1.3.6.1.4.1.1466.20037")
    (ext,) = only(LdapExtendedOperation, found)
    assert (ext.response, ext.name) == (False, "1.3.6.1.4.1.1466.20037")
    answer = result(0x78, 0, extra=b"\x8a\x16" + b"1.3.6.1.4.1.1466.20037")
    (ext,) = only(LdapExtendedOperation, facts(message(1, answer), SERVER))
    assert (ext.response, ext.name, ext.result_code) == (True, "1.3.6.1.4.1.1466.20037", 0)


def test_connectionless_ldap_ping() -> None:
    """An LDAP ping answer over UDP (MS-ADTS 6.3.3): one root DSE entry with Netlogon."""
    ping = message(7, entry("", [("netlogon", [b"\x17\x00\x00\x00\xfd\x03"])]))
    found = facts(ping + message(7, result(0x65, 0)), CLDAP)
    (dse,) = only(LdapRootDse, found)
    assert dse.attribute_names == ("netlogon",)


def test_head_cut_inside_a_later_message_ends_quietly() -> None:
    data = message(1, bind_simple("", b"")) + message(2, search("", 0, ["*"]))[:9]
    found = facts(data)
    assert only(LdapMessages, found)[0].operations == ("bindRequest", "searchRequest")
    assert not only(LdapSearchRequest, found)  # the cut search: its kind only


def test_head_cut_inside_its_first_message_keeps_the_operation() -> None:
    big = message(1, AD_ROOT_DSE, four=True)
    found = facts(big[:100], SERVER)
    (summary,) = found
    assert isinstance(summary, LdapMessages)
    assert (summary.operations, summary.role, summary.four_byte_lengths) == (
        ("searchResEntry",),
        "server",
        True,
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x30", "header"),
        (b"\x30\x80\x02\x01\x01\x42\x00\x00\x00", "length form"),
        (b"\x30\x05\x02\x04\x01\x42\x00", "runs past"),  # messageID past its message
        (b"\x30\x05\x02\x01\x01\x62\x00", "protocolOp"),  # [APPLICATION 2] constructed
        (b"\x30\x05\x02\x01\x01\x5f\x00", "multi-octet tag"),
        (b"\x30\x05\x02\x01\xff\x42\x00", "negative messageID"),
        (b"\x04\x03abc", "expected 0x30"),
    ],
)
def test_malformed_first_message(data: bytes, reason: str) -> None:
    with pytest.raises(DissectError, match=reason):
        facts(data)


def test_signature() -> None:
    assert D.signature(REAL_BIND)
    assert D.signature(REAL_BIND_RESPONSE)
    assert D.signature(message(1, AD_ROOT_DSE, four=True)[:40])  # a first segment of an entry
    assert D.signature(message(9, b"\x42\x00"))  # unbindRequest
    for other in (
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",  # TLS ClientHello
        b"GET / HTTP/1.1\r\n",
        b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x0a",  # Modbus request
        b"\x30\x0c\x02\x01\x01\x60\x20" + bytes(5),  # bindRequest longer than its message
        b"\x30\x0c\x02\x01\x01\x74\x07" + bytes(5),  # [APPLICATION 20]: not assigned
        b"\x30\x82\x01\x00\x02\x01\x01",  # cut before the protocolOp
    ):
        assert not D.signature(other), other


def test_real_capture_heads(shared_data: Path) -> None:
    heads = list(payloads(shared_data / "pcap/zeek/ldap_simpleauth.pcap"))
    found = [o for p in heads for o in D.dissect(p.data, p.ctx)]
    client, server = only(LdapMessages, found)
    assert client.operations == ("bindRequest", "searchRequest")
    assert server.operations == ("bindResponse", "searchResEntry", "searchResDone")
    assert (server.role, server.server_port, server.four_byte_lengths) == ("server", 3268, True)
    users = [c.user for c in only(CleartextCredentials, found)]
    assert users == [
        "xxxxxxxxxxx@xx.xxx.xxxxx.net",
        "CN=xxxxxxxx,OU=Users,OU=Accounts,DC=xx,DC=xxx,DC=xxxxx,DC=net",
    ]
    # the two identical bindResponse(success) of the stream are one fact
    assert [r.result_name for r in only(LdapBindResponse, found)] == ["success"]
    # the search's base DN and its filter (sAMAccountName=xxxxxxxx) are not kept
    (asked,) = only(LdapSearchRequest, found)
    assert (asked.root_dse, asked.attributes) == (False, ("sAMAccountName",))


def test_real_capture_through_the_engine_is_ldap_not_modbus(shared_data: Path) -> None:
    pipeline = DissectPipeline(default_dissectors())
    read_capture(shared_data / "pcap/zeek/ldap_simpleauth.pcap", sink=pipeline)
    assert pipeline.stats.failures == 0 and pipeline.stats.malformed == 0
    assert set(pipeline.apps.values()) == {"ldap"}
    assert not only(ModbusMessages, pipeline.observations)
    servers = [o for o in only(LdapMessages, pipeline.observations) if o.role == "server"]
    assert [(o.ctx.src_ip, o.server_port) for o in servers] == [("10.0.0.2", 3268)]
