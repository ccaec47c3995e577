"""Checkmk (Check_MK) agent on TCP 6556: the plain-text answer a monitoring server pulls.

The agent writes ``<<<check_mk>>>`` followed by ``Key: value`` lines (``Version``,
``AgentOS``, ``Hostname``, ``Architecture``, directories), then one ``<<<section>>>`` per
check plug-in (``df``, ``ps``, ``mem``, ``mssql_versions``...). Only that header's named
fields and the section names are stated; section contents (process lists, mounts, logs)
are never kept. Agents since Checkmk 2.1 with the agent controller answer over TLS and give
nothing here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.services import CheckmkAgentOutput

logger = logging.getLogger(__name__)

MAGIC = b"<<<check_mk>>>"
MAX_HEADER_LINES = 32
MAX_SECTIONS = 64
_SECTION = re.compile(rb"^<<<([A-Za-z0-9_.:-]{1,64})(?::[^>\n]{0,64})?>>>\r?$", re.MULTILINE)
_FIELDS = {
    b"Version": "version",
    b"AgentOS": "agent_os",
    b"Hostname": "hostname",
    b"Architecture": "architecture",
}


class CheckmkError(DissectError):
    """A Checkmk agent answer that breaks its format."""


class CheckmkDissector:
    """Checkmk agent output on TCP 6556 (and wherever ``<<<check_mk>>>`` starts a stream)."""

    name: ClassVar[str] = "checkmk"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset({6556})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 16384
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        return head.startswith(MAGIC)

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if not payload.startswith(MAGIC):
            return  # the poller's side (nothing or a TLS handshake), or a TLS agent
        fields: dict[str, str] = {}
        lines = payload[len(MAGIC) :].split(b"\n", MAX_HEADER_LINES + 1)[1 : MAX_HEADER_LINES + 1]
        for line in lines:
            if line.startswith(b"<<<"):
                break
            key, sep, value = line.partition(b": ")
            if not sep and line.endswith(b":"):
                key, value = line[:-1], b""
            name = _FIELDS.get(key)
            if name and name not in fields:
                text = value.strip()[:64].decode("utf-8", "backslashreplace")
                if text:
                    fields[name] = text
        sections: list[str] = []
        for m in _SECTION.finditer(payload, len(MAGIC)):
            section = m.group(1).decode("ascii")
            if section not in sections:
                sections.append(section)
                if len(sections) >= MAX_SECTIONS:
                    break
        if not fields and not sections:
            raise CheckmkError("check_mk section without fields")
        yield CheckmkAgentOutput(ctx=ctx, sections=tuple(sections), **fields)
