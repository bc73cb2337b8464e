"""Where an archive's blobs are: a tar read once, from start to end, or a directory.

Nothing is extracted. A tar's small JSON members are kept in memory and every other member is
measured as it passes (streams.measure), its entries kept too when the run asks for contents
(at most MAX_ENTRIES in all: every layer's, as the tar is read before an image is chosen); a
directory's files are read when asked for. The tar may be a file or a stream as it arrives
(a daemon's `docker save`), plain or compressed (gzip, bzip2, xz, zstd).

Member names that would lead outside the archive are refused, as docker load refuses them.
Links are kept as the tar passes and followed when a path is looked up, after the pass, as
docker load follows them in the directory it unpacks the archive into: a link is resolved
inside the archive, `..` stopping at its root and a target starting with `/` starting there,
so no link leads outside it.
"""

import gzip
import lzma
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from inspector.contents.tarformat import TarBroken
from inspector.contents.tarmembers import TarMember, TarMembers
from inspector.contents.tarstream import MAX_ENTRIES
from inspector.errors import ArchiveError
from inspector.sources.archive.streams import (
    READ_ERRORS,
    Counted,
    LayerFacts,
    Readable,
    SourceBroken,
    codec_errors,
    compression_of,
    decompressed,
    measure,
)

# A JSON member (manifest, index, config) larger than this is refused, and all of them
# together may not exceed MAX_KEPT: these bound the memory a hostile archive can take.
MAX_JSON = 8 * 1024 * 1024
MAX_KEPT = 64 * 1024 * 1024
# The links one lookup may follow, as many as docker's scoped symlink evaluation does; more
# is a loop (a link that names itself, or a ring of them).
MAX_LINK_HOPS = 255
_BLOCK = 512
_TOP_LEVEL = frozenset(["manifest.json", "index.json", "oci-layout", "repositories"])
_WHITESPACE = b" \t\r\n"


class Store(Protocol):
    """An archive's files by their path in it: small ones (JSON) as bytes, layers as what one
    pass over them learned (their entries too, when the store keeps contents)."""

    where: str

    def has(self, path: str) -> bool: ...

    def small(self, path: str, what: str) -> bytes: ...

    def layer(self, path: str) -> LayerFacts: ...


@dataclass
class TarStore:
    """What one pass over a tar found: small JSON members, and facts about the others."""

    where: str
    contents: bool = False  # each layer's entries kept, for --contents and --files
    files: dict[str, bytes] = field(default_factory=dict)
    too_large: dict[str, int] = field(default_factory=dict)
    measured: dict[str, LayerFacts] = field(default_factory=dict)
    # name -> (target, symbolic): a symlink's target as written, a hard link's from the root
    links: dict[str, tuple[str, bool]] = field(default_factory=dict)
    kept: int = 0
    entries: int = 0  # kept for contents, all layers' together

    def has(self, path: str) -> bool:
        found = self._follow(path)
        return found in self.files or found in self.too_large or found in self.measured

    def small(self, path: str, what: str) -> bytes:
        found = self._follow(path)
        if found in self.files:
            return self.files[found]
        if found in self.too_large:
            raise ArchiveError(
                f"{self.where}: {what} ({path}) is larger than {MAX_JSON // (1024 * 1024)} MiB"
            )
        if found in self.measured:
            raise ArchiveError(f"{self.where}: {what} ({path}) is not JSON")
        raise ArchiveError(f"{self.where}: {what} ({path}) is missing from the archive")

    def layer(self, path: str) -> LayerFacts:
        found = self._follow(path)
        if found in self.measured:
            return self.measured[found]
        if found in self.files:
            return self._measure(Counted(_BytesReader(self.files[found])))
        if found in self.too_large:
            raise ArchiveError(f"{self.where}: the layer {path} could not be read")
        raise ArchiveError(f"{self.where}: the layer {path} is missing from the archive")

    def _seen(self, name: str) -> bool:
        return any(
            name in found for found in (self.files, self.too_large, self.measured, self.links)
        )

    def _follow(self, path: str) -> str:
        """The member a path names, every link along it followed (each directory's too)."""
        if not self.links:
            return path
        resolved: list[str] = []
        pending = path.split("/")[::-1]
        seen: set[tuple[str, int]] = set()
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            name = "/".join([*resolved, part])
            if name not in self.links:
                resolved.append(part)
                continue
            # The same link met again with the same rest of the path to resolve is a ring.
            state = (name, len(pending))
            if state in seen or len(seen) >= MAX_LINK_HOPS:
                raise ArchiveError(f"{self.where}: {path} leads into a symlink loop at {name}")
            seen.add(state)
            target, symbolic = self.links[name]
            if not symbolic or target.startswith("/"):
                resolved = []
            pending.extend(target.split("/")[::-1])
        return "/".join(resolved)

    def add(self, tar: TarMembers, member: TarMember) -> None:
        name = member_path(member.name, self.where)
        if name is None or member.is_directory():
            return
        if member.flag == b"2":
            self.links[name] = (member.linkname, True)
        elif member.flag == b"1":
            try:
                target = member_path(member.linkname, self.where)
            except ArchiveError as exc:
                raise ArchiveError(
                    f"{self.where}: refusing the hard link {name!r} -> {member.linkname!r}: "
                    "it leads out of the archive"
                ) from exc
            # docker load makes the link when it meets it: what it names must be there.
            if target is None or not self._seen(target):
                raise ArchiveError(
                    f"{self.where}: the hard link {name!r} names {member.linkname!r}, "
                    "which no member before it is"
                )
            self.links[name] = (target, False)
        elif member.is_file():
            reader = Counted(tar, _algorithm_for(name), outer=True)
            head = reader.peek(min(member.size, 64))
            json_like = name in _TOP_LEVEL or head.lstrip(_WHITESPACE)[:1] in (b"{", b"[")
            if json_like and member.size <= MAX_JSON:
                data = reader.read()
                self.kept += len(data)
                if self.kept > MAX_KEPT:
                    raise ArchiveError(
                        f"{self.where}: more than {MAX_KEPT // (1024 * 1024)} MiB of JSON members"
                    )
                self.files[name] = data
            elif json_like and name in _TOP_LEVEL:
                self.too_large[name] = member.size
            else:
                # A layer refused (its facts' problem) fails only an image chosen with it.
                self.measured[name] = self._measure(reader)

    def _measure(self, stream: Counted) -> LayerFacts:
        facts = measure(stream, contents=self.contents, limit=MAX_ENTRIES - self.entries)
        if facts.contents is not None:
            self.entries += len(facts.contents.entries)
        return facts


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)

    def read(self, size: int = -1, /) -> bytes:
        size = len(self._view) if size < 0 else size
        data, self._view = bytes(self._view[:size]), self._view[size:]
        return data


def scan(path: str, where: str, *, contents: bool = False) -> TarStore:
    """One pass over the tar (or compressed tar) at path; with contents, every layer's entries
    kept."""
    try:
        with Path(path).open("rb") as file:
            return read_tar(file, where, contents=contents)
    except OSError as exc:  # opening it: read_tar says what failed in the reading
        raise ArchiveError(_broken(where, exc, "")) from exc


def read_tar(source: Readable, where: str, *, contents: bool = False) -> TarStore:
    """One pass over a tar (or compressed tar) as source gives it, to its end: a file, or an
    answer read as it arrives. The source's own failures that are no OSError (a daemon's
    error for an answer broken off) pass through as they are."""
    store = TarStore(where, contents)
    member_name = ""
    # What reading can raise: zstandard's errors too, once the archive is known to be zstd.
    errors: tuple[type[Exception], ...] = (*READ_ERRORS, TarBroken)
    try:
        raw = Counted(source, None)
        magic = raw.peek(8)
        if not magic:
            raise ArchiveError(f"{where}: the file is empty")
        compression = compression_of(magic)
        errors = (*READ_ERRORS, TarBroken, *codec_errors(compression))
        stream = raw if compression is None else Counted(decompressed(raw, compression), None)
        tar = TarMembers(stream)
        try:
            while (member := tar.next()) is not None:
                member_name = member.name
                store.add(tar, member)
        except TarBroken as exc:
            if not tar.started:
                what = f"a {compression} file, but not of a tar" if compression else "not a tar"
                raise ArchiveError(f"{where}: {what} archive ({exc})") from exc
            raise
        member_name = ""
        # The rest of the stream: a gzip trailer (with its CRC) comes after the tar's end.
        stream.drain()
        raw.drain()
        if stream.count % _BLOCK:
            raise ArchiveError(f"{where}: the archive is truncated (it ends mid-block)")
    except SourceBroken as exc:
        raise ArchiveError(_broken(where, exc.cause, member_name)) from exc.cause
    except errors as exc:
        raise ArchiveError(_broken(where, exc, member_name)) from exc
    return store


def _broken(where: str, exc: BaseException, member: str) -> str:
    inside = f" (in {member})" if member else ""
    if isinstance(exc, EOFError):
        return f"{where}: the compressed data is truncated{inside}"
    if isinstance(exc, TarBroken) and "ends inside" in str(exc):
        return f"{where}: the archive is truncated{inside}"
    if isinstance(exc, gzip.BadGzipFile | zlib.error | lzma.LZMAError) or _is_codec_error(exc):
        return f"{where}: the compressed data is corrupt{inside}: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{where}: cannot read it{inside}: {exc.strerror}"
    return f"{where}: not a readable archive{inside}: {exc}"


def member_path(name: str, where: str) -> str | None:
    """A member's path inside the archive, as docker load takes it: from the archive's root
    (a leading `/` too), `..` taken away; one that climbs above the root is refused."""
    parts: list[str] = []
    for part in name.split("/"):
        if part == "..":
            if not parts:
                raise ArchiveError(
                    f"{where}: refusing the member {name!r}: its name leaves the archive"
                )
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts) or None


def _is_codec_error(exc: BaseException) -> bool:
    # zstandard is loaded only for zstd data: an error of it means it was.
    return type(exc).__module__.startswith("zstandard")


def _algorithm_for(path: str) -> str:
    return "sha512" if path.startswith("blobs/sha512/") else "sha256"


@dataclass
class DirectoryStore:
    """An OCI layout (or an unpacked docker save) in a directory; blobs read when needed."""

    root: Path
    where: str
    contents: bool = False  # each layer's entries kept, for --contents and --files
    measured: dict[str, LayerFacts] = field(default_factory=dict)
    entries: int = 0  # kept for contents, all layers' together

    def _file(self, path: str) -> Path:
        name = member_path(path, self.where) or "."
        full = self.root / name
        try:
            real, root = full.resolve(), self.root.resolve()
        except RuntimeError as exc:  # what resolve() raises for a ring of links
            raise ArchiveError(f"{self.where}: {path} leads into a symlink loop") from exc
        if os.path.commonpath([real, root]) != str(root):
            raise ArchiveError(f"{self.where}: refusing {path!r}: it leads outside the directory")
        return full

    def has(self, path: str) -> bool:
        return self._file(path).is_file()

    def small(self, path: str, what: str) -> bytes:
        file = self._file(path)
        try:
            with file.open("rb") as handle:
                data = handle.read(MAX_JSON + 1)
        except FileNotFoundError as exc:
            raise ArchiveError(f"{self.where}: {what} ({path}) is missing") from exc
        except OSError as exc:
            raise ArchiveError(f"{self.where}: cannot read {path}: {exc.strerror or exc}") from exc
        if len(data) > MAX_JSON:
            raise ArchiveError(
                f"{self.where}: {what} ({path}) is larger than {MAX_JSON // (1024 * 1024)} MiB"
            )
        return data

    def layer(self, path: str) -> LayerFacts:
        if path not in self.measured:
            file = self._file(path)
            try:
                with file.open("rb") as handle:
                    stream = Counted(handle, _algorithm_for(path), outer=True)
                    limit = MAX_ENTRIES - self.entries
                    facts = measure(stream, contents=self.contents, limit=limit)
                    self.measured[path] = facts
                    if facts.contents is not None:
                        self.entries += len(facts.contents.entries)
            except FileNotFoundError as exc:
                raise ArchiveError(f"{self.where}: the layer {path} is missing") from exc
            except SourceBroken as exc:
                raise ArchiveError(_broken(self.where, exc.cause, path)) from exc.cause
            except OSError as exc:
                raise ArchiveError(
                    f"{self.where}: cannot read {path}: {exc.strerror or exc}"
                ) from exc
        return self.measured[path]
