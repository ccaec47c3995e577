"""Vulnerability feed readers, one module per format (see ``interface.py``).

Listed explicitly, in detection order: the first reader whose ``detect`` accepts a file's
first bytes reads it. Detections are exclusive on the shared data (each reader's tests check
that no other reader claims its files); the order only matters for hostile look-alikes.
"""

from __future__ import annotations

from medsec.assess.vulns.csaf import CsafReader
from medsec.assess.vulns.cve5 import Cve5Reader
from medsec.assess.vulns.cyclonedx import CycloneDxReader
from medsec.assess.vulns.epss import EpssReader
from medsec.assess.vulns.interface import FeedReader
from medsec.assess.vulns.kev import KevReader
from medsec.assess.vulns.nvd import NvdReader
from medsec.assess.vulns.spdx import SpdxReader

__all__ = ["FeedReader", "default_readers"]


def default_readers() -> list[FeedReader]:
    """One instance of every shipped reader, in detection order."""
    return [
        NvdReader(),
        Cve5Reader(),
        CsafReader(),
        KevReader(),
        EpssReader(),
        CycloneDxReader(),
        SpdxReader(),
    ]
