"""Throw-away network namespaces for tests that need real interfaces (marker ``netns``).

``veth_pair()`` creates two namespaces with unique names joined by a veth pair, addresses
from 10.199.0.0/24 on both ends and loopback up; nothing is created in the host's namespace,
so the tests' traffic never leaves them. The namespaces, and any process left in them, are
removed on exit even when the test failed.

``lan()`` builds a small switched network instead: one namespace per host, each with an
``eth0`` (fixed MAC, optional address) plugged into a bridge in a hub namespace, where a
recorder on the bridge sees every frame, like a mirror port.

Tests skip when not root or when ``ip netns`` does not work; with ``MEDSEC_REQUIRE_NETNS=1``
they fail instead (CI, where the namespaces must be exercised).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest

PYTHON = sys.executable


def unavailable_reason() -> str | None:
    """Why namespace tests cannot run here, or ``None`` when they can (probably)."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 ('ip') is not installed"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it when ``MEDSEC_REQUIRE_NETNS=1``."""
    if os.environ.get("MEDSEC_REQUIRE_NETNS") == "1":
        pytest.fail(f"MEDSEC_REQUIRE_NETNS=1 but {reason}")
    pytest.skip(reason)


def require_netns() -> None:
    """Skip (or fail, see :func:`skip_or_fail`) unless namespace tests can run."""
    reason = unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)


def system_path() -> str:
    """``PATH`` with ``/usr/sbin`` and without Python environments' scripts: pynetdicom
    installs console scripts named like DCMTK's tools (``storescp``, ``echoscu``), which an
    activated virtualenv - this one, or another one still on ``PATH`` - would otherwise put
    first."""
    scripts = os.path.realpath(sysconfig.get_path("scripts"))
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    kept = [d for d in dirs if os.path.realpath(d) != scripts and not _virtualenv_scripts(d)]
    return os.pathsep.join([*kept, "/usr/sbin", "/sbin"])


def _virtualenv_scripts(directory: str) -> bool:
    """Whether ``directory`` is the scripts directory of a virtual environment (its parent
    holds the ``pyvenv.cfg`` every venv has)."""
    return os.path.isfile(os.path.join(os.path.dirname(os.path.realpath(directory)), "pyvenv.cfg"))


def system_tool(tool: str) -> str:
    """The absolute path of a system program (see :func:`system_path`), or ``tool`` as given
    when it is a path or not found (the run then fails naming it)."""
    if os.sep in tool:
        return tool
    return shutil.which(tool, path=system_path()) or tool


def missing_tools(*tools: str) -> list[str]:
    """Those of ``tools`` (program names) not found on :func:`system_path`."""
    return [tool for tool in tools if shutil.which(tool, path=system_path()) is None]


@dataclass(frozen=True)
class Netns:
    """One network namespace; commands run in it through ``ip netns exec``."""

    name: str

    def argv(self, *command: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, system_tool(command[0]), *command[1:]]

    def run(
        self, *command: str, timeout: float = 30, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the namespace; raise with its stderr when it fails."""
        result = subprocess.run(
            self.argv(*command), capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            shown = " ".join(arg if len(arg) < 60 else arg[:57] + "..." for arg in command)
            raise AssertionError(
                f"{shown} in {self.name} exited {result.returncode}: {result.stderr.strip()}"
            )
        return result

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("ip", *args, check=check)

    def python(
        self, code: str, *args: str, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """Run Python code (this interpreter) in the namespace and return its output."""
        return self.run(PYTHON, "-c", code, *args, timeout=timeout)

    def start_python(self, code: str, *args: str) -> subprocess.Popen[str]:
        """Start Python code in the namespace; stdout and stderr are pipes."""
        return self.start(PYTHON, "-c", code, *args)

    def start(self, *command: str) -> subprocess.Popen[str]:
        """Start a command in the namespace; stdout and stderr are pipes."""
        return subprocess.Popen(
            self.argv(*command),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_listening(
        self,
        port: int,
        *,
        transport: str = "tcp",
        timeout: float = 15,
        process: subprocess.Popen[str] | None = None,
    ) -> None:
        """Until a socket of this namespace listens on ``port`` (``/proc/net/tcp`` and
        ``udp`` are per namespace), without connecting to it; fails early when ``process``
        (the server expected to open it) exits."""
        wanted = f":{port:04X}"
        tables = ("tcp", "tcp6") if transport == "tcp" else ("udp", "udp6")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for table in tables:
                lines = self.run("cat", f"/proc/net/{table}", check=False).stdout.splitlines()
                for line in lines[1:]:
                    fields = line.split()
                    listening = transport != "tcp" or fields[3] == "0A"
                    if fields[1].endswith(wanted) and listening:
                        return
            if process is not None and process.poll() is not None:
                out, err = process.communicate()
                raise AssertionError(
                    f"server exited {process.returncode} before listening on {port}: "
                    f"{(err or out or '(output in its log)').strip()[-2000:]}"
                )
            time.sleep(0.05)
        raise AssertionError(f"nothing listens on {transport} port {port} in {self.name}")


@dataclass(frozen=True)
class VethPair:
    """Two namespaces joined by a veth pair (``a.name``/``a_if`` ↔ ``b.name``/``b_if``)."""

    a: Netns
    b: Netns
    a_if: str
    b_if: str
    a_ip: str
    b_ip: str
    a_mac: str
    b_mac: str


def _delete(ns: Netns) -> None:
    pids = subprocess.run(
        ["ip", "netns", "pids", ns.name], capture_output=True, text=True, check=False
    ).stdout.split()
    for pid in pids:  # only processes this test started inside its own namespace
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    subprocess.run(["ip", "netns", "delete", ns.name], capture_output=True, check=False)


@contextmanager
def namespace(prefix: str = "medsec", *, ipv6: bool = False) -> Iterator[Netns]:
    """A new, empty namespace with loopback up; deleted on exit.

    IPv6 is off unless asked for, so the kernel sends no router solicitations or MLD
    reports of its own and captures hold only the test's traffic.
    """
    ns = Netns(f"{prefix}-{uuid.uuid4().hex[:10]}")
    created = subprocess.run(
        ["ip", "netns", "add", ns.name], capture_output=True, text=True, check=False
    )
    if created.returncode != 0:
        skip_or_fail(f"'ip netns add' failed: {created.stderr.strip()}")
    try:
        if not ipv6:
            for scope in ("all", "default"):
                ns.run("sh", "-c", f"echo 1 > /proc/sys/net/ipv6/conf/{scope}/disable_ipv6")
        ns.ip("link", "set", "lo", "up")
        yield ns
    finally:
        _delete(ns)


def _mac(ns: Netns, interface: str) -> str:
    out = ns.ip("-o", "link", "show", "dev", interface).stdout
    return out.split("link/ether", 1)[1].split()[0]


@contextmanager
def veth_pair(
    *,
    a_ip: str = "10.199.0.1",
    b_ip: str = "10.199.0.2",
    prefix: str = "medsec",
    ipv6: bool = False,
) -> Iterator[VethPair]:
    """Two fresh namespaces joined by ``veth0`` (in ``a``) and ``veth1`` (in ``b``), up,
    with ``a_ip``/24 and ``b_ip``/24."""
    with ExitStack() as stack:
        a = stack.enter_context(namespace(f"{prefix}-a", ipv6=ipv6))
        b = stack.enter_context(namespace(f"{prefix}-b", ipv6=ipv6))
        # Created straight inside the namespaces: nothing appears in the host's.
        a.ip("link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", b.name)
        for ns, interface, address in ((a, "veth0", a_ip), (b, "veth1", b_ip)):
            ns.ip("addr", "add", f"{address}/24", "dev", interface)
            ns.ip("link", "set", interface, "up")
        yield VethPair(
            a=a,
            b=b,
            a_if="veth0",
            b_if="veth1",
            a_ip=a_ip,
            b_ip=b_ip,
            a_mac=_mac(a, "veth0"),
            b_mac=_mac(b, "veth1"),
        )


@dataclass(frozen=True)
class LanHost:
    """One host of a :func:`lan`: its own namespace with ``eth0`` on the bridge."""

    name: str
    ns: Netns
    ip: str | None
    mac: str
    interface: str = "eth0"


@dataclass(frozen=True)
class Lan:
    """Hosts joined by a bridge in ``hub``; a recorder on ``hub``/``bridge`` sees every frame
    between them (the bridge is promiscuous while captured, so it also gets the unicast
    frames it forwards)."""

    hub: Netns
    bridge: str
    hosts: Mapping[str, LanHost]

    def __getitem__(self, name: str) -> LanHost:
        return self.hosts[name]


def lan_mac(index: int) -> str:
    """The fixed, locally administered MAC :func:`lan` gives its ``index``-th host (from 0)."""
    return f"02:00:0a:c7:00:{index + 1:02x}"


@contextmanager
def lan(
    hosts: Mapping[str, str | None], *, prefix: str = "medsec", ipv6: bool = False
) -> Iterator[Lan]:
    """A switched LAN: one fresh namespace per ``hosts`` entry (name -> IPv4 address in
    10.199.0.0/24, or ``None`` for a host with no address, e.g. a DHCP client), each with
    ``eth0`` (MAC :func:`lan_mac` of its position) on bridge ``br0`` in a hub namespace
    that has no address of its own. Everything is deleted on exit."""
    with ExitStack() as stack:
        hub = stack.enter_context(namespace(f"{prefix}-hub", ipv6=ipv6))
        # No STP, no multicast snooping: the bridge itself sends nothing (a snooping bridge
        # joins 224.0.0.106 and sends IGMP reports), it only forwards.
        hub.ip("link", "add", "br0", "type", "bridge", "stp_state", "0", "mcast_snooping", "0")
        hub.ip("link", "set", "br0", "up")
        members: dict[str, LanHost] = {}
        for index, (name, address) in enumerate(hosts.items()):
            ns = stack.enter_context(namespace(f"{prefix}-{name}", ipv6=ipv6))
            port = f"port{index}"
            hub.ip("link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns.name)
            hub.ip("link", "set", port, "master", "br0")
            hub.ip("link", "set", port, "up")
            mac = lan_mac(index)
            ns.ip("link", "set", "eth0", "address", mac)
            if address is not None:
                ns.ip("addr", "add", f"{address}/24", "dev", "eth0")
            ns.ip("link", "set", "eth0", "up")
            members[name] = LanHost(name=name, ns=ns, ip=address, mac=mac)
        yield Lan(hub=hub, bridge="br0", hosts=members)


def terminate(process: subprocess.Popen[str], timeout: float = 10) -> tuple[str, str]:
    """Stop a process started by the test (SIGTERM, then SIGKILL) and collect its output."""
    if process.poll() is None:
        process.terminate()
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


__all__ = [
    "Lan",
    "LanHost",
    "Netns",
    "VethPair",
    "lan",
    "lan_mac",
    "missing_tools",
    "namespace",
    "require_netns",
    "skip_or_fail",
    "terminate",
    "unavailable_reason",
    "veth_pair",
]
