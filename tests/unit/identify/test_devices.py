"""One device across MAC, IP and DHCP lease changes; whose fact; identifiers; PHI."""

from __future__ import annotations

from typing import Any

from medsec.identify.devices import Sighting, identify_devices
from medsec.identify.facts import Fact
from medsec.identify.rules import parse_rules

S = 1_000_000_000
ROUTER = "00:00:0c:aa:aa:aa"
A = "00:09:fb:00:00:0a"  # Philips Patient Monitoring OUI
B = "00:09:fb:00:00:0b"


def fact(
    kind: str,
    *,
    src: str | None,
    dst: str | None = None,
    src_mac: str | None = None,
    dst_mac: str | None = None,
    ts: int = 0,
    **fields: Any,
) -> Fact:
    return Fact(
        kind=kind,
        protocol=kind.lower(),
        ts_ns=ts,
        transport="udp",
        src_ip=src,
        dst_ip=dst,
        src_port=1,
        dst_port=2,
        src_mac=src_mac,
        dst_mac=dst_mac,
        vlan=0,
        flow_id=1,
        fields=fields,
    )


RULES = parse_rules(
    {
        "rules": [
            {
                "id": "t.hl7",
                "when": [
                    {
                        "observation": "Hl7Message",
                        "field": "sending_application",
                        "op": "equals",
                        "value": "MON",
                    }
                ],
                "weight": 60,
                "yields": {"category": "patient_monitor"},
                "provenance": {"reference": "test"},
            }
        ]
    },
    "test",
)
INTERNAL = {"10.0.0.5": True, "10.0.0.6": True, "10.0.0.9": True, "8.8.8.8": False}


def by_key(devices: list[Any]) -> dict[str, Any]:
    return {d.key: d for d in devices}


def test_a_device_keeps_its_identity_across_ip_changes() -> None:
    sightings = [
        Sighting("10.0.0.5", A, 3, 0, 10 * S),
        Sighting("10.0.0.6", A, 3, 20 * S, 30 * S),
    ]
    (device,) = identify_devices(sightings, [], RULES, internal=INTERNAL)
    assert device.key == f"mac:{A}"
    assert [h.value for h in device.ips] == ["10.0.0.5", "10.0.0.6"]
    assert [(h.first_ns, h.last_ns) for h in device.ips] == [(0, 10 * S), (20 * S, 30 * S)]
    assert [h.value for h in device.macs] == [A]


def test_a_reassigned_lease_gives_facts_to_the_device_holding_it_then() -> None:
    sightings = [
        Sighting("10.0.0.5", A, 0, 0, 10 * S),
        Sighting("10.0.0.5", B, 0, 100 * S, 110 * S),
    ]
    facts = [  # routed: the frames carry the router's MAC, the address decides
        fact(
            "Hl7Message",
            src="10.0.0.5",
            dst="10.0.0.9",
            src_mac=ROUTER,
            ts=105 * S,
            sending_application="MON",
            carries_phi=True,
        ),
    ]
    devices = by_key(
        identify_devices(sightings, facts, RULES, internal=INTERNAL, gateways=frozenset({ROUTER}))
    )
    assert devices[f"mac:{B}"].category == "patient_monitor"
    assert devices[f"mac:{A}"].category == "unknown"
    assert devices[f"mac:{B}"].handles_phi and not devices[f"mac:{A}"].handles_phi
    assert devices["ip:10.0.0.9"].handles_phi  # the other end of the PHI flow


def test_a_dhcp_client_id_links_a_new_interface_but_not_clones_alive_together() -> None:
    cid = "ff00112233"  # not 01 + MAC: an identity that survives the interface
    sightings = [Sighting("10.0.0.5", A, 0, 0, 10 * S), Sighting("10.0.0.6", B, 0, 50 * S, 60 * S)]
    facts = [
        fact("DhcpRequest", src="0.0.0.0", src_mac=A, ts=1 * S, client_id=cid, client_mac=A),
        fact("DhcpRequest", src="0.0.0.0", src_mac=B, ts=51 * S, client_id=cid, client_mac=B),
    ]
    (device,) = identify_devices(sightings, facts, RULES, internal=INTERNAL)
    assert {h.value for h in device.macs} == {A, B}
    assert device.key == f"mac:{A}"  # named after the MAC seen first
    assert device.links and cid in device.links[0]

    overlapping = [
        Sighting("10.0.0.5", A, 0, 0, 60 * S),
        Sighting("10.0.0.6", B, 0, 50 * S, 60 * S),
    ]
    assert len(identify_devices(overlapping, facts, RULES, internal=INTERNAL)) == 2


def test_external_hosts_never_take_the_routers_identity() -> None:
    sightings = [Sighting("10.0.0.5", A, 0, 0, 10 * S), Sighting("8.8.8.8", ROUTER, 0, 0, 10 * S)]
    facts = [
        fact(
            "Hl7Message",
            src="8.8.8.8",
            dst="10.0.0.5",
            src_mac=ROUTER,
            dst_mac=A,
            sending_application="MON",
            carries_phi=False,
        )
    ]
    devices = by_key(identify_devices(sightings, facts, RULES, internal=INTERNAL))
    assert all(d.category == "unknown" for d in devices.values())
    assert "ip:8.8.8.8" not in devices
    with_external = by_key(
        identify_devices(sightings, facts, RULES, internal=INTERNAL, external_devices=True)
    )
    assert with_external["ip:8.8.8.8"].category == "patient_monitor"
    assert with_external[f"mac:{ROUTER}"].category == "unknown"


def test_a_public_address_leased_on_the_site_keeps_its_own_mac() -> None:
    public, relayed = "192.12.193.41", "192.12.193.77"
    sightings = [
        Sighting(public, A, 0, 0, 10 * S),
        Sighting(relayed, ROUTER, 0, 0, 10 * S),
        Sighting("8.8.8.8", ROUTER, 0, 0, 10 * S),
    ]
    renew = fact("DhcpRequest", src=public, src_mac=A, client_mac=A, ciaddr=public, giaddr=None)
    # a relay agent forwards other clients' requests from the router's MAC: no locality
    forwarded = fact(
        "DhcpRequest", src=relayed, src_mac=ROUTER, client_mac=B, ciaddr=relayed, giaddr=relayed
    )
    monitor = fact(
        "Hl7Message",
        src=public,
        dst="10.0.0.5",
        src_mac=A,
        sending_application="MON",
        carries_phi=False,
    )
    devices = by_key(
        identify_devices(sightings, [renew, forwarded, monitor], RULES, internal=INTERNAL)
    )
    device = devices[f"mac:{A}"]
    assert [h.value for h in device.ips] == [public]
    assert device.category == "patient_monitor"
    assert f"ip:{public}" not in devices
    assert not any(relayed in [h.value for h in d.ips] for d in devices.values())


def test_identifiers_belong_to_the_end_the_field_names() -> None:
    sightings = [Sighting("10.0.0.5", A, 0, 0, 10 * S), Sighting("10.0.0.6", B, 0, 0, 10 * S)]
    facts = [
        fact(
            "DicomAssociationRequest",
            src="10.0.0.5",
            dst="10.0.0.6",
            src_mac=A,
            dst_mac=B,
            calling_ae_title="CT_1",
            called_ae_title="PACS",
        ),
        fact("DhcpRequest", src="0.0.0.0", src_mac=A, host_name="ct-scanner-1", client_mac=A),
        fact(
            "DnsAddressRecord",
            src="10.0.0.9",
            dst="10.0.0.5",
            name="pacs.hospital.local",
            address="10.0.0.6",
            response=True,
        ),
    ]
    devices = by_key(identify_devices(sightings, facts, RULES, internal=INTERNAL))
    ct, pacs = devices[f"mac:{A}"], devices[f"mac:{B}"]
    assert ct.identifiers["dicom_ae_titles"] == ("CT_1",)
    assert ct.identifiers["hostnames"] == ("ct-scanner-1",)
    assert pacs.identifiers["dicom_ae_titles"] == ("PACS",)
    assert pacs.identifiers["hostnames"] == ("pacs.hospital.local",)


HOST_NAME_RULES = parse_rules(
    {
        "rules": [
            {
                "id": "t.hn",
                "when": [
                    {"observation": "HostName", "field": "name", "op": "regex", "value": "^pacs"}
                ],
                "weight": 30,
                "yields": {"category": "pacs"},
                "provenance": {"reference": "test"},
            }
        ]
    },
    "test",
)


def test_host_names_from_any_protocol_reach_the_named_device_as_host_name_facts() -> None:
    sightings = [Sighting("10.0.0.5", A, 0, 0, 10 * S), Sighting("10.0.0.6", B, 0, 0, 10 * S)]
    answer = fact(
        "DnsAddressRecord",
        src="10.0.0.9",
        dst="10.0.0.5",
        dst_mac=A,
        ts=2 * S,
        name="pacs.hospital.local",
        address="10.0.0.6",
        response=True,
    )
    devices = by_key(identify_devices(sightings, [answer], HOST_NAME_RULES, internal=INTERNAL))
    pacs, asker = devices[f"mac:{B}"], devices[f"mac:{A}"]
    assert pacs.value("category") == "pacs"
    (category,) = [a for a in pacs.attributes if a.name == "category"]
    (evidence,) = category.evidence
    assert (evidence.observation, evidence.protocol, evidence.ts_ns) == (
        "HostName",
        "dnsaddressrecord",
        2 * S,
    )
    assert evidence.fields == ("name",)
    assert asker.value("category") is None  # the name is the answer's, not the asker's


def test_an_archive_does_not_take_the_identity_of_the_images_it_forwards() -> None:
    rules = parse_rules(
        {
            "rules": [
                {
                    "id": "t.pacs",
                    "when": [{"observation": "DicomCommand", "field": "command_name",
                              "op": "equals", "value": "C-STORE-RSP"}],
                    "weight": 60,
                    "yields": {"category": "pacs"},
                    "provenance": {"reference": "test"},
                },
                {
                    "id": "t.model",
                    "when": [{"observation": "DicomEquipment", "field": "manufacturer_model_name",
                              "op": "regex", "value": "^(?P<m>.+)$"}],
                    "weight": 40,
                    "yields": {"model": "{m}", "category": "imaging_modality"},
                    "provenance": {"reference": "test"},
                },
            ]
        },
        "test",
    )  # fmt: skip
    sightings = [Sighting("10.0.0.5", A, 0, 0, 10 * S), Sighting("10.0.0.6", B, 0, 0, 10 * S)]
    facts = [
        # the CT (A) stores its image on the archive (B) ...
        fact("DicomEquipment", src="10.0.0.5", dst="10.0.0.6", src_mac=A, dst_mac=B,
             manufacturer_model_name="SOMATOM"),
        fact("DicomCommand", src="10.0.0.6", dst="10.0.0.5", src_mac=B, dst_mac=A,
             command_name="C-STORE-RSP"),
        # ... and the archive forwards it to a viewer (10.0.0.9)
        fact("DicomEquipment", src="10.0.0.6", dst="10.0.0.9", src_mac=B,
             manufacturer_model_name="SOMATOM"),
    ]  # fmt: skip
    devices = by_key(identify_devices(sightings, facts, rules, internal=INTERNAL))
    ct, archive = devices[f"mac:{A}"], devices[f"mac:{B}"]
    assert (ct.category, ct.value("model")) == ("imaging_modality", "SOMATOM")
    assert (archive.category, archive.value("model")) == ("pacs", None)
