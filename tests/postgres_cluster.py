"""A throw-away PostgreSQL cluster for tests (pytest plugin: ``pytest_plugins = [...]``).

``postgres_url`` (session): ``initdb`` into a temporary directory, ``pg_ctl start`` on
127.0.0.1 only, a free port, the unix socket inside the directory, ``fsync=off``; yields
``postgresql+psycopg://medsec@127.0.0.1:PORT/medsec`` and removes everything afterwards.

``postgres_db`` (function): a fresh, empty database in that cluster for one test, dropped
after it.

Binaries come from ``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin``. initdb refuses
to run as root: as root the cluster belongs to the ``postgres`` user (or ``nobody``) and
its commands run through ``runuser``/``setpriv``. Without PostgreSQL binaries the tests are
skipped with the reason - unless ``MEDSEC_REQUIRE_POSTGRES=1``, then they fail.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

SUPERUSER = "medsec"
DATABASE = "medsec"


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("MEDSEC_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL required (MEDSEC_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason} (install Debian's 'postgresql' package)")


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None."""
    candidates: list[str] = []
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(out.stdout.strip())
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) for x in Path(p).parent.name.split(".") if x.isdigit()],
        reverse=True,
    )
    for directory in candidates:
        path = Path(directory)
        if all((path / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return path
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresCluster:
    bindir: Path
    root: Path
    port: int
    run_as: list[str]
    """Command prefix running a program as the cluster's owner (empty: as ourselves)."""

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [*self.run_as, *args]
        try:
            return subprocess.run(
                cmd, capture_output=True, text=True, check=True, timeout=timeout, cwd=self.root
            )
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({exc.returncode}):\n{exc.stdout}\n{exc.stderr}"
            ) from exc

    def start(self) -> None:
        self.run(
            str(self.bindir / "initdb"),
            "-D", str(self.data),
            "-U", SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=50",
                "-c shared_buffers=64MB",
            ]
        )
        for attempt in itertools.count(1):
            self.port = _free_port()
            try:
                self.run(
                    str(self.bindir / "pg_ctl"),
                    "-D", str(self.data),
                    "-l", str(self.root / "server.log"),
                    "-o", f"{options} -p {self.port}",
                    "-w", "-t", "60",
                    "start",
                )  # fmt: skip
                break
            except RuntimeError:
                log = self.root / "server.log"
                if attempt >= 3 or "could not bind" not in log.read_text(errors="replace"):
                    raise
        self.execute(f'CREATE DATABASE "{DATABASE}"', database="postgres")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                         "-w", "stop")  # fmt: skip

    def execute(self, sql: str, database: str = DATABASE) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True
        ) as conn:
            conn.execute(sql.encode())


def _owner() -> tuple[list[str], int, int] | None:
    """As root: (command prefix, uid, gid) of the unprivileged cluster owner."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", name, "--"], entry.pw_uid, entry.pw_gid
        if shutil.which("setpriv"):
            prefix = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}"]
            return [*prefix, "--clear-groups"], entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root, but there is no postgres/nobody user to own a cluster")


def require_postgres() -> Path:
    """The binaries' directory; skips (or fails, if required) when PostgreSQL is missing."""
    bindir = find_bindir()
    if bindir is None:
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install 'psycopg[binary]')")
    return bindir


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    bindir = require_postgres()
    owner = _owner()
    # Directly under the system temp dir: as root, the owner must be able to reach it (pytest's
    # own tmp dirs are private to root), and the unix socket path must stay short.
    root = Path(tempfile.mkdtemp(prefix="medsec-pg-"))
    run_as: list[str] = []
    if owner is not None:
        run_as, uid, gid = owner
        os.chown(root, uid, gid)
    cluster = PostgresCluster(bindir=bindir, root=root, port=0, run_as=run_as)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """URL of a database in a throw-away cluster, shared by the whole session."""
    return postgres_cluster.url()


_counter = itertools.count(1)


@pytest.fixture
def postgres_db(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """URL of a fresh empty database, dropped after the test."""
    name = f"test_{os.getpid()}_{next(_counter)}_{int(time.time() * 1000) % 100000}"
    postgres_cluster.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_cluster.url(name)
    finally:
        try:
            postgres_cluster.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:  # PostgreSQL < 13 has no FORCE
            postgres_cluster.execute(f'DROP DATABASE IF EXISTS "{name}"')
