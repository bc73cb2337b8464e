"""Images whose layers are written member by member, for the --contents and --files oracles.

Each image is a list of layer tars made here with tarfile, so that every case a daemon meets
in real layers is there on purpose: a large file overwritten, whiteouts of files and of whole
directories, opaque directories, hard links (one whose target a later layer deletes, one whose
target a later layer replaces), symlinks, an empty layer and a history step without one, a
path that is a file, then a directory, then a file, unicode and 255-byte names, paths past
ustar's 100 bytes in PAX and in GNU form, special modes and owners, and 100,000 small files.
`archive` puts them in one `docker save` archive for `docker load`: no container runs.
"""

from __future__ import annotations

import dataclasses
import io
import random
import tarfile
from collections.abc import Sequence
from typing import Any

from tests.archive_builder import CREATED, EPOCH, Image, docker_archive, sha256, tar_of

TAG_PREFIX = "imgi-contents/"
MANY_FILES = 100_000
# Random bytes that are the same in every run: the images, and so their IDs, are too.
_RANDOM = random.Random(20)

Member = tuple[tarfile.TarInfo, bytes | None]


def _info(name: str, kind: bytes, mode: int, uid: int, gid: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.mtime = EPOCH
    return info


def file(name: str, data: bytes = b"", mode: int = 0o644, uid: int = 0, gid: int = 0) -> Member:
    info = _info(name, tarfile.REGTYPE, mode, uid, gid)
    info.size = len(data)
    return info, data


def directory(name: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Member:
    return _info(name, tarfile.DIRTYPE, mode, uid, gid), None


def symlink(name: str, target: str) -> Member:
    info = _info(name, tarfile.SYMTYPE, 0o777, 0, 0)
    info.linkname = target
    return info, None


def hardlink(name: str, target: str, mode: int = 0o644) -> Member:
    """A hard link, its header's mode the target's as tar writes it (a daemon applies the
    link's mode to the file both names share)."""
    info = _info(name, tarfile.LNKTYPE, mode, 0, 0)
    info.linkname = target
    return info, None


def fifo(name: str) -> Member:
    return _info(name, tarfile.FIFOTYPE, 0o600, 0, 0), None


def whiteout(path: str) -> Member:
    """The marker that removes path (and all under it) from the layers below."""
    parent, _, base = path.rpartition("/")
    return file(f"{parent}/.wh.{base}" if parent else f".wh.{base}")


def opaque(path: str) -> Member:
    """The marker that hides everything the layers below put in the directory path."""
    return file(f"{path}/.wh..wh..opq")


def layer(members: Sequence[Member], tar_format: int = tarfile.PAX_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def noise(size: int) -> bytes:
    return _RANDOM.randbytes(size)


@dataclasses.dataclass(frozen=True)
class LayerImage:
    """An image to load: its layers as written, and its history (with empty steps)."""

    name: str
    layers: tuple[bytes, ...]
    history: tuple[dict[str, Any], ...] = ()

    @property
    def tag(self) -> str:
        return f"{TAG_PREFIX}{self.name}:1"

    def image(self) -> Image:
        history = list(self.history) or [
            {"created": CREATED, "created_by": f"COPY layer{n} /"} for n in range(len(self.layers))
        ]
        config = {
            "architecture": "amd64",
            "os": "linux",
            "created": CREATED,
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": [sha256(data) for data in self.layers]},
            "history": history,
        }
        return Image(list(self.layers), config, [self.tag])


def overwrite() -> LayerImage:
    """An 8 MiB file, then a 1 MiB one with another mode and owner at the same path."""
    return LayerImage(
        "overwrite",
        (
            layer(
                [
                    directory("data"),
                    file("data/big.bin", noise(8 << 20)),
                    file("data/keep.txt", b"kept\n"),
                ]
            ),
            layer([directory("data"), file("data/big.bin", noise(1 << 20), 0o600, 1000, 1000)]),
        ),
    )


def whiteouts() -> LayerImage:
    """Files and whole directories removed, one removal of what never was, and a removed
    directory made again above."""
    return LayerImage(
        "whiteouts",
        (
            layer(
                [
                    directory("etc"),
                    file("etc/a.conf", b"a = 1\n"),
                    file("etc/b.conf", b"b = 2\n"),
                    directory("var"),
                    directory("var/cache"),
                    directory("var/cache/x"),
                    file("var/cache/x/1", b"one\n"),
                    file("var/cache/y", noise(3000)),
                    directory("srv"),
                    file("srv/keep", b"keep\n"),
                    directory("srv/gone"),
                    file("srv/gone/file", b"gone\n"),
                ]
            ),
            layer(
                [
                    directory("etc"),
                    whiteout("etc/a.conf"),
                    whiteout("etc/never"),
                    directory("var"),
                    whiteout("var/cache"),
                    directory("srv"),
                    whiteout("srv/gone"),
                ]
            ),
            layer([directory("var"), directory("var/cache", 0o700), file("var/cache/new", b"n")]),
        ),
    )


def opaques() -> LayerImage:
    """An opaque directory over one with files and a subdirectory, one over a directory no
    layer below has, and a sibling whose name starts with the opaque one's."""
    return LayerImage(
        "opaque",
        (
            layer(
                [
                    directory("opt"),
                    directory("opt/app"),
                    file("opt/app/old1", b"old\n"),
                    directory("opt/app/sub"),
                    file("opt/app/sub/old2", b"older\n"),
                    file("opt/app-data", b"beside\n"),
                ]
            ),
            layer(
                [
                    directory("opt"),
                    directory("opt/app"),
                    opaque("opt/app"),
                    file("opt/app/new", b"new\n"),
                    directory("fresh"),
                    opaque("fresh"),
                    file("fresh/f", b"f\n"),
                ]
            ),
        ),
    )


def links() -> LayerImage:
    """Hard links and symlinks, an empty layer tar, a history step with no layer, and hard
    links whose target a later layer removes or replaces (the link keeps the old file)."""
    tool = noise(1000)
    return LayerImage(
        "links",
        (
            layer(
                [
                    directory("bin"),
                    file("bin/tool", tool, 0o755),
                    hardlink("bin/alias", "bin/tool", 0o755),
                    symlink("bin/sym", "tool"),
                    directory("lib"),
                    symlink("lib/abs", "/bin/tool"),
                    symlink("lib/dangling", "nowhere"),
                    file("lib/a-target", b"target\n"),
                    hardlink("lib/z-link", "lib/a-target"),
                    file("lib/same", b"same\n"),
                    hardlink("lib/same-too", "lib/same"),
                ]
            ),
            layer([]),
            layer(
                [
                    directory("lib"),
                    whiteout("lib/a-target"),
                    directory("bin"),
                    file("bin/tool", noise(200), 0o755),
                ]
            ),
        ),
        (
            {"created": CREATED, "created_by": "COPY bin lib /"},
            {"created": CREATED, "created_by": "ENV EMPTY=1", "empty_layer": True},
            {"created": CREATED, "created_by": "RUN true"},
            {"created": CREATED, "created_by": "RUN rm lib/a-target && cp tool bin/"},
        ),
    )


def retype() -> LayerImage:
    """p is a file, then a directory with a file in it, then a file again; and special modes,
    owners and a fifo."""
    return LayerImage(
        "retype",
        (
            layer(
                [
                    file("p", b"file\n"),
                    directory("tmp", 0o1777),
                    directory("usr"),
                    directory("usr/bin"),
                    file("usr/bin/su", noise(100), 0o4755),
                    file("usr/bin/wall", noise(50), 0o2755, 0, 5),
                    directory("home"),
                    directory("home/user", 0o700, 1000, 1000),
                    file("home/user/.profile", b"# profile\n", 0o640, 1000, 1000),
                    file("nobody", b"", 0o400, 65534, 65534),
                    directory("run"),
                    fifo("run/pipe"),
                ]
            ),
            layer([directory("p", 0o750), file("p/inner", b"inner\n")]),
            layer([file("p", b"a file again\n", 0o600)]),
        ),
    )


def _long_path(top: str, length: int) -> str:
    parts = [top]
    while len("/".join(parts)) < length:
        parts.append(f"part{len(parts):02d}")
    return "/".join(parts)


def names() -> LayerImage:
    """Unicode names, 255-byte names (ASCII and two-byte UTF-8), spaces, and paths and link
    targets past 100 bytes: in PAX records, then in GNU long-name members."""
    pax_deep = _long_path("deep", 180)
    gnu_deep = _long_path("gnu", 150)
    ascii_255 = "n" * 255
    utf8_255 = "é" * 127 + "x"
    first = [
        directory("données"),
        file("données/café.txt", "crème brûlée\n".encode()),
        directory("漢字"),
        file("漢字/ファイル", b"kanji\n"),
        directory("long"),
        file(f"long/{ascii_255}", b"255\n"),
        file(f"long/{utf8_255}", b"255 bytes of UTF-8\n"),
        file("a name with spaces", b"spaces\n"),
    ]
    first += [
        directory("/".join(pax_deep.split("/")[: n + 1]))
        for n in range(len(pax_deep.split("/")) - 1)
    ]
    first += [file(pax_deep, b"pax\n"), symlink("long/to-deep", "/" + pax_deep)]
    second = [
        directory("/".join(gnu_deep.split("/")[: n + 1]))
        for n in range(len(gnu_deep.split("/")) - 1)
    ]
    second += [
        file(gnu_deep, b"gnu\n"),
        symlink("gnu/to-deep", "../" + pax_deep),
        hardlink(gnu_deep + "-hardlink", gnu_deep),
    ]
    return LayerImage("names", (layer(first), layer(second, tarfile.GNU_FORMAT)))


def many() -> LayerImage:
    """MANY_FILES small files in 1,000 directories."""
    members = [directory("many")]
    for number in range(MANY_FILES):
        if number % 100 == 0:
            members.append(directory(f"many/d{number // 100:03d}"))
        members.append(file(f"many/d{number // 100:03d}/f{number:06d}", b"%d\n" % number))
    return LayerImage("many", (layer(members),))


def every_image() -> list[LayerImage]:
    """The images the oracle tests load, many last (it takes the longest to export)."""
    return [overwrite(), whiteouts(), opaques(), links(), retype(), names(), many()]


def archive(images: Sequence[LayerImage]) -> bytes:
    """One `docker save` archive of these images."""
    return tar_of(docker_archive([image.image() for image in images]))
