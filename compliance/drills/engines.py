"""Find the real engines the local lab runs, or say which package to install.

``DR_PG_BIN`` (a folder with ``initdb``, ``postgres``, ``pg_basebackup``)
and ``DR_PDNS_SERVER`` (the ``pdns_server`` binary) override discovery.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PG_PACKAGE = "postgresql"
PDNS_PACKAGES = ("pdns-server", "pdns-backend-bind")
_PG_TOOLS = ("initdb", "postgres", "pg_basebackup")


class EngineMissing(RuntimeError):
    """An engine the local lab needs is absent; the message names the package."""

    def __init__(self, what: str, packages: tuple[str, ...]) -> None:
        self.what = what
        self.packages = packages
        names = " ".join(packages)
        super().__init__(
            f"{what}: install the Debian package{'s' if len(packages) > 1 else ''} "
            f"`{'`, `'.join(packages)}` (apt-get install {names})"
        )


@dataclass(frozen=True)
class Engines:
    """Where the lab's engines live and which versions they are."""

    pg_bin: Path
    pdns_server: Path
    postgresql_version: str
    pdns_version: str

    def versions(self) -> dict[str, str]:
        return {"postgresql": self.postgresql_version, "pdns": self.pdns_version}


def postgres_bin() -> Path:
    """PostgreSQL 15 server binaries, else the newest installed major version."""
    override = os.environ.get("DR_PG_BIN")
    candidates = [Path(override)] if override else []
    if not override:
        candidates.append(Path("/usr/lib/postgresql/15/bin"))
        candidates += sorted(
            (path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
            key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
            reverse=True,
        )
    for folder in candidates:
        if all((folder / tool).is_file() for tool in _PG_TOOLS):
            return folder
    where = override or "/usr/lib/postgresql/*/bin"
    raise EngineMissing(
        f"PostgreSQL server binaries ({', '.join(_PG_TOOLS)}) not found in {where}",
        (PG_PACKAGE,),
    )


def pdns_server() -> Path:
    """The PowerDNS authoritative server with its bind backend."""
    override = os.environ.get("DR_PDNS_SERVER")
    found = override or shutil.which("pdns_server") or "/usr/sbin/pdns_server"
    binary = Path(found)
    if not binary.is_file():
        raise EngineMissing(f"PowerDNS server (pdns_server) not found at {binary}", PDNS_PACKAGES)
    if not override and not list(Path("/usr/lib").glob("*/pdns/libbindbackend.so")):
        raise EngineMissing("PowerDNS bind backend (libbindbackend.so) not found", PDNS_PACKAGES)
    return binary


def _version(command: list[str], pattern: str) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except OSError as error:
        return f"unknown ({error.strerror})"
    match = re.search(pattern, completed.stdout + completed.stderr)
    return match.group(1) if match else "unknown"


def locate() -> Engines:
    """Both engines, or ``EngineMissing`` for the first one absent."""
    pg_bin = postgres_bin()
    pdns = pdns_server()
    return Engines(
        pg_bin=pg_bin,
        pdns_server=pdns,
        postgresql_version=_version([str(pg_bin / "postgres"), "--version"], r"\) (\d[\w.]*)"),
        pdns_version=_version(
            [str(pdns), "--version"], r"PowerDNS Authoritative Server (\d[\w.]*)"
        ),
    )
