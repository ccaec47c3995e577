"""BSD syslog (RFC 3164) messages over UDP 514."""

from __future__ import annotations

from datetime import UTC, datetime

FACILITY_LOCAL0 = 16
SEVERITIES = {"err": 3, "warning": 4, "notice": 5, "info": 6}


def message(now: int, hostname: str, tag: str, severity: str, text: str) -> bytes:
    """``<PRI>Mmm dd hh:mm:ss host tag: text``."""
    pri = FACILITY_LOCAL0 * 8 + SEVERITIES[severity]
    when = datetime.fromtimestamp(now / 1_000_000, tz=UTC)
    stamp = f"{when:%b} {when.day:2d} {when:%H:%M:%S}"
    return f"<{pri}>{stamp} {hostname} {tag}: {text}".encode()
