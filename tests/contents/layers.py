"""Layers built in memory for the contents tests: a tar of members made with tarfile, and the
same tar read by the contents reader."""

import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from inspector.contents.model import LayerContents
from inspector.contents.tarstream import TarReader

EPOCH = 1_700_000_000


@dataclass
class Member:
    """One member of a built tar: its name, type and data, and its header's fields."""

    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    link: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    uname: str = "root"
    gname: str = "root"
    mtime: int = EPOCH
    device: tuple[int, int] = (0, 0)
    pax: dict[str, str] = field(default_factory=dict)


def file(name: str, data: bytes = b"", **fields: object) -> Member:
    return Member(name, data, **fields)  # type: ignore[arg-type]


def directory(name: str, **fields: object) -> Member:
    fields.setdefault("mode", 0o755)
    return Member(name, type=tarfile.DIRTYPE, **fields)  # type: ignore[arg-type]


def symlink(name: str, target: str) -> Member:
    return Member(name, type=tarfile.SYMTYPE, link=target, mode=0o777)


def hardlink(name: str, target: str) -> Member:
    return Member(name, type=tarfile.LNKTYPE, link=target)


def whiteout(path: str) -> Member:
    parent, _, name = path.rpartition("/")
    return Member(f"{parent}/.wh.{name}" if parent else f".wh.{name}")


def opaque(directory_path: str) -> Member:
    return Member(f"{directory_path}/.wh..wh..opq")


def tar_bytes(members: Iterable[Member], format: int = tarfile.PAX_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=format) as tar:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.type = member.type
            info.size = len(member.data)
            info.linkname = member.link
            info.mode = member.mode
            info.uid, info.gid = member.uid, member.gid
            info.uname, info.gname = member.uname, member.gname
            info.mtime = member.mtime
            info.devmajor, info.devminor = member.device
            info.pax_headers = dict(member.pax)
            tar.addfile(info, io.BytesIO(member.data) if member.data else None)
    return buffer.getvalue()


def read(data: bytes) -> LayerContents:
    reader = TarReader(io.BytesIO(data))
    reader.read()
    return LayerContents(tuple(reader.entries), reader.size)


def layer(*members: Member) -> LayerContents:
    return read(tar_bytes(members))
