"""Zabbix protocol on TCP 10050 (agent, passive checks) and 10051 (server/proxy trapper:
active agents, senders, proxies).

A message is ``ZBXD``, a flags byte (1 protocol, 2 zlib-compressed, 4 large), the data
length and the (uncompressed) reserved length, then the data: JSON for active checks,
senders and proxies (``request``, ``host``, ``version``), or a plain item key for a passive
check and the agent's plain answer. Stated: the request or response kind, the host name and
agent version a request names, a passive check's item key without its parameters, and the
system name and release of a ``system.uname``-style answer; item values are never kept.
Older agents answer passive checks without the header: such a stream gives nothing.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from collections.abc import Iterator
from typing import Any, ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.services import ZabbixMessage

logger = logging.getLogger(__name__)

MAGIC = b"ZBXD"
MAX_DATA = 65536
"""Bytes of (decompressed) data read from one message."""
_KEY = re.compile(rb"([a-z][a-z0-9_.-]{0,63})(?:\[[^\n]{0,255}\])?\n?\Z")
_UNAME = re.compile(
    rb"(Linux|FreeBSD|OpenBSD|NetBSD|SunOS|AIX|HP-UX|Darwin|Windows) \S{1,64} (\S{1,64})"
)


class ZabbixError(DissectError):
    """A Zabbix protocol message that breaks its format."""


def _json(data: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def _short(value: object) -> str | None:
    return value[:64] if isinstance(value, str) and value else None


class ZabbixDissector:
    """Zabbix on TCP 10050/10051 (and wherever a ``ZBXD`` header starts a stream)."""

    name: ClassVar[str] = "zabbix"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({10050, 10051})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 8192
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        return head.startswith(MAGIC) and len(head) > 4 and head[4] in (1, 3, 5, 7)

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if not payload.startswith(MAGIC):
            return
        if len(payload) < 13:
            raise ZabbixError("header cut short")
        flags = payload[4]
        if not flags & 1 or flags > 7:
            raise ZabbixError(f"header flags {flags:#x}")
        size = 8 if flags & 4 else 4
        length = int.from_bytes(payload[5 : 5 + size], "little")
        start = 5 + 2 * size
        data = payload[start : start + min(length, MAX_DATA)]
        if flags & 2:
            try:
                data = zlib.decompressobj().decompress(data, MAX_DATA)
            except zlib.error:
                if length <= len(payload) - start:
                    raise ZabbixError("compressed data does not inflate") from None
                return  # cut short by the stream head
        doc = _json(data) if data[:1] == b"{" else None
        if doc is not None:
            yield ZabbixMessage(
                ctx=ctx,
                flags=flags,
                request=_short(doc.get("request")),
                response=_short(doc.get("response")),
                host=_short(doc.get("host")),
                version=_short(doc.get("version")),
            )
            return
        asked = ctx.from_client if ctx.from_client is not None else ctx.src_port != 10050
        key = _KEY.match(data) if asked else None
        if key is not None:
            yield ZabbixMessage(ctx=ctx, flags=flags, item_key=key.group(1).decode("ascii"))
            return
        uname = _UNAME.match(data)
        yield ZabbixMessage(
            ctx=ctx,
            flags=flags,
            uname_sysname=uname.group(1).decode("ascii") if uname else None,
            uname_release=uname.group(2).decode("ascii", "backslashreplace") if uname else None,
        )
