"""Application payloads in the capture decode with real parsers: pynetdicom/pydicom for DICOM,
python-hl7 for HL7, dpkt for TLS, DHCP and DNS."""

from __future__ import annotations

import struct
from io import BytesIO
from typing import Any

import dpkt
import hl7
import pytest
from pydicom.filereader import read_dataset
from pynetdicom.pdu import A_ASSOCIATE_AC, A_ASSOCIATE_RQ, A_RELEASE_RQ, P_DATA_TF
from simulate_capture import (
    Generated,
    check_tcp_progression,
    records,
    split_pdus,
    tcp_streams,
    udp_payloads,
)


def datasets(pdus: list[bytes]) -> list[bytes]:
    """Reassembled data sets (not command sets) carried by the P-DATA-TF PDUs."""
    out, current = [], bytearray()
    for raw in pdus:
        if raw[0] != 4:
            continue
        pdu = P_DATA_TF()
        pdu.decode(raw)
        for item in pdu.presentation_data_value_items:
            control, fragment = item.presentation_data_value[0], item.presentation_data_value[1:]
            if control & 1:
                continue
            current += fragment
            if control & 2:
                out.append(bytes(current))
                current = bytearray()
    return out


def hosts_by_ip(generated: Generated) -> dict[str, dict[str, Any]]:
    return {host["ip"]: host for host in generated.truth["hosts"]}


def test_dicom_associations_decode_with_pynetdicom(small: Generated) -> None:
    streams = tcp_streams(small.result.pcap, 104)
    assert streams
    hosts = hosts_by_ip(small)
    stored = 0
    for (client, _, _), (upstream, downstream) in streams.items():
        sent = split_pdus(upstream)
        request = A_ASSOCIATE_RQ()
        request.decode(sent[0])
        assert request.called_ae_title == "PACS_ARCHIVE"
        role = hosts[".".join(str(b) for b in client)]["role"]
        prefix = {
            "ct_scanner": "CT_SCANNER_",
            "mr_scanner": "MR_SCANNER_",
            "ultrasound": "US_",
            "dicom_workstation": "RAD_WS_",
        }[role]
        assert request.calling_ae_title.startswith(prefix)
        accept = A_ASSOCIATE_AC()
        accept.decode(split_pdus(downstream)[0])
        primitive = accept.to_primitive()
        assert primitive.result == 0
        assert all(c.result == 0 for c in primitive.presentation_context_definition_results_list)
        released = A_RELEASE_RQ()
        released.decode(sent[-1])
        for encoded in datasets(sent):
            dataset = read_dataset(BytesIO(encoded), False, True)
            if "PixelData" not in dataset:  # a C-FIND query identifier
                assert str(dataset.PatientName) in {"", "SIM^*"}
                continue
            assert str(dataset.PatientName).startswith("SIM^PATIENT^")
            assert dataset.Modality in {"CT", "MR", "US"}
            assert dataset.Manufacturer == hosts[".".join(str(b) for b in client)]["vendor"]
            assert len(dataset.PixelData) == dataset.Rows * dataset.Columns * 2
            stored += 1
    assert stored > 0


def test_pacs_pushes_studies_to_workstations(small: Generated) -> None:
    streams = tcp_streams(small.result.pcap, 11112)
    assert streams
    for upstream, _ in streams.values():
        request = A_ASSOCIATE_RQ()
        request.decode(split_pdus(upstream)[0])
        assert request.calling_ae_title == "PACS_ARCHIVE"
        assert request.called_ae_title.startswith("RAD_WS_")


def mllp_messages(stream: bytes) -> list[str]:
    assert stream.startswith(b"\x0b") and stream.endswith(b"\x1c\x0d")
    return [part.decode() for part in stream[1:-2].split(b"\x1c\x0d\x0b")]


@pytest.mark.parametrize("port", [2575, 6661])
def test_hl7_messages_parse_and_are_acknowledged(small: Generated, port: int) -> None:
    streams = tcp_streams(small.result.pcap, port)
    assert streams
    kinds = set()
    for upstream, downstream in streams.values():
        messages = [hl7.parse(text) for text in mllp_messages(upstream)]
        acks = [hl7.parse(text) for text in mllp_messages(downstream)]
        assert len(messages) == len(acks)
        for message, ack in zip(messages, acks, strict=True):
            kind = str(message.segment("MSH")[9])
            kinds.add(kind.split("^")[0] + "^" + kind.split("^")[1])
            assert str(message.segment("PID")[5]).startswith("SIM^PATIENT^")
            if kind.startswith("ORU"):
                assert len(message.segments("OBX")) >= 1
                assert message.segment("OBR")
            msa = ack.segment("MSA")
            assert str(msa[1]) == "AA"
            assert str(msa[2]) == str(message.segment("MSH")[10])
    expected = {2575: {"ORU^R01", "ADT^A01"}, 6661: {"ORU^R01"}}[port]
    assert kinds == expected


def client_hellos(generated: Generated) -> list[tuple[str, Any]]:
    out = []
    for (client, _, _), (upstream, _) in tcp_streams(generated.result.pcap, 443).items():
        record = dpkt.ssl.TLSRecord(upstream)
        assert record.type == 22
        handshake = dpkt.ssl.TLSHandshake(record.data)
        assert handshake.type == 1
        out.append((".".join(str(b) for b in client), handshake.data))
    return out


def test_tls_client_hellos_carry_sni_alpn_and_versions(small: Generated) -> None:
    hellos = client_hellos(small)
    assert hellos
    known = {e["name"] for e in small.truth["external_hosts"]}
    known |= {f"{h['hostname']}.hospital.local" for h in small.truth["hosts"]}
    hosts = hosts_by_ip(small)
    for client, hello in hellos:
        extensions = dict(hello.extensions)
        sni = extensions[0]
        name_length = struct.unpack("!H", sni[3:5])[0]
        name = sni[5 : 5 + name_length].decode()
        assert name in known
        assert 16 in extensions  # ALPN
        if hosts[client]["category"] in {"workstation", "server"}:
            assert b"\x03\x04" in extensions[43]  # supported_versions offers TLS 1.3


def test_dhcp_messages_carry_the_specified_options(small: Generated) -> None:
    hosts = {h["hostname"]: h for h in small.truth["hosts"]}
    vendor_classes: dict[str, set[bytes]] = {}
    seen_types = set()
    for _, payload in udp_payloads(small.result.pcap, 67):
        message = dpkt.dhcp.DHCP(payload)
        options = dict(message.opts)
        kind = options[53][0]
        seen_types.add(kind)
        if kind in (1, 3):
            assert {53, 12, 55, 61} <= set(options)
            host = hosts[options[12].decode()]
            assert options[61] == b"\x01" + bytes.fromhex(host["mac"].replace(":", ""))
            if 60 in options:
                vendor_classes.setdefault(host["role"], set()).add(options[60])
            if message.ciaddr == 0 and kind == 3:
                assert 50 in options and 54 in options
        else:
            assert {53, 54, 51, 1, 3, 6} <= set(options)
            assert message.giaddr != 0 or message.ciaddr != 0
    assert seen_types == {1, 2, 3, 5}
    assert any(57 in dict(dpkt.dhcp.DHCP(p).opts) for _, p in udp_payloads(small.result.pcap, 67))
    assert len({cls for classes in vendor_classes.values() for cls in classes}) >= 6
    assert vendor_classes["patient_monitor"] != vendor_classes["infusion_pump"]


def test_dns_answers_match_the_hosts(small: Generated) -> None:
    addresses = {f"{h['hostname']}.hospital.local": h["ip"] for h in small.truth["hosts"]}
    addresses |= {e["name"]: e["ip"] for e in small.truth["external_hosts"]}
    answered = 0
    for _, payload in udp_payloads(small.result.pcap, 53):
        message = dpkt.dns.DNS(payload)
        if message.qr != dpkt.dns.DNS_R:
            continue
        for answer in message.an:
            assert ".".join(str(b) for b in answer.ip) == addresses[answer.name]
            answered += 1
    assert answered


def test_http_basic_auth_on_a_device_web_ui(small: Generated) -> None:
    requests = []
    for upstream, _ in tcp_streams(small.result.pcap, 80).values():
        while upstream:
            request = dpkt.http.Request(upstream)
            requests.append(request)
            upstream = upstream[len(bytes(request)) :]  # a few short requests per stream
    assert all("host" in r.headers and "user-agent" in r.headers for r in requests)
    authorized = [r for r in requests if r.headers.get("authorization", "").startswith("Basic ")]
    assert authorized


def test_ssh_banners_both_ways(small: Generated) -> None:
    streams = tcp_streams(small.result.pcap, 22)
    assert streams
    for upstream, downstream in streams.values():
        assert upstream.startswith(b"SSH-2.0-") and b"\r\n" in upstream
        assert downstream.startswith(b"SSH-2.0-OpenSSH_")


def test_smb_negotiate(small: Generated) -> None:
    streams = tcp_streams(small.result.pcap, 445)
    assert streams
    for upstream, downstream in streams.values():
        assert upstream[4:8] == b"\xfeSMB" and downstream[4:8] == b"\xfeSMB"


def test_ipv6_neighbour_discovery(small: Generated) -> None:
    types = set()
    for _, buf in records(small.result.pcap):
        eth = dpkt.ethernet.Ethernet(buf)
        if isinstance(eth.data, dpkt.ip6.IP6):
            types.add(eth.data.data.type)
    assert types == {133, 135}


def test_tcp_sequence_and_acknowledgement_progression(small: Generated) -> None:
    check_tcp_progression(small)
