"""``medsec devices``, ``medsec device``, ``medsec identify`` (registered on the main app)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from medsec.cli.main import (
    DbOption,
    JsonOption,
    _edge_labels,
    _human_bytes,
    _identify_row,
    _print_identified,
    _print_json,
    _print_table,
    _run_identify,
    _service,
    _use_db,
    _when,
    app,
    state,
    stdout,
)
from medsec.cli.progress import stderr
from medsec.service import devices as devices_service
from medsec.service import inventory as inv

FORMATS = ("table", "json", "csv", "fhir")


@app.command()
def identify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Identify every device again from all stored observations (after rule changes)."""
    _use_db(db)
    with state.store() as store:
        outcome = _run_identify(store)
    if as_json:
        _print_json(_identify_row(outcome))
    else:
        _print_identified(outcome)


@app.command()
def devices(
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    vendor: Annotated[str | None, typer.Option(help="Vendor contains this text.")] = None,
    vlan: Annotated[int | None, typer.Option(help="Only devices seen on this VLAN.")] = None,
    subnet: Annotated[
        str | None, typer.Option(help="Only devices that held an address in this CIDR.")
    ] = None,
    medical: Annotated[
        bool | None, typer.Option("--medical/--non-medical", help="Only medical / other.")
    ] = None,
    phi: Annotated[
        bool | None, typer.Option("--phi/--no-phi", help="Only devices handling PHI / not.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, json, csv or fhir (R4 Device Bundle).")
    ] = "table",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List devices: category, vendor, model, OS, addresses, PHI - with confidence."""
    _use_db(db)
    fmt = "json" if as_json else fmt
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    query = devices_service.DeviceQuery(
        category=category,
        vendor=vendor,
        vlan=vlan,
        network=subnet,
        medical=medical,
        handles_phi=phi,
        limit=limit,
    )
    with state.store() as store:
        found = devices_service.list_devices(store, query)
    rows = [devices_service.device_json(d) for d in found]
    if fmt != "table":
        text = devices_service.render(rows, fmt)
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
            stderr.print(f"wrote {len(rows)} devices to {out}")
        return
    _print_table(
        f"Devices ({len(rows)})",
        ("id", "category", "vendor", "model", "os", "ip", "mac", "vlan", "phi", "conf"),
        (
            (
                str(d["id"]),
                ("[bold red]" if d["medical"] else "")
                + d["category"]
                + ("[/bold red]" if d["medical"] else "")
                + (f" ({d['modality']})" if d["modality"] else ""),
                d["vendor"] or "-",
                d["model"] or "-",
                " ".join(x for x in (d["os"], d["os_version"]) if x) or "-",
                " ".join(d["ips"][:2]) + (" ..." if len(d["ips"]) > 2 else "") or "-",
                " ".join(d["macs"][:1]) + (" ..." if len(d["macs"]) > 1 else "") or "-",
                " ".join(str(v) for v in d["vlans"]) or "-",
                "[yellow]yes[/yellow]" if d["handles_phi"] else "-",
                str(d["confidence"].get("category", "-")),
            )
            for d in rows
        ),
    )


@app.command()
def device(
    ref: Annotated[str, typer.Argument(help="Device id, IP address or MAC address.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One device: identity with evidence, addresses over time, peers, protocols, services."""
    _use_db(db)
    with state.store() as store:
        found = devices_service.find_devices(store, ref)
        if not found:
            stderr.print(f"[red]error:[/red] no device {ref!r} in the inventory", highlight=False)
            raise typer.Exit(2)
        shown = [(d, devices_service.device_peers(store, d)) for d in found]
    if as_json:
        _print_json(
            [
                {
                    **devices_service.device_json(d),
                    "peers": inv.rows(list(peers)),
                }
                for d, peers in shown
            ]
        )
        return
    for d, peers in shown:
        _print_device(devices_service.device_json(d), peers)


def _print_device(d: dict[str, Any], peers: list[Any]) -> None:
    title = f"Device {d['id']}: {d['category']}" + (" (medical)" if d["medical"] else "")
    identity = Table(title=title, show_header=True)
    for col in ("attribute", "value", "confidence", "evidence"):
        identity.add_column(col)
    for name in ("category", "vendor", "model", "os", "os_version", "firmware_version", "modality"):
        if d.get(name) is None and name != "category":
            continue
        evidence = d["evidence"].get(name, [])
        identity.add_row(
            name,
            str(d.get(name)),
            str(d["confidence"].get(name, "-")),
            "\n".join(_evidence_line(e) for e in evidence) or "-",
        )
    for s in d["software"]:
        key = f"{s['name']}/{s['version']}" if s.get("version") else s["name"]
        evidence = d["evidence"].get(f"software:{s['name']}", [])
        identity.add_row(
            "software",
            key,
            str(d["confidence"]["software"].get(key, "-")),
            "\n".join(_evidence_line(e) for e in evidence) or "-",
        )
    stdout.print(identity)
    for name, rivals in d.get("conflicts", {}).items():
        stdout.print(
            f"[yellow]conflict[/yellow] {name}: "
            + ", ".join(f"{r['value']} ({r['confidence']})" for r in rivals),
            highlight=False,
        )
    stdout.print(
        f"PHI: {'[yellow]yes[/yellow]' if d['handles_phi'] else 'no'}   "
        f"FDA class (category default): {d['fda_class'] or '-'}   "
        f"protocols: {' '.join(d['protocols']) or '-'}",
        highlight=False,
    )
    for kind, values in d["identifiers"].items():
        shown = values if isinstance(values, str) else ", ".join(str(v) for v in values)
        stdout.print(f"{kind}: {shown}", highlight=False)
    _print_table(
        "Addresses over time",
        ("kind", "address", "vlan", "first", "last"),
        (
            (a["kind"], a["value"], str(a["vlan"]), a["first_seen"], a["last_seen"])
            for a in d["addresses"]
        ),
    )
    if d["services"]:
        _print_table(
            "Services it answers",
            ("transport", "port", "app"),
            ((s["transport"], str(s["port"]), s["app"] or "-") for s in d["services"]),
        )
    if peers:
        _print_table(
            f"Peers ({len(peers)} edges)",
            ("client", "server", "service", "app", "labels", "bytes", "last"),
            (
                (
                    e.client,
                    e.server + (f" ({e.destination_name})" if e.destination_name else ""),
                    _service(e),
                    e.app or "-",
                    _edge_labels(e),
                    _human_bytes(e.bytes),
                    _when(e.last_seen),
                )
                for e in peers[:50]
            ),
        )


def _evidence_line(e: dict[str, Any]) -> str:
    where = e.get("src_ip") or ""
    fields = ",".join(e.get("fields", []))
    return f"{e['rule']} ({e['weight']}): {e['protocol']} {e['observation']}.{fields} {where}"


@app.command(name="eval")
def eval_(
    labels: Annotated[list[Path], typer.Argument(help="Labels files (tests/labelled/*.yaml).")],
    root: Annotated[
        Path | None, typer.Option(help="Directory the captures' paths are relative to.")
    ] = None,
    misses: Annotated[bool, typer.Option("--misses", help="List every wrong value.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Measure identification against labelled captures: precision and recall per attribute."""
    from medsec.service import evaluate

    cases = [case for path in labels for case in evaluate.load_labels(path, root)]
    with stderr.status("evaluating ...") as status:
        result = evaluate.evaluate(
            cases, progress=lambda name: status.update(f"evaluating {name} ...")
        )
    if as_json:
        _print_json(result.as_json())
        return
    _print_table(
        f"Identification on {result.hosts} labelled hosts in {result.captures} captures",
        ("attribute", "labelled", "reported", "correct", "precision", "recall"),
        (
            (
                name,
                str(s.labelled),
                str(s.reported),
                str(s.correct),
                f"{s.precision:.1%}" if s.precision is not None else "-",
                f"{s.recall:.1%}" if s.recall is not None else "-",
            )
            for name, s in result.scores.items()
        ),
    )
    accuracy = result.category_accuracy
    stdout.print(
        f"Category correct: [bold]{accuracy:.1%}[/bold]" if accuracy is not None else "",
        highlight=False,
    )
    if misses:
        _print_table(
            f"Wrong or missing values ({len(result.misses)})",
            ("capture", "host", "attribute", "expected", "medsec"),
            (
                (Path(m.capture).name, m.host, m.attribute, m.expected, m.got or "-")
                for m in result.misses
            ),
        )
    for problem in result.unreadable:
        stderr.print(f"[red]unreadable:[/red] {problem}", highlight=False)
