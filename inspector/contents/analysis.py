"""The layers merged as a container's root filesystem merges them, each layer's changes, and
the image's waste as dive measures it. (Interface fixed; bodies to be written.)"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from inspector.contents.model import Entry, LayerContents

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"


class LayerRefused(Exception):
    """A layer no daemon would unpack, or that could exhaust memory: the text says why, in one
    line, without naming the image (the source adds where)."""


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
        raise NotImplementedError

    def largest(self, count: int) -> list[Entry]:
        """The largest files of the final filesystem, largest first."""
        raise NotImplementedError


def merge(layers: Sequence[LayerContents]) -> Merged:
    """The layers applied in order; LayerRefused for what no daemon would apply (a hard link
    to a target that does not exist, ...)."""
    raise NotImplementedError


def waste(layers: Sequence[LayerContents]) -> Waste:
    """dive's efficiency, sizes and wasted bytes for these layers."""
    raise NotImplementedError
