"""The warm main job (``tox -e compliance``) beside one fresh-process synth, and its split.

What ``tox -e compliance`` runs, without tox's own start: ``python -m
compliance run --report-dir DIR --timings`` in a fresh process, with every
cache warm (one run first warms them), the features and the drills
included, the Chromium screenshot too (``--no-screenshot`` leaves it out).
Beside it, in the same rounds so both see the same machine load, a
fresh-process ``python -m compliance synth`` with an empty cache
(``DR_COMPLIANCE_CACHE_DIR`` pointing at a new temporary folder): the app
really runs. The split is the main job's own measurement (``--timings``):
synth, evaluation, features, drills, reports. Prints medians, the CPU the
children used, the load average, and the ratio main job / fresh synth
(target: at most 5).

    python benchmarks/main_job_bench.py [--rounds 3] [--no-screenshot]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STAGES = ("synth", "evaluation", "features", "drills", "reports")
TARGET_RATIO = 5.0
_TIMINGS = re.compile(r"^timings: (?P<parts>.*), total (?P<total>[\d.]+) s$", re.M)


def environment(**extra: str) -> dict[str, str]:
    """As tox.ini's testenv sets it."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        **extra,
    }


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the process and its children, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):  # 1: a requirement is violated, still a whole run
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise SystemExit(f"{' '.join(command[2:])} exited {done.returncode}:\n{tail}")
    return wall, cpu, done.stdout + done.stderr


def main_job(report_dir: Path, screenshot: bool) -> tuple[float, float, dict[str, float]]:
    command = [sys.executable, "-m", "compliance", "run", "--report-dir", str(report_dir)]
    command += ["--timings"] + ([] if screenshot else ["--no-screenshot"])
    wall, cpu, output = timed(command, environment())
    found = _TIMINGS.search(output)
    if found is None:
        raise SystemExit("the main job printed no timings line (run --timings)")
    split = {
        name: float(seconds) for name, seconds in re.findall(r"(\w+) ([\d.]+) s", found["parts"])
    }
    split["total"] = float(found["total"])
    return wall, cpu, split


def fresh_synth(scratch: Path, round_: int) -> float:
    cache = scratch / f"cache-{round_}"
    command = [sys.executable, "-m", "compliance", "synth", "--outdir", str(scratch / "out")]
    wall, _, output = timed(command, environment(DR_COMPLIANCE_CACHE_DIR=str(cache)))
    if " from app " not in output:  # "synthesized DIR from app in N s": the app really ran
        raise SystemExit(f"the fresh synth did not run the app:\n{output[-2000:]}")
    return wall


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-screenshot", action="store_true")
    args = parser.parse_args(argv)
    screenshot = not args.no_screenshot
    with tempfile.TemporaryDirectory(prefix="main-job-bench-") as folder:
        scratch = Path(folder)
        print(f"load average at start: {load()} ({os.cpu_count()} cores)", flush=True)
        print("warming the caches: one main job first", flush=True)
        main_job(scratch / "reports", screenshot)
        jobs: list[tuple[float, float, dict[str, float]]] = []
        synths: list[float] = []
        for round_ in range(args.rounds):
            synths.append(fresh_synth(scratch, round_))
            jobs.append(main_job(scratch / "reports", screenshot))
            wall, cpu, split = jobs[-1]
            parts = ", ".join(f"{stage} {split.get(stage, 0.0):.1f}" for stage in STAGES)
            print(
                f"round {round_ + 1}: fresh synth {synths[-1]:.1f} s; main job {wall:.1f} s "
                f"(cpu {cpu:.1f} s; {parts}); load {load()}",
                flush=True,
            )
        job = statistics.median(wall for wall, _, _ in jobs)
        synth = statistics.median(synths)
        print()
        print(f"fresh-process synth (empty cache): median {synth:.1f} s of {len(synths)}")
        print(f"warm main job (fresh process):     median {job:.1f} s of {len(jobs)}")
        for stage in (*STAGES, "total"):
            seconds = statistics.median(split.get(stage, 0.0) for _, _, split in jobs)
            print(f"  {stage:11} {seconds:6.1f} s")
        ratio = job / synth
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        print(f"main job / fresh synth: {ratio:.1f}x ({verdict} the {TARGET_RATIO:g}x target)")
        print(f"load average at end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
