"""HTTP/1.x request and response heads, and FHIR REST interactions (RFC 9112, FHIR R4).

Every complete header block in the stream head is read (pipelined requests, keep-alive
responses); bodies are skipped by Content-Length or chunked framing, and the walk stops at a
body whose length is unknown or at a truncated tail.

Patient data never leaves: query strings keep only parameter names, path segments that look
like identifiers (a run of 6+ digits, a UUID, an e-mail address) become ``{id}``, FHIR logical
ids become ``{id}``, and credentials are reduced to their scheme and (Basic, Digest) user name.
NTLM tokens in Authorization / WWW-Authenticate headers are decoded like those in SMB.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Iterator
from typing import ClassVar

from medsec.dissect.smb import ntlm_observation
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.web import FhirInteraction, HttpRequest, HttpResponse

logger = logging.getLogger(__name__)


class HttpError(DissectError):
    """A message whose start line claims HTTP/1.x but whose head is broken."""


_MAX_MESSAGES = 64
_MAX_HEAD = 16384
_MAX_HEADERS = 128
_MAX_CHUNKS = 4096
_MAX_QUERY_KEYS = 64
_MAX_TEXT = 1024
_VERSIONS = frozenset({b"HTTP/1.0", b"HTTP/1.1"})
_TOKEN_UPPER = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ-_")
_IDENTIFIER = re.compile(
    r"\d{6}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|@"
)
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_REALM = re.compile(r'realm\s*=\s*"([^"]*)"|realm\s*=\s*([^\s,]+)', re.IGNORECASE)
_DIGEST_USER = re.compile(r'username\s*=\s*"([^"]*)"|username\s*=\s*([^\s,]+)', re.IGNORECASE)

# HL7 FHIR R4 (4.0.1) resource types, https://hl7.org/fhir/R4/resourcelist.html
FHIR_R4_RESOURCES = frozenset(
    """
    Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
    AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement
    CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse
    ClinicalImpression CodeSystem Communication CommunicationRequest CompartmentDefinition
    Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
    CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest
    DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference
    EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest EnrollmentResponse
    EpisodeOfCare EventDefinition Evidence EvidenceVariable ExampleScenario ExplanationOfBenefit
    FamilyMemberHistory Flag Goal GraphDefinition Group GuidanceResponse HealthcareService
    ImagingStudy Immunization ImmunizationEvaluation ImmunizationRecommendation
    ImplementationGuide InsurancePlan Invoice Library Linkage List Location Measure
    MeasureReport Media Medication MedicationAdministration MedicationDispense
    MedicationKnowledge MedicationRequest MedicationStatement MedicinalProduct
    MedicinalProductAuthorization MedicinalProductContraindication MedicinalProductIndication
    MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
    MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect
    MessageDefinition MessageHeader MolecularSequence NamingSystem NutritionOrder Observation
    ObservationDefinition OperationDefinition OperationOutcome Organization
    OrganizationAffiliation Parameters Patient PaymentNotice PaymentReconciliation Person
    PlanDefinition Practitioner PractitionerRole Procedure Provenance Questionnaire
    QuestionnaireResponse RelatedPerson RequestGroup ResearchDefinition
    ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
    RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
    SpecimenDefinition StructureDefinition StructureMap Subscription Substance
    SubstanceNucleicAcid SubstancePolymer SubstanceProtein SubstanceReferenceInformation
    SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
    TerminologyCapabilities TestReport TestScript ValueSet VerificationResult VisionPrescription
    """.split()
)

# Resource types of the R4 Patient compartment (compartmentdefinition-patient): patient-level data
FHIR_R4_PATIENT_COMPARTMENT = frozenset(
    """
    Account AdverseEvent AllergyIntolerance Appointment AppointmentResponse AuditEvent Basic
    BodyStructure CarePlan CareTeam ChargeItem Claim ClaimResponse ClinicalImpression
    Communication CommunicationRequest Composition Condition Consent Coverage
    CoverageEligibilityRequest CoverageEligibilityResponse DetectedIssue DeviceRequest
    DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference Encounter
    EnrollmentRequest EpisodeOfCare ExplanationOfBenefit FamilyMemberHistory Flag Goal Group
    ImagingStudy Immunization ImmunizationEvaluation ImmunizationRecommendation Invoice List
    MeasureReport Media MedicationAdministration MedicationDispense MedicationRequest
    MedicationStatement MolecularSequence NutritionOrder Observation Patient Person Procedure
    Provenance QuestionnaireResponse RelatedPerson RequestGroup ResearchSubject RiskAssessment
    Schedule ServiceRequest Specimen SupplyDelivery SupplyRequest VisionPrescription
    """.split()
)

# Path segments naming a FHIR service base (HAPI ``baseR4``, ``/fhir/R4``...)
_FHIR_BASE_SEGMENTS = frozenset(
    {"r4", "r4b", "r5", "stu3", "dstu2", "dstu3", "baser4", "baser4b", "baser5", "basestu3",
     "basedstu2", "basedstu3"}
)  # fmt: skip


class HttpDissector:
    """HTTP/1.x heads on web ports, or wherever a request/status line starts the stream."""

    name: ClassVar[str] = "http"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset(
        {80, 81, 591, 3128, 8000, 8008, 8080, 8081, 8088, 8888}
    )
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 16384
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """``METHOD SP target SP HTTP/1.x`` or ``HTTP/1.x SP ddd`` on the first line."""
        end = head.find(b"\n", 0, 8192)
        line = (head[:end] if end >= 0 else head[:8192]).rstrip(b"\r")
        if line.startswith(b"HTTP/1."):
            return _status_line(line) is not None
        return _request_line(line) is not None

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        out: list[Observation] = []
        try:
            _walk(payload, ctx, out)
        except DissectError:
            if not out:
                raise
            logger.debug("http flow %d: malformed after %d observations", ctx.flow_id, len(out))
        yield from out


def _request_line(line: bytes) -> tuple[str, bytes, str] | None:
    parts = line.split(b" ")
    if len(parts) != 3 or parts[2] not in _VERSIONS or not parts[1]:
        return None
    method = parts[0]
    if not method or len(method) > 32 or not all(b in _TOKEN_UPPER for b in method):
        return None
    return method.decode("ascii"), parts[1], parts[2].decode("ascii")


def _status_line(line: bytes) -> tuple[str, int, str] | None:
    version, _, rest = line.partition(b" ")
    if version not in _VERSIONS:
        return None
    code, _, reason = rest.partition(b" ")
    if len(code) != 3 or not code.isdigit():
        return None
    return version.decode("ascii"), int(code), reason.decode("latin-1").strip()[:_MAX_TEXT]


def _head_end(data: bytes, pos: int) -> tuple[int, int] | None:
    """(end of the head, start of the body) for the head starting at ``pos``."""
    limit = pos + _MAX_HEAD
    crlf = data.find(b"\r\n\r\n", pos, limit)
    lf = data.find(b"\n\n", pos, limit)
    if crlf < 0 and lf < 0:
        return None
    if lf < 0 or 0 <= crlf < lf:
        return crlf, crlf + 4
    return lf, lf + 2


def _walk(data: bytes, ctx: PacketContext, out: list[Observation]) -> None:
    pos = 0
    for index in range(_MAX_MESSAGES):
        while data.startswith((b"\r\n", b"\n"), pos):
            pos += 2 if data.startswith(b"\r\n", pos) else 1
        found = _head_end(data, pos)
        if found is None:
            return  # no complete head left
        head_end, body = found
        lines = [line.rstrip(b"\r") for line in data[pos:head_end].split(b"\n")]
        request = _request_line(lines[0])
        status = None if request else _status_line(lines[0])
        if request is None and status is None:
            if index == 0 and not lines[0].startswith(b"HTTP/"):
                return  # not HTTP (another protocol on a web port)
            raise HttpError(f"bad HTTP start line at offset {pos}")
        headers = _headers(lines[1:])
        if request is not None:
            method, target, version = request
            out.extend(_request(method, target, version, headers, ctx))
            length = _body_length(data, body, headers, has_body=True)
        elif status is not None:
            version, code, reason = status
            out.extend(_response(version, code, reason, headers, ctx))
            no_body = code < 200 or code in (204, 304)
            length = 0 if no_body else _body_length(data, body, headers, has_body=False)
        if length is None:
            return  # body runs to the end of the connection, or past the stream head
        pos = body + length


def _headers(lines: list[bytes]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    last: str | None = None
    for line in lines[:_MAX_HEADERS]:
        if line[:1] in (b" ", b"\t") and last is not None:  # obsolete line folding
            headers[last][-1] = (headers[last][-1] + " " + line.strip().decode("latin-1"))[
                :_MAX_TEXT
            ]
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise HttpError(f"bad header line {line[:40]!r}")
        last = name.decode("latin-1").lower()
        headers.setdefault(last, []).append(value.strip().decode("latin-1")[:_MAX_TEXT])
    return headers


def _one(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _body_length(
    data: bytes, body: int, headers: dict[str, list[str]], *, has_body: bool
) -> int | None:
    """Bytes of the body starting at ``body``; None when unknown or beyond the data."""
    encoding = (_one(headers, "transfer-encoding") or "").lower()
    if "chunked" in encoding:
        return _chunked_length(data, body)
    length_text = _one(headers, "content-length")
    if length_text is not None:
        if not length_text.isdigit():
            raise HttpError(f"bad Content-Length {length_text[:20]!r}")
        length = int(length_text)
        return length if body + length <= len(data) else None
    return 0 if has_body else None


def _chunked_length(data: bytes, body: int) -> int | None:
    pos = body
    for _ in range(_MAX_CHUNKS):
        line_end = data.find(b"\n", pos, pos + 1024)
        if line_end < 0:
            return None
        size_text = data[pos:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise HttpError("bad chunk size") from exc
        pos = line_end + 1
        if size == 0:  # last chunk, then trailer lines up to an empty line
            for _ in range(_MAX_HEADERS):
                end = data.find(b"\n", pos, pos + _MAX_HEAD)
                if end < 0:
                    return None
                empty = not data[pos:end].strip()
                pos = end + 1
                if empty:
                    return pos - body
            return None
        pos += size
        if data.startswith(b"\r\n", pos):
            pos += 2
        elif data.startswith(b"\n", pos):
            pos += 1
        if pos > len(data):
            return None
    return None


# --- requests ------------------------------------------------------------------------------


def _redact_segment(segment: str) -> str:
    return "{id}" if _IDENTIFIER.search(segment) else segment


def _target(raw: bytes) -> tuple[str, str, tuple[str, ...]]:
    """(prefix ``scheme://host`` or "", path with identifiers redacted, query keys)."""
    text = raw.decode("latin-1")[:8192]
    text = text.split("#", 1)[0]
    path, _, query = text.partition("?")
    prefix = ""
    if "://" in path:  # absolute-form (proxies) - keep scheme and host, drop user info
        scheme, _, rest = path.partition("://")
        authority, slash, path = rest.partition("/")
        prefix = f"{scheme.lower()}://{authority.rsplit('@', 1)[-1]}"
        path = slash + path
    elif path == "*" or not path.startswith("/"):  # asterisk-form, authority-form (CONNECT)
        return "", path.rsplit("@", 1)[-1][:_MAX_TEXT], ()
    path = "/".join(_redact_segment(s) for s in path.split("/"))
    keys: list[str] = []
    for part in query.split("&"):
        key = part.split("=", 1)[0][:64]
        if key and len(keys) < _MAX_QUERY_KEYS:
            keys.append(key)
    return prefix, path[:_MAX_TEXT], tuple(keys)


def _basic_user(credentials: str) -> str | None:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, _ = decoded.partition(b":")
    if not colon:
        return None
    return user.decode("utf-8", "replace")


def _token_ntlm(value: str, ctx: PacketContext, out: list[Observation]) -> None:
    """Decode an ``NTLM <b64>`` / ``Negotiate <b64>`` token; report NTLMSSP inside."""
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() not in ("ntlm", "negotiate") or not token:
        return
    try:
        raw = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return
    start = raw.find(b"NTLMSSP\x00")
    if start < 0:
        return
    try:
        found = ntlm_observation(raw[start:], ctx, "http")
    except DissectError:
        return
    if found is not None:
        out.append(found)


def _request(
    method: str, target: bytes, version: str, headers: dict[str, list[str]], ctx: PacketContext
) -> list[Observation]:
    out: list[Observation] = []
    prefix, path, keys = _target(target)
    content_type = _one(headers, "content-type")
    accept = _one(headers, "accept")
    fhir = _fhir(method, path, keys, content_type, accept, ctx)
    if fhir is not None:
        interaction, redacted = fhir
        path = redacted
        out.append(interaction)
    authorization = _one(headers, "authorization")
    scheme: str | None = None
    basic_user = digest_user = None
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "basic":
            basic_user = _basic_user(credentials)
        elif scheme.lower() == "digest":
            match = _DIGEST_USER.search(credentials)
            if match:
                digest_user = match.group(1) if match.group(1) is not None else match.group(2)
        _token_ntlm(authorization, ctx, out)
    out.insert(
        0,
        HttpRequest(
            ctx=ctx,
            method=method,
            path=prefix + path,
            query_keys=keys,
            version=version,
            host=_one(headers, "host"),
            user_agent=_one(headers, "user-agent"),
            content_type=content_type,
            accept=accept,
            authorization_scheme=scheme or None,
            basic_auth=scheme is not None and scheme.lower() == "basic",
            basic_auth_user=basic_user,
            digest_auth_user=digest_user,
        ),
    )
    return out


def _response(
    version: str, status: int, reason: str, headers: dict[str, list[str]], ctx: PacketContext
) -> list[Observation]:
    schemes: list[str] = []
    realm: str | None = None
    extra: list[Observation] = []
    for challenge in headers.get("www-authenticate", []):
        scheme = challenge.split(" ", 1)[0].strip().rstrip(",")
        if scheme:
            schemes.append(scheme)
        match = _REALM.search(challenge)
        if match and realm is None:
            realm = match.group(1) if match.group(1) is not None else match.group(2)
        _token_ntlm(challenge, ctx, extra)
    response = HttpResponse(
        ctx=ctx,
        version=version,
        status=status,
        reason=reason,
        server=_one(headers, "server"),
        x_powered_by=_one(headers, "x-powered-by"),
        content_type=_one(headers, "content-type"),
        www_authenticate=tuple(schemes),
        realm=realm,
    )
    return [response, *extra]


# --- FHIR ----------------------------------------------------------------------------------


def _fhir_format(*media_types: str | None) -> str | None:
    for media in media_types:
        if media:
            lowered = media.lower()
            if "fhir+json" in lowered or "json+fhir" in lowered:
                return "json"
            if "fhir+xml" in lowered or "xml+fhir" in lowered:
                return "xml"
    return None


def _plain_word(resource: str) -> bool:
    """A type named by one English word (``Account``, ``List``): common in non-FHIR paths."""
    return sum(ch.isupper() for ch in resource) == 1


def _fhir(
    method: str,
    path: str,
    keys: tuple[str, ...],
    content_type: str | None,
    accept: str | None,
    ctx: PacketContext,
) -> tuple[FhirInteraction, str] | None:
    """The FHIR interaction a request performs and its path with ids redacted, if any."""
    segments = path.split("/")
    media = _fhir_format(content_type, accept)
    hinted = (
        media is not None
        or any("fhir" in s.lower() or s.lower() in _FHIR_BASE_SEGMENTS for s in segments)
        or any(k.startswith("_") for k in keys)
    )
    for i, segment in enumerate(segments):
        if segment not in FHIR_R4_RESOURCES:
            continue
        if _plain_word(segment) and not hinted:
            return None
        found = _fhir_interaction(method, segment, segments[i + 1 :])
        if found is None:
            return None
        resource, interaction, operation, rest = found
        base = "/".join(segments[:i]) or "/"
        redacted = "/".join([*segments[: i + 1], *rest])
        return (
            FhirInteraction(
                ctx=ctx,
                resource_type=resource,
                interaction=interaction,
                operation=operation,
                base=base,
                patient_data=resource in FHIR_R4_PATIENT_COMPARTMENT
                or segment in FHIR_R4_PATIENT_COMPARTMENT,
                format=media,
            ),
            redacted,
        )
    if not hinted:
        return None
    last = segments[-1] if segments else ""
    base = "/".join(segments[:-1]) or "/"
    if last == "metadata" and method == "GET":
        interaction, operation = "capabilities", None
    elif last.startswith("$"):
        interaction, operation = "operation", last
    elif last == "_history" and method == "GET":
        interaction, operation = "history", None
    elif method == "POST" and media is not None:
        interaction, operation, base = "batch/transaction", None, "/".join(segments) or "/"
    else:
        return None
    return (
        FhirInteraction(
            ctx=ctx,
            resource_type=None,
            interaction=interaction,
            operation=operation,
            base=base,
            patient_data=False,
            format=media,
        ),
        path,
    )


def _fhir_interaction(
    method: str, resource: str, rest: list[str]
) -> tuple[str, str, str | None, list[str]] | None:
    """(resource type, interaction, operation, redacted rest) for ``[type]/rest...``."""
    if rest and rest[-1] == "":
        rest = rest[:-1]  # trailing slash
    if not rest:
        kinds = {"GET": "search", "POST": "create", "PUT": "update", "DELETE": "delete"}
        kind = kinds.get(method, "patch" if method == "PATCH" else None)
        return (resource, kind, None, []) if kind else None
    first = rest[0]
    if len(rest) == 1 and first == "_search":
        return resource, "search", None, rest
    if len(rest) == 1 and first == "_history":
        return resource, "history", None, rest
    if len(rest) == 1 and first.startswith("$"):
        return resource, "operation", first, rest
    if first == "{id}" or _FHIR_ID.fullmatch(first):
        if len(rest) == 1:
            kinds = {"GET": "read", "PUT": "update", "DELETE": "delete", "PATCH": "patch"}
            kind = kinds.get(method)
            return (resource, kind, None, ["{id}"]) if kind else None
        second = rest[1]
        if second == "_history":
            if len(rest) == 2:
                return resource, "history", None, ["{id}", "_history"]
            if len(rest) == 3:
                return resource, "vread", None, ["{id}", "_history", "{id}"]
        elif second.startswith("$") and len(rest) == 2:
            return resource, "operation", second, ["{id}", second]
        elif second in FHIR_R4_RESOURCES and len(rest) == 2 and method == "GET":
            return second, "search", None, ["{id}", second]  # compartment search
    return None
