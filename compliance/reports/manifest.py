"""The evidence manifest: what one run read and wrote, who ran it, and from which commit.

An auditor trusts a verdict only as far as the inputs that decided it can be
pinned down: every policy file, the settings (and an app's overrides), the
waivers, each synthesized stack file that was checked and each asset the checks
read, the feature and drill results the report reads, and the harness itself.
Each is listed with its SHA-256, as is every file the run wrote. Who ran it is
the CI identity when the environment has one (GitHub Actions: actor, workflow,
run), else the local user; in CI the workflow also attests the report set, so
the manifest is signed by the CI identity.

The commit is that of the repository holding the checked app. Without one (no
repository, no git) or with uncommitted changes, the report says it is not
reproducible from a commit, and why.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import socket
import subprocess
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

from compliance.app_config import discover
from compliance.evaluation import Evaluation
from compliance.reports.document import FileDigest, Manifest, RunBy

MANIFEST = "evidence-manifest.json"
HARNESS_ROOT = Path(__file__).resolve().parent.parent  # the compliance package
_HARNESS_SUFFIXES = {".py", ".j2", ".css", ".js", ".json"}
_GITHUB = {  # environment variable -> detail name
    "GITHUB_WORKFLOW": "workflow",
    "GITHUB_RUN_ID": "run_id",
    "GITHUB_RUN_ATTEMPT": "run_attempt",
    "GITHUB_REPOSITORY": "repository",
    "GITHUB_REF": "ref",
    "GITHUB_SHA": "sha",
    "GITHUB_EVENT_NAME": "event",
    "GITHUB_JOB": "job",
}


def sha256_file(path: Path) -> tuple[str, int]:
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256")
    return digest.hexdigest(), path.stat().st_size


def sha256_text(text: str) -> tuple[str, int]:
    data = text.encode("utf-8")
    return hashlib.sha256(data).hexdigest(), len(data)


def start_manifest(
    evaluation: Evaluation,
    extra_inputs: Iterable[tuple[str, Path]] = (),
    *,
    finished: dt.datetime,
    harness_version: str,
    environ: Mapping[str, str] | None = None,
) -> Manifest:
    """The manifest of a run, without its outputs (``add_outputs`` hashes those)."""
    environ = os.environ if environ is None else environ
    commit, reason, dirty = _commit(evaluation)
    reproducible = commit is not None and dirty is False
    return Manifest(
        run_id=str(uuid.uuid4()),
        started_at=evaluation.started_at or finished.isoformat(),
        finished_at=finished.isoformat(),
        run_by=run_by(environ),
        commit=commit,
        commit_reason=reason,
        dirty=dirty,
        reproducible=reproducible,
        reproducibility=_reproducibility(commit, reason, dirty),
        harness_version=harness_version,
        harness_sha256=harness_digest(),
        inputs=_digests([*check_inputs(evaluation), *extra_inputs], _loaded(evaluation)),
        outputs=[],
    )


def add_outputs(manifest: Manifest, texts: Mapping[str, str]) -> None:
    """The SHA-256 of each file of the set as it will be written (name -> text)."""
    for name, text in texts.items():
        digest, size = sha256_text(text)
        manifest.outputs.append(FileDigest(_output_role(name), name, digest, size))


def run_by(environ: Mapping[str, str]) -> RunBy:
    """The CI identity (GitHub Actions) when the environment has one, else the local user."""
    if environ.get("GITHUB_ACTIONS") == "true":
        details = {name: environ[key] for key, name in _GITHUB.items() if environ.get(key)}
        server = environ.get("GITHUB_SERVER_URL")
        if server and "repository" in details and "run_id" in details:
            details["run_url"] = (
                f"{server}/{details['repository']}/actions/runs/{details['run_id']}"
            )
        return RunBy("github-actions", environ.get("GITHUB_ACTOR") or "unknown", details)
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a bare container)
        user = f"uid {os.getuid()}"
    return RunBy("local", user, {"host": socket.gethostname()})


def check_inputs(evaluation: Evaluation) -> list[tuple[str, Path]]:
    """Every file whose content decided a verdict of ``evaluation``, with its role."""
    policies = evaluation.policies
    inputs: list[tuple[str, Path]] = [
        ("policy", path) for _, path in sorted(policies.files.items())
    ]
    if policies.drill_file is not None:
        inputs.append(("policy", policies.drill_file))
    inputs += [(role, path) for role, path in evaluation.inputs.items()]
    model = evaluation.model
    if model.manifest is not None:
        inputs.append(("stack manifest", model.source / "manifest.json"))
    inputs += [("stack", stack.file) for stack in model.stacks]
    inputs += [("asset", path) for path in asset_files(evaluation)]
    return inputs


def asset_files(evaluation: Evaluation) -> list[Path]:
    """The function code files the asset checks read (DR-AST-01/02), as they resolved them."""
    found: list[Path] = []
    facts = evaluation.facts.get("assets") or {}
    for stack in evaluation.model.stacks:
        base = stack.working_directory or stack.file.parent
        for fact in (facts.get(stack.name) or {}).values():
            filename = fact.get("filename") if isinstance(fact, dict) else None
            if not fact.get("exists") or not isinstance(filename, str) or "${" in filename:
                continue
            path = Path(filename) if Path(filename).is_absolute() else base / filename
            if path.is_file() and path not in found:
                found.append(path)
    return found


def harness_digest() -> str:
    """SHA-256 over the harness's own code, templates and schemas (names and bytes)."""
    sha = hashlib.sha256()
    files = sorted(
        path
        for path in HARNESS_ROOT.rglob("*")
        if path.suffix in _HARNESS_SUFFIXES and "__pycache__" not in path.parts
    )
    for path in files:
        sha.update(path.relative_to(HARNESS_ROOT).as_posix().encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()


def _loaded(evaluation: Evaluation) -> dict[Path, str]:
    """The policy texts as the engine loaded them (a file edited since is not what decided)."""
    modules = evaluation.policies.modules
    return {path: modules[name] for name, path in evaluation.policies.files.items()}


def _digests(inputs: Iterable[tuple[str, Path]], loaded: Mapping[Path, str]) -> list[FileDigest]:
    digests, seen = [], set()
    for role, path in inputs:
        if path in seen or (path not in loaded and not path.is_file()):
            continue
        seen.add(path)
        if path in loaded and not _still(path, loaded[path]):
            digest, size = sha256_text(loaded[path])
            role += " (as loaded: the file changed after the check read it)"
        else:
            digest, size = sha256_file(path)
        digests.append(FileDigest(role, _shown(path), digest, size))
    return digests


def _still(path: Path, text: str) -> bool:
    """Whether the file still holds the text that was loaded from it."""
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def _shown(path: Path) -> str:
    """Relative to the working folder when under it (stable across machines), else absolute."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _output_role(name: str) -> str:
    return {
        "compliance.json": "report (JSON)",
        "compliance.html": "report (HTML)",
        "compliance.sarif": "report (SARIF)",
        "summary.md": "report (job summary)",
        "living-documentation.html": "living documentation",
    }.get(name, "report")


def _commit(evaluation: Evaluation) -> tuple[str | None, str | None, bool | None]:
    """(commit, why there is none, uncommitted changes) of the checked app's repository."""
    model = evaluation.model
    app = discover(model.source)
    folder = app.app_dir or (model.source if model.source.is_dir() else model.source.parent)
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        return None, f"{_shown(folder)} is not inside a git repository (or git is missing)", None
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None:
        return None, f"the repository at {top} has no commit yet", None
    status = _git(folder, "status", "--porcelain")
    return commit, None, None if status is None else bool(status)


def _git(folder: Path, *args: str) -> str | None:
    """Output of a git command in ``folder``; None outside a work tree or without git."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def _reproducibility(commit: str | None, reason: str | None, dirty: bool | None) -> str:
    if commit is None:
        return (
            f"Not reproducible from a commit: {reason}. The SHA-256 of every input in the "
            "evidence manifest identifies what was checked."
        )
    if dirty:
        return (
            f"Not reproducible from commit {commit[:12]} alone: the work tree had uncommitted "
            "changes. The SHA-256 of every input in the evidence manifest identifies what was "
            "checked."
        )
    if dirty is None:
        return (
            f"Commit {commit[:12]}; whether the work tree was clean is unknown. "
            "Compare the SHA-256 of the inputs in the evidence manifest."
        )
    return (
        f"Reproducible: check out commit {commit[:12]} (clean work tree), run the same harness "
        "version, and compare the SHA-256 of the inputs in the evidence manifest."
    )
