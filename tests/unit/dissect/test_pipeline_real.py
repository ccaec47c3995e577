"""The shipped dissectors through the capture engine, on real captures: flows get the
application their payload shows, whatever the port."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsec.capture.reader import read_capture
from medsec.dissect import default_dissectors
from medsec.dissect.pipeline import DissectPipeline


@pytest.mark.parametrize(
    ("capture", "app", "port"),
    [
        ("zeek/ssh_ssh-on-port-80.pcap", "ssh", 80),
        ("ndpi/hl7.pcap", "hl7", 6661),
        ("loopback_generated/dicom_dcmtk367_pynetdicom304_loopback.pcap", "dicom", 11113),
        ("zeek/tls_tls1.2.pcap", "tls", 443),
        ("zeek/http_get.pcap", "http", 80),
        ("zeek/dhcp_dhcp.pcap", "dhcp", 67),
        ("zeek/snmp_snmpv1_get.pcap", "snmp", 161),
        ("ndpi/ftp.pcap", "ftp", 21),
    ],
)
def test_flows_are_labelled_by_content(
    shared_data: Path, capture: str, app: str, port: int
) -> None:
    pipeline = DissectPipeline(default_dissectors())
    summary = read_capture(shared_data / "pcap" / capture, sink=pipeline)
    labelled = {f.app for f in summary.flows if f.server_port == port}
    assert app in labelled, labelled
    stats = pipeline.stats
    assert stats.failures == 0 and stats.observations > 0


def test_link_layer_discovery(shared_data: Path) -> None:
    pipeline = DissectPipeline(default_dissectors())
    read_capture(shared_data / "pcap" / "zeek" / "lldp.pcap", sink=pipeline)
    read_capture(shared_data / "pcap" / "zeek" / "cdp-v1.pcap", sink=pipeline)
    kinds = {type(o).__name__ for o in pipeline.observations}
    assert {"LldpAdvertisement", "CdpAnnouncement"} <= kinds


def test_every_shared_capture_runs_without_dissector_failures(shared_data: Path) -> None:
    pipeline = DissectPipeline(default_dissectors())
    for path in sorted((shared_data / "pcap").rglob("*")):
        if path.suffix not in (".pcap", ".pcapng"):
            continue
        read_capture(path, sink=pipeline)
    assert pipeline.stats.failures == 0
    assert pipeline.stats.observations > 1000
