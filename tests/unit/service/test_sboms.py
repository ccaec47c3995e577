"""Attaching SBOMs (service layer, on a SQLite store): a model attachment reaches every device
of that vendor and model whatever the spelling of the vendor; a device attachment one device;
which devices carry which SBOMs, grouped by SBOM; the SBOMs' matches reach ``medsec vulns``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medsec.inventory import Store, database_url
from medsec.model.errors import SbomError
from medsec.model.vulns import Component, CpeMatch, CveId, Sbom, VexStatement, Vulnerability
from medsec.service import sboms
from medsec.service.vulns import device_matches, list_vulnerabilities

from tests_support.vuln_store import device

OPENSSL = Component("openssl", "1.0.2k", purl="pkg:generic/openssl@1.0.2k", ref="ssl")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(database_url(str(tmp_path / "s.db"))) as opened:
        opened.replace_devices(
            [
                device("ip:10.0.0.1", "10.0.0.1", vendor="GE Healthcare", model="CARESCAPE B650"),
                device(
                    "ip:10.0.0.2",
                    "10.0.0.2",
                    vendor="General Electric (GE)",
                    model="Carescape-B650",
                ),
                device("ip:10.0.0.3", "10.0.0.3", vendor="GE HealthCare", model="CARESCAPE B850"),
                device("ip:10.0.0.4", "10.0.0.4", vendor=None, model=None),
            ]
        )
        opened.import_feed_records(
            [Sbom("cyclonedx", "1.4", "urn:uuid:a", Component("B650", "2.1"), (OPENSSL,))],
            source="a.json",
        )
        yield opened


def ids(store: Store, *ips: str) -> list[int]:
    return [store.device(ip)[0].id for ip in ips]


def test_a_model_attachment_reaches_every_device_of_the_model(store: Store) -> None:
    view = sboms.attach(store, "urn:uuid:a", model="ge healthcare | carescape b650")
    assert (view.attached_kind, view.attached_to) == ("model", "ge healthcare|carescape b650")
    (listed,) = sboms.list_sboms(store)
    assert [i for i, _ in listed.devices] == ids(store, "10.0.0.1", "10.0.0.2")
    carried = sboms.carried_sboms(store, store.devices())
    assert [s.sbom_id for s in carried.sboms] == [view.id]
    assert carried.holders == {view.id: ids(store, "10.0.0.1", "10.0.0.2")}
    assert carried.sboms[0].components == (OPENSSL,) and carried.sboms[0].subject == "B650 2.1"
    (refs,) = carried.refs[ids(store, "10.0.0.1")[0]]
    assert refs.serial == "urn:uuid:a" and dict(refs.components) == {"ssl": OPENSSL}


def test_a_device_attachment_reaches_one_device(store: Store) -> None:
    view = sboms.attach(store, "1", device="10.0.0.3")
    (one,) = ids(store, "10.0.0.3")
    assert (view.attached_kind, view.attached_to) == ("device", str(one))
    assert sboms.listing(store, "1").devices == ((one, "10.0.0.3"),)
    assert sboms.carried_sboms(store, store.device("10.0.0.1")).sboms == []
    detached = sboms.detach(store, "urn:uuid:a")
    assert detached.attached_kind is None
    assert sboms.carried_sboms(store, store.devices()).sboms == []


def test_refusals(store: Store) -> None:
    for call in (
        lambda: sboms.attach(store, "99", device="10.0.0.1"),
        lambda: sboms.attach(store, "1", device="10.9.9.9"),
        lambda: sboms.attach(store, "1", device="²"),
        lambda: sboms.attach(store, "1", model="GE HealthCare"),
        lambda: sboms.attach(store, "1", model="|B650"),
        lambda: sboms.attach(store, "1", model="a|b|c"),
        lambda: sboms.attach(store, "1"),
        lambda: sboms.attach(store, "1", model="A|B", device="1"),
        lambda: sboms.detach(store, "nothing"),
    ):
        with pytest.raises(SbomError):
            call()
    assert store.sboms()[0].attached_kind is None


def test_the_sboms_matches_reach_vulns_and_vex_by_bom_ref_clears_them(store: Store) -> None:
    store.import_feed_records(
        [
            Vulnerability(
                CveId("CVE-2017-3735"),
                "nvd",
                cpe_matches=(
                    CpeMatch(
                        "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
                        True,
                        version_end_excluding="1.0.2l",
                    ),
                ),
            )
        ]
    )
    assert list_vulnerabilities(store) == []
    sboms.attach(store, "1", model="GE HealthCare|CARESCAPE B650")
    rows = list_vulnerabilities(store)
    assert sorted(r.device for r in rows) == ["10.0.0.1", "10.0.0.2"]
    assert all(
        r.basis.startswith("SBOM B650 2.1 component pkg:generic/openssl@1.0.2k") for r in rows
    )
    assert [r.device for r in list_vulnerabilities(store, device="10.0.0.2")] == ["10.0.0.2"]
    store.import_feed_records(
        [VexStatement(CveId("CVE-2017-3735"), "not_affected", refs=("ssl",), source="vex")]
    )
    assessment = device_matches(store, store.devices())
    assert assessment.matches == [] and len(assessment.cleared) == 2
    assert all("ssl (component openssl 1.0.2k of SBOM B650 2.1)" in c.reason
               for c in assessment.cleared)  # fmt: skip
