"""The multi-region DR design as a CDKTF app: configuration, components and stacks."""

from infrastructure.provider_loader import register_lazily

# Before any component imports a provider class (see provider_loader for why).
register_lazily()
