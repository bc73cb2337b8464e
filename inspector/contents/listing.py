"""Entries as `tar -tv` (GNU tar) lists them.

GNU tar prints a member as `MODE OWNER/GROUP SIZE DATE TIME NAME`: the owner and group by
name where the header has names, by number where it does not; a device's `major,minor` for
its size; the time in the local time zone, to the minute. It right-aligns the size in a
width that starts at 19 characters for `owner/group size` and grows with the widest seen so
far, so a listing's columns shift where a long owner name or a large size first appears.
Names are quoted as tar's default (`escape`) style quotes them in a UTF-8 locale.
"""

import time
from collections.abc import Iterable, Iterator

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
)

# GNU tar's starting width of `owner/group size`.
_OWNER_SIZE_WIDTH = 19
_TYPE_LETTER = {
    DIRECTORY: "d",
    SYMLINK: "l",
    HARDLINK: "h",
    CHAR_DEVICE: "c",
    BLOCK_DEVICE: "b",
    FIFO: "p",
}
# The characters tar's escape quoting writes as C escapes; other unprintable ones as octal.
_C_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
}


def tar_lines(entries: Iterable[Entry]) -> Iterator[str]:
    """One line per entry, as GNU `tar -tv` prints it (mode, owner/group, size, local time,
    name; ` -> target` for a symlink, ` link to target` for a hard link), without newlines."""
    width = _OWNER_SIZE_WIDTH
    for entry in entries:
        kind = entry.kind
        # tar shows each name the header has, and the number where it has none.
        names = entry.owner or ("", "")
        user = names[0] or str(entry.uid)
        group = names[1] or str(entry.gid)
        if kind in (CHAR_DEVICE, BLOCK_DEVICE):
            major, minor = entry.device or (0, 0)
            size = f"{major},{minor}"
        else:
            size = str(entry.size)
        pad = len(user) + 1 + len(group) + 1 + len(size)
        width = max(width, pad)
        line = (
            f"{_mode_string(entry)} {user}/{group} {size:>{width - pad + len(size)}} "
            f"{_stamp(entry.mtime)} {_quote(_name(entry))}"
        )
        if kind == SYMLINK:
            line += f" -> {_quote(entry.link)}"
        elif kind == HARDLINK:
            line += f" link to {_quote(entry.link)}"
        yield line


def _name(entry: Entry) -> str:
    """The name as the layer's tar holds it: a directory's with its slash, a whiteout's and
    an opaque marker's as the files they are."""
    if entry.kind == DIRECTORY:
        return f"{entry.path}/"
    if entry.kind == WHITEOUT:
        parent, slash, name = entry.path.rpartition("/")
        return f"{parent}{slash}.wh.{name}"
    if entry.kind == OPAQUE:
        return f"{entry.path}/.wh..wh..opq"
    return entry.path


def _mode_string(entry: Entry) -> str:
    mode = entry.mode
    letters = [_TYPE_LETTER.get(entry.kind, "-")]
    for shift, special, set_letter in ((6, 0o4000, "s"), (3, 0o2000, "s"), (0, 0o1000, "t")):
        bits = mode >> shift
        letters.append("r" if bits & 4 else "-")
        letters.append("w" if bits & 2 else "-")
        executable = bool(bits & 1)
        if mode & special:
            letters.append(set_letter if executable else set_letter.upper())
        else:
            letters.append("x" if executable else "-")
    return "".join(letters)


def _stamp(mtime: int) -> str:
    try:
        moment = time.localtime(mtime)
    except (OverflowError, OSError, ValueError):
        # tar prints a time it cannot break down as its number of seconds.
        return str(mtime)
    return (
        f"{moment.tm_year:04d}-{moment.tm_mon:02d}-{moment.tm_mday:02d} "
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}"
    )


def _quote(name: str) -> str:
    if name.isprintable() and "\\" not in name:
        return name
    quoted = []
    for character in name:
        if character in _C_ESCAPES:
            quoted.append(_C_ESCAPES[character])
        elif character.isprintable():
            quoted.append(character)
        else:
            raw = character.encode("utf-8", "surrogateescape")
            quoted.extend(f"\\{byte:03o}" for byte in raw)
    return "".join(quoted)
