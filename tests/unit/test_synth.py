"""Synthesis of any CDKTF app: cached by content, safe under parallel runs, kills and Ctrl-C.

Real synths cost seconds (jsii and Node.js), so there are few: this
repository's app (the session fixture of tests/conftest.py) and one small
foreign app shared by this module. The races and kills use a stand-in app,
a plain script that writes what a synth writes, so they can repeat cheaply.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from compliance import cache
from compliance import synth as synth_module
from compliance.errors import InputError
from compliance.synth import (
    REPO_ROOT,
    SynthResult,
    content_hash,
    input_files,
    read_app,
    synthesize,
)

ENV = {
    **os.environ,
    "PYTHONPATH": str(REPO_ROOT),
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}
# How many times the race of parallel synths is run; 100 for the record (see the report).
RACE_TRIALS = int(os.environ.get("DR_CACHE_RACE_TRIALS", "5"))


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(cache.TEMP_PREFIX))


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll for an event another process causes (no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet is not)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def _kill(pid: int) -> None:
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


# --- A foreign app: its own cdktf.json, one stack, one aws_sns_topic ------------------------

# Built on cdktf's generic classes: importing the provider bindings alone costs 10-20 s and
# tells nothing more about the harness, which runs whatever the app's command is.
_FOREIGN_MAIN = '''\
"""The alerting team's app."""

from cdktf import App

from alerting.stack import AlertsStack

app = App()
AlertsStack(app, "alerts")
app.synth()
'''
_FOREIGN_STACK = """\
from cdktf import (
    TerraformProvider,
    TerraformProviderGeneratorMetadata,
    TerraformResource,
    TerraformStack,
)
from constructs import Construct


class AlertsStack(TerraformStack):
    def __init__(self, scope: Construct, name: str) -> None:
        super().__init__(scope, name)
        aws = TerraformProviderGeneratorMetadata(provider_name="aws")
        TerraformProvider(
            self, "aws", terraform_resource_type="aws", terraform_generator_metadata=aws
        ).add_override("region", "eu-west-1")
        topic = TerraformResource(
            self, "alerts", terraform_resource_type="aws_sns_topic",
            terraform_generator_metadata=aws,
        )
        topic.add_override("name", self.node.get_context("topicName"))
"""


def _write_foreign_app(root: Path) -> Path:
    (root / "alerting").mkdir(parents=True)
    (root / "alerting" / "__init__.py").write_text("")
    (root / "alerting" / "stack.py").write_text(_FOREIGN_STACK)
    (root / "main.py").write_text(_FOREIGN_MAIN)
    config = {"language": "python", "app": "python3 main.py", "output": "out"}
    config["context"] = {"topicName": "team-alerts"}
    (root / "cdktf.json").write_text(json.dumps(config, indent=2))
    return root


@dataclass(frozen=True)
class Foreign:
    root: Path
    cache_dir: Path
    result: SynthResult


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Foreign:
    """One real synth of the foreign app, into a fresh cache."""
    base = tmp_path_factory.mktemp("foreign")
    root = _write_foreign_app(base / "alerting-app")
    cache_dir = base / "cache"
    return Foreign(root, cache_dir, synthesize(root, cache_dir=cache_dir))


def test_a_foreign_app_synthesizes_as_its_cdktf_json_says(foreign: Foreign) -> None:
    result = foreign.result
    assert result.from_cache is False and result.app_root == foreign.root
    assert result.outdir == foreign.root / "out"  # cdktf.json's "output"
    manifest = json.loads((result.outdir / "manifest.json").read_text())
    assert list(manifest["stacks"]) == ["alerts"]
    stack = json.loads((result.outdir / "stacks" / "alerts" / "cdk.tf.json").read_text())
    assert stack["resource"]["aws_sns_topic"]["alerts"]["name"] == "team-alerts"  # its context
    assert stack["provider"]["aws"][0]["region"] == "eu-west-1"
    assert _temporaries(foreign.cache_dir) == []
    assert _tree_digest(foreign.cache_dir / result.digest) == _tree_digest(result.outdir)


def test_an_unchanged_app_comes_from_the_cache(foreign: Foreign, tmp_path: Path) -> None:
    again = synthesize(foreign.root, outdir=tmp_path / "out", cache_dir=foreign.cache_dir)
    assert again.from_cache is True and again.digest == foreign.result.digest
    assert _tree_digest(again.outdir) == _tree_digest(foreign.result.outdir)


def test_concurrent_real_synths_of_one_app_share_one_synth(
    foreign: Foreign, tmp_path: Path
) -> None:
    root = tmp_path / "app"
    shutil.copytree(foreign.root, root, ignore=shutil.ignore_patterns("out", "__pycache__"))
    with _Workers(2) as workers:
        for round_ in range(2):
            (root / "main.py").write_text(_FOREIGN_MAIN + f"# round {round_}\n")
            results = workers.synthesize(root, tmp_path / "out", tmp_path / "cache")
            assert all("error" not in r for r in results), results
            assert sorted(r["hit"] for r in results) == [False, True]  # the second waited
            assert len({r["digest"] for r in results}) == 1
            entry = tmp_path / "cache" / results[0]["digest"]
            assert _tree_digest(tmp_path / "out") == _tree_digest(entry)
            assert _temporaries(tmp_path / "cache") == _temporaries(tmp_path) == []


# --- This repository's app ------------------------------------------------------------------


def test_this_repositorys_app_is_run_by_its_cdktf_json() -> None:
    app = read_app(REPO_ROOT)
    assert app.command == ("python", "-m", "infrastructure.main")
    assert synth_module._app_command(app) == [sys.executable, "-m", "infrastructure.main"]
    assert app.outdir == REPO_ROOT / "cdktf.out"


@pytest.mark.parametrize(
    ("app", "runs"),
    [
        ("python main.py", [sys.executable, "main.py"]),
        ("python3 -m app.main --flag", [sys.executable, "-m", "app.main", "--flag"]),
        ("pipenv run python main.py", [sys.executable, "main.py"]),  # cdktf's Python template
        ("poetry run python3 main.py", [sys.executable, "main.py"]),
        ("sh run.sh", ["sh", "run.sh"]),
        ("./run.sh x", ["./run.sh", "x"]),
    ],
)
def test_the_app_command_runs_on_this_interpreter(tmp_path: Path, app: str, runs: list) -> None:
    (tmp_path / "cdktf.json").write_text(json.dumps({"app": app}))
    assert synth_module._app_command(read_app(tmp_path)) == runs


def test_output_is_independent_of_working_directory_and_clock(
    synthesized: SynthResult, tmp_path: Path
) -> None:
    """The app run later, from another folder, writes the same bytes."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(
        [sys.executable, "-m", "infrastructure.main", "--outdir", str(tmp_path / "out")],
        cwd=elsewhere,
        env=ENV,
        check=True,
        capture_output=True,
    )
    assert _tree_digest(tmp_path / "out") == _tree_digest(synthesized.outdir)
    text = (tmp_path / "out" / "stacks" / "secondary" / "cdk.tf.json").read_text()
    assert str(tmp_path) not in text and str(REPO_ROOT) not in text


# --- A stand-in app: writes what a synth writes, without jsii ------------------------------

_FAKE_APP = """\
import json, os, signal
from pathlib import Path

NAME = {name!r}
out = Path(os.environ["CDKTF_OUTDIR"])
if os.environ.get("FAKE_APP_LOG"):
    with open(os.environ["FAKE_APP_LOG"], "a") as log:
        log.write(f"{{os.getpid()}}\\n")
stack = out / "stacks" / "topic"
stack.mkdir(parents=True)
for index in range(40):
    (stack / f"part{{index:02d}}.json").write_text(json.dumps([index, NAME]) * 200)
document = {{"resource": {{"aws_sns_topic": {{"t": {{"name": NAME}}}}}}}}
(stack / "cdk.tf.json").write_text(json.dumps(document))
if os.environ.get("FAKE_APP_BLOCK"):  # tell the test who we are, then hang like a slow synth
    ready = Path(os.environ["FAKE_APP_BLOCK"])
    ready.with_suffix(".tmp").write_text(str(os.getpid()))
    ready.with_suffix(".tmp").rename(ready)
    signal.pause()
manifest = {{"stacks": {{"topic": {{"synthesizedStackPath": "stacks/topic/cdk.tf.json"}}}}}}
(out / "manifest.json").write_text(json.dumps(manifest))
"""
_FAKE_FILES = 42  # 40 parts, the stack, the manifest


def _write_fake_app(root: Path, name: str = "topic") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(_FAKE_APP.format(name=name))
    (root / "cdktf.json").write_text(json.dumps({"app": "python3 app.py"}))
    return root


_WORKER = """\
import json, signal, sys
from pathlib import Path
from compliance.synth import synthesize
signal.signal(signal.SIGINT, signal.default_int_handler)
print("ready", flush=True)
for line in sys.stdin:
    app, outdir, cache_dir = line.rstrip("\\n").split("\\t")
    try:
        result = synthesize(Path(app), outdir=Path(outdir), cache_dir=Path(cache_dir))
        print(json.dumps({"digest": result.digest, "hit": result.from_cache}), flush=True)
    except BaseException as error:
        print(json.dumps({"error": repr(error)}), flush=True)
"""

# Watches where an entry will appear: whenever it exists, it must be whole.
_READER = """\
import json, sys, time
from pathlib import Path
print("ready", flush=True)
for line in sys.stdin:
    entry, expected = Path(line.split("\\t")[0]), int(line.split("\\t")[1])
    looks, partial, deadline = 0, [], time.monotonic() + 60
    while time.monotonic() < deadline:
        if entry.exists():
            looks += 1
            count = sum(1 for p in entry.rglob("*") if p.is_file())
            if count != expected or not (entry / "manifest.json").is_file():
                partial.append(count)
            if looks >= 3:
                break
        time.sleep(0.0005)
    print(json.dumps({"looks": looks, "partial": partial}), flush=True)
"""


def _readline(process: subprocess.Popen[str], timeout: float = 120.0) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "a worker did not answer in time"
    return process.stdout.readline()


class _Workers:
    """Processes that each run ``synthesize`` when told, all told at once."""

    def __init__(self, count: int, env: dict[str, str] | None = None) -> None:
        self.count, self.env = count, env or ENV
        self.workers: list[subprocess.Popen[str]] = []
        self.reader: subprocess.Popen[str] | None = None

    def __enter__(self) -> _Workers:
        def start(code: str) -> subprocess.Popen[str]:
            return subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )

        self.workers = [start(_WORKER) for _ in range(self.count)]
        self.reader = start(_READER)
        for process in [*self.workers, self.reader]:
            assert _readline(process) == "ready\n"
        return self

    def synthesize(
        self, app: Path, outdir: Path, cache_dir: Path, watch: Path | None = None
    ) -> list[dict]:
        if watch is not None:
            self._send(self.reader, f"{watch}\t{_FAKE_FILES}\n")
        for worker in self.workers:  # as close to "at once" as pipes allow
            self._send(worker, f"{app}\t{outdir}\t{cache_dir}\n")
        return [json.loads(_readline(worker)) for worker in self.workers]

    def watched(self) -> dict:
        assert self.reader is not None
        return json.loads(_readline(self.reader))

    @staticmethod
    def _send(process: subprocess.Popen[str] | None, line: str) -> None:
        assert process is not None and process.stdin is not None
        process.stdin.write(line)
        process.stdin.flush()

    def __exit__(self, *_: object) -> None:
        for process in [*self.workers, self.reader]:
            if process is not None:
                process.kill()
                process.wait()


def test_parallel_runs_write_one_entry_once_and_readers_never_see_half(tmp_path: Path) -> None:
    """RACE_TRIALS times: three runs of a new app at once, into one cache and one outdir."""
    log = tmp_path / "runs.log"
    failures: list[str] = []
    app, cache_dir, outdir = tmp_path / "app", tmp_path / "cache", tmp_path / "work" / "cdktf.out"
    with _Workers(3, {**ENV, "FAKE_APP_LOG": str(log)}) as workers:
        for trial in range(RACE_TRIALS):
            _write_fake_app(app, f"trial-{trial}")
            digest = content_hash(app)
            log.write_text("")
            results = workers.synthesize(app, outdir, cache_dir, watch=cache_dir / digest)
            watched = workers.watched()
            runs = len(log.read_text().split())
            problems = [
                *(f"run failed: {r['error']}" for r in results if "error" in r),
                *([f"digests {results}"] if {r.get("digest") for r in results} != {digest} else []),
                *([f"the app ran {runs} times"] if runs != 1 else []),
                *([f"reader saw partial entries {watched}"] if watched["partial"] else []),
                *([f"reader never saw the entry {watched}"] if not watched["looks"] else []),
                *([f"leftovers {_temporaries(cache_dir)}"] if _temporaries(cache_dir) else []),
                *(
                    [f"leftovers {_temporaries(outdir.parent)}"]
                    if _temporaries(outdir.parent)
                    else []
                ),
            ]
            if _tree_digest(outdir) != _tree_digest(cache_dir / digest):
                problems.append("the output folder differs from the entry (a mix?)")
            failures += [f"trial {trial}: {problem}" for problem in problems]
    print(f"{RACE_TRIALS} trials of 3 parallel runs: {len(failures)} failures")
    assert failures == []


def test_a_killed_synth_leaves_nothing_trusted_and_its_leftovers_are_swept(
    tmp_path: Path,
) -> None:
    app, cache_dir, outdir = _write_fake_app(tmp_path / "app"), tmp_path / "cache", tmp_path / "o"
    ready = tmp_path / "ready.pid"
    code = (
        "import sys; from pathlib import Path; from compliance.synth import synthesize\n"
        "synthesize(Path(sys.argv[1]), outdir=Path(sys.argv[2]), cache_dir=Path(sys.argv[3]))\n"
    )
    run = subprocess.Popen(
        [sys.executable, "-c", code, str(app), str(outdir), str(cache_dir)],
        cwd=REPO_ROOT,
        env={**ENV, "FAKE_APP_BLOCK": str(ready)},
    )
    try:
        _wait_for(ready.exists, what="the app to start")
    finally:
        run.kill()  # SIGKILL: no handler, no finally, nothing runs in the harness
        run.wait()
    app_pid = int(ready.read_text())
    try:
        _wait_for(lambda: not _alive(app_pid), what="the orphaned app to die with the harness")
    finally:
        _kill(app_pid)  # the test's own cleanup, should the harness have failed to
    leftovers = _temporaries(cache_dir)
    assert len(leftovers) == 1 and not outdir.exists()
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted([".locks", *leftovers])

    again = synthesize(app, outdir=outdir, cache_dir=cache_dir)
    assert again.from_cache is False  # the half-written work was not trusted
    assert len(list(outdir.rglob("*.json"))) == _FAKE_FILES
    assert _temporaries(cache_dir) == leftovers  # young: it might be a live run's

    for name in leftovers:
        then = time.time() - cache.STALE_SECONDS - 60
        os.utime(cache_dir / name, (then, then))
    assert synthesize(app, outdir=outdir, cache_dir=cache_dir).from_cache is True
    assert _temporaries(cache_dir) == []


def test_ctrl_c_during_synth_stops_the_app_and_removes_the_scratch(tmp_path: Path) -> None:
    app, cache_dir = _write_fake_app(tmp_path / "app"), tmp_path / "cache"
    ready = tmp_path / "ready.pid"
    code = (
        "import signal, sys; from pathlib import Path; from compliance.synth import synthesize\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it\n"
        "try:\n"
        "    synthesize(Path(sys.argv[1]), outdir=Path(sys.argv[2]), cache_dir=Path(sys.argv[3]))\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(130)  # what the CLI does\n"
    )
    run = subprocess.Popen(
        [sys.executable, "-c", code, str(app), str(tmp_path / "o"), str(cache_dir)],
        cwd=REPO_ROOT,
        env={**ENV, "FAKE_APP_BLOCK": str(ready)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(ready.exists, what="the app to start")
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=60)
    finally:
        run.kill()
        run.wait()
    app_pid = int(ready.read_text())
    alive = _alive(app_pid)
    _kill(app_pid)
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not alive
    assert sorted(p.name for p in cache_dir.iterdir()) == [".locks"]  # no scratch, no entry


# --- Failures name the file to fix ----------------------------------------------------------


def test_an_app_that_raises_is_named_at_its_own_frame(tmp_path: Path) -> None:
    root = _write_fake_app(tmp_path / "app")
    (root / "stacks").mkdir()
    (root / "stacks" / "__init__.py").write_text("")
    (root / "stacks" / "topic.py").write_text(
        "def build():\n    raise ValueError('topic names must be lower case')\n"
    )
    (root / "app.py").write_text("from stacks.topic import build\n\nbuild()\n")
    with pytest.raises(InputError) as error:
        synthesize(root, cache_dir=tmp_path / "cache")
    assert error.value.path == f"{root / 'stacks' / 'topic.py'}:2"
    assert error.value.reason == "synth failed: ValueError: topic names must be lower case"
    assert _temporaries(tmp_path / "cache") == []


def test_an_app_that_exits_with_a_message_names_cdktf_json(tmp_path: Path) -> None:
    root = _write_fake_app(tmp_path / "app")
    (root / "app.py").write_text("raise SystemExit('boom: no app here')\n")
    with pytest.raises(InputError, match="synth failed: boom: no app here") as error:
        synthesize(root, cache_dir=tmp_path / "cache")
    assert error.value.path == str(root / "cdktf.json")


def test_a_synth_past_its_timeout_is_stopped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, ready = _write_fake_app(tmp_path / "app"), tmp_path / "ready.pid"
    monkeypatch.setenv("FAKE_APP_BLOCK", str(ready))  # the app hangs
    with pytest.raises(InputError, match="synth did not finish within 1.5 s") as error:
        synthesize(root, cache_dir=tmp_path / "cache", timeout=1.5)
    assert error.value.path == str(root / "cdktf.json")
    assert not ready.exists() or not _alive(int(ready.read_text()))
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [".locks"]


def test_an_app_that_writes_no_manifest_is_bad_input(tmp_path: Path) -> None:
    root = _write_fake_app(tmp_path / "app")
    (root / "app.py").write_text("print('forgot app.synth()')\n")
    with pytest.raises(InputError, match="wrote no manifest.json into CDKTF_OUTDIR"):
        synthesize(root, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no cdktf.json"),
        ("{half", "not JSON"),
        ("[]", "expected a JSON object"),
        ("{}", 'no "app" command'),
        ('{"app": "python3 \'main.py"}', "not a valid command line"),
        ('{"app": "no-such-program-here main.py"}', '"no-such-program-here" is not on PATH'),
        ('{"app": "python3 main.py", "context": []}', '"context" must be a JSON object'),
    ],
)
def test_an_unusable_cdktf_json_is_bad_input(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    if content is not None:
        (tmp_path / "cdktf.json").write_text(content)
    with pytest.raises(InputError) as error:
        synthesize(tmp_path, cache_dir=tmp_path / "cache")
    assert error.value.path == str(tmp_path / "cdktf.json")
    assert reason in error.value.reason


def test_a_folder_that_is_not_a_synth_output_is_never_replaced(tmp_path: Path) -> None:
    root = _write_fake_app(tmp_path / "app")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a synth output"):
        synthesize(root, outdir=precious, cache_dir=tmp_path / "cache")
    assert (precious / "notes.txt").read_text() == "mine"


# --- What the content hash covers -----------------------------------------------------------


def test_the_hash_covers_the_apps_files_and_cdktf_json(tmp_path: Path) -> None:
    root = _write_fake_app(tmp_path / "app")
    (root / "lib").mkdir()
    (root / "lib" / "names.py").write_text("NAME = 'a'\n")
    before = content_hash(root)
    assert content_hash(root) == before
    (root / "lib" / "names.py").write_text("NAME = 'b'\n")
    changed = content_hash(root)
    assert changed != before
    (root / "assets").mkdir()
    (root / "assets" / "index.html").write_text("<p>")  # any file, not just Python
    assert content_hash(root) != changed
    with_asset = content_hash(root)
    (root / "cdktf.json").write_text(json.dumps({"app": "python3 app.py", "context": {"x": 1}}))
    assert content_hash(root) != with_asset


def test_the_hash_ignores_outputs_environments_caches_and_scratch(tmp_path: Path) -> None:
    root = _write_fake_app(tmp_path / "app")
    before = content_hash(root)
    noise = [
        "cdktf.out/manifest.json",
        ".git/index",
        ".venv/lib/site.py",
        "env/pyvenv.cfg",  # a virtual environment under any name
        "env/lib/x.py",
        "__pycache__/app.cpython-311.pyc",
        ".pytest_cache/v",
        ".tox/py/x",
        f"{cache.TEMP_PREFIX}cdktf.out-0123/manifest.json",
        "terraform.alerts.tfstate",
        ".coverage.host.1234",
    ]
    for name in noise:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    assert content_hash(root) == before
    found = input_files(root, exclude=[root / "cdktf.out"])
    assert [p.relative_to(root).as_posix() for p in found] == ["app.py", "cdktf.json"]


def test_the_hash_follows_sources_when_narrowed(tmp_path: Path) -> None:
    root = _write_fake_app(tmp_path / "app")
    (root / "stacks").mkdir()
    (root / "stacks" / "a.py").write_text("A = 1\n")
    (root / "reports").mkdir()
    before = content_hash(root, sources=["stacks", "app.py"])
    (root / "reports" / "out.html").write_text("<p>")
    assert content_hash(root, sources=["stacks", "app.py"]) == before
    assert content_hash(root, sources=["stacks", "app.py"], exclude=[root / "reports"]) == before
    (root / "stacks" / "a.py").write_text("A = 2\n")
    assert content_hash(root, sources=["stacks", "app.py"]) != before


def test_the_hash_covers_the_pinned_versions_and_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _write_fake_app(tmp_path / "app")
    before = content_hash(root)
    real = synth_module.pinned_versions()
    monkeypatch.setattr(synth_module, "pinned_versions", lambda: {**real, "cdktf": "0.0.0"})
    assert content_hash(root) != before
    monkeypatch.setattr(synth_module, "pinned_versions", lambda: real)
    assert content_hash(root) == before
    other_python = SimpleNamespace(major=3, minor=sys.version_info.minor + 1)
    monkeypatch.setattr(synth_module, "sys", SimpleNamespace(version_info=other_python))
    assert content_hash(root) != before


def test_the_hash_does_not_depend_on_where_the_app_is(tmp_path: Path) -> None:
    """A fresh clone elsewhere (CI) hits the same entry: the key is content only."""
    first = _write_fake_app(tmp_path / "one" / "app")
    second = shutil.copytree(first, tmp_path / "two" / "elsewhere")
    assert content_hash(first) == content_hash(second)
