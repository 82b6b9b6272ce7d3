"""Run a CDKTF app's Python command inside this process, again and again, warm.

``compliance.synth`` runs an app in a child process: right for one synth,
too slow for a loop, since each child pays the jsii runtime's start and the
provider bindings' import (seconds, FIELD_NOTES) before the app's own work.
Here the app runs as its ``cdktf.json`` says (``python main.py`` through
``runpy.run_path``, ``python -m pkg.main`` through ``runpy.run_module``) in
this interpreter: the jsii runtime, ``cdktf`` and the provider modules stay
imported between runs, and only the app's own modules are purged from
``sys.modules`` first, so its edits take effect.

Each run sees what the child process would: the app folder as working
directory and on ``sys.path``, ``sys.argv`` from the command,
``CDKTF_OUTDIR`` and ``TMPDIR`` (and ``tempfile``'s folder) in a scratch
folder, ``cdktf.json``'s ``context``; its stdout and stderr are kept, not
printed. The Node.js side of jsii read its environment once, when it
started, so the output folder and the context are also handed to every
``cdktf.App`` the app creates without an explicit ``outdir`` (what the
environment would have done).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import json
import os
import re
import runpy
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from compliance.environment import temporary_environment
from compliance.synth import CdktfApp

# Words of a cdktf.json command that mean "this interpreter" (as compliance.synth reads them).
_PYTHON = frozenset({"python", "python3"})
_LAUNCHERS = frozenset({"pipenv", "poetry", "uv", "pdm", "hatch", "rye"})
# Interpreter options that change nothing a synth can see.
_HARMLESS_OPTIONS = frozenset({"-u", "-B"})
# Folders under an app that hold installed packages, not the app's own modules.
_NOT_APP = frozenset({"site-packages", "dist-packages", ".venv", "venv", ".tox", "node_modules"})
_HARNESS = Path(__file__).resolve().parent


class SynthFailure(Exception):
    """The app failed; ``where`` is its own file and line when its traceback names one."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = " ".join(reason.split())[:300]
        super().__init__(f"{where}: {self.reason}")


@dataclass(frozen=True)
class PythonCommand:
    """An app command this process can run: a script path or a module name, and its argv."""

    kind: str  # "script" or "module"
    target: str
    argv: tuple[str, ...]


def python_command(config: CdktfApp) -> PythonCommand | None:
    """``cdktf.json``'s command as a script or module run; None when it is anything else."""
    command = list(config.command)
    if len(command) > 2 and command[0] in _LAUNCHERS and command[1] == "run":
        command = command[2:]
    if not command or command[0] not in _PYTHON:
        return None
    rest = command[1:]
    while rest and rest[0] in _HARMLESS_OPTIONS:
        rest = rest[1:]
    if len(rest) >= 2 and rest[0] == "-m":
        return PythonCommand("module", rest[1], (rest[1], *rest[2:]))
    if rest and not rest[0].startswith("-"):
        return PythonCommand("script", rest[0], tuple(rest))
    return None


class InProcessApp:
    """One app, run in this process as many times as asked."""

    def __init__(self, config: CdktfApp, command: PythonCommand) -> None:
        self.config = config
        self.command = command
        self.runs = 0
        # Loaded once, before the first run: jsii's Node.js runtime starts here.
        os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

    @property
    def import_root(self) -> Path:
        """``sys.path[0]`` of the app's own process: the script's folder, or the app folder."""
        if self.command.kind == "script":
            return (self.config.root / self.command.target).resolve().parent
        return self.config.root

    def describe(self) -> str:
        return " ".join(self.config.command)

    def synth(self, scratch: Path) -> Path:
        """Run the app once with its output in ``scratch/out``; return that folder.

        Raises :class:`SynthFailure` when the app raises, exits non-zero or
        writes no ``manifest.json``; ``KeyboardInterrupt`` passes through.
        """
        out, tmp = scratch / "out", scratch / "tmp"
        tmp.mkdir(parents=True)
        if not self.runs:
            self._start_jsii()
        purge_modules(self.config.root, self.import_root)
        importlib.invalidate_caches()  # a module created since the last run must be found
        kept = io.StringIO()
        try:
            with self._as_the_app(out, tmp, kept):
                self._run()
        except SystemExit as done:
            if done.code not in (None, 0):
                raise SynthFailure(
                    str(self.config.path), f"the app exited {done.code}: {_last_line(kept)}"
                ) from None
        except SyntaxError as error:
            raise SynthFailure(_syntax_where(error), f"SyntaxError: {error.msg}") from None
        except Exception as error:  # the app's own exception: reported, never raised further
            raise SynthFailure(
                _where(error, self.config.root, self.config.path), _what(error)
            ) from None
        finally:
            self.runs += 1
        if not (out / "manifest.json").is_file():
            raise SynthFailure(
                str(self.config.path),
                f"the app ({self.describe()}) wrote no manifest.json into CDKTF_OUTDIR: "
                "does it call app.synth()?",
            )
        return out

    def _start_jsii(self) -> None:
        """Start jsii's Node.js runtime in the app folder, as the app's own process would.

        Node resolves relative paths (``TerraformAsset(path="lambda")``) against
        its working directory, fixed when it starts; its runtime files go to the
        usual temporary folder, not into the first run's scratch folder.
        """
        cwd = os.getcwd()
        os.chdir(self.config.root)
        try:
            with _children_in_own_session():
                import cdktf  # noqa: F401  (loads its jsii assembly: the runtime starts)
        except ImportError:
            pass  # the app's own import fails the same way, and is reported as its failure
        finally:
            os.chdir(cwd)

    def _run(self) -> None:
        root = self.config.root
        if self.command.kind == "module":
            runpy.run_module(self.command.target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(str(root / self.command.target), run_name="__main__")

    @contextlib.contextmanager
    def _as_the_app(self, out: Path, tmp: Path, kept: io.StringIO) -> Iterator[None]:
        """Everything a child process of the app would see, for the length of one run."""
        root = self.config.root
        env = {"CDKTF_OUTDIR": str(out), "TMPDIR": str(tmp)}
        if self.config.context:
            env["CDKTF_CONTEXT_JSON"] = json.dumps(self.config.context)
        saved = (os.getcwd(), sys.argv, list(sys.path), tempfile.tempdir)
        saved_bytecode = (sys.dont_write_bytecode, sys.pycache_prefix)
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(temporary_environment(env))
                os.chdir(root)
                sys.argv = list(self.command.argv)
                sys.path.insert(0, str(self.import_root))
                tempfile.tempdir = str(tmp)
                if self.runs:
                    # After the first run, compile the app's modules from their source:
                    # a cached .pyc is trusted on (mtime in seconds, size), which a
                    # one-character edit within the same second keeps. Modules already
                    # imported (the provider's) are not compiled again.
                    sys.dont_write_bytecode = True
                    sys.pycache_prefix = str(tmp / "no-pycache")
                stack.enter_context(contextlib.redirect_stdout(kept))
                stack.enter_context(contextlib.redirect_stderr(kept))
                stack.enter_context(_default_outdir(out, self.config.context, root))
                yield
        finally:
            cwd, sys.argv, sys.path[:], tempfile.tempdir = saved
            sys.dont_write_bytecode, sys.pycache_prefix = saved_bytecode
            os.chdir(cwd)


class _OwnSessionPopen(subprocess.Popen):  # type: ignore[type-arg]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("start_new_session", True)
        super().__init__(*args, **kwargs)


@contextlib.contextmanager
def _children_in_own_session() -> Iterator[None]:
    """Start jsii's Node.js runtime in a session of its own.

    Ctrl-C in a terminal then reaches this process alone, which stops the
    runtime through jsii's exit hook; a runtime killed by the same Ctrl-C
    makes that hook print a BrokenPipeError traceback. The runtime still
    ends with this process, whatever kills it: it exits when its stdin closes.
    """
    original = subprocess.Popen
    subprocess.Popen = _OwnSessionPopen  # type: ignore[misc]
    try:
        yield
    finally:
        subprocess.Popen = original  # type: ignore[misc]


@contextlib.contextmanager
def _default_outdir(out: Path, context: dict[str, Any], root: Path) -> Iterator[None]:
    """Give ``cdktf.App`` the output folder and context its environment would have given.

    jsii's Node.js process copied its environment when it started, so
    ``CDKTF_OUTDIR`` set for this run never reaches ``App`` there; a relative
    ``outdir`` resolves against the app folder, as in the app's own process.
    """
    import cdktf

    original = cdktf.App.__init__

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        outdir = kwargs.get("outdir")
        kwargs["outdir"] = str(out if outdir is None else root / outdir)
        if context:
            kwargs["context"] = {**(kwargs.get("context") or {}), **context}
        original(self, *args, **kwargs)

    cdktf.App.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        cdktf.App.__init__ = original  # type: ignore[method-assign]


def is_app_file(path: Path, root: Path) -> bool:
    """A file of the app itself: under its folder, not the harness's, not an installed package."""
    if not path.is_relative_to(root) or path.is_relative_to(_HARNESS):
        return False
    return not _NOT_APP.intersection(path.relative_to(root).parts[:-1])


def purge_modules(root: Path, import_root: Path | None = None) -> list[str]:
    """Forget the app's own modules (so the next run imports its edits); keep all others.

    The app's own: a module loaded from the app folder, or one whose top-level
    name the app's ``import_root`` provides (another app's ``stacks`` package,
    say) unless it comes from Python's or the environment's packages.
    """
    provided = _top_level_names(import_root) if import_root is not None else set()
    purged = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            continue
        if _is_app_module_file(file, root) or (
            name.partition(".")[0] in provided and not _is_installed(file)
        ):
            del sys.modules[name]
            purged.append(name)
    return purged


def _top_level_names(folder: Path) -> set[str]:
    """Modules and packages importable from ``folder``."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return set()
    return {
        entry.stem if entry.suffix == ".py" else entry.name
        for entry in entries
        if entry.suffix == ".py" or (entry.is_dir() and entry.name.isidentifier())
    }


def _is_installed(file: str) -> bool:
    """Part of Python, the environment's packages, or the harness itself."""
    path = Path(file).resolve()
    prefixes = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), _HARNESS}
    return any(path.is_relative_to(prefix) for prefix in prefixes) or bool(
        _NOT_APP.intersection(path.parts)
    )


@functools.lru_cache(maxsize=16384)
def _is_app_module_file(file: str, root: Path) -> bool:
    """Memoized: resolving the path of each of thousands of modules on every run costs ~0.1 s."""
    try:
        return is_app_file(Path(file).resolve(), root)
    except (OSError, RuntimeError):
        return False


def _syntax_where(error: SyntaxError) -> str:
    if error.filename is None:
        return "<app>"
    return f"{error.filename}:{error.lineno}" if error.lineno else error.filename


def _where(error: BaseException, root: Path, fallback: Path) -> str:
    """The deepest frame of the traceback that is the app's own file (else ``cdktf.json``)."""
    where = str(fallback)
    for frame in traceback.extract_tb(_tb(error)):
        path = Path(frame.filename)
        if path.is_absolute() and is_app_file(path.resolve(), root):
            where = f"{path}:{frame.lineno}"
    return where


def _tb(error: BaseException) -> TracebackType | None:
    return error.__traceback__


def _what(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


_NOISE = re.compile(r"^(\(node:\d+\)|\(Use `node )")


def _last_line(kept: io.StringIO) -> str:
    lines = [
        line.strip()
        for line in kept.getvalue().splitlines()
        if re.search(r"\w", line) and not _NOISE.match(line.strip())
    ]
    return lines[-1] if lines else "no message"
