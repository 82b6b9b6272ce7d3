"""The one normalised model every policy reads, built from synthesized CDKTF output.

``loader`` reads the stacks (a ``cdktf.out`` folder or a single ``*.tf.json``);
``document`` turns them into the policy input: resources with their regions,
references as edges, policy statements, zones and literal identifiers, so
that no policy ever re-reads a raw Terraform string.
"""

from compliance.model.loader import Model, Resource, Stack, load_model, read_json

__all__ = ["Model", "Resource", "Stack", "load_model", "read_json"]
