"""Where an archive's blobs are: a tar read once, from start to end, or a directory.

Nothing is extracted. A tar's small JSON members are kept in memory and every other member is
measured as it passes (streams.measure), its entries kept too when the run asks for contents
(at most MAX_ENTRIES in all: every layer's, as the tar is read before an image is chosen); a
directory's files are read when asked for. The tar may be a file or a stream as it arrives
(a daemon's `docker save`). Member names and links that would lead outside the archive are
refused.
"""

import gzip
import lzma
import os
import posixpath
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from inspector.contents.tarstream import MAX_ENTRIES
from inspector.errors import ArchiveError
from inspector.sources.archive.streams import (
    CHUNK,
    READ_ERRORS,
    Counted,
    LayerFacts,
    Readable,
    SourceBroken,
    compression_of,
    decompressed,
    forget_headers,
    measure,
)

# A JSON member (manifest, index, config) larger than this is refused, and all of them
# together may not exceed MAX_KEPT: these bound the memory a hostile archive can take.
MAX_JSON = 8 * 1024 * 1024
MAX_KEPT = 64 * 1024 * 1024
MAX_LINK_HOPS = 16
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
    links: dict[str, str] = field(default_factory=dict)
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

    def _follow(self, path: str) -> str:
        for _ in range(MAX_LINK_HOPS):
            if path not in self.links:
                return path
            path = self.links[path]
        raise ArchiveError(f"{self.where}: too many links from {path}")

    def add(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        name = member_path(member.name, self.where)
        if name is None or member.isdir():
            return
        if member.issym():
            self.links[name] = _link_target(name, member.linkname, self.where, relative=True)
        elif member.islnk():
            self.links[name] = _link_target(name, member.linkname, self.where, relative=False)
        elif member.isreg():
            content = tar.extractfile(member)
            assert content is not None  # a regular file always has content
            reader = Counted(content, _algorithm_for(name), outer=True)
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
    try:
        raw = Counted(source, None)
        magic = raw.peek(8)
        if not magic:
            raise ArchiveError(f"{where}: the file is empty")
        compression = compression_of(magic)
        if compression == "zstd":
            raise ArchiveError(
                f"{where}: zstd-compressed archives are not supported; decompress it first "
                "(zstd -d)"
            )
        stream = raw if compression is None else Counted(decompressed(raw, compression), None)
        with _open_tar(stream, where, compression) as tar:
            while (member := tar.next()) is not None:
                forget_headers(tar)
                member_name = member.name
                store.add(tar, member)
            member_name = ""
        # The rest of the stream: a gzip trailer (with its CRC) comes after the tar's end.
        stream.drain()
        raw.drain()
        if stream.count % _BLOCK:
            raise ArchiveError(f"{where}: the archive is truncated (it ends mid-block)")
    except SourceBroken as exc:
        raise ArchiveError(_broken(where, exc.cause, member_name)) from exc.cause
    except READ_ERRORS as exc:
        raise ArchiveError(_broken(where, exc, member_name)) from exc
    return store


def _open_tar(stream: Counted, where: str, compression: str | None) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=stream, mode="r|", bufsize=CHUNK)  # type: ignore[call-overload,no-any-return]
    except tarfile.ReadError as exc:
        what = f"a {compression} file, but not of a tar" if compression else "not a tar"
        raise ArchiveError(f"{where}: {what} archive ({exc})") from exc


def _broken(where: str, exc: BaseException, member: str) -> str:
    inside = f" (in {member})" if member else ""
    if isinstance(exc, EOFError):
        return f"{where}: the compressed data is truncated{inside}"
    if isinstance(exc, tarfile.ReadError) and "unexpected end of data" in str(exc):
        return f"{where}: the archive is truncated{inside}"
    if isinstance(exc, gzip.BadGzipFile | zlib.error | lzma.LZMAError):
        return f"{where}: the compressed data is corrupt{inside}: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{where}: cannot read it{inside}: {exc.strerror}"
    return f"{where}: not a readable archive{inside}: {exc}"


def member_path(name: str, where: str) -> str | None:
    """A member's path inside the archive; one that could leave it is refused."""
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if name.startswith("/") or ".." in parts:
        raise ArchiveError(f"{where}: refusing the member {name!r}: its name leaves the archive")
    return "/".join(parts) or None


def _link_target(name: str, target: str, where: str, *, relative: bool) -> str:
    joined = posixpath.normpath(
        posixpath.join(posixpath.dirname(name), target) if relative else target
    )
    if target.startswith("/") or joined == ".." or joined.startswith("../"):
        raise ArchiveError(
            f"{where}: refusing the link {name!r} -> {target!r}: it points outside the archive"
        )
    return joined


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
        real, root = full.resolve(), self.root.resolve()
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
