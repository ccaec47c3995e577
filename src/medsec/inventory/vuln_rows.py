"""Writing and reading vulnerability intelligence (``model.vulns`` records) in the store.

Records are written in batches, each an upsert on its natural key (a CVE per source, an
advisory's tracking id, a KEV or EPSS entry's CVE, an SBOM's serial number, a VEX statement's
CVE + source + refs), so importing a feed again updates what changed and never duplicates.
The whole record is kept as JSON; the lookup tables (``vulnerability_products``,
``advisory_products``, ``advisory_cves``, ``sbom_components``) are rewritten for the records
a batch touched. An SBOM's attachment (to a device model or to one device) is not part of the
record: importing the SBOM again keeps it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from types import UnionType
from typing import Any, Literal, Union, cast, get_args, get_origin, get_type_hints

from sqlalchemy import Connection, Table, delete, exists, func, select, tuple_, update

from medsec.inventory.vuln_models import (
    AdvisoryCveRow,
    AdvisoryProductRow,
    AdvisoryRow,
    EpssRow,
    FeedImportRow,
    KevRow,
    SbomComponentRow,
    SbomRow,
    VexRow,
    VulnerabilityProductRow,
    VulnerabilityRow,
)
from medsec.model.vulns import (
    Advisory,
    Component,
    CveId,
    CvssMetric,
    EpssScore,
    FeedRecord,
    KevEntry,
    Sbom,
    VexStatement,
    Vulnerability,
)

Insert = Callable[[Table], Any]
"""The dialect's ``insert`` (``sqlite.insert`` / ``postgresql.insert``: with ON CONFLICT)."""

BATCH = 500
"""Records per statement: well under SQLite's 32,766 bound parameters."""

_TOKEN = re.compile(r"[^0-9a-z]+")


def token(text: str) -> str:
    """A vendor or product name as a lookup token: lower case, other characters as ``_``
    (the shape of NVD CPE vendor and product names: ``offis``, ``dcmtk``, ``ge_healthcare``)."""
    return _TOKEN.sub("_", text.casefold()).strip("_")


@lru_cache(maxsize=1 << 16)
def cpe_vendor_product(criteria: str) -> tuple[str, str] | None:
    """Vendor and product of a CPE 2.3 formatted string (or 2.2 URI), unescaped, as tokens."""
    if criteria.startswith("cpe:2.3:"):
        parts = re.split(r"(?<!\\):", criteria)
        if len(parts) < 5:
            return None
        vendor, product = parts[3], parts[4]
    elif criteria.startswith("cpe:/"):
        parts = criteria[5:].split(":")
        if len(parts) < 3:
            return None
        vendor, product = parts[1], parts[2]
    else:
        return None
    vendor, product = (re.sub(r"\\(.)", r"\1", v) for v in (vendor, product))
    if vendor in ("*", "-", "") or product in ("*", "-", ""):
        return None
    return token(vendor), token(product)


# -- records as JSON ---------------------------------------------------------------------------


def as_json(value: Any) -> Any:
    """A record (or any part of one) as JSON values: dataclasses as objects, tuples as arrays,
    dates as ISO text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [as_json(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def best_metric(metrics: Iterable[CvssMetric]) -> CvssMetric | None:
    """The score to show: the newest CVSS version, a primary (NVD's own) one first."""
    ranked = sorted(metrics, key=lambda m: (m.primary, _VERSION_RANK.get(m.version, 0)))
    return ranked[-1] if ranked else None


_VERSION_RANK = {"3.1": 4, "4.0": 3, "3.0": 2, "2.0": 1}
"""v3.1 before v4.0: NVD's own analyses and the HICP thresholds are in 3.1; a 4.0 score
shows when no 3.1 one exists."""


def from_json(kind: Any, value: Any) -> Any:
    """The inverse of :func:`as_json` for a type of ``model.vulns`` (dataclasses, tuples,
    optionals, dates and datetimes, literals and str NewTypes)."""
    if value is None:
        return None
    origin = get_origin(kind)
    if origin in (UnionType, Union):
        options = [a for a in get_args(kind) if a is not type(None)]
        return from_json(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        args = get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_json(args[0], v) for v in value)
        return tuple(from_json(a, v) for a, v in zip(args, value, strict=False))
    if origin is Literal:
        return value
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        return kind(**{k: from_json(hints[k], v) for k, v in value.items() if k in hints})
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return value


@lru_cache(maxsize=64)
def _hints(kind: type) -> dict[str, Any]:
    return get_type_hints(kind)


# -- writing -----------------------------------------------------------------------------------


def write_records(
    conn: Connection,
    insert: Insert,
    records: Sequence[FeedRecord],
    now: datetime,
    *,
    source: str = "",
) -> Counter[str]:
    """Upsert ``records`` (any mix of kinds); how many of each kind were written.

    ``source``: the file they came from (an SBOM without a serial number is keyed by it).
    """
    by_kind: dict[type, list[Any]] = {}
    for record in records:
        by_kind.setdefault(type(record), []).append(record)
    written: Counter[str] = Counter()
    for kind, items in by_kind.items():
        for start in range(0, len(items), BATCH):
            chunk = items[start : start + BATCH]
            _WRITERS[kind](conn, insert, chunk, now, source)
            written[kind.__name__] += len(chunk)
    return written


def _last_by(items: Sequence[Any], key: Callable[[Any], Any]) -> list[Any]:
    """One item per key, the last one (a feed naming a record twice: the later wins)."""
    return list({key(i): i for i in items}.values())


def _upsert(
    conn: Connection,
    insert: Insert,
    table: Table,
    rows: list[dict[str, Any]],
    keys: Sequence[str],
) -> dict[tuple[Any, ...], int]:
    """Insert or update ``rows`` on ``keys``; their ids by key."""
    if not rows:
        return {}
    stmt = insert(table).values(rows)
    updated = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=updated)
    stmt = stmt.returning(table.c.id, *(table.c[k] for k in keys))
    return {tuple(r[1:]): r[0] for r in conn.execute(stmt)}


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _write_vulnerabilities(
    conn: Connection, insert: Insert, items: Sequence[Vulnerability], now: datetime, _src: str
) -> None:
    items = _last_by(items, lambda v: (v.cve_id, v.source))
    rows = []
    for v in items:
        metric = best_metric(v.metrics)
        rows.append(
            {
                "cve_id": v.cve_id,
                "source": v.source,
                "status": v.status,
                "published": v.published,
                "last_modified": v.last_modified,
                "cvss_version": metric.version if metric else None,
                "cvss_score": metric.base_score if metric else None,
                "cvss_vector": metric.vector[:200] if metric else None,
                "severity": metric.severity if metric else None,
                "record": as_json(v),
                "imported_at": now,
            }
        )
    ids = _upsert(conn, insert, _table(VulnerabilityRow), rows, ("cve_id", "source"))
    products = _table(VulnerabilityProductRow)
    conn.execute(delete(products).where(products.c.vulnerability_id.in_(list(ids.values()))))
    links: set[tuple[int, str, str]] = set()
    for v in items:
        vid = ids[(v.cve_id, v.source)]
        for m in v.cpe_matches:
            found = cpe_vendor_product(m.criteria)
            if found is not None:
                links.add((vid, *found))
        for a in v.affected:
            for cpe in a.cpes:
                found = cpe_vendor_product(cpe)
                if found is not None:
                    links.add((vid, *found))
            vendor, product = token(a.vendor), token(a.product)
            if vendor and product:
                links.add((vid, vendor[:128], product[:200]))
    if links:
        conn.execute(
            insert(products),
            [{"vulnerability_id": i, "vendor": v, "product": p} for i, v, p in sorted(links)],
        )


def _write_advisories(
    conn: Connection, insert: Insert, items: Sequence[Advisory], now: datetime, _src: str
) -> None:
    items = _last_by(items, lambda a: a.tracking_id)
    rows = [
        {
            "tracking_id": a.tracking_id,
            "title": a.title,
            "publisher": a.publisher,
            "category": a.document_category[:48],
            "initial_release": a.initial_release,
            "current_release": a.current_release,
            "record": as_json(a),
            "imported_at": now,
        }
        for a in items
    ]
    ids = _upsert(conn, insert, _table(AdvisoryRow), rows, ("tracking_id",))
    products, cves = _table(AdvisoryProductRow), _table(AdvisoryCveRow)
    touched = list(ids.values())
    conn.execute(delete(products).where(products.c.advisory_id.in_(touched)))
    conn.execute(delete(cves).where(cves.c.advisory_id.in_(touched)))
    product_rows: set[tuple[int, str, str]] = set()
    cve_rows: set[tuple[int, str]] = set()
    for a in items:
        aid = ids[(a.tracking_id,)]
        for p in a.products:
            vendor, product = token(p.vendor), token(p.product)
            if vendor and product:
                product_rows.add((aid, vendor[:128], product[:300]))
        for v in a.vulnerabilities:
            if v.cve_id:
                cve_rows.add((aid, v.cve_id))
    if product_rows:
        conn.execute(
            insert(products),
            [{"advisory_id": i, "vendor": v, "product": p} for i, v, p in sorted(product_rows)],
        )
    if cve_rows:
        conn.execute(insert(cves), [{"advisory_id": i, "cve_id": c} for i, c in sorted(cve_rows)])


def _write_kev(
    conn: Connection, insert: Insert, items: Sequence[KevEntry], _now: datetime, _src: str
) -> None:
    rows = [
        {
            "cve_id": k.cve_id,
            "vendor": k.vendor,
            "product": k.product,
            "name": k.name,
            "date_added": k.date_added,
            "due_date": k.due_date,
            "known_ransomware": k.known_ransomware,
            "required_action": k.required_action,
            "notes": k.notes,
        }
        for k in _last_by(items, lambda k: k.cve_id)
    ]
    _upsert(conn, insert, _table(KevRow), rows, ("cve_id",))


def _write_epss(
    conn: Connection, insert: Insert, items: Sequence[EpssScore], _now: datetime, _src: str
) -> None:
    rows = [
        {
            "cve_id": e.cve_id,
            "score": e.score,
            "percentile": e.percentile,
            "scored_on": e.scored_on,
            "model_version": e.model_version,
        }
        for e in _last_by(items, lambda e: e.cve_id)
    ]
    _upsert(conn, insert, _table(EpssRow), rows, ("cve_id",))


def sbom_key(sbom: Sbom, source: str) -> str:
    """The SBOM's identity: its serial number, else the file it came from."""
    return (sbom.serial or f"file:{source}")[:256]


def _write_sboms(
    conn: Connection, insert: Insert, items: Sequence[Sbom], now: datetime, source: str
) -> None:
    items = _last_by(items, lambda s: sbom_key(s, source))
    rows = [
        {
            "key": sbom_key(s, source),
            "format": s.format,
            "spec_version": s.spec_version[:16],
            "subject_name": s.subject.name if s.subject else None,
            "subject_version": s.subject.version if s.subject else None,
            "created": s.created,
            "source": source,
            "imported_at": now,
        }
        for s in items
    ]
    ids = _upsert(conn, insert, _table(SbomRow), rows, ("key",))
    components = _table(SbomComponentRow)
    conn.execute(delete(components).where(components.c.sbom_id.in_(list(ids.values()))))
    component_rows = [
        {
            "sbom_id": ids[(sbom_key(s, source),)],
            "name": c.name,
            "version": c.version,
            "supplier": c.supplier,
            "purl": c.purl[:1000] if c.purl else None,
            "cpe": c.cpe,
            "kind": c.kind[:32] if c.kind else None,
            "ref": c.ref,
        }
        for s in items
        for c in s.components
    ]
    for start in range(0, len(component_rows), BATCH):
        conn.execute(insert(components), component_rows[start : start + BATCH])


def refs_key(statement: VexStatement) -> str:
    """A statement's identity within its source: what it names, its status and the versions
    it covers (one document may say "affected" of 2.4 and "not affected" of 2.9-4.1)."""
    parts = [*sorted(statement.refs), statement.status, repr(as_json(statement.versions))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:64]


def _write_vex(
    conn: Connection, insert: Insert, items: Sequence[VexStatement], _now: datetime, src: str
) -> None:
    items = _last_by(items, lambda s: (s.cve_id, s.source or src, refs_key(s)))
    rows = [
        {
            "cve_id": s.cve_id,
            "source": (s.source or src)[:300],
            "refs_key": refs_key(s),
            "status": s.status,
            "record": as_json(s),
        }
        for s in items
    ]
    _upsert(conn, insert, _table(VexRow), rows, ("cve_id", "source", "refs_key"))


_WRITERS: Mapping[type, Callable[[Connection, Insert, Sequence[Any], datetime, str], None]] = {
    Vulnerability: _write_vulnerabilities,
    Advisory: _write_advisories,
    KevEntry: _write_kev,
    EpssScore: _write_epss,
    Sbom: _write_sboms,
    VexStatement: _write_vex,
}


def record_import(
    conn: Connection,
    *,
    path: str,
    format: str,
    records: int,
    skipped: int,
    status: str,
    error: str | None,
    started_at: datetime,
    finished_at: datetime,
) -> None:
    conn.execute(
        _table(FeedImportRow)
        .insert()
        .values(
            path=path,
            format=format,
            records=records,
            skipped=skipped,
            status=status,
            error=error,
            started_at=started_at,
            finished_at=finished_at,
        )
    )


def counts(conn: Connection) -> dict[str, int]:
    """How many records of each kind the store holds."""
    out = {}
    for name, model in (
        ("vulnerabilities", VulnerabilityRow),
        ("advisories", AdvisoryRow),
        ("kev_entries", KevRow),
        ("epss_scores", EpssRow),
        ("sboms", SbomRow),
        ("sbom_components", SbomComponentRow),
        ("vex_statements", VexRow),
    ):
        out[name] = int(conn.execute(select(func.count()).select_from(_table(model))).scalar_one())
    return out


def anything_to_match(conn: Connection) -> bool:
    """Whether the store holds a vulnerability or an advisory: what devices are matched
    against (one query that stops at the first row)."""
    found = exists(select(_table(VulnerabilityRow).c.id)) | exists(select(_table(AdvisoryRow).c.id))
    return bool(conn.execute(select(found)).scalar_one())


# -- reading ---------------------------------------------------------------------------------


def vulnerabilities_for(conn: Connection, pairs: Iterable[tuple[str, str]]) -> list[Vulnerability]:
    """Every stored vulnerability naming one of the (vendor, product) tokens."""
    wanted = sorted(set(pairs))
    vulns, products = _table(VulnerabilityRow), _table(VulnerabilityProductRow)
    ids: set[int] = set()
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        query = select(products.c.vulnerability_id).where(
            tuple_(products.c.vendor, products.c.product).in_(chunk)
        )
        ids.update(conn.execute(query).scalars())
    out: list[Vulnerability] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), BATCH):
        query = select(vulns.c.record).where(vulns.c.id.in_(ordered[start : start + BATCH]))
        out.extend(from_json(Vulnerability, r) for r in conn.execute(query).scalars())
    return out


def advisories_for(conn: Connection, vendors: Iterable[str]) -> list[Advisory]:
    """Every stored advisory with a product of one of the vendors (tokens)."""
    advisories, products = _table(AdvisoryRow), _table(AdvisoryProductRow)
    query = (
        select(advisories.c.record)
        .where(
            advisories.c.id.in_(
                select(products.c.advisory_id).where(products.c.vendor.in_(sorted(set(vendors))))
            )
        )
        .order_by(advisories.c.tracking_id)
    )
    return [from_json(Advisory, r) for r in conn.execute(query).scalars()]


def exploitation(
    conn: Connection, cves: Iterable[str]
) -> tuple[dict[str, KevEntry], dict[str, EpssScore]]:
    """KEV entries and EPSS scores of the CVEs."""
    wanted = sorted(set(cves))
    kev, epss = _table(KevRow), _table(EpssRow)
    known: dict[str, KevEntry] = {}
    scores: dict[str, EpssScore] = {}
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        for r in conn.execute(select(kev).where(kev.c.cve_id.in_(chunk))):
            known[r.cve_id] = KevEntry(
                CveId(r.cve_id), r.vendor, r.product, r.name, r.date_added, r.due_date,
                r.required_action, r.known_ransomware, r.notes,
            )  # fmt: skip
        for r in conn.execute(select(epss).where(epss.c.cve_id.in_(chunk))):
            scores[r.cve_id] = EpssScore(
                CveId(r.cve_id), r.score, r.percentile, r.scored_on, r.model_version
            )
    return known, scores


def vex_for(conn: Connection, cves: Iterable[str]) -> list[VexStatement]:
    """The VEX statements about the CVEs."""
    wanted = sorted(set(cves))
    table = _table(VexRow)
    out: list[VexStatement] = []
    for start in range(0, len(wanted), BATCH):
        query = select(table.c.record).where(table.c.cve_id.in_(wanted[start : start + BATCH]))
        out.extend(from_json(VexStatement, r) for r in conn.execute(query).scalars())
    return out


def vulnerabilities_for_names(conn: Connection, products: Iterable[str]) -> list[Vulnerability]:
    """Every stored vulnerability naming one of the product tokens, whatever the vendor (an
    SBOM component known by its name only)."""
    wanted = sorted({p for p in products if p})
    vulns, named = _table(VulnerabilityRow), _table(VulnerabilityProductRow)
    ids: set[int] = set()
    for start in range(0, len(wanted), BATCH):
        query = select(named.c.vulnerability_id).where(
            named.c.product.in_(wanted[start : start + BATCH])
        )
        ids.update(conn.execute(query).scalars())
    out: list[Vulnerability] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), BATCH):
        query = select(vulns.c.record).where(vulns.c.id.in_(ordered[start : start + BATCH]))
        out.extend(from_json(Vulnerability, r) for r in conn.execute(query).scalars())
    return out


# -- SBOMs and what they are attached to ------------------------------------------------------

AttachedKind = Literal["model", "device"]


@dataclass(frozen=True, slots=True)
class SbomView:
    """An imported SBOM as listings show it."""

    id: int
    key: str
    """Its serial number (CycloneDX ``serialNumber``, SPDX ``documentNamespace``), else
    ``file:<path>``."""
    format: str
    spec_version: str
    subject_name: str | None
    subject_version: str | None
    created: datetime | None
    source: str
    """The file it was last imported from."""
    imported_at: datetime
    components: int
    attached_kind: AttachedKind | None
    """``model`` (``attached_to`` is ``Vendor|Model``), ``device`` (a device id) or None."""
    attached_to: str | None

    @property
    def serial(self) -> str | None:
        """The serial number, None when the SBOM is known by its file."""
        return None if self.key.startswith("file:") else self.key

    @property
    def subject(self) -> str:
        """What it describes, as shown (``REDACTED 1.2``), else its key."""
        named = " ".join(p for p in (self.subject_name, self.subject_version) if p)
        return named or self.key


def _sbom_query() -> Any:
    sboms, components = _table(SbomRow), _table(SbomComponentRow)
    counted = (
        select(components.c.sbom_id, func.count().label("n"))
        .group_by(components.c.sbom_id)
        .subquery()
    )
    return select(sboms, func.coalesce(counted.c.n, 0).label("n")).outerjoin(
        counted, counted.c.sbom_id == sboms.c.id
    )


def _sbom_view(row: Any) -> SbomView:
    return SbomView(
        id=row.id,
        key=row.key,
        format=row.format,
        spec_version=row.spec_version,
        subject_name=row.subject_name,
        subject_version=row.subject_version,
        created=row.created,
        source=row.source,
        imported_at=row.imported_at,
        components=int(row.n),
        attached_kind=cast(AttachedKind | None, row.attached_kind),
        attached_to=row.attached_to,
    )


def sboms(conn: Connection, *, attached_only: bool = False) -> list[SbomView]:
    """The stored SBOMs by id (only those attached to something, when asked)."""
    table = _table(SbomRow)
    query = _sbom_query()
    if attached_only:
        query = query.where(table.c.attached_kind.is_not(None))
    return [_sbom_view(r) for r in conn.execute(query.order_by(table.c.id))]


def sbom(conn: Connection, ref: str) -> SbomView | None:
    """The SBOM ``ref`` names: its id, else its key (serial number or ``file:<path>``)."""
    table = _table(SbomRow)
    text = ref.strip()
    if text.isascii() and text.isdigit() and len(text) < 19:
        found = conn.execute(_sbom_query().where(table.c.id == int(text))).first()
        if found is not None:
            return _sbom_view(found)
    found = conn.execute(_sbom_query().where(table.c.key == text)).first()
    return _sbom_view(found) if found is not None else None


def attach_sbom(
    conn: Connection, sbom_id: int, kind: AttachedKind | None, to: str | None
) -> SbomView | None:
    """Attach the SBOM to ``to`` (a ``Vendor|Model`` or a device id), or detach it (None);
    the SBOM as it is now, None when there is no such SBOM."""
    table = _table(SbomRow)
    conn.execute(
        update(table)
        .where(table.c.id == sbom_id)
        .values(attached_kind=kind, attached_to=to[:300] if to is not None else None)
    )
    return sbom(conn, str(sbom_id))


def sbom_components(conn: Connection, sbom_ids: Iterable[int]) -> dict[int, list[Component]]:
    """The components of the SBOMs, in the order imported, by SBOM id."""
    wanted = sorted(set(sbom_ids))
    table = _table(SbomComponentRow)
    out: dict[int, list[Component]] = {i: [] for i in wanted}
    for start in range(0, len(wanted), BATCH):
        query = (
            select(table)
            .where(table.c.sbom_id.in_(wanted[start : start + BATCH]))
            .order_by(table.c.sbom_id, table.c.id)
        )
        for r in conn.execute(query):
            out[r.sbom_id].append(
                Component(
                    name=r.name,
                    version=r.version,
                    supplier=r.supplier,
                    purl=r.purl,
                    cpe=r.cpe,
                    kind=r.kind,
                    ref=r.ref,
                )
            )
    return out
