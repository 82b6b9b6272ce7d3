"""The policy input document: one normalised model, built once per check.

Shape (``compliance/model/input.schema.json`` is the contract with Rego):

- ``stacks``: name, file, region, providers, default tags, dependencies;
- ``resources`` / ``data_sources``: every block with ``key`` (``stack|address``),
  region, provider, construct path, instance ``count``, ``values``;
- ``refs_from``: the references as edges, indexed by the key of the block
  that holds them (the policies index them by the block they name,
  ``lib.referrers``: carrying that index too would double the edges handed
  to OPA, whose conversion of the input costs more than grouping them);
- ``documents``: each ``aws_iam_policy_document``'s statements (its included
  documents' too); ``policies``: every policy a block carries, read into
  statements whatever its form; ``attachments``: managed policies attached by
  ARN (AWS-managed ones marked as such);
- ``zones``: the zone of every subnet (and DB instance) copy;
- ``literals``: literal identifiers typed into the configuration;
- ``hosts``: the hosts health checks and failover records target, with the
  AWS region named in their literal text (a fallback where nothing is referenced);
- ``secrets``: values that may be secrets (by name or credential shape), never
  the value itself.
"""

from __future__ import annotations

from typing import Any

from compliance.model.identifiers import design_names, host_regions, literals
from compliance.model.instances import instance_count
from compliance.model.loader import Model, Resource
from compliance.model.policies import DOCUMENT_TYPE, PolicyReader
from compliance.model.references import Ref, Resolver, key_of
from compliance.model.secrets import secrets
from compliance.model.zones import PLACED_TYPES, subnet_zones

SCHEMA_VERSION = 3


def build_input(model: Model) -> dict[str, Any]:
    resolver = Resolver(model)
    reader = PolicyReader(resolver)
    blocks = [resolver.blocks[k] for k in resolver.blocks]
    refs: dict[str, list[Ref]] = {}
    for block in blocks:
        found = resolver.refs_of(block)
        if found:
            refs[key_of(block.stack, block.address)] = found
    refs_from: dict[str, list[dict[str, Any]]] = {}
    unresolved: list[dict[str, Any]] = []
    for key, found in refs.items():
        entries = [ref.to_input() for ref in found]
        refs_from[key] = entries
        unresolved += [entry for entry in entries if entry["to"] is None]
    policies = []
    literal_ids: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    secret_candidates: list[dict[str, Any]] = []
    documents: dict[str, dict[str, Any]] = {}
    zones: dict[str, list[dict[str, Any] | None]] = {}
    named_hosts: dict[str, list[dict[str, Any]]] = {}
    own_names = design_names(blocks)
    for block in blocks:
        key = key_of(block.stack, block.address)
        uses = [] if block.is_data else reader.uses(block)
        policies += [use.to_input() for use in uses]
        if block.is_data and block.type == DOCUMENT_TYPE:
            documents[key] = {
                "key": key,
                "statements": [s.to_input() for s in reader.document_statements(key)],
                "includes": reader.document_includes(key),
            }
        if block.type in PLACED_TYPES and not block.is_data:
            zones[key] = subnet_zones(block, refs.get(key, []), resolver.blocks)
        literal_ids += literals(block, key, uses, own_names)
        hosts = host_regions(block)
        if hosts:
            named_hosts[key] = hosts
        attachments += reader.attachments(block)
        secret_candidates += secrets(block, key)
    return {
        "schema_version": SCHEMA_VERSION,
        "layout": _layout(model),
        "stacks": [
            {
                "name": stack.name,
                "file": stack.file.name,
                "region": stack.region,
                "providers": stack.providers,
                "default_tags": stack.default_tags,
                "dependencies": stack.dependencies,
            }
            for stack in model.stacks
        ],
        "resources": [_block(b, resolver.blocks) for b in blocks if not b.is_data],
        "data_sources": [_block(b, resolver.blocks) for b in blocks if b.is_data],
        "refs_from": refs_from,
        "unresolved": unresolved,
        "documents": documents,
        "policies": policies,
        "zones": zones,
        "literals": literal_ids,
        "hosts": named_hosts,
        "attachments": attachments,
        "secrets": secret_candidates,
    }


def _layout(model: Model) -> str:
    if model.manifest is not None:
        return "manifest"
    return "single-file" if len(model.stacks) == 1 and model.source.is_file() else "folder"


def _block(block: Resource, blocks: dict[str, Resource]) -> dict[str, Any]:
    entry = block.to_input()
    address = entry["address"]
    entry["key"] = key_of(block.stack, address)
    entry["subject"] = f"{block.stack}/{address}"
    entry["count"] = instance_count(block, blocks)
    return entry
