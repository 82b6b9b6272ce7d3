"""Reclaim what a SIGKILLed drill left behind, before a new drill starts.

A SIGKILLed harness cannot clean up: its servers live on in sessions of
their own, holding ports, System V segments and the lab folder (~110 MB in
/dev/shm). A later drill finds such a folder by its owner file
(``ownership``), checks that the drill which wrote it is gone, and removes
only what it can prove that drill started: a recorded pid whose start time
still matches in the same boot, the descendants of such a process, or a
process carrying the run id in its environment. Anything else working in
the folder is left alone, and so is the folder then.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from compliance.drills import shared_memory
from compliance.drills.ownership import OwnerRecord, carries_run, read_owner
from compliance.drills.processes import (
    freeze_trees,
    kill_snapshot,
    lab_base_dirs,
    processes_in,
)


@dataclass
class Reclaimed:
    """What was released of one abandoned lab."""

    folder: Path
    run_id: str
    harness_pid: int
    processes: int
    segments: int
    size: int
    folder_removed: bool
    left_alone: list[int] = field(default_factory=list)

    def describe(self) -> str:
        text = (
            f"reclaimed the leftovers of a killed drill (run {self.run_id[:12]}, harness pid "
            f"{self.harness_pid}): {self.processes} processes, {self.segments} shared memory "
            f"segments, folder {self.folder} ({self.size / 1e6:.0f} MB)"
        )
        if not self.folder_removed:
            text += (
                f"; folder kept: processes {self.left_alone} work in it and were not "
                "started by that drill"
            )
        return text


def _live_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def proven_roots(record: OwnerRecord) -> list[int]:
    """Live processes the drill provably started: recorded ones, and those carrying its run id.

    Their descendants are the drill's too (``freeze_trees`` finds them).
    """
    if not record.same_boot():
        return []
    roots = [p.pid for p in record.processes if record.is_ours(p.pid)]
    me = os.getpid()
    roots += [pid for pid in _live_pids() if pid != me and carries_run(pid, record.run_id)]
    return sorted(set(roots))


def _size(folder: Path) -> int:
    total = 0
    for parent, _folders, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(parent, name)).st_blocks * 512
            except OSError:
                continue
    return total


def reclaim_lab(folder: Path, record: OwnerRecord) -> Reclaimed:
    """Kill the drill's processes, remove its segments, then its folder (if no one else uses it)."""
    victims = freeze_trees(proven_roots(record))  # stopped first: none can fork meanwhile
    victims.pop(os.getpid(), None)
    kill_snapshot(victims)
    segments = 0
    if record.same_boot():
        creators = {p.pid for p in record.processes} | set(victims)
        since = record.created_at - 1
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(  # detaching ends with the process's exit
            s.attached for s in shared_memory.created_by(creators, since)
        ):
            time.sleep(0.02)
        segments = shared_memory.remove_orphans(creators, since)
    strangers = processes_in(folder)
    size = _size(folder)
    if not strangers:
        shutil.rmtree(folder, ignore_errors=True)
    return Reclaimed(
        folder=folder,
        run_id=record.run_id,
        harness_pid=record.harness_pid,
        processes=len(victims),
        segments=segments,
        size=size,
        folder_removed=not folder.exists(),
        left_alone=strangers,
    )


def abandoned_labs(bases: list[Path] | None = None) -> list[tuple[Path, OwnerRecord]]:
    """Lab folders this user's drills created whose drill is no longer running."""
    found = []
    for base in lab_base_dirs() if bases is None else bases:
        try:
            candidates = sorted(base.glob("dr-*"))
        except OSError:
            continue
        for folder in candidates:
            record = read_owner(folder)
            if record is not None and not record.harness_alive():
                found.append((folder, record))
    return found


def reclaim_abandoned(bases: list[Path] | None = None) -> list[Reclaimed]:
    """Reclaim every abandoned lab; what was done, one entry per lab."""
    return [reclaim_lab(folder, record) for folder, record in abandoned_labs(bases)]
