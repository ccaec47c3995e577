"""MAC -> HardwareAddress with the IEEE registry netaddr ships."""

from __future__ import annotations

from medsec.identify.hardware import hardware_address


def test_registered_oui_names_its_organisation() -> None:
    obs = hardware_address("00:09:FB:01:02:03", ip="10.0.0.1", ts_ns=5)
    assert obs.mac == "00:09:fb:01:02:03"
    assert obs.oui == "00-09-FB"
    assert obs.organization == "Philips Patient Monitoring"
    assert not obs.locally_administered
    assert obs.ctx.src_ip == "10.0.0.1" and obs.ctx.src_mac == obs.mac and obs.ctx.ts_ns == 5


def test_iab_blocks_name_the_small_registrant_not_the_ieee() -> None:
    assert hardware_address("00:50:c2:2e:00:01", ip=None, ts_ns=0).organization == (
        "Baxter International Inc"
    )


def test_locally_administered_and_unregistered_have_no_organisation() -> None:
    local = hardware_address("02:09:fb:01:02:03", ip=None, ts_ns=0)
    assert local.locally_administered and local.organization is None
    assert hardware_address("00:00:00:00:00:01", ip=None, ts_ns=0).organization in (
        None,
        "XEROX CORPORATION",
    )
