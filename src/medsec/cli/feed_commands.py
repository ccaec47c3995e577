"""``medsec feeds import PATH...`` and ``medsec feeds status`` (registered on the main app)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from medsec.cli.main import DbOption, JsonOption, _print_json, _print_table, _use_db, app, state
from medsec.cli.progress import spinner, stderr
from medsec.service import feeds as feeds_service
from medsec.service import sboms as sboms_service
from medsec.service.inventory import Store

feeds_app = typer.Typer(
    help="Vulnerability feeds: NVD, CVE 5, CSAF advisories, KEV, EPSS, SBOMs, VEX.",
    no_args_is_help=True,
)
app.add_typer(feeds_app, name="feeds")


def _row(r: feeds_service.FileImport) -> dict[str, Any]:
    return {
        "path": str(r.path),
        "format": r.format,
        "status": r.status,
        "records": r.records,
        "skipped": r.skipped,
        "error": r.error,
        "skips": [{"where": s.where, "reason": s.reason} for s in r.skips],
    }


def _print_totals(totals: dict[str, int]) -> None:
    _print_table("In the database", ("kind", "count"), ((k, f"{v:,}") for k, v in totals.items()))


@feeds_app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Feed files or folders (recursive).")],
    attach_model: Annotated[
        str | None,
        typer.Option(
            "--attach-model",
            help="Attach the SBOMs imported to this 'Vendor|Model' (SBOM files only).",
        ),
    ] = None,
    attach_device: Annotated[
        str | None,
        typer.Option(
            "--attach-device",
            help="Attach the SBOMs imported to this device: id, IP or MAC (SBOM files only).",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import feeds from files: the format of each is recognised by its content; importing
    again updates and never duplicates. With --attach-model or --attach-device every file
    must be an SBOM (CycloneDX, SPDX); each SBOM is attached once imported. The findings are
    then brought up to date (as by findings refresh)."""
    _use_db(db)
    files = feeds_service.feed_files(paths)
    attaching = attach_model is not None or attach_device is not None
    if attaching:
        sboms_service.check_sbom_files(files)
    with state.store() as store:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[records]:>10,} records"),
            TimeElapsedColumn(),
            console=stderr,
            disable=not stderr.is_terminal,
        ) as progress:
            target = (
                sboms_service.attach_target(store, model=attach_model, device=attach_device)
                if attaching
                else None
            )
            task = progress.add_task("feeds", total=len(files), records=0)
            done_records = 0
            results = []
            attached: list[tuple[Path, str]] = []
            for path in files:
                progress.update(task, description=path.name[:40])

                def tick(_path: Path, records: int, before: int = done_records) -> None:
                    progress.update(task, records=before + records)

                if target is None:
                    result = feeds_service.import_file(store, path, progress=tick)
                else:
                    result, views = sboms_service.import_attached(store, path, target, tick)
                    attached.extend((path, f"SBOM {v.id} ({v.subject})") for v in views)
                done_records += result.records
                results.append(result)
                progress.update(task, advance=1, records=done_records)
        totals = store.feed_totals()
        findings = _refresh_findings(store)
    if as_json:
        out: dict[str, Any] = {
            "files": [_row(r) for r in results],
            "totals": totals,
            "findings": findings[0] if findings else None,
        }
        if target is not None:
            out["attached"] = {
                "kind": target.kind,
                "to": target.to,
                "sboms": [{"path": str(p), "sbom": s} for p, s in attached],
            }
        _print_json(out)
    else:
        _print_table(
            f"Imported {done_records:,} records from {len(results)} files",
            ("file", "format", "status", "records", "skipped", "problem"),
            (
                (
                    str(r.path),
                    r.format or "-",
                    r.status,
                    f"{r.records:,}",
                    f"{r.skipped:,}",
                    r.error or (f"{r.skips[0].where}: {r.skips[0].reason}" if r.skips else ""),
                )
                for r in results
                if r.status != "complete" or r.skipped or len(results) <= 40
            ),
        )
        _print_totals(totals)
        if target is not None:
            _print_table(
                f"Attached to {target.shown}",
                ("file", "SBOM"),
                ((str(p), s) for p, s in attached),
            )
    if findings is not None:
        stderr.print(findings[1], highlight=False)
    if any(r.status in ("failed", "partial") for r in results):
        sys.exit(1)


def _refresh_findings(store: Store) -> tuple[dict[str, int], str] | None:
    """The findings brought up to date with what was imported (JSON, one line); None when
    no vulnerability feed was ever imported."""
    from medsec.service import findings as findings_service

    with spinner("refreshing findings ..."):
        done = findings_service.refresh_if_fed(store, state.settings.rule_dirs)
    if done is None:
        return None
    return findings_service.refresh_json(done), findings_service.refresh_line(done)


@feeds_app.command()
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """How many vulnerabilities, advisories, KEV/EPSS entries, SBOMs and VEX statements the
    database holds."""
    _use_db(db)
    with state.store() as store:
        totals = store.feed_totals()
    if as_json:
        _print_json(totals)
    else:
        _print_totals(totals)
