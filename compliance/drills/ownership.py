"""The owner file that marks a lab folder as a drill's, and what it proves.

Every lab folder holds ``drill-owner.json``: the run id, the harness
process, the boot, and every process the drill started (pid and start
time, recorded the moment it starts). Children also carry the run id in
their environment (``DR_DRILL_RUN``), which covers the instant between a
start and its record. Together they let a later drill prove what a
SIGKILLed one left behind, and never touch anything else: a pid alone is
not proof (pids are reused), a pid with the same start time in the same
boot is.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OWNER_FILE = "drill-owner.json"
HARNESS = "compliance.drills"
RUN_VARIABLE = "DR_DRILL_RUN"
_VERSION = 1


def boot_id() -> str:
    """This boot's id: start times (clock ticks since boot) mean nothing across boots."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:  # pragma: no cover - every Linux has it
        return "unknown"


def start_time(pid: int) -> int | None:
    """Start time of a live ``pid`` in clock ticks since boot (``None``: gone or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] == "Z" else int(fields[19])


@dataclass(frozen=True)
class Started:
    """One process a drill started."""

    name: str
    pid: int
    start_time: int | None


@dataclass
class OwnerRecord:
    """What ``drill-owner.json`` holds."""

    run_id: str
    harness_pid: int
    harness_start_time: int | None
    boot_id: str
    uid: int
    created_at: float
    processes: list[Started] = field(default_factory=list)
    harness: str = HARNESS
    version: int = _VERSION

    @classmethod
    def for_this_process(cls) -> OwnerRecord:
        return cls(
            run_id=uuid.uuid4().hex,
            harness_pid=os.getpid(),
            harness_start_time=start_time(os.getpid()),
            boot_id=boot_id(),
            uid=os.geteuid(),
            created_at=time.time(),
        )

    def same_boot(self) -> bool:
        return self.boot_id == boot_id()

    def harness_alive(self) -> bool:
        """The drill that owns the folder still runs (so nothing in it is left over)."""
        return self.same_boot() and start_time(self.harness_pid) == self.harness_start_time

    def is_ours(self, pid: int) -> bool:
        """``pid`` is, right now, one of the processes this drill recorded."""
        if not self.same_boot():
            return False
        started = start_time(pid)
        return started is not None and any(
            p.pid == pid and p.start_time == started for p in self.processes
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> OwnerRecord:
        data: dict[str, Any] = json.loads(text)
        if data.get("harness") != HARNESS or data.get("version") != _VERSION:
            raise ValueError("not a drill owner file of this harness")
        processes = [
            Started(str(p["name"]), int(p["pid"]), p["start_time"]) for p in data["processes"]
        ]
        return cls(
            run_id=str(data["run_id"]),
            harness_pid=int(data["harness_pid"]),
            harness_start_time=data["harness_start_time"],
            boot_id=str(data["boot_id"]),
            uid=int(data["uid"]),
            created_at=float(data["created_at"]),
            processes=processes,
        )


def write_owner(folder: Path, record: OwnerRecord) -> None:
    """Replace the owner file atomically: a reader sees the old record or the new one."""
    scratch = folder / f".{OWNER_FILE}.{os.getpid()}.tmp"
    scratch.write_text(record.to_json(), encoding="utf-8")
    scratch.chmod(0o644)  # whatever the umask: read_owner trusts no group- or world-writable file
    os.replace(scratch, folder / OWNER_FILE)


def read_owner(folder: Path) -> OwnerRecord | None:
    """The folder's owner record, if the folder and its file provably belong to this user.

    Both must be owned by the effective user and not writable by others;
    otherwise anyone could list someone else's processes for a later drill
    to kill.
    """
    path = folder / OWNER_FILE
    me = os.geteuid()
    try:
        folder_stat = os.lstat(folder)
        file_stat = os.lstat(path)
        if not (_trusted(folder_stat, me) and _trusted(file_stat, me)):
            return None
        record = OwnerRecord.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if record.uid == me else None


def _trusted(stat: os.stat_result, uid: int) -> bool:
    import stat as kinds

    regular_or_folder = kinds.S_ISDIR(stat.st_mode) or kinds.S_ISREG(stat.st_mode)
    return regular_or_folder and stat.st_uid == uid and not stat.st_mode & 0o022


def carries_run(pid: int, run_id: str) -> bool:
    """The process was started with this run's id in its environment."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{RUN_VARIABLE}={run_id}".encode() in environ.split(b"\0")
