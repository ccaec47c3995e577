"""``medsec findings refresh`` on a SQLite store: a finding whose match a supplier's VEX took
away is closed with the statement in its history; one whose match went for another reason
keeps the plain wording."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medsec.inventory import Store, database_url
from medsec.model.vulns import CveId, VexStatement
from medsec.service.findings import (
    get_finding,
    list_findings,
    refresh_findings,
    refresh_if_fed,
    refresh_line,
)

from tests_support.vuln_store import NET_SNMP, cve, device

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(database_url(str(tmp_path / "f.db"))) as opened:
        yield opened


def last_why(store: Store, ip: str) -> str | None:
    (found,) = list_findings(store, device=ip)
    return get_finding(store, found.id).history[-1].why


def test_a_vex_closes_a_finding_and_its_history_says_so(store: Store) -> None:
    store.replace_devices(
        [
            device("ip:10.0.0.1", "10.0.0.1", ("Net-SNMP", "5.7.2")),
            device("ip:10.0.0.2", "10.0.0.2", ("Net-SNMP", "5.6.1")),
        ]
    )
    store.import_feed_records([cve("CVE-2020-0001", NET_SNMP, end_excluding="5.8")])
    assert refresh_findings(store, now=NOW).created == 2

    store.import_feed_records(
        [
            VexStatement(
                CveId("CVE-2020-0001"),
                "not_affected",
                justification="vulnerable_code_not_in_execute_path",
                refs=("cpe:2.3:a:net-snmp:net-snmp:5.7.2:*:*:*:*:*:*:*",),
                source="urn:uuid:vendor-vex",
            )
        ]
    )
    done = refresh_findings(store, now=NOW + timedelta(days=1))
    assert (done.closed, done.updated) == (1, 1)
    (closed,) = list_findings(store, device="10.0.0.1")
    assert (closed.status, closed.status_by, closed.matched) == ("remediated", "medsec", False)
    assert last_why(store, "10.0.0.1") == (
        "cleared by a supplier VEX (not_affected, justification "
        "vulnerable_code_not_in_execute_path): urn:uuid:vendor-vex says CVE-2020-0001 is not "
        "affected for cpe:2.3:a:net-snmp:net-snmp:5.7.2:*:*:*:*:*:*:* (version seen: 5.7.2): "
        "vulnerable_code_not_in_execute_path"
    )

    # the other device is updated past the range: its finding goes for another reason
    store.replace_devices(
        [
            device("ip:10.0.0.1", "10.0.0.1", ("Net-SNMP", "5.7.2")),
            device("ip:10.0.0.2", "10.0.0.2", ("Net-SNMP", "5.9")),
        ]
    )
    assert refresh_findings(store, now=NOW + timedelta(days=2)).closed == 1
    why = last_why(store, "10.0.0.2")
    assert why is not None and why.startswith("no longer matches: software Net-SNMP 5.6.1")


def test_findings_follow_imports_only_once_there_is_something_to_match(store: Store) -> None:
    store.replace_devices([device("ip:10.0.0.1", "10.0.0.1", ("Net-SNMP", "5.7.2"))])
    assert not store.has_vulnerability_feeds()
    assert refresh_if_fed(store, now=NOW) is None  # no feed: nothing done
    assert list_findings(store) == []
    store.import_feed_records([cve("CVE-2020-0001", NET_SNMP, end_excluding="5.8")])
    assert store.has_vulnerability_feeds()
    done = refresh_if_fed(store, now=NOW)
    assert done is not None and (done.created, done.total) == (1, 1)
    assert refresh_line(done) == "findings: 1 new, 0 closed"
