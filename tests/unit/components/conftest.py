"""Unit tests of the constructs under ``infrastructure/components``, with ``cdktf.Testing``.

Each test module builds its constructs into one small stack of its own and
synthesizes it once per session (``Testing.synth``; importing the provider
is what costs, so synths stay few); the tests then ask
``Testing.to_have_resource_with_properties`` and friends, or read the JSON
where a matcher cannot say it (references, absent keys, counts).
``Testing.synth_scope`` cannot take a Python callable (jsii), hence the stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cdktf import TerraformStack
from stack_testing import REGION, Synthesized, synth


@pytest.fixture(scope="session")
def synth_stack(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Synthesized]:
    """Factory: ``synth_stack(name, build)`` runs ``build(stack)`` in a fresh stack, synthesized."""

    def make(
        name: str, build: Callable[[TerraformStack], Any], region: str = REGION
    ) -> Synthesized:
        return synth(str(tmp_path_factory.mktemp(f"cdktf-{name}")), name, build, region)

    return make
