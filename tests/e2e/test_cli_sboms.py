"""SBOMs end to end: the real de-identified medical-device SBOMs in ../shared/data imported and
attached to a device model and to one device of a simulated hospital capture; an NVD-shaped
feed then gives those devices the CVEs of their SBOMs' components (``medsec vulns``, ``medsec
findings refresh``), with an SBOM basis; CycloneDX VEX documents naming the components by
bom-ref (a BOM-Link, a plain bom-ref) clear them."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from medsec.simulate import generate

MEDSEC = [sys.executable, "-m", "medsec"]
NARROW_SERIAL = "02826796-d30c-4aa6-b0a8-44207a01cb6c"
NARROW_WOLFSSL = "BomRef.6730320963532548.7863229239413411"
EXTENDED_JQUERY = "BomRef.8544637082484463.2996845444789613"


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MEDSEC, "--db", str(db), *args], capture_output=True, text=True, timeout=600
    )


def medsec(*args: str, db: Path) -> Any:
    done = run(*args, "--json", db=db)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def nvd_record(cve: str, criteria: str, **bounds: str) -> dict[str, Any]:
    return {
        "cve": {
            "id": cve,
            "sourceIdentifier": "cve@mitre.org",
            "published": "2022-02-24T15:15:00.000",
            "lastModified": "2022-03-04T16:00:00.000",
            "vulnStatus": "Analyzed",
            "descriptions": [{"lang": "en", "value": f"{cve}, written by the test"}],
            "metrics": {
                "cvssMetricV31": [
                    {
                        "source": "nvd@nist.gov",
                        "type": "Primary",
                        "cvssData": {
                            "version": "3.1",
                            "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
                            "baseScore": 7.5,
                            "baseSeverity": "HIGH",
                        },
                    }
                ]
            },
            "configurations": [
                {
                    "nodes": [
                        {
                            "operator": "OR",
                            "negate": False,
                            "cpeMatch": [
                                {
                                    "vulnerable": True,
                                    "criteria": criteria,
                                    "matchCriteriaId": "00000000-0000-0000-0000-000000000000",
                                    **bounds,
                                }
                            ],
                        }
                    ]
                }
            ],
            "references": [],
        }
    }


def nvd_feed(path: Path) -> Path:
    records = [
        # wolfSSL before 5.2.0: the WolfSSL 4.8.1 both SBOMs list
        nvd_record(
            "CVE-2022-25638",
            "cpe:2.3:a:wolfssl:wolfssl:*:*:*:*:*:*:*:*",
            versionEndExcluding="5.2.0",
        ),
        # fixed in 4.6.0: 4.8.1 is past it
        nvd_record(
            "CVE-2021-3336",
            "cpe:2.3:a:wolfssl:wolfssl:*:*:*:*:*:*:*:*",
            versionEndExcluding="4.6.0",
        ),
        # jQuery 1.2 to before 3.5.0: the extended SBOM's jQuery 3.1.1 (its CPE names another
        # vendor than NVD's, its purl pkg:nuget/jQuery@3.1.1 finds it)
        nvd_record(
            "CVE-2020-11022",
            "cpe:2.3:a:jquery:jquery:*:*:*:*:*:*:*:*",
            versionStartIncluding="1.2",
            versionEndExcluding="3.5.0",
        ),
    ]
    path.write_text(
        json.dumps(
            {
                "resultsPerPage": len(records),
                "startIndex": 0,
                "totalResults": len(records),
                "format": "NVD_CVE",
                "version": "2.0",
                "timestamp": "2024-01-01T00:00:00.000",
                "vulnerabilities": records,
            }
        )
    )
    return path


def vex(path: Path, cve: str, ref: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.4",
                "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, path.name)}",
                "version": 1,
                "vulnerabilities": [
                    {
                        "id": cve,
                        "analysis": {
                            "state": "not_affected",
                            "justification": "code_not_reachable",
                        },
                        "affects": [{"ref": ref}],
                    }
                ],
            }
        )
    )
    return path


def by_cve(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["cve"]: r for r in rows}


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    where = tmp_path_factory.mktemp("sboms")
    sim = generate(where / "h.pcap", devices=12, minutes=2, seed=11)
    db = where / "m.db"
    medsec("discover", str(sim.pcap), db=db)
    devices = medsec("devices", db=db)
    modelled = [d for d in devices if d["vendor"] and d["model"] and d["ips"]]
    assert len(modelled) >= 2, devices
    return {"db": db, "where": where, "model": modelled[0], "other": modelled[1]}


def test_sboms_attached_meet_their_cves_and_vex_clears_them(
    shared_data: Path, hospital: dict[str, Any]
) -> None:
    db, where = hospital["db"], hospital["where"]
    model, other = hospital["model"], hospital["other"]
    sboms = shared_data / "sbom/medical_device_case_study"
    ip, other_ip = model["ips"][0], other["ips"][0]

    # attached at import, to the model written in other case and spacing than identified
    shouted = f" {model['vendor'].upper()} | {model['model'].lower()} "
    imported = medsec("feeds", "import", str(sboms / "narrow.sbom.json"), "--attach-model",
                      shouted, db=db)  # fmt: skip
    assert imported["attached"]["kind"] == "model" and len(imported["attached"]["sboms"]) == 1
    assert imported["findings"] is None  # no vulnerability feed yet: nothing to match
    fed = medsec("feeds", "import", str(nvd_feed(where / "nvd.json")), db=db)
    assert fed["findings"]["created"] >= 2  # the model's SBOM: WolfSSL, jQuery
    medsec("feeds", "import", str(sboms / "extended.sbom.json"), db=db)

    listed = {s["key"]: s for s in medsec("sboms", db=db)}
    narrow = listed[f"urn:uuid:{NARROW_SERIAL}"]
    assert narrow["format"] == "cyclonedx" and narrow["spec_version"] == "1.4"
    assert narrow["components"] == 55 and narrow["subject"]["name"] == "REDACTED"
    assert narrow["attached"]["kind"] == "model"
    assert {d["device"] for d in narrow["devices"]} == {ip}
    (extended,) = (s for s in listed.values() if s["id"] != narrow["id"])
    assert extended["attached"] is None and extended["devices"] == []

    attached = medsec("sbom", "attach", str(extended["id"]), "--device", other_ip, db=db)
    assert attached["attached"] == {"kind": "device", "to": str(other["id"])}
    assert attached["devices"] == [{"id": other["id"], "device": other_ip}]

    found = by_cve(medsec("vulns", "--device", ip, db=db))
    assert "CVE-2021-3336" not in found  # fixed before 4.8.1
    wolfssl = found["CVE-2022-25638"]
    assert wolfssl["certain"] and wolfssl["confidence"] == 90
    assert wolfssl["basis"].startswith(
        "SBOM REDACTED component WolfSSL 4.8.1 (pkg:github/wolfssl/wolfssl) by its CPE"
    )
    assert "in range < 5.2.0 of CVE-2022-25638" in wolfssl["basis"]
    assert wolfssl["cvss"]["score"] == 7.5
    assert "pkg:nuget/jQuery@3.1.1 by its purl" in found["CVE-2020-11022"]["basis"]
    jquery = by_cve(medsec("vulns", "--device", other_ip, db=db))["CVE-2020-11022"]
    assert jquery["certain"] and jquery["confidence"] == 75
    assert jquery["basis"].startswith("SBOM REDACTED component pkg:nuget/jQuery@3.1.1 by its purl")

    counts = medsec("findings", "refresh", db=db)  # the device's, attached since
    assert counts["created"] >= 2
    open_findings = {(f["device"], f["cve"]) for f in medsec("findings", db=db)}
    assert (ip, "CVE-2022-25638") in open_findings and (other_ip, "CVE-2020-11022") in open_findings

    # CycloneDX VEX: a BOM-Link into the narrow SBOM, a plain bom-ref of the extended one
    link = f"urn:cdx:{NARROW_SERIAL}/1#{NARROW_WOLFSSL}"
    vex_link = vex(where / "vex-link.json", "CVE-2022-25638", link)
    vexed = medsec("feeds", "import", str(vex_link), db=db)
    assert vexed["findings"]["closed"] == 1  # the findings follow: closed, naming the VEX
    (closed,) = medsec("findings", "--device", ip, "--cve", "CVE-2022-25638", db=db)
    assert (closed["status"], closed["matched"]) == ("remediated", False)
    why = medsec("finding", str(closed["id"]), db=db)["history"][-1]["why"]
    assert why.startswith("cleared by a supplier VEX (not_affected, justification "
                          "code_not_reachable): urn:uuid:")  # fmt: skip
    assert f"for {link} (component WolfSSL 4.8.1 of SBOM REDACTED)" in why
    assert "CVE-2022-25638" not in by_cve(medsec("vulns", "--device", ip, db=db))
    assert "CVE-2022-25638" in by_cve(medsec("vulns", "--device", other_ip, db=db))
    (cleared,) = medsec("vulns", "--device", ip, "--cleared", db=db)  # and why
    assert (cleared["cve"], cleared["cleared"]) == ("CVE-2022-25638", True)
    assert cleared["basis"] == wolfssl["basis"] and cleared["cvss"]["score"] == 7.5
    assert cleared["vex"]["status"] == "not_affected"
    assert cleared["vex"]["justification"] == "code_not_reachable"
    serial = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'vex-link.json')}"
    assert cleared["vex"]["source"] == serial and cleared["vex"]["reason"].startswith(serial)
    table = run("vulns", "--device", ip, "--cleared", db=db)
    assert table.returncode == 0 and "1 matches cleared by VEX on 1 devices" in table.stdout
    assert "not affected" in table.stdout and "code_not_reachable" in table.stdout
    vex_ref = vex(where / "vex-ref.json", "CVE-2020-11022", EXTENDED_JQUERY)
    assert medsec("feeds", "import", str(vex_ref), db=db)["findings"]["closed"] == 1
    assert "CVE-2020-11022" not in by_cve(medsec("vulns", "--device", other_ip, db=db))
    assert "CVE-2020-11022" in by_cve(medsec("vulns", "--device", ip, db=db))  # other SBOM
    assert medsec("findings", "refresh", db=db)["closed"] == 0  # closed on import already

    medsec("sbom", "detach", str(extended["id"]), db=db)
    assert medsec("vulns", "--device", other_ip, db=db) == []


def test_attaching_refuses_what_it_cannot_do(shared_data: Path, hospital: dict[str, Any]) -> None:
    db = hospital["db"]
    nvd = shared_data / "advisories/nvd_cve_json2/CVE-2022-43272.json"
    sbom = shared_data / "sbom/medical_device_case_study/narrow.sbom.json"
    for args, said in (
        (("feeds", "import", str(nvd), "--attach-model", "A|B"), "not an SBOM"),
        (("feeds", "import", str(sbom), "--attach-device", "10.255.255.254"), "no device"),
        (("feeds", "import", str(sbom), "--attach-model", "no bar"), "Vendor|Model"),
        (("sbom", "attach", "999999", "--device", "1"), "no SBOM '999999'"),
        (("sbom", "attach", "1"), "a model or to a device"),
        (("sbom", "detach", "urn:uuid:nothing"), "no SBOM"),
    ):
        done = run(*args, db=db)
        assert done.returncode == 2, (args, done.stderr)
        assert said in done.stderr and "Traceback" not in done.stderr, done.stderr
