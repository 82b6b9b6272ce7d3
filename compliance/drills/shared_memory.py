"""System V shared memory segments, read from ``/proc/sysvipc/shm`` (what ``ipcs -m`` shows).

PostgreSQL keeps a small System V segment as an interlock beside its
anonymous shared memory; an orderly exit removes it, a SIGKILL leaves it
for good. The lab removes the segments its own servers created, and only
once nothing is attached.
"""

from __future__ import annotations

import ctypes
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

IPC_RMID = 0
_TABLE = Path("/proc/sysvipc/shm")


@dataclass(frozen=True)
class Segment:
    shmid: int
    creator_pid: int
    attached: int
    creator_uid: int
    changed_at: int  # ctime: creation or last IPC_SET, seconds since the epoch
    size: int


def segments() -> list[Segment]:
    try:
        lines = _TABLE.read_text().splitlines()
    except OSError:
        return []
    header = lines[0].split() if lines else []
    found = []
    for line in lines[1:]:
        row = dict(zip(header, line.split(), strict=False))
        found.append(
            Segment(
                shmid=int(row["shmid"]),
                creator_pid=int(row["cpid"]),
                attached=int(row["nattch"]),
                creator_uid=int(row["cuid"]),
                changed_at=int(row["ctime"]),
                size=int(row["size"]),
            )
        )
    return found


def created_by(creators: Collection[int], since: float = 0.0) -> list[Segment]:
    """Segments whose creator is one of ``creators`` (and created at or after ``since``)."""
    return [s for s in segments() if s.creator_pid in creators and s.changed_at >= int(since)]


def remove_orphans(creators: Collection[int], since: float = 0.0) -> int:
    """Remove the unattached segments ``creators`` made; how many were removed."""
    libc = ctypes.CDLL(None, use_errno=True)
    removed = 0
    for segment in created_by(creators, since):
        if segment.attached == 0 and libc.shmctl(segment.shmid, IPC_RMID, None) == 0:
            removed += 1
    return removed
