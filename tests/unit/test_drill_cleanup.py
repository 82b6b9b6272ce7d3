"""Every process, folder and port of a drill is released: on failure and on Ctrl-C too."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compliance.drills.engines import EngineMissing, Engines, locate
from compliance.drills.knobs import read_design
from compliance.drills.processes import (
    ChildFailed,
    DrillInterrupted,
    Supervisor,
    descendants,
    group_members,
)
from compliance.drills.scenarios import DrillOptions, run_local
from compliance.model import Model
from compliance.settings import load_settings
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
    model: Model, engines_or_skip: Engines
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

    design = read_design(model, load_settings())
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


def test_ctrl_c_on_the_drill_command_cleans_up(
    synth_dir: Path, engines_or_skip: Engines, tmp_path: Path
) -> None:
    command = [
        sys.executable,
        "-m",
        "compliance",
        "drill",
        "--scenario",
        "DR-DEP-01",
        "--cdktf-out",
        str(synth_dir),
        "--report-dir",
        str(tmp_path),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "client writing" in line:
                break
        else:
            pytest.fail("".join(lines))
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(lines) + rest
    assert process.returncode == 130, output
    assert "interrupted: every process and temporary folder was released" in output
    folder = LAB_LINE.search(output)
    assert folder is not None, output
    assert not Path(folder[1]).exists()
    assert _processes_using(folder[1]) == [], output
    assert not _listening(int(folder[2])) and not _listening(int(folder[3]))
    assert not (tmp_path / "drills.json").exists()  # nothing half-measured is reported
