"""SBOMs in the store (SQLite and PostgreSQL): listed with their component counts, found by id
or key, attached to a model or a device and detached, the attachment kept by a re-import;
components read back per SBOM and per device; vulnerabilities looked up by product name."""

from __future__ import annotations

from datetime import UTC, datetime

from medsec.inventory import Store
from medsec.model.vulns import Component, CpeMatch, CveId, Sbom, Vulnerability

OPENSSL = Component(
    "openssl", "1.0.2k", "OpenSSL Project", "pkg:generic/openssl@1.0.2k", None, "library", "ssl"
)
WOLFSSL = Component(
    "WolfSSL", "4.8.1", None, "pkg:github/wolfssl/wolfssl",
    "cpe:2.3:a:wolfssl:wolfssl:4.8.1:*:*:*:*:*:*:*", "firmware", "BomRef.1",
)  # fmt: skip


def sbom(serial: str | None, *components: Component, name: str = "Monitor") -> Sbom:
    return Sbom(
        format="cyclonedx",
        spec_version="1.4",
        serial=serial,
        subject=Component(name, "2.1"),
        components=components,
        created=datetime(2024, 5, 1, tzinfo=UTC),
    )


def test_sboms_are_listed_and_found_by_id_or_key(store: Store) -> None:
    assert store.sboms() == [] and store.sbom("1") is None
    store.import_feed_records([sbom("urn:uuid:a", OPENSSL, WOLFSSL)], source="a.json")
    store.import_feed_records([sbom(None, OPENSSL, name="Pump")], source="b.json")
    first, second = store.sboms()
    assert (first.key, first.serial, first.components, first.subject) == (
        "urn:uuid:a", "urn:uuid:a", 2, "Monitor 2.1",
    )  # fmt: skip
    assert (first.format, first.spec_version, first.source) == ("cyclonedx", "1.4", "a.json")
    assert first.attached_kind is None and first.attached_to is None
    assert (second.key, second.serial, second.components) == ("file:b.json", None, 1)
    assert store.sbom(str(first.id)) == first and store.sbom("urn:uuid:a") == first
    assert store.sbom(" file:b.json ") == second
    for unknown in ("999", "urn:uuid:zzz", "", "²", "9" * 40):
        assert store.sbom(unknown) is None
    assert store.sboms(attached_only=True) == []


def test_attach_detach_and_reimport(store: Store) -> None:
    store.import_feed_records([sbom("urn:uuid:a", OPENSSL, WOLFSSL)], source="a.json")
    (view,) = store.sboms()
    attached = store.attach_sbom(view.id, "model", "Philips|EPIQ 7")
    assert attached is not None
    assert (attached.attached_kind, attached.attached_to) == ("model", "Philips|EPIQ 7")
    assert store.sboms(attached_only=True) == [attached]
    moved = store.attach_sbom(view.id, "device", "7")
    assert moved is not None and (moved.attached_kind, moved.attached_to) == ("device", "7")
    # a re-import rewrites the components and keeps the attachment
    store.import_feed_records([sbom("urn:uuid:a", WOLFSSL)], source="again.json")
    (again,) = store.sboms()
    assert (again.attached_kind, again.attached_to, again.components) == ("device", "7", 1)
    assert again.source == "again.json"
    detached = store.detach_sbom(view.id)
    assert detached is not None and detached.attached_kind is detached.attached_to is None
    assert store.attach_sbom(view.id + 100, "device", "7") is None
    assert store.detach_sbom(view.id + 100) is None


def test_components_per_sbom_and_per_device(store: Store) -> None:
    store.import_feed_records([sbom("urn:uuid:a", OPENSSL, WOLFSSL)], source="a.json")
    store.import_feed_records([sbom("urn:uuid:b", OPENSSL, name="Pump")], source="b.json")
    a, b = store.sboms()
    assert store.sbom_components([a.id, b.id, 999]) == {
        a.id: [OPENSSL, WOLFSSL],
        b.id: [OPENSSL],
        999: [],
    }
    assert store.sbom_components_for_device(7) == {}
    store.attach_sbom(a.id, "device", "7")
    store.attach_sbom(b.id, "model", "B. Braun|Space")
    assert store.sbom_components_for_device(7) == {a.id: [OPENSSL, WOLFSSL]}
    assert store.sbom_components_for_device(8, ["B. Braun|Space"]) == {b.id: [OPENSSL]}
    assert set(store.sbom_components_for_device(7, ["B. Braun|Space"])) == {a.id, b.id}


def test_vulnerabilities_by_product_name_of_any_vendor(store: Store) -> None:
    def vulnerability(cve: str, cpe: str) -> Vulnerability:
        return Vulnerability(CveId(cve), "nvd", cpe_matches=(CpeMatch(cpe, True),))

    store.import_feed_records(
        [
            vulnerability("CVE-2099-0001", "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*"),
            vulnerability("CVE-2099-0002", "cpe:2.3:a:other:openssl:*:*:*:*:*:*:*:*"),
            vulnerability("CVE-2099-0003", "cpe:2.3:a:wolfssl:wolfssl:*:*:*:*:*:*:*:*"),
        ]
    )
    found = store.vulnerabilities_for_product_names(["openssl", "nothing"])
    assert sorted(v.cve_id for v in found) == ["CVE-2099-0001", "CVE-2099-0002"]
    assert store.vulnerabilities_for_product_names([]) == []
