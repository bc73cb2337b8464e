"""Two images compared: what differs in how they run, and which layers they share.

Pure: it reads the two inspect objects (and histories, for layer sizes) as the daemon or an
archive gave them, through the accessors the view reads them with, so a value of an odd type
is compared as the view shows it.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from inspector.image import Image
from inspector.layers import Layer, diff_ids, history_steps, join_layers
from inspector.untrusted import count, keys, member, parse, strings, text, text_values, unset

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

    `a` is None for something added in B, `b` None for something removed from A. A value is
    text (the image's string, or the JSON of a value of another type), a list of strings
    (entrypoint, cmd), a size in bytes (or the text of a size that is no number of bytes), or
    the healthcheck object as the image has it.
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
    doc_a, doc_b = parse(a.inspect), parse(b.inspect)
    changes: list[Change] = []
    for name in FIELDS:
        if name == "size" and (_from_registry(a) or _from_registry(b)):
            continue  # a registry cannot know it (the layers unpacked): unknown is no change
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


def _from_registry(image: Image) -> bool:
    return image.origin is not None and image.origin.kind == "registry"


# -- each field, as the view reads it -------------------------------------------------------


def _text(value: object) -> str | None:
    """text(), with "" as unset."""
    return text(value) or None


def _platform(doc: Mapping[str, Any]) -> str | None:
    parts = [text(doc.get(key)) for key in ("Os", "Architecture", "Variant")]
    return "/".join(part for part in parts if part) or None


def _size(doc: Mapping[str, Any]) -> int | str | None:
    """The size in bytes, or the text of a value that is no size (as the view shows it)."""
    value = doc.get("Size")
    size = count(value)
    if size is not None or unset(value):
        return size
    return text(value)


def _command(value: object) -> list[str] | None:
    return strings(value) or None


def _healthcheck(value: object) -> object:
    return None if unset(value) else value


def _env(doc: Mapping[str, Any]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for entry in strings(member(doc, "Config").get("Env")):
        key, _, value = entry.partition("=")
        pairs[key] = value  # a name given twice: the last one wins, as when it runs
    return pairs


def _setting(name: str, read: Callable[[object], Any]) -> Callable[[Mapping[str, Any]], Any]:
    """The reader of a field of the image's Config."""
    return lambda doc: read(member(doc, "Config").get(name))


_FIELD_VALUES: Mapping[str, Callable[[Mapping[str, Any]], Any]] = {
    "id": lambda doc: _text(doc.get("Id")),
    "platform": _platform,
    "size": _size,
    "created": lambda doc: _text(doc.get("Created")),
    "user": _setting("User", _text),
    "workdir": _setting("WorkingDir", _text),
    "entrypoint": _setting("Entrypoint", _command),
    "cmd": _setting("Cmd", _command),
    "env": _env,
    "labels": _setting("Labels", text_values),
    "ports": _setting("ExposedPorts", keys),
    "volumes": _setting("Volumes", keys),
    "healthcheck": _setting("Healthcheck", _healthcheck),
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
    return Summary(
        asked=asked,
        id=_text(doc.get("Id")),
        tags=tuple(strings(doc.get("RepoTags"))),
        platform=_platform(doc),
        size=count(doc.get("Size")),
        created=_text(doc.get("Created")),
    )


def _layers(doc: Mapping[str, Any], image: Image) -> list[LayerSize]:
    """RootFS.Layers with the size of each, from the history when it can be matched."""
    layers = diff_ids(doc)
    steps = history_steps(image.history) if image.history is not None else None
    joined = join_layers(layers, steps, image.layer_counts) if steps is not None else None
    if joined is None:
        return [LayerSize(diff_id, None) for diff_id in layers]
    return [LayerSize(layer.diff_id or "", _layer_size(layer)) for layer in joined]


def _layer_size(layer: Layer) -> int | None:
    """The size every step that may have made the layer gives it; None if they differ."""
    sizes = {count(step.get("Size")) for step in layer.possible_steps}
    return sizes.pop() if len(sizes) == 1 else None


def _unique(layers: Sequence[LayerSize]) -> list[LayerSize]:
    """Each diff-ID once: an image can hold the same layer twice (two identical COPY steps)."""
    seen: set[str] = set()
    unique = []
    for layer in layers:
        if layer.diff_id not in seen:
            seen.add(layer.diff_id)
            unique.append(layer)
    return unique
