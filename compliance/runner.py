"""One check, start to finish: model, the app that made it, facts, policies, waivers, verdicts.

What the harness knows about an app it learns from the app
(``compliance.app_config``): its ``cdktf.json`` beside or above the checked
output, and the ``[tool.dr-compliance]`` section of its ``pyproject.toml``
(source folders, settings, waivers, extra policy folders). Explicit options
win over what the app says; the harness's own defaults come last.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.app_config import AppConfig, discover, load_app
from compliance.catalogue import POLICY_ROOT, PolicySet, load_policies
from compliance.engines import PolicyEngine, default_engine
from compliance.evaluation import Evaluation, evaluate
from compliance.facts import compute_facts
from compliance.model import load_model
from compliance.settings import load_settings
from compliance.waivers import load_waivers, unmatched_waivers


@dataclass(frozen=True)
class CheckOptions:
    policy_root: Path = POLICY_ROOT
    waivers: Path | None = None
    settings: Path | None = None
    # The app source DR-SCH-03 scans: None finds it from the app's cdktf.json;
    # scan_source=False scans none (--no-source).
    source: Path | None = None
    scan_source: bool = True
    # The app folder (its cdktf.json) that produced the output: None finds it beside or
    # above the output. Given when the output was synthesized elsewhere (a temporary
    # folder, a mutated copy), so the app's policies, settings and waivers still apply.
    app: Path | None = None

    @property
    def settings_file(self) -> Path:
        return self.settings or self.policy_root / "settings.yaml"


def run_check(
    path: Path, options: CheckOptions | None = None, engine: PolicyEngine | None = None
) -> Evaluation:
    """Evaluate every requirement against the synthesized output at ``path``."""
    options = options or CheckOptions()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    model = load_model(path)
    app = load_app(options.app) if options.app is not None else discover(Path(path))
    policies = load_policies(options.policy_root, extra=app.policies)
    settings = load_settings(
        options.settings_file,
        None if options.settings else app.settings_overrides,
        overrides_from=str(app.pyproject) if app.pyproject else "settings overrides",
    )
    waivers_file = _waivers_file(options, app)
    waivers = (
        load_waivers(waivers_file, policies.by_id(), max_days=settings.waiver_max_days)
        if waivers_file is not None
        else []
    )
    facts = compute_facts(model, app, source=options.source, scan_source=options.scan_source)
    data = {"settings": settings.as_data(), "facts": facts}
    if engine is None:
        evaluation = evaluate(model, policies, _pooled(policies, data), data=data, waivers=waivers)
    else:
        try:
            evaluation = evaluate(model, policies, engine, data=data, waivers=waivers)
        finally:
            engine.close()
    present = {(r.stack, r.address) for r in model.resources()}
    present |= {(d.stack, d.address) for s in model.stacks for d in s.data_sources()}
    findings = {(f.requirement, f.stack, f.address) for f in evaluation.findings}
    used = {f.waiver for f in evaluation.findings if f.waiver is not None}
    evaluation.notes += [u.message for u in unmatched_waivers(waivers, present, findings, used)]
    if app.found:
        evaluation.notes.append(f"app: {app.cdktf_json}")
    evaluation.inputs = _inputs(options, app, waivers_file)
    evaluation.started_at, evaluation.settings, evaluation.facts = started, data["settings"], facts
    return evaluation


# Engines with policies compiled and data loaded, kept for the life of the
# process: compiling the policies costs more than most evaluations, and the
# features, the mutation catalogue and `watch` evaluate many inputs against
# the same policies. Keyed by policies and data: OPA merges data on load, so
# an engine is never reloaded with other data, a new one is made.
_ENGINES: OrderedDict[str, PolicyEngine] = OrderedDict()
_POOL_SIZE = 2


def _pooled(policies: PolicySet, data: dict[str, Any]) -> PolicyEngine:
    key = hashlib.sha256(
        (policies.digest() + json.dumps(data, sort_keys=True)).encode("utf-8")
    ).hexdigest()
    if key in _ENGINES:
        _ENGINES.move_to_end(key)
        return _ENGINES[key]
    engine = default_engine()
    _ENGINES[key] = engine
    while len(_ENGINES) > _POOL_SIZE:
        _, oldest = _ENGINES.popitem(last=False)
        oldest.close()
    return engine


def _inputs(options: CheckOptions, app: AppConfig, waivers_file: Path | None) -> dict[str, Path]:
    """The files besides the model and policies whose content decided a verdict."""
    inputs = {"settings": options.settings_file}
    if options.settings is None and app.settings_overrides and app.pyproject is not None:
        inputs["settings overrides"] = app.pyproject
    if waivers_file is not None:
        inputs["waivers"] = waivers_file
    return inputs


def _waivers_file(options: CheckOptions, app: AppConfig) -> Path | None:
    """``--waivers``, else the app's own ([tool.dr-compliance] waivers); the harness has none.

    Waivers are an app's accepted exceptions: a foreign app checked from this
    repository must not inherit this repository's.
    """
    if options.waivers is not None:
        return options.waivers
    return app.waivers
