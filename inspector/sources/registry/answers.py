"""What `docker image inspect` prints after `docker pull` of the same reference, as far as a
registry can tell it, and the history the view pairs with the layers.

The shape builder (sources/shape) makes both from the config, as modern docker (28.x, classic
image store) gives them at the API version asked for (at 1.41 and older, as docker 20.10
does). After a pull, docker records:
- `Id`: the config's digest;
- `RepoTags`: the name and tag pulled, as docker spells them (`nginx:latest`), none for a pull
  by digest;
- `RepoDigests`: the name with the digest of what the reference named: for a multi-platform
  image, the index's (manifest list's) digest, not the platform manifest's;
- what the config says, read as the daemon reads it.
Left out, because only a pull would tell them: `Size` (the layers unpacked), `GraphDriver`
(where the daemon keeps them), `Metadata.LastTagTime` (when it was pulled). The history's
steps have no size either: each step's Size is null.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from inspector.errors import RegistryBadResponse
from inspector.sources.shape.answers import (
    ManifestFacts,
    RefusedConfig,
    history,
    inspect_object,
    manifest_summaries,
)

__all__ = ["ManifestFacts", "describe", "stored_size"]


def describe(
    config: bytes,
    *,
    image_id: str,
    repo_tags: Sequence[str],
    repo_digests: Sequence[str],
    with_history: bool,
    api_version: str,
    where: str,
    index: bytes | None = None,
    facts: Mapping[str, ManifestFacts] | None = None,
    nested: Mapping[str, bytes] | None = None,
) -> tuple[bytes, bytes | None]:
    """The inspect object and (with_history) the history, as compact JSON bytes. With index
    (an index's bytes, and what is known of each manifest it reaches), the object carries its
    `Manifests` list. `where` names the image in the error raised for a config (or index)
    docker would refuse: RegistryBadResponse, since the registry served it."""
    try:
        manifests = None if index is None else manifest_summaries(index, facts, nested)
        inspect = inspect_object(
            config,
            image_id=image_id,
            repo_tags=repo_tags,
            repo_digests=repo_digests,
            size=None,
            parent="",  # a pulled image has none
            graph_driver=None,
            last_tag_time=None,
            manifests=manifests,
            api_version=api_version,
        )
        steps = None
        if with_history:
            # A layer's size unpacked is known only once it is pulled: every Size is null.
            steps = history(
                config,
                image_id=image_id,
                repo_tags=repo_tags,
                layer_sizes=None,
                mark_empty_layers=True,
            )
    except RefusedConfig as exc:
        raise RegistryBadResponse(f"{where}: docker would refuse its config: {exc}") from exc
    return inspect, steps


def stored_size(manifest: Mapping[str, Any]) -> int | None:
    """What the manifest's layers take in the registry, compressed as they are stored."""
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        return None
    sizes = [layer.get("size") if isinstance(layer, dict) else None for layer in layers]
    if not all(isinstance(size, int) and size >= 0 for size in sizes):
        return None
    return sum(size for size in sizes if isinstance(size, int))
