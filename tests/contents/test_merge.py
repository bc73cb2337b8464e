"""The layers merged as docker applies them: whiteouts, opaque directories, type changes,
links, implied directories; each layer's changes; the listing and the largest files."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.contents.analysis import (
    ADDED,
    CHANGED,
    REMOVED,
    Merged,
    merge,
)
from inspector.contents.model import DIRECTORY, FILE, SYMLINK, LayerContents, LayerRefused
from tests.contents.layers import (
    Member,
    directory,
    file,
    hardlink,
    layer,
    opaque,
    symlink,
    whiteout,
)
from tests.fuzzing import budget


def _tree(merged: Merged) -> dict[str, tuple[str, int]]:
    return {path: (entry.kind, entry.size) for path, entry in merged.tree.items()}


def _changes(merged: Merged, index: int) -> list[tuple[str, str]]:
    return [(change.change, change.entry.path) for change in merged.layers[index].changes]


def test_a_whiteout_removes_a_directory_and_all_it_held() -> None:
    merged = merge(
        [
            layer(directory("d"), file("d/a", b"aa"), directory("d/e"), file("d/e/b"), file("k")),
            layer(whiteout("d")),
        ]
    )
    assert _tree(merged) == {"k": (FILE, 0)}
    assert _changes(merged, 1) == [
        (REMOVED, "d"),
        (REMOVED, "d/a"),
        (REMOVED, "d/e"),
        (REMOVED, "d/e/b"),
    ]
    report = merged.layers[1]
    assert (report.added, report.changed, report.removed) == (0, 0, 4)
    assert merged.layers[1].changes[1].entry.size == 2  # as the layer below had it


def test_a_whiteout_of_a_missing_path_removes_nothing() -> None:
    merged = merge([layer(file("a")), layer(whiteout("b"))])
    assert _tree(merged) == {"a": (FILE, 0)}
    assert merged.layers[1].changes == ()


def test_an_opaque_directory_hides_what_the_layers_below_put_there() -> None:
    merged = merge(
        [
            layer(directory("d"), file("d/old"), directory("d/sub"), file("d/sub/x")),
            layer(directory("d"), file("d/new"), opaque("d"), directory("d/sub")),
        ]
    )
    # d/sub is written again by the upper layer, but what the lower put in it is hidden
    # only where the opaque marker stands: docker keeps what the same layer unpacked.
    assert _tree(merged) == {
        "d": (DIRECTORY, 0),
        "d/new": (FILE, 0),
        "d/sub": (DIRECTORY, 0),
    }
    assert _changes(merged, 1) == [
        (CHANGED, "d"),
        (ADDED, "d/new"),
        (REMOVED, "d/old"),
        (REMOVED, "d/sub"),
        (REMOVED, "d/sub/x"),
        (ADDED, "d/sub"),
    ]


def test_overwriting_a_big_file_is_a_change_to_the_new_size() -> None:
    merged = merge([layer(file("big", b"x" * 100_000)), layer(file("big", b"y"))])
    assert _tree(merged) == {"big": (FILE, 1)}
    assert _changes(merged, 1) == [(CHANGED, "big")]
    assert merged.layers[0].size == 100_000 and merged.layers[1].size == 1


def test_a_path_changing_type_replaces_what_was_there() -> None:
    merged = merge(
        [
            layer(file("p", b"abc")),
            layer(directory("p"), file("p/inner", b"12")),
            layer(file("p", b"z")),
        ]
    )
    assert _tree(merged) == {"p": (FILE, 1)}
    assert _changes(merged, 1) == [(CHANGED, "p"), (ADDED, "p/inner")]
    assert _changes(merged, 2) == [(REMOVED, "p/inner"), (CHANGED, "p")]


def test_parent_directories_a_tar_does_not_list_are_implied() -> None:
    merged = merge([layer(file("a/b/c", b"1"))])
    assert _tree(merged) == {"a": (DIRECTORY, 0), "a/b": (DIRECTORY, 0), "a/b/c": (FILE, 1)}
    assert _changes(merged, 0) == [(ADDED, "a"), (ADDED, "a/b"), (ADDED, "a/b/c")]
    assert merged.tree["a"].mode == 0o755


def test_links_are_kept_and_a_hard_link_needs_its_target() -> None:
    merged = merge([layer(file("bin/busybox", b"elf")), layer(hardlink("bin/sh", "./bin/busybox"))])
    assert merged.tree["bin/sh"].link == "./bin/busybox"
    merged = merge([layer(file("t"), hardlink("h", "t"), symlink("s", "/nowhere"))])
    assert merged.tree["s"].kind == SYMLINK


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([layer(hardlink("h", "missing"))], "neither the layer nor the layers below hold"),
        ([layer(file("t")), layer(whiteout("t"), hardlink("h", "t"))], "neither the layer"),
        ([layer(directory("d"), hardlink("h", "d"))], "a directory"),
        ([layer(file("f")), layer(file("f/x"))], "which is not a directory"),
    ],
)
def test_what_no_daemon_applies_is_refused(layers: list[LayerContents], message: str) -> None:
    with pytest.raises(LayerRefused, match=message):
        merge(layers)


def test_empty_layers_change_nothing() -> None:
    merged = merge([layer(), layer(file("a")), layer()])
    assert _tree(merged) == {"a": (FILE, 0)}
    assert [report.changes for report in (merged.layers[0], merged.layers[2])] == [(), ()]
    assert merge([]) == Merged((), {})


def test_unicode_and_255_byte_names_are_merged_like_any() -> None:
    name = "ü" * 127 + "x"  # 255 bytes
    merged = merge([layer(directory("données"), file(f"données/{name}", b"1"))])
    assert [entry.path for entry in merged.listing()] == ["données", f"données/{name}"]


def test_the_listing_puts_a_directory_before_what_it_holds_and_compares_names() -> None:
    merged = merge(
        [layer(file("a-b"), file("a/b"), file("a/a"), directory("usr/share"), file("usr/shared"))]
    )
    assert [entry.path for entry in merged.listing()] == [
        "a",
        "a/a",
        "a/b",
        "a-b",
        "usr",
        "usr/share",
        "usr/shared",
    ]


@pytest.mark.parametrize("prefix", ["usr/share", "/usr/share", "./usr/share/", "usr//share"])
def test_a_prefix_matches_whole_names(prefix: str) -> None:
    merged = merge([layer(file("usr/share/x"), file("usr/shared"), file("usr/share/y/z"))])
    assert [entry.path for entry in merged.listing(prefix)] == [
        "usr/share",
        "usr/share/x",
        "usr/share/y",
        "usr/share/y/z",
    ]
    assert list(merged.listing("nothing")) == []
    assert len(list(merged.listing("/"))) == len(merged.tree)


def test_the_largest_are_files_only_largest_first() -> None:
    merged = merge(
        [layer(directory("d"), file("d/s", b"1"), file("b", b"12345"), file("a", b"12345"))]
    )
    assert [(entry.path, entry.size) for entry in merged.largest(2)] == [("a", 5), ("b", 5)]
    assert [entry.path for entry in merged.largest(10)] == ["a", "b", "d/s"]


# A small world of paths, so that the layers collide often.
_NAMES = st.sampled_from(["a", "b", "a/x", "a/y", "b/x", "a/x/deep"])
_MEMBERS = st.one_of(
    st.builds(file, _NAMES, st.binary(max_size=3)),
    st.builds(directory, _NAMES),
    st.builds(whiteout, _NAMES),
    st.builds(opaque, st.sampled_from(["a", "b", "a/x"])),
    st.builds(symlink, _NAMES, st.just("a")),
)


@budget(200, 5000)
@given(st.lists(st.lists(_MEMBERS, max_size=6), max_size=4))
def test_the_merged_tree_agrees_with_its_changes(specs: list[list[Member]]) -> None:
    """Whatever the layers: every path's parent is in the tree and is a directory or a link,
    and replaying the changes (added and changed put, removed taken) gives the tree."""
    try:
        merged = merge([layer(*members) for members in specs])
    except LayerRefused:
        return
    for path in merged.tree:
        parent = path.rpartition("/")[0]
        assert not parent or merged.tree[parent].kind in (DIRECTORY, SYMLINK)
    replayed: dict[str, object] = {}
    for report in merged.layers:
        for change in report.changes:
            if change.change == REMOVED:
                assert replayed.pop(change.entry.path) == change.entry
            else:
                replayed[change.entry.path] = change.entry
    assert replayed == merged.tree
    assert [entry.path for entry in merged.listing()] == sorted(
        merged.tree, key=lambda path: path.split("/")
    )
