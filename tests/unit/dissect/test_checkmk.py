"""Checkmk agent dissector: agent output as the agents write it, and the real capture."""

from __future__ import annotations

from pathlib import Path

from medsec.dissect.checkmk import CheckmkDissector
from medsec.model.observations.services import CheckmkAgentOutput

from tests_support.dissect_harness import ctx, payloads

D = CheckmkDissector()
AGENT = ctx(src_port=6556, dst_port=40000, from_client=False)

WINDOWS = (
    b"<<<check_mk>>>\r\nVersion: 2.2.0p12\r\nBuildDate: Oct 10 2023\r\nAgentOS: windows\r\n"
    b"Hostname: PACS-WS-07\r\nArchitecture: 64bit\r\nOnlyFrom: 10.0.0.5\r\n"
    b"<<<wmi_cpuload:sep(124)>>>\r\nwmi|data\r\n<<<mssql_versions:sep(124)>>>\r\nMSSQLSERVER|15.0\r\n"
    b"<<<logwatch>>>\r\n[[[Application]]]\r\nC Patient DOE^JANE admitted\r\n<<<wmi_cpuload>>>\r\n"
)


def one(data: bytes) -> CheckmkAgentOutput:
    (out,) = D.dissect(data, AGENT)
    assert isinstance(out, CheckmkAgentOutput)
    return out


def test_windows_agent_header_and_sections() -> None:
    assert D.signature(WINDOWS)
    out = one(WINDOWS)
    assert (out.version, out.agent_os, out.hostname, out.architecture) == (
        "2.2.0p12",
        "windows",
        "PACS-WS-07",
        "64bit",
    )
    assert out.sections == ("wmi_cpuload", "mssql_versions", "logwatch")
    assert "DOE" not in repr(out) and "10.0.0.5" not in repr(out)


def test_other_streams_give_nothing() -> None:
    assert list(D.dissect(b"", AGENT)) == []
    assert list(D.dissect(b"\x16\x03\x01\x00", AGENT)) == []
    assert not D.signature(b"<<<df>>>\n")


def test_real_linux_agent(shared_data: Path) -> None:
    (p,) = [
        p for p in payloads(shared_data / "pcap/ndpi/check_mk_new.pcap") if p.ctx.src_port == 6556
    ]
    out = one(p.data)
    assert (out.version, out.agent_os, out.hostname) == ("1.4.0p9", "linux", "buildhost-9")
    assert out.sections[:4] == ("df", "nfsmounts", "cifsmounts", "mounts")
    assert "kthreadd" not in repr(out)
