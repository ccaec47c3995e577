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
    failures = observations = 0
    for path in sorted((shared_data / "pcap").rglob("*")):
        if path.suffix not in (".pcap", ".pcapng"):
            continue
        pipeline = DissectPipeline(default_dissectors())  # one per capture source
        read_capture(path, sink=pipeline)
        failures += pipeline.stats.failures
        observations += pipeline.stats.observations
    assert failures == 0
    assert observations > 1000


def test_later_flows_of_an_edge_inherit_its_application(tmp_path: Path) -> None:
    """Only the first flows of an edge are inspected; the rest carry the edge's app."""
    from collections import Counter

    from medsec.dissect.pipeline import EDGE_SAMPLES
    from medsec.simulate import generate

    result = generate(tmp_path / "h.pcap", devices=12, minutes=3, seed=3)
    pipeline = DissectPipeline(default_dissectors())
    summary = read_capture(result.pcap, sink=pipeline)
    per_edge = Counter(
        (f.client_ip, f.server_ip, f.server_port) for f in summary.flows if f.server_port == 53
    )
    busiest, count = per_edge.most_common(1)[0]
    assert count > EDGE_SAMPLES
    flows = [f for f in summary.flows if (f.client_ip, f.server_ip, f.server_port) == busiest]
    assert {f.app for f in flows} == {"dns"}
    inspected = {
        o.ctx.flow_id
        for o in pipeline.observations
        if o.ctx.src_ip == busiest[0] and o.ctx.dst_port == 53
    }
    assert len(inspected) == EDGE_SAMPLES
