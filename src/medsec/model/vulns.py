"""Vulnerability intelligence as values: what the public feeds say, normalised across formats.

Every feed reader (``assess/vulns/``) turns its format into these records; the inventory
stores them; matching reads them back. One record kind per fact a feed states:

- ``Vulnerability``: a CVE (NVD CVE API 2.0, CVE JSON 5) with its descriptions, CVSS metrics,
  weaknesses, references, NVD applicability (``CpeMatch`` nodes) and the CNA's
  ``AffectedProduct`` list;
- ``Advisory``: a CSAF 2.0 document (CISA ICS/ICSMA advisories and vendors' own): its products
  flattened from the product tree, and per CVE the products' statuses, scores and remediations;
- ``KevEntry``: a CISA Known Exploited Vulnerabilities catalog entry;
- ``EpssScore``: FIRST's exploit prediction score of a CVE on a day;
- ``Sbom``: the components a device model or a device ships (CycloneDX, SPDX);
- ``VexStatement``: a supplier's word that a CVE does (not) affect a product (CycloneDX VEX,
  CSAF VEX).

Text is kept as the feed wrote it (trimmed); versions too - comparison is the matcher's job
(``assess/versions.py``). Values are immutable: tuples, not lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NewType

CveId = NewType("CveId", str)
"""``CVE-YYYY-NNNN...``, upper case."""

ProductStatus = Literal[
    "affected", "not_affected", "fixed", "under_investigation", "unknown", "recommended"
]
"""CSAF product status groups (known_affected -> affected, known_not_affected ->
not_affected, first_fixed/fixed -> fixed, ...), CVE 5 ``affected``/``unaffected``/``unknown``
and VEX states mapped onto one vocabulary."""


@dataclass(frozen=True, slots=True)
class CvssMetric:
    """One CVSS score a source gave a vulnerability."""

    version: str
    """``2.0``, ``3.0``, ``3.1`` or ``4.0``."""
    vector: str
    """The vector string as given (``CVSS:3.1/AV:N/AC:L/...``; v2 without prefix)."""
    base_score: float
    severity: str | None = None
    """``LOW`` ... ``CRITICAL`` when the source states it."""
    source: str | None = None
    """Who scored it (``nvd@nist.gov``, a CNA, ``CISA``)."""
    primary: bool = True
    """NVD's ``Primary`` (its own analysis) rather than ``Secondary`` (a CNA's)."""
    products: tuple[str, ...] = ()
    """The products the score is for, when the source scores per product (CSAF
    ``scores[].products``: advisory-local product ids); empty = the whole vulnerability."""


@dataclass(frozen=True, slots=True)
class CpeMatch:
    """One ``cpeMatch`` of an NVD configuration: a CPE 2.3 pattern, possibly with a version
    range, in node ``node`` of configuration ``configuration``. A configuration applies when
    its nodes combine (``operator``) true; a node is true when any (OR) or all (AND) of its
    matches are; ``negate`` inverts a node."""

    criteria: str
    """CPE 2.3 formatted string (``cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*``)."""
    vulnerable: bool
    """False for platform-only matches (``running on``)."""
    configuration: int = 0
    node: int = 0
    node_operator: Literal["OR", "AND"] = "OR"
    configuration_operator: Literal["OR", "AND"] = "OR"
    negate: bool = False
    version_start_including: str | None = None
    version_start_excluding: str | None = None
    version_end_including: str | None = None
    version_end_excluding: str | None = None


@dataclass(frozen=True, slots=True)
class VersionRange:
    """Versions of a product a statement covers. Either structured (CVE 5 ``versions[]``:
    ``version`` with ``less_than``/``less_than_or_equal``, or an exact ``version``) or, for
    free text that could not be read (CSAF branch names such as "2.3.6 and below"), ``raw``
    with whatever bounds the reader could extract."""

    version: str | None = None
    """Exact version, or the start of a range when an upper bound is given (``0``, ``*`` or
    empty = from the first)."""
    less_than: str | None = None
    less_than_or_equal: str | None = None
    greater_than: str | None = None
    """Exclusive lower bound ("> 2.0", ``vers:generic/>2.0``); ``version`` is then empty."""
    version_type: str | None = None
    """Scheme the source names (``semver``, ``custom``, ``git``, ``rpm``...)."""
    raw: str | None = None
    """The text as the feed wrote it, when it was text (``vers:generic/<=2.3.6``,
    ``All versions``, ``prior to 4.1``)."""
    all_versions: bool = False
    """The statement covers every version (``vers:all/*``, ``All versions``)."""


@dataclass(frozen=True, slots=True)
class AffectedProduct:
    """A product and the versions a statement covers, with what the statement says of them."""

    vendor: str
    product: str
    versions: tuple[VersionRange, ...] = ()
    status: ProductStatus = "affected"
    cpes: tuple[str, ...] = ()
    purls: tuple[str, ...] = ()
    product_id: str | None = None
    """CSAF ``product_id`` (advisory-local) when the product came from a product tree."""
    model_numbers: tuple[str, ...] = ()
    """CSAF ``product_identification_helper.model_numbers`` and the like."""


@dataclass(frozen=True, slots=True)
class Reference:
    url: str
    tags: tuple[str, ...] = ()
    """``Patch``, ``Vendor Advisory``, ``Third Party Advisory``, ``Exploit``..."""


@dataclass(frozen=True, slots=True)
class Remediation:
    """What to do about a vulnerability for some products (CSAF ``remediations``)."""

    category: str
    """``vendor_fix``, ``mitigation``, ``workaround``, ``no_fix_planned``, ``none_available``."""
    details: str
    product_ids: tuple[str, ...] = ()
    url: str | None = None
    date: datetime | None = None


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """A CVE as one source describes it (NVD and the CVE program may both describe it; the
    inventory keeps one record per CVE and source)."""

    cve_id: CveId
    source: str
    """``nvd``, ``cve5``, or ``csaf:<tracking id>``."""
    description: str = ""
    published: datetime | None = None
    last_modified: datetime | None = None
    status: str | None = None
    """NVD ``vulnStatus`` (``Analyzed``, ``Rejected``...) or CVE 5 ``state``."""
    cwes: tuple[str, ...] = ()
    metrics: tuple[CvssMetric, ...] = ()
    cpe_matches: tuple[CpeMatch, ...] = ()
    affected: tuple[AffectedProduct, ...] = ()
    references: tuple[Reference, ...] = ()
    assigner: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class AdvisoryVulnerability:
    """One vulnerability entry of a CSAF document."""

    cve_id: CveId | None
    """None for entries without a CVE (some advisories track ids of their own)."""
    title: str | None = None
    cwes: tuple[str, ...] = ()
    metrics: tuple[CvssMetric, ...] = ()
    products: tuple[tuple[str, ProductStatus], ...] = ()
    """(product_id, status) pairs from ``product_status``."""
    remediations: tuple[Remediation, ...] = ()
    notes: tuple[str, ...] = ()
    """Summary/description notes, as text."""
    release_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class Advisory:
    """A CSAF 2.0 advisory: its identity, its products and its vulnerabilities."""

    tracking_id: str
    """``document.tracking.id`` (``ICSMA-24-254-01``)."""
    title: str
    publisher: str
    initial_release: datetime | None
    current_release: datetime | None
    products: tuple[AffectedProduct, ...]
    """Every product of the product tree (full product names, relationships resolved), with
    vendor and version normalised; ``status`` is left ``unknown`` (statuses are per CVE)."""
    vulnerabilities: tuple[AdvisoryVulnerability, ...]
    url: str | None = None
    """The document's ``self`` reference, when given."""
    document_category: str = "csaf_security_advisory"
    """``csaf_security_advisory``, ``csaf_vex``, ``csaf_base``..."""
    version: str | None = None
    """``document.tracking.version``."""


@dataclass(frozen=True, slots=True)
class KevEntry:
    cve_id: CveId
    vendor: str
    product: str
    name: str
    date_added: date
    due_date: date | None
    required_action: str
    known_ransomware: bool | None
    """``Known`` -> True, ``Unknown`` -> None."""
    notes: str = ""
    cwes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EpssScore:
    cve_id: CveId
    score: float
    """Probability of exploitation activity in the next 30 days (0-1)."""
    percentile: float
    scored_on: date | None
    """The ``score_date`` of the file's header, when given."""
    model_version: str | None = None


@dataclass(frozen=True, slots=True)
class Component:
    """A component an SBOM lists."""

    name: str
    version: str | None = None
    supplier: str | None = None
    purl: str | None = None
    cpe: str | None = None
    kind: str | None = None
    """CycloneDX ``type`` (library, operating-system, firmware...) or SPDX purpose."""
    ref: str | None = None
    """``bom-ref`` / SPDX id, for VEX statements that point at it."""
    licenses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sbom:
    format: Literal["cyclonedx", "spdx"]
    spec_version: str
    serial: str | None
    """CycloneDX serialNumber / SPDX documentNamespace."""
    subject: Component | None
    """What the SBOM describes (CycloneDX metadata.component; SPDX described package)."""
    components: tuple[Component, ...]
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class VexStatement:
    """A supplier's statement about one CVE and the products or components it names."""

    cve_id: CveId
    status: ProductStatus
    justification: str | None = None
    """CycloneDX ``analysis.justification`` / CSAF flags (``code_not_reachable``...)."""
    detail: str | None = None
    refs: tuple[str, ...] = ()
    """What it is about: purls, CPEs, bom-refs or CSAF product ids."""
    versions: tuple[VersionRange, ...] = ()
    """The versions of those products the statement covers (CycloneDX ``affects[].versions``);
    empty = the products as named."""
    source: str = ""
    """The document that said it (serial number, tracking id, file name)."""


FeedRecord = Vulnerability | Advisory | KevEntry | EpssScore | Sbom | VexStatement
"""Anything a feed reader yields."""
