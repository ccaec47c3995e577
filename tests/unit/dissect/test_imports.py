"""Importing the dissect stage stays cheap: heavy libraries load when a payload needs them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pydicom", "pynetdicom", "cryptography", "defusedxml", "hl7", "scapy", "dpkt")


def test_importing_the_dissectors_loads_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from medsec.dissect import default_dissectors\n"
        "from medsec.dissect.pipeline import DissectPipeline\n"
        "DissectPipeline(default_dissectors())\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == []
