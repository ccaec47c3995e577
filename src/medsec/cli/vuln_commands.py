"""``medsec vulns``: the vulnerabilities of the inventory's devices (registered on the main app)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from medsec.cli.main import DbOption, JsonOption, _print_table, _use_db, app, state
from medsec.service import vulns as vulns_service


@app.command()
def vulns(
    device: Annotated[
        str | None, typer.Option("--device", "-d", help="Only this device (id, IP or MAC).")
    ] = None,
    kev: Annotated[bool, typer.Option("--kev", help="Only known exploited (CISA KEV).")] = False,
    min_cvss: Annotated[
        float | None, typer.Option("--min-cvss", help="Only CVSS base score >= this.")
    ] = None,
    certain: Annotated[
        bool,
        typer.Option("--certain", help="Only matches whose version was seen in the range."),
    ] = False,
    cleared: Annotated[
        bool,
        typer.Option(
            "--cleared",
            help="Instead, the matches a VEX statement took away (not affected, fixed), "
            "each with its status, justification and source document.",
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Vulnerabilities that apply to devices, KEV first then by CVSS, each with its basis
    (--cleared: those a supplier's VEX says do not apply, and why)."""
    _use_db(db)
    with state.store() as store:
        rows = vulns_service.list_vulnerabilities(
            store,
            device=device,
            kev_only=kev,
            min_cvss=min_cvss,
            certain_only=certain,
            cleared=cleared,
        )
    if as_json:  # row by row: an inventory's matches run to hundreds of thousands
        out = sys.stdout
        out.write("[")
        for i, r in enumerate(rows):
            out.write(",\n" if i else "\n")
            text = json.dumps(vulns_service.vulnerability_json(r), indent=2)
            out.write("  " + text.replace("\n", "\n  "))
        out.write("\n]\n" if rows else "]\n")
        return
    if cleared:
        _print_cleared(rows)
        return
    _print_table(
        f"{len(rows)} vulnerabilities on {len({r.device_id for r in rows})} devices",
        ("device", "CVE", "CVSS", "KEV", "EPSS", "match", "basis"),
        (
            (
                r.device,
                r.cve_id,
                f"{r.cvss_score:.1f} {r.severity or ''}".strip() if r.cvss_score else "-",
                f"due {r.kev_due}" if r.kev and r.kev_due else ("yes" if r.kev else ""),
                f"{r.epss:.3f}" if r.epss is not None else "",
                f"{'certain' if r.certain else 'possible'} {r.confidence}",
                r.basis,
            )
            for r in rows
        ),
    )


def _print_cleared(rows: list[vulns_service.DeviceVulnerability]) -> None:
    _print_table(
        f"{len(rows)} matches cleared by VEX on {len({r.device_id for r in rows})} devices",
        ("device", "CVE", "CVSS", "VEX", "justification", "document", "why", "match was"),
        (
            (
                r.device,
                r.cve_id,
                f"{r.cvss_score:.1f} {r.severity or ''}".strip() if r.cvss_score else "-",
                r.vex.status.replace("_", " "),
                r.vex.justification or "-",
                r.vex.source or "-",
                r.vex.reason,
                r.basis,
            )
            for r in rows
            if r.vex is not None
        ),
    )
