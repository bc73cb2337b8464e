"""The layers merged as a container's root filesystem merges them, each layer's changes, and
the image's waste as dive measures it.

The merge applies each layer's tar as docker applies it when it unpacks a layer: entries in
the tar's order, a whiteout removing its path and all under it, an opaque directory losing
what the layers below put in it, an entry of another type replacing what was at its path, and
the parent directories an entry needs made when its tar does not list them.

A hard link is the inode its target held when the link was made: a later layer that removes
or replaces the target's path leaves the links holding the old file, as overlay and docker's
export do.
"""

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from inspector.contents import efficiency
from inspector.contents.model import (
    DIRECTORY,
    FILE,
    HARDLINK,
    OPAQUE,
    SYMLINK,
    WHITEOUT,
    Entry,
    LayerContents,
    LayerRefused,
)

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Change:
    entry: Entry  # for a removal: the entry removed, as the layers below had it
    change: str  # ADDED, CHANGED or REMOVED


@dataclass(frozen=True, slots=True)
class LayerReport:
    """What one layer does to the layers below it."""

    changes: tuple[Change, ...]  # in the tar's order; a whiteout's removals where it stands
    added: int
    changed: int
    removed: int
    size: int  # the bytes the layer adds: LayerContents.size


@dataclass(frozen=True, slots=True)
class WastedPath:
    path: str  # as dive writes it: absolute ("/root/saved.txt")
    count: int  # the layers that hold (or remove) it
    size: int  # the bytes of all its versions (dive's cumulative size)


@dataclass(frozen=True, slots=True)
class Waste:
    """dive's analysis: its efficiency score, sizes and wasted bytes, to the last digit."""

    efficiency: float
    size: int  # every layer's size
    user_size: int  # every layer's but the first
    wasted: int
    wasted_user_fraction: float  # wasted / user_size (dive's userWastedPercent, as a ratio)
    paths: tuple[WastedPath, ...]  # the paths that waste, largest first


@dataclass(frozen=True, slots=True)
class Merged:
    layers: tuple[LayerReport, ...]
    tree: dict[str, Entry]  # the final filesystem, by path

    def listing(self, prefix: str = "") -> Iterator[Entry]:
        """The final filesystem in `tar -t` order (a directory before what it holds, names
        sorted), only what is at or under prefix."""
        root = _prefix_path(prefix)
        tree = self.tree
        if root:
            under = f"{root}/"
            paths = [path for path in tree if path == root or path.startswith(under)]
        else:
            paths = list(tree)
        # NUL sorts before every character a name can hold, so comparing the paths with
        # their slashes as NULs compares them name by name: `a/b` before `a-b`, and a
        # directory before what it holds.
        paths.sort(key=_by_names)
        for path in paths:
            yield tree[path]

    def largest(self, count: int) -> list[Entry]:
        """The largest files of the final filesystem, largest first."""
        files = (entry for entry in self.tree.values() if entry.kind == FILE)
        return heapq.nsmallest(count, files, key=_largest_first)


def _by_names(path: str) -> str:
    return path.replace("/", "\x00")


def _largest_first(entry: Entry) -> tuple[int, str]:
    return (-entry.size, _by_names(entry.path))


def _prefix_path(prefix: str) -> str:
    """A prefix as a tree path: `/usr/share/`, `./usr/share` and `usr//share` are `usr/share`."""
    return "/".join(part for part in prefix.split("/") if part and part != ".")


def merge(layers: Sequence[LayerContents]) -> Merged:
    """The layers applied in order; LayerRefused for what no daemon would apply (a hard link
    to a target that does not exist, ...)."""
    tree = _Tree()
    reports = tuple(tree.apply(layer) for layer in layers)
    return Merged(reports, tree.entries)


def waste(layers: Sequence[LayerContents]) -> Waste:
    """dive's efficiency, sizes and wasted bytes for these layers."""
    score, inefficient = efficiency.score(layers)
    size = sum(layer.size for layer in layers)
    user_size = size - layers[0].size if layers else 0
    wasted = sum(found.size for found in inefficient)
    return Waste(
        efficiency=score,
        size=size,
        user_size=user_size,
        wasted=wasted,
        # dive divides by zero here (an image of one layer, or of empty layers above its
        # base): none of the user's bytes can be wasted when there are none.
        wasted_user_fraction=wasted / user_size if user_size else 0.0,
        paths=tuple(WastedPath(found.path, found.count, found.size) for found in inefficient),
    )


# The directory docker makes for an entry whose parent its tar does not list (MkdirAll's).
_IMPLIED_MODE = 0o755


class _Tree:
    """The merged filesystem as the layers build it: its entries by path, and each
    directory's children, for what a whiteout, an opaque marker or a type change removes."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self._children: dict[str, dict[str, None]] = {"": {}}
        # The groups of hard links, for the few paths that have them: each group's file (the
        # path every link of the group names) with its links, and each link's file.
        self._links: dict[str, dict[str, None]] = {}
        self._file_of: dict[str, str] = {}
        # The files of groups whose path went while the entry at hand was applied, as the
        # tree had them: their links take them over once all the entry removes is gone.
        self._orphaned: dict[str, Entry] = {}

    def apply(self, layer: LayerContents) -> LayerReport:
        changes: list[Change] = []
        written: set[str] = set()  # what this layer wrote, which its opaque markers keep
        entries = self.entries
        for entry in layer.entries:
            kind = entry.kind
            path = entry.path
            if kind == WHITEOUT:
                self._parents(path, entry, changes, written, including_itself=False)
                if path in entries:
                    self._remove(path, changes)
                    self._keep_orphaned_files()
                continue
            if kind == OPAQUE:
                self._parents(path, entry, changes, written, including_itself=True)
                self._hide_below(path, written, changes)
                self._keep_orphaned_files()
                continue
            self._parents(path, entry, changes, written, including_itself=False)
            before = entries.get(path)
            if before is None:
                changes.append(Change(entry, ADDED))
                self._children.setdefault(path.rpartition("/")[0], {})[path] = None
            else:
                self._unlink(path, before)
                if kind != DIRECTORY and path in self._children:
                    # What was a directory (or a link with names under it) is replaced.
                    self._remove_under(path, changes)
                self._keep_orphaned_files()
                changes.append(Change(entry, CHANGED))
            if kind == HARDLINK:
                # Checked once what the entry replaces is gone, as docker removes the path
                # before it makes the link.
                entries[path] = self._link(entry)
            else:
                if kind == DIRECTORY and path not in self._children:
                    self._children[path] = {}
                entries[path] = entry
            written.add(path)
        added = changed = removed = 0
        for change in changes:
            if change.change == ADDED:
                added += 1
            elif change.change == CHANGED:
                changed += 1
            else:
                removed += 1
        return LayerReport(tuple(changes), added, changed, removed, layer.size)

    def _parents(
        self,
        path: str,
        entry: Entry,
        changes: list[Change],
        written: set[str],
        *,
        including_itself: bool,
    ) -> None:
        """Makes the directories an entry needs that are not there, as docker does."""
        parent = path if including_itself else path.rpartition("/")[0]
        if not parent or parent in self._children:
            return
        missing: list[str] = []
        while parent and parent not in self._children:
            found = self.entries.get(parent)
            if found is not None and found.kind != SYMLINK:
                raise LayerRefused(f"{entry.path!r} is under {parent!r}, which is not a directory")
            if found is not None:
                # A symlink stands where a directory is needed: the tar's names are kept
                # as they are written, under the link's own path.
                break
            missing.append(parent)
            parent = parent.rpartition("/")[0]
        for directory in reversed(missing):
            implied = Entry(directory, DIRECTORY, _IMPLIED_MODE, 0, 0, 0, entry.mtime)
            self.entries[directory] = implied
            self._children.setdefault(directory.rpartition("/")[0], {})[directory] = None
            self._children[directory] = {}
            written.add(directory)
            changes.append(Change(implied, ADDED))

    def _link(self, entry: Entry) -> Entry:
        """The hard link as the tree keeps it, in its target's group; a link to a link names
        the group's file, as tar lists a group."""
        path = entry.path
        target = "/".join(part for part in entry.link.split("/") if part and part != ".")
        found = None if target == path else self.entries.get(target)
        if found is None:
            raise LayerRefused(
                f"the hard link {path!r} points to {entry.link!r}, which neither the "
                "layer nor the layers below hold"
            )
        if found.kind == DIRECTORY:
            raise LayerRefused(f"the hard link {path!r} points to {entry.link!r}, a directory")
        if found.kind == HARDLINK:
            target = self._file_of[target]
            entry = replace(entry, link=found.link)
        self._file_of[path] = target
        self._links.setdefault(target, {})[path] = None
        return entry

    def _hide_below(self, directory: str, written: set[str], changes: list[Change]) -> None:
        """An opaque directory: what the layers below put in it goes, what this layer wrote
        stays (docker keeps the paths it unpacked from the same layer)."""
        pending = sorted(self._children.get(directory, ()), key=_by_names, reverse=True)
        while pending:
            path = pending.pop()
            if path not in written:
                self._remove(path, changes)
            elif path in self._children:
                pending.extend(sorted(self._children[path], key=_by_names, reverse=True))

    def _remove(self, path: str, changes: list[Change]) -> None:
        """Removes path and all under it, each a REMOVED change, a directory before what it
        held."""
        entry = self.entries.pop(path)
        self._children[path.rpartition("/")[0]].pop(path, None)
        self._unlink(path, entry)
        changes.append(Change(entry, REMOVED))
        self._remove_under(path, changes)

    def _remove_under(self, directory: str, changes: list[Change]) -> None:
        held = self._children.pop(directory, None)
        if not held:
            return
        pending = sorted(held, key=_by_names, reverse=True)
        while pending:
            path = pending.pop()
            entry = self.entries.pop(path)
            self._unlink(path, entry)
            changes.append(Change(entry, REMOVED))
            inner = self._children.pop(path, None)
            if inner:
                pending.extend(sorted(inner, key=_by_names, reverse=True))

    def _unlink(self, path: str, entry: Entry) -> None:
        """Takes path out of its group of hard links: a link leaves it; a group's file leaves
        its links orphaned until _keep_orphaned_files."""
        if entry.kind == HARDLINK:
            file = self._file_of.pop(path)
            links = self._links[file]
            del links[path]
            if not links and file not in self._orphaned:
                del self._links[file]
        elif path in self._links:
            self._orphaned[path] = entry

    def _keep_orphaned_files(self) -> None:
        """Each orphaned file stays under the first of its surviving links in listing order
        (the one tar lists as the file), with the metadata and size it had; the other links
        name that path now."""
        if not self._orphaned:
            return
        for path, entry in self._orphaned.items():
            links = self._links.pop(path)
            if not links:
                continue
            heir = min(links, key=_by_names)
            del links[heir]
            del self._file_of[heir]
            self.entries[heir] = replace(entry, path=heir)
            if links:
                self._links[heir] = links
                for link in links:
                    self._file_of[link] = heir
                    self.entries[link] = replace(self.entries[link], link=heir)
        self._orphaned.clear()
