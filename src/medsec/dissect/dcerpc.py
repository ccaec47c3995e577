"""Connection-oriented DCE/RPC ([C706] chapter 12, [MS-RPCE]) over TCP: binds.

A client's bind or alter-context names the interfaces (abstract syntax UUID and version) it
wants to call on the server: the endpoint mapper on TCP 135, and on the dynamic ports the
endpoint mapper hands out, services such as DRSUAPI (directory replication, only domain
controllers), NETLOGON, SAMR, the certificate authority's ICertPassage. Stated per stream:
the interfaces bound and their names when known, and the authentication type of the
verifier. Request stubs (arguments, names, data) are never read. DCE/RPC over SMB named
pipes is not seen here (SMB is dissected on its own).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import ClassVar, Literal

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.services import DcerpcBind

logger = logging.getLogger(__name__)

HEADER = 16
BIND = 11
ALTER_CONTEXT = 14
PACKET_TYPES = frozenset({0, 2, 3, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
"""request, response, fault, bind, bind_ack, bind_nak, alter_context, alter_context_resp,
auth3, shutdown, co_cancel, orphaned, ... ([C706] 12.6.4)."""
MAX_PDUS = 16
MAX_CONTEXTS = 32
INTERFACES = {
    "e1af8308-5d1f-11c9-91a4-08002b14a0fa": "EPM",
    "e3514235-4b06-11d1-ab04-00c04fc2dcd2": "DRSUAPI",
    "12345678-1234-abcd-ef00-01234567cffb": "NETLOGON",
    "12345778-1234-abcd-ef00-0123456789ab": "LSARPC",
    "12345778-1234-abcd-ef00-0123456789ac": "SAMR",
    "3919286a-b10c-11d0-9ba8-00c04fd92ef5": "DSSETUP",
    "4b324fc8-1670-01d3-1278-5a47bf6ee188": "SRVSVC",
    "6bffd098-a112-3610-9833-46c3f87e345a": "WKSSVC",
    "338cd001-2244-31f1-aaaa-900038001003": "WINREG",
    "367abb81-9844-35f1-ad32-98f038001003": "SVCCTL",
    "12345678-1234-abcd-ef00-0123456789ab": "SPOOLSS",
    "76f03f96-cdfd-44fc-a22c-64950a001209": "IRemoteWinspool",
    "1ff70682-0a51-30e8-076d-740be8cee98b": "ATSVC",
    "86d35949-83c9-4044-b424-db363231fd0c": "ITaskSchedulerService",
    "50abc2a4-574d-40b3-9d66-ee4fd5fba076": "DNSSERVER",
    "3dde7c30-165d-11d1-ab8f-00805f14db40": "BKRP",
    "f5cc59b4-4264-101a-8c59-08002b2f8426": "FRSRPC",
    "897e2e5f-93f3-4376-9c9c-fd2277495c27": "FRS2",
    "91ae6020-9e3c-11cf-8d7c-00aa00c091be": "ICertPassage",
    "f5cc5a18-4264-101a-8c59-08002b2f8426": "NSPI",
    "a4f1db00-ca47-1067-b31f-00dd010662da": "EMSMDB",
    "1544f5e0-613c-11d1-93df-00c04fd7bd09": "RFR",
    "000001a0-0000-0000-c000-000000000046": "ISystemActivator",
    "99fcfec4-5260-101b-bbcb-00aa0021347a": "IOXIDResolver",
    "82273fdc-e32a-18c3-3f78-827929dc23ea": "EVENTLOG",
    "f6beaff7-1e19-4fbb-9f8f-b89e2018337c": "IEventService",
}
"""Well-known interface UUIDs of the Windows protocol specifications ([MS-DRSR], [MS-NRPC],
[MS-LSAD], [MS-SAMR], [MS-SRVS], [MS-WKST], [MS-RRP], [MS-SCMR], [MS-RPRN], [MS-PAR],
[MS-TSCH], [MS-DNSP], [MS-BKRP], [MS-FRS1], [MS-FRS2], [MS-ICPR], [MS-NSPI], [MS-OXCRPC],
[MS-DCOM], [MS-EVEN], [MS-EVEN6]) and [C706] (EPM)."""


class DcerpcError(DissectError):
    """A DCE/RPC PDU that breaks its format."""


def _header(data: bytes, pos: int) -> tuple[int, bool, int, int] | None:
    """(packet type, little endian, frag length, auth length) of a plausible header."""
    if pos + HEADER > len(data):
        return None
    if data[pos] != 5 or data[pos + 1] > 1 or data[pos + 2] not in PACKET_TYPES:
        return None
    drep = data[pos + 4 : pos + 8]
    if drep[0] & 0xEF or drep[1] > 3 or drep[2:] != b"\x00\x00":
        return None
    little = bool(drep[0] & 0x10)
    order: Literal["little", "big"] = "little" if little else "big"
    frag = int.from_bytes(data[pos + 8 : pos + 10], order)
    auth = int.from_bytes(data[pos + 10 : pos + 12], order)
    if frag < HEADER or auth + HEADER > frag:
        return None
    return data[pos + 2], little, frag, auth


def parse_bind(pdu: bytes, little: bool, auth_length: int, ctx: PacketContext) -> DcerpcBind:
    order: Literal["little", "big"] = "little" if little else "big"
    if len(pdu) < HEADER + 12:
        raise DcerpcError("bind shorter than its fixed part")
    count = pdu[HEADER + 8]
    pos = HEADER + 12
    interfaces: list[str] = []
    names: list[str] = []
    for _ in range(min(count, MAX_CONTEXTS)):
        if pos + 24 > len(pdu):
            raise DcerpcError("presentation context cut short")
        transfers = pdu[pos + 2]
        raw = pdu[pos + 4 : pos + 20]
        ident = str(uuid.UUID(bytes_le=raw) if little else uuid.UUID(bytes=raw))
        major = int.from_bytes(pdu[pos + 20 : pos + 22], order)
        minor = int.from_bytes(pdu[pos + 22 : pos + 24], order)
        text = f"{ident} v{major}.{minor}"
        if text not in interfaces:
            interfaces.append(text)
            name = INTERFACES.get(ident)
            if name and name not in names:
                names.append(name)
        pos += 24 + 20 * transfers
    auth_type: int | None = None
    if auth_length:
        at = len(pdu) - auth_length - 8
        if at < pos:
            raise DcerpcError("auth verifier overlaps the contexts")
        auth_type = pdu[at]
    return DcerpcBind(
        ctx=ctx,
        packet_type="bind" if pdu[2] == BIND else "alter_context",
        interfaces=tuple(interfaces),
        interface_names=tuple(names),
        auth_type=auth_type,
    )


class DcerpcDissector:
    """Connection-oriented DCE/RPC on TCP 135 (and wherever a bind starts a stream)."""

    name: ClassVar[str] = "dcerpc"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({135})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 4096
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """A version 5.0/5.1 bind PDU header with a valid data representation."""
        header = _header(head, 0)
        return header is not None and header[0] == BIND and head[3] & 0x03 == 0x03

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if _header(payload, 0) is None:
            raise DcerpcError("not a DCE/RPC connection-oriented header")
        pos = 0
        for _ in range(MAX_PDUS):
            header = _header(payload, pos)
            if header is None:
                return
            kind, little, frag, auth = header
            if pos + frag > len(payload):
                return  # cut short by the stream head
            if kind in (BIND, ALTER_CONTEXT):
                yield parse_bind(payload[pos : pos + frag], little, auth, ctx)
            pos += frag
