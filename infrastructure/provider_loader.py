"""Import the AWS provider bindings one resource module at a time.

The provider package's ``__init__`` imports all ~2,200 resource modules
(10-15 s and ~1.2 GB per process, FIELD_NOTES). Registering the package in
``sys.modules`` without running that ``__init__`` lets ordinary
``from cdktf_cdktf_provider_aws.kms_key import KmsKey`` imports load only what
the app uses; each submodule loads the jsii assembly itself, and the
synthesized JSON is byte-identical (checked by ``benchmarks/synth_bench.py``).
"""

from __future__ import annotations

import importlib.util
import sys

PACKAGE = "cdktf_cdktf_provider_aws"


def register_lazily(package: str = PACKAGE) -> None:
    """Put an un-executed module object for ``package`` into ``sys.modules``.

    Without the package installed this does nothing: helpers such as
    ``lambda_package`` stay usable, and a provider import fails as usual.
    """
    if package in sys.modules:
        return
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        return
    sys.modules[package] = importlib.util.module_from_spec(spec)
