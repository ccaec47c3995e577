"""Misconfigurations from built inputs: default credentials (certain, possible, seen in use),
management in clear (Telnet, FTP, HTTP Basic, SNMPv1/v2c with and without a well-known
community), end-of-life OS on a given day, bad certificates on clinical services; and, with
hypothesis, arbitrary facts and arbitrary data files never raise anything but RuleError."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsec.assess.misconfig import (
    KINDS,
    Conversation,
    DeviceFacts,
    Evidence,
    HeldAddress,
    Misconfiguration,
    Sighting,
    find_misconfigurations,
    parse_default_credentials,
    parse_end_of_life,
)
from medsec.model.errors import RuleError

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 22)
MANAGER = "10.0.9.9"


def device(
    ip: str = "10.0.0.5",
    *,
    device_id: int = 1,
    vendor: str | None = None,
    model: str | None = None,
    os: str | None = None,
    os_version: str | None = None,
    medical: bool = False,
    category: str = "unknown",
    services: tuple[str, ...] = (),
    held: tuple[datetime, datetime] = (T0 - timedelta(days=30), T0 + timedelta(days=30)),
) -> DeviceFacts:
    return DeviceFacts(
        device_id=device_id,
        shown=ip,
        category=category,
        medical=medical,
        vendor=vendor,
        model=model,
        os=os,
        os_version=os_version,
        addresses=(HeldAddress(ip, *held),),
        services=services,
        model_confidence=70,
        os_confidence=60,
        model_evidence=(Evidence("DpwsDeviceMetadata", T0, None, None, None, 3, "model"),),
        os_evidence=(Evidence("SmbNegotiate", T0, None, None, None, 4, "os_version"),),
    )


def edge(
    server: str,
    port: int,
    app: str,
    *,
    client: str = MANAGER,
    cleartext: bool = True,
    credentials: bool = False,
    transport: str = "tcp",
) -> Conversation:
    return Conversation(
        client, server, transport, port, (app,), cleartext, credentials, T0, T0 + timedelta(1), 2
    )


def seen(
    kind: str,
    src: str,
    dst: str,
    sport: int,
    dport: int,
    facts: dict[str, Any],
    *,
    at: datetime = T0,
    transport: str = "tcp",
) -> Sighting:
    return Sighting(kind, at, src, dst, sport, dport, transport, 7, facts)


def run(
    devices: list[DeviceFacts],
    conversations: list[Conversation] = (),  # type: ignore[assignment]
    sightings: list[Sighting] = (),  # type: ignore[assignment]
    *,
    as_of: date = TODAY,
    kinds: tuple[str, ...] = KINDS,
) -> list[Misconfiguration]:
    return find_misconfigurations(devices, conversations, sightings, as_of=as_of, kinds=kinds)


def text_of(found: list[Misconfiguration]) -> str:
    return repr(found)


def snmp(
    src: str, dst: str, pdu: str, community: str | None, version: str = "2c", **more: Any
) -> Sighting:
    facts = {"version": version, "community": community, "pdu_type": pdu, **more}
    sport, dport = (161, 40000) if pdu in ("get-response", "report") else (40000, 161)
    if pdu in ("trap", "snmpV2-trap"):
        sport, dport = 40000, 162
    return seen("SnmpMessage", src, dst, sport, dport, facts, transport="udp")


# ---------------------------------------------------------------- default credentials


def test_a_ge_nm_750b_has_the_insite_account_and_a_login_with_it_is_critical() -> None:
    nm = device(vendor="GE Healthcare", model="Discovery NM750b", medical=True)
    login = seen(
        "CleartextCredentials",
        MANAGER,
        "10.0.0.5",
        50000,
        23,
        {"protocol": "telnet", "mechanism": "telnet login", "user": "insite"},
    )
    found = run([nm], [edge("10.0.0.5", 23, "telnet", credentials=True)], [login])
    (creds,) = [m for m in found if m.kind == "default_credentials" and "NM 750b" in m.basis]
    assert creds.severity == "critical"
    assert "ICSMA-18-037-02" in creds.title and "CVE-2013-7404" in creds.reference
    assert "insite" in creds.basis and "serves telnet" in creds.basis
    assert "a login as a listed account was seen on the wire" in creds.basis
    assert creds.evidence[0].observation == "CleartextCredentials"
    assert creds.evidence[0].peer == MANAGER and creds.evidence[0].port == 23
    assert creds.url == "https://www.cisa.gov/news-events/ics-medical-advisories/icsma-18-037-02"
    # the same product line without the login is a lesser finding; so is telnet in clear
    telnet = [m for m in found if m.kind == "management_in_clear"]
    assert telnet and telnet[0].severity == "high" and "'insite'" in telnet[0].basis


def test_a_product_line_that_includes_affected_models_is_possible_and_low() -> None:
    line = device(vendor="GE HealthCare", model="Discovery NM / NM/CT", medical=True)
    found = run([line], kinds=("default_credentials",))
    assert found and all(m.severity == "low" and "(possible)" in m.title for m in found)
    assert any("may be one of them" in m.basis for m in found)


def test_a_served_interface_of_the_hard_coded_account_raises_the_severity() -> None:
    pump = device(vendor="Baxter", model="Sigma Spectrum", medical=True, services=("ftp",))
    (finding,) = run([pump], kinds=("default_credentials",))
    assert finding.severity == "high"
    assert "ICSMA-20-170-04" in finding.title and "the device serves ftp" in finding.basis
    (alone,) = run(
        [device(vendor="Baxter", model="Sigma Spectrum")], kinds=("default_credentials",)
    )
    assert alone.severity == "high"  # network attack vector by itself
    (physical,) = run(
        [device(vendor="Hamilton Medical", model="HAMILTON-T1")], kinds=("default_credentials",)
    )
    assert physical.severity == "low" and "physical" in physical.basis


def test_no_credential_finding_without_vendor_and_model_that_match() -> None:
    assert run([device(vendor="Philips", model="Discovery NM750b")]) == []
    assert run([device(vendor="GE HealthCare", model=None)]) == []
    assert run([device(vendor=None, model="Discovery NM750b")]) == []
    assert run([device(vendor="GE HealthCare", model="SIGNA Artist")]) == []


def test_the_data_file_holds_no_password_and_the_findings_repeat_none() -> None:
    nm = device(vendor="GE HealthCare", model="Centricity PACS")
    found = run([nm], kinds=("default_credentials",))
    assert found
    assert "2charGE" not in text_of(found) and "nasro" in text_of(found)  # account, not password


# ------------------------------------------------------------------ management in clear


def test_telnet_served_in_clear_is_medium_and_high_with_a_login() -> None:
    quiet = run([device()], [edge("10.0.0.5", 23, "telnet")], kinds=("management_in_clear",))
    (finding,) = quiet
    assert finding.severity == "medium" and finding.title == "Telnet in clear"
    assert "tcp/23" in finding.basis and MANAGER in finding.basis
    assert finding.evidence[0].observation == "flow"
    loud = run(
        [device()],
        [edge("10.0.0.5", 23, "telnet", credentials=True)],
        kinds=("management_in_clear",),
    )
    assert loud[0].severity == "high" and "login crossed in clear" in loud[0].basis


def test_ftp_upgraded_to_tls_or_used_by_the_device_as_a_client_is_no_finding() -> None:
    upgraded = edge("10.0.0.5", 21, "ftp", cleartext=False)
    outward = edge("192.0.2.1", 21, "ftp", client="10.0.0.5", credentials=True)
    assert run([device()], [upgraded, outward], kinds=("management_in_clear",)) == []
    (ftp,) = run([device()], [edge("10.0.0.5", 21, "ftp")], kinds=("management_in_clear",))
    assert ftp.title == "FTP in clear"


def test_http_basic_auth_to_the_device_is_high_and_names_the_user_not_the_password() -> None:
    request = seen(
        "HttpRequest",
        MANAGER,
        "10.0.0.5",
        51000,
        80,
        {"method": "GET", "basic_auth": True, "basic_auth_user": "service"},
    )
    (finding,) = run([device()], [], [request], kinds=("management_in_clear",))
    assert finding.severity == "high" and finding.title == "HTTP Basic authentication in clear"
    assert finding.evidence[0].detail == "http Basic as 'service'"
    # the device sending Basic credentials elsewhere is not a weakness of the device
    outward = seen("HttpRequest", "10.0.0.5", "192.0.2.7", 51000, 80, {"basic_auth": True})
    assert run([device()], [], [outward], kinds=("management_in_clear",)) == []


def test_snmp_answered_with_public_is_high_and_a_private_community_is_never_repeated() -> None:
    dev = device()
    polls = [
        snmp(MANAGER, "10.0.0.5", "get-request", "public"),
        snmp("10.0.0.5", MANAGER, "get-response", "public"),
    ]
    (public,) = run([dev], [], polls, kinds=("management_in_clear",))
    assert public.severity == "high" and "'public'" in public.basis
    assert public.title == "SNMP v2c answered"
    secret = "s3cr3t-N0C"
    polls = [
        snmp(MANAGER, "10.0.0.5", "get-request", secret),
        snmp("10.0.0.5", MANAGER, "get-response", secret),
    ]
    (private,) = run([dev], [], polls, kinds=("management_in_clear",))
    assert private.severity == "medium" and "not a well-known default" in private.basis
    assert secret not in text_of([private])


def test_a_set_request_accepted_with_a_default_community_is_critical() -> None:
    polls = [
        snmp(MANAGER, "10.0.0.5", "set-request", "private", version="1", request_id=58),
        snmp("10.0.0.5", MANAGER, "get-response", "private", "1", request_id=58, error_status=0),
    ]
    (finding,) = run([device()], [], polls, kinds=("management_in_clear",))
    assert finding.severity == "critical" and "set-request with it was accepted" in finding.basis
    refused = [
        polls[0],
        snmp("10.0.0.5", MANAGER, "get-response", "private", "1", request_id=58, error_status=2),
    ]
    assert run([device()], [], refused, kinds=("management_in_clear",))[0].severity == "high"


def test_snmp_traps_alone_are_low_and_v3_is_no_finding() -> None:
    traps = [snmp("10.0.0.5", MANAGER, "snmpV2-trap", "ops-traps")]
    (finding,) = run([device()], [], traps, kinds=("management_in_clear",))
    assert finding.severity == "low" and finding.title == "SNMP v2c traps"
    v3 = [
        snmp(MANAGER, "10.0.0.5", "get-request", None, version="3"),
        snmp("10.0.0.5", MANAGER, "get-response", None, version="3"),
    ]
    assert run([device()], [], v3, kinds=("management_in_clear",)) == []


def test_an_address_held_by_two_devices_is_charged_to_the_one_holding_it_then() -> None:
    early = device(device_id=1, held=(T0 - timedelta(days=60), T0 - timedelta(days=10)))
    late = device(device_id=2, held=(T0 - timedelta(days=5), T0 + timedelta(days=5)))
    answer = snmp("10.0.0.5", MANAGER, "get-response", "public")
    (finding,) = run([early, late], [], [answer], kinds=("management_in_clear",))
    assert finding.device_id == 2


# -------------------------------------------------------------------------- end of life


@pytest.mark.parametrize(
    ("os", "version", "as_of", "severity"),
    [
        ("Windows", "XP", TODAY, "high"),
        ("Windows", "XP", date(2014, 4, 8), None),  # the last day of support
        ("Windows", "XP", date(2014, 4, 9), "high"),
        ("Windows", "7", date(2021, 6, 1), "medium"),  # paid ESU still running
        ("Windows", "7", date(2023, 1, 11), "high"),
        ("Windows", "7 / Server 2008 R2", TODAY, "high"),
        ("Windows", "NT 6.1", TODAY, "high"),
        ("Windows", "Vista / Server 2008", TODAY, "high"),
        ("Windows", "10 / 11", TODAY, "low"),
        ("Windows", "2022", TODAY, None),
        ("Windows", "10 1809 / Server 2019", TODAY, None),
        ("Windows", "11", TODAY, None),
        ("Android", "8.1.0", TODAY, "high"),
        ("Linux", "Ubuntu 18.04", TODAY, "medium"),  # ESM to 2028
        ("Linux", None, TODAY, None),
        ("Solaris", "10", TODAY, None),
    ],
)
def test_end_of_life_on_the_day_asked(
    os: str, version: str | None, as_of: date, severity: str | None
) -> None:
    found = run([device(os=os, os_version=version)], as_of=as_of, kinds=("end_of_life_os",))
    if severity is None:
        assert found == []
        return
    (finding,) = found
    assert finding.severity == severity
    assert finding.evidence and finding.evidence[0].observation == "SmbNegotiate"
    assert "confidence 60" in finding.basis


def test_the_end_of_life_basis_names_the_dates_and_the_source() -> None:
    (xp,) = run([device(os="Windows", os_version="XP")], kinds=("end_of_life_os",))
    assert xp.title == "Windows XP: end-of-life OS (support ended 2014-04-08)"
    assert "Windows XP ended 2014-04-08" in xp.basis
    assert xp.url == "https://learn.microsoft.com/lifecycle/products/windows-xp"
    (ten,) = run([device(os="Windows", os_version="10 / 11")], kinds=("end_of_life_os",))
    assert "may also be 11 (not listed)" in ten.basis and "LTSC" in ten.basis


# --------------------------------------------------------------------- TLS certificates


def certificate(src: str, dst: str, sport: int, **facts: Any) -> Sighting:
    base = {
        "chain_index": 0,
        "subject": "CN=pacs.example",
        "issuer": "CN=pacs.example",
        "not_before": "2020-01-01T00:00:00+00:00",
        "not_after": "2023-01-01T00:00:00+00:00",
        "self_signed": False,
        "sha256": "ab" * 32,
    }
    return seen("TlsCertificate", src, dst, sport, 50123, {**base, **facts})


def test_an_expired_certificate_of_a_medical_device_is_high() -> None:
    monitor = device(medical=True, category="patient_monitor")
    cert = certificate("10.0.0.5", MANAGER, 443)
    (finding,) = run([monitor], [edge("10.0.0.5", 443, "tls")], [cert], kinds=("tls_certificate",))
    assert finding.severity == "high" and finding.title.startswith("Expired TLS certificate")
    assert "expired when seen (2024-03-01 10:00:00, 425 days after its end)" in finding.basis
    assert "medical device (patient_monitor)" in finding.basis
    assert finding.evidence[0].port == 443 and finding.evidence[0].peer == MANAGER


def test_a_self_signed_certificate_on_a_dicom_server_is_low_or_medium_if_medical() -> None:
    pacs = device(services=("dicom",))
    cert = certificate(
        "10.0.0.5", MANAGER, 2762, not_after="2030-01-01T00:00:00Z", self_signed=True
    )
    (finding,) = run([pacs], [edge("10.0.0.5", 2762, "tls")], [cert], kinds=("tls_certificate",))
    assert finding.severity == "low" and "self-signed" in finding.basis
    assert "port 2762 is DICOM over TLS" in finding.basis
    medical = device(medical=True, category="pacs")
    assert run([medical], [edge("10.0.0.5", 2762, "tls")], [cert])[0].severity == "medium"


def test_certificates_off_clinical_services_of_clients_and_of_the_chain_are_not_findings() -> None:
    office = device()
    expired = certificate("10.0.0.5", MANAGER, 443, self_signed=True)
    assert run([office], [edge("10.0.0.5", 443, "tls")], [expired]) == []
    monitor = device(medical=True)
    client_cert = seen("TlsCertificate", "10.0.0.5", "192.0.2.8", 50123, 443, dict(expired.facts))
    assert run([monitor], [edge("192.0.2.8", 443, "tls", client="10.0.0.5")], [client_cert]) == []
    intermediate = certificate("10.0.0.5", MANAGER, 443, chain_index=1)
    assert run([monitor], [edge("10.0.0.5", 443, "tls")], [intermediate]) == []
    valid = certificate("10.0.0.5", MANAGER, 443, not_after="2030-01-01T00:00:00Z")
    assert run([monitor], [edge("10.0.0.5", 443, "tls")], [valid]) == []


# ---------------------------------------------------------------------------- ordering


def test_findings_come_most_severe_first_and_kinds_filter() -> None:
    dev = device(os="Windows", os_version="10 / 11")
    found = run(
        [dev],
        [edge("10.0.0.5", 23, "telnet", credentials=True)],
        [snmp("10.0.0.5", MANAGER, "get-response", "public")],
    )
    assert [m.severity for m in found] == ["high", "high", "low"]
    assert {m.kind for m in run([dev], kinds=("end_of_life_os",))} == {"end_of_life_os"}


# ----------------------------------------------------------------------------- hypothesis

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = st.sampled_from(
    [
        "protocol", "mechanism", "user", "basic_auth", "basic_auth_user", "digest_auth_user",
        "version", "community", "pdu_type", "request_id", "error_status", "chain_index",
        "subject", "issuer", "not_before", "not_after", "self_signed", "sha256", "serial",
    ]
)  # fmt: skip
FACTS = st.dictionaries(FIELDS, JSON | st.sampled_from(["2c", "1", "public", "get-response",
    "set-request", "telnet", "2020-01-01T00:00:00", "2999-01-01T00:00:00+05:00", "not a date"]),
    max_size=12)  # fmt: skip
IPS = st.sampled_from(["10.0.0.5", MANAGER, "192.0.2.1", None])


@st.composite
def sightings(draw: st.DrawFn) -> Sighting:
    kind = draw(
        st.sampled_from(["CleartextCredentials", "HttpRequest", "SnmpMessage", "TlsCertificate"])
    )
    return Sighting(
        kind,
        draw(st.datetimes(timezones=st.just(UTC))),
        draw(IPS),
        draw(IPS),
        draw(st.integers(0, 65535)),
        draw(st.integers(0, 65535)),
        draw(st.sampled_from(["tcp", "udp"])),
        draw(st.integers(-1, 5)),
        draw(FACTS),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sightings(), max_size=8), st.dates())
def test_arbitrary_facts_give_findings_and_nothing_else(found: list[Sighting], day: date) -> None:
    devices = [
        device(medical=True, vendor="GE HealthCare", model="Discovery NM750b", os="Windows",
               os_version="7"),
        device("192.0.2.1", device_id=2, services=("dicom",)),
    ]  # fmt: skip
    conversations = [edge("10.0.0.5", 23, "telnet"), edge("192.0.2.1", 443, "tls")]
    out = run(devices, conversations, found, as_of=day)
    assert all(isinstance(m, Misconfiguration) and m.basis for m in out)


DOCUMENTS = st.dictionaries(
    st.sampled_from(["systems", "aliases", "credentials", "snmp_communities", "x"]),
    st.lists(
        st.dictionaries(
            st.sampled_from(["os", "version", "end_of_support", "extended_until", "source",
                             "reviewed", "url", "name", "means", "id", "vendor", "models",
                             "product", "credential", "accounts", "access", "cves",
                             "reference"]),
            JSON | st.sampled_from(["2014-04-08", "2014-02-30", "XP", "(", "unverified"]),
            max_size=10,
        ),
        max_size=3,
    )
    | JSON,
    max_size=4,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS)
def test_arbitrary_data_files_load_or_are_refused_with_a_rule_error(document: Any) -> None:
    for parse in (parse_end_of_life, parse_default_credentials):
        try:
            parse(document, "site.yaml")
        except RuleError as exc:
            assert str(exc).startswith("site.yaml: ")
