"""``python -m compliance drill``: phases on screen, drills.json written, exit codes."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from compliance.cli import main
from compliance.drills import command
from compliance.drills.engines import EngineMissing
from compliance.drills.results import validate

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "drills_sample.json"


def sample_drill() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))[0]


def _fake_run_local(passed: bool = True) -> Any:
    def run_local(scenario_id: str, design: Any, options: Any) -> dict[str, Any]:
        options.progress(f"{scenario_id} pretending to drill")
        return {
            **sample_drill(),
            "id": scenario_id,
            "passed": passed,
            "scale_factor": options.scale_factor,
        }

    return run_local


def test_drill_command_prints_phases_and_writes_drills_json(
    synth_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(command, "run_local", _fake_run_local())
    code = main(
        [
            "drill",
            "--scenario",
            "DR-DEP-01",
            "--scenario",
            "DR-DEP-03",
            "--full-fidelity",
            "--cdktf-out",
            str(synth_dir),
            "--report-dir",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "knobs: interval 10 s × threshold 2, TTL 5 s" in out and "scale factor 1" in out
    assert "] DR-DEP-03 pretending to drill" in out
    sample = sample_drill()
    assert "PASSED  DR-DEP-01" in out
    budget = f"DR-RTO-01 budget {sample['static_budget_seconds']:g} s"
    assert f"RTO {sample['rto_seconds']:.2f} s (target 12 s, {budget})" in out
    assert "DR-RTO-01 budget 110 s" in out  # the design's own, before scaling
    assert "2 drills side by side" in out
    drills = json.loads((tmp_path / "drills.json").read_text())
    assert [d["id"] for d in drills] == ["DR-DEP-01", "DR-DEP-03"]
    assert all(d["scale_factor"] == 1.0 for d in drills)
    for drill in drills:
        validate(drill)


def test_drill_command_exit_codes(
    synth_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    args = [
        "drill",
        "--scenario",
        "DR-DEP-02",
        "--cdktf-out",
        str(synth_dir),
        "--report-dir",
        str(tmp_path),
    ]
    monkeypatch.setattr(command, "run_local", _fake_run_local(passed=False))
    assert main(args) == 1
    assert "FAILED  DR-DEP-02" in capsys.readouterr().out

    def missing(*a: Any) -> None:
        raise EngineMissing("PowerDNS server (pdns_server) not found", ("pdns-server",))

    monkeypatch.setattr(command, "run_local", missing)
    assert main(args) == 2
    assert "apt-get install pdns-server" in capsys.readouterr().err

    def interrupted(*a: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "run_local", interrupted)
    assert main(args) == 130
    assert "interrupted" in capsys.readouterr().out
    assert main([*args, "--scale", "1.5"]) == 2
    assert main(["drill", "--cdktf-out", str(tmp_path / "absent")]) == 2


def test_progress_keeps_talking_during_long_silences() -> None:
    stream = io.StringIO()
    progress = command.Progress(stream, heartbeat=0.05, live=False)
    with progress:
        progress("waiting for the alarm")
        deadline = time.monotonic() + 10
        while "still running" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
    text = stream.getvalue()
    assert "] waiting for the alarm" in text
    assert "... still running" in text and "since: waiting for the alarm" in text


def _lab_left_open(release_timeout: float = 60.0) -> Any:
    """A run_local that starts a lab and is interrupted before its release ever ran."""
    from compliance.drills.processes import Supervisor

    started: list[Any] = []

    def run_local(*a: Any) -> None:
        supervisor = Supervisor(release_timeout=release_timeout)
        started.append((supervisor, supervisor.spawn("sleeper", ["sleep", "300"])))
        raise KeyboardInterrupt

    return run_local, started


def test_interrupted_command_finishes_the_release_before_saying_so(
    synth_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    run_local, started = _lab_left_open()
    monkeypatch.setattr(command, "run_local", run_local)
    code = main(["drill", "--cdktf-out", str(synth_dir), "--report-dir", str(tmp_path)])
    out = capsys.readouterr().out
    supervisor, child = started[0]
    assert code == 130 and "interrupted: every process and temporary folder was released" in out
    assert not child.alive() and not supervisor.root.exists()


def test_interrupted_command_says_what_it_could_not_release(
    synth_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from compliance.drills import processes

    run_local, started = _lab_left_open(release_timeout=0.3)
    monkeypatch.setattr(command, "run_local", run_local)
    monkeypatch.setattr(processes.shutil, "rmtree", lambda *a, **k: None)  # a folder that stays
    code = main(["drill", "--cdktf-out", str(synth_dir), "--report-dir", str(tmp_path)])
    captured = capsys.readouterr()
    supervisor, child = started[0]
    monkeypatch.undo()
    try:
        assert code == 130
        assert "every process and temporary folder was released" not in captured.out
        assert "interrupted: the lab could not be fully released" in captured.out
        assert f"left behind: {supervisor.root}: folder {supervisor.root}" in captured.err
        assert not child.alive()  # what could be released was
    finally:
        supervisor.close()
    assert not supervisor.root.exists()
