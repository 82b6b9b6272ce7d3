"""``python -m compliance watch``: from a saved file to a verdict in about a second.

One warm process: the app is synthesized in it (:mod:`compliance.app_runner`),
so the jsii runtime and the provider modules are imported once; the policies
are compiled once into one engine (:mod:`compliance.engines.opa_warm`),
compiled again only when a policy or the settings change. Each save under the
app's source folders (``[tool.dr-compliance] source``, default the app folder)
synthesizes again and evaluates; each save under the policy folders evaluates
again. Every evaluation prints one line::

    verdict: 8 passed, 1 failed, 0 waived, 18 not applicable (2 resources);
    changed: DR-ENC-01 passed -> failed [synth 0.41 s, check 0.19 s]

(on one line), then the findings that are new since the previous one. An app
that fails (a syntax error, an exception) is reported in a line and watched
on; the next good save evaluates again. ``cdktf.json`` and the source list are
read at start: restart after changing them. An app command this process
cannot run (not Python) is synthesized in a subprocess on each change
instead, and the start line says so.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sys
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from compliance import cache
from compliance.app_config import AppConfig, load_app
from compliance.app_runner import InProcessApp, SynthFailure, python_command
from compliance.catalogue import POLICY_ROOT
from compliance.errors import InputError
from compliance.evaluation import Evaluation, Status
from compliance.runner import CheckOptions, run_check
from compliance.synth import CdktfApp, input_files, read_app, synthesize_app

EXIT_OK, EXIT_INTERRUPTED = 0, 130
# watchfiles groups the events of one save (an editor's write, rename, chmod):
# it yields once nothing new arrived for STEP_MS, or after DEBOUNCE_MS at most.
STEP_MS, DEBOUNCE_MS = 50, 400
# With no event for this long the loop wakes up and compares the source's
# digest anyway: a change made while the watcher was starting is not lost.
IDLE_CHECK_MS = 5000
# New findings printed under a verdict line; the reports hold every one.
MAX_NEW = 20


def add_parser(commands: Any) -> None:
    """Register the ``watch`` subcommand on the main parser's subparsers."""
    watch = commands.add_parser(
        "watch", help="re-synthesize and re-check the app on every save (Ctrl-C stops)"
    )
    watch.add_argument(
        "--app", type=Path, default=Path("."), help="the CDKTF app folder (its cdktf.json)"
    )
    watch.add_argument(
        "--report-dir", type=Path, default=None, help="rewrite the reports here after each check"
    )
    watch.add_argument("--policies", type=Path, default=POLICY_ROOT)
    watch.add_argument("--waivers", type=Path, default=None)
    watch.add_argument("--settings", type=Path, default=None)


@dataclass(frozen=True)
class Snapshot:
    """What a verdict line compares with the previous one."""

    statuses: dict[str, Status]
    findings: frozenset[tuple[str, str, str, str]]  # open ones: requirement, stack, address, text

    @classmethod
    def of(cls, evaluation: Evaluation) -> Snapshot:
        return cls(
            {result.requirement.id: result.status for result in evaluation.results},
            frozenset(
                (f.requirement, f.stack, f.address, f.message)
                for f in evaluation.findings
                if f.waiver is None
            ),
        )


def render_verdict(
    evaluation: Evaluation, previous: Snapshot | None, timing: str
) -> tuple[list[str], Snapshot]:
    """The verdict line, then the new findings (and how many went away)."""
    current = Snapshot.of(evaluation)
    summary = evaluation.summary()
    counts = (
        f"{summary[Status.PASSED.value]} passed, {summary[Status.FAILED.value]} failed, "
        f"{summary[Status.WAIVED.value]} waived, "
        f"{summary[Status.NOT_APPLICABLE.value]} not applicable "
        f"({summary['resources']} resources)"
    )
    if previous is None:
        change = "first evaluation"
    else:
        changed = [
            f"{rid} {previous.statuses[rid].value} -> {status.value}"
            if rid in previous.statuses
            else f"{rid} new ({status.value})"
            for rid, status in current.statuses.items()
            if previous.statuses.get(rid) is not status
        ]
        change = f"changed: {', '.join(changed)}" if changed else "no requirement changed"
    lines = [f"verdict: {counts}; {change} [{timing}]"]
    new = sorted(current.findings - (previous.findings if previous else frozenset()))
    lines += [
        f"  new: {rid} {stack}/{address}: {text}" for rid, stack, address, text in new[:MAX_NEW]
    ]
    if len(new) > MAX_NEW:
        lines.append(f"  ... and {len(new) - MAX_NEW} more new findings (--report-dir lists all)")
    if previous is not None:
        gone = len(previous.findings - current.findings)
        if gone:
            lines.append(f"  resolved: {gone} finding(s)")
    return lines, current


class WatchSession:
    """One app, its warm synth and warm engine, and the last verdict."""

    def __init__(
        self,
        app_dir: Path,
        options: CheckOptions,
        report_dir: Path | None = None,
        *,
        out: TextIO | None = None,
        synth_cache: Path | None = None,
    ) -> None:
        self.app: AppConfig = load_app(app_dir)
        self.config: CdktfApp = read_app(app_dir)
        self.options = options
        self.report_dir = report_dir.resolve() if report_dir is not None else None
        self.out = out or sys.stdout
        self.synth_cache = synth_cache  # the subprocess synth's cache (default: the user's)
        command = python_command(self.config)
        self.runner = InProcessApp(self.config, command) if command is not None else None
        self.engine = _warm_engine()
        self.scratch = self.config.outdir.parent / cache.temporary_name("watch")
        self._digest: str | None = None
        self._output: Path | None = None  # the last output that synthesized
        self._trash: list[Path] = []  # removed after the verdict line
        self.snapshot: Snapshot | None = None
        self.evaluations = 0

    # -- what is watched -------------------------------------------------------

    def source_roots(self) -> list[Path]:
        return self.app.source_roots()

    def policy_roots(self) -> list[Path]:
        return _outermost([self.options.policy_root.resolve(), *self.app.policies])

    def watched(self) -> list[Path]:
        return _outermost([*self.source_roots(), *self.policy_roots()])

    def ignored(self) -> list[Path]:
        """Folders whose changes are the harness's own writes, never the user's saves."""
        found = [self.config.outdir, self.scratch]
        if self.report_dir is not None:
            found.append(self.report_dir)
        return found

    def relevant(self, path: Path) -> bool:
        path = Path(os.path.abspath(path))
        if any(part.startswith(cache.TEMP_PREFIX) for part in path.parts):
            return False
        if any(path.is_relative_to(folder) for folder in self.ignored()):
            return False
        return any(path.is_relative_to(root) for root in self.watched())

    def describe(self) -> str:
        how = (
            f"in process ({self.runner.describe()})"
            if self.runner is not None
            else f"in a subprocess on each change: `{' '.join(self.config.command)}` is not a "
            "Python command this process can run"
        )
        watched = ", ".join(_shown(path, self.config.root) for path in self.watched())
        return f"watch: {self.config.root}: synthesizing {how}; watching {watched}; Ctrl-C stops"

    # -- one round -------------------------------------------------------------

    def source_digest(self) -> str:
        """SHA-256 over the app's source files (and cdktf.json): what a synth depends on."""
        sha = hashlib.sha256()
        files = input_files(self.config.root, exclude=self.ignored(), sources=self.source_roots())
        for path in files:
            sha.update(str(path).encode() + b"\0")
            try:
                sha.update(cache.digest_of_file(path).encode())
            except OSError:
                sha.update(b"unreadable")
        return sha.hexdigest()

    def cycle(self, changed: Collection[Path] = ()) -> bool:
        """Synthesize if the source changed, evaluate if anything did; True if a verdict printed."""
        try:
            return self._cycle(changed)
        finally:  # the last run's scratch and the replaced output go once the verdict is out
            for path in self._trash:
                cache.remove(path)
            self._trash.clear()

    def _cycle(self, changed: Collection[Path]) -> bool:
        digest = self.source_digest()
        synth_needed = digest != self._digest
        policies_changed = any(
            not any(Path(p).is_relative_to(root) for root in self.source_roots()) for p in changed
        )
        if not synth_needed and not policies_changed and self.snapshot is not None:
            return False
        synth_seconds = None
        if synth_needed:
            self._digest = digest
            started = time.perf_counter()
            try:
                self._output = self._synthesize()
            except (SynthFailure, InputError) as failure:
                self._output = None
                self._print(f"synth failed: {failure}")
                self._print("  watching: the next save synthesizes again")
                return False
            synth_seconds = time.perf_counter() - started
        if self._output is None:
            return False  # the source does not synthesize: nothing to judge yet
        started = time.perf_counter()
        try:
            evaluation = run_check(self._output, self.options, engine=self.engine)
        except InputError as error:
            self._print(f"check failed: {error}")
            return False
        check_seconds = time.perf_counter() - started
        timing = f"check {check_seconds:.2f} s"
        if synth_seconds is not None:
            timing = f"synth {synth_seconds:.2f} s, {timing}"
        lines, self.snapshot = render_verdict(evaluation, self.snapshot, timing)
        self.evaluations += 1
        self._print("\n".join(lines))
        if self.report_dir is not None:
            self._write_reports(evaluation)
        return True

    def _synthesize(self) -> Path:
        if self.runner is None:
            exclude = [self.report_dir] if self.report_dir is not None else []
            return synthesize_app(
                self.config.root, cache_dir=self.synth_cache, exclude=exclude
            ).outdir
        run = self.scratch / f"run-{self.runner.runs}"
        self._trash.append(run)
        fresh = self.runner.synth(run)
        self._trash.append(publish(fresh, self.config.outdir))
        return self.config.outdir

    def _write_reports(self, evaluation: Evaluation) -> None:
        from compliance.reports import writer

        assert self.report_dir is not None
        drills = self.report_dir / writer.DRILLS
        try:
            writer.write_reports(
                evaluation,
                self.report_dir,
                drills=drills if drills.is_file() else None,
                notes=["written by watch: the features were not run"],
            )
        except (InputError, OSError) as error:
            self._print(f"reports not written: {error}")

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.shutdown()
        cache.remove(self.scratch)


def publish(fresh: Path, target: Path) -> Path:
    """Rename ``fresh`` into place as ``target`` (beside it: one rename, no copy).

    ``target`` is replaced only when it is absent, empty or an earlier synth,
    as ``compliance.synth`` does. Returns where the replaced output was moved,
    for the caller to remove when it has time.
    """
    if target.exists() and not (
        (target / "manifest.json").is_file() or (target.is_dir() and not any(target.iterdir()))
    ):
        raise InputError(
            target, "exists and holds no manifest.json (not a synth output): not replacing it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.parent / cache.temporary_name(target.name)
    try:
        if target.exists() or target.is_symlink():
            target.rename(old)
        fresh.rename(target)
    finally:
        if old.exists() and not target.exists():  # interrupted between the renames
            old.rename(target)
    return old


def watch_loop(session: WatchSession, events: Iterable[Collection[tuple[Any, str]]]) -> None:
    """Evaluate once, then once per batch of file changes."""
    session.cycle()
    for changes in events:
        watch_loop_round(session, changes)


def watch_loop_round(session: WatchSession, changes: Collection[tuple[Any, str]]) -> bool:
    """One batch of (change, path) events; an empty batch is an idle check of the digest."""
    paths = [Path(path) for _, path in changes]
    relevant = [path for path in paths if session.relevant(path)]
    if paths and not relevant:
        return False
    return session.cycle(relevant)


def file_events(session: WatchSession) -> Iterable[Collection[tuple[Any, str]]]:
    """The watched folders' changes, batched per save, skipping the harness's own writes."""
    import watchfiles

    class _Filter(watchfiles.DefaultFilter):
        def __call__(self, change: watchfiles.Change, path: str) -> bool:
            return super().__call__(change, path) and session.relevant(Path(path))

    return watchfiles.watch(
        *session.watched(),
        watch_filter=_Filter(),
        step=STEP_MS,
        debounce=DEBOUNCE_MS,
        rust_timeout=IDLE_CHECK_MS,
        yield_on_timeout=True,
        raise_interrupt=True,
    )


def run(args: argparse.Namespace) -> int:
    """The ``watch`` command: watch until Ctrl-C (exit 130)."""
    _require_watchfiles()
    options = CheckOptions(policy_root=args.policies, waivers=args.waivers, settings=args.settings)
    session = WatchSession(args.app, options, args.report_dir)
    print(session.describe(), file=sys.stderr, flush=True)
    # Stopped by a supervisor (SIGTERM): the same clean exit as Ctrl-C. SIGINT is
    # handled even when inherited as ignored (a background job of a non-interactive
    # shell, as CI runs jobs): the watch owns its process, as the drill command does.
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        watch_loop(session, file_events(session))
    except KeyboardInterrupt:
        print("watch: stopped", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        session.close()
    return EXIT_OK


def _require_watchfiles() -> None:
    """Before the first synth: without file events there is nothing to watch."""
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        raise InputError(
            "watchfiles",
            "not installed: pip install 'dr-compliance-harness[watch]' (or watchfiles==1.3.0)",
        ) from None


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _warm_engine() -> Any:
    """The compiled-once engine; None with ``OPA_URL`` (each check then uses the server)."""
    if os.environ.get("OPA_URL", "").strip():
        return None
    from compliance.engines.opa_warm import WarmOpaEngine

    return WarmOpaEngine()


def _outermost(paths: list[Path]) -> list[Path]:
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(other) for other in kept):
            kept.append(path)
    return sorted(kept)


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
