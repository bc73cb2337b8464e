"""Which history step made which layer: exact where the answers tell, the candidates where not.

The histories are shaped as the history API gives them (newest last here: oldest first is
what join_layers takes): the classic builder's `#(nop)` steps (docker 20.10), BuildKit's bare
instructions, a squashed build, Podman's; which steps made layers was checked on real builds
(tests/daemon_fixture.py builds lab-workdir: a WORKDIR that makes a layer of 0 bytes, then a
RUN that makes none).
"""

import json
from pathlib import Path
from typing import Any

import pytest

from inspector.layers import (
    MAX_ASKED,
    MAX_WORK,
    Layer,
    image_ids_to_ask,
    join_layers,
    layer_count,
    steps_to_ask,
    too_long_to_join,
)

INPUTS = Path(__file__).resolve().parent / "golden" / "inputs"
NOP = "/bin/sh -c #(nop) "


def steps(*entries: tuple[str, int] | tuple[str, int, str]) -> list[dict[str, Any]]:
    """History steps, oldest first: (CreatedBy, Size[, Id])."""
    return [
        {"CreatedBy": entry[0], "Size": entry[1], "Id": entry[2] if len(entry) > 2 else "<missing>"}
        for entry in entries
    ]


def ids(count: int) -> list[str]:
    return [f"sha256:{n}" for n in range(1, count + 1)]


def shown(joined: list[Layer] | None) -> list[str | list[str]] | None:
    """Each layer's command, or the list of the commands that may have made it."""
    if joined is None:
        return None
    return [
        str(layer.step["CreatedBy"])
        if layer.step is not None
        else [str(step["CreatedBy"]) for step in layer.candidates]
        for layer in joined
    ]


def real(case: str) -> tuple[bytes, bytes, list[str], list[dict[str, Any]]]:
    """A captured case: its answers, and its diff-IDs and history oldest first."""
    inspect = (INPUTS / f"{case}.inspect.json").read_bytes()
    history = (INPUTS / f"{case}.history.json").read_bytes()
    diff_ids = json.loads(inspect)["RootFS"]["Layers"]
    return inspect, history, diff_ids, list(reversed(json.loads(history)))


COPY = (NOP + "COPY file:abc in /bin/busybox ", 1_982_256)
COPY_EMPTY = (NOP + "COPY dir:def in /empty ", 0)
ADD = (NOP + "ADD file:abc in / ", 5_000)
MKDIR_BIN = ("/bin/busybox mkdir -p /bin", 0)
RUN_FILES = ("/bin/sh -c apt-get install -y x", 30_000)
WORKDIR_APP = (NOP + "WORKDIR /app", 0)
CMD = (NOP + ' CMD ["/bin/busybox" "true"]', 0)
ENV = (NOP + " ENV A=1", 0)


@pytest.mark.parametrize(
    ("history", "layers", "expected"),
    [
        # Classic builder. A WORKDIR makes a layer when it creates the directory: its
        # `#(nop) WORKDIR` is not a config-only step.
        ([COPY, WORKDIR_APP], 2, [COPY[0], WORKDIR_APP[0]]),
        ([COPY, WORKDIR_APP, ENV, CMD], 1, [COPY[0]]),
        # The reviewer's case: COPY, RUN mkdir, WORKDIR /new. One of the two made layer 2
        # and the history cannot say which: never the RUN alone.
        ([COPY, MKDIR_BIN, WORKDIR_APP, CMD], 2, [COPY[0], [MKDIR_BIN[0], WORKDIR_APP[0]]]),
        ([COPY, WORKDIR_APP, MKDIR_BIN, CMD], 2, [COPY[0], [WORKDIR_APP[0], MKDIR_BIN[0]]]),
        ([COPY, MKDIR_BIN, WORKDIR_APP, CMD], 3, [COPY[0], MKDIR_BIN[0], WORKDIR_APP[0]]),
        # Steps with files made a layer each, whatever else did.
        ([ADD, ENV, RUN_FILES, WORKDIR_APP, COPY], 3, [ADD[0], RUN_FILES[0], COPY[0]]),
        # A COPY of nothing may or may not have made one.
        ([ADD, COPY_EMPTY, CMD], 2, [ADD[0], COPY_EMPTY[0]]),
        ([ADD, COPY_EMPTY, MKDIR_BIN], 2, [ADD[0], [COPY_EMPTY[0], MKDIR_BIN[0]]]),
        # A step with files fixes the layers around it only as far as the counts allow.
        (
            [MKDIR_BIN, COPY, WORKDIR_APP],
            2,
            [[MKDIR_BIN[0], COPY[0]], [COPY[0], WORKDIR_APP[0]]],
        ),
        ([MKDIR_BIN, COPY, ENV, WORKDIR_APP], 1, [COPY[0]]),
        # Nothing fits: more steps with files than layers, or fewer steps than layers.
        ([COPY, (NOP + "COPY dir:x in / ", 47)], 1, None),
        ([COPY, ENV], 2, None),
        ([ENV, CMD], 0, []),
        ([], 0, []),
    ],
)
def test_a_layer_gets_a_step_only_when_every_reading_of_the_history_agrees(
    history: list[tuple[str, int]], layers: int, expected: list[str | list[str]] | None
) -> None:
    assert shown(join_layers(ids(layers), steps(*history))) == expected


# BuildKit records the instruction alone; the history API drops its `empty_layer` flag, so
# config-only instructions are known by name, and its WORKDIR may make a layer too.
BUILDKIT = [
    ("ADD file:abc in / ", 5000),
    ('CMD ["bash"]', 0),
    ("ARG V=1", 0),
    ("RUN |1 V=1 /bin/sh -c true # buildkit", 0),
    ("ENV A=b", 0),
    ("WORKDIR /app", 0),
    ("LABEL a=b", 0),
    ("COPY app /app # buildkit", 120),
]


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (2, [BUILDKIT[0][0], BUILDKIT[7][0]]),
        (4, [BUILDKIT[0][0], BUILDKIT[3][0], BUILDKIT[5][0], BUILDKIT[7][0]]),
        (3, [BUILDKIT[0][0], [BUILDKIT[3][0], BUILDKIT[5][0]], BUILDKIT[7][0]]),
        (5, None),
    ],
)
def test_buildkit_histories_pair_by_instruction_where_sizes_do_not_tell(
    layers: int, expected: list[str | list[str]] | None
) -> None:
    assert shown(join_layers(ids(layers), steps(*BUILDKIT))) == expected


def test_the_configs_empty_layer_flag_says_exactly_which_steps_made_a_layer() -> None:
    # What an archive's config records (BuildKit and the classic builder alike), and
    # archive.py keeps: no reading of sizes or instructions is needed.
    history = [
        {**step, "empty_layer": empty}
        for step, empty in zip(
            steps(COPY, MKDIR_BIN, WORKDIR_APP, ("RUN true", 0), CMD),
            [False, True, False, False, True],
            strict=True,
        )
    ]
    assert shown(join_layers(ids(3), history)) == [COPY[0], WORKDIR_APP[0], "RUN true"]
    assert join_layers(ids(2), history) is None


def test_a_squashed_history_gives_the_layer_to_its_last_step() -> None:
    # `docker build --squash`: the squashed steps keep their history entries but no layer of
    # their own (Size 0); the last one carries the whole squashed layer.
    history = steps(ADD, (NOP + "COPY dir:a in / ", 0), ("/bin/sh -c make", 0), COPY)
    assert shown(join_layers(ids(2), history)) == [ADD[0], COPY[0]]


def test_podmans_history_pairs_each_layer_with_its_step() -> None:
    _, _, diff_ids, history = real("podman")
    commands = shown(join_layers(diff_ids, history))
    assert commands is not None and len(commands) == 2
    assert str(commands[0]).startswith(NOP + "COPY file:")
    assert commands[1] == '/bin/sh -c ["/bin/busybox", "mkdir", "-p", "/var/lib/lab"]'


def test_the_layer_counts_of_step_images_settle_what_the_history_leaves_open() -> None:
    history = steps(
        (*COPY, "sha256:c"),
        (*MKDIR_BIN, "sha256:r"),
        (*WORKDIR_APP, "sha256:w"),
        (*CMD, "sha256:t"),
    )
    assert steps_to_ask(ids(2), history) == ["sha256:r", "sha256:w"]
    # The RUN's image has as many layers as the COPY's: it made none.
    assert shown(join_layers(ids(2), history, {"sha256:r": 1})) == [COPY[0], WORKDIR_APP[0]]
    assert shown(join_layers(ids(2), history, {"sha256:w": 2, "sha256:r": 2})) == [
        COPY[0],
        MKDIR_BIN[0],
    ]
    assert join_layers(ids(2), history, {"sha256:r": 3}) is None  # counts that cannot be
    assert steps_to_ask(ids(2), history, "sha256:w") == ["sha256:r"]  # never the image itself


def test_steps_without_a_step_image_are_not_asked_about() -> None:
    history = steps(COPY, MKDIR_BIN, WORKDIR_APP)  # all <missing>: a pulled image
    assert steps_to_ask(ids(2), history) == []
    assert steps_to_ask(ids(2), steps((*COPY, "a"), (*WORKDIR_APP, "b"))) == []  # none open


def test_at_most_so_many_step_images_are_asked_about() -> None:
    history = steps(*[(f"RUN {n}", 0, f"sha256:{n}") for n in range(100)])
    assert len(steps_to_ask(ids(50), history)) == MAX_ASKED


def test_a_history_too_long_to_pair_is_not_paired() -> None:
    long = [{"CreatedBy": "RUN x", "Size": 0}] * (MAX_WORK // 2)
    assert too_long_to_join(ids(2), long)
    assert join_layers(ids(2), long) is None
    assert steps_to_ask(ids(2), long) == []


@pytest.mark.parametrize(
    ("case", "layer", "settled_by"),
    [("lab-full", 2, "mkdir -p /var/lib/lab"), ("lab-workdir", 1, "#(nop) WORKDIR /app")],
)
def test_the_real_classic_builds_are_settled_by_their_step_images(
    case: str, layer: int, settled_by: str
) -> None:
    inspect, history, diff_ids, oldest_first = real(case)
    counts = json.loads((INPUTS / f"{case}.layers.json").read_text())
    open_layer = shown(join_layers(diff_ids, oldest_first))
    assert open_layer is not None and len(open_layer[layer]) == 2  # WORKDIR, or a RUN
    assert image_ids_to_ask(inspect, history) == list(counts)
    settled = shown(join_layers(diff_ids, oldest_first, counts))
    assert settled is not None and str(settled[layer]).endswith(settled_by)


@pytest.mark.parametrize("garbage", [b"", b"{", b"[]", b'{"RootFS": 1}', b'"x"', b"[" * 5000])
def test_answers_that_are_not_what_the_api_promises_ask_about_nothing(garbage: bytes) -> None:
    inspect, history, _, _ = real("lab-workdir")
    assert image_ids_to_ask(garbage, history) == []
    assert image_ids_to_ask(inspect, garbage) == []
    assert layer_count(garbage) is None


def test_a_step_images_layer_count_is_its_number_of_diff_ids() -> None:
    inspect, _, diff_ids, _ = real("lab-full")
    assert layer_count(inspect) == len(diff_ids) == 3
    assert layer_count(b'{"RootFS": {"Layers": []}}') == 0
