"""Devices x vulnerabilities on the real feed records: NVD configurations, CVE 5 affected
lists, CSAF advisories by vendor and model; certain vs possible; the basis of every match."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsec.assess.matching import VulnMatch, best, match_advisory, match_vulnerability
from medsec.assess.products import DeviceDescription, SoftwareSeen, candidates
from medsec.assess.vulns.csaf import CsafReader
from medsec.assess.vulns.cve5 import Cve5Reader
from medsec.assess.vulns.nvd import NvdReader
from medsec.model.vulns import Advisory, CpeMatch, CveId, Vulnerability


def device(
    *software: tuple[str, str | None],
    vendor: str | None = None,
    model: str | None = None,
    firmware: str | None = None,
    os: str | None = None,
    os_version: str | None = None,
) -> DeviceDescription:
    return DeviceDescription(
        device_id=7,
        vendor=vendor,
        model=model,
        os=os,
        os_version=os_version,
        firmware_version=firmware,
        software=tuple(SoftwareSeen(n, v, 90) for n, v in software),
        confidence={"vendor": 80, "model": 70, "os": 60, "os_version": 50},
    )


def record(reader: object, path: Path) -> Vulnerability:
    (found,) = list(reader.read(path, lambda s: pytest.fail(str(s))))  # type: ignore[attr-defined]
    assert isinstance(found, Vulnerability)
    return found


def match(d: DeviceDescription, v: Vulnerability) -> VulnMatch | None:
    return match_vulnerability(d, candidates(d), v)


@pytest.mark.parametrize("reader", [NvdReader(), Cve5Reader()], ids=["nvd", "cve5"])
def test_dcmtk_367_has_cve_2022_43272_and_not_2119(shared_data: Path, reader: object) -> None:
    folder = "nvd_cve_json2" if isinstance(reader, NvdReader) else "cvelist_v5"
    advisories = shared_data / "advisories" / folder
    dos = advisories / "CVE-2022-43272.json"
    traversal = record(reader, advisories / "CVE-2022-2119.json")
    if dos.exists():
        hit = match(device(("DCMTK", "3.6.7")), record(reader, dos))
        assert hit is not None and hit.certain and hit.cve_id == "CVE-2022-43272"
        assert "DCMTK 3.6.7" in hit.basis and "offis:dcmtk" in hit.basis
    assert match(device(("DCMTK", "3.6.7")), traversal) is None
    older = match(device(("DCMTK", "3.6.6")), traversal)
    assert older is not None and older.certain and "3.6.6" in older.basis


def test_a_product_without_a_seen_version_is_a_possible_match(shared_data: Path) -> None:
    traversal = record(NvdReader(), shared_data / "advisories/nvd_cve_json2/CVE-2022-2119.json")
    hit = match(device(("DCMTK", None)), traversal)
    assert hit is not None and not hit.certain
    assert hit.confidence == 45 and "not seen" in hit.basis
    assert match(device(("OpenSSH", "8.2")), traversal) is None


def test_rejected_cves_never_apply() -> None:
    v = Vulnerability(CveId("CVE-2000-0001"), "nvd", status="Rejected")
    assert match(device(("DCMTK", "3.6.7")), v) is None


def advisory(shared_data: Path, name: str) -> Advisory:
    path = shared_data / "advisories/csaf_cisa_icsma" / name
    (found,) = [r for r in CsafReader().read(path, lambda s: None) if isinstance(r, Advisory)]
    return found


def test_an_advisory_applies_to_its_vendor_and_model_in_range(shared_data: Path) -> None:
    vue = advisory(shared_data, "icsma-24-200-01.json")  # Philips Vue PACS < 12.2.8.410
    old = device(vendor="Philips", model="Vue PACS", firmware="12.2.1")
    fixed = device(vendor="Philips", model="Vue PACS", firmware="12.2.8.410")
    unknown = device(vendor="Philips", model="Vue PACS")
    other = device(vendor="GE HealthCare", model="Vue PACS", firmware="12.2.1")
    hits = match_advisory(old, vue)
    assert hits and all(h.certain and h.source == "csaf:ICSMA-24-200-01" for h in hits)
    assert "12.2.1" in hits[0].basis
    products = {p.product_id for p in vue.products}
    assert all(h.product_ids and set(h.product_ids) <= products for h in hits)
    assert match_advisory(fixed, vue) == []
    maybe = match_advisory(unknown, vue)
    assert maybe and not any(h.certain for h in maybe)
    assert match_advisory(other, vue) == []


def test_vendor_spellings_meet(shared_data: Path) -> None:
    spacecom = advisory(shared_data, "icsma-20-296-02.json")  # B. Braun SpaceCom <= L81
    braun = device(vendor="B.Braun Melsungen AG", model="SpaceCom", firmware="L80")
    assert any(h.certain for h in match_advisory(braun, spacecom))


def test_the_best_basis_per_device_and_cve_wins() -> None:
    cve = CveId("CVE-2024-0001")
    possible = VulnMatch(1, cve, "nvd", False, 45, "version not seen")
    certain = VulnMatch(1, cve, "csaf:X", True, 60, "in range")
    assert best([possible, certain]) == [certain]


def test_os_candidates_follow_the_data_table() -> None:
    names = {c.cpe for c in candidates(device(os="Windows", os_version="7"))}
    assert names == {"cpe:2.3:o:microsoft:windows_7:*:*:*:*:*:*:*:*"}
    linux = candidates(device(os="Linux", os_version="4.4.0"))
    assert [c.cpe for c in linux] == ["cpe:2.3:o:linux:linux_kernel:4.4.0:*:*:*:*:*:*:*"]
    assert candidates(device(os="Windows", os_version="Vista / Server 2008")) == []


def test_the_inventory_pass_equals_matching_each_device(shared_data: Path) -> None:
    from medsec.assess.matching import match_inventory

    records = [
        record(NvdReader(), p)
        for p in sorted((shared_data / "advisories/nvd_cve_json2").glob("*.json"))
    ]
    records += [
        record(Cve5Reader(), p)
        for p in sorted((shared_data / "advisories/cvelist_v5").glob("*.json"))
    ]
    versions = ["3.6.5", "3.6.6", "3.6.7", "3.6.8", None]
    devices = [
        DeviceDescription(
            device_id=i,
            vendor=None,
            model=None,
            os="Linux" if i % 2 else None,
            os_version=None,
            firmware_version=None,
            software=(SoftwareSeen("DCMTK", versions[i % len(versions)], 50 + i),),
            confidence={"os": 40},
        )
        for i in range(20)
    ]
    found = {d.device_id: candidates(d) for d in devices}
    one_by_one = best(
        hit
        for d in devices
        for v in records
        if (hit := match_vulnerability(d, found[d.device_id], v)) is not None
    )
    shared = match_inventory(devices, found, records)
    assert shared == one_by_one
    assert {m.cve_id for m in shared} >= {"CVE-2022-43272", "CVE-2022-2119"}


def below(number: str, end_excluding: str) -> Vulnerability:
    """A CVE of Net-SNMP versions before ``end_excluding``."""
    criteria = "cpe:2.3:a:net-snmp:net-snmp:*:*:*:*:*:*:*:*"
    match = CpeMatch(criteria, True, version_end_excluding=end_excluding)
    return Vulnerability(CveId(number), "nvd", cpe_matches=(match,))


def test_candidates_carry_lookup_tokens_and_the_feeds_spelling() -> None:
    (snmp,) = candidates(device(("Net-SNMP", "5.7.2")))
    assert (snmp.vendor, snmp.product) == ("net_snmp", "net_snmp")
    assert snmp.cpe == "cpe:2.3:a:net-snmp:net-snmp:5.7.2:*:*:*:*:*:*:*"
    hit = match(device(("Net-SNMP", "5.7.2")), below("CVE-2020-0001", "5.8"))
    assert hit is not None and hit.certain and hit.product == ("net_snmp", "net_snmp")
    assert match(device(("Net-SNMP", "5.7.2")), below("CVE-2020-0002", "5.7.2")) is None
