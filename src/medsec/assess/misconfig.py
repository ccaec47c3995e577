"""Misconfigurations discovery saw, each with the evidence it rests on.

Four kinds, from what identification concluded and what crossed the wire:

- ``default_credentials``: the device's vendor and model are a product with default or
  hard-coded accounts (``rules/vulns/default_credentials.yaml``, each entry citing its
  advisory); worse when a login with one of those account names was seen in clear;
- ``management_in_clear``: Telnet or FTP sessions to the device, HTTP Basic authentication
  sent to it, SNMPv1/v2c it answered (or trapped) - the community flagged when it is a
  well-known default, and never repeated when it is not;
- ``end_of_life_os``: its OS release is past the vendor's end of security updates
  (``rules/vulns/end_of_life.yaml``) on the day asked about;
- ``tls_certificate``: a clinical service (a medical device, or a device serving DICOM, HL7,
  FHIR, POCT1-A) presented a certificate that was expired when seen, or self-signed.

Everything here is pure: inputs are plain values (``DeviceFacts``, ``Conversation`` for an
edge, ``Sighting`` for a stored observation with its facts as JSON values); facts are read
defensively (a missing or mistyped field is as if not seen). ``service/misconfig.py`` reads the
store and calls ``find_misconfigurations``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import jsonschema
import yaml

from medsec.assess.vulns.vendors import VendorNames, shipped_vendor_names, vendor_key
from medsec.model.errors import RuleError

MisconfigKind = Literal[
    "default_credentials", "management_in_clear", "end_of_life_os", "tls_certificate"
]
KINDS: tuple[MisconfigKind, ...] = get_args(MisconfigKind)
Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)

CLINICAL_APPS = frozenset({"dicom", "hl7", "fhir", "poct1a"})
"""Applications (as dissectors name them) that make a device's TLS service clinical."""
CLINICAL_TLS_PORTS = frozenset({2762})
"""Ports whose TLS service is clinical by registration: 2762 dicom-tls (IANA, DICOM PS3.15)."""
_INTERFACE_APPS = {"telnet": "telnet", "ftp": "ftp", "ssh": "ssh", "smb": "smb", "http": "http"}
"""Credential interfaces of the data file whose use shows as an application on the wire."""
_SNMP_ANSWERS = frozenset({"get-response", "response", "report"})
_SNMP_TRAPS = frozenset({"trap", "snmpV2-trap", "inform-request"})
_MAX_EVIDENCE = 10
"""Evidence items kept per finding (the basis counts all of them)."""


# ------------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Evidence:
    """One thing seen that a finding rests on."""

    observation: str
    """Observation kind (``CleartextCredentials``, ``SnmpMessage``, ``TlsCertificate``...),
    ``flow`` for conversations of the flow records, or the kind an identified attribute
    came from."""
    time: datetime | None
    peer: str | None = None
    """The other end: the client that logged in, polled or connected."""
    port: int | None = None
    """The device's service port."""
    transport: str | None = None
    flow_id: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Misconfiguration:
    """A misconfiguration of one device, why medsec believes it, and where it is written."""

    kind: MisconfigKind
    device_id: int
    device: str
    """How the device is shown (its first IP, else its key)."""
    severity: Severity
    title: str
    basis: str
    """Why, in a sentence or two: what was seen, compared with what."""
    evidence: tuple[Evidence, ...]
    reference: str
    """The source of the knowledge applied (advisory id and CVEs, lifecycle page, RFC)."""
    url: str | None = None


@dataclass(frozen=True, slots=True)
class HeldAddress:
    ip: str
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What identification says of a device (the inputs of these checks)."""

    device_id: int
    shown: str
    category: str = "unknown"
    medical: bool = False
    vendor: str | None = None
    model: str | None = None
    os: str | None = None
    os_version: str | None = None
    addresses: tuple[HeldAddress, ...] = ()
    services: tuple[str, ...] = ()
    """Applications the device serves (``dicom``, ``telnet``, ``tls``...)."""
    model_confidence: int = 0
    os_confidence: int = 0
    """The lower of ``os`` and ``os_version``'s confidence."""
    model_evidence: tuple[Evidence, ...] = ()
    os_evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class Conversation:
    """An edge: all flows from ``client`` to the service ``server``:``server_port``."""

    client: str
    server: str
    transport: str
    server_port: int
    apps: tuple[str, ...]
    cleartext: bool
    credentials_in_clear: bool
    first_seen: datetime
    last_seen: datetime
    flows: int = 1


@dataclass(frozen=True, slots=True)
class Sighting:
    """A stored observation: where and when, and its facts as JSON values."""

    kind: str
    time: datetime
    src_ip: str | None
    dst_ip: str | None
    src_port: int
    dst_port: int
    transport: str
    flow_id: int
    facts: Mapping[str, Any] = field(hash=False, compare=False)


# ------------------------------------------------------------------------ knowledge tables


@dataclass(frozen=True, slots=True)
class CredentialEntry:
    """A product with default or hard-coded accounts, as its source states."""

    id: str
    vendor: str
    models: tuple[re.Pattern[str], ...]
    """Matched against the whole model: the affected products."""
    product_lines: tuple[re.Pattern[str], ...]
    """Product lines that include them: a device of one may be affected."""
    product: str
    credential: str
    """``default``, ``hard-coded`` or ``fixed``."""
    accounts: tuple[str, ...]
    interfaces: tuple[str, ...]
    access: str
    cves: tuple[str, ...]
    reference: str
    url: str | None
    source: str


@dataclass(frozen=True, slots=True)
class CredentialTable:
    entries: tuple[CredentialEntry, ...]
    communities: frozenset[str]
    """Well-known SNMP communities (compared exactly; an empty community counts too)."""
    community_reference: str = ""
    community_url: str | None = None


@dataclass(frozen=True, slots=True)
class LifecycleEntry:
    """An OS release and the end of its vendor's security updates."""

    os: str
    version: str
    end_of_support: date
    extended_until: date | None
    note: str | None
    source: str
    url: str | None


@dataclass(frozen=True, slots=True)
class LifecycleTable:
    systems: tuple[LifecycleEntry, ...]
    aliases: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """(os, name, the versions it stands for)."""

    def entry(self, os: str, version: str) -> LifecycleEntry | None:
        """The release ``version`` of ``os`` belongs to: equal, or continued after a dot
        (``8.1.0`` -> ``8.1``); the longest such entry."""
        o, v = os.casefold(), version.strip().casefold()
        found = [
            e
            for e in self.systems
            if e.os.casefold() == o
            and (v == e.version.casefold() or v.startswith(e.version.casefold() + "."))
        ]
        return max(found, key=lambda e: len(e.version), default=None)

    def alternatives(self, os: str, value: str) -> list[tuple[str, LifecycleEntry | None]]:
        """Each release ``value`` may name ("7 / Server 2008 R2", "NT 6.1", "98/ME"), with its
        entry (None when not listed)."""
        out: list[tuple[str, LifecycleEntry | None]] = []
        for part in (p.strip() for p in value.split("/")):
            if not part:
                continue
            meant = next(
                (
                    means
                    for alias_os, name, means in self.aliases
                    if alias_os.casefold() == os.casefold() and name.casefold() == part.casefold()
                ),
                (part,),
            )
            out.extend((m, self.entry(os, m)) for m in meant)
        return list(dict.fromkeys(out))


def _iso_dates(value: Any) -> Any:
    """YAML reads ``2014-04-08`` as a date; the schema checks text."""
    if isinstance(value, dict):
        return {k: _iso_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_dates(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


@lru_cache(maxsize=4)
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("medsec.rules").joinpath(f"schemas/{name}").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _validate(document: Any, schema: str, source: str) -> Any:
    document = _iso_dates(document)
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(_schema(schema)).iter_errors(document)
    )
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise RuleError(f"{source}: {where}: {error.message}")
    return document


def _day(text: str, source: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise RuleError(f"{source}: {where}: {text!r} is not a date") from exc


def parse_default_credentials(document: Any, source: str) -> CredentialTable:
    """The table of one parsed document; ``RuleError`` naming the file and the path when it
    breaks the schema, repeats an id or holds a pattern that does not compile."""
    document = _validate(document, "default_credentials.schema.json", source)
    entries: list[CredentialEntry] = []
    for i, raw in enumerate(document["credentials"]):
        patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
        for key in ("models", "product_lines"):
            try:
                patterns[key] = tuple(re.compile(p, re.IGNORECASE) for p in raw.get(key, ()))
            except re.error as exc:
                raise RuleError(f"{source}: credentials/{i}/{key}: {exc}") from exc
        if any(e.id == raw["id"] for e in entries):
            raise RuleError(f"{source}: credentials/{i}: id {raw['id']!r} appears twice")
        entries.append(
            CredentialEntry(
                id=raw["id"],
                vendor=raw["vendor"],
                models=patterns["models"],
                product_lines=patterns["product_lines"],
                product=raw["product"],
                credential=raw["credential"],
                accounts=tuple(raw["accounts"]),
                interfaces=tuple(raw.get("interfaces", ())),
                access=raw["access"],
                cves=tuple(raw["cves"]),
                reference=raw["reference"],
                url=raw.get("url"),
                source=raw["source"],
            )
        )
    snmp = document.get("snmp_communities") or {}
    return CredentialTable(
        entries=tuple(entries),
        communities=frozenset(snmp.get("names", ())),
        community_reference=snmp.get("reference", ""),
        community_url=snmp.get("url"),
    )


def parse_end_of_life(document: Any, source: str) -> LifecycleTable:
    """The table of one parsed document; ``RuleError`` naming the file and the path when it
    breaks the schema, holds an impossible date, an extension ending before support does, a
    release twice, or an alias that means no listed release (it may name unlisted ones too:
    NT 10.0 is 10 or 11)."""
    document = _validate(document, "end_of_life.schema.json", source)
    systems: list[LifecycleEntry] = []
    for i, raw in enumerate(document["systems"]):
        where = f"systems/{i}"
        end = _day(raw["end_of_support"], source, f"{where}/end_of_support")
        extended = raw.get("extended_until")
        until = _day(extended, source, f"{where}/extended_until") if extended else None
        if until is not None and until < end:
            raise RuleError(f"{source}: {where}: extended_until is before end_of_support")
        entry = LifecycleEntry(
            raw["os"], raw["version"], end, until, raw.get("note"), raw["source"], raw.get("url")
        )
        if any((e.os, e.version) == (entry.os, entry.version) for e in systems):
            raise RuleError(f"{source}: {where}: {entry.os} {entry.version} appears twice")
        systems.append(entry)
    aliases = []
    listed = {(e.os.casefold(), e.version.casefold()) for e in systems}
    for i, raw in enumerate(document.get("aliases", ())):
        if not any((raw["os"].casefold(), m.casefold()) in listed for m in raw["means"]):
            raise RuleError(f"{source}: aliases/{i}: {raw['name']!r} means no listed release")
        aliases.append((raw["os"], raw["name"], tuple(raw["means"])))
    return LifecycleTable(tuple(systems), tuple(aliases))


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path | Any, source: str) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise RuleError(f"{source}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise RuleError(f"{source}: not valid YAML: {exc}") from exc


@lru_cache(maxsize=1)
def shipped_default_credentials() -> CredentialTable:
    """``rules/vulns/default_credentials.yaml`` (read once)."""
    name = "vulns/default_credentials.yaml"
    return parse_default_credentials(
        _read(resources.files("medsec.rules").joinpath(name), name), name
    )


@lru_cache(maxsize=1)
def shipped_end_of_life() -> LifecycleTable:
    """``rules/vulns/end_of_life.yaml`` (read once)."""
    name = "vulns/end_of_life.yaml"
    return parse_end_of_life(_read(resources.files("medsec.rules").joinpath(name), name), name)


# ------------------------------------------------------------------- reading facts safely


def _text(facts: Mapping[str, Any], key: str) -> str | None:
    value = facts.get(key)
    return value if isinstance(value, str) else None


def _flag(facts: Mapping[str, Any], key: str) -> bool:
    return facts.get(key) is True


def _number(facts: Mapping[str, Any], key: str) -> int | None:
    value = facts.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _moment(facts: Mapping[str, Any], key: str) -> datetime | None:
    """An ISO 8601 time of the facts (UTC when it names no zone); None when unreadable."""
    text = _text(facts, key)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _stamp(when: datetime | None) -> str:
    return _aware(when).strftime("%Y-%m-%d %H:%M:%S") if when else "?"


# ------------------------------------------------------------------------ who is who


class _Owners:
    """IP -> the device that held it at a time."""

    def __init__(self, devices: Iterable[DeviceFacts]) -> None:
        self._held: dict[str, list[tuple[HeldAddress, DeviceFacts]]] = defaultdict(list)
        for d in devices:
            for a in d.addresses:
                self._held[a.ip].append((a, d))

    def at(self, ip: str | None, when: datetime | None) -> DeviceFacts | None:
        held = self._held.get(ip or "")
        if not held:
            return None
        if len(held) == 1 or when is None:
            return held[0][1]
        moment = _aware(when)

        def distance(pair: tuple[HeldAddress, DeviceFacts]) -> float:
            a = pair[0]
            if _aware(a.first_seen) <= moment <= _aware(a.last_seen):
                return 0.0
            return min(
                abs((moment - _aware(a.first_seen)).total_seconds()),
                abs((moment - _aware(a.last_seen)).total_seconds()),
            )

        return min(held, key=distance)[1]


@dataclass(frozen=True, slots=True)
class _Ends:
    server: str
    peer: str | None
    port: int


class _Services:
    """The conversations, to tell which end of an observation is the server."""

    def __init__(self, conversations: Iterable[Conversation]) -> None:
        self.all = tuple(conversations)
        self._keys = {(c.client, c.server, c.transport, c.server_port) for c in self.all}

    def ends(self, s: Sighting) -> _Ends | None:
        src, dst = s.src_ip, s.dst_ip
        if src is None or dst is None:
            return None
        if (src, dst, s.transport, s.dst_port) in self._keys:
            return _Ends(dst, src, s.dst_port)
        if (dst, src, s.transport, s.src_port) in self._keys:
            return _Ends(src, dst, s.src_port)
        if s.dst_port and (not s.src_port or s.dst_port < s.src_port):
            return _Ends(dst, src, s.dst_port)  # no edge: the lower port is the service
        return _Ends(src, dst, s.src_port)


def _shown(evidence: Sequence[Evidence]) -> tuple[Evidence, ...]:
    return tuple(sorted(evidence, key=lambda e: e.time or datetime.min.replace(tzinfo=UTC)))[
        :_MAX_EVIDENCE
    ]


def _names(evidence: Sequence[Evidence]) -> str:
    """The peers of the evidence: the first three, and how many more."""
    peers = sorted({e.peer for e in evidence if e.peer})
    more = f" and {len(peers) - 3} more" if len(peers) > 3 else ""
    return f"{', '.join(peers[:3])}{more}"


def _peers(evidence: Sequence[Evidence], word: str = "from") -> str:
    names = _names(evidence)
    return f" {word} {names}" if names else ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ------------------------------------------------------------------ management in clear


@dataclass(frozen=True, slots=True)
class _Login:
    protocol: str
    """``telnet``, ``ftp``, ``http``... as the observation names it."""
    user: str | None
    basic: bool
    """HTTP Basic (the password crossed in clear), not Digest."""
    evidence: Evidence


def _login_of(s: Sighting) -> tuple[str, str, list[str | None]] | None:
    """(protocol, mechanism, users) of an observation that is a login, else None."""
    if s.kind == "CleartextCredentials":
        mechanism = _text(s.facts, "mechanism") or "login"
        return _text(s.facts, "protocol") or "?", mechanism, [_text(s.facts, "user")]
    if s.kind == "HttpRequest":
        if _flag(s.facts, "basic_auth"):
            return "http", "Basic", [_text(s.facts, "basic_auth_user")]
        digest = _text(s.facts, "digest_auth_user")
        if digest:
            return "http", "Digest", [digest]
    return None


def _logins(
    sightings: Iterable[Sighting], services: _Services, owners: _Owners
) -> dict[int, list[_Login]]:
    """Logins seen, per device logged into (the server of the observation's flow; an HTTP
    request goes to its destination)."""
    out: dict[int, list[_Login]] = defaultdict(list)
    for s in sightings:
        login = _login_of(s)
        if login is None:
            continue
        protocol, mechanism, users = login
        if s.kind == "HttpRequest":
            ends = _Ends(s.dst_ip, s.src_ip, s.dst_port) if s.dst_ip else None
        else:
            ends = services.ends(s)
        device = owners.at(ends.server, s.time) if ends else None
        if ends is None or device is None:
            continue
        for user in users:
            who = f" as {user!r}" if user else " (user name not read)"
            evidence = Evidence(
                s.kind,
                s.time,
                ends.peer,
                ends.port,
                s.transport,
                s.flow_id,
                f"{mechanism if protocol in mechanism.casefold() else protocol + ' ' + mechanism}"
                f"{who}",
            )
            out[device.device_id].append(_Login(protocol, user, mechanism == "Basic", evidence))
    return out


def _clear_sessions(
    device: DeviceFacts,
    app: str,
    services: _Services,
    logins: Sequence[_Login],
) -> Misconfiguration | None:
    """Telnet or FTP sessions to the device that stayed in clear."""
    ips = {a.ip for a in device.addresses}
    flows = [
        c
        for c in services.all
        if c.server in ips and app in c.apps and c.cleartext and c.transport == "tcp"
    ]
    mine = [login.evidence for login in logins if login.protocol == app]
    if not flows and not mine:
        return None
    evidence = [
        Evidence(
            "flow",
            c.first_seen,
            c.client,
            c.server_port,
            c.transport,
            None,
            f"{_plural(c.flows, 'session')} to be read on the wire",
        )
        for c in flows
    ]
    logged = bool(mine) or any(c.credentials_in_clear for c in flows)
    name = {"telnet": "Telnet", "ftp": "FTP"}[app]
    ports = sorted({c.server_port for c in flows} | {e.port for e in mine if e.port})
    sessions = sum(c.flows for c in flows)
    users = sorted({repr(login.user) for login in logins if login.protocol == app and login.user})
    login_text = ""
    if logged:
        login_text = (
            f"; a login crossed in clear ({', '.join(users)})"
            if users
            else "; a login crossed in clear (user name not read)"
        )
    basis = (
        f"{name} is served on tcp/{', '.join(map(str, ports))}: "
        f"{_plural(sessions, 'session') if sessions else 'logins'}"
        f"{_peers(evidence + mine)}, readable by anyone on the path{login_text}"
    )
    return Misconfiguration(
        "management_in_clear",
        device.device_id,
        device.shown,
        "high" if logged else "medium",
        f"{name} in clear",
        basis,
        _shown(evidence + mine),
        "RFC 854 (Telnet) / RFC 959 (FTP): no encryption; use SSH / SFTP or FTPS",
    )


def _basic_auth(device: DeviceFacts, logins: Sequence[_Login]) -> Misconfiguration | None:
    mine = [login.evidence for login in logins if login.protocol == "http" and login.basic]
    if not mine:
        return None
    ports = sorted({e.port for e in mine if e.port is not None})
    return Misconfiguration(
        "management_in_clear",
        device.device_id,
        device.shown,
        "high",
        "HTTP Basic authentication in clear",
        f"{_plural(len(mine), 'request')} to tcp/{', '.join(map(str, ports))}{_peers(mine)} "
        "carried Basic credentials over plain HTTP: the password is only base64-encoded",
        _shown(mine),
        "RFC 7617 section 4 (Basic sends the password in clear unless the transport is protected)",
    )


def _snmp(
    device: DeviceFacts, sightings: Sequence[Sighting], table: CredentialTable
) -> Misconfiguration | None:
    """SNMPv1/v2c the device answered or sent traps with (its own messages, as source)."""
    answered: list[Evidence] = []
    trapped: list[Evidence] = []
    default_seen: set[str] = set()
    versions: set[str] = set()
    writable = False
    sets: set[tuple[str | None, int | None]] = set()
    for s in sightings:  # the requests to it first, to know which answers answer a set
        if s.facts.get("pdu_type") == "set-request" and _text(s.facts, "community") is not None:
            sets.add((s.src_ip, _number(s.facts, "request_id")))
    for s in sightings:
        version = _text(s.facts, "version")
        pdu = _text(s.facts, "pdu_type")
        community = _text(s.facts, "community")
        if version not in ("1", "2c") or community is None:
            continue
        is_default = community in table.communities or community == ""
        if s.src_ip not in {a.ip for a in device.addresses}:
            continue
        label = "an empty community" if community == "" else repr(community)
        said = f", community {label} (well-known or empty)" if is_default else ""
        detail = f"SNMPv{version} {pdu or 'message'}{said}"
        if pdu in _SNMP_ANSWERS:
            evidence = Evidence(
                s.kind, s.time, s.dst_ip, s.src_port, s.transport, s.flow_id, detail
            )
            answered.append(evidence)
            if (s.dst_ip, _number(s.facts, "request_id")) in sets and _number(
                s.facts, "error_status"
            ) == 0:
                writable = writable or is_default
        elif pdu in _SNMP_TRAPS:
            evidence = Evidence(
                s.kind, s.time, s.dst_ip, s.dst_port, s.transport, s.flow_id, detail
            )
            trapped.append(evidence)
        else:
            continue
        versions.add(version)
        if is_default:
            default_seen.add(label)
    if not answered and not trapped:
        return None
    shown_versions = "/".join(f"v{v}" for v in sorted(versions))
    if default_seen:
        accepted = ", and a set-request with it was accepted" if writable else ""
        community = (
            f"the community is well-known or empty ({', '.join(sorted(default_seen))}){accepted}"
        )
    else:
        community = "the community is not a well-known default (it is not repeated here)"
    if answered:
        what = f"answered {_plural(len(answered), 'SNMP request')}{_peers(answered)}"
        severity: Severity = "critical" if writable else "high" if default_seen else "medium"
    else:
        what = f"sent {_plural(len(trapped), 'SNMP trap')}{_peers(trapped, 'to')}"
        severity = "medium" if default_seen else "low"
    basis = (
        f"the device {what} in SNMP {shown_versions}, whose community string crosses in "
        f"clear and authenticates nothing else; {community}"
    )
    return Misconfiguration(
        "management_in_clear",
        device.device_id,
        device.shown,
        severity,
        f"SNMP {shown_versions} {'answered' if answered else 'traps'}",
        basis,
        _shown(answered + trapped),
        table.community_reference or "CISA TA17-156A: use SNMPv3 with authPriv",
        table.community_url,
    )


# --------------------------------------------------------------------- default credentials


def _entries_for(
    device: DeviceFacts, table: CredentialTable, vendors: VendorNames
) -> list[tuple[CredentialEntry, bool]]:
    """The entries of the device's vendor and model, each with whether the model is one of the
    affected products (True) or only of a product line that includes them (False)."""
    if not device.vendor or not device.model:
        return []
    vendor = vendor_key(vendors.canonical(device.vendor))
    model = " ".join(device.model.split())
    out = []
    for e in table.entries:
        if vendor_key(vendors.canonical(e.vendor)) != vendor:
            continue
        if any(p.fullmatch(model) for p in e.models):
            out.append((e, True))
        elif any(p.fullmatch(model) for p in e.product_lines):
            out.append((e, False))
    return out


_SEVERITY_BY_ACCESS: dict[str, Severity] = {
    "network": "high",
    "adjacent": "medium",
    "local": "medium",
    "physical": "low",
}


def _default_credentials(
    device: DeviceFacts,
    entries: Sequence[tuple[CredentialEntry, bool]],
    logins: Sequence[_Login],
    served: set[str],
) -> list[Misconfiguration]:
    out = []
    for e, affected in entries:
        accounts = {a.casefold() for a in e.accounts}
        seen = [g.evidence for g in logins if g.user and g.user.casefold() in accounts]
        offered = sorted(
            i for i in e.interfaces if _INTERFACE_APPS.get(i) in served and e.access != "physical"
        )
        severity: Severity = _SEVERITY_BY_ACCESS[e.access] if affected else "low"
        if offered:
            severity = "high" if affected else "medium"
        if seen:
            severity = "critical"
        kind = {
            "default": "a default password",
            "hard-coded": "a hard-coded password",
            "fixed": "a fixed password (default or hard-coded, the source does not say which)",
        }[e.credential]
        named = f"account(s) {', '.join(e.accounts)} with" if e.accounts else "accounts with"
        used = f", used over {', '.join(e.interfaces)}" if e.interfaces else ""
        what = f"{named} {kind}{used} per {e.reference} ({', '.join(e.cves)}, attack vector "
        what += f"{e.access})"
        device_said = (
            f"{device.vendor} {device.model} (model identified with confidence "
            f"{device.model_confidence})"
        )
        if affected:
            parts = [f"{device_said} is one of {e.product}, which have {what}"]
        else:
            parts = [
                f"{device_said} is a product line that includes {e.product}, which have "
                f"{what}; the exact model was not identified, so the device may be one of them"
            ]
        if offered:
            parts.append(f"the device serves {', '.join(offered)}")
        if seen:
            users = "; ".join(sorted({ev.detail for ev in seen}))
            times = [ev.time for ev in seen if ev.time]
            first = f", first {_stamp(min(times))}" if times else ""
            parts.append(
                f"a login as a listed account was seen on the wire ({users}{_peers(seen)}{first})"
            )
        title = {
            "default": "Default credentials",
            "hard-coded": "Hard-coded credentials",
            "fixed": "Fixed credentials",
        }[e.credential]
        out.append(
            Misconfiguration(
                "default_credentials",
                device.device_id,
                device.shown,
                severity,
                f"{title}{'' if affected else ' (possible)'}: {e.reference}",
                "; ".join(parts),
                _shown([*seen, *device.model_evidence]),
                f"{e.source}; {', '.join(e.cves)}",
                e.url,
            )
        )
    return out


# ------------------------------------------------------------------------- end of life


def _end_of_life(
    device: DeviceFacts, table: LifecycleTable, as_of: date
) -> Misconfiguration | None:
    if not device.os or not device.os_version:
        return None
    found = table.alternatives(device.os, device.os_version)
    ended = [(v, e) for v, e in found if e is not None and e.end_of_support < as_of]
    if not ended:
        return None
    others = [(v, e) for v, e in found if (v, e) not in ended]
    name = f"{device.os} {device.os_version}"
    extended = [e for _, e in ended if e.extended_until and e.extended_until >= as_of]

    def release(v: str, e: LifecycleEntry) -> str:
        text = f"{device.os} {v} ended {e.end_of_support.isoformat()}"
        if e.extended_until:
            verb = "run" if e.extended_until >= as_of else "ran"
            text += f" (paid extended updates {verb} to {e.extended_until.isoformat()})"
        return text

    said = "; ".join(release(v, e) for v, e in ended)
    confidence = f" (identified with confidence {device.os_confidence})"
    notes = "; ".join(sorted({e.note for _, e in ended if e.note}))
    if others:
        open_ = ", ".join(
            f"{v} (supported to {e.end_of_support.isoformat()})" if e else f"{v} (not listed)"
            for v, e in others
        )
        severity: Severity = "low"
        basis = f"{name}{confidence} may be past end of support: {said}; but it may also be {open_}"
        title = f"{name}: possibly end-of-life OS"
    else:
        severity = "medium" if extended else "high"
        basis = f"{name}{confidence} is past end of support on {as_of.isoformat()}: {said}"
        last = max(e.end_of_support for _, e in ended)
        title = f"{name}: end-of-life OS (support ended {last.isoformat()})"
    if notes:
        basis += f". Note: {notes}"
    entries = [e for _, e in ended]
    return Misconfiguration(
        "end_of_life_os",
        device.device_id,
        device.shown,
        severity,
        title,
        basis,
        _shown(device.os_evidence),
        "; ".join(dict.fromkeys(e.source for e in entries)),
        entries[0].url,
    )


# ----------------------------------------------------------------------- TLS certificates


def _clinical(device: DeviceFacts, port: int) -> str | None:
    """Why a TLS service of the device is clinical, or None."""
    if device.medical:
        return f"the device is a medical device ({device.category})"
    if port in CLINICAL_TLS_PORTS:
        return f"port {port} is DICOM over TLS"
    apps = sorted(CLINICAL_APPS & set(device.services))
    if apps:
        return f"the device serves {', '.join(apps)}"
    return None


def _certificates(
    sightings: Iterable[Sighting], services: _Services, owners: _Owners
) -> list[Misconfiguration]:
    groups: dict[tuple[int, str, int], list[tuple[Sighting, _Ends, DeviceFacts]]] = defaultdict(
        list
    )
    for s in sightings:
        if s.kind != "TlsCertificate" or _number(s.facts, "chain_index") not in (0, None):
            continue
        ends = services.ends(s)
        if ends is None or ends.server != s.src_ip:
            continue  # a client certificate: not a service the device offers
        device = owners.at(s.src_ip, s.time)
        if device is None:
            continue
        identity = _text(s.facts, "sha256") or _text(s.facts, "serial") or "?"
        groups[(device.device_id, identity, ends.port)].append((s, ends, device))
    out = []
    for (_, _, port), seen in sorted(groups.items(), key=lambda kv: kv[0]):
        device = seen[0][2]
        why = _clinical(device, port)
        if why is None:
            continue
        facts = seen[0][0].facts
        not_before, not_after = _moment(facts, "not_before"), _moment(facts, "not_after")
        expired = [
            (s, e) for s, e, _ in seen if not_after is not None and _aware(s.time) > not_after
        ]
        early = [
            (s, e) for s, e, _ in seen if not_before is not None and _aware(s.time) < not_before
        ]
        self_signed = _flag(facts, "self_signed")
        if not expired and not early and not self_signed:
            continue
        problems = []
        if expired:
            first = min(_aware(s.time) for s, _ in expired)
            days = (first - not_after).days if not_after else 0
            problems.append(f"expired when seen ({_stamp(first)}, {days} days after its end)")
        if early:
            problems.append("not yet valid when seen")
        if self_signed:
            problems.append("self-signed (no authority vouches for it)")
        subject = _text(facts, "subject") or _text(facts, "subject_cn") or "(no subject)"
        issuer = _text(facts, "issuer") or "?"
        valid = (
            f"valid {not_before.date().isoformat()} to {not_after.date().isoformat()}"
            if not_before and not_after
            else "validity unreadable"
        )
        evidence = [
            Evidence(
                s.kind,
                s.time,
                e.peer,
                e.port,
                s.transport,
                s.flow_id,
                f"certificate {_text(s.facts, 'sha256') or '?'}",
            )
            for s, e, _ in seen
        ]
        peers = _peers(evidence, "to")
        basis = (
            f"the certificate {subject} (issuer {issuer}, {valid}) presented on "
            f"{seen[0][0].transport}/{port}{peers} is {' and '.join(problems)}; clinical "
            f"service: {why}"
        )
        if expired or early:
            severity: Severity = "high" if device.medical else "medium"
        else:
            severity = "medium" if device.medical else "low"
        what = "Expired" if expired else "Not yet valid" if early else "Self-signed"
        if (expired or early) and self_signed:
            what += " self-signed"
        out.append(
            Misconfiguration(
                "tls_certificate",
                device.device_id,
                device.shown,
                severity,
                f"{what} TLS certificate on a clinical service",
                basis,
                _shown(evidence),
                "RFC 5280 section 4.1.2.5 (validity) and 6.1 (path validation to a trust "
                "anchor); clients cannot tell this server from an impostor",
            )
        )
    return out


# ------------------------------------------------------------------------------- the lot


def find_misconfigurations(
    devices: Sequence[DeviceFacts],
    conversations: Iterable[Conversation],
    sightings: Iterable[Sighting],
    *,
    as_of: date,
    kinds: Iterable[str] = KINDS,
    credentials: CredentialTable | None = None,
    lifecycle: LifecycleTable | None = None,
    vendors: VendorNames | None = None,
) -> list[Misconfiguration]:
    """Every misconfiguration of ``devices`` that the conversations and observations show,
    most severe first. ``as_of`` is the day end-of-life is judged on."""
    wanted = set(kinds)
    credentials = credentials or shipped_default_credentials()
    lifecycle = lifecycle or shipped_end_of_life()
    vendors = vendors or shipped_vendor_names()
    services = _Services(conversations)
    owners = _Owners(devices)
    seen = list(sightings)
    logins = _logins(seen, services, owners)
    snmp: dict[int, list[Sighting]] = defaultdict(list)
    for s in seen:
        if s.kind == "SnmpMessage":
            for ip in (s.src_ip, s.dst_ip):
                device = owners.at(ip, s.time)
                if device is not None:
                    snmp[device.device_id].append(s)
    served: dict[str, set[str]] = defaultdict(set)
    for c in services.all:
        served[c.server].update(c.apps)
    out: list[Misconfiguration] = []
    for d in devices:
        mine = logins.get(d.device_id, [])
        if "default_credentials" in wanted:
            entries = _entries_for(d, credentials, vendors)
            apps = set(d.services).union(*(served.get(a.ip, set()) for a in d.addresses))
            out.extend(_default_credentials(d, entries, mine, apps))
        if "management_in_clear" in wanted:
            found = [
                _clear_sessions(d, "telnet", services, mine),
                _clear_sessions(d, "ftp", services, mine),
                _basic_auth(d, mine),
                _snmp(d, list(dict.fromkeys(snmp.get(d.device_id, []))), credentials),
            ]
            out.extend(f for f in found if f is not None)
        if "end_of_life_os" in wanted:
            eol = _end_of_life(d, lifecycle, as_of)
            if eol is not None:
                out.append(eol)
    if "tls_certificate" in wanted:
        out.extend(_certificates(seen, services, owners))
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    out.sort(key=lambda m: (-rank[m.severity], m.device, m.kind, m.title))
    return out
