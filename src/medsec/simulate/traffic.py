"""Who does what, and how often: the activity plan of every host.

Each activity is periodic with jitter (or happens once) and stops early enough for its
conversations to finish inside the capture window.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec

from medsec.simulate.conversations import Conversations
from medsec.simulate.hospital import Hospital, Host
from medsec.simulate.ledger import Frame
from medsec.simulate.timeline import Timeline

SECOND = 1_000_000
END_MARGIN = 15 * SECOND
"""No conversation starts in the last seconds of the capture."""

Action = Callable[[int], list[Frame]]
P = ParamSpec("P")
ANYTIME = (0.0, 1.0)


@dataclass(slots=True)
class Recurring:
    """An action repeated every ``period`` +- ``jitter`` microseconds until ``stop``."""

    action: Action
    period: int | None
    jitter: int
    stop: int
    rng: random.Random

    def run(self, t: int) -> tuple[list[Frame], int | None]:
        frames = self.action(t)
        if self.period is None:
            return frames, None
        following = t + self.period + self.rng.randint(-self.jitter, self.jitter)
        return frames, following if following < self.stop else None


class Planner:
    """Schedules every host's activities on a timeline."""

    def __init__(
        self,
        hospital: Hospital,
        conversations: Conversations,
        timeline: Timeline,
        rng: random.Random,
        *,
        start: int,
        duration: int,
    ) -> None:
        self.hospital = hospital
        self.conversations = conversations
        self.timeline = timeline
        self.rng = rng
        self.start = start
        self.duration = duration
        self.stop = start + max(duration - END_MARGIN, duration // 2)

    # -- scheduling helpers ----------------------------------------------------------------

    def once(
        self,
        window: tuple[float, float],
        action: Callable[Concatenate[int, P], list[Frame]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Run ``action(t, *args)`` once, at a random point of a fraction of the window."""
        low = int((self.stop - self.start) * window[0])
        high = max(low + 1, int((self.stop - self.start) * window[1]))
        t = self.start + self.rng.randrange(low, high)
        bound: Action = lambda when: action(when, *args, **kwargs)  # noqa: E731
        self.timeline.schedule(t, Recurring(bound, None, 0, self.stop, self.rng))

    def every(
        self,
        seconds: float,
        action: Callable[Concatenate[int, P], list[Frame]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Run ``action(t, *args)`` about every ``seconds`` (+-20 %), first at a random
        offset."""
        period = int(seconds * SECOND)
        first = self.start + self.rng.randrange(0, min(period, self.stop - self.start))
        bound: Action = lambda when: action(when, *args, **kwargs)  # noqa: E731
        self.timeline.schedule(first, Recurring(bound, period, period // 5, self.stop, self.rng))

    # -- the plan --------------------------------------------------------------------------

    def plan(self) -> None:
        for host in self.hospital.hosts:
            self._addressing(host)
            self._role(host)
        self._infrastructure()

    def _addressing(self, host: Host) -> None:
        """DHCP, ARP, IPv6 and time for every host, so each MAC/IP binding is visible."""
        c = self.conversations
        if host.profile.dhcp is not None:
            self.once((0.0, 0.3), c.dhcp_dora, host)
            if host.number % 3 == 0:
                self.once((0.4, 0.95), c.dhcp_renew, host)
            if host.profile.stack.name == "windows":
                self.once((0.0, 0.3), c.ipv6_probe, host)
        else:
            self.once((0.0, 0.2), c.resolve_gateway, host)
        self.once(ANYTIME, c.gateway_probe, host)
        self.every(300, c.ntp_sync, host)

    def _role(self, host: Host) -> None:
        c = self.conversations
        role = host.role
        hospital = self.hospital
        central = hospital.role("central_station")
        if role == "patient_monitor":
            self.every(60, c.vitals_report, host)
            if central and host.vlan.id == central[0].vlan.id:
                self.every(12, c.telemetry_burst, host, central[0], 8)
            self.every(150, c.syslog, host, "info", "alarm silenced by user")
            self.every(240, c.cloud_checkin, host)
        elif role == "ventilator":
            self.every(60, c.vitals_report, host)
            self.every(90, c.syslog, host, "notice", "self test passed")
            self.every(420, c.cloud_checkin, host)
        elif role == "central_station":
            self.every(30, c.vitals_report, host, count=3)
            self.every(300, c.cloud_checkin, host)
            self.every(200, c.dns_lookup, host, "hl7.hospital.local")
        elif role == "infusion_pump":
            self.every(30, c.pump_status, host)
            self.every(300, c.dns_lookup, host, "pumpsrv.hospital.local")
            if host.profile.cloud is not None:
                self.every(600, c.cloud_checkin, host)
        elif role in {"ct_scanner", "mr_scanner", "ultrasound"}:
            self.every(120, c.worklist_query, host)
            self.every(180, c.modality_store, host)
            self.every(300, c.dicom_verify, host)
            self.every(600, c.cloud_checkin, host)
            self.every(300, c.dns_lookup, host, "pacs.hospital.local")
        elif role == "lab_analyzer":
            self.every(45, c.lab_results, host)
            self.every(300, c.syslog, host, "info", "QC run completed")
            self.every(600, c.cloud_checkin, host)
        elif role == "dicom_workstation":
            self.every(120, c.study_query, host)
            self.every(60, c.emr_session, host)
            self.every(300, c.smb_session, host)
            self.every(240, c.pacs_push, host)
        elif role == "nurse_workstation":
            self._workstation(host)
            self.every(30, c.emr_session, host)
            printer = self._printer_for(host)
            if printer is not None:
                self.every(400, c.print_job, host, printer)
        elif role == "it_workstation":
            self._workstation(host)
            self.every(300, c.admin_ssh, host)
            printer = self._printer_for(host)
            if printer is not None:
                self.every(600, c.print_job, host, printer)
            pumps = [p for p in hospital.role("infusion_pump") if p.profile.vendor == "B. Braun"]
            if host.number == 1 and pumps:
                self.every(300, c.pump_web_ui, host, pumps[0])

    def _workstation(self, host: Host) -> None:
        c = self.conversations
        self.every(300, c.smb_session, host)
        self.every(600, c.ocsp_check, host)
        self.every(900, c.windows_update, host)
        self.every(240, c.dns_lookup, host, "emr.hospital.local")

    def _printer_for(self, host: Host) -> Host | None:
        printers = self.hospital.role("printer")
        if not printers:
            return None
        local = [p for p in printers if p.vlan.id == host.vlan.id]
        pool = local or list(printers)
        return pool[host.number % len(pool)]

    def _infrastructure(self) -> None:
        c = self.conversations
        hospital = self.hospital
        self.every(90, c.admission)
        self.every(60, c.engine_forward)
        for name in ("emr", "backup_server"):
            server = hospital.server(name)
            self.once((0.1, 0.6), c.apt_update, server)
        for name in ("file_server", "emr"):
            server = hospital.server(name)
            self.every(300, c.backup_sync, server)
        self.every(600, c.cloud_checkin_named, "infusion_server", "spectrum.baxter.com")
        externals = sorted(
            {host.profile.cloud for host in hospital.hosts if host.profile.cloud is not None}
        )
        for name in externals + ["update.microsoft.com", "download.windowsupdate.com"]:
            self.every(300, c.dns_forward, name)
        targets = [
            h
            for h in hospital.hosts
            if h.role in {"printer", "ct_scanner", "mr_scanner", "ultrasound"}
            or (h.profile.category == "server" and h.role != "nms")
        ]
        for target in targets:
            self.every(120, c.snmp_poll, target)
        for target in hospital.hosts:
            if target.role != "nms":
                self.once(ANYTIME, c.ping, target)
        for name in ("emr", "pacs"):
            server = hospital.server(name)
            self.once((0.2, 0.8), c.snmp_software_walk, server)
