"""What every stack of the design shares: provider, tags and a portable backend."""

from __future__ import annotations

from cdktf import LocalBackend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from infrastructure.config import DrConfig


class DrStack(TerraformStack):
    """A stack pinned to one region, tagging everything it creates.

    The local backend gets a path relative to the stack's folder: the default
    is an absolute path of the synth machine, which would leak into every
    consumer's ``terraform_remote_state`` and make the output depend on where
    synth ran (FIELD_NOTES).
    """

    def __init__(self, scope: Construct, id_: str, *, config: DrConfig, region: str) -> None:
        super().__init__(scope, id_)
        self.config = config
        self.region_name = region
        LocalBackend(self, path=f"../../state/{id_}.tfstate")
        AwsProvider(
            self,
            "aws",
            region=region,
            default_tags=[AwsProviderDefaultTags(tags=config.tags())],
        )
