"""dive's analysis, to the last digit: its test image's efficiency, sizes and wasted bytes as
dive's own test asserts them, the paths its export lists, and each layer's files as its export
lists them; then its rules on layers built here."""

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.contents.analysis import Waste, WastedPath, waste
from inspector.contents.gosort import go_sort
from inspector.contents.model import (
    BLOCK_DEVICE,
    CHAR_DEVICE,
    DIRECTORY,
    FIFO,
    HARDLINK,
    OPAQUE,
    SYMLINK,
    WHITEOUT,
    Entry,
    LayerContents,
)
from inspector.sources.archive.streams import Counted, measure
from tests.contents.layers import directory, file, layer, opaque, whiteout
from tests.fuzzing import budget

DIVE = Path(__file__).resolve().parent.parent / "data" / "dive"


@pytest.fixture(scope="module")
def dive_layers() -> list[LayerContents]:
    with tarfile.open(DIVE / "test-docker-image.tar") as archive:
        manifest = archive.extractfile("manifest.json")
        assert manifest is not None
        paths = json.load(manifest)[0]["Layers"]
        found = []
        for path in paths:
            blob = archive.extractfile(path)
            assert blob is not None
            contents = measure(Counted(blob), contents=True).contents
            assert contents is not None
            found.append(contents)
    return found


@pytest.fixture(scope="module")
def export() -> dict[str, Any]:
    text = (DIVE / "export_test.snap").read_text()
    body = text.partition("]\n")[2].rsplit("---", 1)[0]
    document: dict[str, Any] = json.loads(body)
    return document


def test_dive_test_image_wastes_what_dive_says(dive_layers: list[LayerContents]) -> None:
    got = waste(dive_layers)
    assert got.efficiency == 0.9844212134184309
    assert got.size == 1220598
    assert got.user_size == 66237
    assert got.wasted == 32025
    assert got.wasted_user_fraction == 0.4834911001404049


def test_dive_test_image_lists_the_paths_dives_export_lists(
    dive_layers: list[LayerContents], export: dict[str, Any]
) -> None:
    got = waste(dive_layers)
    assert [(found.path, found.count, found.size) for found in got.paths] == [
        (reference["file"], reference["count"], reference["sizeBytes"])
        for reference in export["image"]["fileReference"]
    ]
    assert got.wasted == export["image"]["inefficientBytes"]
    assert got.efficiency == export["image"]["efficiencyScore"]
    assert got.size == export["image"]["sizeBytes"]


# Go's os.FileMode bits for what a tar header says (archive/tar's FileInfo().Mode()).
_GO_TYPE = {
    DIRECTORY: 1 << 31,
    SYMLINK: 1 << 27,
    CHAR_DEVICE: (1 << 26) | (1 << 21),
    BLOCK_DEVICE: 1 << 26,
    FIFO: 1 << 25,
}
_TYPE_FLAG = {DIRECTORY: b"5", SYMLINK: b"2", HARDLINK: b"1", CHAR_DEVICE: b"3"}
_TYPE_FLAG |= {BLOCK_DEVICE: b"4", FIFO: b"6"}


def _go_mode(entry: Entry) -> int:
    mode = (entry.mode & 0o777) | _GO_TYPE.get(entry.kind, 0)
    for bit, go_bit in ((0o4000, 1 << 23), (0o2000, 1 << 22), (0o1000, 1 << 20)):
        if entry.mode & bit:
            mode |= go_bit
    return mode


def _dive_name(entry: Entry) -> str:
    """The entry's name as dive's tree holds it: whiteouts and opaque markers as written."""
    if entry.kind == WHITEOUT:
        parent, _, name = entry.path.rpartition("/")
        return f"{parent}/.wh.{name}" if parent else f".wh.{name}"
    return entry.path


def _dive_file_list(contents: LayerContents) -> list[dict[str, Any]]:
    """dive's export of a layer: its tree (every entry by path, the directories on the way
    implied with empty records) visited children first, by name."""
    tree: dict[str, Any] = {}
    records: dict[str, Entry] = {}
    for entry in contents.entries:
        names = entry.path + "/.wh..wh..opq" if entry.kind == OPAQUE else _dive_name(entry)
        node = tree
        parts = names.split("/")
        for name in parts:
            if name.startswith(".wh..wh.") and name not in node:
                break
            node = node.setdefault(name, {})
        else:
            records[names] = entry
    listed: list[dict[str, Any]] = []

    def visit(node: dict[str, Any], path: str) -> None:
        for name in sorted(node):
            child = f"{path}/{name}" if path else name
            visit(node[name], child)
            entry = records.get(child)
            listed.append(_file_info(entry, child) if entry else _EMPTY)

    visit(tree, "")
    return listed


_EMPTY = {
    "fileMode": 0,
    "gid": 0,
    "isDir": False,
    "linkName": "",
    "path": "",
    "size": 0,
    "typeFlag": 0,
    "uid": 0,
}


def _file_info(entry: Entry, name: str) -> dict[str, Any]:
    return {
        "fileMode": _go_mode(entry),
        "gid": entry.gid,
        "isDir": entry.kind == DIRECTORY,
        "linkName": entry.link,
        "path": name,
        "size": entry.size,
        "typeFlag": _TYPE_FLAG.get(entry.kind, b"0")[0],
        "uid": entry.uid,
    }


def test_each_layer_holds_the_files_dives_export_lists(
    dive_layers: list[LayerContents], export: dict[str, Any]
) -> None:
    assert len(dive_layers) == len(export["layer"])
    for contents, exported in zip(dive_layers, export["layer"], strict=True):
        assert contents.size == exported["sizeBytes"]
        assert _dive_file_list(contents) == exported["fileList"], exported["index"]


# -- dive's rules, on layers built here ---------------------------------------------------


def _numbers(found: Waste) -> tuple[float, int, int, list[tuple[str, int, int]]]:
    return (
        found.efficiency,
        found.size,
        found.wasted,
        [(path.path, path.count, path.size) for path in found.paths],
    )


def test_a_file_overwritten_wastes_both_versions() -> None:
    found = waste([layer(file("big", b"x" * 1000)), layer(file("big", b"y" * 10))])
    assert _numbers(found) == (10 / 1010, 1010, 1010, [("/big", 2, 1010)])
    assert found.user_size == 10 and found.wasted_user_fraction == 101.0


def test_a_whiteout_of_a_directory_weighs_what_it_held() -> None:
    base = layer(directory("d"), file("d/a", b"a" * 100), file("d/b", b"b" * 50), file("f", b"f"))
    found = waste([base, layer(whiteout("d"), whiteout("f"))])
    # /d/a and /d/b are leaves once; /d (not a leaf below) is a leaf above, its whiteout
    # weighing the 150 bytes it held; /f's whiteout weighs nothing (it was a file), so /f is
    # 1 byte in all and 0 at least.
    assert _numbers(found) == (300 / 301, 151, 1, [("/f", 2, 1)])
    assert found.paths == (WastedPath("/f", 2, 1),)


def test_the_same_empty_directory_in_two_layers_is_listed_but_wastes_nothing() -> None:
    found = waste([layer(directory("tmp")), layer(directory("tmp"))])
    assert _numbers(found) == (1.0, 0, 0, [("/tmp", 2, 0)])


def test_an_opaque_directory_implies_its_directory_in_dives_tree() -> None:
    found = waste([layer(directory("d")), layer(opaque("d"))])
    assert _numbers(found) == (1.0, 0, 0, [("/d", 2, 0)])


def test_one_layer_or_none_has_no_user_bytes_to_waste() -> None:
    assert waste([layer(file("a", b"x"))]).wasted_user_fraction == 0.0
    assert waste([]) == Waste(1.0, 0, 0, 0, 0.0, ())


def test_a_whiteout_of_what_is_not_below_stops_dives_count_of_that_layer() -> None:
    """dive's visit of a layer ends at the first error, and a whiteout of a path the layers
    below lack is one: the leaves after it (by name) are not counted."""
    found = waste([layer(file("z", b"z" * 7)), layer(whiteout("a"), file("z", b"z" * 5))])
    assert _numbers(found) == (1.0, 12, 0, [])


@budget(200, 5000)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers()), max_size=300))
def test_gos_sort_sorts_and_keeps_short_lists_stable(pairs: list[tuple[int, int]]) -> None:
    """Go's sort.Sort as dive runs it: sorted by the key; insertion sort up to 12 items."""
    got = list(pairs)
    go_sort(got, lambda one, other: one[0] < other[0])
    assert [key for key, _ in got] == sorted(key for key, _ in pairs)
    assert sorted(got) == sorted(pairs)
    if len(pairs) <= 12:
        assert got == sorted(pairs, key=lambda pair: pair[0])
