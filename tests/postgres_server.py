"""A PostgreSQL server really started: initdb into a fresh temporary folder, pg_ctl on a free loopback port.

initdb refuses to run as root, so as root (CI, containers) the server's commands run as Debian's `postgres`
user, in a folder that user owns under a directory it can traverse (not pytest's tmp_path, which lives under
/tmp/pytest-of-root/ with mode 0700). The server is for tests: trust authentication, fsync off.
"""
from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

SUPERUSER = "policyengine"
DATABASE = "policyengine"
SERVER_USER = "postgres"  # the account Debian's postgresql package creates, for running the server as root
MISSING = "PostgreSQL server binaries not found (Debian package postgresql)"
_TOOLS = ("initdb", "pg_ctl", "postgres")


def _complete(bindir: Path) -> bool:
    return all(os.access(bindir / tool, os.X_OK) for tool in _TOOLS)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def postgres_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres of one PostgreSQL version, or None.

    `pg_config --bindir` first, then the newest Debian /usr/lib/postgresql/N/bin, then initdb on PATH
    (only if pg_ctl and postgres sit beside it, so the three are one build)."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        with suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True)
            bindir = Path(out.stdout.strip())
            if _complete(bindir):
                return bindir
    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True):
        if _complete(bindir):
            return bindir
    initdb = shutil.which("initdb")
    if initdb:
        bindir = Path(initdb).resolve().parent
        if _complete(bindir):
            return bindir
    return None


def require_postgres_binaries() -> Path:
    """The binaries' folder for a test that needs a server: skipped (with the reason shown) where they are
    missing, but failed when the environment variable CI is set, so CI cannot pass without running them."""
    bindir = postgres_binaries()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING}: CI must run the PostgreSQL tests; install Debian's postgresql package "
                        "(apt-get install -y --no-install-recommends postgresql)", pytrace=False)
        pytest.skip(MISSING)
    return bindir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _traversable_by_all(folder: Path) -> bool:
    return all(os.stat(part).st_mode & stat.S_IXOTH for part in (folder, *folder.parents))


class _Runner:
    """Runs the server's commands: directly, or as the postgres user when we are root."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.prefix: list[str] = []
        self.as_user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self.as_user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(f"initdb will not run as root and there is no {SERVER_USER!r} user to run it as "
                                   "(Debian's postgresql package creates one)") from None
            runuser = shutil.which("runuser")
            self.prefix = [runuser, "-u", SERVER_USER, "--"] if runuser else []

    def own(self, path: Path) -> None:
        if self.as_user is not None:
            os.chown(path, self.as_user.pw_uid, self.as_user.pw_gid)

    def run(self, args: list[str | Path], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = [str(arg) for arg in args]
        if self.as_user is not None and not self.prefix:  # no runuser: su, through a shell
            argv = ["su", SERVER_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]
        else:
            argv = self.prefix + argv
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        # the folder as working directory: the postgres user may not be able to enter ours
        return subprocess.run(argv, cwd=self.folder, env=env, capture_output=True, text=True, timeout=timeout)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"


def _kill_postmaster(data: Path) -> None:
    """The last resort when pg_ctl stop failed: the postmaster's pid from its pid file, killed."""
    with suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)


def _start(runner: _Runner, bindir: Path, data: Path, sockets: Path, log: Path) -> int:
    """Starts the server on a free port, trying another port if the one picked was taken meanwhile."""
    attempts = 3
    for attempt in range(1, attempts + 1):
        port = _free_port()
        log.unlink(missing_ok=True)
        options = (f"-p {port} -k {shlex.quote(str(sockets))} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        started = runner.run([bindir / "pg_ctl", "-D", data, "-o", options, "-w", "-t", "60", "-l", log, "start"])
        if started.returncode == 0:
            return port
        server_log = _read(log)
        port_taken = "could not bind" in server_log or "already in use" in server_log
        if not port_taken or attempt == attempts:
            raise RuntimeError(f"the PostgreSQL server did not start (pg_ctl exit {started.returncode}):\n"
                               f"{started.stdout}{started.stderr}\n--- server log {log} ---\n{server_log}")
    raise AssertionError("unreachable")


@contextmanager
def postgres_server(bindir: Path | None = None) -> Iterator[str]:
    """The URL (postgresql://policyengine@127.0.0.1:PORT/policyengine) of a PostgreSQL server started in a
    fresh temporary folder, stopped and removed when the block ends."""
    import psycopg

    bindir = bindir or postgres_binaries()
    if bindir is None:
        raise RuntimeError(MISSING)
    base = None if os.geteuid() != 0 or _traversable_by_all(Path(tempfile.gettempdir())) else "/tmp"
    folder = Path(tempfile.mkdtemp(prefix="policyengine-pg-", dir=base))
    data, sockets, log = folder / "data", folder / "sockets", folder / "server.log"
    runner = _Runner(folder)
    try:
        runner.own(folder)
        sockets.mkdir()
        runner.own(sockets)
        initdb = runner.run([bindir / "initdb", "-D", data, "--auth=trust", f"--username={SUPERUSER}", "-E", "UTF8",
                             "--locale=C", "--no-sync"])
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed (exit {initdb.returncode}):\n{initdb.stdout}{initdb.stderr}")
        port = _start(runner, bindir, data, sockets, log)
        with psycopg.connect(f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{DATABASE}"')
        yield f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if (data / "postmaster.pid").exists():  # started, or half-started by a pg_ctl that timed out
            stopped = runner.run([bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], timeout=60)
            if stopped.returncode != 0:
                _kill_postmaster(data)
                time.sleep(0.5)
        shutil.rmtree(folder, ignore_errors=True)
