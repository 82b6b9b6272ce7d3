"""The local drills, timed; and what running them side by side does to what they measure.

Default: the region-loss drill (DR-DEP-01) from nothing to cleaned up, wall
time split into setup, drill and teardown, with RTO/RPO and the timeline.

``--compare``: every drill alone, one after another, and all four side by
side (``python -m compliance drill``'s default), for ``--runs`` rounds
(alternating which comes first, so a drifting machine load favours
neither). For each drill it prints RTO, RPO and the stages that do not
depend on when the failure lands (promotion, recovery, DNS), alone and
together: median, min-max and the difference of the medians, judged
"within noise" when that difference is at most half the larger spread (and
at least 0.05 s). The records go to ``--json`` when given.

    python benchmarks/drill_bench.py [--runs 3] [--full-fidelity | --scale 0.2]
    python benchmarks/drill_bench.py --compare [--runs 5] [--json out.json]

The knobs and DR-RTO-01's budget come from the synthesized stacks (cached
synth, not timed). Load on the machine shows up in setup (initdb) and in
every figure: the load average is printed with each round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from compliance.drills.batch import run_drills  # noqa: E402
from compliance.drills.command import load_design  # noqa: E402
from compliance.drills.processes import descendants  # noqa: E402
from compliance.drills.scenarios import (  # noqa: E402
    DEFAULT_SCALE,
    SCENARIOS,
    DrillOptions,
    run_local,
)

STAGES = (
    "watchdog detection",
    "promotion",
    "secondary health-check recovery",
    "DNS update (PowerDNS poll)",
    "DNS TTL",
)


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

    record = run_local("DR-DEP-01", design, DrillOptions(scale_factor=scale, progress=progress))  # type: ignore[arg-type]
    wall = time.monotonic() - started
    return {
        "wall": wall,
        "setup": marks.get("ready", float("nan")),
        "drill": marks.get("served", wall) - marks.get("ready", 0.0),
        "teardown": wall - marks.get("served", wall),
        "record": record,
        "leftovers": len(descendants(os.getpid())),
    }


def figures(record: dict[str, Any]) -> dict[str, float]:
    """What one drill measured: RTO, RPO, the loss error (DR-DEP-02) and the stable stages."""
    out: dict[str, float] = {}
    for key in ("rto_seconds", "rpo_seconds"):
        if record.get(key) is not None:
            out[key.removesuffix("_seconds").upper()] = float(record[key])
    injected = record.get("measurements", {}).get("injected_lag_seconds")
    if injected is not None and record.get("rpo_seconds") is not None:
        out["lost - injected"] = round(float(record["rpo_seconds"]) - float(injected), 3)
    for row in record.get("stages", []):
        if row["stage"] in STAGES and row["measured_seconds"] is not None:
            if row["path"] in ("lab",) or row["path"] == record.get("budget", {}).get("rto_path"):
                out[row["stage"]] = float(row["measured_seconds"])
    return out


def compare(design: object, scale: float, runs: int, json_path: Path | None) -> int:
    ids = sorted(SCENARIOS)
    alone: dict[str, list[dict[str, Any]]] = {sid: [] for sid in ids}
    together: dict[str, list[dict[str, Any]]] = {sid: [] for sid in ids}
    options = DrillOptions(scale_factor=scale)
    for index in range(runs):
        order = ("alone", "together") if index % 2 == 0 else ("together", "alone")
        for mode in order:
            started, load = time.monotonic(), os.getloadavg()[0]
            if mode == "alone":
                for sid in ids:
                    alone[sid].append(run_local(sid, design, options))  # type: ignore[arg-type]
            else:
                for record in run_drills(ids, design, options, together=True):  # type: ignore[arg-type]
                    together[record["id"]].append(record)
            print(
                f"round {index + 1} {mode:8}: {time.monotonic() - started:5.1f} s wall, "
                f"load {load:.1f} before, {os.getloadavg()[0]:.1f} after",
                flush=True,
            )
    verdicts = []
    print(
        f"\n{'drill':9} {'figure':32} {'alone: median [min-max]':>26} "
        f"{'together: median [min-max]':>29} {'Δ median':>9}  verdict"
    )
    for sid in ids:
        names = sorted({name for r in alone[sid] + together[sid] for name in figures(r)})
        for name in names:
            a = [figures(r)[name] for r in alone[sid] if name in figures(r)]
            t = [figures(r)[name] for r in together[sid] if name in figures(r)]
            if not a or not t:
                continue
            delta = statistics.median(t) - statistics.median(a)
            noise = max(0.05, (max(max(a) - min(a), max(t) - min(t))) / 2)
            ok = abs(delta) <= noise
            verdicts.append(ok)
            print(
                f"{sid:9} {name:32} {statistics.median(a):8.3f} [{min(a):.3f}-{max(a):.3f}] "
                f"{statistics.median(t):11.3f} [{min(t):.3f}-{max(t):.3f}] {delta:+9.3f}  "
                f"{'within noise' if ok else 'DIFFERS'} (noise {noise:.3f})"
            )
    passed = {sid: [r["passed"] for r in alone[sid] + together[sid]] for sid in ids}
    print(f"\nverdicts per drill (alone then together): {passed}")
    print(f"{sum(verdicts)} of {len(verdicts)} figures within noise")
    if json_path is not None:
        json_path.write_text(json.dumps({"alone": alone, "together": together}, indent=1))
    return 0 if all(verdicts) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full-fidelity", action="store_true")
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--cdktf-out", type=Path, default=None)
    parser.add_argument("--compare", action="store_true", help="alone vs side by side")
    parser.add_argument("--json", type=Path, default=None, help="write every record here")
    args = parser.parse_args()
    scale = 1.0 if args.full_fidelity else args.scale
    design, _ = load_design(args.cdktf_out, REPO_ROOT)
    if args.compare:
        return compare(design, scale, args.runs, args.json)
    scaled = design.scaled(scale)
    knobs = scaled.knobs
    budget = scaled.budget.rto_seconds if scaled.budget else None
    print(
        f"DR-DEP-01 region loss, scale {scale:g}: health checks {knobs.interval:g} s × "
        f"{knobs.threshold}, TTL {knobs.ttl:g} s, DR-RTO-01 budget {budget} s; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    walls = []
    for index in range(args.runs):
        result = one_run(design, scale)
        record = result["record"]
        walls.append(result["wall"])
        timeline = ", ".join(f"{e['event']} {e['at_seconds']:.2f}" for e in record["timeline"])  # type: ignore[index]
        print(
            f"run {index + 1}: wall {result['wall']:5.1f} s (setup {result['setup']:4.1f}, "
            f"drill {result['drill']:4.1f}, teardown {result['teardown']:3.1f}); "
            f"RTO {record['rto_seconds']} s, RPO {record['rpo_seconds']} s, "  # type: ignore[index]
            f"{'passed' if record['passed'] else 'FAILED'}; leftover processes "  # type: ignore[index]
            f"{result['leftovers']}\n    {timeline}"
        )
    print(
        f"median wall {statistics.median(walls):.1f} s over {len(walls)} runs "
        f"(max {max(walls):.1f} s); load now {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
