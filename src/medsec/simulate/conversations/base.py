"""What every conversation builder shares: the network, the random source, counters and
the TCP connection helper."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import formatdate

from medsec.simulate.channels import Network, Peer
from medsec.simulate.hospital import Host
from medsec.simulate.tcp import TcpConversation


def http_date(micros: int) -> str:
    return formatdate(micros / 1_000_000, usegmt=True)


def hl7_stamp(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC).strftime("%Y%m%d%H%M%S")


class ConversationBase:
    """Frame builders start at a given time, return the frames, and declare their edge
    (application, PHI, cleartext) to the ledger."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.hospital = net.hospital
        self.rng = net.rng
        self._control_id = 0
        self._message_id = 0
        self._instance = 0
        self._lasting: dict[tuple[str, str], bytes] = {}

    def lasting(self, what: str, owner: str, make: Callable[[], bytes]) -> bytes:
        """What ``owner`` keeps from one connection to the next (a server's certificate,
        an SMB GUID): made the first time it is asked for, the same bytes afterwards."""
        key = (what, owner)
        value = self._lasting.get(key)
        if value is None:
            value = self._lasting[key] = make()
        return value

    def new_uid(self) -> str:
        return f"2.25.{self.rng.getrandbits(120)}"

    def _next_control_id(self) -> str:
        self._control_id += 1
        return f"SIM{self._control_id:08d}"

    def next_message_id(self) -> int:
        self._message_id = self._message_id % 65535 + 1
        return self._message_id

    def _patient(self) -> int:
        return self.rng.randrange(1, 400)

    def tcp(
        self,
        start: int,
        client: Host,
        server: Peer,
        port: int,
        *,
        app: str,
        phi: bool,
        cleartext: bool,
    ) -> TcpConversation:
        """A connected TCP conversation (handshake already emitted)."""
        client_peer = Peer.of(client)
        channel = self.net.channel(
            client_peer, server, "tcp", port, app=app, phi=phi, cleartext=cleartext
        )
        conversation = TcpConversation(
            channel,
            client.profile.stack,
            server.stack,
            start=start,
            rtt=self.net.rtt(client_peer, server),
            rng=self.rng,
        )
        conversation.connect()
        return conversation

    # -- link layer and addressing ---------------------------------------------------------
