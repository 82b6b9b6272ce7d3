"""The requirement features, bound to the harness's step library (compliance.pytest_plugin).

The steps (synthesize, mutate, evaluate, judge) are the plugin's, the same any
other app's features use; this module only binds this repository's features.
"""

from __future__ import annotations

from pytest_bdd import scenarios

from compliance.synth import REPO_ROOT

# Top-level feature files only: features/deploy (the drills) binds its own steps
# in test_deploy_features.py.
for _feature in sorted((REPO_ROOT / "features").glob("*.feature")):
    scenarios(str(_feature))
