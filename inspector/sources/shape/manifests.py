"""The `Manifests` list of the inspect object (API 1.48 and later, `?manifests=1`), as a
containerd-store daemon gives it, for an OCI index or a docker manifest list as a registry
serves it."""

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from inspector.sources.shape.goconfig import (
    RefusedConfig,
    decode_descriptor,
    decode_image,
    decode_index,
    layer_media_types,
)
from inspector.sources.shape.gojson import sorted_map

_MANIFEST_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)
_INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
_LAYER_TYPE = re.compile(
    r"application/vnd\.(oci\.image\.layer\.|docker\.image\.rootfs\.(foreign\.)?diff\.tar)"
)
_REFERENCE_TYPE = "vnd.docker.reference.type"
_REFERENCE_DIGEST = "vnd.docker.reference.digest"
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


@dataclasses.dataclass(frozen=True, slots=True)
class ManifestFacts:
    """What a source knows of one manifest of an index beyond the index's own descriptor.

    `manifest` is the manifest's bytes if fetched (an image manifest whose layers are none of
    the image layer types is not an image, but the daemon can only tell from the manifest);
    `config` its config's bytes (the platform, when the index gives none). The sizes are what
    is present locally, as the daemon counts them: nothing, for a registry.
    """

    manifest: bytes | None = None
    config: bytes | None = None
    available: bool = False
    content_size: int = 0
    unpacked_size: int = 0
    containers: Sequence[str] = ()


def manifest_summaries(
    index: bytes,
    facts: Mapping[str, ManifestFacts] | None = None,
    nested: Mapping[str, bytes] | None = None,
) -> list[dict[str, object]]:
    """The `Manifests` list of the inspect object (API 1.48+, `?manifests=1`) for an OCI
    index or a docker manifest list: one entry per manifest it reaches, in the order the
    daemon walks them. `facts` is by manifest digest; `nested` holds the bytes of nested
    indexes, by digest, which the daemon walks into. Raises RefusedConfig for an index that is
    not an object with a list of manifests."""
    facts = facts or {}
    nested = nested or {}
    return [
        _summary(entry, facts.get(entry.get("digest", ""), ManifestFacts()))
        for entry in _reachable(index, nested, depth=0)
    ]


def _reachable(index: bytes, nested: Mapping[str, bytes], depth: int) -> Iterable[dict[str, Any]]:
    if depth > 8:
        raise RefusedConfig("indexes nested too deep")
    for entry in decode_index(index):
        media_type = entry.get("mediaType")
        digest = entry.get("digest", "")
        if media_type in _MANIFEST_TYPES:
            yield entry
        elif media_type in _INDEX_TYPES and digest in nested:
            yield from _reachable(nested[digest], nested, depth + 1)


def _summary(entry: Mapping[str, Any], facts: ManifestFacts) -> dict[str, object]:
    target = _descriptor_fields(entry)
    total = facts.content_size
    summary: dict[str, object] = {
        "ID": target["digest"],
        "Descriptor": target,
        "Available": facts.available,
        "Size": {"Content": facts.content_size, "Total": total},
        "Kind": "unknown",
    }
    annotations = target.get("annotations") or {}
    platform = target.get("platform")
    if _REFERENCE_TYPE in annotations:
        # An attestation: named as one only when it says which manifest it is for.
        reference = annotations.get(_REFERENCE_DIGEST, "")
        if _DIGEST.fullmatch(reference):
            summary["Kind"] = "attestation"
            summary["AttestationData"] = {"For": reference}
        return summary
    if _pseudo_image(platform, facts.manifest):
        return summary
    summary["Kind"] = "image"
    if platform is None and facts.available and facts.config is not None:
        platform = _platform(decode_image(facts.config))
    image_data: dict[str, object] = {
        "Platform": platform or {"architecture": "", "os": ""},
        "Size": {"Unpacked": 0},
        "Containers": None,
    }
    summary["ImageData"] = image_data
    if facts.available:
        image_data["Size"] = {"Unpacked": facts.unpacked_size}
        image_data["Containers"] = list(facts.containers) or None
        summary["Size"] = {"Content": facts.content_size, "Total": total + facts.unpacked_size}
    return summary


def _pseudo_image(platform: Mapping[str, Any] | None, manifest: bytes | None) -> bool:
    """A manifest in an image's media type that is no image: unknown/unknown, or layers of
    which none is an image layer. One not fetched counts as an image, as in the daemon."""
    if platform and platform.get("os") == "unknown" and platform.get("architecture") == "unknown":
        return True
    if manifest is None:
        return False
    layers = layer_media_types(manifest)
    return bool(layers) and not any(_LAYER_TYPE.match(layer) for layer in layers)


def descriptor_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """An OCI descriptor as the daemon re-writes it: its fields in the spec type's order,
    unknown ones dropped, empty optional ones left out."""
    return _descriptor_fields(decode_descriptor(value))


def _descriptor_fields(decoded: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "mediaType": decoded.get("mediaType", ""),
        "digest": decoded.get("digest", ""),
        "size": decoded.get("size", 0),
    }
    if decoded.get("urls"):
        out["urls"] = decoded["urls"]
    if decoded.get("annotations"):
        out["annotations"] = sorted_map(decoded["annotations"])
    if decoded.get("data"):
        out["data"] = decoded["data"]
    if decoded.get("platform") is not None:
        out["platform"] = _platform(decoded["platform"])
    if decoded.get("artifactType"):
        out["artifactType"] = decoded["artifactType"]
    return out


def _platform(value: Mapping[str, Any]) -> dict[str, object]:
    out: dict[str, object] = {
        "architecture": value.get("architecture", ""),
        "os": value.get("os", ""),
    }
    for key in ("os.version", "os.features", "variant"):
        if value.get(key):
            out[key] = value[key]
    return out
