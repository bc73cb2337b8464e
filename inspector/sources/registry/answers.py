"""What `docker image inspect` would print after `docker pull` of the same reference, as far as
a registry can tell it, and the history the view pairs with the layers.

This module's one entry, `describe`, is where the image's JSON is made from its config: the
docker-exact builder of inspect objects replaces its body, and nothing else changes.

After a pull, docker (classic image store) records:
- `Id`: the config's digest;
- `RepoTags`: the familiar name and tag pulled (`nginx:latest`), none for a pull by digest;
- `RepoDigests`: the familiar name with the digest of what the reference named: for a
  multi-platform image, the index's (manifest list's) digest, not the platform manifest's;
- the config's `created`, `author`, `config`, `architecture`, `variant`, `os`, `os.version`
  and `rootfs`, and the comment (the image's, else its last history step's).
Left out, because only a pull would tell them: `Size` (the layers unpacked), `GraphDriver`
(where the daemon keeps them), `Metadata.LastTagTime` (when it was pulled).
"""

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from inspector import untrusted


def describe(
    config: bytes,
    manifest: Mapping[str, Any],
    *,
    image_id: str,
    repo_tags: Sequence[str],
    repo_digests: Sequence[str],
    with_history: bool,
    manifests: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[bytes, bytes | None]:
    """The inspect object and (with_history) the history, as compact JSON bytes."""
    document = untrusted.parse(config)
    inspect: dict[str, Any] = {
        "Id": image_id,
        "RepoTags": list(repo_tags),
        "RepoDigests": list(repo_digests),
        "Parent": "",
        "Comment": _comment(document),
    }
    if "created" in document:
        inspect["Created"] = document["created"]
    inspect["DockerVersion"] = untrusted.plain(document.get("docker_version"))
    inspect["Author"] = untrusted.plain(document.get("author"))
    if "config" in document:
        inspect["Config"] = document["config"]
    inspect["Architecture"] = untrusted.plain(document.get("architecture"))
    if document.get("variant"):
        inspect["Variant"] = document["variant"]
    inspect["Os"] = untrusted.plain(document.get("os"))
    if document.get("os.version"):
        inspect["OsVersion"] = document["os.version"]
    rootfs = untrusted.member(document, "rootfs")
    inspect["RootFS"] = {
        "Type": untrusted.plain(rootfs.get("type")),
        "Layers": rootfs.get("diff_ids"),
    }
    if manifests is not None:
        inspect["Manifests"] = list(manifests)
    history = None
    if with_history:
        history = go_json(_history(document, image_id, repo_tags, _layer_count(manifest)))
    return go_json(inspect), history


def stored_size(manifest: Mapping[str, Any]) -> int | None:
    """What the manifest's layers take in the registry, compressed as they are stored."""
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        return None
    sizes = [layer.get("size") if isinstance(layer, dict) else None for layer in layers]
    if not all(isinstance(size, int) and size >= 0 for size in sizes):
        return None
    return sum(size for size in sizes if isinstance(size, int))


def _comment(document: Mapping[str, Any]) -> str:
    """docker shows the last history step's comment when the image has none of its own."""
    comment = untrusted.plain(document.get("comment"))
    history = document.get("history")
    if not comment and isinstance(history, list) and history and isinstance(history[-1], dict):
        comment = untrusted.plain(history[-1].get("comment"))
    return comment


def _layer_count(manifest: Mapping[str, Any]) -> int:
    layers = manifest.get("layers")
    return len(layers) if isinstance(layers, list) else 0


def _history(
    document: Mapping[str, Any], image_id: str, repo_tags: Sequence[str], layers: int
) -> list[dict[str, Any]]:
    """The history API's answer, newest first, from the config's history. A layer's size
    unpacked is known only once it is pulled: each step's Size is null."""
    steps = document.get("history")
    if not isinstance(steps, list) or not steps:
        steps = [{} for _ in range(layers)]  # no history recorded: a step for each layer
    answer = []
    for step in steps:
        step = step if isinstance(step, dict) else {}
        answer.append(
            {
                "Comment": untrusted.plain(step.get("comment")),
                "Created": _unix_time(step.get("created")),
                "CreatedBy": untrusted.plain(step.get("created_by")),
                "Id": "<missing>",
                "Size": None,
                "Tags": None,
                # Not in the daemon's answer: it tells the view (layers.py) which steps made
                # a layer, where Size cannot.
                "empty_layer": bool(step.get("empty_layer")),
            }
        )
    answer.reverse()
    if answer:
        answer[0]["Id"] = image_id
        answer[0]["Tags"] = list(repo_tags) or None
    return answer


def _unix_time(value: object) -> int:
    if not isinstance(value, str):
        return 0
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except (ValueError, OverflowError, OSError):
        return 0


_GO_ESCAPES = {
    0x3C: "\\u003c",
    0x3E: "\\u003e",
    0x26: "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
_SURROGATE = re.compile("[\ud800-\udfff]")


def go_json(value: object) -> bytes:
    """Compact JSON as Go's encoding/json writes it (so `--json` reads like the daemon's)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = _SURROGATE.sub("\\\\ufffd", text.translate(_GO_ESCAPES))
    return text.encode()


def manifest_summary(
    entry: Mapping[str, Any],
    *,
    kind: str,
    content_size: int | None,
) -> dict[str, Any]:
    """One entry of `Manifests` (API 1.48's ImageManifestSummary), as a registry knows it:
    whether it is here (`Available`) and its unpacked size are a daemon's to say."""
    digest = untrusted.plain(entry.get("digest"))
    descriptor = {
        key: entry[key]
        for key in ("mediaType", "digest", "size", "annotations", "platform")
        if key in entry
    }
    summary: dict[str, Any] = {"ID": digest, "Descriptor": descriptor}
    if content_size is not None:
        summary["Size"] = {"Total": content_size, "Content": content_size}
    summary["Kind"] = kind
    if kind == "image":
        summary["ImageData"] = {"Platform": entry.get("platform") or {}}
    elif kind == "attestation":
        annotations = untrusted.member(entry, "annotations")
        summary["AttestationData"] = {
            "For": untrusted.plain(annotations.get("vnd.docker.reference.digest"))
        }
    return summary
