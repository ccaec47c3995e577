"""Throw-away network namespaces for tests that need real interfaces (marker ``netns``).

``veth_pair()`` creates two namespaces with unique names joined by a veth pair, addresses
from 10.199.0.0/24 on both ends and loopback up; nothing is created in the host's namespace,
so the tests' traffic never leaves them. The namespaces, and any process left in them, are
removed on exit even when the test failed.

Tests skip when not root or when ``ip netns`` does not work; with ``MEDSEC_REQUIRE_NETNS=1``
they fail instead (CI, where the namespaces must be exercised).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
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


@dataclass(frozen=True)
class Netns:
    """One network namespace; commands run in it through ``ip netns exec``."""

    name: str

    def argv(self, *command: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *command]

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
        return subprocess.Popen(
            self.argv(PYTHON, "-c", code, *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


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
    "Netns",
    "VethPair",
    "namespace",
    "require_netns",
    "skip_or_fail",
    "terminate",
    "unavailable_reason",
    "veth_pair",
]
