"""GNU `tar -tv` listings read back into fields: the oracle imginspect's contents are compared
with.

One parser reads a listing's lines, and two readings are made of them:

- as listings, for `--files` and `--contents --json` against what `docker export` and `docker
  save` write, listed by `tar -tv --numeric-owner`: a line becomes a `Listed` (its type,
  permission bits, owner ids, size and link target, keyed by its path made clean); the date is
  left out, since a daemon sets the times of the directories it writes into. `final_tree`
  turns a listing of a whole filesystem into what can be compared whatever member of a group
  of hard links a tool lists first.
- as a source's records: each layer of an archive a real tool saved, listed with
  `--full-time`, becomes the fields an `Entry` records (`Member`), whiteouts and opaque
  markers named as the model names them, for `assert_contents_match`.
"""

from __future__ import annotations

import calendar
import dataclasses
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import zstandard

from inspector.contents.model import (
    BLOCK_DEVICE,
    CHAR_DEVICE,
    OPAQUE,
    WHITEOUT,
    Entry,
    LayerContents,
)

# The environment both tar and imginspect list in: names printed as UTF-8, dates in UTC.
LISTING_ENV = {"LC_ALL": "C.UTF-8", "TZ": "UTC"}
# mode owner/group size date time name: GNU tar's long listing. A device shows `major,minor`
# where the size goes; the time has its seconds with --full-time.
_LINE = re.compile(
    r"(?P<mode>[-dlhcbpCDMNSV][-rwxsStT]{9}) (?P<uid>\S+)/(?P<gid>\S+) +"
    r"(?P<size>\d+|\d+, *\d+) (?P<when>\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?) (?P<rest>.*)"
)
KINDS = {
    "-": "file",
    "d": "dir",
    "l": "symlink",
    "h": "hardlink",
    "c": "char",
    "b": "block",
    "p": "fifo",
}
_BITS = "rwxrwxrwx"
_SPECIAL = {2: ("s", "S", 0o4000), 5: ("s", "S", 0o2000), 8: ("t", "T", 0o1000)}
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


def clean(path: str) -> str:
    """A member's name as a key: no leading `./` or `/`, no trailing `/`."""
    while path.startswith(("./", "/")):
        path = path[2:] if path.startswith("./") else path[1:]
    return path.rstrip("/")


def mode_bits(text: str) -> int:
    """`-rwsr-xr-x` as 0o4755."""
    bits = 0
    for index, char in enumerate(text[1:10]):
        special = _SPECIAL.get(index)
        if special and char in special[:2]:
            bits |= special[2]
            if char == special[0]:
                bits |= 1 << (8 - index)
        elif char == _BITS[index]:
            bits |= 1 << (8 - index)
    return bits


class Line(NamedTuple):
    """A listing's line in its fields, as printed; `name` and `link` split where tar puts a
    link's target."""

    kind: str
    mode: int
    uid: str
    gid: str
    size: str
    when: str
    name: str
    link: str


def read_line(line: str) -> Line:
    match = _LINE.fullmatch(line)
    assert match is not None, f"not a `tar -tv` line: {line!r}"
    kind = KINDS.get(match["mode"][0], match["mode"][0])
    rest, link = match["rest"], ""
    separator = {"symlink": " -> ", "hardlink": " link to "}.get(kind)
    if separator is not None:
        assert separator in rest, f"a {kind} without its target: {line!r}"
        rest, link = rest.split(separator, 1)
    mode = mode_bits(match["mode"])
    return Line(kind, mode, match["uid"], match["gid"], match["size"], match["when"], rest, link)


def tar_tv(path: Path, *options: str, env: Mapping[str, str], timeout: float) -> str:
    """GNU tar's long listing of a tar file (gzip or not), owners as ids."""
    return subprocess.run(
        ["tar", "-tv", "--numeric-owner", *options, "-f", str(path)],
        env=dict(env),
        capture_output=True,
        check=True,
        timeout=timeout,
    ).stdout.decode()


# -- listings -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Listed:
    """One member as a listing shows it; uid and gid stay text when a tool prints names."""

    path: str
    name: str  # as printed
    kind: str
    mode: int
    uid: str
    gid: str
    size: str
    link: str


def parse_line(line: str) -> Listed:
    read = read_line(line)
    return Listed(
        clean(read.name), read.name, read.kind, read.mode, read.uid, read.gid, read.size, read.link
    )


def parse_listing(text: str) -> list[Listed]:
    return [parse_line(line) for line in text.splitlines() if line]


def tar_list(path: Path) -> list[Listed]:
    return parse_listing(tar_tv(path, env={"PATH": "/usr/bin:/bin", **LISTING_ENV}, timeout=300))


# -- a whole filesystem ---------------------------------------------------------------------


def _groups(listed: Sequence[Listed]) -> dict[str, frozenset[str]]:
    """Each path a hard link names (as link or target) with every path of its group."""
    parent: dict[str, str] = {}

    def root(path: str) -> str:
        while parent.get(path, path) != path:
            path = parent[path]
        return path

    for entry in listed:
        if entry.kind == "hardlink":
            parent.setdefault(entry.path, entry.path)
            target = clean(entry.link)
            parent.setdefault(target, target)
            parent[root(entry.path)] = root(target)
    members: dict[str, set[str]] = {}
    for path in parent:
        members.setdefault(root(path), set()).add(path)
    return {path: frozenset(members[root(path)]) for path in parent}


def final_tree(listed: Sequence[Listed]) -> dict[str, tuple[Any, ...]]:
    """path -> (name as printed, type, mode, uid, gid, size, link target), where the members
    of a group of hard links all read as the group's file with the group's paths: tar lists
    the first member it meets as the file and the others as links to it, and which one comes
    first is the tool's choice. A link whose target is not in the listing stays a link to
    nowhere, and so differs from any file."""
    by_path = {entry.path: entry for entry in listed}
    groups = _groups(listed)
    tree: dict[str, tuple[Any, ...]] = {}
    for entry in listed:
        group = groups.get(entry.path)
        if group is None:
            tree[entry.path] = (entry.name, entry.kind, oct(entry.mode), entry.uid, entry.gid)
            tree[entry.path] += (entry.size, entry.link)
            continue
        files = [
            by_path[p] for p in sorted(group) if p in by_path and by_path[p].kind != "hardlink"
        ]
        if len(files) != 1:
            tree[entry.path] = (entry.name, "hardlink to no file", entry.link)
            continue
        file = files[0]
        tree[entry.path] = (entry.name, file.kind, oct(file.mode), file.uid, file.gid, file.size)
        tree[entry.path] += ("same file as " + " ".join(sorted(group)),)
    return tree


def differences(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """What differs, a line a path: the oracle's value after `want`, ours after `got`."""
    lines = []
    for path in sorted(ours.keys() | theirs.keys()):
        if ours.get(path) != theirs.get(path):
            lines.append(f"{path!r}: want {theirs.get(path)!r}, got {ours.get(path)!r}")
    return lines


def under(paths: Iterable[str], top: str) -> list[str]:
    """The paths at or below top (by whole names: `opt/app` holds `opt/app/x`, not
    `opt/app-data`)."""
    return [path for path in paths if path == top or path.startswith(top + "/")]


# -- a layer as a source's records --------------------------------------------------------


class Member(NamedTuple):
    """What `tar -tv` shows of a layer's member, as the model writes it."""

    path: str
    kind: str
    mode: int
    uid: int
    gid: int
    size: int
    mtime: int
    link: str


class SavedLayer(NamedTuple):
    diff_id: str
    tar: bytes  # uncompressed


def saved_layers(archive: Path) -> list[SavedLayer]:
    """The layers of the one image a `docker save` or `podman save` archive holds, bottom
    first, uncompressed, read by its manifest.json."""
    with tarfile.open(archive) as tar:
        manifest = json.loads(_member(tar, "manifest.json"))
        assert len(manifest) == 1, manifest
        layers = [plain(_member(tar, path)) for path in manifest[0]["Layers"]]
    return [SavedLayer("sha256:" + hashlib.sha256(layer).hexdigest(), layer) for layer in layers]


def _member(tar: tarfile.TarFile, path: str) -> bytes:
    handle = tar.extractfile(path)  # a link (docker 25's <id>/layer.tar) followed
    assert handle is not None, path
    return handle.read()


def plain(blob: bytes) -> bytes:
    """A layer blob uncompressed (gzip or zstd), or as it is."""
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return zstandard.ZstdDecompressor().stream_reader(blob, read_across_frames=True).read()
    return blob


def layer_members(layer: bytes, scratch: Path) -> list[Member]:
    """GNU tar's listing of a layer's tar, whiteouts named as the model names them."""
    path = scratch / f"layer-{hashlib.sha256(layer).hexdigest()[:16]}.tar"
    path.write_bytes(layer)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC", "LC_ALL": "C"}
    listing = tar_tv(path, "--full-time", env=env, timeout=120)
    return [_member_of(read_line(line)) for line in listing.splitlines()]


def _member_of(line: Line) -> Member:
    kind = line.kind
    path = "/".join(part for part in line.name.split("/") if part not in ("", "."))
    directory, _, base = path.rpartition("/")
    if base == OPAQUE_MARKER:
        path, kind = directory, OPAQUE
    elif base.startswith(WHITEOUT_PREFIX):
        path, kind = (f"{directory}/" if directory else "") + base[len(WHITEOUT_PREFIX) :], WHITEOUT
    size = 0 if "," in line.size else int(line.size)
    when = calendar.timegm(time.strptime(line.when, "%Y-%m-%d %H:%M:%S"))
    return Member(path, kind, line.mode, int(line.uid), int(line.gid), size, when, line.link)


def entries_listed(entries: Iterable[Entry]) -> list[Member]:
    """The model's entries, with what tar -tv shows of each."""
    return [
        Member(
            entry.path,
            entry.kind,
            entry.mode,
            entry.uid,
            entry.gid,
            entry.size if entry.kind not in (CHAR_DEVICE, BLOCK_DEVICE) else 0,
            entry.mtime,
            entry.link,
        )
        for entry in entries
    ]


def assert_contents_match(
    contents: Sequence[LayerContents] | None, saved: Sequence[SavedLayer], scratch: Path
) -> None:
    """Layer for layer: the same diff-IDs, and the entries tar -tv lists, in its order."""
    assert contents is not None
    assert [layer.diff_id for layer in contents] == [layer.diff_id for layer in saved]
    for got, expected in zip(contents, saved, strict=True):
        assert entries_listed(got.entries) == layer_members(expected.tar, scratch)
        with tarfile.open(fileobj=io.BytesIO(expected.tar)) as tar:
            assert got.size == sum(member.size for member in tar)
