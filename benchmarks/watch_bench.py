"""Save-to-verdict time of ``python -m compliance watch`` beside one fresh-process synth.

A copy of this repository's app (``infrastructure/``, ``lambda/``,
``cdktf.json``, its ``[tool.dr-compliance]`` source list) and of its
policies goes into a temporary folder. ``watch`` runs on it in a child process; after its first
verdict, the bench alternates, so both see the same machine load:

- a fresh-process ``python -m compliance synth --app COPY`` with an empty
  synth cache (the app really runs), timed from start to exit;
- a one-line edit of ``infrastructure/stacks/regional.py`` (the KMS recovery
  window: under 7 days breaks DR-ENC-02, more restores it; each edit a new
  value, so no verdict comes from the decisions cache), timed from just
  before the write to the moment ``watch`` prints its verdict line.

Each verdict line must name DR-ENC-02 as changed the right way, or the bench
fails: a fast loop that missed the edit would measure nothing. Prints both
medians, their ratio, and the watch's own synth/check split.

    python benchmarks/watch_bench.py [--edits 6]
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK = Path("infrastructure/stacks/regional.py")
KEPT = "deletion_window_days=config.kms_deletion_window_days,"
WINDOW = re.compile(r"deletion_window_days=[^,]+,")
MINIMUM_WINDOW = 7  # DR-ENC-02: fewer days of recovery window fail it
REQUIREMENT = "DR-ENC-02"
TARGET_SECONDS, TARGET_RATIO = 2.0, 0.4
FIRST_VERDICT_TIMEOUT, VERDICT_TIMEOUT = 600.0, 120.0
_SPLIT = re.compile(r"\[synth (?P<synth>[\d.]+) s, check (?P<check>[\d.]+) s\]")


def copy_app(target: Path) -> Path:
    """This repository's app, alone in ``target``: the watched copy."""
    app = target / "app"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("infrastructure", "lambda"):
        shutil.copytree(REPO_ROOT / folder, app / folder, ignore=ignore)
    shutil.copy2(REPO_ROOT / "cdktf.json", app / "cdktf.json")
    (app / "pyproject.toml").write_text(
        '[tool.dr-compliance]\nsource = ["infrastructure", "lambda"]\n', encoding="utf-8"
    )
    # The policies too: edits to the repository's own must not land in the measurement.
    shutil.copytree(REPO_ROOT / "policies", target / "policies", ignore=ignore)
    if KEPT not in (app / STACK).read_text(encoding="utf-8"):
        raise SystemExit(f"{STACK} no longer holds '{KEPT}': update the bench's edit")
    return app


def environment(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        **extra,
    }


class Watch:
    """``python -m compliance watch`` in a child process; its stdout lines, time-stamped."""

    def __init__(self, app: Path) -> None:
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "compliance", "watch", "--app", str(app)]
            + ["--policies", str(app.parent / "policies")],
            cwd=REPO_ROOT,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))
        self.lines.put((time.perf_counter(), ""))  # end of output

    def next_verdict(self, timeout: float) -> tuple[float, str]:
        deadline = time.perf_counter() + timeout
        while True:
            try:
                stamp, line = self.lines.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                raise SystemExit(f"no verdict line within {timeout:.0f} s") from None
            if line.startswith("verdict:"):
                return stamp, line
            if line.startswith(("synth failed", "check failed")) or not line:
                stderr = self.process.stderr.read() if not line and self.process.stderr else ""
                raise SystemExit(f"watch said: {line or 'nothing more'} {stderr[-500:]}")

    def stop(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        return self.process.wait(60)


def fresh_synth(app: Path, scratch: Path, run: int) -> float:
    """Wall seconds of one ``python -m compliance synth`` with an empty synth cache."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable, "-m", "compliance", "synth",
            "--app", str(app), "--outdir", str(scratch / f"fresh-{run}"),
        ],
        cwd=REPO_ROOT,
        env=environment(DR_COMPLIANCE_CACHE_DIR=str(scratch / f"cache-{run}")),
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def edit(app: Path, run: int) -> tuple[float, bool]:
    """Save the stack file with a one-line change; the moment before the write, and if it breaks.

    Every edit gives a state not seen before (a window of 1, 2, 3... days
    breaks DR-ENC-02, one of 20, 22... restores it), so no verdict comes from
    the decisions cache of an earlier edit.
    """
    broken = run % 2 == 0
    days = 1 + run // 2 if broken else 20 + run
    assert (days < MINIMUM_WINDOW) == broken
    path = app / STACK
    text = WINDOW.sub(f"deletion_window_days={days},", path.read_text(encoding="utf-8"), count=1)
    started = time.perf_counter()
    path.write_text(text, encoding="utf-8")
    return started, broken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=6, help="edits (and fresh synths) to time")
    args = parser.parse_args()
    fresh: list[float] = []
    loop: list[float] = []
    splits: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="watch-bench-") as folder:
        scratch = Path(folder)
        app = copy_app(scratch)
        watch = Watch(app)
        try:
            started = time.perf_counter()
            stamp, line = watch.next_verdict(FIRST_VERDICT_TIMEOUT)
            print(f"first verdict after {stamp - started:.1f} s: {line}")
            for run in range(args.edits):
                fresh.append(fresh_synth(app, scratch, run))
                saved, broken = edit(app, run)
                stamp, line = watch.next_verdict(VERDICT_TIMEOUT)
                expected = "passed -> failed" if broken else "failed -> passed"
                if f"{REQUIREMENT} {expected}" not in line:
                    raise SystemExit(f"edit {run}: expected '{REQUIREMENT} {expected}' in: {line}")
                loop.append(stamp - saved)
                split = _SPLIT.search(line)
                if split:
                    splits.append((float(split["synth"]), float(split["check"])))
                print(
                    f"edit {run}: fresh synth {fresh[-1]:.2f} s, save to verdict {loop[-1]:.2f} s"
                )
        finally:
            code = watch.stop()
        if code not in (0, 130):
            raise SystemExit(f"watch exited {code} on Ctrl-C")
    report(fresh, loop, splits)


def report(fresh: list[float], loop: list[float], splits: list[tuple[float, float]]) -> None:
    fresh_median, loop_median = statistics.median(fresh), statistics.median(loop)
    ratio = loop_median / fresh_median
    print(
        f"fresh-process synth: median {fresh_median:.2f} s "
        f"(min {min(fresh):.2f}, max {max(fresh):.2f}, n={len(fresh)})"
    )
    print(
        f"watch save-to-verdict: median {loop_median:.2f} s "
        f"(min {min(loop):.2f}, max {max(loop):.2f}, n={len(loop)}; target <= {TARGET_SECONDS} s)"
    )
    if splits:
        print(
            f"  of which watch's synth {statistics.median(s for s, _ in splits):.2f} s, "
            f"check {statistics.median(c for _, c in splits):.2f} s (medians)"
        )
    print(f"ratio save-to-verdict / fresh synth: {ratio:.2f} (target <= {TARGET_RATIO})")
    worst = max(loop) / fresh_median
    print(f"worst edit / median fresh synth: {worst:.2f}")
    print(
        f"measured {time.strftime('%Y-%m-%d %H:%M:%S')}, load average "
        f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} cores, python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
