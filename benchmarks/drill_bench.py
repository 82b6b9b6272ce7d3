"""The local region-loss drill (DR-DEP-01), from nothing to cleaned up, timed.

Each run builds a fresh lab (initdb, primary, pg_basebackup standby, two
health functions, PowerDNS), kills the primary region, measures RTO/RPO and
tears everything down; we print wall time split into setup, drill and
teardown, the measured RTO/RPO and the timeline, then the median. The
knobs come from the synthesized stacks (cached synth, not timed).

    python benchmarks/drill_bench.py [--runs 3] [--full-fidelity | --scale 0.2]

Feasibility target on the project's 2-core machines: <= 20 s per run with
the default scale (0.2). Load on the machine shows up in setup (initdb).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from compliance.drills.command import load_design  # noqa: E402
from compliance.drills.processes import descendants  # noqa: E402
from compliance.drills.scenarios import DEFAULT_SCALE, DrillOptions, run_local  # noqa: E402


def one_run(design: object, scale: float) -> dict[str, object]:
    marks: dict[str, float] = {}
    started = time.monotonic()

    def progress(message: str) -> None:
        now = time.monotonic() - started
        for key, needle in (
            ("ready", "engines started"),
            ("failed", "killing region"),
            ("served", "first write served"),
        ):
            if needle in message:
                marks.setdefault(key, now)

    record = run_local("DR-DEP-01", design, DrillOptions(scale_factor=scale, progress=progress))
    wall = time.monotonic() - started
    return {
        "wall": wall,
        "setup": marks.get("ready", float("nan")),
        "drill": marks.get("served", wall) - marks.get("ready", 0.0),
        "teardown": wall - marks.get("served", wall),
        "record": record,
        "leftovers": len(descendants(os.getpid())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full-fidelity", action="store_true")
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--cdktf-out", type=Path, default=None)
    args = parser.parse_args()
    scale = 1.0 if args.full_fidelity else args.scale
    design, _ = load_design(args.cdktf_out)
    knobs = design.scaled(scale).knobs
    print(
        f"DR-DEP-01 region loss, scale {scale:g}: interval {knobs.interval:g} s × "
        f"{knobs.threshold}, TTL {knobs.ttl:g} s, budget {knobs.budget():g} s; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    walls = []
    for index in range(args.runs):
        result = one_run(design, scale)
        record = result["record"]
        walls.append(result["wall"])
        timeline = ", ".join(f"{e['event']} {e['at_seconds']:.2f}" for e in record["timeline"])
        print(
            f"run {index + 1}: wall {result['wall']:5.1f} s (setup {result['setup']:4.1f}, "
            f"drill {result['drill']:4.1f}, teardown {result['teardown']:3.1f}); "
            f"RTO {record['rto_seconds']} s, RPO {record['rpo_seconds']} s, "
            f"{'passed' if record['passed'] else 'FAILED'}; leftover processes "
            f"{result['leftovers']}\n    {timeline}"
        )
    print(
        f"median wall {statistics.median(walls):.1f} s over {len(walls)} runs "
        f"(max {max(walls):.1f} s); load now {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
