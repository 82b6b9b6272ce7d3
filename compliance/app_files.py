"""What the harness may read of a checked app, and the app's own files.

Every path an input names (a Lambda ``filename``, a source folder) is
resolved, symlinks followed, and read only when it lies inside the checked
folder or the app folder: a ``filename`` of ``/etc/shadow`` is reported,
never hashed. Only regular files are read (a FIFO would block, a device
never ends).

Walking the app's own files skips what is not its source: virtual
environments, the synthesized output, generated provider bindings
(``imports/``, ``.gen/``), ``__pycache__``, hidden folders, and other apps
nested inside it (a folder with its own ``cdktf.json``).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from compliance.app_config import CDKTF_JSON, AppConfig

_SKIP_NAMES = frozenset({"__pycache__", "node_modules", "site-packages"})
_SKIP_SUFFIXES = (".pyc", ".pyo")
_ENV_MARKERS = ("pyvenv.cfg", "conda-meta")  # a virtual environment, whatever its name
_BINDINGS = ("imports", ".gen")  # cdktf get's output folders, beside cdktf.json


def resolve(path: Path) -> Path | None:
    """``path`` with every symlink followed, or None when it cannot be (a loop)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None


def is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


@dataclass
class AppFiles:
    """The folders a check may read (``roots``) and the app's own files.

    ``checked`` is the checked output folder (a single file's folder);
    ``app`` the app that produced it, which may be none.
    """

    checked: Path
    app: AppConfig
    extra: tuple[Path, ...] = ()  # folders the user named (``--source DIR``)
    _folders: dict[Path, dict[str, Path]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, checked: Path, app: AppConfig, extra: Iterable[Path] = ()) -> AppFiles:
        folder = checked if checked.is_dir() else checked.parent
        return cls(folder.resolve(), app, tuple(path.resolve() for path in extra))

    @cached_property
    def roots(self) -> tuple[Path, ...]:
        found = [self.checked, *self.extra]
        if self.app.app_dir is not None:
            found.append(self.app.app_dir)
        return tuple(found)

    def confine(self, path: Path) -> Path | None:
        """``path`` resolved when it lies inside the checked folder or the app folder."""
        resolved = resolve(path)
        if resolved is None or not any(resolved.is_relative_to(r) for r in self.roots):
            return None
        return resolved

    @cached_property
    def _skipped(self) -> frozenset[Path]:
        """Folders that are never the app's source: its output, the checked one, bindings."""
        skipped = {self.checked}
        app_dir = self.app.app_dir
        if app_dir is not None:
            if self.app.output_dir is not None:
                skipped.add(self.app.output_dir)
            skipped.update(app_dir / name for name in (*_BINDINGS, _code_maker_output(self.app)))
        return frozenset(skipped)

    def _skip_dir(self, path: Path) -> bool:
        return (
            path.name.startswith(".")
            or path.name in _SKIP_NAMES
            or path in self._skipped
            or any((path / marker).exists() for marker in _ENV_MARKERS)
            or (path / CDKTF_JSON).is_file()  # another app, nested in this one
            or ((path / "manifest.json").is_file() and (path / "stacks").is_dir())  # an output
        )

    def walk(self, top: Path) -> Iterator[Path]:
        """Regular files under ``top`` (or ``top`` itself), in a stable order, skips applied.

        A symlink is followed only when it resolves inside the readable roots.
        """
        if top.is_file():
            if self._readable(top):
                yield top
            return
        for folder, dirs, names in os.walk(top):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if not self._skip_dir(here / d))
            for name in sorted(names):
                path = here / name
                if name.startswith(".") or name.endswith(_SKIP_SUFFIXES):
                    continue
                if self._readable(path):
                    yield path

    def _readable(self, path: Path) -> bool:
        if path.is_symlink() and self.confine(path) is None:
            return False
        return is_regular_file(path)

    @cached_property
    def _by_name(self) -> dict[str, list[Path]]:
        """Every file of the app folder by its name (built on first use, once)."""
        found: dict[str, list[Path]] = {}
        if self.app.app_dir is not None:
            for path in self.walk(self.app.app_dir):
                found.setdefault(path.name, []).append(path)
        return found

    def folders_holding(self, names: Iterable[str]) -> list[Path]:
        """Folders of the app whose files are exactly ``names`` (relative POSIX paths)."""
        wanted = set(names)
        if not wanted:
            return []
        probe = min(wanted)
        candidates = set()
        for path in self._by_name.get(Path(probe).name, []):
            posix = path.as_posix()
            if posix.endswith("/" + probe):
                candidates.add(Path(posix[: -len(probe) - 1]))
        return sorted(c for c in candidates if set(self.folder_files(c)) == wanted)

    def folder_files(self, folder: Path) -> dict[str, Path]:
        """The files under ``folder`` by relative POSIX path, skips applied."""
        if folder not in self._folders:
            self._folders[folder] = {
                path.relative_to(folder).as_posix(): path for path in self.walk(folder)
            }
        return self._folders[folder]

    def relative(self, path: Path, fallback: Path) -> str:
        """``path`` relative to the app folder, else to ``fallback``."""
        app_dir = self.app.app_dir
        if app_dir is not None and path.is_relative_to(app_dir):
            return path.relative_to(app_dir).as_posix()
        return path.relative_to(fallback).as_posix()


def _code_maker_output(app: AppConfig) -> str:
    """Where ``cdktf get`` writes bindings (cdktf.json ``codeMakerOutput``, default imports)."""
    if app.cdktf_json is None:
        return _BINDINGS[0]
    try:
        value = json.loads(app.cdktf_json.read_text(encoding="utf-8")).get("codeMakerOutput")
    except (OSError, ValueError, AttributeError):
        return _BINDINGS[0]  # discover() already read and validated the file
    return value if isinstance(value, str) and value.strip() else _BINDINGS[0]
