"""Whole-process synth of the three stacks: lazy provider import vs the plain way.

Each approach runs in a fresh child process (as a user's ``synth`` would),
alternating, so both see the same machine load; we print wall time and peak
RSS (the child and its Node.js grandchild summed, sampled from /proc), their
ratios, and whether both wrote byte-identical output.

    python benchmarks/synth_bench.py [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# The plain approach: import the provider package the usual way first, which
# runs its __init__ and so imports every resource module, then synthesize.
PLAIN = (
    "import sys; import cdktf_cdktf_provider_aws; "
    "from infrastructure.main import main; main(['--outdir', sys.argv[1]])"
)
LAZY = "import sys; from infrastructure.main import main; main(['--outdir', sys.argv[1]])"


def _tree_rss_mb(root_pid: int) -> float:
    """Summed RSS of a process and all its descendants (Python + Node.js), from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier += children
    return sum(rss.get(pid, 0) for pid in tree) / 2**20


def _measure(code: str, outdir: Path) -> tuple[float, float]:
    """Wall seconds and peak summed RSS (MB) of one synth process tree."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(outdir)],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = 0.0
    while child.poll() is None:
        peak = max(peak, _tree_rss_mb(child.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"synth failed: {child.stderr.read().decode()[-500:]}")
    return seconds, peak


def _digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            sha.update(path.relative_to(folder).as_posix().encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"plain": [], "lazy": []}
    digests: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.runs):
            for name, code in (("plain", PLAIN), ("lazy", LAZY)):
                outdir = Path(scratch) / f"{name}-{run}"
                results[name].append(_measure(code, outdir))
                digests.setdefault(name, _digest(outdir))
    print(f"{'approach':8} {'wall s (median)':>16} {'peak MB (max)':>14}")
    summary = {}
    for name, samples in results.items():
        wall = statistics.median(s for s, _ in samples)
        peak = max(m for _, m in samples)
        summary[name] = (wall, peak)
        print(f"{name:8} {wall:16.2f} {peak:14.0f}")
    ratio = summary["lazy"][0] / summary["plain"][0]
    print(f"lazy/plain wall ratio: {ratio:.2f} (target <= 0.25)")
    print(f"lazy peak memory: {summary['lazy'][1]:.0f} MB (target <= 800 MB)")
    print(f"identical output: {digests['plain'] == digests['lazy']}")
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"measured {started}, runs={args.runs}, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
