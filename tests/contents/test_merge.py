"""The layers merged as docker applies them: whiteouts, opaque directories, type changes,
links, implied directories; each layer's changes; the listing and the largest files."""

import dataclasses

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
from inspector.contents.model import (
    DIRECTORY,
    FILE,
    HARDLINK,
    SYMLINK,
    Entry,
    LayerContents,
    LayerRefused,
)
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


def _links(merged: Merged) -> dict[str, str]:
    """Each hard link of the final tree, with the path it names."""
    return {path: entry.link for path, entry in merged.tree.items() if entry.kind == HARDLINK}


def test_a_link_keeps_the_file_when_a_later_layer_removes_its_target() -> None:
    merged = merge(
        [
            layer(
                file("lib/a-target", b"target\n", mode=0o640, uid=7),
                hardlink("lib/z-link", "lib/a-target"),
            ),
            layer(whiteout("lib/a-target")),
        ]
    )
    kept = merged.tree["lib/z-link"]
    assert (kept.kind, kept.size, kept.mode, kept.uid, kept.link) == (FILE, 7, 0o640, 7, "")
    assert "lib/a-target" not in merged.tree
    # The removal is the target's alone: the link holds the same file as before.
    assert _changes(merged, 1) == [(REMOVED, "lib/a-target")]
    assert [(entry.path, entry.size) for entry in merged.largest(5)] == [("lib/z-link", 7)]


def test_a_link_keeps_the_old_file_when_a_later_layer_replaces_its_target() -> None:
    merged = merge(
        [
            layer(
                directory("bin"),
                file("bin/tool", b"x" * 1000, mode=0o755),
                hardlink("bin/alias", "bin/tool"),
            ),
            layer(file("bin/tool", b"y" * 200, mode=0o755)),
        ]
    )
    assert _tree(merged) == {
        "bin": (DIRECTORY, 0),
        "bin/alias": (FILE, 1000),
        "bin/tool": (FILE, 200),
    }
    assert merged.tree["bin/alias"].mode == 0o755
    assert _changes(merged, 1) == [(CHANGED, "bin/tool")]
    assert [entry.path for entry in merged.largest(2)] == ["bin/alias", "bin/tool"]


@pytest.mark.parametrize(
    "replacement",
    [directory("t"), symlink("t", "elsewhere"), hardlink("t", "other")],
    ids=["directory", "symlink", "hardlink"],
)
def test_a_link_keeps_the_file_when_its_target_changes_type(replacement: Member) -> None:
    merged = merge(
        [
            layer(file("t", b"old"), file("other", b"other!"), hardlink("l", "t")),
            layer(replacement),
        ]
    )
    assert _tree(merged)["l"] == (FILE, 3)
    assert _changes(merged, 1) == [(CHANGED, "t")]


def test_a_link_keeps_the_file_when_a_later_layer_removes_its_targets_directory() -> None:
    merged = merge(
        [
            layer(
                directory("d"),
                file("d/t", b"12345"),
                hardlink("d/in", "d/t"),
                hardlink("out", "d/t"),
            ),
            layer(whiteout("d")),
        ]
    )
    # d/in goes with d; out, outside it, is the file's last name.
    assert _tree(merged) == {"out": (FILE, 5)}
    assert _changes(merged, 1) == [(REMOVED, "d"), (REMOVED, "d/in"), (REMOVED, "d/t")]


@pytest.mark.parametrize(
    "removal",
    [[opaque("d")], [file("d")]],
    ids=["opaque", "a file over the directory"],
)
def test_a_link_keeps_the_file_when_its_target_goes_with_what_a_directory_held(
    removal: list[Member],
) -> None:
    merged = merge(
        [layer(directory("d"), file("d/t", b"12345"), hardlink("l", "d/t")), layer(*removal)]
    )
    assert _tree(merged)["l"] == (FILE, 5)


def test_a_link_written_by_the_layer_whose_opaque_marker_hides_its_target_keeps_it() -> None:
    merged = merge(
        [
            layer(directory("d"), file("d/t", b"12345")),
            layer(directory("d"), hardlink("d/l", "d/t"), opaque("d")),
        ]
    )
    assert _tree(merged) == {"d": (DIRECTORY, 0), "d/l": (FILE, 5)}


def test_the_first_surviving_link_in_listing_order_takes_the_file_the_others_link_to_it() -> None:
    group = layer(
        file("m/t", b"shared", mode=0o700),
        hardlink("z", "m/t"),
        hardlink("a/b", "m/t"),
        hardlink("a-b", "m/t"),
    )
    merged = merge([group, layer(whiteout("m/t"))])
    # a/b lists before a-b: tar compares names part by part.
    assert merged.tree["a/b"].kind == FILE and merged.tree["a/b"].mode == 0o700
    assert _links(merged) == {"z": "a/b", "a-b": "a/b"}
    listed = [entry.path for entry in merged.listing() if entry.kind in (FILE, HARDLINK)]
    assert listed == ["a/b", "a-b", "z"]
    # When that one goes too, the next takes the file.
    merged = merge([group, layer(whiteout("m/t")), layer(whiteout("a"))])
    assert merged.tree["a-b"].kind == FILE and merged.tree["a-b"].size == 6
    assert _links(merged) == {"z": "a-b"}


def test_a_link_to_a_link_is_a_link_to_the_groups_file() -> None:
    chain = [layer(file("f", b"1234"), hardlink("l1", "./f")), layer(hardlink("l2", "l1"))]
    merged = merge(chain)
    assert _links(merged) == {"l1": "./f", "l2": "./f"}
    # The layer's own entry is reported as its tar has it.
    assert merged.layers[1].changes[0].entry.link == "l1"
    merged = merge([*chain, layer(whiteout("f"))])
    assert _tree(merged) == {"l1": (FILE, 4), "l2": (HARDLINK, 0)}
    assert _links(merged) == {"l2": "l1"}


def test_a_link_removed_or_replaced_leaves_the_group_as_it_was() -> None:
    merged = merge(
        [
            layer(file("f", b"1234"), hardlink("l1", "f"), hardlink("l2", "f")),
            layer(whiteout("l1"), file("l2", b"new")),
            layer(whiteout("f")),
        ]
    )
    assert _tree(merged) == {"l2": (FILE, 3)}


def test_a_target_replaced_by_a_link_to_its_own_link_rejoins_the_old_file() -> None:
    # docker removes f before it links f to l, which holds f's file.
    merged = merge([layer(file("f", b"1234"), hardlink("l", "f")), layer(hardlink("f", "l"))])
    assert _tree(merged) == {"f": (HARDLINK, 0), "l": (FILE, 4)}
    assert _links(merged) == {"f": "l"}


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([layer(hardlink("h", "missing"))], "neither the layer nor the layers below hold"),
        ([layer(file("t")), layer(whiteout("t"), hardlink("h", "t"))], "neither the layer"),
        ([layer(directory("d"), hardlink("h", "d"))], "a directory"),
        # docker removes what is at a link's path before it links: to itself, or to what the
        # path held, the link has nothing to name.
        ([layer(file("f"), hardlink("f", "f"))], "neither the layer"),
        ([layer(file("d/t")), layer(hardlink("d", "d/t"))], "neither the layer"),
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


def _clean(link: str) -> str:
    return "/".join(part for part in link.split("/") if part and part != ".")


@budget(200, 5000)
@given(
    st.lists(
        st.lists(st.one_of(_MEMBERS, st.builds(hardlink, _NAMES, _NAMES)), max_size=6),
        max_size=4,
    )
)
def test_hard_links_hold_the_file_their_target_held(specs: list[list[Member]]) -> None:
    """Whatever the layers: replaying the changes with a hard link naming the file its
    target holds, each file of the final tree is at one path, as it was first written, and
    every other path holding it is a link to that path."""
    try:
        merged = merge([layer(*members) for members in specs])
    except LayerRefused:
        return
    # Each path's file, as a number, and each number's entry as first written.
    held: dict[str, int] = {}
    files: list[Entry] = []
    for report in merged.layers:
        for change in report.changes:
            path = change.entry.path
            if change.change == REMOVED:
                del held[path]
            elif change.entry.kind == HARDLINK:
                held[path] = held[_clean(change.entry.link)]
            else:
                held[path] = len(files)
                files.append(change.entry)
    assert held.keys() == merged.tree.keys()
    holders: dict[int, list[str]] = {}
    for path, number in held.items():
        holders.setdefault(number, []).append(path)
    for number, paths in holders.items():
        kept = [path for path in paths if merged.tree[path].kind != HARDLINK]
        assert len(kept) == 1, paths
        assert merged.tree[kept[0]] == dataclasses.replace(files[number], path=kept[0])
        for path in paths:
            if path != kept[0]:
                assert _clean(merged.tree[path].link) == kept[0]
