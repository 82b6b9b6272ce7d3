"""Every process, folder, port and segment of a drill is released: on failure, on every signal.

The command-level tests run the real drill command in a child process and
check the system itself afterwards (/proc, /proc/net, /proc/sysvipc/shm as
``ipcs -m`` shows it), never the harness's own account of it. They wait on
the command's output lines with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from compliance.drills import interrupts
from compliance.drills.drilled import drilled_design
from compliance.drills.engines import EngineMissing, Engines, locate
from compliance.drills.ownership import OWNER_FILE, RUN_VARIABLE, OwnerRecord, Started, write_owner
from compliance.drills.processes import (
    ChildFailed,
    DrillInterrupted,
    Supervisor,
    descendants,
    freeze_trees,
    group_members,
    kill_snapshot,
)
from compliance.drills.reclaim import reclaim_abandoned
from compliance.drills.scenarios import DrillOptions, run_local
from compliance.synth import REPO_ROOT

LAB_LINE = re.compile(r"lab folder (\S+); ports: database (\d+), health (\d+), DNS (\d+)")


@pytest.fixture(scope="module")
def engines_or_skip() -> Engines:
    try:
        return locate()
    except EngineMissing as missing:
        if os.environ.get("DR_STRICT"):
            pytest.fail(f"DR_STRICT: {missing}")
        pytest.skip(str(missing))


def _processes_using(folder: str) -> list[int]:
    """Live processes whose command line or working folder mentions ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if folder in cmdline or cwd.startswith(folder):
            found.append(int(entry.name))
    return found


def _listening(port: int) -> bool:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if int(local.split(":")[1], 16) == port and state == "0A":
            return True
    return False


def test_supervisor_kills_whole_groups_and_removes_the_folder() -> None:
    before = set(descendants(os.getpid()))
    with pytest.raises(RuntimeError, match="halfway"), Supervisor() as supervisor:
        child = supervisor.spawn("tree", ["sh", "-c", "sleep 300 & sleep 300 & wait"])
        deadline = time.monotonic() + 5
        while len(group_members(child.pgid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(group_members(child.pgid)) == 3  # the shell and its two sleeps
        root = supervisor.root
        raise RuntimeError("the drill failed halfway")
    assert group_members(child.pgid) == []
    assert set(descendants(os.getpid())) <= before
    assert not root.exists()
    supervisor.close()  # idempotent


GRANDCHILD = """
import os, signal, sys, time
pid = os.fork()
if pid == 0:
    os.setsid()  # as PostgreSQL's backends do
    print(os.getpid(), flush=True)  # only once in its own session: the test reads it then
    os.kill(os.getpid(), signal.SIGSTOP)  # as the lag drill's frozen walsender
    time.sleep(300)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("crash", [False, True])
def test_stopped_descendants_in_their_own_session_are_killed(crash: bool) -> None:
    with Supervisor() as supervisor:
        child = supervisor.spawn("forker", [sys.executable, "-c", GRANDCHILD])
        deadline = time.monotonic() + 10
        while not child.log_tail().strip() and time.monotonic() < deadline:
            time.sleep(0.02)
        grandchild = int(child.log_tail().split()[0])
        assert _alive(grandchild) and os.getsid(grandchild) == grandchild
        if crash:  # the region-loss path: SIGKILL the child's whole tree at once
            supervisor.kill(child)
            assert not _alive(grandchild)
    assert not _alive(grandchild)


def test_stubborn_children_are_killed_after_the_grace_period() -> None:
    with Supervisor(grace_seconds=0.2) as supervisor:
        child = supervisor.spawn(
            "stubborn", ["sh", "-c", "trap '' TERM; sleep 300 & wait; sleep 300"]
        )
        time.sleep(0.2)
    assert not child.alive() and group_members(child.pgid) == []


def test_sigterm_unwinds_like_ctrl_c() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(DrillInterrupted), Supervisor() as supervisor:
        child = supervisor.spawn("sleeper", ["sleep", "300"])
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert not child.alive() and not supervisor.root.exists()
    assert signal.getsignal(signal.SIGTERM) is previous


def test_failed_and_hung_commands_are_reported_with_their_log() -> None:
    with Supervisor() as supervisor:
        with pytest.raises(ChildFailed, match="exit code 3: oops"):
            supervisor.run("failing", ["sh", "-c", "echo oops >&2; exit 3"])
        with pytest.raises(ChildFailed, match="timed out"):
            supervisor.run("hung", ["sleep", "300"], timeout=0.2)
    with pytest.raises(ChildFailed, match="closed"):
        supervisor.spawn("late", ["true"])


def test_a_drill_failing_halfway_leaves_nothing_behind(
    synth_dir: Path, engines_or_skip: Engines
) -> None:
    """Engines started, then an exception: no child survives, folder and ports are free."""
    before = set(descendants(os.getpid()))
    seen: dict[str, str] = {}

    def progress(message: str) -> None:
        match = LAB_LINE.search(message)
        if match:
            seen.update(folder=match[1], db=match[2], http=match[3], dns=match[4])
        if "engines started" in message:
            assert set(descendants(os.getpid())) - before  # the lab really is running
            raise RuntimeError("injected failure after the engines started")

    design = drilled_design(synth_dir, REPO_ROOT)
    options = DrillOptions(scale_factor=0.2, progress=progress, engines=engines_or_skip)
    with pytest.raises(RuntimeError, match="injected failure"):
        run_local("DR-DEP-01", design, options)
    assert set(descendants(os.getpid())) <= before
    assert not Path(seen["folder"]).exists()
    assert _processes_using(seen["folder"]) == []
    for port in (seen["db"], seen["http"]):
        assert not _listening(int(port)), port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", int(seen["dns"])))  # free again (on any address)


# -- the system's own view of a lab ------------------------------------------------------


def _start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] == "Z" else int(fields[19])


def _parents() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            found[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return found


def _segments() -> list[dict[str, int]]:
    """``ipcs -m -p`` from its source: shmid, creator pid and attach count of each segment."""
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()
    header = lines[0].split()
    rows = [dict(zip(header, line.split(), strict=False)) for line in lines[1:]]
    return [{key: int(row[key]) for key in ("shmid", "cpid", "nattch")} for row in rows]


def _bound_udp(port: int) -> bool:
    return any(
        int(line.split()[1].split(":")[1], 16) == port
        for line in Path("/proc/net/udp").read_text().splitlines()[1:]
    )


@dataclass
class LabTrace:
    """What a lab holds, seen from /proc: its processes (pid → start time) and ports."""

    folder: str
    ports: list[int]
    processes: dict[int, int | None] = field(default_factory=dict)

    def sample(self) -> None:
        """Add every process working in the folder or naming it, and their descendants."""
        roots = _processes_using(self.folder)
        parents = _parents()
        frontier = list(roots)
        while frontier:
            pid = frontier.pop()
            if pid not in self.processes:
                self.processes[pid] = _start_time(pid)
                frontier += [child for child, parent in parents.items() if parent == pid]

    def alive(self) -> list[int]:
        return [p for p, started in self.processes.items() if started and _start_time(p) == started]

    def segments(self) -> list[dict[str, int]]:
        return [s for s in _segments() if s["cpid"] in self.processes]

    def ports_in_use(self) -> list[int]:
        tcp = [port for port in self.ports if _listening(port)]
        return tcp + [port for port in self.ports[-1:] if _bound_udp(port)]  # DNS: UDP too

    def remaining(self) -> dict[str, object]:
        """Everything of the lab still on the system (empty values: nothing)."""
        return {
            "processes": self.alive(),
            "ports": self.ports_in_use(),
            "folder": Path(self.folder).exists(),
            "segments": self.segments(),
            "in_folder": _processes_using(self.folder),
        }

    def scrub(self) -> None:
        """Test teardown: remove what a failing harness leaked, so the machine stays clean."""
        self.sample() if Path(self.folder).exists() else None
        for pid in self.alive() + _processes_using(self.folder):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _await(lambda: not self.alive(), 10, "leaked processes to die")
        for segment in self.segments():
            subprocess.run(["ipcrm", "-m", str(segment["shmid"])], check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


NOTHING_LEFT = {"processes": [], "ports": [], "folder": False, "segments": [], "in_folder": []}


def _await(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


class DrillCommand:
    """The drill command in a child process; its output read as it comes."""

    def __init__(self, argv: list[str]) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.popen = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.ended = False
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    @property
    def output(self) -> str:
        with self.changed:
            return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 120.0) -> str:
        """The first output line containing ``text``; fails on a deadline or an early exit."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = next((line for line in self.lines if text in line), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if self.ended or remaining <= 0:
                    pytest.fail(f"no line with {text!r}:\n{''.join(self.lines)}")
                self.changed.wait(remaining)

    def wait_for_all(self, text: str, count: int, timeout: float = 180.0) -> list[str]:
        """The first ``count`` output lines containing ``text``."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = [line for line in self.lines if text in line]
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if self.ended or remaining <= 0:
                    pytest.fail(
                        f"{len(found)} of {count} lines with {text!r}:\n{''.join(self.lines)}"
                    )
                self.changed.wait(remaining)

    def finish(self, timeout: float = 90.0) -> int:
        code = self.popen.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)


@pytest.fixture
def traces() -> Iterator[list[LabTrace]]:
    """Labs seen by a test; whatever of them a failing harness leaves is removed after it."""
    seen: list[LabTrace] = []
    yield seen
    for trace in seen:
        trace.scrub()


def _drill_argv(synth_dir: Path, report_dir: Path, prelude: str | None = None) -> list[str]:
    arguments = ["drill", "--scenario", "DR-DEP-01", "--cdktf-out", str(synth_dir)]
    # These tests judge the cleanup, not the timings: a faster clock ends the drill sooner.
    arguments += ["--report-dir", str(report_dir), "--scale", "0.05"]
    if prelude is None:
        return [sys.executable, "-m", "compliance", *arguments]
    return [sys.executable, "-c", prelude, *arguments]


def _trace_lab(command: DrillCommand, traces: list[LabTrace]) -> LabTrace:
    match = LAB_LINE.search(command.wait_for("lab folder"))
    assert match is not None
    trace = LabTrace(match[1], [int(match[2]), int(match[3]), int(match[4])])
    traces.append(trace)
    return trace


# The parent of a background job of a non-interactive shell (`sh -c 'cmd & wait'`, as CI
# systems run jobs) makes SIGINT ignored before it starts the command: so does this.
IGNORE_SIGINT_THEN_EXEC = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
os.execv(sys.executable, [sys.executable, "-m", "compliance", *sys.argv[1:]])
"""


@pytest.mark.parametrize(
    ("signum", "inherited", "code", "said"),
    [
        (signal.SIGINT, "default", 130, "interrupted"),
        (signal.SIGINT, "ignored", 130, "interrupted"),  # a background job of `sh -c`
        (signal.SIGTERM, "default", 143, "terminated"),
    ],
    ids=["ctrl-c", "ctrl-c-with-sigint-inherited-ignored", "sigterm"],
)
def test_ctrl_c_on_the_drill_command_cleans_up(
    synth_dir: Path,
    engines_or_skip: Engines,
    tmp_path: Path,
    traces: list[LabTrace],
    signum: int,
    inherited: str,
    code: int,
    said: str,
) -> None:
    prelude = IGNORE_SIGINT_THEN_EXEC if inherited == "ignored" else None
    command = DrillCommand(_drill_argv(synth_dir, tmp_path, prelude))
    try:
        trace = _trace_lab(command, traces)
        command.wait_for("client writing")
        trace.sample()
        assert trace.alive() and trace.ports_in_use(), command.output  # the lab really runs
        command.popen.send_signal(signum)
        returncode = command.finish()
    finally:
        command.kill()
    output = command.output
    assert trace.remaining() == NOTHING_LEFT, output
    assert returncode == code, output
    assert f"{said}: every process and temporary folder was released" in output
    assert "Traceback" not in output
    assert not (tmp_path / "drills.json").exists()  # nothing half-measured is reported


def test_ctrl_c_during_drills_side_by_side_releases_every_lab(
    synth_dir: Path, engines_or_skip: Engines, tmp_path: Path, traces: list[LabTrace]
) -> None:
    """All four drills at once (the default), Ctrl-C while they measure: nothing survives."""
    argv = [sys.executable, "-m", "compliance", "drill", "--cdktf-out", str(synth_dir)]
    command = DrillCommand([*argv, "--report-dir", str(tmp_path)])
    try:
        for line in command.wait_for_all("lab folder", 4):
            match = LAB_LINE.search(line)
            assert match is not None
            traces.append(LabTrace(match[1], [int(match[2]), int(match[3]), int(match[4])]))
        command.wait_for_all("client writing", 4)
        for trace in traces:
            trace.sample()
            assert trace.alive() and trace.ports_in_use(), command.output
        command.popen.send_signal(signal.SIGINT)
        returncode = command.finish(timeout=180)
    finally:
        command.kill()
    output = command.output
    for trace in traces:
        assert trace.remaining() == NOTHING_LEFT, output
    assert returncode == 130, output
    assert "interrupted: every process and temporary folder was released" in output
    assert "Traceback" not in output


# Cleanup made slow on purpose: a child that ignores its stop signal keeps the release in its
# grace period, and the test's SIGINT lands there (seen: "cleanup started" printed first).
SLOW_CLEANUP = """
import sys
from compliance.drills import processes

original = processes.Supervisor.close

def close(self):
    if self.children and not getattr(self, "stubborn", None):
        self.stubborn = self.spawn("stubborn", ["sh", "-c", "trap '' TERM; exec sleep 300"])
        print("TEST cleanup started", flush=True)
    return original(self)

processes.Supervisor.close = close
from compliance.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("signum", "code", "said"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["sigint", "sigterm"],
)
def test_a_signal_landing_during_cleanup_still_releases_everything(
    synth_dir: Path,
    engines_or_skip: Engines,
    tmp_path: Path,
    traces: list[LabTrace],
    signum: int,
    code: int,
    said: str,
) -> None:
    """The region-loss drill ends, its cleanup starts, and Ctrl-C (or SIGTERM) lands in it.

    The killed primary's System V segment and the ~126 MB folder are the
    leaks this used to cause while saying everything was released.
    """
    command = DrillCommand(_drill_argv(synth_dir, tmp_path, SLOW_CLEANUP))
    try:
        trace = _trace_lab(command, traces)
        command.wait_for("client writing")
        trace.sample()  # both postmasters, before the primary is killed
        command.wait_for("TEST cleanup started")
        trace.sample()
        assert trace.segments(), "the killed primary's segment is what cleanup must remove"
        command.popen.send_signal(signum)
        returncode = command.finish()
    finally:
        command.kill()
    output = command.output
    assert trace.remaining() == NOTHING_LEFT, output
    assert returncode == code, output
    assert f"{said}: every process and temporary folder was released" in output
    assert "Traceback" not in output


def test_a_killed_drill_is_reclaimed_by_the_next_one(
    synth_dir: Path,
    engines_or_skip: Engines,
    tmp_path: Path,
    traces: list[LabTrace],
) -> None:
    """SIGKILL leaves every server running; the next drill removes them first, and says so."""
    command = DrillCommand(_drill_argv(synth_dir, tmp_path))
    try:
        trace = _trace_lab(command, traces)
        command.wait_for("client writing")
        trace.sample()
        command.popen.kill()
        command.finish()
    finally:
        command.kill()
    trace.sample()  # backends started since, too
    left = trace.remaining()
    assert left["processes"] and left["ports"] and left["folder"] and left["segments"], left

    messages: list[str] = []

    class Stop(Exception):
        pass

    def progress(message: str) -> None:
        messages.append(message)
        if "building the lab" in message:
            raise Stop  # the reclaim is done by now; no need to drill again

    design = drilled_design(synth_dir, REPO_ROOT)
    options = DrillOptions(progress=progress, engines=engines_or_skip)
    with pytest.raises(Stop):
        run_local("DR-DEP-01", design, options)
    reclaimed = [m for m in messages if "reclaimed the leftovers of a killed drill" in m]
    assert len(reclaimed) == 1 and trace.folder in reclaimed[0], messages
    assert trace.remaining() == NOTHING_LEFT


# -- the release itself, in this process ---------------------------------------------------


def test_a_signal_during_the_release_waits_until_everything_is_released() -> None:
    """SIGTERM delivered while another thread runs (as the progress line's) and release waits."""
    supervisor = Supervisor(grace_seconds=1.0)
    closing = threading.Event()

    def send_when_closing() -> None:  # this thread may be the one the kernel delivers to
        deadline = time.monotonic() + 30
        while not supervisor.closed and time.monotonic() < deadline:
            time.sleep(0.005)
        closing.set()
        os.kill(os.getpid(), signal.SIGTERM)

    child = supervisor.spawn("stubborn", ["sh", "-c", "trap '' TERM; exec sleep 300"])
    try:
        with pytest.raises(DrillInterrupted), supervisor:
            sender = threading.Thread(target=send_when_closing)
            sender.start()
        sender.join(timeout=30)
        assert closing.is_set()
        assert not child.alive() and group_members(child.pgid) == []
        assert not supervisor.root.exists()
        assert not _processes_using(str(supervisor.root))
    finally:  # what a broken release leaks must not outlive the test
        child.popen.kill()
        child.popen.wait(timeout=10)
        shutil.rmtree(supervisor.root, ignore_errors=True)


def test_the_owner_file_records_every_child_and_children_carry_the_run_id() -> None:
    with Supervisor() as supervisor:
        child = supervisor.spawn("sleeper", ["sleep", "300"])
        record = OwnerRecord.from_json((supervisor.root / OWNER_FILE).read_text())
        assert record.run_id == supervisor.run_id and record.harness_alive()
        assert record.is_ours(child.pid)
        environ = Path(f"/proc/{child.pid}/environ")
        # Popen returns once exec closed its pipe, before the kernel has set up the new
        # environment: it reads empty for that instant.
        _await(environ.read_bytes, 10, "the child's environment")
        marker = f"{RUN_VARIABLE}={supervisor.run_id}".encode()
        assert marker in environ.read_bytes().split(b"\0")


def _sleeper(tmp: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "300"], cwd=tmp, env=env, start_new_session=True)


def _fake_lab(base: Path, name: str, record: OwnerRecord) -> Path:
    folder = base / name
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    write_owner(folder, record)
    return folder


def test_reclaim_kills_only_what_it_can_prove_a_drill_started(tmp_path: Path) -> None:
    base = tmp_path / "labs"
    base.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dead = OwnerRecord.for_this_process()
    dead.harness_start_time = -1  # a harness that no longer runs (its pid was reused by us)
    recorded = _sleeper(elsewhere)
    marked = _sleeper(elsewhere, env={**os.environ, RUN_VARIABLE: dead.run_id})
    reused = _sleeper(elsewhere)  # its pid is in the record, with another start time
    stranger = _sleeper(elsewhere)
    try:
        environ = Path(f"/proc/{marked.pid}/environ")  # empty for an instant after exec
        _await(environ.read_bytes, 10, "the marked process's environment")
        dead.processes = [
            Started("postgres", recorded.pid, _start_time(recorded.pid)),
            Started("pdns", reused.pid, (_start_time(reused.pid) or 0) + 1),
        ]
        abandoned = _fake_lab(base, "dr-dead-1", dead)
        live = OwnerRecord.for_this_process()
        live.processes = [Started("stranger", stranger.pid, _start_time(stranger.pid))]
        running = _fake_lab(base, "dr-running-1", live)  # its harness (this process) runs
        foreign = _fake_lab(base, "dr-foreign-1", dead)
        (foreign / OWNER_FILE).chmod(0o666)  # anyone could have written it
        unmarked = base / "dr-unmarked-1"
        unmarked.mkdir()

        done = reclaim_abandoned([base])

        assert [r.folder for r in done] == [abandoned]
        assert done[0].processes == 2 and done[0].folder_removed
        assert recorded.wait(timeout=10) == -signal.SIGKILL
        assert marked.wait(timeout=10) == -signal.SIGKILL
        assert reused.poll() is None and stranger.poll() is None
        assert not abandoned.exists()
        assert running.exists() and foreign.exists() and unmarked.exists()
    finally:
        for process in (recorded, marked, reused, stranger):
            process.kill()
            process.wait(timeout=10)


def test_reclaim_keeps_a_folder_someone_else_works_in(tmp_path: Path) -> None:
    base = tmp_path / "labs"
    base.mkdir()
    dead = OwnerRecord.for_this_process()
    dead.harness_start_time = -1
    folder = _fake_lab(base, "dr-dead-2", dead)
    visitor = _sleeper(folder)  # not started by the drill: left alone, and its folder too
    try:
        _await(lambda: visitor.pid in _processes_using(str(folder)), 10, "the visitor to start")
        done = reclaim_abandoned([base])
        assert len(done) == 1 and not done[0].folder_removed
        assert done[0].left_alone == [visitor.pid] and visitor.poll() is None
        assert folder.exists() and "folder kept" in done[0].describe()
    finally:
        visitor.kill()
        visitor.wait(timeout=10)


# -- signal handling -------------------------------------------------------------------------


def test_the_handler_is_installed_even_over_an_inherited_ignore_and_restored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job of `sh -c`
    try:
        assert interrupts.default_signals() == [signal.SIGTERM]  # a library leaves it ignored
        with interrupts.handled():  # the drill command does not
            assert signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, signal.SIG_DFL)
            with pytest.raises(DrillInterrupted) as raised:
                signal.raise_signal(signal.SIGINT)
            assert raised.value.exit_code == 130
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_only_the_first_signal_interrupts_and_a_held_one_waits() -> None:
    reached: list[str] = []
    with pytest.raises(DrillInterrupted) as raised, interrupts.handled([signal.SIGTERM]):
        with interrupts.held():
            signal.raise_signal(signal.SIGTERM)  # held: the block goes on
            reached.append("end of the hold")
        pytest.fail("the held SIGTERM is raised as the hold ends")
    assert reached == ["end of the hold"] and raised.value.signum == signal.SIGTERM
    with interrupts.handled([signal.SIGTERM]):
        try:
            signal.raise_signal(signal.SIGTERM)
            pytest.fail("the first SIGTERM interrupts")
        except DrillInterrupted:
            signal.raise_signal(signal.SIGTERM)  # unwinding: dropped, cleanup goes on
        assert interrupts.signals_seen() == [signal.SIGTERM, signal.SIGTERM]


def test_worker_threads_leave_signals_to_the_main_thread() -> None:
    masks: list[bool] = []

    def worker() -> None:
        interrupts.route_to_main_thread()
        masks.append(interrupts.masked_here())
        with Supervisor() as supervisor, pytest.raises(ChildFailed, match="blocks SIGINT"):
            supervisor.spawn("masked", ["true"])  # it would inherit the mask

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=30)
    assert masks == [True] and not interrupts.masked_here()


def test_a_signal_held_by_a_release_in_another_thread_reaches_the_main_thread() -> None:
    inside, finish = threading.Event(), threading.Event()

    def releasing() -> None:
        with interrupts.held():
            inside.set()
            finish.wait(30)

    worker = threading.Thread(target=releasing)
    with pytest.raises(DrillInterrupted), interrupts.handled([signal.SIGTERM]):
        worker.start()
        assert inside.wait(30)
        signal.raise_signal(signal.SIGTERM)  # held: a release is under way in the worker
        finish.set()
        worker.join(timeout=30)
        _await(lambda: False, 10, "the held SIGTERM to reach the main thread")
    assert not worker.is_alive()


def test_a_tree_that_keeps_forking_is_frozen_whole_before_the_kill() -> None:
    """As a postmaster forking a backend per connection: none may slip out between look and kill."""
    marker = "987.654321"  # a duration no other sleep on the machine uses
    forker = subprocess.Popen(
        ["sh", "-c", f"while true; do sleep {marker} & sleep 0.001; done"], start_new_session=True
    )

    def sleepers() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    try:
        _await(lambda: len(sleepers()) >= 20, 30, "the tree to grow")
        frozen = freeze_trees([forker.pid])
        kill_snapshot(frozen)
        assert forker.wait(timeout=10) == -signal.SIGKILL
        assert sleepers() == []
    finally:
        forker.kill()
        forker.wait(timeout=10)
        for pid in sleepers():
            os.kill(pid, signal.SIGKILL)
