"""One check, start to finish: model, facts, policies, waivers, engine, verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compliance.catalogue import POLICY_ROOT, load_policies
from compliance.engines import PolicyEngine, default_engine
from compliance.evaluation import Evaluation, evaluate
from compliance.facts import compute_facts
from compliance.model import load_model
from compliance.settings import load_settings
from compliance.waivers import load_waivers


@dataclass(frozen=True)
class CheckOptions:
    policy_root: Path = POLICY_ROOT
    waivers: Path | None = None
    settings: Path | None = None
    # The app source DR-SCH-03 scans: None finds it (compliance.source_scan.source_root);
    # scan_source=False scans none (--no-source).
    source: Path | None = None
    scan_source: bool = True

    @property
    def waivers_file(self) -> Path:
        return self.waivers or self.policy_root / "waivers.yaml"

    @property
    def settings_file(self) -> Path:
        return self.settings or self.policy_root / "settings.yaml"


def run_check(
    path: Path, options: CheckOptions | None = None, engine: PolicyEngine | None = None
) -> Evaluation:
    """Evaluate every requirement against the synthesized output at ``path``."""
    options = options or CheckOptions()
    model = load_model(path)
    policies = load_policies(options.policy_root)
    facts = compute_facts(model, source=options.source, scan_source=options.scan_source)
    data = {"settings": load_settings(options.settings_file), "facts": facts}
    waivers = load_waivers(options.waivers_file)
    engine = engine or default_engine()
    try:
        return evaluate(model, policies, engine, data=data, waivers=waivers)
    finally:
        engine.close()
