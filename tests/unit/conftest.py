"""Load the Lambda handlers by file path: ``lambda`` is a keyword, not a package name."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from compliance.drills.engines import EngineMissing, postgres_bin

LAMBDA_ROOT = Path(__file__).resolve().parents[2] / "lambda"


def load_handler(folder: str, module_name: str) -> ModuleType:
    """Import ``lambda/<folder>/handler.py`` as ``module_name``."""
    spec = importlib.util.spec_from_file_location(module_name, LAMBDA_ROOT / folder / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def health_check_module() -> ModuleType:
    return load_handler("health_check", "health_check_handler")


@pytest.fixture(scope="session")
def failover_module() -> ModuleType:
    return load_handler("failover", "failover_handler")


# --- A throwaway real PostgreSQL server (the local lab's stand-in for Aurora) ---

PG_PACKAGE_HINT = "install the Debian package `postgresql` (apt-get install postgresql)"


def _pg_bin_dir() -> Path | None:
    """PostgreSQL 15 binaries, else the newest installed major version (the drills' lookup)."""
    try:
        return postgres_bin()
    except EngineMissing:
        return None


def _unavailable(reason: str) -> None:
    """Skip, or fail under DR_STRICT, when the real-database tests cannot run."""
    message = f"{reason}; {PG_PACKAGE_HINT}"
    if os.environ.get("DR_STRICT"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """One temporary cluster on 127.0.0.1 with trust auth for user ``postgres``."""

    bin_dir: Path
    base: Path
    port: int
    as_postgres: list[str]
    running: bool = False

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``pg_ctl`` as the postgres OS user (postgres refuses to run as root)."""
        command = [*self.as_postgres, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir)]
        result = subprocess.run(
            [*command, *args], cwd=self.base, capture_output=True, text=True, timeout=60
        )
        if check and result.returncode != 0:
            log = (self.base / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl {args[-1]} failed: {result.stderr}\n{log}")
        return result

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.base / 'sock'} -c fsync=off"
        log = str(self.base / "server.log")
        self.ctl("-l", log, "-w", "-t", "30", "-o", options, "start")
        self.running = True

    def stop(self) -> None:
        if self.running or (self.data_dir / "postmaster.pid").exists():
            self.running = False
            self.ctl("-m", "immediate", "-w", "-t", "30", "stop", check=False)

    def promote(self) -> None:
        self.ctl("-w", "-t", "30", "promote")

    def env(self, region: str = "lab-1") -> dict[str, str]:
        """Health-check environment for the lab's password mode."""
        return {
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.port),
            "DB_NAME": "postgres",
            "DB_USER": "postgres",
            "DB_REGION": region,
            "DB_AUTH": "password",
            "DB_TIMEOUT_SECONDS": "2",
        }


@pytest.fixture
def start_postgres() -> Iterator[Callable[..., PostgresServer]]:
    """Factory: ``start_postgres(standby=False)``; every server is stopped and removed."""
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        _unavailable("PostgreSQL server binaries (initdb) not found under /usr/lib/postgresql")
    assert bin_dir is not None
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no `postgres` OS user")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    servers: list[PostgresServer] = []

    def start(*, standby: bool = False) -> PostgresServer:
        base = Path(tempfile.mkdtemp(prefix="dr-pg-"))
        (base / "sock").mkdir()
        if as_postgres:
            for path in (base, base / "sock"):
                os.chown(path, account.pw_uid, account.pw_gid)
        server = PostgresServer(bin_dir, base, _free_port(), as_postgres)
        servers.append(server)
        initdb = [str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", "postgres"]
        subprocess.run(
            [*as_postgres, *initdb, "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
            cwd=base,
            check=True,
            capture_output=True,
            timeout=120,
        )
        if standby:  # recovery mode without a primary: a read-only hot standby
            signal = server.data_dir / "standby.signal"
            signal.touch()
            if as_postgres:
                os.chown(signal, account.pw_uid, account.pw_gid)
        for attempt in range(3):
            try:
                server.start()
                break
            except RuntimeError:  # the free port may have been taken meanwhile
                if attempt == 2:
                    raise
                server.port = _free_port()
        return server

    try:
        yield start
    finally:
        for server in servers:
            try:
                server.stop()
            finally:
                shutil.rmtree(server.base, ignore_errors=True)
