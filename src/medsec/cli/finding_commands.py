"""``medsec findings [refresh]`` and ``medsec finding ID [set-status ...]`` (registered on the
main app).

::

    medsec findings refresh                       # match the inventory, write the findings
    medsec findings [--overdue [--as-of DATE]] [--status S]... [--device X] [--json]
    medsec finding ID [--json]                    # one finding with its history
    medsec finding ID set-status mitigated --control "VLAN 40, ACL to PACS only" [--by NAME]
    medsec finding ID set-status risk_accepted --why "..." [--until 2027-06-30]
    medsec finding ID set-status false_positive --why "..."
    medsec finding ID set-status remediated [--why "..."]
    medsec finding ID set-status open --why "..."   # reopen

A change the workflow does not allow, or one without what it needs, is refused with exit
code 2 (as a usage error), the finding unchanged.
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from medsec.cli.main import (
    DbOption,
    JsonOption,
    _print_json,
    _print_table,
    _use_db,
    _when,
    app,
    state,
    stdout,
)
from medsec.service import findings as findings_service

findings_app = typer.Typer(
    help="Findings: vulnerabilities of devices with status, history and HICP deadlines.",
    invoke_without_command=True,
)
app.add_typer(findings_app, name="findings")

AsOfOption = Annotated[
    datetime | None,
    typer.Option(
        "--as-of", formats=["%Y-%m-%d"], help="Judge deadlines on this day (default: today)."
    ),
]


def _day(value: datetime | None) -> date:
    return value.date() if value is not None else datetime.now(UTC).date()


def _cvss(f: findings_service.FindingView) -> str:
    facts = f.facts
    if facts.cvss_score is None:
        return "-"
    return f"{facts.cvss_score:.1f} {facts.severity or ''}".strip()


def _due(f: findings_service.FindingView, as_of: date) -> str:
    facts, late = f.facts, findings_service.overdue_of(f, as_of)
    parts = []
    if facts.due_mitigation and f.status == "open":
        mark = " LATE" if "mitigation" in late else ""
        parts.append(f"mitigate {facts.due_mitigation}{mark}")
    if facts.due_remediation and f.status in ("open", "mitigated"):
        mark = " LATE" if "remediation" in late else ""
        parts.append(f"remediate {facts.due_remediation}{mark}")
    if f.status == "risk_accepted" and f.accepted_until:
        mark = " EXPIRED" if "acceptance" in late else ""
        parts.append(f"accepted until {f.accepted_until}{mark}")
    return ", ".join(parts) or "-"


@findings_app.callback()
def findings(
    ctx: typer.Context,
    overdue: Annotated[
        bool,
        typer.Option(
            "--overdue",
            help="Only findings past a deadline: open ones past mitigation or remediation, "
            "mitigated ones past remediation, risk acceptances past their end.",
        ),
    ] = False,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            "-s",
            help=f"Only this status (repeatable): {', '.join(findings_service.STATUSES)}.",
        ),
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", "-d", help="Only this device (id, IP or MAC).")
    ] = None,
    cve: Annotated[str | None, typer.Option("--cve", help="Only this CVE.")] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List findings: open and mitigated first, by the next deadline (findings refresh
    writes them)."""
    if ctx.invoked_subcommand is not None:
        _use_db(db)
        return
    _use_db(db)
    day = _day(as_of)
    with state.store() as store:
        rows = findings_service.list_findings(
            store, statuses=status, device=device, cve=cve, overdue_only=overdue, as_of=day
        )
    if as_json:
        _print_json([findings_service.finding_json(f, day) for f in rows])
        return
    title = f"{len(rows)} {'overdue ' if overdue else ''}findings (deadlines as of {day})"
    _print_table(
        title,
        ("id", "device", "CVE", "status", "CVSS", "KEV", "risk", "due", "match"),
        (
            (
                str(f.id),
                f.facts.device,
                f.facts.cve_id,
                f.status + ("" if f.matched else " (no longer matched)"),
                _cvss(f),
                f"due {f.facts.kev_due}" if f.facts.kev_due else ("yes" if f.facts.kev else ""),
                "uncontrolled" if f.facts.uncontrolled else "controlled",
                _due(f, day),
                f"{'certain' if f.facts.certain else 'possible'} {f.facts.confidence}",
            )
            for f in rows
        ),
    )


@findings_app.command()
def refresh(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Match the devices against the imported feeds and bring the findings up to date.

    New findings open; open ones (set by medsec) whose match has gone are closed as
    remediated; a status a person set is kept."""
    _use_db(db)
    with state.store() as store:
        done = findings_service.refresh_findings(store, state.settings.rule_dirs)
    if as_json:
        _print_json(findings_service.refresh_json(done))
        return
    stdout.print(
        f"findings: {done.created} new, {done.updated} seen again, {done.closed} closed "
        f"(no longer matched), {done.reopened} reopened, {done.unmatched} no longer matched "
        f"but kept as set; {done.total} in all",
        highlight=False,
    )


SET_STATUS = "set-status"


@app.command()
def finding(
    finding_id: Annotated[int, typer.Argument(help="The finding's id (see medsec findings).")],
    action: Annotated[
        str | None, typer.Argument(help=f"{SET_STATUS} to change the status.", show_default=False)
    ] = None,
    status: Annotated[
        str | None,
        typer.Argument(
            help=f"The new status: {', '.join(findings_service.STATUSES)}.", show_default=False
        ),
    ] = None,
    why: Annotated[
        str | None,
        typer.Option("--why", help="Why (needed for risk_accepted, false_positive and open)."),
    ] = None,
    control: Annotated[
        str | None,
        typer.Option("--control", help="The compensating control (needed for mitigated)."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option("--until", formats=["%Y-%m-%d"], help="End of a risk acceptance."),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who makes the change (default: $USER).")
    ] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One finding with its history; finding ID set-status STATUS changes its status.

    Every change is kept in the history with who, when and why."""
    _use_db(db)
    if action is not None and action != SET_STATUS:
        raise typer.BadParameter(f"{action!r}: the only action is {SET_STATUS}")
    if action is not None and status is None:
        raise typer.BadParameter(f"{SET_STATUS} needs the new status")
    if action is None and (why or control or until or by):
        raise typer.BadParameter(f"--why, --control, --until and --by go with {SET_STATUS}")
    day = _day(as_of)
    with state.store() as store:
        if action is None:
            detail = findings_service.get_finding(store, finding_id)
        else:
            assert status is not None
            detail = findings_service.set_finding_status(
                store,
                finding_id,
                status,
                who=by or os.environ.get("USER") or _login_name(),
                why=why,
                control=control,
                until=until.date() if until else None,
            )
    if as_json:
        _print_json(findings_service.detail_json(detail, day))
        return
    _print_detail(detail, day)


def _print_detail(detail: findings_service.FindingDetail, day: date) -> None:
    f = detail.finding
    facts = f.facts
    stdout.print(
        f"[bold]Finding {f.id}[/bold]: {facts.cve_id} on {facts.device} ({facts.device_key})\n"
        f"status: [bold]{f.status}[/bold] by {f.status_by} at {_when(f.status_at)}"
        + (f", accepted until {f.accepted_until}" if f.accepted_until else "")
        + ("" if f.matched else "  [yellow](no longer matched)[/yellow]")
        + f"\nmatch: {'certain' if facts.certain else 'possible'} {facts.confidence} "
        f"({facts.source}): {facts.basis}\n"
        f"CVSS {facts.cvss_version or '-'}: {_cvss(f)} {facts.cvss_vector or ''}"
        + (
            f"\nCVSS 4.0: {facts.cvss4_score} {facts.cvss4_severity or ''} {facts.cvss4_vector}"
            if facts.cvss4_vector
            else ""
        )
        + f"\nKEV: {'yes, due ' + str(facts.kev_due) if facts.kev else 'no'}   "
        f"EPSS: {facts.epss if facts.epss is not None else '-'}   "
        f"disclosed: {facts.disclosed or 'unknown'}\n"
        f"risk: {'uncontrolled' if facts.uncontrolled else 'controlled'} "
        f"({'; '.join(facts.risk_reasons)})\n"
        f"due: {_due(f, day)} (as of {day})\n  {facts.due_basis}",
        highlight=False,
    )
    for a in facts.advisories:
        stdout.print(f"advisory {a.id}: {a.url or '-'}", highlight=False)
    for link in facts.references:
        stdout.print(f"link ({', '.join(link.tags)}): {link.url}", highlight=False)
    for r in facts.remediations:
        stdout.print(
            f"[bold]{r.category}[/bold] ({r.advisory or '-'}): {r.details}", highlight=False
        )
    _print_table(
        "History",
        ("at", "who", "from", "to", "why", "control", "until"),
        (
            (
                _when(c.at),
                c.who + (" (auto)" if c.auto else ""),
                c.from_status or "-",
                c.to_status,
                c.why or "",
                c.control or "",
                str(c.until) if c.until else "",
            )
            for c in detail.history
        ),
    )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
