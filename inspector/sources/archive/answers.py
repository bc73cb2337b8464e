"""What a daemon would answer about an image read from an archive: its inspect object and its
history, built from its config, as compact JSON written the way Go writes it."""

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from inspector import untrusted

# The inspect object's fields in the daemon's order (docker's ImageInspect), and the config
# fields each comes from; RepoDigests, Parent, GraphDriver, Metadata are the daemon's own.
_CONFIG_FIELDS = (
    ("Container", "container"),
    ("ContainerConfig", "container_config"),
    ("DockerVersion", "docker_version"),
)


def inspect_object(
    config: Mapping[str, Any], image_id: str, repo_tags: Sequence[str], size: int | None
) -> dict[str, Any]:
    """`GET /images/{name}/json`'s answer, built from the config."""
    inspect: dict[str, Any] = {"Id": image_id, "RepoTags": list(repo_tags)}
    # docker shows the last history step's comment when the image has none of its own.
    comment = config.get("comment")
    history = config.get("history")
    if not comment and isinstance(history, list) and history and isinstance(history[-1], dict):
        comment = history[-1].get("comment")
    inspect["Comment"] = untrusted.plain(comment)
    if "created" in config:
        inspect["Created"] = config["created"]
    for name, key in _CONFIG_FIELDS:
        if key in config:
            inspect[name] = config[key]
    inspect["Author"] = untrusted.plain(config.get("author"))
    if "config" in config:
        inspect["Config"] = config["config"]
    for name, key in (("Architecture", "architecture"), ("Variant", "variant")):
        if config.get(key):
            inspect[name] = config[key]
    if "os" in config:
        inspect["Os"] = config["os"]
    if config.get("os.version"):
        inspect["OsVersion"] = config["os.version"]
    if size is not None:
        inspect["Size"] = size
    rootfs = config.get("rootfs")
    if isinstance(rootfs, dict):
        inspect["RootFS"] = {"Type": rootfs.get("type", ""), "Layers": rootfs.get("diff_ids")}
    return inspect


def image_history(
    config: Mapping[str, Any], image_id: str, repo_tags: Sequence[str], sizes: Sequence[int | None]
) -> list[dict[str, Any]]:
    """The history API's answer, newest first, built from the config's history."""
    steps = config.get("history")
    if not isinstance(steps, list) or not steps:
        # No history recorded: one step for each layer, so the sizes are still shown.
        steps = [{} for _ in sizes]
    layers = iter(sizes)
    answer = []
    for step in steps:
        step = step if isinstance(step, dict) else {}
        made_layer = not step.get("empty_layer")
        size = (next(layers, None) if made_layer else 0) or 0
        answer.append(
            {
                "Comment": untrusted.plain(step.get("comment")),
                "Created": _unix_time(step.get("created")),
                "CreatedBy": untrusted.plain(step.get("created_by")),
                "Id": "<missing>",
                "Size": size,
                "Tags": None,
                # Not in the daemon's answer, which drops it: it tells the view (layers.py)
                # which steps made a layer, where Size 0 cannot.
                "empty_layer": not made_layer,
            }
        )
    answer.reverse()
    if answer:  # no layers and no history: the daemon answers an empty list
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
    # <, >, & and the two line separators can only occur inside strings: escape them as Go does.
    text = _SURROGATE.sub("\\\\ufffd", text.translate(_GO_ESCAPES))
    return text.encode()
