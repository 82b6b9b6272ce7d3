"""Synthesize any CDKTF app from its ``cdktf.json``, once per content hash.

The app runs as its ``cdktf.json`` says (the ``app`` command, in the app's
folder, with ``CDKTF_OUTDIR`` pointing at a scratch folder and the file's
``context`` in ``CDKTF_CONTEXT_JSON``, as the cdktf CLI does), in a child
process: jsii starts a Node.js process and loads the provider assembly,
memory the harness should not keep. ``python``/``python3`` as the command's
first word means this interpreter, whose packages the harness pins.

The output is cached in the user's cache folder (:mod:`compliance.cache`)
under a hash of everything that determines it: ``cdktf.json``, the app's
files, the versions of the packages that shape the JSON and Python's. An
unchanged app is never synthesized twice, not even by two runs at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from compliance import cache
from compliance.errors import InputError

# The harness's own repository: the default app (its cdktf.json runs infrastructure.main).
REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG = "cdktf.json"
PINNED = ("cdktf", "cdktf-cdktf-provider-aws", "constructs", "jsii")
DEFAULT_TIMEOUT = 900.0

# Never inputs of an app: version control, environments, caches, editors, Terraform's state.
_SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "__pycache__", "node_modules",
    ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".cache", ".eggs", ".idea",
    ".vscode", ".terraform", "htmlcov",
})  # fmt: skip
_SKIP_SUFFIXES = (".pyc", ".pyo", ".tfstate", ".tfstate.backup")
_SKIP_FILES = frozenset({".coverage", ".DS_Store", "cdktf.log"})
# A folder holding one of these is a virtual environment (or a conda one), whatever its name.
_ENV_MARKERS = ("pyvenv.cfg", "conda-meta")
_PYTHON = frozenset({"python", "python3"})
# Environment managers' launchers (cdktf's Python template says "pipenv run python main.py"):
# the app runs on this interpreter instead, whose package versions are in the cache key.
_LAUNCHERS = frozenset({"pipenv", "poetry", "uv", "pdm", "hatch", "rye"})
# A traceback frame: where a failed app says it failed.
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
_NOISE = re.compile(r"^(\(node:\d+\)|\(Use `node )")

# Runs in the child before the app: on Linux, die with the harness even when it is
# SIGKILLed (the scratch folder is then left for the sweep), then become the app.
_LAUNCHER = """\
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except (AttributeError, OSError):
    pass
if os.getppid() != int(sys.argv[1]):
    os._exit(137)  # the harness died before prctl: nobody waits for this synth
os.execvp(sys.argv[2], sys.argv[2:])
"""


@dataclass(frozen=True)
class SynthResult:
    outdir: Path
    digest: str
    from_cache: bool
    seconds: float
    app_root: Path = field(default=REPO_ROOT)


@dataclass(frozen=True)
class CdktfApp:
    """What ``cdktf.json`` tells the harness about an app."""

    root: Path
    command: tuple[str, ...]
    output: str = "cdktf.out"
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.root / CONFIG

    @property
    def outdir(self) -> Path:
        return (self.root / self.output).resolve()


def read_app(app_root: Path = REPO_ROOT) -> CdktfApp:
    """Read ``<app_root>/cdktf.json``; anything unusable is an :class:`InputError` naming it."""
    root = Path(app_root).resolve()
    path = root / CONFIG
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no cdktf.json: not the folder of a CDKTF app") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read it: {error}") from None
    except json.JSONDecodeError as error:
        raise InputError(path, f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise InputError(path, "expected a JSON object")
    app = document.get("app")
    if not isinstance(app, str) or not app.strip():
        raise InputError(path, 'no "app" command (e.g. "app": "python3 main.py")')
    try:
        command = shlex.split(app)
    except ValueError as error:
        raise InputError(path, f'"app" is not a valid command line: {error}') from None
    output = document.get("output", "cdktf.out")
    if not isinstance(output, str) or not output.strip():
        raise InputError(path, '"output" must be a folder name (e.g. "cdktf.out")')
    context = document.get("context", {})
    if not isinstance(context, dict):
        raise InputError(path, '"context" must be a JSON object')
    return CdktfApp(root, tuple(command), output, context)


def pinned_versions() -> dict[str, str]:
    """Versions of the packages that shape the synthesized JSON."""
    found = {}
    for name in PINNED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    return found


def input_files(
    app_root: Path = REPO_ROOT,
    *,
    exclude: Iterable[Path] = (),
    sources: Sequence[str | Path] | None = None,
) -> list[Path]:
    """The app's inputs: ``cdktf.json`` and its files (or only those under ``sources``).

    Skipped: ``exclude`` (the output folder), version control, virtual
    environments, caches, ``__pycache__``, and the harness's own temporary
    names (a parallel run's half-copied output must not change the hash).
    """
    root = Path(app_root).resolve()
    skipped = {Path(path).resolve() for path in exclude}
    tops = [root] if sources is None else [(root / source).resolve() for source in sources]
    files = {root / CONFIG}
    for top in tops:
        if top.is_file():
            files.add(top)
            continue
        for folder, dirs, names in os.walk(top):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if not _skip_dir(here / d, skipped))
            files.update(here / name for name in names if not _skip_file(name))
    return sorted(path for path in files if path.is_file() or path.is_symlink())


def _skip_dir(path: Path, skipped: set[Path]) -> bool:
    return (
        path.name in _SKIP_DIRS
        or path.name.startswith(cache.TEMP_PREFIX)
        or path.name.endswith(".egg-info")
        or path in skipped
        or any((path / marker).exists() for marker in _ENV_MARKERS)
    )


def _skip_file(name: str) -> bool:
    return (
        name in _SKIP_FILES
        or name.endswith(_SKIP_SUFFIXES)
        or name.startswith((cache.TEMP_PREFIX, ".coverage."))
    )


def content_hash(
    app_root: Path = REPO_ROOT,
    *,
    sources: Sequence[str | Path] | None = None,
    exclude: Iterable[Path] = (),
) -> str:
    """SHA-256 over the app's inputs, the pinned versions and Python's version.

    The app's own output folder (``cdktf.json``'s ``output``) is never an
    input. A link is hashed by where it points, not by what it reads: a
    link out of the app folder is not followed.
    """
    root = Path(app_root).resolve()
    config = read_app(root)
    sha = hashlib.sha256()
    for name, number in sorted(pinned_versions().items()):
        sha.update(f"{name}=={number}\n".encode())
    sha.update(f"python {sys.version_info.major}.{sys.version_info.minor}\n".encode())
    for path in input_files(root, exclude=[config.outdir, *exclude], sources=sources):
        sha.update(Path(os.path.relpath(path, root)).as_posix().encode() + b"\0")
        if path.is_symlink():
            sha.update(b"-> " + os.readlink(path).encode() + b"\0")
        else:
            sha.update(cache.digest_of_file(path).encode() + b"\0")
    return sha.hexdigest()


def synthesize(
    app_root: Path = REPO_ROOT,
    outdir: Path | None = None,
    cache_dir: Path | None = None,
    *,
    sources: Sequence[str | Path] | None = None,
    exclude: Iterable[Path] = (),
    timeout: float | None = DEFAULT_TIMEOUT,
    progress: Callable[[str], None] | None = None,
) -> SynthResult:
    """Synthesize the app at ``app_root`` into ``outdir`` (default: its ``cdktf.json`` output).

    ``cache_dir`` holds the entries (default: ``synth`` in the user cache).
    The hashed inputs are the whole app folder, or only ``sources`` (folders
    or files, relative to the app), less ``exclude`` (e.g. a report folder
    the caller writes inside the app). ``outdir`` is replaced only if it is
    absent, empty or an earlier synth (it holds a ``manifest.json``).
    ``progress`` is told what the synth is doing (:class:`compliance.progress.Step`).
    """
    started = time.perf_counter()
    say = progress or (lambda doing: None)
    config = read_app(app_root)
    target = Path(outdir).resolve() if outdir is not None else config.outdir
    store = cache.Store(cache_dir or cache.cache_folder("synth"))
    digest = content_hash(config.root, sources=sources, exclude=[target, store.folder, *exclude])

    def build(scratch: Path) -> Path:
        say(f"running the app ({' '.join(config.command)})")
        return _run_app(config, scratch, timeout)

    entry, from_cache = store.get_or_build(digest, build, _is_complete)
    if target != entry:
        _replace_folder(entry, target, store)
    return SynthResult(target, digest, from_cache, time.perf_counter() - started, config.root)


def _is_complete(entry: Path) -> bool:
    """Only whole entries ever reach their final name; the manifest is the app's last write."""
    return (entry / "manifest.json").is_file()


def _app_command(config: CdktfApp) -> list[str]:
    """The command line to run: ``python``/``python3`` (after ``pipenv run`` etc.) is this one."""
    command = list(config.command)
    if len(command) > 2 and command[0] in _LAUNCHERS and command[1] == "run":
        if command[2] in _PYTHON:
            command = command[2:]
    program, *rest = command
    if program in _PYTHON:
        return [sys.executable, *rest]
    if "/" not in program and shutil.which(program) is None:
        raise InputError(config.path, f'the app command\'s program "{program}" is not on PATH')
    return [program, *rest]


def _run_app(config: CdktfApp, scratch: Path, timeout: float | None) -> Path:
    """Run the app with ``CDKTF_OUTDIR`` in ``scratch``; return the finished output folder.

    The app gets its own session, so Ctrl-C reaches the harness alone; on any
    exit but success its whole process group (the app and jsii's Node.js) is
    killed. Its temporary files go into ``scratch`` too (``TMPDIR``).
    """
    out, tmp = scratch / "out", scratch / "tmp"
    tmp.mkdir()
    env = {
        **os.environ,
        "CDKTF_OUTDIR": str(out),
        "TMPDIR": str(tmp),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    if config.context:
        env["CDKTF_CONTEXT_JSON"] = json.dumps(config.context)
    command = [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *_app_command(config)]
    with (scratch / "stderr.log").open("wb") as stderr:
        child = subprocess.Popen(
            command,
            cwd=config.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired:
            raise InputError(config.path, f"synth did not finish within {timeout} s") from None
        finally:  # Ctrl-C included: no part of a synth outlives the harness's wait for it
            _kill_group(child)
    if code != 0:
        raise _failure(config, (scratch / "stderr.log").read_bytes(), code)
    if not _is_complete(out):
        raise InputError(
            config.path,
            f"the app ({' '.join(config.command)}) wrote no manifest.json into CDKTF_OUTDIR: "
            "does it call app.synth() on an App() without an explicit outdir?",
        )
    return out


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """SIGKILL the app's process group and reap the app, even if interrupted again."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    while True:
        try:
            child.wait()
            return
        except KeyboardInterrupt:  # a second Ctrl-C must not leave a zombie behind
            continue


def _failure(config: CdktfApp, stderr: bytes, code: int) -> InputError:
    """Name the app's own file where its traceback ends (else cdktf.json) and its last word."""
    lines = stderr[-65536:].decode("utf-8", "replace").splitlines()
    meaningful = [
        line.strip() for line in lines if re.search(r"\w", line) and not _NOISE.match(line.strip())
    ]
    reason = meaningful[-1] if meaningful else f"exit code {code}"
    where: str | Path = config.path
    for line in lines:
        frame = _FRAME.match(line)
        if frame and _is_app_file(config.root / frame.group("file"), config.root):
            where = f"{(config.root / frame.group('file')).resolve()}:{frame.group('line')}"
    return InputError(where, f"synth failed: {reason}")


def _is_app_file(path: Path, root: Path) -> bool:
    """A file of the app itself, not of a package (not even one in the app's own venv)."""
    path = path.resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return False
    folder = root
    for part in path.relative_to(root).parts[:-1]:
        folder = folder / part
        if _skip_dir(folder, set()):
            return False
    return True


def _replace_folder(entry: Path, target: Path, store: cache.Store) -> None:
    """Copy ``entry`` beside ``target``, then swap it in (one writer at a time per target).

    ``target`` is replaced only when it is absent, empty or an earlier synth:
    ``--outdir`` naming a folder of other files must not delete them.
    """
    if target.exists() and not (
        _is_complete(target) or (target.is_dir() and not any(target.iterdir()))
    ):
        raise InputError(
            target, "exists and holds no manifest.json (not a synth output): not replacing it"
        )
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    lock_key = "out-" + hashlib.sha256(str(target).encode()).hexdigest()[:32]
    with store.writing(lock_key):
        cache.sweep_temporaries(parent)  # a killed run's half copies beside the target
        fresh = parent / cache.temporary_name(target.name)
        old = parent / cache.temporary_name(target.name)
        try:
            shutil.copytree(entry, fresh, symlinks=True)
            if target.exists() or target.is_symlink():
                target.rename(old)
            fresh.rename(target)
        finally:
            if old.exists() and not target.exists():  # interrupted between the renames
                old.rename(target)
            cache.remove(fresh)
            cache.remove(old)


def synthesize_app(
    app_dir: Path,
    outdir: Path | None = None,
    cache_dir: Path | None = None,
    *,
    exclude: Iterable[Path] = (),
    progress: Callable[[str], None] | None = None,
) -> SynthResult:
    """Synthesize the app in ``app_dir``; its hash covers what the app names as its source.

    An app whose ``pyproject.toml`` lists ``[tool.dr-compliance] source`` is
    hashed on those folders and ``cdktf.json`` only, so a report or a test
    written inside the app does not force a new synth; otherwise the whole
    app folder counts.
    """
    from compliance.app_config import load_app  # pydantic is only needed here

    app = load_app(app_dir)
    sources = None
    declared = app.origins.get("source", "")
    if app.app_dir is not None and not declared.startswith("default"):
        sources = [root.relative_to(app.app_dir) for root in app.source_roots()]
    return synthesize(
        Path(app.app_dir or app_dir),
        outdir,
        cache_dir,
        sources=sources,
        exclude=exclude,
        progress=progress,
    )
