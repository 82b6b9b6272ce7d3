"""What a function's zip archive says about how it was built (DR-AST-02).

A zip is reproducible when nothing of the build machine or moment leaks into
it: entries in sorted order, one fixed timestamp on every entry, permissions
that do not depend on the umask. Those are read from the archive itself,
whichever app built it; the policy decides what is acceptable (the fixed
timestamp is a setting). Where the app holds a folder whose files are
exactly the archive's entries, each entry is compared with that file: a
difference means the asset is stale.
"""

from __future__ import annotations

import datetime as dt
import stat
import struct
import zipfile
from pathlib import Path
from typing import Any

_EXTENDED_TIMESTAMP = 0x5455  # Info-ZIP "UT" extra field: a Unix modification time
_CHUNK = 1 << 16
_MAX_LISTED = 5


def iso(moment: tuple[int, ...]) -> str:
    """A zip entry's MS-DOS date and time as ISO 8601 (the setting's form)."""
    return dt.datetime(*moment[:6]).isoformat()


def inspect(path: Path) -> dict[str, Any]:
    """Order, timestamps and modes of the archive's entries, or why it cannot be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        return {"error": f"not a readable zip archive ({error})"}
    names = [info.filename for info in infos]
    return {
        "error": None,
        "entries": len(infos),
        "unsorted": _first_unsorted(names),
        "timestamps": _timestamps(infos),
        "modes": _modes(infos),
    }


def _first_unsorted(names: list[str]) -> list[str] | None:
    for before, after in zip(names, names[1:], strict=False):
        if after < before:
            return [before, after]
    return None


def _timestamps(infos: list[zipfile.ZipInfo]) -> list[dict[str, Any]]:
    """Each distinct timestamp the entries carry, with how many and one entry's name."""
    found: dict[str, dict[str, Any]] = {}
    for info in infos:
        moments = [iso(info.date_time), *_extended_times(info.extra)]
        for moment in dict.fromkeys(moments):
            entry = found.setdefault(
                moment, {"timestamp": moment, "count": 0, "entry": info.filename}
            )
            entry["count"] += 1
    return sorted(found.values(), key=lambda e: e["timestamp"])


def _extended_times(extra: bytes) -> list[str]:
    """Modification times in Info-ZIP extended-timestamp fields (UTC), as ISO 8601."""
    times = []
    offset = 0
    while offset + 4 <= len(extra):
        header, size = struct.unpack_from("<HH", extra, offset)
        body = extra[offset + 4 : offset + 4 + size]
        if header == _EXTENDED_TIMESTAMP and len(body) >= 5 and body[0] & 1:
            (seconds,) = struct.unpack_from("<I", body, 1)
            moment = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
            times.append(moment.isoformat())
        offset += 4 + size
    return times


def _modes(infos: list[zipfile.ZipInfo]) -> list[dict[str, Any]]:
    """Each distinct (kind, permissions) of the entries; ``mode`` None when none is recorded."""
    found: dict[tuple[str, str | None], dict[str, Any]] = {}
    for info in infos:
        unix = info.external_attr >> 16
        kind = "folder" if info.is_dir() or stat.S_ISDIR(unix) else "file"
        mode = f"{stat.S_IMODE(unix):04o}" if unix else None
        entry = found.setdefault(
            (kind, mode), {"kind": kind, "mode": mode, "count": 0, "entry": info.filename}
        )
        entry["count"] += 1
    return sorted(found.values(), key=lambda e: (e["kind"], e["mode"] or ""))


def file_entries(path: Path) -> list[str]:
    """The names of the archive's file entries (folders left out)."""
    with zipfile.ZipFile(path) as archive:
        return [info.filename for info in archive.infolist() if not info.is_dir()]


def differing_entries(path: Path, files: dict[str, Path]) -> list[str]:
    """The entries whose bytes differ from the file of the same relative name."""
    differing = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir() or info.filename not in files:
                continue
            source = files[info.filename]
            if info.file_size != source.stat().st_size or not _same_bytes(archive, info, source):
                differing.append(info.filename)
    return differing


def _same_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: Path) -> bool:
    """Compare in chunks: an entry is never held in memory whole."""
    with archive.open(info) as entry, source.open("rb") as file:
        while True:
            left, right = entry.read(_CHUNK), file.read(_CHUNK)
            if left != right:
                return False
            if not left:
                return True


def listed(names: list[str]) -> list[str]:
    """At most a few names, for a message."""
    return names[:_MAX_LISTED]
