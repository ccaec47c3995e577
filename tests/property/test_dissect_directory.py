"""LDAP and DRDA dissectors under hostile bytes, round trips, and the Modbus/TCP signature's
strictness (it must not take BER, the way it took Active Directory's LDAP answers).

Arbitrary and mutated inputs make ``signature`` return a bool and ``dissect`` yield
observations or raise ``DissectError`` - nothing else, no hang. Round trips: messages built
from random field values come back with the same facts; secrets never come back.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from medsec.dissect.drda import DrdaDissector, product_id
from medsec.dissect.ldap import LdapDissector
from medsec.dissect.modbus import ModbusDissector
from medsec.model.observations import Observation, PacketContext
from medsec.model.observations.cleartext import CleartextCredentials
from medsec.model.observations.database import DrdaSecurity, DrdaServerAttributes
from medsec.model.observations.directory import (
    LdapBindRequest,
    LdapMessages,
    LdapRootDse,
    LdapSearchRequest,
)

from tests_support.directory_frames import (
    bind_sasl,
    bind_simple,
    ddm,
    dss,
    entry,
    excsat,
    extended_request,
    message,
    result,
    search,
    secmec,
    text,
)
from tests_support.dissect_harness import PROPERTY, ctx, hostile_properties, run_hostile

DISSECTORS: list[Any] = [LdapDissector(), DrdaDissector()]


def contexts(dissector: Any) -> list[PacketContext]:
    """Both directions on the dissector's lowest port (and UDP for connectionless LDAP)."""
    port = min(dissector.ports)
    out = [
        ctx(src_port=40000, dst_port=port, from_client=None),
        ctx(src_port=port, dst_port=40000, from_client=None),
    ]
    if "udp" in dissector.transports:
        out.append(ctx(transport="udp", src_port=port, dst_port=40000, from_client=None))
    return out


def run(dissector: Any, data: bytes) -> list[Observation]:
    return run_hostile(dissector, data, contexts(dissector))


def once(dissector: Any, data: bytes) -> list[Observation]:
    """Facts of ``data`` sent by a client to the dissector's lowest port."""
    return run_hostile(dissector, data, contexts(dissector)[:1])


SEEDS = [
    # LDAP: simple bind, SASL bind, root DSE search and entry (four-octet lengths), StartTLS
    message(1, bind_simple("cn=admin,dc=example,dc=org", b"secret"))
    + message(2, search("", 0, ["supportedCapabilities", "vendorName"])),
    message(1, bind_sasl("GSS-SPNEGO", b"\x60\x82\x01\x00")),
    message(2, entry("", [("supportedCapabilities", ["1.2.840.113556.1.4.800"]),
                          ("domainControllerFunctionality", ["7"])]), four=True)
    + message(2, result(0x65, 0), four=True),
    message(3, extended_request("1.3.6.1.4.1.1466.20037")),
    message(1, result(0x61, 49, "", "80090308: LdapErr: DSID-0C09041C")),
    # DRDA: EXCSAT + ACCSEC (chained), EXCSATRD, SECCHK with a password
    dss(excsat("db2jcc_application", "client", "QDB2/JVM", "JCC04330"), chained=True)
    + dss(ddm(0x106D, secmec(3)), correlation=2),
    dss(excsat("db2sysc", "db2inst1", "QDB2/LINUXX8664", "SQL11055", reply=True), kind=3),
    dss(ddm(0x106E, secmec(3) + text(0x11A0, "db2inst1") + text(0x11A1, "pw")), correlation=2),
]  # fmt: skip
FRAMING_BYTES = (0x00, 0x30, 0x84, 0x02, 0x04, 0x60, 0x61, 0x63, 0x64, 0xD0, 0x10, 0x14, 0xFF)
"""Bytes that matter to BER/LDAP and DSS/DDM framing, favoured by the mutations."""


(
    test_arbitrary_bytes,
    test_mutated_valid_messages,
    test_valid_heads_with_arbitrary_tails,
    test_every_seed_is_recognised_by_some_dissector,
) = hostile_properties(DISSECTORS, SEEDS, FRAMING_BYTES, run)


# --- round trips --------------------------------------------------------------------------

TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)
NAME = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x7F),
    min_size=1,
    max_size=20,
)
EBCDIC_TEXT = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-."), min_size=3,
                      max_size=30)  # fmt: skip


@PROPERTY
@given(
    name=TEXT,
    password=st.binary(min_size=1, max_size=64).map(lambda b: bytes(0x80 | x for x in b)),
    message_id=st.integers(1, 2**31 - 1),
    four=st.booleans(),
)
def test_simple_bind_round_trip_never_keeps_the_password(
    name: str, password: bytes, message_id: int, four: bool
) -> None:
    """The password's bytes are all >= 0x80 and everything else is ASCII: no text of any
    fact may hold a character outside ASCII."""
    data = message(message_id, bind_simple(name, password), four=four)
    found = once(LdapDissector(), data)
    (bind,) = {o for o in found if isinstance(o, LdapBindRequest)}
    assert (bind.version, bind.authentication, bind.password_given) == (3, "simple", True)
    assert {o.user for o in found if isinstance(o, CleartextCredentials)} == {name}
    assert all(o.four_byte_lengths == four for o in found if isinstance(o, LdapMessages))
    assert all(
        isinstance(value, str) is False or value.isascii()
        for o in found
        for value in (getattr(o, f) for f in o.__dataclass_fields__)
    )


@PROPERTY
@given(attributes=st.lists(NAME, min_size=0, max_size=10), scope=st.integers(0, 2))
def test_search_request_round_trip(attributes: list[str], scope: int) -> None:
    data = message(5, search("", scope, attributes))
    (asked,) = {o for o in once(LdapDissector(), data) if isinstance(o, LdapSearchRequest)}
    assert asked.attributes == tuple(attributes)
    assert asked.root_dse == (scope == 0)


@PROPERTY
@given(
    vendor=TEXT,
    version=TEXT,
    level=st.integers(0, 10),
    capabilities=st.lists(st.from_regex(r"1\.2\.840\.113556\.1\.4\.[0-9]{1,4}", fullmatch=True),
                          max_size=8),
)  # fmt: skip
def test_root_dse_round_trip(
    vendor: str, version: str, level: int, capabilities: list[str]
) -> None:
    dse = entry("", [("vendorName", [vendor]), ("vendorVersion", [version]),
                     ("supportedCapabilities", capabilities),
                     ("domainControllerFunctionality", [str(level)])])  # fmt: skip
    context = ctx(src_port=389, dst_port=40000)
    (found,) = [o for o in LdapDissector().dissect(message(1, dse), context)
                if isinstance(o, LdapRootDse)]  # fmt: skip
    assert (found.vendor_name, found.vendor_version) == (vendor, version)
    assert found.supported_capabilities == tuple(capabilities)
    assert found.domain_controller_functionality == level


@PROPERTY
@given(
    server_class=EBCDIC_TEXT,
    name=EBCDIC_TEXT,
    version=st.integers(1, 99),
    release=st.integers(0, 99),
    modification=st.integers(0, 9),
    encoding=st.sampled_from(["cp500", "cp037", "ascii"]),
)
def test_excsatrd_round_trip(
    server_class: str, name: str, version: int, release: int, modification: int, encoding: str
) -> None:
    level = f"SQL{version:02d}{release:02d}{modification}"
    data = dss(excsat(None, name, server_class, level, reply=True, encoding=encoding), kind=3)
    (attrs,) = [o for o in once(DrdaDissector(), data) if isinstance(o, DrdaServerAttributes)]
    assert (attrs.reply, attrs.server_class_name, attrs.server_name) == (True, server_class, name)
    assert attrs.server_release_level == level
    assert (attrs.product_code, attrs.product_version) == (
        "SQL",
        f"{version}.{release}.{modification}",
    )


@PROPERTY
@given(
    user=EBCDIC_TEXT,
    password=st.text(st.sampled_from("qxzjkvwy"), min_size=4, max_size=32),
    mechanism=st.integers(1, 16),
)
def test_secchk_states_a_clear_password_only_for_clear_mechanisms(
    user: str, password: str, mechanism: int
) -> None:
    """User ids are upper case here and passwords of lower-case letters no fact's own text
    holds otherwise: no field of a fact may hold the password."""
    body = secmec(mechanism) + text(0x11A0, user) + text(0x11A1, password)
    found = once(DrdaDissector(), dss(ddm(0x106E, body)))
    (security,) = {o for o in found if isinstance(o, DrdaSecurity)}
    assert security.password_given and security.user_given
    creds = {o for o in found if isinstance(o, CleartextCredentials)}
    assert bool(creds) == (mechanism in (3, 5))
    assert all(c.user == user for c in creds)
    assert not any(
        password in str(getattr(o, f)) for o in found for f in o.__dataclass_fields__ if f != "ctx"
    )


@given(code=st.from_regex(r"[A-Z]{3}", fullmatch=True), digits=st.integers(0, 99999))
def test_product_id_parts(code: str, digits: int) -> None:
    vv, rr, m = digits // 1000, digits // 10 % 100, digits % 10
    assert product_id(f"{code}{vv:02d}{rr:02d}{m}") == (code, f"{vv}.{rr}.{m}")


# --- the Modbus/TCP signature and BER -------------------------------------------------------


@PROPERTY
@given(
    message_id=st.integers(0, 2**31 - 1),
    code=st.sampled_from([0x61, 0x65, 0x67, 0x69, 0x6B, 0x6D, 0x6F, 0x78]),
    result_code=st.integers(0, 80),
    diagnostic=st.text(max_size=60),
    four=st.booleans(),
)
def test_modbus_signature_refuses_ldap_results(
    message_id: int, code: int, result_code: int, diagnostic: str, four: bool
) -> None:
    """Active Directory writes '30 84 00 00 LL LL': an MBAP-like header. No LDAPResult-based
    answer (bind, search done, modify...) is a Modbus ADU, whatever its id and text."""
    data = message(message_id, result(code, result_code, "", diagnostic), four=four)
    assert not ModbusDissector().signature(data)
    assert LdapDissector().signature(data)


@PROPERTY
@given(
    adus=st.lists(
        st.tuples(
            st.integers(0, 0xFFFF),
            st.one_of(st.integers(0, 247), st.just(255)),
            st.sampled_from(
                [
                    b"\x03\x00\x00\x00\x0a",  # read holding registers
                    b"\x04\x04\x00\x01\x00\x02",  # read input registers response
                    b"\x01\x01\x05",  # read coils response
                    b"\x06\x00\x01\x00\x03",  # write single register
                    b"\x10\x00\x01\x00\x01\x02\x00\x07",  # write multiple registers
                    b"\x2b\x0e\x01\x00",  # read device identification
                    b"\x83\x02",  # exception
                ]
            ),
        ),
        min_size=1,
        max_size=16,
    )
)
def test_modbus_signature_takes_whole_spec_adus(adus: list[tuple[int, int, bytes]]) -> None:
    data = b"".join(struct.pack("!HHHB", t, 0, len(p) + 1, u) + p for t, u, p in adus)
    assert ModbusDissector().signature(data)
    assert not ModbusDissector().signature(data[:-1])
