"""The oracle for the sources' contents: each layer of an archive a real tool saved, and GNU
`tar -tv` of it read back into the fields an entry records."""

from __future__ import annotations

import calendar
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import zstandard

from inspector.contents.model import (
    BLOCK_DEVICE,
    CHAR_DEVICE,
    DIRECTORY,
    FIFO,
    FILE,
    HARDLINK,
    OPAQUE,
    SYMLINK,
    WHITEOUT,
    Entry,
    LayerContents,
)

_KINDS = {
    "-": FILE,
    "d": DIRECTORY,
    "l": SYMLINK,
    "h": HARDLINK,
    "c": CHAR_DEVICE,
    "b": BLOCK_DEVICE,
    "p": FIFO,
}
# `drwxr-xr-x 0/0           0 2023-11-14 22:13:20 srv/app/`, with --numeric-owner and
# --full-time; a device shows `major,minor` where the size goes.
_LINE = re.compile(
    r"(?P<kind>.)(?P<mode>.{9}) (?P<uid>\d+)/(?P<gid>\d+) +(?P<size>\d+|\d+, *\d+) "
    r"(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?P<rest>.*)"
)


class Listed(NamedTuple):
    """What `tar -tv` shows of a member, as the model writes it."""

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


def tar_listing(layer: bytes, scratch: Path) -> list[Listed]:
    """GNU tar's listing of a layer's tar, whiteouts named as the model names them."""
    path = scratch / f"layer-{hashlib.sha256(layer).hexdigest()[:16]}.tar"
    path.write_bytes(layer)
    listing = subprocess.run(
        ["tar", "--numeric-owner", "--full-time", "-tvf", str(path)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC", "LC_ALL": "C"},
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout.decode()
    return [_listed(line) for line in listing.splitlines()]


def _listed(line: str) -> Listed:
    match = _LINE.fullmatch(line)
    assert match is not None, line
    kind, rest = _KINDS[match["kind"]], match["rest"]
    link = ""
    if kind == SYMLINK:
        rest, _, link = rest.partition(" -> ")
    elif kind == HARDLINK:
        rest, _, link = rest.partition(" link to ")
    path = "/".join(part for part in rest.split("/") if part not in ("", "."))
    directory, _, base = path.rpartition("/")
    if base == ".wh..wh..opq":
        path, kind = directory, OPAQUE
    elif base.startswith(".wh."):
        path, kind = (f"{directory}/" if directory else "") + base[len(".wh.") :], WHITEOUT
    size = 0 if "," in match["size"] else int(match["size"])
    when = calendar.timegm(time.strptime(match["when"], "%Y-%m-%d %H:%M:%S"))
    return Listed(
        path,
        kind,
        _mode(match["mode"]),
        int(match["uid"]),
        int(match["gid"]),
        size,
        when,
        link,
    )


def _mode(letters: str) -> int:
    """`rwsr-xr-t` as permission bits, setuid, setgid and sticky included."""
    mode = 0
    for position, letter in enumerate(letters):
        if letter not in "-ST":
            mode |= 1 << (8 - position)
    for position, special in ((2, 0o4000), (5, 0o2000), (8, 0o1000)):
        if letters[position] in "sStT":
            mode |= special
    return mode


def entries_listed(entries: Iterable[Entry]) -> list[Listed]:
    """The model's entries, with what tar -tv shows of each."""
    return [
        Listed(
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
        assert entries_listed(got.entries) == tar_listing(expected.tar, scratch)
        with tarfile.open(fileobj=io.BytesIO(expected.tar)) as tar:
            assert got.size == sum(member.size for member in tar)
