"""Entries as `tar -tv` (GNU tar) lists them. (Interface fixed; body to be written.)"""

from collections.abc import Iterable, Iterator

from inspector.contents.model import Entry


def tar_lines(entries: Iterable[Entry]) -> Iterator[str]:
    """One line per entry, as GNU `tar -tv` prints it (mode, owner/group, size, local time,
    name; ` -> target` for a symlink, ` link to target` for a hard link), without newlines."""
    raise NotImplementedError
