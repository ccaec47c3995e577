"""``medsec misconfigs``: misconfigurations of the inventory's devices (registered on the main
app)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from medsec.cli.main import DbOption, JsonOption, _print_json, _print_table, _use_db, app, state
from medsec.service import misconfig as misconfig_service


@app.command()
def misconfigs(
    device: Annotated[
        str | None, typer.Option("--device", "-d", help="Only this device (id, IP or MAC).")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            "-k",
            help="Only this kind: " + ", ".join(misconfig_service.KINDS) + ".",
        ),
    ] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Judge end of support on this day (YYYY-MM-DD; default today).",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Default credentials, management in clear, end-of-life OS and bad certificates on
    clinical services, most severe first, each with its basis and evidence."""
    if kind is not None and kind not in misconfig_service.KINDS:
        raise typer.BadParameter(
            f"must be one of {', '.join(misconfig_service.KINDS)}", param_hint="--kind"
        )
    _use_db(db)
    with state.store() as store:
        rows = misconfig_service.list_misconfigurations(
            store, device=device, kind=kind, as_of=as_of.date() if as_of else None
        )
    if as_json:
        _print_json([misconfig_service.misconfiguration_json(m) for m in rows])
        return
    _print_table(
        f"{len(rows)} misconfigurations on {len({m.device_id for m in rows})} devices",
        ("device", "severity", "kind", "finding", "basis", "reference"),
        ((m.device, m.severity, m.kind, m.title, m.basis, m.url or m.reference) for m in rows),
    )
