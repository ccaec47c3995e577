"""Live capture from a network interface with a Linux ``AF_PACKET`` socket.

:class:`LiveSource` opens a raw packet socket on one interface (normally a switch mirror
port) and hands out *chunks of classic-pcap records*: ``bytes`` holding whole records, each
a 16-byte little-endian header followed by the captured frame::

    ts_sec u32 | ts_nsec u32 (nanoseconds) | caplen u32 | origlen u32 | caplen bytes of frame

The capture engine consumes these chunks directly; :func:`global_header` plus the chunks,
written one after another, make a nanosecond-resolution ``.pcap`` file.

The socket is strictly passive: it is bound with ``ETH_P_ALL`` and only ever read from.
What the kernel does to frames on the way in is undone so records look like the wire:

* The 802.1Q / 802.1ad tag the driver stripped (VLAN offload) is re-inserted from the
  ``PACKET_AUXDATA`` ancillary data (``tp_vlan_tci``; the TPID from ``tp_vlan_tpid`` when
  the kernel reports it, else 0x8100).
* The original frame length comes from ``tp_len``, so ``origlen`` is right even when
  ``snaplen`` truncated the frame.
* On a loopback interface every frame passes the tap twice (sent, then received); the
  outgoing copy is dropped, as libpcap does.

Timestamps come from the kernel (``SO_TIMESTAMPNS``), falling back to the clock when a
frame arrives without one. Only Linux is supported.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import math
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Self

from medsec.model.errors import LiveCaptureError

__all__ = [
    "FLUSH_INTERVAL",
    "LINKTYPE_ETHERNET",
    "LINKTYPE_RAW",
    "LiveSource",
    "LiveStats",
    "global_header",
    "linktype_for",
]

logger = logging.getLogger(__name__)

LINKTYPE_ETHERNET: Final = 1
"""pcap link type of Ethernet frames (also used for Linux loopback, which fakes them)."""
LINKTYPE_RAW: Final = 101
"""pcap link type of bare IPv4/IPv6 packets (tun devices, WireGuard, WWAN)."""

FLUSH_INTERVAL: Final = 0.5
"""Seconds after which a partly filled chunk is handed out anyway."""

# <linux/if_ether.h>, <linux/if_packet.h>, <linux/if_arp.h>, <asm-generic/socket.h>,
# <linux/sockios.h>; the socket module does not define most of them.
_ETH_P_ALL: Final = 0x0003
_SOL_PACKET: Final = 263
_PACKET_ADD_MEMBERSHIP: Final = 1
_PACKET_MR_PROMISC: Final = 1
_PACKET_STATISTICS: Final = 6
_PACKET_AUXDATA: Final = 8
_PACKET_OUTGOING: Final = 4
_TP_STATUS_VLAN_VALID: Final = 1 << 4
_TP_STATUS_VLAN_TPID_VALID: Final = 1 << 6
_ETH_P_8021Q: Final = 0x8100
_SO_RCVBUFFORCE: Final = 33
_SO_TIMESTAMPNS: Final = 35  # SO_TIMESTAMPNS_OLD; SCM_TIMESTAMPNS has the same number
_SIOCGIFHWADDR: Final = 0x8927

_ARPHRD_ETHER: Final = 1
_ARPHRD_LOOPBACK: Final = 772
_ARPHRD_NONE: Final = 0xFFFE
_ARPHRD_RAWIP: Final = 519

_LINKTYPES: Final[dict[int, int]] = {
    _ARPHRD_ETHER: LINKTYPE_ETHERNET,
    _ARPHRD_LOOPBACK: LINKTYPE_ETHERNET,
    _ARPHRD_NONE: LINKTYPE_RAW,
    _ARPHRD_RAWIP: LINKTYPE_RAW,
}

_ARPHRD_NAMES: Final[dict[int, str]] = {
    _ARPHRD_ETHER: "ARPHRD_ETHER",
    24: "ARPHRD_IEEE1394",
    32: "ARPHRD_INFINIBAND",
    280: "ARPHRD_CAN",
    512: "ARPHRD_PPP",
    _ARPHRD_RAWIP: "ARPHRD_RAWIP",
    768: "ARPHRD_TUNNEL",
    769: "ARPHRD_TUNNEL6",
    _ARPHRD_LOOPBACK: "ARPHRD_LOOPBACK",
    776: "ARPHRD_SIT",
    778: "ARPHRD_IPGRE",
    801: "ARPHRD_IEEE80211",
    802: "ARPHRD_IEEE80211_PRISM",
    803: "ARPHRD_IEEE80211_RADIOTAP",
    804: "ARPHRD_IEEE802154",
    823: "ARPHRD_IP6GRE",
    824: "ARPHRD_NETLINK",
    _ARPHRD_NONE: "ARPHRD_NONE",
    0xFFFF: "ARPHRD_VOID",
}

_GLOBAL_HEADER: Final = struct.Struct("<IHHiIII")
_RECORD_HEADER: Final = struct.Struct("<IIII")
_PCAP_MAGIC_NS: Final = 0xA1B23C4D
# struct tpacket_auxdata: tp_status, tp_len, tp_snaplen, tp_mac, tp_net, tp_vlan_tci,
# tp_vlan_tpid (native byte order).
_AUXDATA: Final = struct.Struct("=IIIHHHH")
# struct __kernel_old_timespec {long tv_sec; long tv_nsec;} (native size).
_TIMESPEC: Final = struct.Struct("@ll")
# struct tpacket_stats {u32 tp_packets; u32 tp_drops;}
_PACKET_STATS: Final = struct.Struct("=II")
# struct packet_mreq {int mr_ifindex; u16 mr_type; u16 mr_alen; u8 mr_address[8];}
_PACKET_MREQ: Final = struct.Struct("=iHH8s")
_VLAN_TAG: Final = struct.Struct("!HH")
_ANCILLARY_BYTES: Final = socket.CMSG_SPACE(_AUXDATA.size) + socket.CMSG_SPACE(_TIMESPEC.size)
_MAX_SNAPLEN: Final = 262144


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveStats:
    """Counters of one live capture since the source was opened."""

    packets: int
    """Records handed out in chunks (or waiting in the current partial chunk)."""
    bytes: int
    """Bytes on the wire of those records: the sum of their ``origlen``."""
    dropped: int
    """Frames the kernel dropped because the socket buffer was full (``PACKET_STATISTICS``)."""


def global_header(linktype: int, snaplen: int) -> bytes:
    """The 24-byte header of a nanosecond-resolution pcap file (magic 0xa1b23c4d, LE).

    Written before the chunks of a :class:`LiveSource`, it makes them a valid pcap file.
    """
    return _GLOBAL_HEADER.pack(_PCAP_MAGIC_NS, 2, 4, 0, 0, snaplen, linktype)


def linktype_for(hardware_type: int, interface: str) -> int:
    """The pcap link type of frames read from a packet socket on this ARPHRD type.

    Raises :class:`LiveCaptureError` naming the hardware type when medsec cannot read it.
    """
    try:
        return _LINKTYPES[hardware_type]
    except KeyError:
        name = _ARPHRD_NAMES.get(hardware_type, "unknown")
        raise LiveCaptureError(
            f"cannot capture on {interface}: hardware type {name} ({hardware_type}) is not "
            "supported (only Ethernet, loopback and raw-IP interfaces)"
        ) from None


class LiveSource:
    """Passive capture from one network interface, handed out as chunks of pcap records.

    The socket is opened and bound in the constructor, so frames are queued from then on;
    :meth:`chunks` reads them. Needs root or ``CAP_NET_RAW``. Not thread-safe except for
    :meth:`stop` and :meth:`stats`, which another thread or a signal handler may call.

    ``duration``
        Seconds :meth:`chunks` runs for; ``None`` runs until :meth:`stop`,
        ``KeyboardInterrupt`` or ``max_packets``.
    ``snaplen``
        Bytes kept of each frame (a re-inserted VLAN tag counts).
    ``chunk_bytes``
        Upper bound of a chunk's size (raised to ``16 + snaplen`` if smaller).
    ``max_packets``
        Stop after this many records in total.
    ``promiscuous``
        Put the interface in promiscuous mode while the socket is open, as a mirror port
        needs (the kernel undoes it when the socket closes).
    ``buffer_bytes``
        Kernel receive buffer of the socket; it absorbs bursts while a chunk is processed.
    """

    def __init__(
        self,
        interface: str,
        *,
        duration: float | None,
        snaplen: int = 65535,
        chunk_bytes: int = 4 << 20,
        max_packets: int | None = None,
        promiscuous: bool = True,
        buffer_bytes: int = 32 << 20,
    ) -> None:
        if duration is not None and not duration >= 0:
            raise ValueError(f"duration must be >= 0 seconds or None, not {duration!r}")
        if not 16 <= snaplen <= _MAX_SNAPLEN:
            raise ValueError(f"snaplen must be between 16 and {_MAX_SNAPLEN}, not {snaplen}")
        if chunk_bytes <= 0:
            raise ValueError(f"chunk_bytes must be positive, not {chunk_bytes}")
        if max_packets is not None and max_packets < 0:
            raise ValueError(f"max_packets must be >= 0 or None, not {max_packets}")
        self.interface: Final = interface
        self.duration: Final = duration
        self.snaplen: Final = snaplen
        self.max_packets: Final = max_packets
        self._capacity = max(chunk_bytes, _RECORD_HEADER.size + snaplen)
        self._buffer = bytearray(self._capacity)
        self._view = memoryview(self._buffer)
        self._packets = 0
        self._bytes = 0
        self._dropped = 0
        self._stats_lock = threading.Lock()
        self._stop_requested = False
        sock, self._ifindex, hardware_type = self._open(promiscuous, buffer_bytes)
        self._sock: socket.socket | None = sock
        self.linktype: Final = linktype_for(hardware_type, interface)
        """pcap link type of the records: :data:`LINKTYPE_ETHERNET` or :data:`LINKTYPE_RAW`."""
        self._loopback = hardware_type == _ARPHRD_LOOPBACK
        self._ethernet = self.linktype == LINKTYPE_ETHERNET
        logger.debug("capturing on %s (linktype %d, snaplen %d)", interface, self.linktype, snaplen)

    def _open(self, promiscuous: bool, buffer_bytes: int) -> tuple[socket.socket, int, int]:
        """Open and bind the packet socket; also return the interface's index and ARPHRD
        type."""
        interface = self.interface
        try:
            ifindex = socket.if_nametoindex(interface)
        except (OSError, ValueError) as exc:
            raise LiveCaptureError(f"no such interface: {interface}") from exc
        try:
            # Protocol 0 receives nothing until bind() names the interface, so no frame of
            # another interface can slip in first.
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except PermissionError as exc:
            raise _permission_error(interface) from exc
        except OSError as exc:
            raise LiveCaptureError(
                f"cannot open a packet socket for {interface}: {exc.strerror or exc}"
            ) from exc
        try:
            hardware_type = _hardware_type(sock, interface)
            linktype_for(hardware_type, interface)  # refuse before binding
            sock.setsockopt(_SOL_PACKET, _PACKET_AUXDATA, 1)
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            except OSError:
                logger.debug("no SO_TIMESTAMPNS on %s; using the clock", interface)
            _set_receive_buffer(sock, buffer_bytes)
            sock.bind((interface, _ETH_P_ALL))
            if promiscuous:
                mreq = _PACKET_MREQ.pack(ifindex, _PACKET_MR_PROMISC, 0, b"")
                sock.setsockopt(_SOL_PACKET, _PACKET_ADD_MEMBERSHIP, mreq)
            sock.setblocking(False)
        except PermissionError as exc:
            sock.close()
            raise _permission_error(interface) from exc
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.ENODEV, errno.ENXIO):
                raise LiveCaptureError(f"no such interface: {interface}") from exc
            raise LiveCaptureError(f"cannot capture on {interface}: {exc.strerror or exc}") from exc
        except BaseException:
            sock.close()
            raise
        return sock, ifindex, hardware_type

    def chunks(self) -> Iterator[bytes]:
        """Yield chunks of pcap records until ``duration`` passed, :meth:`stop` or
        ``max_packets``.

        A chunk is handed out when the next frame might not fit, and a partial one at least
        every :data:`FLUSH_INTERVAL` seconds. On ``KeyboardInterrupt`` or a failing
        interface, the partial chunk is yielded first and the exception raised after it. A
        downed interface is waited for (the kernel re-attaches the socket when it comes
        back); a removed one raises :class:`LiveCaptureError`.
        """
        sock = self._sock
        if sock is None:
            raise ValueError("LiveSource is closed")
        monotonic = time.monotonic
        time_ns = time.time_ns
        recvmsg_into = sock.recvmsg_into
        pack_record = _RECORD_HEADER.pack_into
        unpack_aux = _AUXDATA.unpack_from
        unpack_timespec = _TIMESPEC.unpack_from
        pack_tag = _VLAN_TAG.pack_into
        buffer, view, capacity = self._buffer, self._view, self._capacity
        snaplen = self.snaplen
        need = _RECORD_HEADER.size + snaplen
        loopback, ethernet = self._loopback, self._ethernet
        sol_packet, sol_socket = _SOL_PACKET, socket.SOL_SOCKET
        poller = select.poll()
        poller.register(sock, select.POLLIN)

        start = monotonic()
        deadline = math.inf if self.duration is None else start + self.duration
        limit = math.inf if self.max_packets is None else self.max_packets
        flush_at = start + FLUSH_INTERVAL
        packets, wire_bytes = self._packets, self._bytes
        pos = 0
        link_down = False
        error: BaseException | None = None
        try:
            while not self._stop_requested and packets < limit:
                now = monotonic()
                if now >= deadline:
                    break
                if now >= flush_at:
                    if pos:
                        self._packets, self._bytes = packets, wire_bytes
                        yield bytes(view[:pos])
                        pos = 0
                    flush_at = monotonic() + FLUSH_INTERVAL
                    continue
                try:
                    n, ancdata, _flags, address = recvmsg_into(
                        (view[pos + 16 : pos + need],), _ANCILLARY_BYTES, socket.MSG_DONTWAIT
                    )
                except BlockingIOError:
                    if link_down:
                        self._check_still_there()
                    wait = min(deadline, flush_at) - now
                    poller.poll(math.ceil(wait * 1000))
                    continue
                except OSError as exc:
                    if exc.errno != errno.ENETDOWN:
                        raise LiveCaptureError(
                            f"capture on {self.interface} failed: {exc.strerror or exc}"
                        ) from exc
                    # Down and removal both report ENETDOWN; the kernel re-attaches the
                    # socket when the interface comes back up, so wait unless it is gone.
                    if not link_down:
                        logger.warning("interface %s went down; waiting for it", self.interface)
                    link_down = True
                    continue
                link_down = False
                if loopback and address[2] == _PACKET_OUTGOING:
                    continue  # the same frame comes again as received
                origlen = n
                status = tci = tpid = 0
                sec = -1
                nsec = 0
                for level, kind, data in ancdata:
                    if level == sol_packet:
                        if kind == _PACKET_AUXDATA:
                            status, origlen, _, _, _, tci, tpid = unpack_aux(data)
                    elif level == sol_socket and kind == _SO_TIMESTAMPNS:
                        sec, nsec = unpack_timespec(data)
                if sec < 0:
                    sec, nsec = divmod(time_ns(), 1_000_000_000)
                caplen = n
                if ethernet and (status & _TP_STATUS_VLAN_VALID or tci) and n >= 12:
                    # Put the stripped tag back between the MAC addresses and the EtherType.
                    frame = pos + 16
                    caplen = min(n + 4, snaplen)
                    view[frame + 16 : frame + caplen] = view[frame + 12 : frame + caplen - 4]
                    if not status & _TP_STATUS_VLAN_TPID_VALID:
                        tpid = _ETH_P_8021Q
                    pack_tag(buffer, frame + 12, tpid, tci)
                    origlen += 4
                pack_record(buffer, pos, sec, nsec, caplen, origlen)
                pos += 16 + caplen
                packets += 1
                wire_bytes += origlen
                if capacity - pos < need:
                    self._packets, self._bytes = packets, wire_bytes
                    yield bytes(view[:pos])
                    pos = 0
                    flush_at = monotonic() + FLUSH_INTERVAL
        except (KeyboardInterrupt, LiveCaptureError) as exc:
            error = exc
        finally:
            self._packets, self._bytes = packets, wire_bytes
        if pos:
            yield bytes(view[:pos])
        if error is not None:
            raise error

    def _check_still_there(self) -> None:
        try:
            socket.if_indextoname(self._ifindex)
        except OSError as exc:
            raise LiveCaptureError(f"interface {self.interface} was removed") from exc

    def stop(self) -> None:
        """Make :meth:`chunks` flush and return within :data:`FLUSH_INTERVAL` seconds.

        Safe to call from another thread or a signal handler; final.
        """
        self._stop_requested = True

    def stats(self) -> LiveStats:
        """Counters so far; ``dropped`` is read from the kernel while the socket is open."""
        with self._stats_lock:
            if self._sock is not None:
                self._read_kernel_drops(self._sock)
            return LiveStats(packets=self._packets, bytes=self._bytes, dropped=self._dropped)

    def _read_kernel_drops(self, sock: socket.socket) -> None:
        # The kernel resets its counters on every read, so they are accumulated here.
        try:
            raw = sock.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, _PACKET_STATS.size)
        except OSError as exc:
            logger.debug("cannot read PACKET_STATISTICS on %s: %s", self.interface, exc)
            return
        _received, drops = _PACKET_STATS.unpack(raw)
        self._dropped += drops

    def close(self) -> None:
        """Close the socket (idempotent); :meth:`stats` keeps the final counters."""
        self._stop_requested = True
        with self._stats_lock:
            sock, self._sock = self._sock, None
            if sock is not None:
                self._read_kernel_drops(sock)
                sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _permission_error(interface: str) -> LiveCaptureError:
    return LiveCaptureError(
        f"capturing on {interface} needs root or the CAP_NET_RAW capability "
        "(e.g. setcap cap_net_raw,cap_net_admin=eip on the Python interpreter)"
    )


def _hardware_type(sock: socket.socket, interface: str) -> int:
    """The ARPHRD type of the interface (``SIOCGIFHWADDR``: ``ifr_hwaddr.sa_family``)."""
    request = struct.pack("16s24x", os.fsencode(interface))
    reply = fcntl.ioctl(sock.fileno(), _SIOCGIFHWADDR, request)
    (hardware_type,) = struct.unpack_from("=H", reply, 16)
    return int(hardware_type)


def _set_receive_buffer(sock: socket.socket, size: int) -> None:
    """Ask for a ``size``-byte receive buffer, beyond ``net.core.rmem_max`` if permitted."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, size)
    except OSError:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        except OSError as exc:
            logger.debug("cannot set SO_RCVBUF to %d: %s", size, exc)
    logger.debug("receive buffer %d bytes", sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
