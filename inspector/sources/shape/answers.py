"""The inspect object and the history a docker daemon gives for an image, built from the image's
config: at API 1.42 and later, what docker 28.5 (classic image store) gives at that version; at
1.41 and earlier, what docker 20.10 (whose newest API is 1.41) gives, which is what scripts
written against older daemons were written for. The two differ at 1.41: 28.5 escapes `<`, `>`
and `&`, writes `Config` last through a map (keys sorted, `Image` empty) and leaves out an empty
`Container`; 20.10 writes none escaped, `Config` as its container.Config struct after `Author`
(`Image` as the config has it, null for no config), and `Container` always."""

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from inspector.sources.shape.goconfig import (
    CONTAINER_CONFIG_ALWAYS,
    CONTAINER_CONFIG_FIELDS,
    HEALTHCHECK_FIELDS,
    RefusedConfig,
    decode_image,
)
from inspector.sources.shape.gojson import go_json, sorted_map
from inspector.sources.shape.manifests import ManifestFacts, descriptor_json, manifest_summaries

# The API: re-exported so that a source needs this module alone.
__all__ = [
    "DEFAULT_API_VERSION",
    "GraphDriver",
    "ManifestFacts",
    "RefusedConfig",
    "history",
    "inspect_object",
    "manifest_summaries",
]

DEFAULT_API_VERSION = "1.51"


@dataclasses.dataclass(frozen=True, slots=True)
class _Shape:
    """What the inspect object holds at a range of API versions, on docker 28.5."""

    # Keys the daemon puts in `Config` when the image's config lacks them.
    config_defaults: Mapping[str, object]
    # `Container` and `ContainerConfig` (the config's container_config), before 1.45.
    container: bool = False
    # `VirtualSize`, and a missing `Created` as Go's zero time, before 1.44.
    virtual_size: bool = False
    # `Descriptor` and `Manifests`, from 1.48.
    manifests: bool = False
    # docker 20.10's own answer, at 1.41 and before.
    docker_20_10: bool = False


# The fields that had no omitempty before the image-spec config type, which docker keeps in
# `Config` for clients written against them: these at 1.50 and later...
_CURRENT_DEFAULTS: Mapping[str, object] = {
    "Cmd": None,
    "Entrypoint": None,
    "Env": None,
    "Labels": None,
    "OnBuild": None,
    "User": "",
    "Volumes": None,
    "WorkingDir": "",
}
# ...and the container-only fields too before 1.50.
_LEGACY_DEFAULTS: Mapping[str, object] = {
    **_CURRENT_DEFAULTS,
    "AttachStderr": False,
    "AttachStdin": False,
    "AttachStdout": False,
    "Domainname": "",
    "Hostname": "",
    "Image": "",
    "OpenStdin": False,
    "StdinOnce": False,
    "Tty": False,
}

# (the lowest API version, its shape), highest first: a version takes the first row at or
# below it.
_SHAPES: tuple[tuple[tuple[int, int], _Shape], ...] = (
    ((1, 50), _Shape(_CURRENT_DEFAULTS, manifests=True)),
    ((1, 48), _Shape(_LEGACY_DEFAULTS, manifests=True)),
    ((1, 45), _Shape(_LEGACY_DEFAULTS)),
    ((1, 44), _Shape(_LEGACY_DEFAULTS, container=True)),
    ((1, 42), _Shape(_LEGACY_DEFAULTS, container=True, virtual_size=True)),
    ((1, 0), _Shape({}, container=True, virtual_size=True, docker_20_10=True)),
)


def _shape(api_version: str) -> _Shape:
    match = re.fullmatch(r"(\d+)\.(\d+)", api_version)
    if match is None:
        raise ValueError(f"not an API version: {api_version!r}")
    version = (int(match[1]), int(match[2]))
    return next(shape for lowest, shape in _SHAPES if version >= lowest)


@dataclasses.dataclass(frozen=True, slots=True)
class GraphDriver:
    """The storage driver a daemon keeps the layers in (only a daemon knows it)."""

    name: str
    data: Mapping[str, str] | None = None


def inspect_object(
    config: bytes,
    *,
    image_id: str,
    repo_tags: Sequence[str] = (),
    repo_digests: Sequence[str] | None = (),
    size: int | None = None,
    parent: str | None = "",
    graph_driver: GraphDriver | None = None,
    last_tag_time: str | None = None,
    descriptor: Mapping[str, Any] | None = None,
    manifests: Sequence[Mapping[str, Any]] | None = None,
    api_version: str = DEFAULT_API_VERSION,
) -> bytes:
    """`GET /images/{name}/json`'s answer for the image with this config, as compact JSON.

    `repo_digests`, `size`, `parent`, `graph_driver` and `last_tag_time` are the daemon's own:
    None leaves the field out (unknown, never invented). A pulled or loaded image's Parent is
    "". `descriptor` and `manifests` (see manifest_summaries) are what a containerd-store
    daemon adds; a classic-store daemon gives neither. Raises RefusedConfig for a config docker
    refuses.
    """
    shape = _shape(api_version)
    image = decode_image(config)
    comment = image.get("comment", "")
    history = image.get("history") or []
    if not comment and history:
        comment = history[-1].get("comment", "")
    created = image.get("created")
    answer: dict[str, object] = {"Id": image_id, "RepoTags": list(repo_tags)}
    if repo_digests is not None:
        answer["RepoDigests"] = list(repo_digests)
    if parent is not None:
        answer["Parent"] = parent
    answer["Comment"] = comment
    if created is not None:
        answer["Created"] = created.text
    elif shape.virtual_size:
        answer["Created"] = "0001-01-01T00:00:00Z"
    if shape.container:
        # 20.10 writes the field as it is; 28.5 leaves it out when empty.
        if image.get("container") or shape.docker_20_10:
            answer["Container"] = image.get("container", "")
        answer["ContainerConfig"] = _container_config(image.get("container_config") or {})
    answer["DockerVersion"] = image.get("docker_version", "")
    answer["Author"] = image.get("author", "")
    if shape.docker_20_10:
        # The config's container.Config as Go writes the struct, here; null for none.
        own = image.get("config")
        answer["Config"] = None if own is None else _container_config(own, docker_20_10=True)
    answer["Architecture"] = image.get("architecture", "")
    if image.get("variant"):
        answer["Variant"] = image["variant"]
    # The daemon reports its own OS for an image that names none.
    answer["Os"] = image.get("os") or "linux"
    if image.get("os.version"):
        answer["OsVersion"] = image["os.version"]
    if size is not None:
        answer["Size"] = size
        # 28.5 leaves out a VirtualSize of 0; 20.10 writes it.
        if shape.virtual_size and (size or shape.docker_20_10):
            answer["VirtualSize"] = size
    if graph_driver is not None:
        data = None if graph_driver.data is None else dict(sorted(graph_driver.data.items()))
        answer["GraphDriver"] = {"Data": data, "Name": graph_driver.name}
    rootfs = image.get("rootfs") or {}
    answer["RootFS"] = {
        key: value
        for key, value in (("Type", rootfs.get("type")), ("Layers", rootfs.get("diff_ids")))
        if value
    }
    if last_tag_time is not None:
        answer["Metadata"] = {"LastTagTime": last_tag_time}
    if shape.manifests and descriptor is not None:
        answer["Descriptor"] = descriptor_json(descriptor)
    if shape.manifests and manifests:
        answer["Manifests"] = list(manifests)
    if shape.docker_20_10:
        # 20.10 writes the object with an encoder told not to escape HTML, with Go's older
        # escapes for backspace and form feed.
        return go_json(answer, escape_html=False, short_escapes=False)
    # The daemon writes Config last, through a map: its keys sorted, with the defaults.
    answer["Config"] = sorted_map({**shape.config_defaults, **_image_config(image.get("config"))})
    return go_json(answer)


def history(
    config: bytes,
    *,
    image_id: str,
    repo_tags: Sequence[str] = (),
    layer_sizes: Sequence[int | None] | None = (),
    mark_empty_layers: bool = False,
) -> bytes:
    """`GET /images/{name}/history`'s answer, newest step first, as compact JSON.

    `layer_sizes` are the layers' unpacked sizes, bottom first (None counts as 0); None for
    them all leaves every step's Size null, for a source that cannot know them (0 would say a
    layer is empty). Only the
    newest step carries the image's Id and tags: an image that was loaded or pulled has no
    parent to name the others. `mark_empty_layers` adds each step's `empty_layer` flag, which
    the daemon drops but the view uses to pair steps with layers. Raises RefusedConfig where
    the daemon answers an error: a config it refuses, or more layer steps than layers.
    """
    image = decode_image(config)  # checks that each step that made a layer has one
    sizes = iter(layer_sizes or ())
    answer: list[dict[str, object]] = []
    for step in image["history"]:
        empty = step.get("empty_layer", False)
        size = None if layer_sizes is None else 0 if empty else next(sizes, None) or 0
        created = step.get("created")
        item: dict[str, object] = {
            "Comment": step.get("comment", ""),
            "Created": 0 if created is None else created.unix,
            "CreatedBy": step.get("created_by", ""),
            "Id": "<missing>",
            "Size": size,
            "Tags": None,
        }
        if mark_empty_layers:
            item["empty_layer"] = empty
        answer.append(item)
    answer.reverse()
    if answer:
        answer[0]["Id"] = image_id
        answer[0]["Tags"] = list(repo_tags) or None
    # The inspect object passes through json.Marshal, which escapes HTML; the history goes
    # straight to the daemon's encoder, which is told not to.
    return go_json(answer, escape_html=False)


def _image_config(config: Mapping[str, Any] | None) -> dict[str, object]:
    """The image-spec fields of the config (docker's DockerOCIImageConfig), each only when
    set: empty lists and maps are left out."""
    config = config or {}
    out: dict[str, object] = {}
    for name in ("User", "WorkingDir", "StopSignal"):
        if config.get(name):
            out[name] = config[name]
    for name in ("Env", "Entrypoint", "Cmd", "OnBuild", "Shell"):
        if config.get(name):
            out[name] = config[name]
    for name in ("ExposedPorts", "Volumes", "Labels"):
        if config.get(name):
            out[name] = sorted_map(config[name])
    if config.get("ArgsEscaped"):
        out["ArgsEscaped"] = True
    if config.get("Healthcheck") is not None:
        check = _healthcheck(config["Healthcheck"])
        # The daemon passes Config through a map of `any`: its numbers become float64.
        out["Healthcheck"] = sorted_map(
            {key: value if key == "Test" else int(float(value)) for key, value in check.items()}
        )
    return out


def _healthcheck(check: Mapping[str, Any], *, docker_20_10: bool = False) -> dict[str, Any]:
    """The healthcheck's fields that are set, in the struct's order (20.10's has no
    StartInterval)."""
    return {
        name: check[name]
        for name in HEALTHCHECK_FIELDS
        if check.get(name) and not (docker_20_10 and name == "StartInterval")
    }


def _container_config(
    config: Mapping[str, Any], *, docker_20_10: bool = False
) -> dict[str, object]:
    """container.Config as Go writes the struct: its field order, omitempty fields only when
    set."""
    out: dict[str, Any] = {}
    for name in CONTAINER_CONFIG_FIELDS:
        value = config.get(name)
        if name in CONTAINER_CONFIG_ALWAYS:
            out[name] = CONTAINER_CONFIG_ALWAYS[name] if value is None else value
        elif value not in (None, "", False, 0, [], {}) or (
            # A pointer: written when set, even to an empty struct.
            name == "Healthcheck" and value is not None
        ):
            out[name] = value
        if name in ("Volumes", "Labels", "ExposedPorts") and isinstance(out.get(name), dict):
            out[name] = sorted_map(out[name])
        if name == "Healthcheck" and name in out:
            out[name] = _healthcheck(config[name], docker_20_10=docker_20_10)
    return out
