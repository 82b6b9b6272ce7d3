"""``python -m compliance watch``: the warm loop, driven through its functions.

One small CDKTF app (one stack, a KMS key and an SNS topic, written with
cdktf's ``TerraformResource`` escape hatch so no provider bindings are
imported) is watched by one session for the whole module: its first
evaluation starts jsii in this process, every later one is warm. Edits are
saved for real and the file-change events handed to the loop; nothing waits
on a clock. One test runs the real command in a child process to show that
Ctrl-C (SIGINT to its process group, as a terminal sends it) ends it with
exit 130, no traceback and no process left behind.
"""

from __future__ import annotations

import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance import watch
from compliance.app_runner import PythonCommand, python_command
from compliance.engines.opa_warm import WarmOpaEngine
from compliance.evaluation import Status
from compliance.reports import writer
from compliance.runner import CheckOptions, run_check
from compliance.synth import CdktfApp, synthesize_app

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / "tests" / "fixtures" / "apps"

MAIN = """\
from cdktf import App

from stacks.alerts import AlertsStack

app = App()
AlertsStack(app, "alerts")
app.synth()
"""

STACK = """\
from cdktf import LocalBackend, TerraformResource, TerraformStack

ROTATION = True
TAGS = {"Environment": "test", "Owner": "team", "DRTier": "1"}


class AlertsStack(TerraformStack):
    def __init__(self, scope, id_):
        super().__init__(scope, id_)
        LocalBackend(self, path="alerts.tfstate")
        provider = {"region": "us-east-1", "default_tags": [{"tags": TAGS}]}
        self.add_override("provider", {"aws": [provider]})
        key = TerraformResource(self, "key", terraform_resource_type="aws_kms_key")
        key.add_override("enable_key_rotation", ROTATION)
        key.add_override("deletion_window_in_days", 30)
        topic = TerraformResource(self, "topic", terraform_resource_type="aws_sns_topic")
        topic.add_override("name", "alerts")
        topic.add_override("kms_master_key_id", "${aws_kms_key.key.arn}")
"""
GOOD, BROKEN = "ROTATION = True", "ROTATION = False"
KEY_FINDING = "DR-ENC-01 alerts/aws_kms_key.key:"


def write_app(folder: Path) -> Path:
    (folder / "stacks").mkdir(parents=True)
    (folder / "cdktf.json").write_text(
        '{"language": "python", "app": "python main.py", "output": "cdktf.out"}\n'
    )
    (folder / "main.py").write_text(MAIN)
    (folder / "stacks" / "__init__.py").write_text("")
    (folder / "stacks" / "alerts.py").write_text(STACK)
    return folder


class Printed(io.StringIO):
    """The session's output; ``new()`` is what was printed since the last call."""

    def __init__(self) -> None:
        super().__init__()
        self._seen = 0

    def new(self) -> list[str]:
        text = self.getvalue()
        lines, self._seen = text[self._seen :].splitlines(), len(text)
        return lines


class Watched:
    """The module's session, its app, and a save that hands the loop its event."""

    def __init__(self, session: watch.WatchSession, app: Path, printed: Printed) -> None:
        self.session, self.app, self.printed = session, app, printed
        self.first = printed.new()  # what the first round printed
        self.stack = app / "stacks" / "alerts.py"

    def save(self, path: Path, text: str) -> list[str]:
        """Save ``text`` as an editor would, run one round of the loop on its event."""
        path.write_text(text)
        watch.watch_loop_round(self.session, {("modified", str(path))})
        return self.printed.new()

    def save_stack(self, text: str) -> list[str]:
        return self.save(self.stack, text)

    def reset(self) -> None:
        """Bring the app back to its good source, whatever a previous test left."""
        self.save_stack(STACK)


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watched]:
    folder = tmp_path_factory.mktemp("watch")
    app = write_app(folder / "app")
    policies = folder / "policies"
    shutil.copytree(REPO_ROOT / "policies", policies, ignore=shutil.ignore_patterns("*_test.rego"))
    printed = Printed()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("OPA_URL", raising=False)  # the warm engine is the in-process one
        session = watch.WatchSession(
            app, CheckOptions(policy_root=policies), folder / "reports", out=printed
        )
    try:
        session.cycle()
        yield Watched(session, app, printed)
    finally:
        session.close()


def verdicts(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("verdict:")]


def test_the_first_evaluation_prints_one_verdict_line(watched: Watched) -> None:
    first = watched.first
    assert len(verdicts(first)) == 1
    assert "first evaluation" in first[0] and "(2 resources)" in first[0]
    assert watched.session.snapshot is not None
    assert watched.session.snapshot.statuses["DR-ENC-01"] is Status.PASSED


def test_a_breaking_save_names_the_changed_requirement_and_the_new_finding(
    watched: Watched,
) -> None:
    watched.reset()
    lines = watched.save_stack(STACK.replace(GOOD, BROKEN))
    (line,) = verdicts(lines)
    assert "changed: DR-ENC-01 passed -> failed" in line
    assert "[synth " in line
    new = [entry for entry in lines if entry.startswith("  new: ")]
    assert len(new) == 1 and KEY_FINDING in new[0] and "enable_key_rotation" in new[0]
    # The reports folder was rewritten from this evaluation.
    document = json.loads((watched.session.report_dir / writer.JSON).read_text())
    statuses = {r["id"]: r["status"] for r in document["requirements"]}
    assert statuses["DR-ENC-01"] == "failed"

    lines = watched.save_stack(STACK)
    (line,) = verdicts(lines)
    assert "changed: DR-ENC-01 failed -> passed" in line
    assert "  resolved: 1 finding(s)" in lines
    assert not [entry for entry in lines if entry.startswith("  new: ")]


def test_a_save_that_changes_nothing_prints_nothing(watched: Watched) -> None:
    watched.reset()
    assert watched.save_stack(STACK) == []


def test_a_syntax_error_is_reported_and_the_next_good_save_recovers(watched: Watched) -> None:
    watched.reset()
    lines = watched.save_stack(STACK.replace(GOOD, "ROTATION = = True"))
    assert 1 <= len(lines) <= 2
    assert lines[0].startswith(f"synth failed: {watched.stack}:3: SyntaxError")
    assert not verdicts(lines)

    lines = watched.save_stack(STACK.replace(GOOD, BROKEN))
    (line,) = verdicts(lines)
    assert "DR-ENC-01 passed -> failed" in line  # against the last verdict, before the error


def test_an_exception_in_the_app_is_named_at_its_own_line(watched: Watched) -> None:
    watched.reset()
    raising = STACK.replace(
        '        key = TerraformResource(self, "key"',
        '        raise RuntimeError("no key today")\n        key = TerraformResource(self, "key"',
    )
    line_number = raising.splitlines().index('        raise RuntimeError("no key today")') + 1
    lines = watched.save_stack(raising)
    assert lines[0] == f"synth failed: {watched.stack}:{line_number}: RuntimeError: no key today"
    assert not verdicts(lines)
    (line,) = verdicts(watched.save_stack(STACK))
    assert line.startswith("verdict:")


def test_a_new_module_of_the_app_is_imported_fresh(watched: Watched) -> None:
    watched.reset()
    settings = watched.app / "stacks" / "settings.py"
    settings.write_text("ROTATION = True\n")
    uses_settings = STACK.replace(GOOD, "from stacks.settings import ROTATION")
    watched.save_stack(uses_settings)
    lines = watched.save(settings, "ROTATION = False\n")
    (line,) = verdicts(lines)
    assert "DR-ENC-01 passed -> failed" in line
    settings.unlink()
    watched.reset()


def test_a_policy_change_recompiles_once_without_a_synth(watched: Watched) -> None:
    watched.reset()
    engine = watched.session.engine
    assert isinstance(engine, WarmOpaEngine)
    compiled = engine.compilations
    watched.save_stack(STACK.replace(GOOD, BROKEN))
    watched.save_stack(STACK)
    assert engine.compilations == compiled  # source edits reuse the compiled policies

    policy = watched.session.options.policy_root / "encryption" / "dr_enc_01.rego"
    lines = watched.save(policy, policy.read_text() + "\n# edited\n")
    (line,) = verdicts(lines)
    assert "no requirement changed" in line and "synth" not in line
    assert engine.compilations == compiled + 1


def test_a_change_the_watcher_missed_is_caught_by_the_idle_check(watched: Watched) -> None:
    watched.reset()
    watched.stack.write_text(STACK.replace(GOOD, BROKEN))  # no event reaches the loop
    assert watch.watch_loop_round(watched.session, set())  # the loop's idle wake-up
    (line,) = verdicts(watched.printed.new())
    assert "DR-ENC-01 passed -> failed" in line
    watched.reset()


def test_the_harness_own_writes_never_trigger_a_round(watched: Watched) -> None:
    session = watched.session
    assert session.relevant(watched.stack)
    assert session.relevant(session.options.policy_root / "lib" / "dr.rego")
    assert not session.relevant(session.config.outdir / "manifest.json")
    assert not session.relevant(session.scratch / "run-3" / "out" / "manifest.json")
    assert session.report_dir is not None
    assert not session.relevant(session.report_dir / writer.JSON)
    assert not session.relevant(watched.app.parent / "elsewhere.py")


def test_the_warm_synth_writes_what_a_child_process_writes(
    watched: Watched, tmp_path: Path
) -> None:
    watched.reset()
    copy = write_app(tmp_path / "app")
    child = synthesize_app(copy, cache_dir=tmp_path / "cache").outdir
    warm = watched.session.config.outdir
    names = sorted(p.relative_to(child).as_posix() for p in child.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(warm).as_posix() for p in warm.rglob("*") if p.is_file())
    for name in names:
        assert (warm / name).read_bytes() == (child / name).read_bytes(), name


def test_ctrl_c_in_the_loop_exits_130_and_removes_the_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = write_app(tmp_path / "app")
    sessions: list[watch.WatchSession] = []

    def interrupted(session: watch.WatchSession) -> Iterator[set[tuple[str, str]]]:
        sessions.append(session)
        yield {("modified", str(session.config.root / "stacks" / "alerts.py"))}
        raise KeyboardInterrupt

    monkeypatch.setattr(watch, "file_events", interrupted)
    args = watch_args(app)
    assert watch.run(args) == watch.EXIT_INTERRUPTED
    captured = capsys.readouterr()
    assert "watch: stopped" in captured.err and "Traceback" not in captured.err
    assert verdicts(captured.out.splitlines())
    assert not sessions[0].scratch.exists()


def test_an_app_command_that_is_not_python_is_synthesized_in_a_subprocess(
    tmp_path: Path, watched: Watched
) -> None:
    """A shell command app: the fallback says so, and its output is judged all the same."""
    app = tmp_path / "app"
    app.mkdir()
    shutil.copytree(watched.session.config.outdir, app / "prebuilt")
    (app / "synth.sh").write_text('cp -R prebuilt/. "$CDKTF_OUTDIR"\n')
    (app / "cdktf.json").write_text('{"app": "sh synth.sh", "output": "cdktf.out"}\n')
    printed = Printed()
    session = watch.WatchSession(
        app, watched.session.options, out=printed, synth_cache=tmp_path / "cache"
    )
    try:
        assert session.runner is None
        assert "in a subprocess on each change" in session.describe()
        assert session.cycle()
        (line,) = verdicts(printed.new())
        assert "(2 resources)" in line
    finally:
        session.close()


def test_many_new_findings_are_folded_under_the_verdict_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluation = run_check(CORPUS / "legacy-literal-ids" / "cdktf.out")
    open_findings = [f for f in evaluation.findings if f.waiver is None]
    monkeypatch.setattr(watch, "MAX_NEW", 3)
    lines, snapshot = watch.render_verdict(evaluation, None, "check 0.10 s")
    assert lines[0].startswith("verdict: ") and lines[0].endswith(
        "; first evaluation [check 0.10 s]"
    )
    assert len([line for line in lines if line.startswith("  new: ")]) == 3
    assert lines[-1].startswith(f"  ... and {len(open_findings) - 3} more new findings")

    again, _ = watch.render_verdict(evaluation, snapshot, "check 0.10 s")
    assert again == [lines[0].replace("first evaluation", "no requirement changed")]


def test_without_watchfiles_the_command_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from compliance import cli

    monkeypatch.setitem(sys.modules, "watchfiles", None)  # import watchfiles fails
    assert cli.main(["watch", "--app", str(write_app(tmp_path / "app"))]) == 2
    assert "watchfiles: not installed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("python main.py", PythonCommand("script", "main.py", ("main.py",))),
        (
            "python3 -u app/main.py --x 1",
            PythonCommand("script", "app/main.py", ("app/main.py", "--x", "1")),
        ),  # fmt: skip
        ("python -m infra.main", PythonCommand("module", "infra.main", ("infra.main",))),
        ("pipenv run python main.py", PythonCommand("script", "main.py", ("main.py",))),
        ("npx ts-node main.ts", None),
        ("python -c 'print(1)'", None),
        ("/usr/bin/python3 main.py", None),  # another interpreter: its own packages
    ],
)
def test_which_app_commands_run_in_process(command: str, expected: PythonCommand | None) -> None:
    config = CdktfApp(Path("/app"), tuple(command.replace("'", "").split()))
    assert python_command(config) == expected


def test_the_warm_engine_decides_as_a_fresh_one_across_outputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Facts travel with each evaluation: other outputs, same compiled policies, same verdicts."""
    monkeypatch.setenv("DR_DECISION_CACHE", "0")  # each engine decides: none reads the other's
    outputs = [CORPUS / name / "cdktf.out" for name in ("aurora-single-region", "app-built-zips")]
    engine = WarmOpaEngine()
    try:
        for output in [*outputs, *outputs]:
            fresh = run_check(output)
            warm = run_check(output, engine=engine)
            assert _decisions(warm) == _decisions(fresh), output
        assert engine.compilations <= 2  # one per distinct settings, never one per output
    finally:
        engine.shutdown()


def _decisions(evaluation: object) -> list[tuple[object, ...]]:
    return [
        (
            r.requirement.id,
            r.status,
            sorted((f.stack, f.address, f.message) for f in r.findings),
            r.evaluated,
        )
        for r in evaluation.results  # type: ignore[attr-defined]
    ]


def watch_args(app: Path) -> object:
    return watch_parser().parse_args(["watch", "--app", str(app)])


def watch_parser() -> object:
    import argparse

    parser = argparse.ArgumentParser()
    watch.add_parser(parser.add_subparsers(dest="command"))
    return parser


def _ignore_sigint() -> None:
    """What a non-interactive shell does to a background job before it starts it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sigint", ["inherited-default", "inherited-ignored"])
def test_ctrl_c_on_the_command_leaves_no_process_and_no_traceback(
    tmp_path: Path, sigint: str
) -> None:
    app = write_app(tmp_path / "app")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("OPA_URL", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "compliance", "watch", "--app", str(app)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_ignore_sigint if sigint == "inherited-ignored" else None,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in child.stdout], daemon=True).start()
        first = lines.get(timeout=300)  # the first verdict: jsii started, policies compiled
        assert first.startswith("verdict:"), first
        started = _descendants(child.pid)
        assert started, "jsii's Node.js runtime should be running"
        os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        code = child.wait(timeout=60)
        stderr = child.stderr.read()
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert code in (0, 130), stderr
    assert "Traceback" not in stderr and "watch: stopped" in stderr
    assert _all_gone(started), "a process the watch started outlived it"
    assert not [p for p in app.iterdir() if p.name.startswith(".dr-compliance-tmp-")]


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found.update(children)
        frontier += children
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _all_gone(pids: set[int], timeout: float = 30.0) -> bool:
    """Whether every process in ``pids`` has exited; an orphan may need a moment to go."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.05)  # polling for another process's exit: no event to wait on
    return False
