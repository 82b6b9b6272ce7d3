"""The requirement catalogue, read from the METADATA of the Rego policies.

Each policy package carries one requirement: its ID, title, description,
controls, severity and remediation are written once, in the policy, and
everything else (findings, reports, features) refers to them by ID.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compliance.errors import InputError

REPO_ROOT = Path(__file__).resolve().parent.parent
POLICY_ROOT = REPO_ROOT / "policies"
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
RULES_PACKAGE = "dr.rules"


@dataclass(frozen=True)
class Requirement:
    """One requirement as its policy's package METADATA states it."""

    id: str
    title: str
    description: str
    package: str
    file: Path
    policy: str
    controls: dict[str, list[str]] = field(default_factory=dict)
    severity: str = "high"
    remediation: str = ""

    @property
    def family(self) -> str:
        """``DR-ENC-01`` belongs to family ``ENC``."""
        return self.id.split("-")[1]


@dataclass(frozen=True)
class PolicySet:
    """Every Rego module to load, and the requirements the rule modules carry."""

    modules: dict[str, str]
    requirements: list[Requirement]
    root: Path

    def digest(self) -> str:
        """SHA-256 over the policy sources: what an auditor cites as "the policies checked"."""
        sha = hashlib.sha256()
        for name in sorted(self.modules):
            sha.update(name.encode() + b"\0" + self.modules[name].encode() + b"\0")
        return sha.hexdigest()

    def by_id(self) -> dict[str, Requirement]:
        return {requirement.id: requirement for requirement in self.requirements}


def package_metadata(source: str, file: Path) -> dict[str, Any] | None:
    """The YAML of the ``# METADATA`` comment block right above ``package``."""
    lines = source.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("package "):
            continue
        start = index - 1
        while start >= 0 and lines[start].startswith("#"):
            start -= 1
        block = lines[start + 1 : index]
        if not block or block[0].strip() != "# METADATA":
            return None
        text = "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in block[1:])
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise InputError(file, f"METADATA is not valid YAML: {error}") from None
        return loaded if isinstance(loaded, dict) else None
    return None


def load_policies(root: Path = POLICY_ROOT, *, include_tests: bool = False) -> PolicySet:
    """Read every ``.rego`` under ``root``; rule packages must declare a requirement."""
    if not root.is_dir():
        raise InputError(root, "policy folder not found")
    modules: dict[str, str] = {}
    requirements: list[Requirement] = []
    for file in sorted(root.rglob("*.rego")):
        is_test = file.name.endswith("_test.rego")
        if is_test and not include_tests:
            continue
        source = file.read_text(encoding="utf-8")
        name = file.relative_to(root.parent).as_posix()
        modules[name] = source
        match = _PACKAGE.search(source)
        if is_test or not match or not match.group(1).startswith(RULES_PACKAGE + "."):
            continue
        requirements.append(_requirement(match.group(1), source, file, name))
    if not requirements:
        raise InputError(root, "no policy declares a requirement (package dr.rules.*)")
    ids = [requirement.id for requirement in requirements]
    duplicates = sorted({rid for rid in ids if ids.count(rid) > 1})
    if duplicates:
        raise InputError(root, f"requirement declared twice: {', '.join(duplicates)}")
    return PolicySet(modules, sorted(requirements, key=lambda r: r.id), root)


def _requirement(package: str, source: str, file: Path, policy: str) -> Requirement:
    metadata = package_metadata(source, file)
    custom = (metadata or {}).get("custom") or {}
    if not metadata or "id" not in custom:
        raise InputError(file, "rule package needs a METADATA block with custom.id")
    return Requirement(
        id=str(custom["id"]),
        title=str(metadata.get("title", custom["id"])),
        description=" ".join(str(metadata.get("description", "")).split()),
        package=package,
        file=file,
        policy=policy,
        controls={k: [str(c) for c in v] for k, v in (custom.get("controls") or {}).items()},
        severity=str(custom.get("severity", "high")),
        remediation=" ".join(str(custom.get("remediation", "")).split()),
    )
