"""Synthesize the project's own CDKTF app, once per content hash.

The app runs in a child process (``python -m infrastructure.main``): jsii
starts a Node.js process and loads the provider assembly, memory the harness
should not keep. The output is cached under a hash of everything that
determines it, so an unchanged app is never synthesized twice.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from compliance.errors import InputError

REPO_ROOT = Path(__file__).resolve().parent.parent
PINNED = ("cdktf", "cdktf-cdktf-provider-aws", "constructs", "jsii")
_SOURCES = ("infrastructure", "lambda")
_SKIP = {"__pycache__"}


@dataclass(frozen=True)
class SynthResult:
    outdir: Path
    digest: str
    from_cache: bool
    seconds: float


def pinned_versions() -> dict[str, str]:
    """Versions of the packages that shape the synthesized JSON."""
    found = {}
    for name in PINNED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    return found


def input_files(root: Path) -> list[Path]:
    files = [root / "cdktf.json"]
    for folder in _SOURCES:
        files += [
            path
            for path in (root / folder).rglob("*")
            if path.is_file() and not _SKIP.intersection(path.parts) and path.suffix != ".pyc"
        ]
    return sorted(files)


def content_hash(root: Path = REPO_ROOT) -> str:
    """SHA-256 over the app's sources, ``cdktf.json`` and the pinned versions."""
    sha = hashlib.sha256()
    for name, number in sorted(pinned_versions().items()):
        sha.update(f"{name}=={number}\n".encode())
    sha.update(f"python {sys.version_info[:2]}\n".encode())
    for path in input_files(root):
        if path.exists():
            sha.update(path.relative_to(root).as_posix().encode() + b"\0")
            sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()


def synthesize(
    root: Path = REPO_ROOT,
    outdir: Path | None = None,
    cache_dir: Path | None = None,
) -> SynthResult:
    """Write the synthesized app to ``outdir`` (default: ``<root>/cdktf.out``)."""
    outdir = (outdir or root / "cdktf.out").resolve()
    cache_dir = (cache_dir or root / ".cache" / "synth").resolve()
    digest = content_hash(root)
    cached = cache_dir / digest
    started = time.perf_counter()
    from_cache = (cached / "manifest.json").is_file()
    if not from_cache:
        _run_app(root, cached)
    if outdir != cached:
        if outdir.exists():
            shutil.rmtree(outdir)
        shutil.copytree(cached, outdir)
    return SynthResult(outdir, digest, from_cache, time.perf_counter() - started)


def _run_app(root: Path, target: Path) -> None:
    """Run the app into a scratch folder, then move it into place atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="synth-", dir=target.parent))
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    command = [sys.executable, "-m", "infrastructure.main", "--outdir", str(scratch / "out")]
    try:
        completed = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0 or not (scratch / "out" / "manifest.json").is_file():
            lines = [line for line in completed.stderr.splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit code {completed.returncode}"
            raise InputError(root / "infrastructure" / "main.py", f"synth failed: {reason}")
        if target.exists():
            shutil.rmtree(target)
        (scratch / "out").rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
