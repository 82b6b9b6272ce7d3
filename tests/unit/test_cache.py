"""The content-keyed cache: user folder, atomic entries, locks, leftovers of killed runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import platformdirs
import pytest

from compliance import cache
from compliance.cache import STALE_SECONDS, Store

REPO_ROOT = Path(__file__).resolve().parents[2]


def _age(path: Path, seconds: float) -> None:
    """Make ``path`` look ``seconds`` old (a killed run's leftover from long ago)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_cache_root_is_the_variable_else_the_users_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "mine"))
    assert cache.cache_folder("synth") == tmp_path / "mine" / "synth"
    monkeypatch.delenv(cache.ENV_VAR)
    root = cache.cache_root()
    assert root == platformdirs.user_cache_path("dr-compliance", appauthor=False)
    assert not root.is_relative_to(REPO_ROOT)  # never inside the harness's repository


def test_a_temporary_name_carries_its_key_and_is_unique() -> None:
    names = {cache.temporary_name("provider-aws-1.2.3-ab-f3") for _ in range(50)}
    assert len(names) == 50
    assert {cache.key_of_temporary(name) for name in names} == {"provider-aws-1.2.3-ab-f3"}
    assert cache.key_of_temporary("provider-aws-1.2.3-ab-f3") is None  # a complete entry


def test_a_folder_entry_is_never_replaced_under_a_reader(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = store.scratch("k") / "out"
    first.mkdir()
    (first / "manifest.json").write_text("first")
    entry = store.publish(first, "k")
    with (entry / "manifest.json").open() as reading:
        second = store.scratch("k") / "out"
        second.mkdir()
        (second / "manifest.json").write_text("second")
        assert store.publish(second, "k") == entry
        assert reading.read() == "first"
    assert (entry / "manifest.json").read_text() == "first"
    assert not second.exists()


def test_a_file_entry_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    store = Store(tmp_path / "schema")
    entry = store.write_bytes("k.json", b"old")
    with entry.open("rb") as reading:
        store.write_bytes("k.json", b"new" * 1000)
        assert reading.read() == b"old"  # a reader keeps the inode it opened
    assert entry.read_bytes() == b"new" * 1000
    assert [p.name for p in store.folder.iterdir() if p.name.startswith(".dr")] == []


def test_a_failed_or_interrupted_build_leaves_no_entry_and_no_scratch(tmp_path: Path) -> None:
    store = Store(tmp_path)

    def build(scratch: Path) -> Path:
        (scratch / "out").mkdir()
        (scratch / "out" / "half").write_text("x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.get_or_build("k", build, lambda p: (p / "manifest.json").is_file())
    assert sorted(p.name for p in tmp_path.iterdir()) == [".locks"]


def test_get_or_build_builds_once_then_hits(tmp_path: Path) -> None:
    store = Store(tmp_path)
    calls = []

    def build(scratch: Path) -> Path:
        calls.append(scratch)
        (scratch / "out").mkdir()
        (scratch / "out" / "manifest.json").write_text("{}")
        return scratch / "out"

    def valid(entry: Path) -> bool:
        return (entry / "manifest.json").is_file()

    first = store.get_or_build("k", build, valid)
    second = store.get_or_build("k", build, valid)
    assert first == (tmp_path / "k", False) and second == (tmp_path / "k", True)
    assert len(calls) == 1 and not calls[0].exists()


def test_an_invalid_entry_is_built_again(tmp_path: Path) -> None:
    store = Store(tmp_path)
    (tmp_path / "k").mkdir()  # e.g. written by an older layout, without a manifest

    def build(scratch: Path) -> Path:
        (scratch / "out").mkdir()
        (scratch / "out" / "manifest.json").write_text("{}")
        return scratch / "out"

    entry, hit = store.get_or_build("k", build, lambda p: (p / "manifest.json").is_file())
    assert not hit and (entry / "manifest.json").is_file()


def test_the_sweep_removes_only_old_leftovers_nobody_is_writing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    old = store.scratch("dead")
    (old / "out").mkdir()
    young = store.scratch("young")
    busy = store.scratch("busy")
    entry = tmp_path / "complete"
    entry.mkdir()
    for path in (old, busy, entry):
        _age(path, STALE_SECONDS + 60)
    with store.writing("busy"):  # a live writer of "busy" may still be filling its scratch
        removed = store.sweep()
    assert removed == [old]
    assert not old.exists() and young.exists() and busy.exists() and entry.exists()


def test_a_killed_writer_releases_its_lock(tmp_path: Path) -> None:
    """flock dies with its holder: a SIGKILLed run never blocks the next one."""
    store = Store(tmp_path)
    code = (
        "import sys; from compliance.cache import Store\n"
        "with Store(sys.argv[1]).writing('k'):\n"
        "    print('held', flush=True); sys.stdin.readline()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert store.is_being_written("k")
    finally:
        holder.kill()
        holder.wait()
    assert not store.is_being_written("k")


def test_file_digest_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert cache.digest_of_file(path) == expected
