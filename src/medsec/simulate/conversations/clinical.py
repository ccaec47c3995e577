"""Clinical traffic: HL7 results and admissions over MLLP, DICOM associations, monitor
waveforms, infusion pump reports and a pump's web UI."""

from __future__ import annotations

import json

from medsec.simulate.channels import Peer
from medsec.simulate.conversations.base import hl7_stamp, http_date
from medsec.simulate.conversations.office import OfficeConversations
from medsec.simulate.hospital import Host
from medsec.simulate.ledger import Frame
from medsec.simulate.protocols import (
    dicom,
    hl7,
    http,
    telemetry,
)
from medsec.simulate.tcp import TcpConversation

HL7_DEVICE_PORT = 2575
HL7_LAB_PORT = 6661
DICOM_PORT = 104
DICOM_WORKSTATION_PORT = 11112

DICOM_IMPLEMENTATIONS: dict[str, tuple[str, str]] = {
    "Siemens": ("1.3.12.2.1107.5.1.4", "SIEMENS_VA40"),
    "GE Healthcare": ("1.2.840.113619.6.374", "GEHC_DV29"),
    "Philips": ("1.3.46.670589.14.1", "PHILIPS_EPIQ9"),
    "Dell": ("1.2.276.0.7230010.3.0.3.6.8", "OFFIS_DCMTK_368"),
}
PACS_IMPLEMENTATION = ("2.25.118296440355121209433557203710977131043", "SIMPACS_72")

VITALS: tuple[tuple[str, str, str, int, int], ...] = (
    ("8867-4", "Heart rate", "/min", 55, 110),
    ("59408-5", "SpO2", "%", 90, 100),
    ("9279-1", "Respiratory rate", "/min", 10, 26),
    ("8480-6", "Systolic BP", "mm[Hg]", 95, 160),
    ("8462-4", "Diastolic BP", "mm[Hg]", 55, 95),
)
VENTILATION: tuple[tuple[str, str, str, int, int], ...] = (
    ("19834-1", "Breath rate setting", "/min", 12, 20),
    ("76248-0", "PEEP", "cm[H2O]", 5, 12),
    ("3150-0", "FiO2", "%", 30, 60),
    ("20112-2", "Tidal volume", "mL", 380, 520),
)
HEMATOLOGY: tuple[tuple[str, str, str, int, int], ...] = (
    ("6690-2", "WBC", "10*3/uL", 4, 11),
    ("789-8", "RBC", "10*6/uL", 4, 6),
    ("718-7", "Hemoglobin", "g/dL", 11, 17),
    ("777-3", "Platelets", "10*3/uL", 150, 400),
)
CHEMISTRY: tuple[tuple[str, str, str, int, int], ...] = (
    ("2345-7", "Glucose", "mg/dL", 70, 140),
    ("2160-0", "Creatinine", "mg/dL", 1, 2),
    ("2951-2", "Sodium", "mmol/L", 135, 145),
    ("2823-3", "Potassium", "mmol/L", 3, 5),
)

PUMP_WEB_CREDENTIALS = ("service", "service")


def hl7_party(host: Host) -> hl7.Party:
    return hl7.Party(host.profile.software.split()[0].upper(), host.vlan.department.upper())


class ClinicalConversations(OfficeConversations):
    def hl7_messages(
        self, start: int, sender: Host, receiver: Host, port: int, messages: list[str]
    ) -> list[Frame]:
        """One MLLP connection carrying ``messages``, each acknowledged with MSA|AA."""
        conversation = self.tcp(
            start, sender, Peer.of(receiver), port, app="hl7", phi=True, cleartext=True
        )
        for message in messages:
            control_id = message.split("|", 10)[9]
            conversation.send(True, hl7.mllp(message))
            reply = hl7.ack(
                hl7_party(receiver),
                hl7_party(sender),
                hl7_stamp(conversation.t),
                self._next_control_id(),
                control_id,
            )
            conversation.send(False, hl7.mllp(reply))
        conversation.close(True)
        return conversation.frames

    def _observations(
        self, table: tuple[tuple[str, str, str, int, int], ...]
    ) -> list[hl7.Observation]:
        return [
            hl7.Observation(code, text, str(self.rng.randint(low, high)), units)
            for code, text, units, low, high in table
        ]

    def vitals_report(self, start: int, device: Host, count: int = 1) -> list[Frame]:
        """ORU^R01 vitals (or ventilation settings) to the interface engine."""
        engine = self.hospital.server("hl7_engine")
        table = VENTILATION if device.role == "ventilator" else VITALS
        order = (
            ("76536-2", "Ventilator panel")
            if device.role == "ventilator"
            else (
                "85353-1",
                "Vital signs panel",
            )
        )
        messages = [
            hl7.oru_r01(
                hl7_party(device),
                hl7_party(engine),
                hl7_stamp(start),
                self._next_control_id(),
                self._patient(),
                device.vlan.department.upper(),
                order,
                self._observations(table),
            )
            for _ in range(count)
        ]
        return self.hl7_messages(start, device, engine, HL7_DEVICE_PORT, messages)

    def lab_results(self, start: int, analyzer: Host) -> list[Frame]:
        engine = self.hospital.server("hl7_engine")
        chemistry = analyzer.profile.vendor == "Roche"
        table = CHEMISTRY if chemistry else HEMATOLOGY
        order = ("24323-8", "Metabolic panel") if chemistry else ("58410-2", "CBC panel")
        messages = [
            hl7.oru_r01(
                hl7_party(analyzer),
                hl7_party(engine),
                hl7_stamp(start),
                self._next_control_id(),
                self._patient(),
                "LAB",
                order,
                self._observations(table),
            )
            for _ in range(self.rng.randint(1, 3))
        ]
        return self.hl7_messages(start, analyzer, engine, HL7_LAB_PORT, messages)

    def admission(self, start: int) -> list[Frame]:
        """ADT^A01 from the EMR to the interface engine."""
        emr, engine = self.hospital.server("emr"), self.hospital.server("hl7_engine")
        message = hl7.adt_a01(
            hl7_party(emr),
            hl7_party(engine),
            hl7_stamp(start),
            self._next_control_id(),
            self._patient(),
            self.rng.choice(("ICU", "WARDS")),
        )
        return self.hl7_messages(start, emr, engine, HL7_DEVICE_PORT, [message])

    def engine_forward(self, start: int) -> list[Frame]:
        """The interface engine forwards results to the EMR."""
        emr, engine = self.hospital.server("emr"), self.hospital.server("hl7_engine")
        messages = [
            hl7.oru_r01(
                hl7_party(engine),
                hl7_party(emr),
                hl7_stamp(start),
                self._next_control_id(),
                self._patient(),
                "ICU",
                ("85353-1", "Vital signs panel"),
                self._observations(VITALS),
            )
            for _ in range(self.rng.randint(1, 4))
        ]
        return self.hl7_messages(start, engine, emr, HL7_DEVICE_PORT, messages)

    def _application(self, host: Host) -> dicom.Application:
        if host.role == "pacs":
            uid, version = PACS_IMPLEMENTATION
        else:
            uid, version = DICOM_IMPLEMENTATIONS[host.profile.vendor]
        return dicom.Application(host.ae_title, uid, version)

    def modality_of(self, host: Host) -> dicom.Modality:
        code = {"ct_scanner": "CT", "mr_scanner": "MR", "ultrasound": "US"}[host.role]
        return dicom.Modality(
            code,
            host.profile.vendor,
            host.profile.model,
            host.hostname.upper(),
            host.profile.software,
            f"SN{int(host.mac.replace(':', '')[-6:], 16):08d}",
        )

    def dicom_association(
        self, start: int, scu: Host, scp: Host, port: int, syntaxes: list[str]
    ) -> TcpConversation:
        """TCP connect and association negotiation."""
        conversation = self.tcp(
            start, scu, Peer.of(scp), port, app="dicom", phi=True, cleartext=True
        )
        calling, called = self._application(scu), self._application(scp)
        conversation.send(True, dicom.associate_rq(calling, called, syntaxes))
        conversation.send(False, dicom.associate_ac(calling, called, syntaxes))
        return conversation

    def dicom_release(self, conversation: TcpConversation) -> None:
        conversation.send(True, dicom.release_rq())
        conversation.send(False, dicom.release_rp())
        conversation.close(True)

    def dicom_echo(self, start: int, scu: Host, scp: Host, port: int = DICOM_PORT) -> list[Frame]:
        conversation = self.dicom_association(start, scu, scp, port, [dicom.VERIFICATION])
        message_id = self.next_message_id()
        conversation.send(True, dicom.c_echo_rq(message_id, 1))
        conversation.send(False, dicom.c_echo_rsp(message_id, 1))
        self.dicom_release(conversation)
        return conversation.frames

    def dicom_store(
        self,
        start: int,
        scu: Host,
        scp: Host,
        modality: str,
        device: dicom.Modality,
        images: int,
        port: int,
    ) -> list[Frame]:
        """C-STORE of ``images`` small synthetic images of one study."""
        sop_class = dicom.STORAGE_CLASSES[modality]
        conversation = self.dicom_association(start, scu, scp, port, [sop_class])
        study = dicom.Study(
            self._patient(), self.new_uid(), self.new_uid(), f"A{self.new_uid()[-8:]}"
        )
        size = 64 if modality == "US" else self.rng.choice((64, 96, 128))
        for _ in range(images):
            instance = self.new_uid()
            pixels = self.rng.randbytes(size * size * 2)
            dataset = dicom.image_dataset(
                study, device, sop_class, instance, rows=size, columns=size, pixels=pixels
            )
            message_id = self.next_message_id()
            conversation.send(
                True,
                dicom.c_store_rq(message_id, sop_class, instance, 1, dicom.encode_dataset(dataset)),
            )
            conversation.send(False, dicom.c_store_rsp(message_id, sop_class, instance, 1))
        self.dicom_release(conversation)
        return conversation.frames

    def modality_store(self, start: int, modality_host: Host) -> list[Frame]:
        device = self.modality_of(modality_host)
        pacs = self.hospital.server("pacs")
        images = self.rng.randint(2, 4)
        return self.dicom_store(
            start, modality_host, pacs, device.modality, device, images, DICOM_PORT
        )

    def pacs_push(self, start: int, workstation: Host) -> list[Frame]:
        """The PACS sends a study to a reading workstation (port 11112)."""
        sources = [
            host
            for role in ("ct_scanner", "mr_scanner", "ultrasound")
            for host in self.hospital.role(role)
        ]
        device = self.modality_of(self.rng.choice(sources))
        pacs = self.hospital.server("pacs")
        return self.dicom_store(
            start,
            pacs,
            workstation,
            device.modality,
            device,
            self.rng.randint(1, 3),
            DICOM_WORKSTATION_PORT,
        )

    def worklist_query(self, start: int, modality_host: Host) -> list[Frame]:
        """Modality worklist C-FIND to the PACS/RIS."""
        pacs = self.hospital.server("pacs")
        code = self.modality_of(modality_host).modality
        sop = dicom.MODALITY_WORKLIST_FIND
        conversation = self.dicom_association(start, modality_host, pacs, DICOM_PORT, [sop])
        message_id = self.next_message_id()
        query = dicom.worklist_query(code, modality_host.ae_title)
        conversation.send(True, dicom.c_find_rq(message_id, sop, query, 1))
        for _ in range(self.rng.randint(1, 3)):
            item = dicom.worklist_item(
                self._patient(), code, modality_host.ae_title, f"A{self.rng.getrandbits(28)}"
            )
            conversation.send(False, dicom.c_find_rsp(message_id, sop, item, 1), think=900)
        conversation.send(False, dicom.c_find_rsp(message_id, sop, None, 1), think=300)
        self.dicom_release(conversation)
        return conversation.frames

    def study_query(self, start: int, workstation: Host) -> list[Frame]:
        """A reading workstation searches today's studies on the PACS."""
        pacs = self.hospital.server("pacs")
        sop = dicom.STUDY_ROOT_FIND
        conversation = self.dicom_association(start, workstation, pacs, DICOM_PORT, [sop])
        message_id = self.next_message_id()
        modality = self.rng.choice(("CT", "MR", "US"))
        conversation.send(True, dicom.c_find_rq(message_id, sop, dicom.study_query(modality), 1))
        for _ in range(self.rng.randint(1, 4)):
            match = dicom.study_match(self._patient(), modality, self.new_uid())
            conversation.send(False, dicom.c_find_rsp(message_id, sop, match, 1), think=700)
        conversation.send(False, dicom.c_find_rsp(message_id, sop, None, 1), think=300)
        self.dicom_release(conversation)
        return conversation.frames

    def dicom_verify(self, start: int, modality_host: Host) -> list[Frame]:
        return self.dicom_echo(start, modality_host, self.hospital.server("pacs"))

    def telemetry_burst(self, start: int, monitor: Host, central: Host, count: int) -> list[Frame]:
        """Waveform datagrams from a monitor to the central station."""
        channel = self.net.channel(
            Peer.of(monitor),
            Peer.of(central),
            "udp",
            telemetry.PORT,
            app="telemetry",
            phi=True,
            cleartext=True,
        )
        stream = monitor.number
        return [
            channel.udp(start + n * 31_250, True, telemetry.waveform(stream, n, self.rng))
            for n in range(count)
        ]

    # -- web, TLS, SSH, files, printing ----------------------------------------------------

    def pump_status(self, start: int, pump: Host) -> list[Frame]:
        """A pump reports its infusion status to the pump server (HTTPS or plain HTTP)."""
        server = self.hospital.server("infusion_server")
        if pump.profile.vendor == "Baxter":
            exchanges = [(self.rng.randrange(600, 1_200), self.rng.randrange(150, 400))]
            return self.tls_session(
                start, pump, Peer.of(server), server.fqdn, exchanges, phi=True, server_tls13=False
            )
        conversation = self.tcp(
            start, pump, Peer.of(server), 80, app="http", phi=True, cleartext=True
        )
        status = {
            "device": pump.hostname,
            "model": pump.profile.model,
            "software": pump.profile.software,
            "patientId": f"SIM{self._patient():04d}",
            "drug": "SIM-DRUG-A",
            "rate_ml_h": self.rng.randint(5, 120),
            "state": "infusing",
        }
        body = json.dumps(status, sort_keys=True).encode()
        conversation.send(
            True,
            http.request(
                "POST",
                "/api/v1/pumps/status",
                server.fqdn,
                user_agent=pump.profile.software,
                body=body,
                content_type="application/json",
            ),
        )
        conversation.send(
            False,
            http.response(204, server=server.profile.software, date=http_date(conversation.t)),
        )
        conversation.close(True)
        return conversation.frames

    def pump_web_ui(self, start: int, workstation: Host, pump: Host) -> list[Frame]:
        """A biomed technician opens a pump's web UI: 401, then Basic credentials."""
        conversation = self.tcp(
            start, workstation, Peer.of(pump), 80, app="http", phi=False, cleartext=True
        )
        agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0"
        server = f"{pump.profile.software.split('/')[0]}-httpd/1.0"
        conversation.send(True, http.request("GET", "/", pump.ip, user_agent=agent))
        challenge = http.response(
            401,
            server=server,
            date=http_date(conversation.t),
            body=b"Unauthorized",
            headers=[("WWW-Authenticate", 'Basic realm="SpaceCom"')],
        )
        conversation.send(False, challenge)
        credentials = http.basic_auth(*PUMP_WEB_CREDENTIALS)
        conversation.send(
            True, http.request("GET", "/", pump.ip, user_agent=agent, headers=[credentials])
        )
        page = (
            f"<html><head><title>{pump.profile.vendor} {pump.profile.model}</title></head>"
            f"<body><h1>{pump.hostname}</h1><p>Firmware {pump.profile.software}</p></body></html>"
        ).encode()
        conversation.send(
            False, http.response(200, server=server, date=http_date(conversation.t), body=page)
        )
        conversation.close(True)
        return conversation.frames
