"""Devices and CVEs written by the tests of ``service.vulns`` and ``service.findings``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from medsec.inventory.device_rows import DeviceRow
from medsec.model.vulns import CpeMatch, CveId, Vulnerability

T0 = datetime(2024, 5, 1, tzinfo=UTC)
NET_SNMP = "cpe:2.3:a:net-snmp:net-snmp:*:*:*:*:*:*:*:*"


def device(
    key: str,
    ip: str,
    *software: tuple[str, str | None],
    vendor: str | None = None,
    model: str | None = None,
    firmware: str | None = None,
) -> DeviceRow:
    """A device at ``ip`` seen running ``software`` (name, version), of ``vendor`` and
    ``model`` with ``firmware`` if given (each identified with confidence 80)."""
    stated = {"vendor": vendor, "model": model, "firmware_version": firmware}
    record: dict[str, Any] = {
        "software": [{"name": n, "version": v, "confidence": 80} for n, v in software],
        "attributes": {
            name: {"value": value, "confidence": 80}
            for name, value in stated.items()
            if value is not None
        },
    }
    return DeviceRow(
        key=key,
        first_seen=T0,
        last_seen=T0 + timedelta(hours=1),
        category="workstation",
        medical=False,
        vendor=vendor,
        model=model,
        os=None,
        handles_phi=False,
        record=record,
        addresses=(("ip", ip, 10, T0, T0 + timedelta(hours=1)),),
    )


def cve(number: str, criteria: str, *, end_excluding: str) -> Vulnerability:
    """An NVD record of the versions of ``criteria`` before ``end_excluding``."""
    return Vulnerability(
        CveId(number),
        "nvd",
        cpe_matches=(CpeMatch(criteria, True, version_end_excluding=end_excluding),),
    )
