"""Progress of the drill command: pinned lines on a terminal's stderr, plain lines in CI."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from compliance.drills.progress import Progress

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "tests" / "fixtures" / "drills_sample.json"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_plain_lines_carry_the_elapsed_time_and_no_terminal_codes() -> None:
    stream, terminal = io.StringIO(), io.StringIO()
    with Progress(stream, live=False, terminal=terminal) as progress:
        progress("DR-DEP-01 killing region us-east-1")
    assert re.fullmatch(r"\[\s+\d+\.\ds\] DR-DEP-01 killing region us-east-1\n", stream.getvalue())
    assert terminal.getvalue() == ""


def test_on_a_terminal_each_drill_has_a_pinned_line_with_its_phase() -> None:
    stream, terminal = io.StringIO(), io.StringIO()
    with Progress(stream, live=True, terminal=terminal) as progress:
        progress("DR-DEP-01 building the lab")
        progress("DR-DEP-02 killing region us-east-1")
        progress("DR-DEP-01 cleaned up")
        progress("a line of no drill")
    screen = ANSI.sub("", terminal.getvalue())
    assert "DR-DEP-02" in screen and "killing region us-east-1" in screen
    last = [line for line in screen.splitlines() if "DR-DEP-01" in line][-1]
    assert "done" in last and "✓" in last
    assert "a line of no drill" not in screen  # only drills get a pinned line
    assert stream.getvalue().count("\n") == 4  # the plain lines still go to the output


PRELUDE = f"""
import json, sys
from compliance.drills import command

def fake(scenario_id, design, options):
    options.progress(f"{{scenario_id}} pretending to drill")
    record = json.load(open({str(SAMPLE)!r}))[0]
    record.update(id=scenario_id, scale_factor=options.scale_factor)
    options.progress(f"{{scenario_id}} cleaned up")
    return record

command.run_local = fake
from compliance.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _drill(synth_dir: Path, report: Path, stderr: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-c", PRELUDE, "drill", "--scenario", "DR-DEP-01", "--scenario"]
    argv += ["DR-DEP-03", "--cdktf-out", str(synth_dir), "--report-dir", str(report)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TERM": "xterm", "COLUMNS": "120"}
    return subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr)


def _read_all(fd: int, child: subprocess.Popen[bytes], timeout: float = 120.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            data += chunk
        elif child.poll() is not None:
            break
    return data


def test_the_command_pins_progress_when_stderr_is_a_terminal(
    synth_dir: Path, tmp_path: Path
) -> None:
    master, slave = pty.openpty()
    child = _drill(synth_dir, tmp_path, stderr=slave)
    os.close(slave)
    try:
        screen = _read_all(master, child).decode(errors="replace")
        out = child.communicate(timeout=120)[0].decode()
    finally:
        os.close(master)
    assert child.returncode == 0, out + screen
    assert ANSI.search(screen), screen  # drawn, not printed
    assert "DR-DEP-03" in ANSI.sub("", screen)
    assert "] DR-DEP-03 pretending to drill" in out  # stdout (not a terminal) keeps plain lines
    assert "PASSED  DR-DEP-01" in out


def test_the_command_prints_plain_lines_when_stderr_is_not_a_terminal(
    synth_dir: Path, tmp_path: Path
) -> None:
    child = _drill(synth_dir, tmp_path, stderr=subprocess.PIPE)
    out, err = (part.decode() for part in child.communicate(timeout=120))
    assert child.returncode == 0, out + err
    assert not ANSI.search(out + err), err
    assert "] DR-DEP-01 pretending to drill" in out and "] DR-DEP-01 cleaned up" in out
