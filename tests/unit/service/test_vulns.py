"""``medsec vulns`` on a SQLite store: what a device was seen running is looked up in the
store by the same tokens the feeds are stored under (``net-snmp`` and ``net_snmp`` meet)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from medsec.inventory import Store, database_url
from medsec.inventory.device_rows import DeviceRow
from medsec.model.vulns import CpeMatch, CveId, Vulnerability
from medsec.service.vulns import list_vulnerabilities

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def device(key: str, ip: str, *software: tuple[str, str | None]) -> DeviceRow:
    record: dict[str, Any] = {
        "software": [{"name": n, "version": v, "confidence": 80} for n, v in software]
    }
    return DeviceRow(
        key=key,
        first_seen=T0,
        last_seen=T0 + timedelta(hours=1),
        category="workstation",
        medical=False,
        vendor=None,
        model=None,
        os=None,
        handles_phi=False,
        record=record,
        addresses=(("ip", ip, 10, T0, T0 + timedelta(hours=1)),),
    )


def cve(number: str, criteria: str, *, end_excluding: str) -> Vulnerability:
    return Vulnerability(
        CveId(number),
        "nvd",
        cpe_matches=(CpeMatch(criteria, True, version_end_excluding=end_excluding),),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(database_url(str(tmp_path / "v.db"))) as opened:
        yield opened


def test_products_spelled_with_a_hyphen_meet_their_cves(store: Store) -> None:
    store.replace_devices(
        [
            device("ip:10.0.0.1", "10.0.0.1", ("Net-SNMP", "5.7.2")),
            device("ip:10.0.0.2", "10.0.0.2", ("Pure-FTPd", "1.0.47")),
            device("ip:10.0.0.3", "10.0.0.3", ("FileZilla Server", "0.9.59")),
        ]
    )
    snmp = "cpe:2.3:a:net-snmp:net-snmp:*:*:*:*:*:*:*:*"
    pure = "cpe:2.3:a:pureftpd:pure-ftpd:*:*:*:*:*:*:*:*"
    filezilla = "cpe:2.3:a:filezilla-project:filezilla_server:*:*:*:*:*:*:*:*"
    store.import_feed_records(
        [
            cve("CVE-2020-0001", snmp, end_excluding="5.8"),
            cve("CVE-2020-0002", snmp, end_excluding="5.7.2"),
            cve("CVE-2020-0003", pure, end_excluding="1.0.48"),
            cve("CVE-2020-0004", filezilla, end_excluding="0.9.60"),
        ]
    )
    rows = {(r.device, r.cve_id): r for r in list_vulnerabilities(store)}
    assert set(rows) == {
        ("10.0.0.1", "CVE-2020-0001"),
        ("10.0.0.2", "CVE-2020-0003"),
        ("10.0.0.3", "CVE-2020-0004"),
    }
    found = rows[("10.0.0.1", "CVE-2020-0001")]
    assert found.certain and "Net-SNMP 5.7.2" in found.basis and "< 5.8" in found.basis
