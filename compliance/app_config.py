"""What the harness knows about an app, learnt from the app itself.

A checked output (a ``cdktf.out`` folder or a ``*.tf.json`` file) belongs to
the app whose ``cdktf.json`` sits beside or above it and whose output folder
holds it. From ``cdktf.json`` come the app command and the output folder; from
the ``pyproject.toml`` beside it, the optional ``[tool.dr-compliance]`` table::

    [tool.dr-compliance]
    source = ["app", "constructs"]   # what DR-SCH-03 scans (default: the app folder)
    waivers = "compliance/waivers.yaml"
    policies = ["compliance/policies"]  # extra policy folders
    [tool.dr-compliance.settings]
    rto_seconds = 120                # validated by compliance.settings.Settings
    [tool.dr-compliance.drills.environment]
    DB_AUTH = "password"             # set on the functions the local drills run

Every path is relative to the ``pyproject.toml`` and must resolve, symlinks
followed, inside the app folder: the harness reads nothing an app merely
points at. Where no app is found, :class:`AppConfig` says so (no source, no
overrides) and why, never borrowing another app's source.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compliance.config_file import Loc, NonBlank, at, dotted, nearest_line, read_text
from compliance.config_file import validation_failure as _failure
from compliance.errors import InputError
from compliance.settings import validate_overrides

CDKTF_JSON = "cdktf.json"
PYPROJECT = "pyproject.toml"
TABLE = "dr-compliance"
DEFAULT_OUTPUT = "cdktf.out"  # cdktf's own default when cdktf.json names none


class _DrillsTable(BaseModel):
    """``[tool.dr-compliance.drills]``: what the local lab sets on the app's functions."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    environment: dict[str, str] = {}


class _ToolTable(BaseModel):
    """``[tool.dr-compliance]``: every key optional, no other key allowed."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    source: Annotated[list[NonBlank], Field(min_length=1)] | None = None
    waivers: NonBlank | None = None
    policies: list[NonBlank] = []
    settings: dict[str, Any] = {}
    drills: _DrillsTable = _DrillsTable()


_TABLE_FIXES = {
    "source": 'a list of folders or files, e.g. source = ["infrastructure"]',
    "waivers": 'the path of a waivers file, e.g. waivers = "waivers.yaml"',
    "policies": 'a list of policy folders, e.g. policies = ["policies"]',
    "settings": "a table of settings, e.g. [tool.dr-compliance.settings]",
    "drills": 'a table of variables, e.g. [tool.dr-compliance.drills.environment] DB_AUTH = "x"',
}


@dataclass(frozen=True)
class AppConfig:
    """The app that produced a checked output, and what it says about itself.

    ``origins`` says where each value came from (``file:line`` or the default
    taken); ``note`` why no app was found, when none was.
    """

    checked: Path
    app_dir: Path | None = None
    cdktf_json: Path | None = None
    app_command: str | None = None
    output_dir: Path | None = None
    pyproject: Path | None = None
    source: tuple[Path, ...] = ()
    waivers: Path | None = None
    policies: tuple[Path, ...] = ()
    settings_overrides: Mapping[str, Any] = field(default_factory=dict)
    # Variables the local failover drills set on every function they run
    # ([tool.dr-compliance.drills.environment]; compliance/drills/functions.py).
    drill_environment: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def found(self) -> bool:
        return self.app_dir is not None

    def source_roots(self) -> list[Path]:
        """The folders and files DR-SCH-03 scans: resolved, inside the app folder, none nested."""
        return list(self.source)

    def contains(self, path: Path) -> bool:
        """Whether ``path`` resolves (symlinks followed) inside the app folder."""
        return self.app_dir is not None and path.resolve().is_relative_to(self.app_dir)


def discover(checked: Path) -> AppConfig:
    """The app that produced ``checked``: ``cdktf.json`` beside or above it.

    The search starts at ``checked`` (or its folder, for a file) and goes up,
    stopping at a filesystem root or at a folder with ``.git`` (after looking
    in it: a repository's root often holds the app). The nearest
    ``cdktf.json`` counts only when its output folder holds ``checked``: a
    fixture under an app's tree is not that app's output.
    """
    if not checked.exists():
        raise InputError(checked, "the checked path does not exist")
    target = checked.resolve()
    start = target if target.is_dir() else target.parent
    cdktf_json = None
    for folder in (start, *start.parents):
        if (folder / CDKTF_JSON).is_file():
            cdktf_json = folder / CDKTF_JSON
            break
        if (folder / ".git").exists():
            break
    if cdktf_json is None:
        return AppConfig(checked, note=f"no app source found beside or above {checked}")
    app_dir = cdktf_json.parent
    command, output, origins = _read_cdktf_json(cdktf_json)
    output_dir = (app_dir / output).resolve()
    if not target.is_relative_to(output_dir):
        return AppConfig(
            checked,
            note=(
                f"no app source found beside or above {checked}: the nearest {cdktf_json} "
                f"writes its output to {output_dir}, which does not hold it"
            ),
        )
    origins["app"] = f"{cdktf_json} (found beside or above {checked})"
    return _with_pyproject(
        app_dir,
        AppConfig(
            checked,
            app_dir=app_dir,
            cdktf_json=cdktf_json,
            app_command=command,
            output_dir=output_dir,
            source=(app_dir,),
        ),
        origins,
    )


def _read_cdktf_json(path: Path) -> tuple[str | None, str, dict[str, str]]:
    try:
        document = json.loads(read_text(path, CDKTF_JSON))
    except json.JSONDecodeError as error:
        raise InputError(
            at(path, error.lineno),
            f"not valid JSON: {error.msg} (column {error.colno}); fix: correct the syntax",
        ) from None
    if not isinstance(document, dict):
        raise InputError(path, 'expected a JSON object such as {"app": "python main.py"}')
    origins: dict[str, str] = {}
    values: dict[str, str | None] = {}
    for key, default in (("app", None), ("output", DEFAULT_OUTPUT)):
        value = document.get(key, default)
        if not (value is None or (isinstance(value, str) and value.strip())):
            raise InputError(path, f'"{key}" should be a non-empty string (got {value!r})')
        values[key] = value
        if key in document:
            origins["app_command" if key == "app" else "output"] = f"{path}: {key}"
    origins.setdefault("app_command", f"{path} names no app command")
    origins.setdefault("output", f"cdktf default ({DEFAULT_OUTPUT})")
    return values["app"], values["output"] or DEFAULT_OUTPUT, origins


def _with_pyproject(app_dir: Path, app: AppConfig, origins: dict[str, str]) -> AppConfig:
    defaults = {
        "source": "default: the app folder",
        "waivers": "default: none from the app",
        "policies": "default: none from the app",
    }
    pyproject = app_dir / PYPROJECT
    if not pyproject.is_file():
        return replace(app, origins={**origins, **defaults})
    text = read_text(pyproject, PYPROJECT)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"at line (\d+)", str(error))
        raise InputError(
            at(pyproject, int(line.group(1)) if line else None),
            f"not valid TOML: {error}; fix: correct the syntax",
        ) from None
    raw = document.get("tool", {}).get(TABLE) if isinstance(document.get("tool"), dict) else None
    if raw is None:
        return replace(app, pyproject=pyproject, origins={**origins, **defaults})
    lines = _table_lines(text)

    def locate(loc: Loc) -> str:
        return at(pyproject, nearest_line(lines, loc) or lines.get(()))

    if not isinstance(raw, dict):
        raise InputError(
            locate(()),
            f"[tool.{TABLE}] should be a table; fix: write it as [tool.{TABLE}] with keys below",
        )
    try:
        table = _ToolTable.model_validate(raw)
    except ValidationError as error:
        raise _failure(
            error,
            locate=locate,
            name=lambda loc: f"[tool.{TABLE}] {dotted(loc)}".rstrip(),
            fixes=_TABLE_FIXES,
            known=_ToolTable.model_fields,
        ) from None
    validate_overrides(
        table.settings, lambda loc: locate(("settings", *loc)), f"[tool.{TABLE}.settings]"
    )

    def inside(raw_path: str, loc: Loc, kind: str) -> Path:
        return _inside(app_dir, pyproject, raw_path, locate(loc), kind)

    found = {key: f"{locate((key,))}: [tool.{TABLE}] {key}" for key in raw if key != "settings"}
    for key in table.settings:
        found[f"settings.{key}"] = f"{locate(('settings', key))}: [tool.{TABLE}.settings]"
    source = app.source
    if table.source is not None:
        roots = [inside(item, ("source", i), "source") for i, item in enumerate(table.source)]
        source = _outermost(roots)
    return replace(
        app,
        pyproject=pyproject,
        source=source,
        waivers=inside(table.waivers, ("waivers",), "file") if table.waivers else None,
        policies=tuple(
            inside(item, ("policies", i), "folder") for i, item in enumerate(table.policies)
        ),
        settings_overrides=dict(table.settings),
        drill_environment=dict(table.drills.environment),
        origins={**origins, **defaults, **found},
    )


def _inside(app_dir: Path, pyproject: Path, raw: str, where: str, kind: str) -> Path:
    """``raw`` (relative to the pyproject) resolved, symlinks followed; it must stay in the app."""
    try:
        resolved = (pyproject.parent / raw).resolve(strict=True)
    except FileNotFoundError:
        raise InputError(
            where, f"{raw} does not exist; fix: name a path inside {app_dir}"
        ) from None
    except (OSError, RuntimeError) as error:  # a symlink loop, a permission
        raise InputError(where, f"{raw} cannot be resolved: {error}") from None
    if not resolved.is_relative_to(app_dir):
        raise InputError(
            where,
            f"{raw} resolves to {resolved}, outside the app folder {app_dir}; "
            "fix: name a path inside the app folder",
        )
    wrong = {
        "file": not resolved.is_file(),
        "folder": not resolved.is_dir(),
        "source": not (resolved.is_dir() or resolved.is_file()),
    }[kind]
    if wrong:
        raise InputError(where, f"{raw} is not a {'folder or file' if kind == 'source' else kind}")
    return resolved


def _outermost(paths: list[Path]) -> tuple[Path, ...]:
    """The paths without repeats and without any inside another (scanned once)."""
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(other) for other in kept):
            kept.append(path)
    return tuple(sorted(kept))


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")


def _table_lines(text: str) -> dict[Loc, int]:
    """Best-effort lines of ``[tool.dr-compliance]`` keys: tomllib gives values, not lines."""

    def parts(dotted_key: str) -> tuple[str, ...]:
        return tuple(part.strip().strip("\"'") for part in dotted_key.split("."))

    lines: dict[Loc, int] = {}
    prefix = ("tool", TABLE)
    table: tuple[str, ...] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = parts(header.group(1))
            table = name[2:] if name[:2] == prefix else None
            if table == ():
                lines[()] = number
            continue
        key = _KEY.match(line)
        if key and table is not None:
            lines.setdefault((*table, *parts(key.group(1))), number)
    return lines


def load_app(app_dir: Path) -> AppConfig:
    """The app in ``app_dir`` as its own ``cdktf.json`` and ``pyproject.toml`` describe it.

    Used to synthesize an app (whose output does not exist yet); ``discover``
    is for an output already synthesized.
    """
    app_dir = Path(app_dir).resolve()
    cdktf_json = app_dir / CDKTF_JSON
    if not cdktf_json.is_file():
        raise InputError(cdktf_json, "no cdktf.json: not a CDKTF app folder")
    command, output, origins = _read_cdktf_json(cdktf_json)
    base = AppConfig(
        app_dir,
        app_dir=app_dir,
        cdktf_json=cdktf_json,
        app_command=command,
        output_dir=(app_dir / output).resolve(),
        source=(app_dir,),
    )
    return _with_pyproject(app_dir, base, origins)
