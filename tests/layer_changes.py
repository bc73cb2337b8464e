"""What each layer of an image must report under `--contents --json`, from GNU tar's listings
of the layers `docker save` writes.

A layer's members that are not whiteouts are its added and changed entries, in the tar's
order, with the fields tar lists; its whiteouts (`.wh.NAME`) and opaque markers
(`.wh..wh..opq`) are its removals, each the entry the layers below had at that path. A tool
may report a removed directory alone or with what it held, and may report as removed what a
file put over a lower directory hides: those are allowed, not required.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from tests.tar_listing import OPAQUE_MARKER, WHITEOUT_PREFIX, Listed, clean, under

ADDED, CHANGED, REMOVED = "added", "changed", "removed"
Fields = tuple[str, str, int, str, str, str, str]


def fields(entry: Listed) -> Fields:
    return entry.path, entry.kind, entry.mode, entry.uid, entry.gid, entry.size, entry.link


def _mode(value: object) -> int:
    """A mode as the JSON gives it: a number, or octal text."""
    if isinstance(value, int):
        return value & 0o7777
    text = str(value)
    return int(text.removeprefix("0o"), 8) & 0o7777


def reported(entry: Mapping[str, Any]) -> Fields:
    """A `--contents --json` entry's fields, in the form the listings are read into."""
    return (
        clean(str(entry.get("path"))),
        str(entry.get("type")),
        _mode(entry.get("mode")),
        str(entry.get("uid")),
        str(entry.get("gid")),
        str(entry.get("size")),
        str(entry.get("linkTarget") or ""),
    )


def layer_entries(document: Any) -> list[list[Mapping[str, Any]]]:
    """Each layer's entries from what `--contents --json IMAGE` printed (an array of one
    image, or the image's object)."""
    image = document[0] if isinstance(document, list) and len(document) == 1 else document
    assert isinstance(image, dict) and isinstance(image.get("layers"), list), str(document)[:500]
    return [list(layer["entries"]) for layer in image["layers"]]


@dataclasses.dataclass(frozen=True)
class Expected:
    """What one layer must report."""

    entries: tuple[Fields, ...]  # its members that are not markers, in the tar's order
    changes: Mapping[str, frozenset[str]]  # the change values each of those paths may have
    required: frozenset[str]  # lower paths that must read as removed (or be under one that does)
    removable: Mapping[str, Fields]  # lower paths that may read as removed, as they were


def expectations(layers: Sequence[Sequence[Listed]]) -> list[Expected]:
    """Each layer's expectation, applying the layers in order as a daemon does."""
    state: dict[str, Listed] = {}
    result = []
    for members in layers:
        whiteouts, opaques, plain = [], [], []
        for member in members:
            parent, _, base = member.path.rpartition("/")
            if base == OPAQUE_MARKER:
                opaques.append(parent)
            elif base.startswith(WHITEOUT_PREFIX):
                removed = base.removeprefix(WHITEOUT_PREFIX)
                whiteouts.append(f"{parent}/{removed}" if parent else removed)
            else:
                plain.append(member)
        written = {member.path for member in plain}
        hidden: set[str] = set()
        required: set[str] = set()
        for target in whiteouts:
            hidden.update(under(state, target))
            if target in state and target not in written:
                required.add(target)
        for top in opaques:
            below = [path for path in under(state, top) if path != top]
            hidden.update(below)
            required.update(path for path in below if path not in written)
        covered = set(hidden)
        for member in plain:
            if _replaces_a_directory(state, member):
                covered.update(path for path in under(state, member.path) if path != member.path)
        changes = {
            member.path: frozenset(
                {ADDED, CHANGED}
                if member.path in hidden
                else {CHANGED}
                if member.path in state
                else {ADDED}
            )
            for member in plain
        }
        result.append(
            Expected(
                tuple(fields(member) for member in plain),
                changes,
                frozenset(required),
                {path: fields(state[path]) for path in covered},
            )
        )
        for path in hidden:
            state.pop(path, None)
        for member in plain:
            if _replaces_a_directory(state, member):
                for path in under(list(state), member.path):
                    if path != member.path:
                        del state[path]
            state[member.path] = member
    return result


def _replaces_a_directory(state: Mapping[str, Listed], member: Listed) -> bool:
    """Whether member puts something other than a directory where the layers below have one
    (which takes what the directory held with it)."""
    below = state.get(member.path)
    return member.kind != "dir" and below is not None and below.kind == "dir"


def layer_problems(expected: Expected, got: Sequence[Mapping[str, Any]]) -> list[str]:
    """How a layer's reported entries differ from what its tar says, a line a problem."""
    problems = []
    kept = [entry for entry in got if entry.get("change") != REMOVED]
    kept_fields = [reported(entry) for entry in kept]
    if kept_fields != list(expected.entries):
        want, have = set(expected.entries), set(kept_fields)
        problems += [f"missing {entry}" for entry in expected.entries if entry not in have]
        problems += [
            f"not in the layer's tar {entry}" for entry in kept_fields if entry not in want
        ]
        if not problems:
            problems.append("entries out of the tar's order")
    for entry, entry_fields in zip(kept, kept_fields, strict=True):
        allowed = expected.changes.get(entry_fields[0], frozenset())
        if allowed and entry.get("change") not in allowed:
            problems.append(
                f"{entry_fields[0]!r} is {entry.get('change')!r}, want {sorted(allowed)}"
            )
    removed = {reported(e)[0]: reported(e) for e in got if e.get("change") == REMOVED}
    for path, entry_fields in removed.items():
        was = expected.removable.get(path)
        if was is None:
            problems.append(f"{path!r} reads as removed, but no marker of the layer removes it")
        elif was != entry_fields:
            problems.append(f"{path!r} removed as {entry_fields}, the layers below had {was}")
    for path in sorted(expected.required):
        ancestors = ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 2)]
        if not any(ancestor in removed for ancestor in ancestors):
            problems.append(f"{path!r} is removed by the layer but not reported removed")
    return problems
