"""The ``medsec`` command: parse options, call one service function, render the result."""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from medsec import __version__
from medsec.cli.errors import EXIT_OK, exit_code, one_line
from medsec.cli.progress import CaptureTask, capture_progress, counting, spinner, stderr
from medsec.model.config import Settings, load_settings
from medsec.model.errors import MedsecError
from medsec.service import inventory as inv

if TYPE_CHECKING:  # the capture engine (numba) loads only for discover
    from medsec.service import devices as devices_service
    from medsec.service import discover as discover_service

app = typer.Typer(
    name="medsec",
    help="Passive visibility and risk control for connected medical devices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
stdout = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 220)
"""Piped output is not cut to 80 columns."""


class State:
    """Global options, resolved once."""

    def __init__(self) -> None:
        self.db: str | None = None
        self.config: Path | None = None
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    def store(self) -> inv.Store:
        return inv.open_inventory(self.settings, self.db)


state = State()

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="MEDSEC_DB",
        help="Database: a SQLite file path or a URL (postgresql://...). Default ./medsec.db.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.callback()
def main_options(
    db: DbOption = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="medsec.toml with site settings.")
    ] = None,
    version: Annotated[bool, typer.Option("--version", help="Show the version.")] = False,
) -> None:
    if version:
        stdout.print(f"medsec {__version__}")
        raise typer.Exit(EXIT_OK)
    state.db = db
    state.config = config


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    stdout.print(table)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _use_db(db: str | None) -> None:
    """A command's own ``--db`` wins over the global one."""
    if db:
        state.db = db


def _human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n} B"


# ----------------------------------------------------------------------------- discover


@app.command()
def discover(
    captures: Annotated[
        list[Path] | None, typer.Argument(help="pcap / pcapng files (optionally .gz).")
    ] = None,
    interface: Annotated[
        str | None, typer.Option("--interface", "-i", help="Capture live from this interface.")
    ] = None,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Seconds of live capture.")
    ] = None,
    inspect: Annotated[
        bool,
        typer.Option(
            "--inspect/--no-inspect",
            help="Inspect payloads (DICOM, HL7, DHCP, TLS...) to name each flow's application "
            "and identify devices (default); --no-inspect keeps flows and hosts only.",
        ),
    ] = True,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Discover devices and who talks to whom from captures (passive: nothing is sent)."""
    _use_db(db)
    if bool(captures) == bool(interface):
        raise typer.BadParameter("give capture files or --interface, not both nor neither")
    store = state.store()
    identified = None
    findings: tuple[dict[str, int], str] | None = None
    with store:
        outcomes = _run_discover(store, captures or [], interface, duration, inspect)
        if inspect and any(not o.skipped and o.stats is not None for o in outcomes):
            identified = _run_identify(store)
            if store.has_vulnerability_feeds():  # else nothing to match: one cheap query
                from medsec.service import findings as findings_service

                with spinner("refreshing findings ..."):
                    done = findings_service.refresh_findings(store, state.settings.rule_dirs)
                findings = (
                    findings_service.refresh_json(done),
                    findings_service.refresh_line(done),
                )
        totals = store.totals()
    if as_json:
        _print_json(
            {
                "captures": [_outcome_row(o) for o in outcomes],
                "totals": {
                    "hosts": totals.hosts,
                    "internal_hosts": totals.internal_hosts,
                    "external_hosts": totals.external_hosts,
                    "edges": totals.edges,
                    "flows": totals.flows,
                },
                "devices": _identify_row(identified) if identified else None,
                "findings": findings[0] if findings else None,
                "database": store.url,
            }
        )
    else:
        _print_discover_table(outcomes, totals, store.url)
        if identified:
            _print_identified(identified)
    if findings is not None:
        stderr.print(findings[1], highlight=False)
    failed = [o for o in outcomes if o.error]
    for o in failed:
        stderr.print(f"[red]error:[/red] {one_line(o.error or '')}", highlight=False)
    if failed:
        kind = failed[0].error_type
        raise typer.Exit(exit_code(kind) if kind else 1)


def _run_discover(
    store: inv.Store,
    captures: list[Path],
    interface: str | None,
    duration: float | None,
    dissect: bool = False,
) -> list[discover_service.DiscoverOutcome]:
    from medsec.service import discover as discover_service

    settings = state.settings
    with capture_progress() as progress:
        if interface:
            task = CaptureTask(progress, f"live {interface}", None)
            return [
                discover_service.discover_interface(
                    interface, duration, store, settings, progress=task, dissect=dissect
                )
            ]

        def progress_for(path: Path) -> CaptureTask:
            try:
                size = path.stat().st_size
            except OSError:
                size = None
            return CaptureTask(progress, path.name, size)

        return discover_service.discover_files(
            captures, store, settings, progress_for=progress_for, dissect=dissect
        )


def _run_identify(store: inv.Store) -> devices_service.IdentifyOutcome:
    from medsec.service import devices as devices_service

    with spinner("identifying devices ..."):
        return devices_service.identify_inventory(store, state.settings)


def _identify_row(o: devices_service.IdentifyOutcome) -> dict[str, Any]:
    return {
        "devices": o.devices,
        "identified": o.identified,
        "medical": o.medical,
        "observations": o.facts,
        "seconds": round(o.seconds, 3),
    }


def _print_identified(o: devices_service.IdentifyOutcome) -> None:
    stdout.print(
        f"Devices: [bold]{o.devices:,}[/bold] ({o.identified:,} identified, "
        f"[bold]{o.medical:,}[/bold] medical) from {o.facts:,} observations "
        f"in {o.seconds:.2f} s - see [bold]medsec devices[/bold]",
        highlight=False,
    )


def _outcome_row(o: discover_service.DiscoverOutcome) -> dict[str, Any]:
    s = o.stats
    return {
        "source": o.source,
        "skipped": o.skipped,
        "packets": s.packets if s else 0,
        "bytes": s.bytes if s else 0,
        "flows": o.flows,
        "hosts": o.hosts,
        "seconds": round(o.seconds, 3),
        "error": o.error,
    }


def _print_discover_table(
    outcomes: list[discover_service.DiscoverOutcome], totals: inv.Totals, url: str
) -> None:
    table = Table(title="Captures")
    for col in ("source", "packets", "bytes", "flows", "hosts", "pkt/s", "status"):
        table.add_column(col, justify="right" if col not in ("source", "status") else "left")
    for o in outcomes:
        s = o.stats
        rate = f"{s.packets / o.seconds:,.0f}" if s and o.seconds > 0 else "-"
        status = (
            "already stored"
            if o.skipped
            else ("[red]damaged: kept what was readable[/red]" if o.error and s else "ok")
        )
        if o.error and not s:
            status = "[red]not read[/red]"
        table.add_row(
            o.source,
            f"{s.packets:,}" if s else "-",
            _human_bytes(s.bytes) if s else "-",
            f"{o.flows:,}",
            f"{o.hosts:,}",
            rate,
            status,
        )
    stdout.print(table)
    stdout.print(
        f"Inventory: [bold]{totals.hosts:,}[/bold] hosts "
        f"({totals.internal_hosts:,} internal, {totals.external_hosts:,} external), "
        f"[bold]{totals.edges:,}[/bold] edges, {totals.flows:,} flows "
        f"in {url}",
        highlight=False,
    )


# ----------------------------------------------------------------------------- listings


@app.command()
def hosts(
    internal: Annotated[
        bool | None, typer.Option("--internal/--external", help="Only internal / external.")
    ] = None,
    network: Annotated[str | None, typer.Option(help="Only hosts inside this CIDR.")] = None,
    vlan: Annotated[int | None, typer.Option(help="Only hosts on this VLAN.")] = None,
    mac: Annotated[str | None, typer.Option(help="Only hosts with this MAC.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List hosts: addresses, MACs, VLANs, traffic, first/last seen."""
    _use_db(db)
    query = inv.HostQuery(
        internal=internal,
        network=network,
        vlan=vlan,
        mac=mac,
        limit=limit,
        gateway_mac_threshold=state.settings.gateway_mac_threshold,
    )
    with state.store() as store:
        found = inv.list_hosts(store, query)
    if as_json:
        _print_json(inv.rows(list(found)))
        return
    _print_table(
        f"Hosts ({len(found)})",
        ("ip", "where", "mac", "vlan", "sent", "received", "flows c/s", "first", "last"),
        (
            (
                h.ip,
                "internal" if h.internal else "[yellow]external[/yellow]",
                " ".join(h.macs) or "-",
                " ".join(str(v) for v in h.vlans) or "-",
                _human_bytes(h.bytes_sent),
                _human_bytes(h.bytes_received),
                f"{h.flows_as_client}/{h.flows_as_server}",
                _when(h.first_seen),
                _when(h.last_seen),
            )
            for h in found
        ),
    )


@app.command(name="map")
def map_(
    host: Annotated[str | None, typer.Option(help="Edges with this IP at either end.")] = None,
    client: Annotated[str | None, typer.Option(help="Edges from this client IP.")] = None,
    server: Annotated[str | None, typer.Option(help="Edges to this server IP.")] = None,
    port: Annotated[int | None, typer.Option(help="Server port.")] = None,
    transport: Annotated[str | None, typer.Option(help="tcp, udp, icmp, icmpv6.")] = None,
    external: Annotated[
        bool | None,
        typer.Option("--external/--internal", help="Only edges leaving / staying in the site."),
    ] = None,
    min_bytes: Annotated[int | None, typer.Option(help="Only edges with this many bytes.")] = None,
    phi: Annotated[
        bool | None, typer.Option("--phi/--no-phi", help="Only edges that carried PHI / not.")
    ] = None,
    cleartext: Annotated[
        bool | None,
        typer.Option("--cleartext/--encrypted", help="Only edges readable on the wire / not."),
    ] = None,
    credentials: Annotated[
        bool | None,
        typer.Option("--credentials", help="Only edges where a password crossed in clear."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
    svg: Annotated[
        Path | None, typer.Option(help="Also draw the map as an SVG picture to this file.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The communication map: who talks to whom, over which transport and port."""
    _use_db(db)
    query = inv.EdgeQuery(
        host=host,
        client=client,
        server=server,
        port=port,
        transport=transport,
        external=external,
        min_bytes=min_bytes,
        phi=phi,
        cleartext=cleartext,
        credentials_in_clear=credentials,
        limit=limit,
    )
    with state.store() as store:
        edges = inv.list_edges(store, query)
        if svg is not None:
            inv.draw_map(store, edges, svg, state.settings)
            stderr.print(f"map drawn to {svg}")
    if as_json:
        _print_json(inv.rows(list(edges)))
        return
    _print_table(
        f"Communication map ({len(edges)} edges)",
        (
            "client",
            "server",
            "service",
            "app",
            "labels",
            "flows",
            "packets",
            "bytes",
            "first",
            "last",
        ),
        (
            (
                e.client,
                e.server
                + (f" ({e.destination_name})" if e.destination_name and e.external else "")
                + (" [yellow](external)[/yellow]" if e.external else ""),
                _service(e),
                e.app or "-",
                _edge_labels(e),
                f"{e.flows:,}",
                f"{e.packets:,}",
                _human_bytes(e.bytes),
                _when(e.first_seen),
                _when(e.last_seen),
            )
            for e in edges
        ),
    )


def _edge_labels(e: inv.EdgeView) -> str:
    on = [
        text
        for text, flag in (
            ("[bold red]PHI[/bold red]", e.phi),
            ("[yellow]cleartext[/yellow]", e.cleartext),
            ("[bold red]credentials[/bold red]", e.credentials_in_clear),
        )
        if flag
    ]
    return " ".join(on) or "-"


def _service(e: inv.EdgeView) -> str:
    return f"{e.transport}/{e.server_port}" if e.transport in ("tcp", "udp") else e.transport


@app.command()
def captures(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The captures in the inventory and what was read from each."""
    _use_db(db)
    with state.store() as store:
        found = store.captures()
    if as_json:
        _print_json(inv.rows(list(found)))
        return
    _print_table(
        f"Captures ({len(found)})",
        ("id", "source", "format", "status", "packets", "bytes", "first", "last"),
        (
            (
                str(c.id),
                c.source,
                c.format,
                c.status if c.status == "complete" else f"[red]{c.status}[/red]",
                f"{c.packets:,}",
                _human_bytes(c.bytes),
                _when(c.first_seen),
                _when(c.last_seen),
            )
            for c in found
        ),
    )


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or json.")] = "json",
    table: Annotated[
        list[str] | None,
        typer.Option("--table", "-t", help="hosts, edges, flows, captures (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File (or directory for CSV tables).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Export the inventory as JSON (one document) or CSV (one file per table)."""
    _use_db(db)
    if fmt not in ("csv", "json"):
        raise typer.BadParameter("--format must be csv or json")
    tables = table or (["hosts", "edges"] if fmt == "csv" and out is None else list(inv.TABLES))
    unknown = [t for t in tables if t not in inv.TABLES]
    if unknown:
        raise typer.BadParameter(f"unknown table(s): {', '.join(unknown)}")
    if fmt == "csv" and out is None and len(tables) != 1:
        raise typer.BadParameter("CSV to standard output takes one --table; or give --out DIR")
    with state.store() as store:
        result = inv.export(store, fmt, tables, out)  # type: ignore[arg-type]
    if isinstance(result, str):
        sys.stdout.write(result)
    else:
        for path in result:
            stderr.print(f"wrote {path}")


# ----------------------------------------------------------------------------- simulator


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="The pcap to write (.gz ok).")],
    devices: Annotated[int, typer.Option(help="Clinical and IT endpoints.")] = 40,
    minutes: Annotated[int, typer.Option(help="Minutes of traffic.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 1,
    packets: Annotated[
        int | None, typer.Option(help="Add bulk traffic up to at least this many packets.")
    ] = None,
) -> None:
    """Write a deterministic capture of a simulated hospital, with its ground truth."""
    from medsec.service import simulation  # pydicom and pynetdicom load only when needed

    with counting("simulating", packets or 0) as task:
        result = simulation.simulate(
            out,
            devices=devices,
            minutes=minutes,
            seed=seed,
            target_packets=packets,
            progress=lambda n: task(n, n),
        )
    stdout.print(
        f"wrote {result.pcap} ({result.packets:,} packets, {_human_bytes(result.bytes)}, "
        f"{result.hosts} hosts) and its ground truth {result.truth}",
        highlight=False,
    )


@app.command()
def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Where to write the capture and database (default: a temp dir)."
        ),
    ] = None,
    devices: Annotated[int, typer.Option(help="Endpoints in the simulated hospital.")] = 40,
    minutes: Annotated[int, typer.Option(help="Minutes of traffic.")] = 10,
) -> None:
    """Simulate a small hospital, discover it into a fresh SQLite file, show the summary."""
    from medsec.service import simulation

    where = directory or Path(tempfile.mkdtemp(prefix="medsec-demo-"))
    where.mkdir(parents=True, exist_ok=True)
    pcap = where / "hospital.pcap"
    db_file = where / "medsec.db"
    for stale in (db_file, Path(f"{db_file}-journal"), Path(f"{db_file}-wal")):
        stale.unlink(missing_ok=True)
    stdout.print(f"Simulating a hospital network of {devices} devices for {minutes} minutes ...")
    result = simulation.simulate(pcap, devices=devices, minutes=minutes, seed=1)
    stdout.print(f"  {result.pcap}: {result.packets:,} packets, {_human_bytes(result.bytes)}")
    state.db = str(db_file)
    with state.store() as store:
        outcomes = _run_discover(store, [pcap], None, None, dissect=True)
        identified = _run_identify(store)
        totals = store.totals()
        _print_discover_table(outcomes, totals, store.url)
        _print_identified(identified)
        medical = inv.list_devices(store, inv.DeviceQuery(medical=True))
        exposed = inv.list_edges(store, inv.EdgeQuery(phi=True, cleartext=True))
        top = inv.list_edges(store, inv.EdgeQuery(limit=10))
    _print_table(
        f"Medical devices ({len(medical)})",
        ("id", "category", "vendor", "model", "ip", "vlan", "PHI"),
        (
            (
                str(d.id),
                d.category
                + (
                    f" ({d.record['attributes']['modality']['value']})"
                    if "modality" in d.record.get("attributes", {})
                    else ""
                ),
                d.vendor or "-",
                d.model or "-",
                " ".join(d.ips[:1]) or "-",
                " ".join(str(v) for v in d.vlans) or "-",
                "yes" if d.handles_phi else "-",
            )
            for d in medical[:15]
        ),
    )
    stdout.print(
        f"Patient data readable on the wire: [bold red]{len(exposed)}[/bold red] edges "
        f"({', '.join(sorted({e.app or '?' for e in exposed})) or 'none'})",
        highlight=False,
    )
    _print_table(
        "Top conversations by bytes",
        ("client", "server", "service", "application", "flows", "bytes"),
        (
            (e.client, e.server, _service(e), e.app or "-", f"{e.flows:,}", _human_bytes(e.bytes))
            for e in top
        ),
    )
    stdout.print(
        f"\nDatabase: [bold]{db_file}[/bold]\nTry:  medsec --db {db_file} devices\n"
        f"      medsec --db {db_file} map --phi --cleartext\n"
        f"      medsec --db {db_file} hosts\n"
        f"      medsec --db {db_file} map --external\n"
        f"      medsec --db {db_file} map --svg {where / 'map.svg'}",
        highlight=False,
    )


# the commands of these modules register themselves on ``app``
from medsec.cli import (  # noqa: E402, F401
    device_commands,
    feed_commands,
    finding_commands,
    misconfig_commands,
    sbom_commands,
    vuln_commands,
)

GC_YOUNG_THRESHOLD = 50_000
"""Allocations between collections of the youngest generation (CPython's default: 700).

A command builds a few hundred thousand long-lived objects (flow records, observations,
rows); with the default the collector runs about 900 times over a 3-million-packet discover,
its full collections traversing the whole heap: 0.8 s CPU (0.25 s with --no-inspect), and
0.14 s (0.06 s) with this threshold (benchmarks/bench_discover.py's capture). Reference
cycles are still collected, only in larger batches."""


def main() -> None:
    """Console entry point: runs the app and turns medsec errors into exit codes."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)
    # at exit every object still tracked is frozen: the interpreter's last collection would
    # walk the whole heap a command leaves (0.05-0.15 s CPU after a 3-million-packet
    # discover) only to free memory the system takes back anyway; commands close what they
    # open (the store, files) themselves. From an atexit hook, so that a process calling
    # main() and living on (a test) keeps collecting until it ends.
    atexit.register(gc.freeze)
    level = os.environ.get("MEDSEC_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), stream=sys.stderr)
    try:
        app()
    except MedsecError as exc:
        stderr.print(f"[red]error:[/red] {one_line(exc)}", highlight=False)
        sys.exit(exit_code(exc))
