"""Export the inventory's tables as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from medsec.inventory import Store
from medsec.report.rows import capture_row, edge_row, flow_row, host_row

ExportFormat = Literal["json", "csv"]
TABLES: tuple[str, ...] = ("hosts", "edges", "flows", "captures")


def table_rows(store: Store, table: str) -> list[dict[str, Any]]:
    """All rows of one table, as plain dicts."""
    readers: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "hosts": lambda: [host_row(h) for h in store.hosts()],
        "edges": lambda: [edge_row(e) for e in store.edges()],
        "flows": lambda: [flow_row(f) for f in store.flows()],
        "captures": lambda: [capture_row(c) for c in store.captures()],
    }
    return readers[table]()


def to_json(tables: dict[str, list[dict[str, Any]]]) -> str:
    return json.dumps(tables, indent=2, sort_keys=False) + "\n"


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """CSV with a header row; lists are joined with spaces, nested values as JSON."""
    out = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return " ".join(str(v) for v in value)
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return value


def export(
    store: Store, fmt: ExportFormat, tables: Sequence[str], out: Path | None
) -> list[Path] | str:
    """Write the tables: JSON as one document; CSV as one file per table.

    With ``out`` None the text goes back to the caller (one table only for CSV). For CSV
    of several tables ``out`` is a directory that receives ``<table>.csv`` files.
    """
    data = {name: table_rows(store, name) for name in tables}
    if fmt == "json":
        text = to_json(data)
        if out is None:
            return text
        out.write_text(text, encoding="utf-8")
        return [out]
    if out is None:
        if len(tables) != 1:
            raise ValueError("CSV of several tables needs an output directory")
        return to_csv(data[tables[0]])
    if len(tables) == 1 and out.suffix == ".csv":
        out.write_text(to_csv(data[tables[0]]), encoding="utf-8")
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in tables:
        path = out / f"{name}.csv"
        path.write_text(to_csv(data[name]), encoding="utf-8")
        written.append(path)
    return written
