"""Which history step made which layer: exactly when the daemon's answers tell, never a guess.

The history API drops docker's `empty_layer` flag (an archive's config keeps it, and
the archive reader passes it on), so without it a step's layer has to be worked out:
a step with files (Size > 0) made one; a step that only changes the config (`ENV`, `LABEL`,
... and the classic builder's `#(nop)` steps other than COPY, ADD and WORKDIR) made none;
any other step (a RUN, a WORKDIR, a COPY of 0 bytes) may have made a layer of 0 bytes or
none at all. Each way of choosing those that gives the image's number of layers is a
possible answer; a layer gets a step only when every possible answer gives it the same one.

The classic builder keeps each step's image (the history's `Id`, when it is not
`<missing>`), whose number of layers settles its step: `image_ids_to_ask` names the ones worth
asking the daemon about, `layer_count` reads an answer, and `join_layers` takes the counts.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspector.untrusted import flag, member, number, parse, parse_objects, string, strings

_NOP = re.compile(r"#\(nop\)\s+([A-Za-z]+)")
# Classic-builder (and buildah) `#(nop)` steps that can change files: a WORKDIR makes a layer
# when it creates its directory.
_NOP_WITH_FILES = frozenset(["ADD", "COPY", "WORKDIR"])
# Dockerfile instructions that change only the image config, as BuildKit records them.
# WORKDIR is missing on purpose: BuildKit too gives it a layer when it creates the directory.
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
_MISSING_ID = "<missing>"
# The pairing costs steps x layers (a few µs each); no real image comes near this.
MAX_WORK = 500_000
# Step images worth a request each, at most.
MAX_ASKED = 32


@dataclass(frozen=True, slots=True)
class Layer:
    """A diff-ID of RootFS.Layers and the history step that made it.

    `step` when the history says which; otherwise `candidates`, the steps that may have.
    """

    diff_id: str | None
    step: Mapping[str, Any] | None
    candidates: tuple[Mapping[str, Any], ...] = ()

    @property
    def possible_steps(self) -> tuple[Mapping[str, Any], ...]:
        """The step that made it, or every step that may have."""
        return (self.step,) if self.step is not None else self.candidates


def join_layers(
    diff_ids: Sequence[str],
    steps: Sequence[Mapping[str, Any]],
    layer_counts: Mapping[str, int] | None = None,
) -> list[Layer] | None:
    """Pair each layer with the step that made it, where the answers say; None if they cannot
    fit together (or are too long to try). steps are the history oldest first; layer_counts,
    the number of layers of step images by their history `Id`."""
    if too_long_to_join(diff_ids, steps):
        return None
    choices = _possible_layers(diff_ids, steps, layer_counts or {})
    if choices is None:
        return None
    makers: list[list[int]] = [[] for _ in diff_ids]
    for index, layers in enumerate(choices):
        for layer in layers:
            makers[layer].append(index)
    return [
        Layer(diff_id, steps[found[0]])
        if len(found) == 1
        else Layer(diff_id, None, tuple(steps[index] for index in found))
        for diff_id, found in zip(diff_ids, makers, strict=True)
    ]


def too_long_to_join(diff_ids: Sequence[str], steps: Sequence[Mapping[str, Any]]) -> bool:
    return len(steps) * (len(diff_ids) + 1) > MAX_WORK


def steps_to_ask(
    diff_ids: Sequence[str], steps: Sequence[Mapping[str, Any]], image_id: object = None
) -> list[str]:
    """The history Ids of the step images whose layer counts would settle what the history
    leaves open: none when it leaves nothing open or names no step image, never the image
    itself (image_id: its count is the number of diff_ids), MAX_ASKED at most."""
    joined = join_layers(diff_ids, steps)
    if joined is None:
        return []
    wanted: list[str] = []
    for layer in joined:
        for step in layer.candidates:
            step_id = string(step.get("Id"))
            if step_id is not None and step_id not in (_MISSING_ID, image_id, *wanted):
                wanted.append(step_id)
    return wanted[:MAX_ASKED]


def image_ids_to_ask(inspect: bytes, history: bytes) -> list[str]:
    """steps_to_ask for the daemon's answers as they came (nothing for answers that are not
    what the API promises): what to ask `GET /images/{id}/json` about, for the view."""
    document = parse(inspect)
    steps = history_steps(history)
    if _layer_list(document) is None or steps is None:
        return []
    return steps_to_ask(diff_ids(document), steps, document.get("Id"))


def layer_count(inspect: bytes) -> int | None:
    """How many layers a step image has, from the daemon's inspect answer; None if it is not
    what the API promises."""
    layers = _layer_list(parse(inspect))
    return None if layers is None else len(layers)


def diff_ids(document: Mapping[str, Any]) -> list[str]:
    """The diff-IDs of an image's layers (RootFS.Layers), oldest first."""
    return strings(member(document, "RootFS").get("Layers"))


def history_steps(history: bytes) -> list[Mapping[str, Any]] | None:
    """The steps of a history answer (newest first, as the API gives them) oldest first, as
    join_layers takes them; None if the answer is not a list."""
    steps = parse_objects(history)
    return None if steps is None else steps[::-1]


def _layer_list(document: Mapping[str, Any]) -> list[Any] | None:
    """RootFS.Layers if it is the list the API promises: a count that settles a pairing comes
    from an answer of the promised shape, or from none."""
    layers = member(document, "RootFS").get("Layers")
    return layers if isinstance(layers, list) else None


def _possible_layers(
    diff_ids: Sequence[str],
    steps: Sequence[Mapping[str, Any]],
    layer_counts: Mapping[str, int],
) -> list[set[int]] | None:
    """For each step, the layers (indexes) it makes in some possible answer; None if there is
    no possible answer."""
    total = len(diff_ids)
    options = [_layer_options(step) for step in steps]
    known = [_known_count(step, layer_counts) for step in steps]
    # reachable[i]: the numbers of layers the first i steps can have made (forwards); then,
    # backwards, only those from which the rest of the steps can still make all the layers.
    reachable: list[set[int]] = [{0}]
    for made, count in zip(options, known, strict=True):
        reachable.append(
            {
                before + add
                for before in reachable[-1]
                for add in made
                if before + add <= total and count in (None, before + add)
            }
        )
    if total not in reachable[-1]:
        return None
    finishing: set[int] = {total}
    possible: list[set[int]] = []
    for index in range(len(steps) - 1, -1, -1):
        made_here: set[int] = set()
        before_here: set[int] = set()
        for before in reachable[index]:
            for add in options[index]:
                after = before + add
                if after in finishing and known[index] in (None, after):
                    before_here.add(before)
                    if add:
                        made_here.add(before)
        possible.append(made_here)
        finishing = before_here
    possible.reverse()
    return possible


def _layer_options(step: Mapping[str, Any]) -> tuple[int, ...]:
    """How many layers the step may have made: (1,), (0,) or (0, 1)."""
    empty_layer = flag(step.get("empty_layer"))  # an archive's config says; the API does not
    if empty_layer is not None:
        return (0,) if empty_layer else (1,)
    size = number(step.get("Size"))
    if size is not None and size > 0:
        return (1,)
    created_by = string(step.get("CreatedBy"))
    if created_by is not None and _config_only(created_by):
        return (0,)
    return (0, 1)


def _config_only(created_by: str) -> bool:
    # The classic builder and buildah: `/bin/sh -c #(nop)  ENV ...`; BuildKit: `ENV ...`.
    nop = _NOP.search(created_by)
    if nop:
        return nop[1].upper() not in _NOP_WITH_FILES
    words = created_by.split(None, 1)
    return bool(words) and words[0].upper() in _CONFIG_ONLY


def _known_count(step: Mapping[str, Any], layer_counts: Mapping[str, int]) -> int | None:
    image_id = string(step.get("Id"))
    if image_id is None or image_id == _MISSING_ID:
        return None
    return layer_counts.get(image_id)
