"""Atomic, isolated report sets: a reader never sees one run's JSON beside another's HTML.

Every file of a set is first written into a private scratch folder (unique name,
mode 0700) inside the report folder, so on the same file system; the finished set is
then moved into place with one ``os.replace`` per file while an exclusive ``flock``
on the report folder is held. Two runs writing into one folder therefore publish
one after the other: whatever they interleave, the folder ends with one run's
complete set, and no file is ever seen half written. A reader that needs the set
consistent while runs are publishing takes the shared lock (``reading``).

A scratch folder left by a run that was killed (its process is gone) is removed by
the next publish into the same folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

SCRATCH_PREFIX = ".report-set-"


@contextlib.contextmanager
def _locked(folder: Path, operation: int) -> Iterator[None]:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, operation)
        yield
    finally:
        os.close(descriptor)  # closing the descriptor releases the lock


def reading(folder: Path) -> contextlib.AbstractContextManager[None]:
    """Hold while reading several files of a set: no publish can move files meanwhile."""
    return _locked(folder, fcntl.LOCK_SH)


def publish(folder: Path, files: dict[str, str]) -> dict[str, Path]:
    """Write ``files`` (name -> text) into ``folder`` as one set; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=folder))
    try:
        for name, text in files.items():
            (scratch / name).write_text(text, encoding="utf-8")
        with _locked(folder, fcntl.LOCK_EX):
            for name in files:
                os.replace(scratch / name, folder / name)
            _remove_abandoned(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {name: folder / name for name in files}


def _remove_abandoned(folder: Path) -> None:
    """Scratch folders whose run is gone (killed before it could clean up)."""
    for entry in folder.glob(f"{SCRATCH_PREFIX}*"):
        pid = entry.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
