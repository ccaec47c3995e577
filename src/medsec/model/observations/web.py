"""HTTP/1.x facts: requests, responses, and FHIR REST interactions seen in them.

Targets keep their path but never query values (they can hold patient identifiers): only the
parameter names survive. Logical ids of FHIR resources are replaced by ``{id}``. Credentials
are reduced to the scheme and, for Basic, the user name.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class HttpRequest(Observation):
    """One HTTP/1.x request head (RFC 9112 §3)."""

    PROTOCOL: ClassVar[str] = "http"
    method: str
    """Request method (``GET``, ``POST``, ``PROPFIND``...)."""
    path: str
    """Target path without query string or fragment; absolute-form targets keep scheme and host
    (user information removed); FHIR resource ids are replaced by ``{id}``."""
    query_keys: tuple[str, ...]
    """Names of the query parameters, in order (values are dropped)."""
    version: str
    """``HTTP/1.0`` or ``HTTP/1.1``."""
    host: str | None
    """Host header."""
    user_agent: str | None
    """User-Agent header."""
    content_type: str | None
    """Content-Type header."""
    accept: str | None
    """Accept header."""
    authorization_scheme: str | None
    """Scheme of the Authorization header (``Basic``, ``Bearer``, ``NTLM``, ``Digest``...)."""
    basic_auth: bool
    """An ``Authorization: Basic`` header was sent: a password crossed in clear."""
    basic_auth_user: str | None
    """The user name decoded from Basic credentials (never the password)."""
    digest_auth_user: str | None
    """The ``username`` parameter of Digest credentials."""


@observation
class HttpResponse(Observation):
    """One HTTP/1.x response head (RFC 9112 §4)."""

    PROTOCOL: ClassVar[str] = "http"
    version: str
    """``HTTP/1.0`` or ``HTTP/1.1``."""
    status: int
    """Status code."""
    reason: str
    """Reason phrase."""
    server: str | None
    """Server header."""
    x_powered_by: str | None
    """X-Powered-By header."""
    content_type: str | None
    """Content-Type header."""
    www_authenticate: tuple[str, ...]
    """Schemes offered by WWW-Authenticate headers, in order (``Basic``, ``Digest``, ``NTLM``)."""
    realm: str | None
    """The ``realm`` of the first challenge that has one (often names the device)."""


@observation
class FhirInteraction(Observation):
    """A FHIR RESTful interaction (HL7 FHIR R4 http.html) recognised in an HTTP request."""

    PROTOCOL: ClassVar[str] = "fhir"
    resource_type: str | None
    """The resource type addressed (``Patient``, ``Observation``); None at the base URL."""
    interaction: str
    """``read``, ``vread``, ``search``, ``history``, ``create``, ``update``, ``patch``,
    ``delete``, ``operation``, ``capabilities`` or ``batch/transaction``."""
    operation: str | None
    """Name of an extended operation (``$everything``), when one is called."""
    base: str
    """Path up to the resource type: the FHIR service base (``/fhir/R4``)."""
    patient_data: bool
    """The resource type belongs to the Patient compartment (patient-level data)."""
    format: str | None
    """``json`` or ``xml`` when a FHIR media type (``application/fhir+json``) was given."""
