"""`tar -tv` listings read back into fields, for comparing imginspect with GNU tar.

GNU tar is the oracle: what `docker export` and `docker save` write, listed by `tar -tv
--numeric-owner`, is what `--files` and `--contents --json` must agree with. A listing line
becomes a `Listed` (its type, permission bits, owner ids, size and link target, keyed by its
path made clean); the date is left out, since a daemon sets the times of the directories it
writes into. `final_tree` turns a listing of a whole filesystem into what can be compared
whatever member of a group of hard links a tool lists first.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# The environment both tar and imginspect list in: names printed as UTF-8, dates in UTC.
LISTING_ENV = {"LC_ALL": "C.UTF-8", "TZ": "UTC"}
# mode owner/group size date time name: GNU tar's long listing.
_LINE = re.compile(
    r"(?P<mode>[-dlhcbpCDMNSV][-rwxsStT]{9}) (?P<uid>\S+)/(?P<gid>\S+) +"
    r"(?P<size>\d+|\d+, *\d+) \d{4}-\d\d-\d\d \d\d:\d\d (?P<rest>.*)"
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
    match = _LINE.fullmatch(line)
    assert match is not None, f"not a `tar -tv` line: {line!r}"
    kind = KINDS.get(match["mode"][0], match["mode"][0])
    rest, link = match["rest"], ""
    separator = {"symlink": " -> ", "hardlink": " link to "}.get(kind)
    if separator is not None:
        assert separator in rest, f"a {kind} without its target: {line!r}"
        rest, link = rest.split(separator, 1)
    return Listed(
        clean(rest),
        rest,
        kind,
        mode_bits(match["mode"]),
        match["uid"],
        match["gid"],
        match["size"],
        link,
    )


def parse_listing(text: str) -> list[Listed]:
    return [parse_line(line) for line in text.splitlines() if line]


def tar_list(path: Path) -> list[Listed]:
    """GNU tar's listing of a tar file (gzip or not), owners as ids."""
    done = subprocess.run(
        ["tar", "-tv", "--numeric-owner", "-f", str(path)],
        env={"PATH": "/usr/bin:/bin", **LISTING_ENV},
        capture_output=True,
        check=True,
        timeout=300,
    )
    return parse_listing(done.stdout.decode())


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
