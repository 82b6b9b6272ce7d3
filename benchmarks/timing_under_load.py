"""Run the timing-dependent tests N times in a row with every core kept busy.

A test that passes only on an idle machine is flaky on a shared CI runner. This
script loads each core with one busy process (a pure-Python spin loop at normal
priority, so it competes with the tests for every time slice), then runs the
tests that wait on clocks, threads, child processes or sockets, serially
(``-n 0``: the spinners already take every core), ``--rounds`` times. It prints
one line per round (passed/failed, seconds, load average) and a final count.

    python benchmarks/timing_under_load.py [--rounds 20] [--spinners N] [--drills]

``--drills`` adds the deploy-phase features (real PostgreSQL and PowerDNS,
minutes per round). Run from the repository root with the test dependencies
installed (``.tox/py/bin/python benchmarks/timing_under_load.py``).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Every test module that waits on a clock, a thread, a child process or a socket.
TIMING_TESTS = [
    "tests/unit/test_drill_batch.py",
    "tests/unit/test_drill_chain.py",
    "tests/unit/test_drill_cleanup.py",
    "tests/unit/test_drill_command.py",
    "tests/unit/test_drill_functions.py",
    "tests/unit/test_drill_parts.py",
    "tests/unit/test_drill_progress.py",
    "tests/unit/test_failover_watchdog.py",
    "tests/unit/test_health_check_handler.py",
    "tests/unit/test_progress.py",
    "tests/unit/test_remote_engine.py",
    "tests/unit/test_synth.py",
    "tests/unit/test_watch.py",
]
DRILL_TESTS = ["tests/step_defs/test_deploy_features.py"]
_SUMMARY = re.compile(r"(\d+ (?:passed|failed|error)[^\n]*) in [\d.]+s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--spinners", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--drills", action="store_true", help="add the deploy-phase features")
    parser.add_argument("--keyword", "-k", default=None, help="pytest -k expression")
    parser.add_argument("tests", nargs="*", help="test files or node ids (default: the list above)")
    args = parser.parse_args()
    tests = args.tests or TIMING_TESTS + (DRILL_TESTS if args.drills else [])
    logs = Path(tempfile.mkdtemp(prefix="timing-under-load-"))
    # SIGTERM ends the run like Ctrl-C: the finally below stops the spinners.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DR_STRICT": "1"}
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.spinners)
    ]
    print(f"{args.spinners} spinner(s) on {os.cpu_count()} core(s); {len(tests)} test paths")
    failed_rounds = 0
    try:
        time.sleep(2)  # let the load average see the spinners
        for round_ in range(1, args.rounds + 1):
            started = time.monotonic()
            done = subprocess.run(
                [
                    *(sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider"),
                    *(("-k", args.keyword) if args.keyword else ()),
                    *tests,
                ],
                cwd=REPO_ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            summary = _SUMMARY.findall(done.stdout)
            line = summary[-1] if summary else f"exit {done.returncode}"
            if done.returncode != 0:
                failed_rounds += 1
                failures = [x for x in done.stdout.splitlines() if x.startswith("FAILED")]
                log = logs / f"round-{round_}.log"
                log.write_text(done.stdout + done.stderr, encoding="utf-8")
                line += "; " + "; ".join(failures[:5]) + f" (output: {log})"
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            elapsed = time.monotonic() - started
            print(f"round {round_:2}: {line} ({elapsed:.0f} s, load {load})", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        return 130
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    print(f"{args.rounds - failed_rounds} of {args.rounds} rounds passed under load")
    return 1 if failed_rounds else 0


if __name__ == "__main__":
    sys.exit(main())
