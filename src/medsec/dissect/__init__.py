"""The dissect stage: protocol payloads -> observations (facts, no decisions).

The dissectors medsec runs are listed here explicitly, in routing order: for a flow, the
first dissector whose ports hold either port wins; otherwise the first whose signature
accepts the payload.
"""

from __future__ import annotations

from medsec.dissect.dicom import DicomDissector
from medsec.dissect.hl7 import Hl7Dissector
from medsec.dissect.interface import Dissector
from medsec.dissect.poct import PoctDissector

__all__ = ["Dissector", "default_dissectors"]


def default_dissectors() -> list[Dissector]:
    """One instance of every shipped dissector."""
    return [
        DicomDissector(),
        Hl7Dissector(),
        PoctDissector(),
    ]
