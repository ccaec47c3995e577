"""Every capture in ../shared/data/pcap parses completely, with SOURCES.md's packet counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from medsec.capture.reader import read_capture

from tests_support import shared_pcaps

SOURCES_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([\w-]+)\s*\|")
PROSE_COUNTS = {
    # section 1.3 of SOURCES.md states these in prose
    "dicom_dcmtk367_pynetdicom304_loopback.pcap": 122,
    "sdc11073_v3_wsdiscovery_soap_loopback.pcap": 119,
}


def expected_counts(shared: Path) -> dict[str, int]:
    counts = dict(PROSE_COUNTS)
    for line in (shared / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        m = SOURCES_ROW.match(line)
        if m:
            counts[m.group(1)] = int(m.group(3))
    return counts


@pytest.mark.parametrize("name", shared_pcaps.names(), ids=str)
def test_capture_parses_with_expected_packet_count(shared_data: Path, name: str) -> None:
    path = shared_pcaps.path(shared_data, name)
    expected = expected_counts(shared_data)
    summary = read_capture(path)
    assert summary.complete, summary.error
    assert summary.stats.packets == expected[path.name]
    assert summary.stats.unsupported_link == 0
    if summary.stats.packets:
        assert summary.first_seen is not None and summary.last_seen is not None
        assert summary.first_seen <= summary.last_seen
    # every packet is accounted for exactly once by the decoder
    s = summary.stats
    assert s.ipv4 + s.ipv6 + s.arp + s.other_l3 + s.truncated >= s.packets - s.unsupported_link


def test_every_shared_capture_is_listed(shared_data: Path) -> None:
    """The parametrisation above covers every capture file that exists."""
    on_disk = sorted(
        str(p.relative_to(shared_data / "pcap"))
        for p in (shared_data / "pcap").rglob("*")
        if p.suffix in (".pcap", ".pcapng")
    )
    assert on_disk == sorted(shared_pcaps.names())
    counts = expected_counts(shared_data)
    assert all(Path(n).name in counts for n in on_disk)


def test_link_types_in_shared_data(shared_data: Path) -> None:
    """The shared data exercises SLL, SLL2, raw IP and BSD loopback, plus pcapng."""
    seen: set[int] = set()
    for name in shared_pcaps.names():
        seen.update(read_capture(shared_pcaps.path(shared_data, name)).link_types)
    assert {1, 113, 276, 101, 0} <= seen
