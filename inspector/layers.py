"""An image's layers (RootFS.Layers) paired with the history steps that made them."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_NOP = re.compile(r"#\(nop\)\s+([A-Za-z]+)")
# Dockerfile instructions that change only the image config: docker records them as history
# steps without a layer (`empty_layer`), which the history API does not say. WORKDIR is
# missing on purpose: BuildKit gives it a layer when it creates the directory.
_CONFIG_ONLY = frozenset(
    [
        "ARG",
        "CMD",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
    ]
)


@dataclass(frozen=True, slots=True)
class Layer:
    """A diff-ID of RootFS.Layers and the history step that made it, if known."""

    diff_id: str | None
    step: Mapping[str, Any] | None


def join_layers(diff_ids: Sequence[str], steps: Sequence[Mapping[str, Any]]) -> list[Layer] | None:
    """Pair each layer with the step that made it, or None if the two cannot be matched.

    The history API does not say which steps made a layer (docker drops `empty_layer`), so a
    step makes one if its size says so; failing that, if it is not a config-only instruction.
    """
    for makes_layer in (_has_files, _may_make_layer):
        chosen = [step for step in steps if makes_layer(step)]
        if len(chosen) == len(diff_ids):
            return [Layer(d, step) for d, step in zip(diff_ids, chosen, strict=True)]
    return None


def _has_files(step: Mapping[str, Any]) -> bool:
    size = step.get("Size")
    return isinstance(size, int | float) and not isinstance(size, bool) and size > 0


def _may_make_layer(step: Mapping[str, Any]) -> bool:
    return _has_files(step) or not _config_only(
        created_by if isinstance(created_by := step.get("CreatedBy"), str) else ""
    )


def _config_only(created_by: str) -> bool:
    # The classic builder and buildah: `/bin/sh -c #(nop)  ENV ...`, where COPY and ADD are
    # the only `#(nop)` steps with files; BuildKit: the instruction itself, `ENV ...`.
    nop = _NOP.search(created_by)
    if nop:
        return nop[1].upper() not in ("COPY", "ADD")
    words = created_by.split(None, 1)
    return bool(words) and words[0].upper() in _CONFIG_ONLY
