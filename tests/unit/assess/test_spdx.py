"""SPDX reader: every SPDX example (2.2/2.3 JSON and tag-value read; 3.0 refused), spec-built
documents in both serialisations giving the same SBOM, subjects, external refs, and broken
files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from medsec.assess.vulns.cyclonedx import CycloneDxReader
from medsec.assess.vulns.interface import HEAD_BYTES, FeedFormatError, SkippedRecord
from medsec.assess.vulns.spdx import SpdxReader
from medsec.model.vulns import Component, Sbom

READER = SpdxReader()


def read(path: Path) -> tuple[Sbom, list[SkippedRecord]]:
    skipped: list[SkippedRecord] = []
    (sbom,) = READER.read(path, skipped.append)
    assert isinstance(sbom, Sbom)
    return sbom, skipped


def examples(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "sbom" / "spdx_examples").iterdir())


# -- real data ------------------------------------------------------------------------------


def test_every_example_reads(shared_data: Path) -> None:
    files = examples(shared_data)
    assert len(files) == 53  # 12 tag-value, 17 SPDX 2.x JSON, 24 SPDX 3.0 JSON-LD
    versions: list[str] = []
    for path in files:
        head = path.read_bytes()[:HEAD_BYTES]
        assert READER.detect(head), path
        assert not CycloneDxReader().detect(head), path
        sbom, skipped = read(path)
        assert skipped == [], path
        assert sbom.format == "spdx"
        assert sbom.serial and sbom.created and sbom.created.utcoffset() is not None
        versions.append(sbom.spec_version)
    assert sorted(set(versions)) == ["2.2", "2.3", "3.0.1"]
    assert versions.count("3.0.1") == 24


def test_spdx_3_examples_say_what_their_2x_originals_say(shared_data: Path) -> None:
    """spdx-examples converted each 2.x document to 3.0: both give the same subject and
    components (names, versions, purls). Example 7's 3.0 documents were rewritten by hand
    with other content (a tarball for the Go distribution, two modules of three), so they
    are left out."""
    folder = shared_data / "sbom" / "spdx_examples"
    pairs = 0
    for new in sorted(folder.glob("software_example*_spdx3.0_*")):
        example, rest = new.name.split("_spdx3.0_")
        stem = rest.split(".")[0]
        old = sorted(folder.glob(f"{example}_spdx2.?_{stem}.*"))
        if not old or example == "software_example7":
            continue
        pairs += 1
        before, _ = read(old[0])
        after, _ = read(new)
        assert before.subject and after.subject, new
        assert before.subject.name == after.subject.name, new
        assert sorted((c.name, c.version, c.purl) for c in before.components) == sorted(
            (c.name, c.version, c.purl) for c in after.components
        ), new
    assert pairs == 17


def test_acme_json(shared_data: Path) -> None:
    path = (
        shared_data
        / "sbom/spdx_examples/presentations_SBOMS-SPDX-Now-and-Future_ACME-v2.3.spdx.json"
    )
    sbom, _ = read(path)
    assert sbom.subject == Component(
        name="Acme Applcation",
        version="2.3",
        supplier="Jane Doe (jane.doe@example.com)",
        kind="application",
        ref="SPDXRef-Acme",
        licenses=("Apache-2.0",),
    )
    assert [(c.name, c.version, c.purl) for c in sbom.components] == [
        ("elliptic", "6.5.2", "pkg:npm/elliptic@6.5.2"),
        ("alpine", "latest", None),
        ("OpenSSL", "3.0.4", "pkg:alpine/openssl@3.0.4"),
    ]


def test_tag_value_example(shared_data: Path) -> None:
    sbom, _ = read(shared_data / "sbom/spdx_examples/software_example6_spdx2.2_example6-lib.spdx")
    assert sbom.spec_version == "2.2"
    assert sbom.serial == "https://swinslow.net/spdx-examples/example6/go-lib-v2"
    assert sbom.subject == Component(
        name="go-1.15",
        version="1.15.4",
        supplier="Canonical Ltd.",
        ref="SPDXRef-Package-godist",
        licenses=("LicenseRef-Golang-BSD-plus-Patents",),
    )
    assert [c.name for c in sbom.components] == ["go", "go.fmt", "go.reflect", "go.strconv"]
    four, _ = read(shared_data / "sbom/spdx_examples/software_example4_spdx2.2_example4-bin.spdx")
    assert four.subject and four.subject.name == "main-bin"
    assert [c.name for c in four.components] == ["libc", "libdl"]  # packages after files


def test_several_described_packages_give_no_subject(shared_data: Path) -> None:
    name = "software_example7_spdx2.2_example7-third-party-modules.spdx.json"
    sbom, _ = read(shared_data / "sbom/spdx_examples" / name)
    assert sbom.subject is None
    assert len(sbom.components) == 3


# -- spec-built documents --------------------------------------------------------------------

JSON_DOCUMENT: dict[str, Any] = {
    "spdxVersion": "SPDX-2.3",
    "dataLicense": "CC0-1.0",
    "SPDXID": "SPDXRef-DOCUMENT",
    "name": "pump-firmware",
    "documentNamespace": "https://example.com/spdx/pump-4.1",
    "creationInfo": {"created": "2024-03-01T12:00:00Z", "creators": ["Tool: example"]},
    "packages": [
        {
            "SPDXID": "SPDXRef-pump",
            "name": "pump-firmware",
            "versionInfo": "4.1",
            "supplier": "Organization: Example Medical",
            "primaryPackagePurpose": "FIRMWARE",
            "downloadLocation": "NOASSERTION",
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "LicenseRef-Proprietary",
        },
        {
            "SPDXID": "SPDXRef-openssl",
            "name": "openssl",
            "versionInfo": "1.1.1k",
            "originator": "Organization: OpenSSL Project",
            "supplier": "NOASSERTION",
            "primaryPackagePurpose": "OPERATING_SYSTEM",
            "licenseConcluded": "Apache-2.0",
            "licenseDeclared": "Apache-2.0",
            "externalRefs": [
                {
                    "referenceCategory": "SECURITY",
                    "referenceType": "cpe22Type",
                    "referenceLocator": "cpe:/a:openssl:openssl:1.1.1k",
                },
                {
                    "referenceCategory": "SECURITY",
                    "referenceType": "cpe23Type",
                    "referenceLocator": "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*",
                },
                {
                    "referenceCategory": "PACKAGE_MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": "pkg:generic/openssl@1.1.1k",
                },
            ],
        },
        {
            "SPDXID": "SPDXRef-zlib",
            "name": "zlib",
            "versionInfo": "NOASSERTION",
            "externalRefs": [
                {
                    "referenceCategory": "SECURITY",
                    "referenceType": "cpe22Type",
                    "referenceLocator": "cpe:/a:zlib:zlib",
                },
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": "pkg:generic/zlib",
                },
            ],
        },
    ],
    "relationships": [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-pump",
        },
        {
            "spdxElementId": "SPDXRef-pump",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": "SPDXRef-openssl",
        },
    ],
}

TAG_VALUE_DOCUMENT = """\
SPDXVersion: SPDX-2.3
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: pump-firmware
DocumentNamespace: https://example.com/spdx/pump-4.1
DocumentComment: <text>A comment
PackageName: not a package, inside text
</text>
Creator: Tool: example
Created: 2024-03-01T12:00:00Z

## the firmware
PackageName: pump-firmware
SPDXID: SPDXRef-pump
PackageVersion: 4.1
PackageSupplier: Organization: Example Medical
PrimaryPackagePurpose: FIRMWARE
PackageDownloadLocation: NOASSERTION
PackageLicenseConcluded: NOASSERTION
PackageLicenseDeclared: LicenseRef-Proprietary
PackageComment: <text>one line</text>

PackageName: openssl
SPDXID: SPDXRef-openssl
PackageVersion: 1.1.1k
PackageOriginator: Organization: OpenSSL Project
PackageSupplier: NOASSERTION
PrimaryPackagePurpose: OPERATING_SYSTEM
PackageLicenseConcluded: Apache-2.0
PackageLicenseDeclared: Apache-2.0
ExternalRef: SECURITY cpe22Type cpe:/a:openssl:openssl:1.1.1k
ExternalRef: SECURITY cpe23Type cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*
ExternalRef: PACKAGE-MANAGER purl pkg:generic/openssl@1.1.1k

FileName: ./firmware.bin
SPDXID: SPDXRef-file

PackageName: zlib
SPDXID: SPDXRef-zlib
PackageVersion: NOASSERTION
ExternalRef: SECURITY cpe22Type cpe:/a:zlib:zlib
ExternalRef: PACKAGE-MANAGER purl pkg:generic/zlib

Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-pump
Relationship: SPDXRef-pump CONTAINS SPDXRef-openssl
"""

EXPECTED_COMPONENTS = (
    Component(
        name="openssl",
        version="1.1.1k",
        supplier="OpenSSL Project",
        purl="pkg:generic/openssl@1.1.1k",
        cpe="cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*",
        kind="operating-system",
        ref="SPDXRef-openssl",
        licenses=("Apache-2.0",),
    ),
    Component(name="zlib", purl="pkg:generic/zlib", cpe="cpe:/a:zlib:zlib", ref="SPDXRef-zlib"),
)
EXPECTED_SUBJECT = Component(
    name="pump-firmware",
    version="4.1",
    supplier="Example Medical",
    kind="firmware",
    ref="SPDXRef-pump",
    licenses=("LicenseRef-Proprietary",),
)


@pytest.mark.parametrize("form", ["json", "tag-value"])
def test_spec_built_document(tmp_path: Path, form: str) -> None:
    path = tmp_path / "doc.spdx"
    if form == "json":
        path.write_text(json.dumps(JSON_DOCUMENT), encoding="utf-8")
    else:
        path.write_text(TAG_VALUE_DOCUMENT, encoding="utf-8")
    assert READER.detect(path.read_bytes())
    sbom, skipped = read(path)
    assert skipped == []
    assert sbom.spec_version == "2.3"
    assert sbom.serial == "https://example.com/spdx/pump-4.1"
    assert sbom.created is not None and sbom.created.isoformat() == "2024-03-01T12:00:00+00:00"
    assert sbom.subject == EXPECTED_SUBJECT
    assert sbom.components == EXPECTED_COMPONENTS


def test_document_describes_and_described_by(tmp_path: Path) -> None:
    document = dict(JSON_DOCUMENT, relationships=[], documentDescribes=["SPDXRef-openssl"])
    path = tmp_path / "a.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    sbom, _ = read(path)
    assert sbom.subject is not None and sbom.subject.name == "openssl"
    relation = {
        "spdxElementId": "SPDXRef-zlib",
        "relationshipType": "DESCRIBED_BY",
        "relatedSpdxElement": "SPDXRef-DOCUMENT",
    }
    path.write_text(json.dumps(dict(JSON_DOCUMENT, relationships=[relation])), encoding="utf-8")
    sbom, _ = read(path)
    assert sbom.subject is not None and sbom.subject.name == "zlib"
    assert len(sbom.components) == 2


def test_a_described_file_is_the_subject(tmp_path: Path) -> None:
    document = dict(
        JSON_DOCUMENT,
        relationships=[],
        documentDescribes=["SPDXRef-bin"],
        files=[{"SPDXID": "SPDXRef-bin", "fileName": "./pump.bin"}],
    )
    path = tmp_path / "a.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    sbom, _ = read(path)
    assert sbom.subject == Component(name="./pump.bin", kind="file", ref="SPDXRef-bin")
    assert len(sbom.components) == 3


def test_bad_packages_are_skipped(tmp_path: Path) -> None:
    document = dict(
        JSON_DOCUMENT,
        packages=[{"SPDXID": "SPDXRef-x"}, "junk", {"name": "ok", "externalRefs": "junk"}],
        creationInfo={"created": "yesterday"},
        files={"not": "a list"},
    )
    path = tmp_path / "a.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    sbom, skipped = read(path)
    assert sbom.components == (Component(name="ok"),)
    assert sbom.created is None
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.creationInfo.created", "no ISO 8601 creation time"),
        ("$.packages[0]", "package without a name"),
        ("$.packages[1]", "package is not an object"),
        ("$.files", "files is not an array"),
    ]
    path.write_text(TAG_VALUE_DOCUMENT.replace("PackageName: zlib", "zlib is here"), "utf-8")
    sbom, skipped = read(path)
    assert [(s.where, s.reason) for s in skipped] == [
        (
            f"line {TAG_VALUE_DOCUMENT.splitlines().index('PackageName: zlib') + 1}",
            "not a 'Tag: value' line",
        )
    ]


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        (b'{"spdxVersion": "SPDX-3.0"}', "$.spdxVersion", "unsupported spdxVersion 'SPDX-3.0'"),
        (b'{"spdxVersion": "SPDX-1.2"}', "$.spdxVersion", "unsupported spdxVersion 'SPDX-1.2'"),
        (b'{"SPDXID": "SPDXRef-DOCUMENT"}', "$.spdxVersion", "no spdxVersion"),
        (b'{"spdxVersion": "SPDX-2.3", "packages": [', "$.packages", "not valid JSON"),
        # Numbers the parser cannot hold (SystemError, decimal.InvalidOperation before).
        (
            b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "versionInfo": '
            + b"9" * 5000
            + b"}]}",
            "$.packages[0]",
            "not valid JSON: parse error: integer overflow",
        ),
        (
            b'{"spdxVersion": "SPDX-2.3", "creationInfo": {"x": 1.1e99999999999999999999}}',
            "$.creationInfo",
            "not valid JSON: parse error: numeric (floating point) overflow",
        ),
        (
            b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": '
            b'[{"type": "software_Package", "name": "\\udc00"}]}',
            "$.@graph[0]",
            "not valid JSON: a string that is no Unicode text",
        ),
        (
            b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}',
            "$.@graph",
            "no SpdxDocument element",
        ),
        (
            b'{"@graph": [], "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", '
            b'"@context": "https://example.com/other"}',
            "$.@context",
            "not an SPDX 3 JSON-LD context",
        ),
        (b"spdxVersion: SPDX-2.3\nSPDXID: SPDXRef-DOCUMENT\n", "$", "unsupported SPDX serial"),
        (
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            b'xmlns:spdx="http://spdx.org/rdf/terms#">',
            "$",
            "unsupported SPDX serialisation",
        ),
        (b"PackageName: x\nSPDXVersion: SPDX-2.2\n", "line 1", "no SPDXVersion before"),
        (b"SPDXVersion: SPDX-2.2\nPackageComment: <text>never closed\n", "line 2", "</text>"),
        (b"hello\n", "line 1", "no SPDXVersion before"),
        (b"", "line 1", "no spdxVersion"),
    ],
)
def test_broken_files(tmp_path: Path, content: bytes, where: str, reason: str) -> None:
    path = tmp_path / "broken"
    path.write_bytes(content)
    with pytest.raises(FeedFormatError) as raised:
        read(path)
    assert (raised.value.path, raised.value.where) == (path, where)
    assert reason in raised.value.reason


SPDX3_DOCUMENT: dict[str, Any] = {
    "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
    "@graph": [
        {
            "@id": "_:ci",
            "type": "CreationInfo",
            "specVersion": "3.0.1",
            "created": "2024-03-01T12:00:00Z",
            "createdBy": ["urn:agent"],
        },
        {
            "type": "Organization",
            "spdxId": "urn:org",
            "name": "Example Medical",
            "creationInfo": "_:ci",
        },
        {"type": "Person", "spdxId": "urn:person", "name": "Eric Young", "creationInfo": "_:ci"},
        {
            "type": "software_Package",
            "spdxId": "urn:pump",
            "name": "pump-firmware",
            "software_packageVersion": "4.1",
            "suppliedBy": "urn:org",
            "software_primaryPurpose": "firmware",
            "creationInfo": "_:ci",
        },
        {
            "type": "software_Package",
            "spdxId": "urn:openssl",
            "name": "openssl",
            "software_packageVersion": "1.1.1k",
            "originatedBy": ["urn:person"],
            "externalIdentifier": [
                {
                    "type": "ExternalIdentifier",
                    "externalIdentifierType": "cpe22",
                    "identifier": "cpe:/a:openssl:openssl:1.1.1k",
                },
                {
                    "type": "ExternalIdentifier",
                    "externalIdentifierType": "cpe23",
                    "identifier": "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*",
                },
                {
                    "type": "ExternalIdentifier",
                    "externalIdentifierType": "packageUrl",
                    "identifier": "pkg:generic/openssl@1.1.1k",
                },
            ],
            "creationInfo": "_:ci",
        },
        {
            "type": "ai_AIPackage",
            "spdxId": "urn:model",
            "name": "arrhythmia-model",
            "software_packageUrl": "pkg:generic/arrhythmia-model@2",
            "creationInfo": "_:ci",
        },
        {"type": "software_Package", "spdxId": "urn:nameless", "creationInfo": "_:ci"},
        "junk",
        {
            "type": "simplelicensing_LicenseExpression",
            "spdxId": "urn:apache",
            "simplelicensing_licenseExpression": "Apache-2.0",
            "creationInfo": "_:ci",
        },
        {
            "type": "simplelicensing_LicenseExpression",
            "spdxId": "urn:noassertion",
            "simplelicensing_licenseExpression": "NOASSERTION",
            "creationInfo": "_:ci",
        },
        {
            "type": "Relationship",
            "spdxId": "urn:r1",
            "from": "urn:openssl",
            "relationshipType": "hasConcludedLicense",
            "to": ["urn:apache"],
            "creationInfo": "_:ci",
        },
        {
            "type": "Relationship",
            "spdxId": "urn:r2",
            "from": "urn:pump",
            "relationshipType": "hasDeclaredLicense",
            "to": ["urn:noassertion"],
            "creationInfo": "_:ci",
        },
        {
            "type": "Relationship",
            "spdxId": "urn:r3",
            "from": "urn:pump",
            "relationshipType": "contains",
            "to": ["urn:openssl"],
            "creationInfo": "_:ci",
        },
        {
            "type": "software_Sbom",
            "spdxId": "urn:sbom",
            "rootElement": ["urn:pump"],
            "creationInfo": "_:ci",
        },
        {
            "type": "SpdxDocument",
            "spdxId": "urn:document",
            "rootElement": ["urn:sbom"],
            "creationInfo": "_:ci",
        },
    ],
}


def test_spdx_3_spec_built(tmp_path: Path) -> None:
    path = tmp_path / "doc.spdx3.json"
    path.write_text(json.dumps(SPDX3_DOCUMENT), encoding="utf-8")
    assert READER.detect(path.read_bytes())
    sbom, skipped = read(path)
    assert [(s.where, s.reason) for s in skipped] == [
        ("$.@graph[7]", "element is not an object"),
        ("$.@graph[6]", "package without a name"),
    ]
    assert (sbom.spec_version, sbom.serial) == ("3.0.1", "urn:document")
    assert sbom.created is not None and sbom.created.isoformat() == "2024-03-01T12:00:00+00:00"
    assert sbom.subject == Component(
        name="pump-firmware",
        version="4.1",
        supplier="Example Medical",
        kind="firmware",
        ref="urn:pump",
    )
    assert sbom.components == (
        Component(
            name="openssl",
            version="1.1.1k",
            supplier="Eric Young",
            purl="pkg:generic/openssl@1.1.1k",
            cpe="cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*",
            ref="urn:openssl",
            licenses=("Apache-2.0",),
        ),
        Component(
            name="arrhythmia-model",
            purl="pkg:generic/arrhythmia-model@2",
            kind="machine-learning-model",
            ref="urn:model",
        ),
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'{"spdxVersion": "SPDX-2.3"}', True),
        (b"# comment\n\nSPDXVersion: SPDX-2.1\n", True),
        (b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}', True),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5"}', False),
        (b'{"document": {"csaf_version": "2.0"}}', False),
        (b"cve,epss,percentile\n", False),
        (b"", False),
    ],
)
def test_detect(head: bytes, expected: bool) -> None:
    assert READER.detect(head) is expected
