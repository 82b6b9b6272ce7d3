"""The requirement catalogue, read from the METADATA of the Rego policies.

Each policy package carries one requirement: its ID, title, description,
controls, severity, remediation and the attributes it observes are written
once, in the policy, and everything else (findings, reports, features) refers
to them by ID. The requirements the failover drills decide have no policy:
their control mapping is in ``policies/drills.yaml``, in the same shape.

A control mapping is graded: the requirement *satisfies* the control (it
checks what the control asks of this system's configuration) or *supports* it
(it is part of the evidence the control needs), with one sentence saying why.
The reports show coverage from these grades; they never call a control passed.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from compliance.errors import InputError

REPO_ROOT = Path(__file__).resolve().parent.parent


def _policy_root() -> Path:
    """The shipped policies: the installed package's copy, else the checkout's ``policies/``.

    The wheel maps the repository's ``policies/`` into the package (pyproject.toml);
    a checkout keeps it at the repository root. The installed copy is looked for
    first: an installed package's parent folder is site-packages, where another
    distribution's ``policies/`` could sit.
    """
    packaged = resources.files("compliance") / "policies"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return REPO_ROOT / "policies"


POLICY_ROOT = _policy_root()
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
RULES_PACKAGE = "dr.rules"
DRILL_CATALOGUE = "drills.yaml"  # beside the policies: the drill requirements' mappings
FRAMEWORKS = ("nist-800-53", "soc2", "iso-27001")
GRADES = ("satisfies", "supports")


@dataclass(frozen=True)
class ControlMapping:
    """One control a requirement gives evidence for, how much, and why."""

    framework: str  # nist-800-53, soc2 or iso-27001
    control: str  # as the framework writes it: SC-28(1), CC6.1, A.8.24
    grade: str  # satisfies or supports
    why: str  # one sentence


Observes = dict[str, tuple[str, ...]]  # resource type -> attribute paths the policy reads


@dataclass(frozen=True)
class DrillRequirement:
    """A requirement the failover drills decide: its criterion and its control mapping."""

    id: str
    description: str
    controls: tuple[ControlMapping, ...]


@dataclass(frozen=True)
class Requirement:
    """One requirement as its policy's package METADATA states it."""

    id: str
    title: str
    description: str
    package: str
    file: Path
    policy: str
    controls: tuple[ControlMapping, ...] = ()
    severity: str = "high"
    remediation: str = ""
    observes: Observes = field(default_factory=dict)

    @property
    def family(self) -> str:
        """``DR-ENC-01`` belongs to family ``ENC``."""
        return self.id.split("-")[1]

    @property
    def control_ids(self) -> dict[str, list[str]]:
        """Framework to its control IDs, in the order the METADATA lists them."""
        return control_ids(self.controls)


@dataclass(frozen=True)
class PolicySet:
    """Every Rego module to load, and the requirements the rule modules carry."""

    modules: dict[str, str]
    requirements: list[Requirement]
    root: Path
    files: dict[str, Path] = field(default_factory=dict)  # module name -> its file
    drills: dict[str, DrillRequirement] = field(default_factory=dict)  # policies/drills.yaml
    drill_file: Path | None = None

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
            loaded = copy.deepcopy(_parsed_yaml(text))
        except yaml.YAMLError as error:
            raise InputError(file, f"METADATA is not valid YAML: {error}") from None
        return loaded if isinstance(loaded, dict) else None
    return None


@functools.lru_cache(maxsize=512)
def _parsed_yaml(text: str) -> Any:
    """Parsed once per text and process, by libyaml when PyYAML has it: every check loads
    the catalogue again, and the pure-Python parser took most of a cached check's time."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_policies(
    root: Path = POLICY_ROOT, *, include_tests: bool = False, extra: Sequence[Path] = ()
) -> PolicySet:
    """Read every ``.rego`` under ``root`` (and an app's ``extra`` folders).

    The catalogue is closed: a file whose METADATA declares a requirement
    must be a rule package (``dr.rules.*``), or its verdict would never be
    read and the requirement would vanish from the run without a word; a rule
    package must declare exactly one requirement, and no ID twice.
    """
    modules: dict[str, str] = {}
    files: dict[str, Path] = {}
    requirements: list[Requirement] = []
    for folder in (root, *extra):
        if not folder.is_dir():
            raise InputError(folder, "policy folder not found")
        prefix = "" if folder == root else f"app:{folder.name}/"
        for file in sorted(folder.rglob("*.rego")):
            is_test = file.name.endswith("_test.rego")
            if is_test and not include_tests:
                continue
            source = _read(file)
            name = prefix + file.relative_to(folder.parent).as_posix()
            modules[name] = source
            files[name] = file
            match = _PACKAGE.search(source)
            package = match.group(1) if match else None
            if is_test:
                continue
            if package is None or not package.startswith(RULES_PACKAGE + "."):
                _refuse_stray_requirement(file, source, package)
                continue
            requirements.append(_requirement(package, source, file, name))
    if not requirements:
        raise InputError(root, "no policy declares a requirement (package dr.rules.*)")
    ids = [requirement.id for requirement in requirements]
    duplicates = sorted({rid for rid in ids if ids.count(rid) > 1})
    if duplicates:
        raise InputError(root, f"requirement declared twice: {', '.join(duplicates)}")
    drill_file = root / DRILL_CATALOGUE
    drills = load_drill_catalogue(drill_file) if drill_file.is_file() else {}
    clash = sorted(set(drills) & set(ids))
    if clash:
        raise InputError(drill_file, f"{', '.join(clash)} also declared by a policy")
    return PolicySet(
        modules,
        sorted(requirements, key=lambda r: r.id),
        root,
        files,
        drills,
        drill_file if drill_file.is_file() else None,
    )


def control_ids(controls: Sequence[ControlMapping]) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for mapping in controls:
        own = ids.setdefault(mapping.framework, [])
        if mapping.control not in own:
            own.append(mapping.control)
    return ids


def load_drill_catalogue(path: Path) -> dict[str, DrillRequirement]:
    """``policies/drills.yaml``: each drill requirement's criterion and control mapping."""
    try:
        document = yaml.safe_load(_read(path))
    except yaml.YAMLError as error:
        raise InputError(path, f"not valid YAML: {' '.join(str(error).split())}") from None
    entries = document.get("requirements") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise InputError(
            path, "expected `requirements:` with a list of {id, description, controls}"
        )
    found: dict[str, DrillRequirement] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise InputError(path, f"every requirement needs an id, got {entry!r}")
        rid = entry["id"]
        unknown = sorted(set(entry) - {"id", "description", "controls"})
        if unknown:
            raise InputError(path, f"{rid}: unknown key(s) {', '.join(unknown)}")
        if rid in found:
            raise InputError(path, f"requirement declared twice: {rid}")
        description = " ".join(str(entry.get("description") or "").split())
        found[rid] = DrillRequirement(rid, description, _controls(entry.get("controls"), path, rid))
    return found


def _controls(raw: Any, file: Path, rid: str) -> tuple[ControlMapping, ...]:
    """The graded mappings; anything else stops the check (a mapping must say how and why)."""
    if raw is None:
        return ()
    shape = "a list of {framework, control, grade: satisfies|supports, why}"
    if not isinstance(raw, list):
        raise InputError(file, f"{rid}: controls must be {shape}")
    mappings = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"framework", "control", "grade", "why"}:
            raise InputError(file, f"{rid}: controls must be {shape}, got {item!r}")
        framework, control, grade, why = (
            str(item[key]).strip() for key in ("framework", "control", "grade", "why")
        )
        if framework not in FRAMEWORKS:
            raise InputError(
                file, f"{rid}: unknown framework {framework!r} (one of {', '.join(FRAMEWORKS)})"
            )
        if grade not in GRADES:
            raise InputError(file, f"{rid}: {control}: grade must be satisfies or supports")
        if not control or not why:
            raise InputError(file, f"{rid}: every control mapping needs a control and a why")
        mappings.append(ControlMapping(framework, control, grade, " ".join(why.split())))
    keys = [(m.framework, m.control) for m in mappings]
    twice = sorted({f"{f} {c}" for f, c in keys if keys.count((f, c)) > 1})
    if twice:
        raise InputError(file, f"{rid}: control mapped twice: {', '.join(twice)}")
    return tuple(mappings)


def _observes(raw: Any, file: Path, rid: str) -> Observes:
    """``{resource type: [attribute path, ...]}``: what the report shows per resource."""
    if raw is None:
        return {}
    valid = isinstance(raw, dict) and all(
        isinstance(paths, list) and all(isinstance(p, str) and p for p in paths)
        for paths in raw.values()
    )
    if not valid:
        raise InputError(file, f"{rid}: observes must map resource types to attribute paths")
    return {str(kind): tuple(paths) for kind, paths in raw.items()}


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(file, f"not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    except OSError as error:
        raise InputError(file, f"cannot read: {error.strerror}") from None


def _refuse_stray_requirement(file: Path, source: str, package: str | None) -> None:
    """A requirement declared outside the rules namespace would silently never be decided."""
    metadata = package_metadata(source, file) or {}
    custom = metadata.get("custom") or {}
    if isinstance(custom, dict) and "id" in custom:
        raise InputError(
            file,
            f"declares requirement {custom['id']} but its package {package or '(none)'} is "
            f"outside {RULES_PACKAGE}: it would never be evaluated; "
            f"fix it to package {RULES_PACKAGE}.<name>",
        )


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
        controls=_controls(custom.get("controls"), file, str(custom["id"])),
        severity=str(custom.get("severity", "high")),
        remediation=" ".join(str(custom.get("remediation", "")).split()),
        observes=_observes(custom.get("observes"), file, str(custom["id"])),
    )
