"""Settings: one optional ``medsec.toml``, overridden by environment variables.

Recognised keys (all optional)::

    database = "sqlite:////var/lib/medsec/medsec.db"   # or postgresql+psycopg://...
    [site]
    networks = ["10.0.0.0/8", "192.168.0.0/16"]        # internal address space
    gateway_mac_threshold = 8                           # MACs bound to more IPs are routers
    [identify]
    rules = ["/etc/medsec/rules"]                       # site rule/profile directories

Environment: ``MEDSEC_DB`` (database URL or SQLite file path), ``MEDSEC_CONFIG`` (path of the
TOML file; default ``./medsec.toml`` when present), ``MEDSEC_RULES`` (site rule directories,
separated by ``:``; replaces ``identify.rules``).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from medsec.model.errors import ConfigError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_SITE_NETWORKS: tuple[str, ...] = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",  # carrier-grade NAT, used inside some hospital networks
    "169.254.0.0/16",  # IPv4 link-local
    "127.0.0.0/8",
    "fc00::/7",  # IPv6 unique local
    "fe80::/10",  # IPv6 link-local
    "::1/128",
)
"""Internal address space when the site configures none: RFC 1918, CGN, link-local, loopback."""


@dataclass(frozen=True, slots=True)
class SiteNetworks:
    """Decides whether an address belongs to the site (internal) or the outside world."""

    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, cidrs: Iterable[str]) -> SiteNetworks:
        nets: list[IPNetwork] = []
        for cidr in cidrs:
            try:
                nets.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError as exc:
                raise ConfigError(f"site network {cidr!r} is not a CIDR block") from exc
        return cls(tuple(nets))

    @classmethod
    def default(cls) -> SiteNetworks:
        return cls.parse(DEFAULT_SITE_NETWORKS)

    def is_internal(self, ip: str) -> bool:
        """True for site addresses and for non-routable ones (multicast, broadcast, 0.0.0.0)."""
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if addr.is_multicast or addr.is_unspecified or str(addr) == "255.255.255.255":
            return True
        return any(addr.version == net.version and addr in net for net in self.networks)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, after the file and environment have been applied."""

    database: str | None = None
    site: SiteNetworks = field(default_factory=SiteNetworks.default)
    gateway_mac_threshold: int = 8
    """A MAC seen as the source of more distinct IPs than this is a router, not a host."""
    rule_dirs: tuple[Path, ...] = ()
    """Site directories of fingerprint rules and profiles, added to the shipped ones."""


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``medsec.toml`` (argument, ``$MEDSEC_CONFIG``, ``./``), then the environment."""
    env = os.environ if environ is None else environ
    if path is None and env.get("MEDSEC_CONFIG"):
        path = Path(env["MEDSEC_CONFIG"])
    if path is None and Path("medsec.toml").is_file():
        path = Path("medsec.toml")
    data: dict[str, object] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read configuration {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration {path} is not valid TOML: {exc}") from exc
    database = data.get("database")
    if database is not None and not isinstance(database, str):
        raise ConfigError("configuration key 'database' must be a string")
    site_table = data.get("site", {})
    if not isinstance(site_table, dict):
        raise ConfigError("configuration key 'site' must be a table")
    networks = site_table.get("networks", list(DEFAULT_SITE_NETWORKS))
    if not isinstance(networks, list) or not all(isinstance(n, str) for n in networks):
        raise ConfigError("site.networks must be a list of CIDR strings")
    threshold = site_table.get("gateway_mac_threshold", 8)
    if not isinstance(threshold, int) or threshold < 1:
        raise ConfigError("site.gateway_mac_threshold must be a positive integer")
    identify_table = data.get("identify", {})
    if not isinstance(identify_table, dict):
        raise ConfigError("configuration key 'identify' must be a table")
    rule_dirs = identify_table.get("rules", [])
    if not isinstance(rule_dirs, list) or not all(isinstance(d, str) for d in rule_dirs):
        raise ConfigError("identify.rules must be a list of directory paths")
    if env.get("MEDSEC_DB"):
        database = env["MEDSEC_DB"]
    if env.get("MEDSEC_RULES"):
        rule_dirs = [d for d in env["MEDSEC_RULES"].split(":") if d]
    return Settings(
        database=database,
        site=SiteNetworks.parse(networks),
        gateway_mac_threshold=threshold,
        rule_dirs=tuple(Path(d) for d in rule_dirs),
    )
