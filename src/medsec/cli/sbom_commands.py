"""``medsec sboms`` and ``medsec sbom attach|detach`` (registered on the main app).

::

    medsec feeds import monitor.cdx.json --attach-model "Philips|EPIQ 7"
    medsec sboms [--json]                                  # id, key, subject, attached to
    medsec sbom attach 3 --model "Philips|EPIQ 7"          # every device of the model
    medsec sbom attach urn:uuid:... --device 10.20.0.21    # one device (id, IP or MAC)
    medsec sbom detach 3

An unknown SBOM or device, an address several devices held, or a model not written
``Vendor|Model`` is refused with exit code 2, nothing changed.
"""

from __future__ import annotations

from typing import Annotated

import typer

from medsec.cli.main import DbOption, JsonOption, _print_json, _print_table, _use_db, app, state
from medsec.cli.main import stdout as console
from medsec.service import sboms as sboms_service

sbom_app = typer.Typer(
    help="Attach imported SBOMs to device models or devices.", no_args_is_help=True
)
app.add_typer(sbom_app, name="sbom")

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model", help="'Vendor|Model': every device identified as that vendor and model."
    ),
]
DeviceOption = Annotated[
    str | None, typer.Option("--device", "-d", help="One device: its id, IP or MAC.")
]


def _listing_row(listing: sboms_service.SbomListing) -> tuple[str, ...]:
    v = listing.sbom
    subject = " ".join(p for p in (v.subject_name, v.subject_version) if p) or "-"
    return (
        str(v.id),
        v.key,
        f"{v.format} {v.spec_version}".strip(),
        subject,
        f"{v.components:,}",
        sboms_service.attached_text(v),
        ", ".join(name for _, name in listing.devices[:5])
        + (f" +{len(listing.devices) - 5}" if len(listing.devices) > 5 else ""),
        v.source,
    )


@app.command()
def sboms(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Imported SBOMs: what they describe, how many components, what they are attached to and
    the devices that carry them."""
    _use_db(db)
    with state.store() as store:
        rows = sboms_service.list_sboms(store)
    if as_json:
        _print_json([sboms_service.sbom_json(r) for r in rows])
        return
    _print_table(
        f"{len(rows)} SBOMs",
        ("id", "key", "format", "subject", "components", "attached to", "devices", "source"),
        (_listing_row(r) for r in rows),
    )


def _done(what: str, listing: sboms_service.SbomListing, as_json: bool) -> None:
    if as_json:
        _print_json(sboms_service.sbom_json(listing))
        return
    v = listing.sbom
    devices = ", ".join(name for _, name in listing.devices) or "none yet"
    console.print(f"SBOM {v.id} ({v.subject}) {what}; devices carrying it: {devices}")


@sbom_app.command()
def attach(
    sbom: Annotated[str, typer.Argument(help="The SBOM: its id or key (see medsec sboms).")],
    model: ModelOption = None,
    device: DeviceOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attach an SBOM to a device model or to one device (moving it if it was attached)."""
    _use_db(db)
    with state.store() as store:
        view = sboms_service.attach(store, sbom, model=model, device=device)
        listing = sboms_service.listing(store, str(view.id))
    _done(f"attached to {sboms_service.attached_text(view)}", listing, as_json)


@sbom_app.command()
def detach(
    sbom: Annotated[str, typer.Argument(help="The SBOM: its id or key (see medsec sboms).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attach an SBOM to nothing (its components then apply to no device)."""
    _use_db(db)
    with state.store() as store:
        view = sboms_service.detach(store, sbom)
        listing = sboms_service.listing(store, str(view.id))
    _done("detached", listing, as_json)
