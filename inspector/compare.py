"""Two images compared: what differs in how they run, and which layers they share.

Pure: it reads the two inspect objects (and histories, for layer sizes) as the daemon or an
archive gave them, and trusts none of their types.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from inspector.image import Image
from inspector.layers import Layer, join_layers

Kind = Literal["added", "removed", "changed"]
# The fields compared, in the order they are reported; `id` first, layers after them all.
FIELDS = (
    "id",
    "platform",
    "size",
    "created",
    "user",
    "workdir",
    "entrypoint",
    "cmd",
    "env",
    "labels",
    "ports",
    "volumes",
    "healthcheck",
)


@dataclass(frozen=True, slots=True)
class Summary:
    """What the report says about each side."""

    asked: str
    id: str | None
    tags: tuple[str, ...]
    platform: str | None
    size: int | None
    created: str | None


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: a field, the key within it (an env name, a label, a port), both values.

    `a` is None for something added in B, `b` None for something removed from A.
    """

    field: str
    change: Kind
    key: str | None = None
    a: Any = None
    b: Any = None


@dataclass(frozen=True, slots=True)
class LayerSize:
    diff_id: str
    size: int | None  # None: the history did not say


@dataclass(frozen=True, slots=True)
class Difference:
    a: Summary
    b: Summary
    changes: tuple[Change, ...]
    shared: tuple[LayerSize, ...]
    only_a: tuple[LayerSize, ...]
    only_b: tuple[LayerSize, ...]

    @property
    def same(self) -> bool:
        return not (self.changes or self.only_a or self.only_b)


def compare(a: Image, b: Image) -> Difference:
    """Everything FIELDS lists, A to B, and the layers by diff-ID (of images a source found:
    an inspect of None reads as an empty object)."""
    doc_a, doc_b = _object(a.inspect), _object(b.inspect)
    changes: list[Change] = []
    for name in FIELDS:
        value_a, value_b = _FIELD_VALUES[name](doc_a), _FIELD_VALUES[name](doc_b)
        if name in _KEYED:
            changes += _keyed_changes(name, value_a, value_b)
        elif name in _SETS:
            changes += _set_changes(name, value_a, value_b)
        elif value_a != value_b:
            changes.append(_change(name, value_a, value_b))
    layers_a, layers_b = _layers(doc_a, a), _layers(doc_b, b)
    ids_a, ids_b = {layer.diff_id for layer in layers_a}, {layer.diff_id for layer in layers_b}
    sizes_b = {layer.diff_id: layer.size for layer in layers_b}
    shared = tuple(
        LayerSize(layer.diff_id, layer.size if layer.size is not None else sizes_b[layer.diff_id])
        for layer in _unique(layers_a)
        if layer.diff_id in ids_b
    )
    return Difference(
        a=_summary(a.asked, doc_a),
        b=_summary(b.asked, doc_b),
        changes=tuple(changes),
        shared=shared,
        only_a=tuple(layer for layer in _unique(layers_a) if layer.diff_id not in ids_b),
        only_b=tuple(layer for layer in _unique(layers_b) if layer.diff_id not in ids_a),
    )


def total(layers: Sequence[LayerSize]) -> int | None:
    """The sum of the layers' sizes; None if any is unknown."""
    if any(layer.size is None for layer in layers):
        return None
    return sum(layer.size or 0 for layer in layers)


# -- reading the untrusted JSON -------------------------------------------------------------


def _object(data: bytes | None) -> Mapping[str, Any]:
    try:
        value = json.loads(data) if data is not None else None
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _config(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    config = doc.get("Config")
    return config if isinstance(config, dict) else {}


def _text(value: object) -> str | None:
    """A string as it is, unset (None, "") as None, anything else as its JSON."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _json_value(value: object) -> Any:
    """Unset (null, "", [], {}) as None; anything else as it was."""
    return None if value in (None, "", [], {}) else value


def _platform(doc: Mapping[str, Any]) -> str | None:
    parts = [_text(doc.get(key)) for key in ("Os", "Architecture", "Variant")]
    return "/".join(part for part in parts if part) or None


def _size(doc: Mapping[str, Any]) -> int | None:
    size = doc.get("Size")
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def _env(doc: Mapping[str, Any]) -> dict[str, str]:
    env = _config(doc).get("Env")
    pairs: dict[str, str] = {}
    for entry in env if isinstance(env, list) else []:
        key, _, value = (entry if isinstance(entry, str) else json.dumps(entry)).partition("=")
        pairs[key] = value  # a name given twice: the last one wins, as when it runs
    return pairs


def _labels(doc: Mapping[str, Any]) -> dict[str, str]:
    labels = _config(doc).get("Labels")
    if not isinstance(labels, dict):
        return {}
    return {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in labels.items()
    }


def _keys(value: object) -> list[str]:
    if isinstance(value, dict):
        return [str(key) for key in value]
    if isinstance(value, list):
        return [item if isinstance(item, str) else json.dumps(item) for item in value]
    return []


_FIELD_VALUES: Mapping[str, Callable[[Mapping[str, Any]], Any]] = {
    "id": lambda doc: _text(doc.get("Id")),
    "platform": _platform,
    "size": _size,
    "created": lambda doc: _text(doc.get("Created")),
    "user": lambda doc: _text(_config(doc).get("User")),
    "workdir": lambda doc: _text(_config(doc).get("WorkingDir")),
    "entrypoint": lambda doc: _json_value(_config(doc).get("Entrypoint")),
    "cmd": lambda doc: _json_value(_config(doc).get("Cmd")),
    "env": _env,
    "labels": _labels,
    "ports": lambda doc: _keys(_config(doc).get("ExposedPorts")),
    "volumes": lambda doc: _keys(_config(doc).get("Volumes")),
    "healthcheck": lambda doc: _json_value(_config(doc).get("Healthcheck")),
}
_KEYED = frozenset(["env", "labels"])
_SETS = frozenset(["ports", "volumes"])


def _change(name: str, a: object, b: object, key: str | None = None) -> Change:
    if a is None:
        return Change(name, "added", key, None, b)
    if b is None:
        return Change(name, "removed", key, a, None)
    return Change(name, "changed", key, a, b)


def _keyed_changes(name: str, a: Mapping[str, str], b: Mapping[str, str]) -> list[Change]:
    changes = []
    for key in sorted(a.keys() | b.keys()):
        if a.get(key) != b.get(key):
            changes.append(_change(name, a.get(key), b.get(key), key))
    return changes


def _set_changes(name: str, a: Sequence[str], b: Sequence[str]) -> list[Change]:
    removed = [Change(name, "removed", key) for key in sorted(set(a) - set(b))]
    added = [Change(name, "added", key) for key in sorted(set(b) - set(a))]
    return removed + added


def _summary(asked: str, doc: Mapping[str, Any]) -> Summary:
    tags = doc.get("RepoTags")
    return Summary(
        asked=asked,
        id=_text(doc.get("Id")),
        tags=tuple(tag for tag in tags if isinstance(tag, str)) if isinstance(tags, list) else (),
        platform=_platform(doc),
        size=_size(doc),
        created=_text(doc.get("Created")),
    )


def _layers(doc: Mapping[str, Any], image: Image) -> list[LayerSize]:
    """RootFS.Layers with the size of each, from the history when it can be matched."""
    rootfs = doc.get("RootFS")
    diff_ids = _keys(rootfs.get("Layers")) if isinstance(rootfs, dict) else []
    steps: Any = None
    if image.history is not None:
        try:
            steps = json.loads(image.history)
        except (ValueError, RecursionError):
            steps = None
    joined = None
    if isinstance(steps, list):
        oldest_first = [step if isinstance(step, dict) else {} for step in reversed(steps)]
        joined = join_layers(diff_ids, oldest_first, image.layer_counts)
    if joined is None:
        return [LayerSize(diff_id, None) for diff_id in diff_ids]
    return [LayerSize(layer.diff_id or "", _layer_size(layer)) for layer in joined]


def _layer_size(layer: Layer) -> int | None:
    """The size every step that may have made the layer gives it; None if they differ."""
    sizes = {_step_size(step) for step in layer.possible_steps}
    return sizes.pop() if len(sizes) == 1 else None


def _step_size(step: Mapping[str, Any]) -> int | None:
    size = step.get("Size")
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


def _unique(layers: Sequence[LayerSize]) -> list[LayerSize]:
    """Each diff-ID once: an image can hold the same layer twice (two identical COPY steps)."""
    seen: set[str] = set()
    unique = []
    for layer in layers:
        if layer.diff_id not in seen:
            seen.add(layer.diff_id)
            unique.append(layer)
    return unique
