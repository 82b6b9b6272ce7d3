"""Content-keyed caches in the user's cache folder, safe under parallel runs and kills.

Every entry is written under a temporary name in its own folder and renamed
into place once complete, so a reader sees a whole entry or none. Writers of
one key take a lock (``filelock``: ``flock`` on Unix, released by the kernel
when its holder dies), so a second run waits for the first and reuses its
entry instead of deriving it again. Complete entries are never deleted: a
concurrent run may be reading them. Temporary names left by a killed run are
swept by a later run once they are older than :data:`STALE_SECONDS` and no
live writer holds their key's lock.

Layout of one cache folder (``<root>/<kind>``)::

    <key>                          a complete entry (a file or a folder)
    .locks/<key>.lock              the writers' lock of <key> (empty, kept)
    .dr-compliance-tmp-<key>-<id>  work in progress or a killed run's leftovers
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

APP_NAME = "dr-compliance"
ENV_VAR = "DR_COMPLIANCE_CACHE_DIR"
TEMP_PREFIX = ".dr-compliance-tmp-"
# Older than this, a temporary name whose key nobody is writing is a dead run's leftover.
STALE_SECONDS = 300.0
_LOCKS = ".locks"


def cache_root() -> Path:
    """``$DR_COMPLIANCE_CACHE_DIR``, else the user's cache folder for ``dr-compliance``."""
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    import platformdirs  # only when no folder is configured: tests never touch the user's

    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def cache_folder(kind: str) -> Path:
    """The folder of one kind of entry (``synth``, ``schema``...), under :func:`cache_root`."""
    return cache_root() / kind


def temporary_name(key: str) -> str:
    """A name no other run uses: the key (for the sweep) and a random suffix."""
    return f"{TEMP_PREFIX}{key}-{secrets.token_hex(8)}"


def key_of_temporary(name: str) -> str | None:
    """The key a temporary name was made for (None for any other name)."""
    if not name.startswith(TEMP_PREFIX):
        return None
    key, _, suffix = name[len(TEMP_PREFIX) :].rpartition("-")
    return key if key and suffix else None


def remove(path: Path) -> None:
    """Remove a file, link or folder; absent is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class Store:
    """Entries of one kind, each named by its content key, in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).resolve()

    def path(self, key: str) -> Path:
        return self.folder / key

    def lock_path(self, key: str) -> Path:
        return self.folder / _LOCKS / f"{key}.lock"

    @contextlib.contextmanager
    def writing(self, key: str, timeout: float = -1) -> Iterator[None]:
        """Hold the writers' lock of ``key``: other writers of it wait (``timeout`` < 0: forever).

        ``filelock`` is imported here, not at the top: a cache hit never locks,
        and importing it costs a whole check's worth of milliseconds.
        """
        from filelock import FileLock

        lock = self.lock_path(key)
        lock.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(lock, timeout=timeout):
            yield

    def is_being_written(self, key: str) -> bool:
        """Whether a live writer holds the lock of ``key`` now."""
        from filelock import Timeout

        try:
            with self.writing(key, timeout=0):
                return False
        except Timeout:
            return True

    def scratch(self, key: str) -> Path:
        """A fresh, unique temporary folder for building ``key`` (the caller holds the lock)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / temporary_name(key)
        path.mkdir()
        return path

    def publish(self, built: Path, key: str) -> Path:
        """Rename a complete ``built`` (file or folder, in this folder) into place as ``key``.

        A folder is never renamed over an existing entry (a reader may be
        copying it): if one is there already, the same content by definition
        of the key, ``built`` is discarded.
        """
        target = self.path(key)
        if built.is_dir():
            try:
                built.rename(target)
            except OSError:
                if not target.is_dir():
                    raise
                remove(built)
        else:
            os.replace(built, target)  # a reader holds the old inode open: it reads it whole
        return target

    def write_bytes(self, key: str, data: bytes) -> Path:
        """Write a file entry atomically: a unique temporary name, then a rename."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, scratch = tempfile.mkstemp(prefix=temporary_name(key), dir=self.folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(scratch, 0o644)
            return self.publish(Path(scratch), key)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise

    def sweep(self, older_than: float = STALE_SECONDS) -> list[Path]:
        """Remove temporary names of dead runs; return what was removed."""
        return sweep_temporaries(self.folder, older_than, self.is_being_written)

    def get_or_build(
        self, key: str, build: Callable[[Path], Path], valid: Callable[[Path], bool]
    ) -> tuple[Path, bool]:
        """The entry of ``key`` and whether it was already there (a hit).

        On a miss, ``build(scratch_folder)`` returns the finished file or folder
        inside the scratch folder; it is published, and the scratch folder
        removed whatever happens (an interrupt included).
        """
        self.sweep()  # cheap (one listing): leftovers go even when every run hits
        target = self.path(key)
        if valid(target):
            return target, True
        with self.writing(key):
            if valid(target):  # another run wrote it while this one waited
                return target, True
            if target.exists():  # unreadable (a half-written entry of an older layout)
                aside = self.folder / temporary_name(key)
                target.rename(aside)
                remove(aside)
            scratch = self.scratch(key)
            try:
                self.publish(build(scratch), key)
            finally:
                remove(scratch)
        return target, False


def sweep_temporaries(
    folder: Path,
    older_than: float = STALE_SECONDS,
    is_being_written: Callable[[str], bool] | None = None,
) -> list[Path]:
    """Remove ``folder``'s temporary names older than ``older_than`` seconds.

    A name whose key a live writer holds stays: it may be that writer's work.
    """
    removed: list[Path] = []
    try:
        candidates = list(folder.iterdir())
    except OSError:
        return removed
    now = time.time()
    for path in candidates:
        key = key_of_temporary(path.name)
        if key is None:
            continue
        try:
            age = now - path.lstat().st_mtime
        except OSError:
            continue  # another sweeper was first
        if age < older_than or (is_being_written is not None and is_being_written(key)):
            continue
        remove(path)
        removed.append(path)
    return removed


def digest_of_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
