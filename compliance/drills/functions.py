"""The app's Lambda functions, run in the lab as the synthesized output deploys them.

The lab knows no app: it runs what the synthesized output deploys.

- Code: the function's asset zip (its ``filename``, inside the stack's
  folder) extracted into the lab folder; entry point: its ``handler``
  setting (``module.function``, Lambda's Python form).
- Environment: the function's own variables. A reference to something the
  lab stands in for becomes the lab's value (an Aurora cluster's endpoint:
  the region's PostgreSQL address; its port, ARN, identifier; the global
  cluster's identifier; a Function URL: the region's function on loopback); a
  reference to anything else leaves the variable unset, and the drill says
  so. A literal number in a variable named ``*_SECONDS`` or ``*_MS`` (or the
  watchdog's interval variable, setting ``watchdog_interval_variable``) is a
  duration and is scaled with the drill. Then come the app's own lab
  settings, ``[tool.dr-compliance.drills.environment]`` in its
  pyproject.toml, with ``{database_address}``, ``{database_port}``,
  ``{database_name}``, ``{database_user}`` and ``{region}`` filled in: what
  the lab's PostgreSQL needs that AWS does not (its own user, no IAM token).
  Lambda's own variables (``AWS_REGION``, ``AWS_LAMBDA_FUNCTION_NAME``...)
  come last. No ``AWS_*`` variable of the harness reaches a function: no
  credentials, so nothing can call AWS.
- A function whose runtime is not Python, or whose code is not a local
  asset (an image, an S3 object), cannot be drilled: ``NotDrillable`` says
  which and why.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import shutil
import sys
import threading
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.drills.knobs import Function, LabValue, Unresolved
from compliance.errors import InputError

_DURATION_SUFFIXES = ("_SECONDS", "_MS", "_MILLISECONDS")
_IMPORT_LOCK = threading.Lock()


class NotDrillable(InputError):
    """A function of the design cannot run in the local lab; the message says why."""


@dataclass(frozen=True)
class LabEndpoints:
    """The lab's values for what a function's environment may refer to."""

    database_port: int
    addresses: Mapping[str, str]  # region -> the region's loopback address
    function_urls: Mapping[str, str]  # region -> the region's health function ("/"-terminated)
    cluster_arns: Mapping[str, str]
    cluster_ids: Mapping[str, str]
    global_cluster_id: str
    database_name: str = "postgres"
    database_user: str = "postgres"

    def value(self, part: LabValue) -> str | None:
        region = part.region or ""
        by_kind: dict[str, Callable[[], str | None]] = {
            "database_address": lambda: self.addresses.get(region),
            "database_port": lambda: str(self.database_port),
            "cluster_arn": lambda: self.cluster_arns.get(region),
            "cluster_id": lambda: self.cluster_ids.get(region),
            "global_cluster_id": lambda: self.global_cluster_id,
            "global_cluster_arn": lambda: (
                f"arn:aws:rds::000000000000:global-cluster:{self.global_cluster_id}"
            ),
            "function_url": lambda: self.function_urls.get(region),
        }
        getter = by_kind.get(part.kind)
        return getter() if getter else None

    def placeholders(self, region: str) -> dict[str, str]:
        return {
            "database_address": self.addresses.get(region, ""),
            "database_port": str(self.database_port),
            "database_name": self.database_name,
            "database_user": self.database_user,
            "region": region,
        }


def require_drillable(function: Function) -> None:
    if function.problem:
        raise NotDrillable(
            function.subject,
            f"function {function.name} cannot be drilled locally: {function.problem}",
        )
    split_handler(function)


def split_handler(function: Function) -> tuple[str, str]:
    """``module.path``, ``function`` from Lambda's Python handler setting."""
    module, _, name = function.handler.rpartition(".")
    if not module or not name or not all(p.isidentifier() for p in (*module.split("."), name)):
        raise NotDrillable(
            function.subject,
            f"function {function.name}: handler {function.handler!r} is not module.function",
        )
    return module, name


def extract(function: Function, folder: Path) -> Path:
    """The function's asset unpacked into ``folder/<function name>`` (zipfile drops ``..``)."""
    require_drillable(function)
    assert function.asset is not None
    target = folder / function.name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    try:
        with zipfile.ZipFile(function.asset) as archive:
            archive.extractall(target)
    except (zipfile.BadZipFile, OSError) as error:
        raise NotDrillable(function.asset, f"not a readable zip archive: {error}") from None
    module, _ = split_handler(function)
    if _module_file(target, module) is None:
        raise NotDrillable(
            function.asset,
            f"function {function.name}: its handler module {module} is not in the asset",
        )
    return target


def _module_file(code: Path, module: str) -> Path | None:
    base = code.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def is_duration(name: str, settings: Mapping[str, Any]) -> bool:
    interval = str(settings.get("watchdog_interval_variable", "PROBE_INTERVAL_SECONDS"))
    return name == interval or name.upper().endswith(_DURATION_SUFFIXES)


def environment(
    function: Function,
    endpoints: LabEndpoints,
    *,
    scale: float,
    settings: Mapping[str, Any],
    overrides: Mapping[str, str],
) -> tuple[dict[str, str], list[str]]:
    """The variables the lab sets for ``function``, and a note for each it had to leave out."""
    variables: dict[str, str] = {}
    notes: list[str] = []
    for name, parts in function.variables:
        text, missing = "", None
        for part in parts:
            if isinstance(part, str):
                text += part
            elif isinstance(part, Unresolved):
                missing = f"{part.reference}: {part.reason}"
            else:
                value = endpoints.value(part)
                if value is None:
                    missing = f"{part.reference}: no {part.kind} in {part.region or 'the lab'}"
                else:
                    text += value
        if missing:
            notes.append(f"{function.name}: {name} left unset ({missing})")
            continue
        if is_duration(name, settings) and scale != 1:
            try:
                text = f"{float(text) * scale:g}"
            except ValueError:
                pass
        variables[name] = text
    fill = endpoints.placeholders(function.region)
    for name, template in overrides.items():
        try:
            variables[name] = template.format_map(fill)
        except (KeyError, ValueError, IndexError) as error:
            raise NotDrillable(
                "[tool.dr-compliance.drills.environment]",
                f"{name} = {template!r}: unknown placeholder {error}; known: "
                f"{', '.join('{' + key + '}' for key in fill)}",
            ) from None
    variables.update(lambda_variables(function))
    return variables, notes


def lambda_variables(function: Function) -> dict[str, str]:
    """What the Lambda runtime itself sets for every function."""
    return {
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "LAMBDA_TASK_ROOT": "",
    }


def process_environment(variables: Mapping[str, str], code: Path) -> dict[str, str]:
    """A child's environment: the harness's without ``AWS_*``, then the function's."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # The host (python -m compliance.drills.function_host) imports the harness from
    # wherever this process did, installed or a checkout run without PYTHONPATH.
    harness_root = str(Path(__file__).resolve().parents[2])
    search = [harness_root, *filter(None, base.get("PYTHONPATH", "").split(os.pathsep))]
    return {
        **base,
        **variables,
        "LAMBDA_TASK_ROOT": str(code),
        "PYTHONPATH": os.pathsep.join(search),
    }


def load_handler(code: Path, handler: str, module_name: str) -> Callable[..., Any]:
    """Import ``handler`` (``module.function``) from ``code`` under a unique module name.

    The code folder is on ``sys.path`` only while the module is imported (its
    own imports resolve there), so labs running side by side do not see
    each other's copies.
    """
    module, _, name = handler.rpartition(".")
    path = _module_file(code, module)
    if path is None:
        raise NotDrillable(code, f"no module {module} for handler {handler}")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise NotDrillable(path, f"cannot load {module}")
    loaded = importlib.util.module_from_spec(spec)
    with _IMPORT_LOCK:
        sys.modules[module_name] = loaded  # dataclasses resolve annotations through sys.modules
        sys.path.insert(0, str(code))
        try:
            spec.loader.exec_module(loaded)
        except Exception as error:
            sys.modules.pop(module_name, None)
            raise NotDrillable(path, f"importing {module} failed: {error}") from None
        finally:
            sys.path.remove(str(code))
    entry = getattr(loaded, name, None)
    if not callable(entry):
        raise NotDrillable(path, f"{module} has no function {name}")
    return entry


def missing_keywords(handler: Callable[..., Any], names: tuple[str, ...]) -> list[str]:
    """The keyword arguments the lab must pass that ``handler`` does not accept."""
    try:
        parameters = inspect.signature(handler).parameters
    except (TypeError, ValueError):
        return list(names)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return []
    return [name for name in names if name not in parameters]
