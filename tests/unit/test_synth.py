"""Synthesis: cached by content, independent of working directory and clock."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.errors import InputError
from compliance.synth import REPO_ROOT, SynthResult, content_hash, synthesize


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_unchanged_app_comes_from_cache(synthesized: SynthResult, tmp_path: Path) -> None:
    assert synthesized.from_cache is False
    again = synthesize(
        REPO_ROOT, outdir=tmp_path / "out", cache_dir=synthesized.outdir.parent / "cache"
    )
    assert again.from_cache is True
    assert again.digest == synthesized.digest
    assert _tree_digest(again.outdir) == _tree_digest(synthesized.outdir)


def test_output_is_independent_of_working_directory_and_clock(
    synthesized: SynthResult, tmp_path: Path
) -> None:
    """The app run later, from another folder, writes the same bytes."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    subprocess.run(
        [sys.executable, "-m", "infrastructure.main", "--outdir", str(tmp_path / "out")],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
    )
    assert _tree_digest(tmp_path / "out") == _tree_digest(synthesized.outdir)
    text = (tmp_path / "out" / "stacks" / "secondary" / "cdk.tf.json").read_text()
    assert str(tmp_path) not in text and str(REPO_ROOT) not in text


def test_content_hash_follows_sources(tmp_path: Path) -> None:
    root = tmp_path / "app"
    shutil.copytree(
        REPO_ROOT / "infrastructure",
        root / "infrastructure",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(
        REPO_ROOT / "lambda", root / "lambda", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPO_ROOT / "cdktf.json", root / "cdktf.json")
    before = content_hash(root)
    assert content_hash(root) == before
    (root / "lambda" / "failover" / "handler.py").write_text("# changed\n", encoding="utf-8")
    assert content_hash(root) != before


def test_synth_failure_is_an_input_error(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "infrastructure").mkdir(parents=True)
    (root / "lambda").mkdir()
    (root / "cdktf.json").write_text("{}")
    (root / "infrastructure" / "__init__.py").write_text("")
    (root / "infrastructure" / "main.py").write_text("raise SystemExit('boom: no app here')\n")
    with pytest.raises(InputError, match="synth failed: boom: no app here"):
        synthesize(root, cache_dir=tmp_path / "cache")
