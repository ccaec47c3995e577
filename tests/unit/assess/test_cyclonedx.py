"""CycloneDX SBOM and VEX reader: the real medical-device SBOMs, every CycloneDX example, documents
cyclonedx-python-lib writes for each schema version (JSON and XML), VEX state mapping and ref
resolution, and hostile files (entities, nesting, size, broken syntax)."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisAffectedStatus,
    ImpactAnalysisJustification,
    ImpactAnalysisState,
)
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityReference,
    VulnerabilitySource,
)
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

from medsec.assess.vulns import cyclonedx
from medsec.assess.vulns.cyclonedx import CycloneDxReader
from medsec.assess.vulns.interface import HEAD_BYTES, FeedFormatError, SkippedRecord
from medsec.model.vulns import (
    Component,
    CveId,
    FeedRecord,
    Sbom,
    VersionRange,
    VexStatement,
)

READER = CycloneDxReader()


def read(path: Path) -> tuple[list[FeedRecord], list[SkippedRecord]]:
    skipped: list[SkippedRecord] = []
    return list(READER.read(path, skipped.append)), skipped


def read_sbom(path: Path) -> Sbom:
    records, _ = read(path)
    sboms = [r for r in records if isinstance(r, Sbom)]
    assert len(sboms) == 1
    return sboms[0]


def write_json(tmp_path: Path, document: dict[str, Any], name: str = "bom.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def cdx(**members: Any) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, **members}


def example_files(shared_data: Path) -> list[Path]:
    root = shared_data / "sbom"
    return sorted(
        p
        for folder in ("cyclonedx_examples", "medical_device_case_study")
        for p in (root / folder).rglob("*")
        if p.suffix in (".json", ".xml")
    )


# -- real data ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "count"), [("narrow.sbom.json", 55), ("extended.sbom.json", 65)])
def test_medical_device_sboms(shared_data: Path, name: str, count: int) -> None:
    path = shared_data / "sbom" / "medical_device_case_study" / name
    assert READER.detect(path.read_bytes()[:HEAD_BYTES])  # bomFormat is past the head
    records, skipped = read(path)
    assert skipped == []
    (sbom,) = records
    assert isinstance(sbom, Sbom)
    assert (sbom.format, sbom.spec_version) == ("cyclonedx", "1.4")
    assert sbom.serial and sbom.serial.startswith("urn:uuid:")
    assert sbom.created and sbom.created.year == 2025 and sbom.created.utcoffset() is not None
    assert sbom.subject and sbom.subject.kind == "device"
    assert len(sbom.components) == count
    assert all(c.purl and c.cpe and c.ref for c in sbom.components)
    by_name = {c.name: c for c in sbom.components}
    sdk = by_name["NXP SDK"]
    assert sdk == Component(
        name="NXP SDK",
        version="2.9.0",
        supplier="NXP",
        purl="pkg:github/nxp-mcuxpresso/mcux-sdk",
        cpe="cpe:2.3:a:nxp:nxp_sdk:2.9.0:*:*:*:*:*:*:*",
        kind="firmware",
        ref=sdk.ref,
        licenses=("NXP",),
    )
    soc = by_name["Qualcomm Atheros QCA9563"]
    assert soc.version is None  # written as ""
    assert soc.cpe == "cpe:2.3:h:qualcomm:atheros_qca9563:*:*:*:*:*:*:*:*"
    assert soc.kind == "device"


def flattened(components: Any) -> list[Any]:
    found: list[Any] = []
    for c in components:
        found.append(c)
        found.extend(flattened(c.components))
    return found


def test_every_example_reads_as_the_library_reads_it(shared_data: Path) -> None:
    """Each CycloneDX example gives records without a skip, and the components and
    vulnerabilities cyclonedx-python-lib's strict deserialiser finds."""
    files = example_files(shared_data)
    assert len(files) == 54
    for path in files:
        records, skipped = read(path)
        assert records or path.name == "Use-Cases_Case-7_vex.json", path
        assert all(s.where.endswith(".affects") for s in skipped), (path, skipped)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the library warns of deprecated fields
            if path.suffix == ".json":
                bom = Bom.from_json(json.loads(path.read_bytes()))  # type: ignore[attr-defined]
            else:
                from defusedxml.ElementTree import parse

                bom = Bom.from_xml(parse(path).getroot())  # type: ignore[attr-defined]
        expected = flattened(bom.components)
        if bom.metadata.component is not None:
            expected += flattened(bom.metadata.component.components)
        sboms = [r for r in records if isinstance(r, Sbom)]
        if sboms:
            got = sboms[0].components
            assert sorted((c.name, c.version or "") for c in got) == sorted(
                (c.name, c.version or "") for c in expected
            ), path
            assert {c.purl for c in got if c.purl} == {str(c.purl) for c in expected if c.purl}
            assert {c.cpe for c in got if c.cpe} == {c.cpe for c in expected if c.cpe}
        statements = [r for r in records if isinstance(r, VexStatement)]
        targets = [t for v in bom.vulnerabilities for t in v.affects]
        assert len(statements) == len(targets), path  # no target mixes version statuses
        listed = {v.version or v.range for t in targets for v in t.versions}
        assert {v.raw or v.version for s in statements for v in s.versions} == listed, path


def test_json_and_xml_of_one_bom_agree(shared_data: Path) -> None:
    folder = shared_data / "sbom" / "cyclonedx_examples"
    as_json = read_sbom(folder / "SBOM_laravel-7.12.0_bom.1.4.json")
    as_xml = read_sbom(folder / "SBOM_laravel-7.12.0_bom.1.4.xml")
    assert as_xml.spec_version == "1.4"
    assert as_json.components == as_xml.components
    assert as_json.subject == as_xml.subject
    old = read_sbom(folder / "SBOM_laravel-7.12.0_bom.1.1.xml")
    assert old.spec_version == "1.1"
    assert [c.purl for c in old.components] == [c.purl for c in as_json.components]


def test_cisa_vex_use_case_1_states(shared_data: Path) -> None:
    folder = shared_data / "sbom" / "cyclonedx_examples" / "vex_use_cases"
    expected = {
        "affected": ("affected", "product-DEF", None),
        "fixed": ("fixed", "product-DEF", None),
        "not_affected": ("not_affected", "product-ABC", "code_not_present"),
        "under_investigation": ("under_investigation", "product-GHI", None),
    }
    for suffix, (status, ref, justification) in expected.items():
        name = f"CISA-Use-Cases_Case-1_vex-{suffix}.json"
        records, skipped = read(folder / name)
        assert skipped == []
        (statement,) = records
        assert statement == VexStatement(
            cve_id="CVE-2021-44228",
            status=status,
            justification=justification,
            detail=statement.detail,
            refs=(ref,),
            source=name,
        )


def generic(start: str, end: str) -> VersionRange:
    """``vers:generic/>=start|<=end`` as read."""
    raw = f"vers:generic/>={start}|<={end}"
    return VersionRange(version=start, less_than_or_equal=end, version_type="generic", raw=raw)


ABC_AFFECTED = (VersionRange(version="2.4"), VersionRange(version="2.6"), generic("2.9", "4.1"))
ABC_NOT_AFFECTED = (
    generic("1.0", "2.3"),
    VersionRange(version="2.5"),
    generic("2.7", "2.8"),
    VersionRange(version="4.2"),
)


def test_cisa_vex_use_case_6_versions(shared_data: Path) -> None:
    """One product, versions affected and not: each statement with its versions."""
    path = shared_data / "sbom/cyclonedx_examples/vex_use_cases/CISA-Use-Cases_Case-6_vex.json"
    records, skipped = read(path)
    assert skipped == []
    affected, not_affected = records
    assert isinstance(affected, VexStatement) and isinstance(not_affected, VexStatement)
    assert (affected.status, affected.justification, affected.refs) == (
        "affected",
        None,
        ("product-ABC",),
    )
    assert affected.versions == ABC_AFFECTED
    assert affected.detail and affected.detail.startswith("Versions of Product ABC are affected")
    assert (not_affected.status, not_affected.justification) == ("not_affected", "code_not_present")
    assert not_affected.versions == ABC_NOT_AFFECTED
    assert not_affected.detail and "[versions" not in not_affected.detail


ABC = "urn:cdx:cbb2cd68-2857-43b8-a10b-e8c03d277d18/1#product-ABC"
JKL = "urn:cdx:e4c3eedc-4978-470c-ad02-6ffff63738ff/1#product-JKL"
V51 = VersionRange(version="5.1")
V52 = VersionRange(version="5.2")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            7,
            [
                ("CVE-2021-44228", "affected", ABC, ABC_AFFECTED),
                ("CVE-2021-44228", "affected", JKL, (generic("4.5", "5.0"),)),
                ("CVE-2021-44228", "not_affected", ABC, ABC_NOT_AFFECTED),
                ("CVE-2021-44228", "not_affected", JKL, (generic("1.0", "4.4"),)),
                # resolved, the version without a status: the version that fixed it
                ("CVE-2021-44228", "fixed", JKL, (V51,)),
            ],
        ),
        (
            8,
            [
                ("CVE-2021-44228", "affected", ABC, ABC_AFFECTED),
                ("CVE-2021-44228", "affected", JKL, (generic("4.5", "5.0"),)),
                ("CVE-2021-44228", "not_affected", ABC, ABC_NOT_AFFECTED),
                ("CVE-2021-44228", "not_affected", JKL, (generic("1.0", "4.4"),)),
                ("CVE-2021-44228", "fixed", JKL, (V51, V52)),
                ("CVE-2021-45105", "affected", ABC, ABC_AFFECTED),
                ("CVE-2021-45105", "affected", JKL, (generic("4.5", "5.0"), V51)),
                ("CVE-2021-45105", "not_affected", ABC, ABC_NOT_AFFECTED),
                ("CVE-2021-45105", "not_affected", JKL, (generic("1.0", "4.4"), V52)),
                ("CVE-2021-45105", "not_affected", JKL, (generic("1.0", "4.4"),)),
                ("CVE-2021-45105", "fixed", JKL, (V52,)),
            ],
        ),
    ],
)
def test_cisa_vex_use_cases_7_and_8_versions(
    shared_data: Path, case: int, expected: list[tuple[str, str, str, tuple[VersionRange, ...]]]
) -> None:
    """Products of other BOMs (BOM-Links), several statements per CVE and product, each with
    the versions it covers."""
    folder = shared_data / "sbom/cyclonedx_examples/vex_use_cases"
    records, skipped = read(folder / f"CISA-Use-Cases_Case-{case}_vex.json")
    assert skipped == []
    found = [(r.cve_id, r.status, r.refs, r.versions) for r in records]  # type: ignore[union-attr]
    assert found == [(cve, status, (ref,), versions) for cve, status, ref, versions in expected]


def test_vex_bom_link_into_another_bom(shared_data: Path) -> None:
    folder = shared_data / "sbom" / "cyclonedx_examples"
    (statement,) = read(folder / "VEX_vex.json")[0]
    assert isinstance(statement, VexStatement)
    purl = "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar"
    link = f"urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#{purl}"
    assert statement.refs == (purl, link)
    assert (statement.status, statement.justification) == ("not_affected", "code_not_reachable")
    records, _ = read(folder / "vex_use_cases" / "Use-Cases_Case-9_vex.json")
    assert len(records) == 57  # 19 CVEs x 3 products
    assert all(isinstance(r, VexStatement) and r.refs[0].startswith("urn:cdx:") for r in records)


def test_vex_without_affects_is_skipped(shared_data: Path) -> None:
    path = shared_data / "sbom/cyclonedx_examples/vex_use_cases/Use-Cases_Case-7_vex.json"
    records, skipped = read(path)
    assert records == []
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.vulnerabilities[0].affects", "CVE-2020-25649 names no affected component")
    ]


# -- documents cyclonedx-python-lib writes ----------------------------------------------------


def library_bom(version: SchemaVersion) -> Bom:
    inner = CdxComponent(name="zlib", version="1.2.13", bom_ref="zlib", group="madler")
    dcmtk = CdxComponent(
        name="dcmtk",
        version="3.6.7",
        type=ComponentType.LIBRARY,
        bom_ref="dcmtk",
        supplier=OrganizationalEntity(name="OFFIS"),
        purl=PackageURL.from_string("pkg:generic/offis/dcmtk@3.6.7"),
        cpe="cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*",
        licenses=[DisjunctiveLicense(id="BSD-3-Clause")],
        components=[inner],
    )
    firmware = CdxComponent(
        name="pump-fw",
        version="4.1",
        type=ComponentType.FIRMWARE if version >= SchemaVersion.V1_2 else ComponentType.APPLICATION,
        bom_ref="fw",
        publisher="Example Medical",
        licenses=[LicenseExpression("LicenseRef-Proprietary")],
    )
    bom = Bom(components=[dcmtk, firmware])
    bom.metadata.component = CdxComponent(
        name="Infusion pump", version="2", type=ComponentType.DEVICE, bom_ref="pump"
    )
    bom.vulnerabilities.add(
        Vulnerability(
            id="CVE-2022-43272",
            source=VulnerabilitySource(name="NVD"),
            affects=[
                BomTarget(
                    ref="dcmtk",
                    versions=[
                        BomTargetVersionRange(
                            version="3.6.7", status=ImpactAnalysisAffectedStatus.UNAFFECTED
                        ),
                        BomTargetVersionRange(
                            range="vers:generic/<3.6.7",
                            status=ImpactAnalysisAffectedStatus.AFFECTED,
                        ),
                    ],
                )
            ],
            analysis=VulnerabilityAnalysis(
                state=ImpactAnalysisState.NOT_AFFECTED,
                justification=ImpactAnalysisJustification.CODE_NOT_REACHABLE,
                detail="DICOM network code not built",
            ),
        )
    )
    bom.vulnerabilities.add(
        Vulnerability(
            id="GHSA-xxxx-yyyy-zzzz",
            references=[
                VulnerabilityReference(id="CVE-2023-0001", source=VulnerabilitySource(name="NVD"))
            ],
            affects=[BomTarget(ref="fw")],
            analysis=VulnerabilityAnalysis(state=ImpactAnalysisState.RESOLVED_WITH_PEDIGREE),
        )
    )
    return bom


JSON_VERSIONS = [v for v in SchemaVersion if v >= SchemaVersion.V1_2]
XML_VERSIONS = list(SchemaVersion)


@pytest.mark.parametrize(
    ("output", "version"),
    [(OutputFormat.JSON, v) for v in JSON_VERSIONS] + [(OutputFormat.XML, v) for v in XML_VERSIONS],
    ids=lambda p: getattr(p, "name", str(p)),
)
def test_library_written_documents(tmp_path: Path, output: OutputFormat, version: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        written = make_outputter(library_bom(version), output, version).output_as_string(indent=2)
    path = tmp_path / f"bom.{output.name.lower()}"
    path.write_text(written, encoding="utf-8")
    assert READER.detect(written.encode()[:HEAD_BYTES])
    records, skipped = read(path)
    assert skipped == []
    sbom = records[0]
    assert isinstance(sbom, Sbom)
    spec = f"{version.value[0]}.{version.value[1]}"
    assert sbom.spec_version == spec
    by_name = {c.name: c for c in sbom.components}
    assert sorted(by_name) == ["dcmtk", "pump-fw", "zlib"]  # the library orders them
    dcmtk, zlib, firmware = by_name["dcmtk"], by_name["zlib"], by_name["pump-fw"]
    assert (dcmtk.version, dcmtk.purl) == ("3.6.7", "pkg:generic/offis/dcmtk@3.6.7")
    assert zlib.supplier == "madler"  # the group, when there is no supplier or publisher
    assert firmware.supplier == "Example Medical"
    if version >= SchemaVersion.V1_1:
        assert dcmtk.cpe == "cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*"
        assert (dcmtk.ref, dcmtk.kind) == ("dcmtk", "library")
        assert firmware.licenses == ("LicenseRef-Proprietary",)
        assert dcmtk.licenses == ("BSD-3-Clause",)  # the library writes none for 1.0
    if version >= SchemaVersion.V1_2:
        assert dcmtk.supplier == "OFFIS"
        assert sbom.subject and sbom.subject.name == "Infusion pump"
        assert sbom.created is not None and sbom.serial and sbom.serial.startswith("urn:uuid:")
    statements = records[1:]
    if version < SchemaVersion.V1_4:
        assert statements == []
        return
    by_status = {s.status: s for s in statements if isinstance(s, VexStatement)}
    assert len(by_status) == len(statements) == 3
    assert by_status["fixed"] == VexStatement(
        cve_id=CveId("CVE-2023-0001"), status="fixed", refs=("fw",), source=sbom.serial or ""
    )
    dcmtk_refs = (
        "pkg:generic/offis/dcmtk@3.6.7",
        "cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*",
        "dcmtk",
    )
    assert by_status["not_affected"] == VexStatement(
        cve_id=CveId("CVE-2022-43272"),
        status="not_affected",
        justification="code_not_reachable",
        detail="DICOM network code not built",
        refs=dcmtk_refs,
        versions=(VersionRange(version="3.6.7"),),
        source=sbom.serial or "",
    )
    # The same analysis: its justification is why 3.6.7 is not affected, not the others.
    assert by_status["affected"] == VexStatement(
        cve_id=CveId("CVE-2022-43272"),
        status="affected",
        detail="DICOM network code not built",
        refs=dcmtk_refs,
        versions=(
            VersionRange(less_than="3.6.7", version_type="generic", raw="vers:generic/<3.6.7"),
        ),
        source=sbom.serial or "",
    )


# -- VEX built by hand -------------------------------------------------------------------------


def vulnerability(ident: str, state: str | None, ref: str = "c", **more: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": ident, "affects": [{"ref": ref}], **more}
    if state is not None:
        entry["analysis"] = {"state": state}
    return entry


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("not_affected", "not_affected"),
        ("false_positive", "not_affected"),
        ("resolved", "fixed"),
        ("resolved_with_pedigree", "fixed"),
        ("exploitable", "affected"),
        ("in_triage", "under_investigation"),
        (None, "affected"),
    ],
)
def test_analysis_states(tmp_path: Path, state: str | None, status: str) -> None:
    path = write_json(tmp_path, cdx(vulnerabilities=[vulnerability("cve-2024-1234", state)]))
    (statement,) = read(path)[0]
    assert statement == VexStatement(
        cve_id="CVE-2024-1234", status=status, refs=("c",), source="bom.json"
    )


def test_vex_skips_what_it_cannot_state(tmp_path: Path) -> None:
    document = cdx(
        serialNumber="urn:uuid:0b0b0b0b-0000-4000-8000-000000000001",
        components=[{"name": "openssl", "bom-ref": "o", "purl": "pkg:generic/openssl@1.1.1"}],
        vulnerabilities=[
            vulnerability("GHSA-aaaa-bbbb-cccc", "exploitable"),
            vulnerability("CVE-2024-0001", "maybe"),
            {"id": "CVE-2024-0002", "affects": [{"versions": []}, "x"]},
            "not an object",
            vulnerability(
                "CVE-2024-0003",
                "not_affected",
                ref="urn:cdx:0b0b0b0b-0000-4000-8000-000000000001/1#o",
            ),
        ],
    )
    records, skipped = read(write_json(tmp_path, document))
    sbom, statement = records
    assert isinstance(sbom, Sbom) and len(sbom.components) == 1
    assert statement == VexStatement(
        cve_id="CVE-2024-0003",
        status="not_affected",
        refs=("pkg:generic/openssl@1.1.1", "urn:cdx:0b0b0b0b-0000-4000-8000-000000000001/1#o"),
        source="urn:uuid:0b0b0b0b-0000-4000-8000-000000000001",
    )
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.vulnerabilities[3]", "vulnerability is not an object"),
        (
            "$.vulnerabilities[0].id",
            "GHSA-aaaa-bbbb-cccc is not a CVE and names no single CVE in references",
        ),
        ("$.vulnerabilities[1].analysis.state", "unknown analysis state 'maybe'"),
        ("$.vulnerabilities[2].affects[0]", "target without a ref"),
        ("$.vulnerabilities[2].affects[1]", "target without a ref"),
    ]


def test_versions_of_one_target_with_different_statuses(tmp_path: Path) -> None:
    """One affects entry, versions affected and unaffected: a statement per status, each with
    its versions (in the order first stated, duplicates once), the analysis' detail on both
    and its justification on the versions it explains."""
    entry = vulnerability(
        "CVE-2024-1000",
        None,
        analysis={
            "state": "not_affected",
            "justification": "code_not_reachable",
            "detail": "Fixed upstream.",
        },
    )
    entry["affects"][0]["versions"] = [
        {"version": "2.4", "status": "affected"},
        {"range": "vers:generic/>=2.9|<=4.1", "status": "unaffected"},
        {"version": " 2.5 ", "status": "affected"},
        {"version": "2.4", "status": "affected"},
        {"range": "vers:generic/2.7|2.8", "status": "unaffected"},
        {"version": "5.0", "status": "unknown"},
    ]
    records, skipped = read(write_json(tmp_path, cdx(vulnerabilities=[entry])))
    assert skipped == []
    statement = VexStatement(
        cve_id=CveId("CVE-2024-1000"),
        status="affected",
        detail="Fixed upstream.",
        refs=("c",),
        source="bom.json",
    )
    assert records == [
        replace(statement, versions=(VersionRange(version="2.4"), VersionRange(version="2.5"))),
        replace(
            statement,
            status="not_affected",
            justification="code_not_reachable",
            versions=(
                generic("2.9", "4.1"),
                *(
                    VersionRange(version=v, version_type="generic", raw="vers:generic/2.7|2.8")
                    for v in ("2.7", "2.8")
                ),
            ),
        ),
        replace(statement, status="unknown", versions=(VersionRange(version="5.0"),)),
    ]


@pytest.mark.parametrize(
    ("state", "stated", "status"),
    [
        ("exploitable", "affected", "affected"),
        ("not_affected", "affected", "affected"),
        ("exploitable", "unaffected", "not_affected"),
        ("not_affected", "unaffected", "not_affected"),
        ("resolved", "unaffected", "fixed"),
        ("resolved", "affected", "affected"),
        ("in_triage", "unknown", "under_investigation"),
        ("exploitable", "unknown", "unknown"),
        (None, "unaffected", "not_affected"),
        # no status: the analysis' (CISA use case 7 lists the fixing version so)
        ("resolved", None, "fixed"),
        ("not_affected", None, "not_affected"),
        (None, None, "affected"),
    ],
)
def test_version_statuses(
    tmp_path: Path, state: str | None, stated: str | None, status: str
) -> None:
    entry = vulnerability("CVE-2024-1001", state)
    entry["affects"][0]["versions"] = [{"version": "1.0"} | ({"status": stated} if stated else {})]
    (statement,) = read(write_json(tmp_path, cdx(vulnerabilities=[entry])))[0]
    assert isinstance(statement, VexStatement)
    assert (statement.status, statement.versions) == (status, (VersionRange(version="1.0"),))


def test_versions_that_cannot_be_read(tmp_path: Path) -> None:
    """A bad version entry is skipped, the target's other versions stay; a target none of
    whose versions can be read gives no statement (about every version it would claim more
    than the document says)."""
    good = {"version": "1.0", "status": "unaffected"}
    targets: list[Any] = [
        {"ref": "a", "versions": [good, "1.1", {"status": "unaffected"}, {"version": 7}]},
        {"ref": "b", "versions": [{"version": "1.0", "status": "fixed"}, {"range": ""}]},
        {"ref": "c", "versions": {"version": "1.0"}},
        {"ref": "d", "versions": []},
    ]
    entry = {"id": "CVE-2024-1002", "analysis": {"state": "not_affected"}, "affects": targets}
    records, skipped = read(write_json(tmp_path, cdx(vulnerabilities=[entry])))
    assert [(r.refs, r.versions) for r in records] == [  # type: ignore[union-attr]
        (("a",), (VersionRange(version="1.0"),)),
        (("d",), ()),
    ]
    at = "$.vulnerabilities[0].affects"
    assert [(s.where, s.reason) for s in skipped] == [
        (f"{at}[0].versions[1]", "version entry is not an object"),
        (f"{at}[0].versions[2]", "version entry with neither version nor range"),
        (f"{at}[0].versions[3]", "version entry with neither version nor range"),
        (f"{at}[1].versions[0]", "unknown version status 'fixed'"),
        (f"{at}[1].versions[1]", "version entry with neither version nor range"),
        (f"{at}[1]", "CVE-2024-1002: none of the versions it lists could be read: no statement"),
        (f"{at}[2].versions", "versions is not an array"),
        (f"{at}[2]", "CVE-2024-1002: none of the versions it lists could be read: no statement"),
    ]


# -- components ---------------------------------------------------------------------------------


def test_component_fields_and_skips(tmp_path: Path) -> None:
    document = cdx(
        metadata={
            "timestamp": "2024-05-01T10:00:00",
            "component": {
                "name": "Ventilator",
                "type": "device",
                "manufacturer": {"name": "Example Medical"},
                "components": [{"name": "board", "type": "device"}],
            },
        },
        components=[
            {
                "name": " openssl ",
                "version": "3.0.13",
                "supplier": {"name": "OpenSSL Project"},
                "publisher": "ignored",
                "licenses": [{"license": {"id": "Apache-2.0"}}, {"expression": "MIT OR X11"}],
            },
            {"version": "1"},
            7,
            {
                "name": "openssl",
                "version": "3.0.13",
                "supplier": {"name": "OpenSSL Project"},
                "licenses": [{"license": {"id": "Apache-2.0"}}, {"expression": "MIT OR X11"}],
            },
            {"name": "outer", "components": {"name": "not a list"}},
        ],
    )
    records, skipped = read(write_json(tmp_path, document))
    (sbom,) = records
    assert isinstance(sbom, Sbom)
    assert sbom.created is not None and sbom.created.isoformat() == "2024-05-01T10:00:00+00:00"
    assert sbom.subject == Component(name="Ventilator", supplier="Example Medical", kind="device")
    assert sbom.components == (
        Component(name="board", kind="device"),
        Component(
            name="openssl",
            version="3.0.13",
            supplier="OpenSSL Project",
            licenses=("Apache-2.0", "MIT OR X11"),
        ),
        Component(name="outer"),
    )
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.components[1]", "component without a name"),
        ("$.components[2]", "component is not an object"),
        ("$.components[4].components", "components is not an array"),
    ]


def nested(depth: int) -> dict[str, Any]:
    item: dict[str, Any] = {"name": f"level-{depth}"}
    for level in range(depth - 1, 0, -1):
        item = {"name": f"level-{level}", "components": [item]}
    return item


def test_nesting_deeper_than_the_limit_is_skipped(tmp_path: Path) -> None:
    limit = cyclonedx.MAX_COMPONENT_DEPTH
    path = write_json(tmp_path, cdx(components=[nested(limit + 5)]))
    records, skipped = read(path)
    (sbom,) = records
    assert isinstance(sbom, Sbom)
    assert len(sbom.components) == limit
    assert [s.reason for s in skipped] == [f"components nested deeper than {limit} levels"]
    assert skipped[0].where == "$.components[0]" + ".components[0]" * limit


def test_deep_xml_is_refused(tmp_path: Path) -> None:
    depth = cyclonedx.MAX_XML_DEPTH + 1
    body = "<component><name>x</name><components>" * depth
    path = tmp_path / "deep.xml"
    path.write_text(
        f'<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components>{body}', encoding="utf-8"
    )
    with pytest.raises(FeedFormatError, match="nested deeper than"):
        read(path)


# -- hostile and broken files ----------------------------------------------------------------


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>
<component type="library"><name>&c;</name></component></components></bom>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>
<component type="library"><name>&x;</name></component></components></bom>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "external"])
def test_entities_are_never_expanded(tmp_path: Path, xml: str) -> None:
    path = tmp_path / "evil.xml"
    path.write_text(xml, encoding="utf-8")
    assert READER.detect(xml.encode())
    with pytest.raises(FeedFormatError, match="refused XML construct"):
        read(path)


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as stream:
        stream.truncate(cyclonedx.MAX_SBOM_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(FeedFormatError, match="more than the"):
        read(path)


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        (b"", "$", "not valid JSON: parse error: premature EOF"),
        (b"[1, 2]", "$", "not a JSON object"),
        (b'{"bomFormat": "SPDX"}', "$.bomFormat", "not a CycloneDX document"),
        (b'{"specVersion": "1.4"}', "$.bomFormat", "no bomFormat"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "2.0"}', "$.specVersion", "unsupported"),
        (b'{"bomFormat": "CycloneDX"}', "$.specVersion", "unsupported specVersion None"),
        (
            b'{"bomFormat": "CycloneDX", "components": [{"name": "a"}, {"na',
            "$.components[1]",
            "not valid JSON",
        ),
        (b'{"bomFormat": "CycloneDX"} trailing', "$.bomFormat", "not valid JSON"),
        (b"<bom>", "$", "not a CycloneDX bom"),
        (b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>', "$", "not well-formed"),
        (b"<?xml version='1.0'?>", "$", "not well-formed"),
        (b"<?xml version='1.0' encoding='bogus'?><bom/>", "$", "unsupported XML encoding"),
        (b"<?xml version='1.0' encoding='shift_jis'?><bom/>", "$", "unsupported XML encoding"),
    ],
)
def test_broken_files(tmp_path: Path, content: bytes, where: str, reason: str) -> None:
    path = tmp_path / "broken"
    path.write_bytes(content)
    with pytest.raises(FeedFormatError) as raised:
        read(path)
    assert raised.value.path == path
    assert raised.value.where == where
    assert reason in raised.value.reason


HEAD = b'{"bomFormat": "CycloneDX", "specVersion": "1.5", '


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        # A 5,000-digit number: the C backend raised SystemError (int digits limit).
        (
            HEAD + b'"components": [{"name": "a", "version": ' + b"9" * 5000 + b"}]}",
            "$.components[0]",
            "not valid JSON: parse error: integer overflow",
        ),
        (
            HEAD + b'"metadata": {"timestamp": -' + b"1" * 5000 + b"}}",
            "$.metadata",
            "not valid JSON: parse error: integer overflow",
        ),
        # An exponent beyond any Decimal: decimal.InvalidOperation before.
        (
            HEAD + b'"version": 1.1e99999999999999999999}',
            "$.version",
            "not valid JSON: parse error: numeric (floating point) overflow",
        ),
        (
            HEAD + b'"vulnerabilities": [{"ratings": [{"score": 1e999}]}]}',
            "$.vulnerabilities[0]",
            "not valid JSON: parse error: numeric (floating point) overflow",
        ),
        # Passed over unbuilt, still parsed: a member nobody reads fails the file too.
        (
            HEAD + b'"properties": [' + b"1" * 20 + b"]}",
            "$.properties",
            "not valid JSON: parse error: integer overflow",
        ),
        # A lone surrogate escape: UnicodeDecodeError from the C backend before.
        (
            HEAD + b'"serialNumber": "\\udc00\\ud800"}',
            "$.serialNumber",
            "not valid JSON: a string that is no Unicode text",
        ),
    ],
    ids=["digits", "digits-passed-over-member", "exponent", "1e999", "20-digits", "surrogate"],
)
def test_numbers_and_strings_the_parser_cannot_hold(
    tmp_path: Path, content: bytes, where: str, reason: str
) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(content)
    with pytest.raises(FeedFormatError) as raised:
        read(path)
    assert (raised.value.path, raised.value.where) == (path, where)
    assert raised.value.reason.startswith(reason)


class FailingBackend:
    """An ijson backend that gives two events, then raises ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def basic_parse(self, stream: Any, use_float: bool = False) -> Any:
        assert use_float
        yield ("start_map", None)
        yield ("map_key", "components")
        raise self.error


def wrapped_value_error() -> SystemError:
    try:
        try:
            int("9" * 5000)
        except ValueError as inner:
            raise SystemError("returned a result with an exception set") from inner
    except SystemError as outer:
        return outer
    raise AssertionError


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (wrapped_value_error(), "not valid JSON: ValueError: Exceeds the limit (4300 digits)"),
        (OverflowError("too big"), "not valid JSON: OverflowError: too big"),
        (OSError(5, "Input/output error"), "cannot read the file: [Errno 5] Input/output error"),
    ],
    ids=["system-error", "overflow", "os-error"],
)
def test_whatever_the_parser_raises_is_a_feed_format_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, reason: str
) -> None:
    monkeypatch.setattr(cyclonedx, "_BACKEND", FailingBackend(error))
    path = write_json(tmp_path, cdx())
    with pytest.raises(FeedFormatError) as raised:
        read(path)
    assert (raised.value.where, raised.value.reason[: len(reason)]) == ("$.components", reason)
    assert raised.value.__cause__ is error


def test_numbers_are_read_as_floats(tmp_path: Path) -> None:
    """Numbers where text is expected are no text; those a double holds read fine."""
    document = cdx(
        components=[{"name": "a", "version": 1.5}, {"name": "b", "version": 12, "cpe": 1e300}],
        vulnerabilities=[
            {"id": "CVE-2024-0001", "ratings": [{"score": 9.8}], "affects": [{"ref": "a"}]}
        ],
    )
    records, skipped = read(write_json(tmp_path, document))
    assert skipped == []
    sbom, statement = records
    assert isinstance(sbom, Sbom) and isinstance(statement, VexStatement)
    assert sbom.components == (Component(name="a"), Component(name="b"))


def test_byte_order_mark_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(cdx(components=[{"name": "a"}])).encode())
    assert READER.detect(path.read_bytes())
    assert read_sbom(path).components == (Component(name="a"),)
    with pytest.raises(FeedFormatError, match="cannot read"):
        read(tmp_path / "absent.json")


@pytest.mark.parametrize("encoding", ["utf-16", "iso-8859-1", "utf-8"])
def test_xml_encodings(tmp_path: Path, encoding: str) -> None:
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>'
        '<component type="library"><name>dcmtk</name><version>3.6.7</version>'
        "<supplier><name>OFFIS e.V. \u00e9</name></supplier></component></components></bom>"
    )
    path = tmp_path / "bom.xml"
    path.write_bytes(xml.encode(encoding))
    assert READER.detect(path.read_bytes())
    assert read_sbom(path).components == (
        Component(name="dcmtk", version="3.6.7", supplier="OFFIS e.V. \u00e9", kind="library"),
    )


def test_members_not_arrays_are_skipped(tmp_path: Path) -> None:
    path = write_json(tmp_path, cdx(components={"name": "a"}, vulnerabilities="none"))
    records, skipped = read(path)
    assert records == [
        Sbom(format="cyclonedx", spec_version="1.5", serial=None, subject=None, components=())
    ]
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.components", "components is not an array"),
        ("$.vulnerabilities", "vulnerabilities is not an array"),
    ]


@pytest.mark.parametrize(
    "head",
    [
        b'{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}',
        b'{"document": {"category": "csaf_vex", "csaf_version": "2.0"}}',
        b'{"resultsPerPage": 1, "format": "NVD_CVE", "vulnerabilities": []}',
        b'<?xml version="1.0"?><rdf:RDF xmlns:spdx="http://spdx.org/rdf/terms#">',
        b"SPDXVersion: SPDX-2.2\n",
        b"",
    ],
)
def test_detect_refuses_other_formats(head: bytes) -> None:
    assert not READER.detect(head)
