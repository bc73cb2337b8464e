"""An image's layers read for their contents: each blob streamed from the registry and read
through once, as an archive's layer is (archive.streams.measure), gzip, zstd or plain; checked
against the digest and size its manifest gives and the diff-ID its config gives, as a pull
checks them; nothing written anywhere.

The layers of one image are read one after the other; several images are read at once by the
source's workers. Each layer's request has --timeout for its answer to begin, and then each
read of it --timeout: a layer may take longer than --timeout in all, never stall longer.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

from inspector import untrusted
from inspector.contents.model import LayerContents
from inspector.contents.tarstream import MAX_ENTRIES
from inspector.errors import RegistryBadResponse
from inspector.sources.archive.streams import Counted, measure
from inspector.sources.registry.client import RegistryClient
from inspector.sources.registry.names import RegistryName
from inspector.sources.registry.transport import Deadline


def layer_contents(
    client: RegistryClient,
    name: RegistryName,
    manifest: Mapping[str, Any],
    config: Mapping[str, Any],
    timeout: float,
) -> tuple[LayerContents, ...]:
    """Each layer's entries, bottom first, of the image whose manifest and config these are."""
    where = f"registry {name.registry}: {name.canonical}"
    layers = manifest.get("layers")
    diff_ids = untrusted.member(config, "rootfs").get("diff_ids")
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise RegistryBadResponse(f"{where}: its manifest has no list of layers")
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise RegistryBadResponse(f"{where}: its config has no list of diff_ids")
    if len(diff_ids) != len(layers):
        raise RegistryBadResponse(
            f"{where}: its config lists {len(diff_ids)} layers, its manifest {len(layers)}"
        )
    contents: list[LayerContents] = []
    kept = 0
    for number, (descriptor, diff_id) in enumerate(zip(layers, diff_ids, strict=True), 1):
        layer = _layer(client, name, descriptor, diff_id, number, timeout, MAX_ENTRIES - kept)
        kept += len(layer.entries)
        contents.append(layer)
    return tuple(contents)


def _layer(
    client: RegistryClient,
    name: RegistryName,
    descriptor: Mapping[str, Any],
    diff_id: str,
    number: int,
    timeout: float,
    limit: int,
) -> LayerContents:
    """One layer read through (keeping at most limit entries: what the image may still keep),
    and checked; a layer refused is a bad answer, as its facts' problem says."""
    digest = untrusted.plain(descriptor.get("digest"))
    what = f"registry {name.registry}: {name.canonical}: layer {number} ({digest})"
    with client.layer(name, descriptor, Deadline.after(timeout)) as blob:
        facts = measure(Counted(blob, digest.partition(":")[0]), contents=True, limit=limit)
    if facts.digest != digest:
        raise RegistryBadResponse(
            f"registry {name.registry}: the layer blob sent for {digest} does not have that digest"
        )
    size = descriptor.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and size != facts.stored_size:
        raise RegistryBadResponse(f"{what} is {facts.stored_size} bytes; its manifest says {size}")
    if facts.problem is not None:
        raise RegistryBadResponse(f"{what} is {facts.problem}")
    if facts.diff_id != diff_id:
        raise RegistryBadResponse(
            f"{what} does not match the config's diff-ID {diff_id} (it is {facts.diff_id})"
        )
    if facts.contents is None:
        raise RegistryBadResponse(f"{what} could not be read for its files")
    return dataclasses.replace(facts.contents, digest=digest, diff_id=diff_id)
