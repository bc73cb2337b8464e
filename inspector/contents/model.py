"""A layer's entries as its tar lists them: the records --contents and --files are made of.

An image with a hundred thousand files holds a hundred thousand of these per layer that lists
them, so an entry keeps only what the outputs show, in slots.
"""

from dataclasses import dataclass

# What an entry is, as `tar -tv` tells them apart.
FILE = "file"
DIRECTORY = "dir"
SYMLINK = "symlink"
HARDLINK = "hardlink"
CHAR_DEVICE = "char"
BLOCK_DEVICE = "block"
FIFO = "fifo"
# Markers a layer's tar holds, never files of the merged tree: `.wh.NAME` removes NAME from
# the layers below; `.wh..wh..opq` in a directory hides everything the layers below put there.
WHITEOUT = "whiteout"
OPAQUE = "opaque"


class LayerRefused(Exception):
    """A layer no daemon would unpack, or that could exhaust memory: the text says why, in one
    line, without naming the image (the source adds where)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One member of a layer's tar.

    `path` is relative and clean: no leading `/` or `./`, no trailing `/`, no `.` or `..`
    part, never empty. A whiteout's path is the path it removes (`.wh.` taken off); an opaque
    marker's is its directory's. `size` is the header's size (a file's bytes; 0 for the
    others, as tar writes them); `link` a symlink's or a hard link's target as the tar writes
    it; `owner` the header's user and group names when it has them; `device` a device's
    major and minor numbers.
    """

    path: str
    kind: str
    mode: int  # the permission bits, setuid, setgid and sticky included (0o7777)
    uid: int
    gid: int
    size: int
    mtime: int  # seconds since the epoch
    link: str = ""
    owner: tuple[str, str] | None = None
    device: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class LayerContents:
    """One layer, read whole: its entries in the tar's order, and what it weighs.

    `size` is the sum of the sizes in its tar headers: docker's size of a layer, and dive's.
    `digest` is the blob's digest as stored (None where no source names it), `diff_id` the
    digest of the uncompressed tar.
    """

    entries: tuple[Entry, ...]
    size: int
    digest: str | None = None
    diff_id: str | None = None
