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


def test_organisations_are_netaddrs_own() -> None:
    """The byte search of netaddr's index finds what netaddr's parsed index finds: every
    registered OUI of a sample (the first of several records of one OUI, like netaddr) and
    none for an unregistered one."""
    from importlib import resources

    import netaddr

    from medsec.identify.hardware import organization_of

    lines = resources.files("netaddr.eui").joinpath("oui.idx").read_bytes().split(b"\n")
    ouis = sorted({int(line.split(b",")[0]) for line in lines[:: len(lines) // 400] if line})
    ouis += [int(lines[0].split(b",")[0]), int(lines[-2].split(b",")[0])]  # first, last
    for oui in ouis:
        mac = ":".join(f"{b:02x}" for b in (oui << 24 | 0x000102).to_bytes(6, "big"))
        expected = str(netaddr.OUI(oui).registration().org).strip() or None
        assert organization_of(mac) == expected, mac
    registered = {int(line.split(b",")[0]) for line in lines if line}
    free = next(o for o in range(0, 1 << 24, 4) if o not in registered)
    assert organization_of(":".join(f"{b:02x}" for b in (free << 24).to_bytes(6, "big"))) is None


def test_every_mac_notation_names_the_same_organisation() -> None:
    """Colon-separated MACs (as the capture stage writes them) take a fast path; other
    notations go through netaddr: all name the same organisation."""
    from medsec.identify.hardware import organization_of

    for mac in ("00:09:fb:01:02:03", "00:09:FB:01:02:03", "00-09-FB-01-02-03", "0009.fb01.0203"):
        assert organization_of(mac) == "Philips Patient Monitoring", mac
    assert organization_of("00:50:C2:2E:00:01") == organization_of("00-50-c2-2e-00-01")
    assert organization_of("not a mac") is None
