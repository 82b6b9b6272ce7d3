"""Where a report came from: code, tools, policies, input and time.

What an auditor needs to reproduce the verdicts, and to cite them: the commit of the
checked app's repository and whether its tree was clean, the harness, CDKTF and AWS
provider versions, the policy engine and a SHA-256 over every policy file, the input
folder and when it ran. The evidence manifest (``manifest``) hashes every file.
"""

from __future__ import annotations

import datetime as dt
import platform
import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path

from compliance.evaluation import Evaluation
from compliance.model import Model, Stack
from compliance.reports.document import Manifest, Provenance
from compliance.synth import REPO_ROOT

HARNESS_PACKAGE = "dr-compliance-harness"
PROVIDER_PACKAGE = "cdktf-cdktf-provider-aws"


def provenance(evaluation: Evaluation, now: dt.datetime, manifest: Manifest) -> Provenance:
    """The run's provenance; the commit is the manifest's (the checked app's repository)."""
    policy_files = sorted(evaluation.policies.modules)
    return Provenance(
        git_commit=manifest.commit or "unknown",
        git_dirty=manifest.dirty,
        harness_version=manifest.harness_version,
        cdktf_version=_package_version("cdktf"),
        aws_provider=aws_provider(evaluation.model),
        provider_package=f"{PROVIDER_PACKAGE} {_package_version(PROVIDER_PACKAGE)}",
        policy_engine=evaluation.engine_version,
        policy_sha256=evaluation.policies.digest(),
        policy_files=policy_files,
        policy_file_count=len(policy_files),
        python_version=platform.python_version(),
        input=str(evaluation.model.source),
        generated_at=now.isoformat(),
    )


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def harness_version() -> str:
    """The installed package's version, else the checkout's ``pyproject.toml``."""
    try:
        return version(HARNESS_PACKAGE)
    except PackageNotFoundError:
        pass
    try:
        project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        return str(project["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def aws_provider(model: Model) -> str:
    """``hashicorp/aws <version>`` as the stacks pin it, else as the bindings were built for."""
    pinned = sorted({_required_aws(stack) for stack in model.stacks} - {None})
    if pinned:
        return ", ".join(pinned)  # type: ignore[arg-type]
    return f"hashicorp/aws {_bindings_provider_version() or '(version unknown)'}"


def _required_aws(stack: Stack) -> str | None:
    terraform = stack.document.get("terraform")
    providers = terraform.get("required_providers") if isinstance(terraform, dict) else None
    aws = providers.get("aws") if isinstance(providers, dict) else None
    if not isinstance(aws, dict) or not aws.get("version"):
        return None
    # "aws", "hashicorp/aws" and "registry.terraform.io/hashicorp/aws" name one provider.
    parts = str(aws.get("source") or "aws").split("/")
    source = "/".join(parts[-2:]) if len(parts) > 1 else f"hashicorp/{parts[0]}"
    return f"{source} {aws['version']}"


def _bindings_provider_version() -> str | None:
    """The provider version the Python bindings document (read, not imported: it is huge)."""
    spec = find_spec("cdktf_cdktf_provider_aws")
    if spec is None or not spec.origin:
        return None
    module = Path(spec.origin).parent / "provider" / "__init__.py"
    try:
        text = module.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"registry\.terraform\.io/providers/hashicorp/aws/([0-9][\w.\-]*)", text)
    return match.group(1) if match else None
