"""VEX statements take away matches of the products and versions they clear, and say why."""

from __future__ import annotations

from medsec.assess.matching import VulnMatch
from medsec.assess.vex import apply_vex
from medsec.model.vulns import CveId, VersionRange, VexStatement

CVE = CveId("CVE-2022-43272")


def hit(version: str | None, product: tuple[str, str] | None = ("offis", "dcmtk")) -> VulnMatch:
    return VulnMatch(1, CVE, "nvd", version is not None, 90, "seen", product, version)


def vex(status: str, *refs: str, versions: tuple[VersionRange, ...] = ()) -> VexStatement:
    return VexStatement(
        CVE, status, "code_not_reachable", refs=refs, versions=versions, source="urn:x"
    )  # type: ignore[arg-type]


def test_a_not_affected_statement_for_the_product_clears_it() -> None:
    kept, cleared = apply_vex(
        [hit("3.6.7")], [vex("not_affected", "cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*")]
    )
    assert kept == []
    (c,) = cleared
    assert "not affected" in c.reason and "3.6.7" in c.reason and "code_not_reachable" in c.reason


def test_statements_that_do_not_clear() -> None:
    cpe = "cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*"
    for statements in (
        [vex("affected", cpe)],
        [vex("under_investigation", cpe)],
        [vex("not_affected", "cpe:2.3:a:offis:other:*:*:*:*:*:*:*:*")],
        [vex("not_affected", "cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*")],  # pins another
        [vex("fixed", cpe, versions=(VersionRange(version="3.6.8"),))],  # other versions
        [VexStatement(CveId("CVE-2000-0001"), "not_affected", refs=(cpe,))],
    ):
        kept, cleared = apply_vex([hit("3.6.7")], statements)
        assert len(kept) == 1 and cleared == [], statements


def test_purls_and_version_lists() -> None:
    purl = vex("fixed", "pkg:generic/dcmtk@3.6.7")
    assert apply_vex([hit("3.6.7")], [purl])[0] == []
    assert len(apply_vex([hit("3.6.6")], [purl])[0]) == 1
    ranged = vex("not_affected", "pkg:generic/dcmtk", versions=(VersionRange(less_than="3.7"),))
    assert apply_vex([hit("3.6.7")], [ranged])[0] == []
    assert len(apply_vex([hit(None)], [ranged])[0]) == 1  # version unseen: cannot clear
    assert len(apply_vex([hit("3.6.7", product=None)], [ranged])[0]) == 1  # advisory match
    assert len(apply_vex([hit("3.6.7")], [vex("not_affected", "pkg:not a purl")])[0]) == 1
