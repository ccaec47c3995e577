"""HTTP dissector: request/response heads, privacy of targets and credentials, FHIR, captures."""

from __future__ import annotations

import base64
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.http import (
    FHIR_R4_PATIENT_COMPARTMENT,
    FHIR_R4_RESOURCES,
    HttpDissector,
    HttpError,
)
from medsec.model.observations.smb import NtlmAuthenticate, NtlmChallenge
from medsec.model.observations.web import FhirInteraction, HttpRequest, HttpResponse

from tests_support.dissect_harness import ctx, payloads

D = HttpDissector()


def dissect(data: bytes) -> list[object]:
    return list(D.dissect(data, ctx()))


def requests(data: bytes) -> list[HttpRequest]:
    return [o for o in dissect(data) if isinstance(o, HttpRequest)]


def fhir(method: str, target: str, headers: str = "") -> FhirInteraction | None:
    data = f"{method} {target} HTTP/1.1\r\nHost: ehr\r\n{headers}\r\n".encode()
    found = [o for o in dissect(data) if isinstance(o, FhirInteraction)]
    return found[0] if found else None


# --- heads ---------------------------------------------------------------------------------


def test_request_fields() -> None:
    data = (
        b"POST /api/v2/upload HTTP/1.1\r\n"
        b"Host: monitor-17.icu.example\r\n"
        b"User-Agent: ExampleVitals/4.2 (Linux; arm)\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: 2\r\n"
        b"\r\n"
        b"{}"
    )
    (request,) = requests(data)
    assert (request.method, request.path, request.version) == (
        "POST",
        "/api/v2/upload",
        "HTTP/1.1",
    )
    assert request.host == "monitor-17.icu.example"
    assert request.user_agent == "ExampleVitals/4.2 (Linux; arm)"
    assert request.content_type == "application/json"
    assert not request.basic_auth and request.authorization_scheme is None
    assert D.signature(data)


def test_query_values_and_identifiers_never_leave() -> None:
    data = (
        b"GET /patients/00123456/chart/550e8400-e29b-41d4-a716-446655440000/"
        b"jane.doe@example.org?mrn=00123456&name=Jane+Doe&ts HTTP/1.0\r\n\r\n"
    )
    (request,) = requests(data)
    assert request.path == "/patients/{id}/chart/{id}/{id}"
    assert request.query_keys == ("mrn", "name", "ts")
    assert "Jane" not in repr(request) and "123456" not in repr(request)


def test_absolute_form_drops_user_information() -> None:
    (request,) = requests(b"GET http://admin:secret@10.1.2.3:8080/cgi-bin/status HTTP/1.1\r\n\r\n")
    assert request.path == "http://10.1.2.3:8080/cgi-bin/status"
    (connect,) = requests(b"CONNECT vendor.example:443 HTTP/1.1\r\n\r\n")
    assert connect.path == "vendor.example:443"


def test_basic_credentials_keep_the_user_name_only() -> None:
    token = base64.b64encode(b"biomed:Pump!2024").decode()
    (request,) = requests(f"GET / HTTP/1.1\r\nAuthorization: Basic {token}\r\n\r\n".encode())
    assert request.basic_auth and request.authorization_scheme == "Basic"
    assert request.basic_auth_user == "biomed"
    assert "Pump!2024" not in repr(request) and token not in repr(request)
    (broken,) = requests(b"GET / HTTP/1.1\r\nAuthorization: Basic !!!\r\n\r\n")
    assert broken.basic_auth and broken.basic_auth_user is None
    digest = (
        b'GET / HTTP/1.1\r\nAuthorization: Digest username="tech", realm="x", nonce="1"\r\n\r\n'
    )
    (request,) = requests(digest)
    assert request.digest_auth_user == "tech" and not request.basic_auth


def test_response_fields() -> None:
    data = (
        b"HTTP/1.1 401 Unauthorized\r\n"
        b"Server: GoAhead-Webs\r\n"
        b"X-Powered-By: PHP/5.2.17\r\n"
        b'WWW-Authenticate: Digest realm="Infusion Pump 8015", nonce="abc"\r\n'
        b'WWW-Authenticate: Basic realm="fallback"\r\n'
        b"Content-Type: text/html\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    (response,) = dissect(data)
    assert isinstance(response, HttpResponse)
    assert (response.status, response.reason, response.server) == (
        401,
        "Unauthorized",
        "GoAhead-Webs",
    )
    assert response.x_powered_by == "PHP/5.2.17"
    assert response.www_authenticate == ("Digest", "Basic")
    assert response.realm == "Infusion Pump 8015"
    assert D.signature(data)


def test_pipelined_requests_and_chunked_responses() -> None:
    pipelined = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HT"
    assert [r.path for r in requests(pipelined)] == ["/a", "/b"]
    responses = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\n"
        b"HTTP/1.1 304 Not Modified\r\nServer: second\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        b"HTTP/1.1 200 OK\r\nServer: until-close\r\n\r\nbody without length"
        b"HTTP/1.1 200 OK\r\nServer: never-seen\r\n\r\n"
    )
    found = dissect(responses)
    assert [o.status for o in found] == [200, 304, 200, 200]  # type: ignore[attr-defined]
    assert found[1].server == "second"  # type: ignore[attr-defined]


def test_not_http_and_broken_http() -> None:
    assert dissect(b"SSH-2.0-OpenSSH_5.8p1 Debian-1ubuntu3\r\n") == []
    assert not D.signature(b"SSH-2.0-OpenSSH_5.8p1\r\n")
    assert not D.signature(b"get / HTTP/1.1\r\n")
    with pytest.raises(HttpError):
        dissect(b"HTTP/1.1 2xx OK\r\n\r\n")
    with pytest.raises(HttpError):
        dissect(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n")
    # a broken second message keeps the first
    found = dissect(b"GET / HTTP/1.1\r\n\r\nHTTP/9 what\r\n\r\n")
    assert [type(o) for o in found] == [HttpRequest]


def test_ntlm_tokens_are_decoded() -> None:
    # NTLMSSP CHALLENGE ([MS-NLMP] 2.2.1.2): TargetName "LAB" at 56, flags UNICODE|VERSION,
    # TargetInfo: MsvAvNbComputerName "PACS1", MsvAvEOL; VERSION 10.0.17763
    target = "LAB".encode("utf-16-le")
    info = (
        (1).to_bytes(2, "little")
        + len("PACS1".encode("utf-16-le")).to_bytes(2, "little")
        + "PACS1".encode("utf-16-le")
        + bytes(4)
    )
    header_len = 56
    msg = (
        b"NTLMSSP\x00"
        + (2).to_bytes(4, "little")
        + len(target).to_bytes(2, "little") * 2
        + header_len.to_bytes(4, "little")
        + (0x02000001).to_bytes(4, "little")
        + bytes(8)  # server challenge
        + bytes(8)  # reserved
        + len(info).to_bytes(2, "little") * 2
        + (header_len + len(target)).to_bytes(4, "little")
        + bytes([10, 0]) + (17763).to_bytes(2, "little") + bytes([0, 0, 0, 15])
        + target
        + info
    )  # fmt: skip
    token = base64.b64encode(msg).decode()
    data = f"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM {token}\r\n\r\n".encode()
    response, challenge = dissect(data)
    assert isinstance(response, HttpResponse) and response.www_authenticate == ("NTLM",)
    assert isinstance(challenge, NtlmChallenge) and challenge.carrier == "http"
    assert challenge.target_name == "LAB" and challenge.nb_computer_name == "PACS1"
    assert challenge.os_version == "10.0.17763"


# --- FHIR ----------------------------------------------------------------------------------


def test_fhir_resource_list_is_r4() -> None:
    # the 146 concrete types of R4 4.0.1 (ResourceType less Resource and DomainResource)
    assert len(FHIR_R4_RESOURCES) == 146
    assert {"MedicinalProductInteraction", "SubstanceNucleicAcid"} <= FHIR_R4_RESOURCES
    assert FHIR_R4_PATIENT_COMPARTMENT <= FHIR_R4_RESOURCES
    assert {"Patient", "Observation", "Encounter", "DiagnosticReport", "MedicationRequest"} <= (
        FHIR_R4_PATIENT_COMPARTMENT
    )
    assert not {"Device", "Organization", "Practitioner", "Location"} & FHIR_R4_PATIENT_COMPARTMENT


@pytest.mark.parametrize(
    ("method", "target", "resource", "interaction", "patient"),
    [
        ("GET", "/fhir/Patient/123", "Patient", "read", True),
        (
            "GET",
            "/fhir/R4/Observation?subject=Patient/9&code=8867-4",
            "Observation",
            "search",
            True,
        ),
        ("POST", "/fhir/Observation/_search", "Observation", "search", True),
        ("POST", "/baseR4/Observation", "Observation", "create", True),
        ("PUT", "/fhir/Encounter/e-1", "Encounter", "update", True),
        ("DELETE", "/fhir/Device/d.7", "Device", "delete", False),
        ("PATCH", "/fhir/Patient/p1", "Patient", "patch", True),
        ("GET", "/fhir/Patient/123/_history/2", "Patient", "vread", True),
        ("GET", "/fhir/Patient/123/_history", "Patient", "history", True),
        ("GET", "/fhir/Patient/123/$everything", "Patient", "operation", True),
        ("GET", "/fhir/Patient/123/MedicationRequest", "MedicationRequest", "search", True),
        ("GET", "/api/DiagnosticReport/r1", "DiagnosticReport", "read", True),
        ("GET", "/fhir/Practitioner/55", "Practitioner", "read", False),
        ("GET", "/fhir/DeviceMetric?source=Device/1", "DeviceMetric", "search", False),
    ],
)
def test_fhir_interactions(
    method: str, target: str, resource: str, interaction: str, patient: bool
) -> None:
    found = fhir(method, target)
    assert found is not None
    assert (found.resource_type, found.interaction, found.patient_data) == (
        resource,
        interaction,
        patient,
    )


def test_fhir_ids_are_redacted_and_base_kept() -> None:
    data = b"GET /fhir/R4/Patient/pat-00042/_history/3?_format=json HTTP/1.1\r\n\r\n"
    request, interaction = dissect(data)
    assert isinstance(request, HttpRequest) and isinstance(interaction, FhirInteraction)
    assert request.path == "/fhir/R4/Patient/{id}/_history/{id}"
    assert interaction.base == "/fhir/R4" and "00042" not in repr([request, interaction])


def test_fhir_needs_a_hint_for_plain_words() -> None:
    assert fhir("GET", "/Account/Login") is None  # an ASP.NET route, not FHIR
    assert fhir("GET", "/Patient/Details") is None
    json = "Accept: application/fhir+json\r\n"
    found = fhir("GET", "/Patient/123", json)
    assert found is not None and found.format == "json"
    assert fhir("GET", "/api/Account/a1?_count=10") is not None
    assert fhir("GET", "/fhir/Patient/bad id!") is None


def test_fhir_base_level_interactions() -> None:
    capabilities = fhir("GET", "/fhir/metadata")
    assert capabilities is not None and capabilities.interaction == "capabilities"
    assert capabilities.resource_type is None and not capabilities.patient_data
    bundle = fhir("POST", "/r4/", "Content-Type: application/fhir+xml\r\nContent-Length: 0\r\n")
    assert bundle is not None and bundle.interaction == "batch/transaction"
    assert bundle.format == "xml"
    assert fhir("GET", "/metadata") is None


# --- real traffic --------------------------------------------------------------------------


def _observations(path: Path) -> list[object]:
    out: list[object] = []
    for item in payloads(path, stream_bytes=D.stream_bytes):
        c = item.ctx
        if c.transport == "tcp" and (c.src_port in D.ports or c.dst_port in D.ports):
            out.extend(D.dissect(item.data, c))
    return out


def _ethernet_copy(source: Path, target: Path) -> Path:
    """Rewrite a pcapng capture as classic Ethernet pcap for the harness."""
    with open(source, "rb") as f, open(target, "wb") as out:
        reader = dpkt.pcapng.Reader(f)
        writer = dpkt.pcap.Writer(out)
        for ts, buf in reader:
            writer.writepkt(buf, ts)
    return target


def test_zeek_get_and_web(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/zeek/http_get.pcap")
    request = next(o for o in found if isinstance(o, HttpRequest))
    assert (request.path, request.host) == ("/download/CHANGES.bro-aux.txt", "bro.org")
    assert request.user_agent == "Wget/1.14 (darwin12.2.0)"
    response = next(o for o in found if isinstance(o, HttpResponse))
    assert response.server == "Apache/2.4.3 (Fedora)" and response.status == 200
    web = _observations(shared_data / "pcap/zeek/web.pcap")
    assert any(isinstance(o, HttpResponse) and o.server == "Apache/1.3.33 (Unix)" for o in web)


def test_keep_alive_sessions(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/zeek/http_bro.org.pcap")
    requests_ = [o for o in found if isinstance(o, HttpRequest)]
    responses = [o for o in found if isinstance(o, HttpResponse)]
    assert len(requests_) >= 25 and len(responses) >= 10
    assert all(r.host in ("bro.org", "www.bro.org") for r in requests_)


def test_basic_auth_capture(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/ndpi/http_auth.pcap")
    request = next(o for o in found if isinstance(o, HttpRequest))
    assert request.basic_auth and request.basic_auth_user == "test"
    assert "fail2" not in repr(found)  # the password of "test:fail2"
    response = next(o for o in found if isinstance(o, HttpResponse))
    assert response.status == 401 and response.www_authenticate == ("Basic",)
    assert response.realm == "BrowserSpy.dk - HTTP Password Test"


def test_many_user_agents(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/ndpi/1kxun.pcap")
    agents = {o.user_agent for o in found if isinstance(o, HttpRequest) and o.user_agent}
    assert len(agents) >= 10
    assert sum(isinstance(o, HttpRequest) for o in found) >= 100


def test_webdav_with_ntlm(shared_data: Path, tmp_path: Path) -> None:
    copy = _ethernet_copy(shared_data / "pcap/ndpi/webdav.pcap", tmp_path / "webdav.pcap")
    found = _observations(copy)
    methods = {o.method for o in found if isinstance(o, HttpRequest)}
    assert {"PROPFIND", "MKCOL"} <= methods
    auth = next(o for o in found if isinstance(o, NtlmAuthenticate))
    assert (auth.user_name, auth.workstation) == ("WebDAV", "ivan-Latitude-E6540")
    assert auth.response_kind == "NTLMv2"
    challenge = next(o for o in found if isinstance(o, NtlmChallenge))
    assert challenge.nb_computer_name == "DLP-TEST-R5"


def test_ssh_on_port_80_is_not_http(shared_data: Path) -> None:
    assert _observations(shared_data / "pcap/zeek/ssh_ssh-on-port-80.pcap") == []
