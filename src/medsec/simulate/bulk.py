"""Bulk background traffic, built fast from templates with numpy.

A bulk *job* is one long TCP transfer: a DICOM C-STORE of a multi-frame image from a
modality to the PACS, a TLS download from an internet service, or an SSH backup to the
backup server. Its handshake and protocol preamble, and its teardown, are ordinary frames;
the data phase is written in blocks of *units*, each unit being two full-size data segments,
the receiver's ACK and two small waveform datagrams from an ICU monitor to the central
station (which gives a realistic frame-size mix, ~730 bytes on average).

Every frame of a block is a copy of a template with its pcap timestamp, IPv4 identification
and header checksum, TCP sequence/acknowledgement numbers, TCP timestamps and TCP checksum
patched in vectorised form, so a block of thousands of frames costs a few numpy operations.
Data payloads cycle through a small pool of random variants whose checksums are
precomputed. The application framing stays valid: every DICOM segment is one P-DATA-TF PDU
of the image's pixel data, every TLS segment one application-data record.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from medsec.simulate import frames as f
from medsec.simulate.channels import Channel, Peer
from medsec.simulate.conversations import Conversations
from medsec.simulate.conversations.clinical import DICOM_PORT
from medsec.simulate.hospital import ICU, Host
from medsec.simulate.ledger import Frame, Ledger
from medsec.simulate.protocols import dicom, ssh, telemetry, tls
from medsec.simulate.tcp import CLIENT, SERVER, TcpConversation
from medsec.simulate.timeline import BulkBlock, Timeline

BULK_PORTS = (50000, 60999)
"""Client ports of bulk transfers (ordinary conversations use lower ephemeral ports)."""

SECOND = 1_000_000
UNIT_OFFSETS = (0.0, 0.12, 0.35, 0.55, 0.8)
"""Where in its time slot each frame of a unit is captured (data, data, ACK, wave, wave)."""
PACKETS_PER_UNIT = len(UNIT_OFFSETS)
MAX_UNITS_PER_BLOCK = 2048
PAYLOAD_VARIANTS = 16
WAVE_VARIANTS = 8
CYCLE_UNITS = PAYLOAD_VARIANTS // 2
"""Units after which payloads repeat (two data segments and two datagrams per unit)."""
JOB_UNITS = (3_000, 15_000)
NORMAL_PACKETS_PER_HOST_SECOND = 2.5
"""Prior estimate of ordinary traffic, used until enough of the capture has been seen."""
TOP_UP_UNIT_MICROS = 40.0

Array = npt.NDArray[np.int64]


def _fold(total: Array) -> Array:
    for _ in range(3):
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def _put(rows: npt.NDArray[np.uint8], column: int, values: Array, dtype: str) -> None:
    size = np.dtype(dtype).itemsize
    rows[:, column : column + size] = values.astype(dtype).view(np.uint8).reshape(-1, size)


def _words32(values: Array) -> Array:
    return (values >> 16) + (values & 0xFFFF)


@dataclass(slots=True)
class _TcpTemplate:
    """One TCP segment shape of the flow with the sums of its fixed parts."""

    frame: bytes
    ip_sum: int
    tcp_sum: int
    payload_offset: int
    payload_len: int


@dataclass(slots=True)
class _Wave:
    """The waveform flow riding along with a job."""

    channel: Channel
    frames: npt.NDArray[np.uint8]
    """``WAVE_VARIANTS`` complete frames (ident 0)."""
    ip_sum: int
    source: bytes


@dataclass(slots=True)
class _Job:
    conversation: TcpConversation
    sender: int
    units: int
    prefix: bytes
    """Application framing at the start of each data segment."""
    tail: str
    """How the transfer ends: ``dicom``, ``tls`` or ``ssh``."""
    unit_micros: float = 1.0
    first: int = 0
    """Capture time of the first unit."""
    tail_bytes: int = 0
    tls13: bool = False
    store: tuple[int, str, str] = (0, "", "")
    """Message ID, SOP class and instance of a DICOM C-STORE."""
    setup: list[Frame] = field(default_factory=list)
    """Handshake and preamble frames, handed to the timeline when the job starts."""
    wave: _Wave | None = None
    done: int = 0
    data: _TcpTemplate | None = None
    ack: _TcpTemplate | None = None
    cycle: npt.NDArray[np.uint8] = field(default_factory=lambda: np.zeros((0, 0), np.uint8))
    """``CYCLE_UNITS`` ready units (payloads in place, headers still to patch)."""
    offsets: tuple[int, ...] = ()
    """Where each frame of a unit starts in a row (after its record header)."""
    sizes: tuple[int, ...] = ()
    payload_sums: Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seq0: int = 0
    ident0: tuple[int, int, int] = (0, 0, 0)


class BulkLane:
    """Produces bulk blocks back to back until the capture reaches its packet target."""

    def __init__(
        self,
        conversations: Conversations,
        rng: random.Random,
        *,
        start: int,
        duration: int,
        target: int,
    ) -> None:
        self.conversations = conversations
        self.net = conversations.net
        self.hospital = conversations.hospital
        self.ledger: Ledger = conversations.net.ledger
        self.rng = rng
        self.start = start
        self.end = start + duration
        self.data_end = self.end - min(5 * SECOND, duration // 10)
        self.t = start + min(2 * SECOND, duration // 20)
        self.target = target
        self.job: _Job | None = None
        self._wave_sequence = 0

    # -- pacing ----------------------------------------------------------------------------

    def next_block(self, timeline: Timeline) -> BulkBlock | None:
        if self.job is None:
            if not self._start_job(timeline):
                return None
            assert self.job is not None
            timeline.add(self.job.setup)
        job = self.job
        assert job is not None
        block = self._block(job)
        if job.done >= job.units:
            timeline.add(self._finish(job))
            self.t = job.conversation.t + self.rng.randrange(1_000, 20_000)
            self.job = None
        return block

    def _start_job(self, timeline: Timeline) -> bool:
        written = timeline.writer.packets
        if timeline.idle:
            needed = self.target - written
            if needed <= 0:
                return False
            self.t = max(self.t, timeline.writer.last_ts + 1_000)
            units = needed // PACKETS_PER_UNIT + 1
            self._begin(units, TOP_UP_UNIT_MICROS)
            return True
        if self.t >= self.data_end:
            return False
        elapsed = self.t - self.start
        if elapsed > (self.end - self.start) // 5:
            normal_rate = timeline.normal_packets / elapsed
        else:
            hosts = len(self.hospital.hosts)
            normal_rate = hosts * NORMAL_PACKETS_PER_HOST_SECOND / SECOND
        expected = written + normal_rate * (self.end - self.t)
        shortfall = self.target - expected
        if shortfall < PACKETS_PER_UNIT * 1_000:
            return False
        units_needed = shortfall / PACKETS_PER_UNIT
        unit_micros = max(1.0, (self.data_end - self.t) / units_needed)
        units = int(min(units_needed, self.rng.randint(*JOB_UNITS)))
        self._begin(units, unit_micros)
        return True

    # -- jobs ------------------------------------------------------------------------------

    def _begin(self, units: int, unit_micros: float) -> None:
        kinds = ["dicom", "tls", "backup"]
        kind = self.rng.choices(kinds, weights=[5, 3, 2])[0]
        if kind == "dicom":
            job = self._dicom_job(units)
        elif kind == "tls":
            job = self._tls_job(units)
        else:
            job = self._backup_job(units)
        job.unit_micros = unit_micros
        job.wave = self._wave()
        self._prepare(job)
        self.job = job

    def _modalities(self) -> list[Host]:
        return [
            host
            for role in ("ct_scanner", "mr_scanner", "ultrasound")
            for host in self.hospital.role(role)
        ]

    def _dicom_job(self, units: int) -> _Job:
        scu = self.rng.choice(self._modalities())
        pacs = self.hospital.server("pacs")
        device = self.conversations.modality_of(scu)
        sop_class = dicom.MULTIFRAME_CLASSES[device.modality]
        conversation = self.conversations.dicom_association(
            self.t, scu, pacs, DICOM_PORT, [sop_class]
        )
        chunk = conversation.payload_mss - dicom.P_DATA_HEADER_LEN
        frame_bytes = 256 * 256 * 2
        frames = max(1, round(units * 2 * chunk / frame_bytes))
        pixel_bytes = frames * frame_bytes
        pairs = pixel_bytes // (2 * chunk)
        tail = pixel_bytes - pairs * 2 * chunk
        if tail == 0:
            pairs -= 1
            tail = 2 * chunk
        study = dicom.Study(
            self.rng.randrange(1, 400),
            self.conversations.new_uid(),
            self.conversations.new_uid(),
            f"B{self.rng.getrandbits(28)}",
        )
        instance = self.conversations.new_uid()
        dataset = dicom.image_dataset(
            study, device, sop_class, instance, rows=256, columns=256, frames=frames, pixels=None
        )
        message_id = self.conversations.next_message_id()
        conversation.send(True, dicom.c_store_rq(message_id, sop_class, instance, 1, None))
        header = dicom.encode_dataset(dataset) + dicom.pixel_data_header(pixel_bytes)
        conversation.send(True, dicom.p_data_header(len(header), 1, 0) + header, think=80)
        return _Job(
            store=(message_id, sop_class, instance),
            conversation=conversation,
            sender=CLIENT,
            units=pairs,
            prefix=dicom.p_data_header(chunk, 1, 0),
            tail="dicom",
            tail_bytes=tail,
        )

    def _tls_job(self, units: int) -> _Job:
        clients = [
            host
            for role in ("nurse_workstation", "dicom_workstation", "it_workstation")
            for host in self.hospital.role(role)
        ]
        client = self.rng.choice(clients)
        name = "download.windowsupdate.com"
        server = Peer.internet(self.hospital.external(name))
        conversation, tls13 = self.conversations.tls_open(self.t, client, server, name, phi=False)
        conversation.send(True, tls.application_data(self.rng.randrange(400, 900), self.rng))
        size = conversation.payload_mss - 5
        return _Job(
            conversation=conversation,
            sender=SERVER,
            units=units,
            prefix=bytes([tls.APPLICATION_DATA, 3, 3]) + size.to_bytes(2, "big"),
            tail="tls",
            tls13=tls13,
        )

    def _backup_job(self, units: int) -> _Job:
        source = self.hospital.server(self.rng.choice(("file_server", "emr", "pacs")))
        conversation = self.conversations.ssh_open(
            self.t, source, self.hospital.server("backup_server")
        )
        return _Job(
            conversation=conversation,
            sender=CLIENT,
            units=units,
            prefix=b"",
            tail="ssh",
        )

    def _wave(self) -> _Wave | None:
        central = self.hospital.role("central_station")
        if not central:
            return None
        monitors = [m for m in self.hospital.role("patient_monitor") if m.vlan.id == ICU.id]
        if not monitors:
            return None
        monitor = self.rng.choice(monitors)
        channel = self.net.channel(
            Peer.of(monitor),
            Peer.of(central[0]),
            "udp",
            telemetry.PORT,
            app="telemetry",
            phi=True,
            cleartext=True,
        )
        src, dst, sport, dport, src_mac, dst_mac, ttl = channel.direction(True)
        frames = []
        for _ in range(WAVE_VARIANTS):
            self._wave_sequence += 1
            payload = telemetry.waveform(monitor.number, self._wave_sequence, self.rng)
            segment = f.udp(src, dst, sport, dport, payload)
            packet = f.ipv4(src, dst, f.IPPROTO_UDP, segment, ident=0, ttl=ttl)
            frames.append(f.ethernet(dst_mac, src_mac, channel.vlan, f.ETHERTYPE_IPV4, packet))
        matrix = np.frombuffer(b"".join(frames), dtype=np.uint8).reshape(WAVE_VARIANTS, -1)
        return _Wave(channel, matrix.copy(), _ip_sum(frames[0]), src)

    def _prepare(self, job: _Job) -> None:
        """Templates, payload pool and starting counters, once the preamble is written."""
        conversation = job.conversation
        job.setup = conversation.frames
        conversation.frames = []
        conversation.wait(200)
        job.first = conversation.t
        sender, receiver = job.sender, 1 - job.sender
        size = conversation.payload_mss
        job.data = self._template(conversation, sender, size)
        job.ack = self._template(conversation, receiver, 0)
        pool = [
            job.prefix + self.rng.randbytes(size - len(job.prefix)) for _ in range(PAYLOAD_VARIANTS)
        ]
        job.payload_sums = np.array([f.ones_complement_sum(p) for p in pool], dtype=np.int64)
        self._build_cycle(job, pool)
        job.seq0 = conversation.seq[sender]
        idents = self.net.idents
        channel = conversation.channel
        src = channel.direction(sender == CLIENT)[0]
        dst = channel.direction(sender == CLIENT)[1]
        wave_source = job.wave.source if job.wave is not None else b""
        job.ident0 = (idents.get(src, 0), idents.get(dst, 0), idents.get(wave_source, 0))

    def _build_cycle(self, job: _Job, pool: list[bytes]) -> None:
        data, ack, wave = job.data, job.ack, job.wave
        assert data is not None and ack is not None
        head = data.frame[: data.payload_offset]
        rows = []
        for unit in range(CYCLE_UNITS):
            frames = [head + pool[(2 * unit + n) % PAYLOAD_VARIANTS] for n in range(2)]
            frames.append(ack.frame)
            if wave is not None:
                frames += [bytes(wave.frames[(2 * unit + n) % WAVE_VARIANTS]) for n in range(2)]
            rows.append(b"".join(struct.pack("<IIII", 0, 0, len(x), len(x)) + x for x in frames))
            if unit == 0:
                job.sizes = tuple(len(x) for x in frames)
        offsets, position = [], 0
        for size in job.sizes:
            offsets.append(position + 16)
            position += 16 + size
        job.offsets = tuple(offsets)
        job.cycle = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(CYCLE_UNITS, -1)

    def _template(self, conversation: TcpConversation, side: int, size: int) -> _TcpTemplate:
        channel = conversation.channel
        src, dst, sport, dport, src_mac, dst_mac, ttl = channel.direction(side == CLIENT)
        options = b"\x01\x01\x08\x0a" + bytes(8) if conversation.timestamps else b""
        window = conversation.stacks[side].window
        segment = f.tcp(src, dst, sport, dport, 0, 0, f.TCP_ACK, window, bytes(size), options)
        segment = segment[:16] + b"\x00\x00" + segment[18:]
        packet = f.ipv4(src, dst, f.IPPROTO_TCP, segment, ident=0, ttl=ttl)
        frame = f.ethernet(dst_mac, src_mac, channel.vlan, f.ETHERTYPE_IPV4, packet)
        tcp_sum = f.pseudo_header_sum(src, dst, f.IPPROTO_TCP, len(segment))
        tcp_sum += f.ones_complement_sum(segment[: len(segment) - size])
        header_len = 20 + len(options)
        return _TcpTemplate(frame, _ip_sum(frame), tcp_sum, 38 + header_len, size)

    # -- blocks ----------------------------------------------------------------------------

    def _block(self, job: _Job) -> BulkBlock:
        """The next up to ``MAX_UNITS_PER_BLOCK`` units of the job."""
        data, ack, wave = job.data, job.ack, job.wave
        assert data is not None and ack is not None
        conversation = job.conversation
        count = min(MAX_UNITS_PER_BLOCK, job.units - job.done)
        index = np.arange(job.done, job.done + count, dtype=np.int64)
        starts = job.first + np.floor(index * job.unit_micros).astype(np.int64)
        rows = job.cycle[index % CYCLE_UNITS]
        offsets = job.offsets

        sender, receiver = job.sender, 1 - job.sender
        payload_len = data.payload_len
        seq_receiver = np.full(count, conversation.seq[receiver], dtype=np.int64)
        times: list[Array] = []
        for position, base in enumerate(offsets):
            at = starts + int(UNIT_OFFSETS[position] * job.unit_micros)
            times.append(at)
            _put(rows, base - 16, at // SECOND, "<u4")
            _put(rows, base - 12, at % SECOND, "<u4")

        def clock(side: int, at: Array) -> Array:
            elapsed = (at - conversation.ts_start) // 1000
            return (conversation.ts_base[side] + elapsed) & 0xFFFFFFFF

        def patch_tcp(
            base: int,
            at: Array,
            template: _TcpTemplate,
            side: int,
            seq: Array,
            acked: Array,
            ident: Array,
            extra: Array | int,
        ) -> None:
            total = template.tcp_sum + _words32(seq) + _words32(acked) + extra
            if conversation.timestamps:
                tsval, tsecr = clock(side, at), clock(1 - side, at)
                _put(rows, base + 62, tsval, ">u4")
                _put(rows, base + 66, tsecr, ">u4")
                total = total + _words32(tsval) + _words32(tsecr)
            _put(rows, base + 22, ident, ">u2")
            _put(rows, base + 28, _fold(template.ip_sum + ident), ">u2")
            _put(rows, base + 42, seq, ">u4")
            _put(rows, base + 46, acked, ">u4")
            _put(rows, base + 54, _fold(total), ">u2")

        for number in range(2):
            segment = 2 * index + number
            patch_tcp(
                offsets[number],
                times[number],
                data,
                sender,
                (job.seq0 + segment * payload_len) & 0xFFFFFFFF,
                seq_receiver,
                (job.ident0[0] + segment) & 0xFFFF,
                job.payload_sums[segment % PAYLOAD_VARIANTS],
            )
        patch_tcp(
            offsets[2],
            times[2],
            ack,
            receiver,
            seq_receiver,
            (job.seq0 + (2 * index + 2) * payload_len) & 0xFFFFFFFF,
            (job.ident0[1] + index) & 0xFFFF,
            0,
        )
        sizes = job.sizes
        channel = conversation.channel
        self.ledger.count_bulk(channel.edge, channel.flow, 3 * count, count * sum(sizes[:3]))
        if wave is not None:
            for number in range(2):
                base = offsets[3 + number]
                ident = (job.ident0[2] + 2 * index + number) & 0xFFFF
                _put(rows, base + 22, ident, ">u2")
                _put(rows, base + 28, _fold(wave.ip_sum + ident), ">u2")
            self.ledger.count_bulk(
                wave.channel.edge, wave.channel.flow, 2 * count, count * sum(sizes[3:])
            )
        job.done += count
        self._advance(job, int(times[-1][-1]))
        return BulkBlock(
            rows=rows,
            unit_start=starts,
            last_offset=int(UNIT_OFFSETS[len(sizes) - 1] * job.unit_micros),
            packets_per_unit=len(sizes),
            bytes_per_unit=sum(sizes),
        )

    def _advance(self, job: _Job, last: int) -> None:
        """Carry sequence numbers, identifications and the clock past the block."""
        conversation = job.conversation
        sender = job.sender
        channel = conversation.channel
        assert job.data is not None
        conversation.seq[sender] = (job.seq0 + 2 * job.done * job.data.payload_len) & 0xFFFFFFFF
        src = channel.direction(sender == CLIENT)[0]
        dst = channel.direction(sender == CLIENT)[1]
        idents = self.net.idents
        idents[src] = (job.ident0[0] + 2 * job.done) & 0xFFFF
        idents[dst] = (job.ident0[1] + job.done) & 0xFFFF
        if job.wave is not None:
            idents[job.wave.source] = (job.ident0[2] + 2 * job.done) & 0xFFFF
        conversation.t = max(conversation.t, last)
        conversation.last_sender = 1 - sender
        conversation.owed_ack = None

    def _finish(self, job: _Job) -> list[Frame]:
        """The end of the transfer: last data, application goodbye, TCP teardown."""
        conversation = job.conversation
        conversation.wait(300)
        if job.tail == "dicom":
            message_id, sop_class, instance = job.store
            tail = dicom.p_data_header(job.tail_bytes, 1, 2) + self.rng.randbytes(job.tail_bytes)
            conversation.send(True, tail, think=20)
            conversation.send(False, dicom.c_store_rsp(message_id, sop_class, instance, 1))
            self.conversations.dicom_release(conversation)
        elif job.tail == "tls":
            conversation.send(True, tls.close_notify(job.tls13, self.rng))
            conversation.close(True)
        else:
            conversation.send(False, ssh.encrypted(48, self.rng))
            conversation.close(True)
        return conversation.frames


def _ip_sum(frame: bytes) -> int:
    """Sum of the IPv4 header words with identification and checksum left out."""
    header = frame[18:38]
    return f.ones_complement_sum(
        header[:4] + b"\x00\x00" + header[6:10] + b"\x00\x00" + header[12:]
    )
