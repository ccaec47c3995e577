"""The captures of ../shared/data/pcap, listed without needing the directory at collection."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_DEFAULT = Path(os.environ.get("MEDSEC_SHARED_DATA", _ROOT.parent / "shared" / "data"))


def names() -> list[str]:
    """Paths relative to ``pcap/`` (empty when the shared data is absent)."""
    base = _DEFAULT / "pcap"
    if not base.is_dir():
        return []
    return sorted(
        str(p.relative_to(base)) for p in base.rglob("*") if p.suffix in (".pcap", ".pcapng")
    )


def path(shared: Path, name: str) -> Path:
    return shared / "pcap" / name
