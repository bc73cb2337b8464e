"""Image archives and OCI layouts, read into what a daemon would answer: inspect and history JSON.

Sources: `docker save` tars (`manifest.json`), OCI image layouts (`index.json` and `blobs/`)
as a directory or as a tar (`oci-archive`), plain or compressed with gzip, bzip2 or xz.
A tar is read once, from start to end, as a stream: nothing is extracted, layers pass
through in chunks (hashed, their own tar headers read to learn their unpacked size), and
only small JSON members are kept in memory. Every digest that names a blob is checked, and
each layer's diff-ID too, so a corrupt archive is refused rather than misdescribed.
"""

import bz2
import dataclasses
import gzip
import hashlib
import io
import json
import lzma
import os
import posixpath
import re
import tarfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from inspector.errors import ArchiveChoiceNeeded, ArchiveError, ImageNotFound
from inspector.image import Image, Origin
from inspector.sources.archive.names import ArchiveName, check_source, platform_text

# A JSON member (manifest, index, config) larger than this is refused, and all of them
# together may not exceed MAX_KEPT: these bound the memory a hostile archive can take.
MAX_JSON = 8 * 1024 * 1024
MAX_KEPT = 64 * 1024 * 1024
# Reads from the archive and from layers, and tarfile's stream buffer.
CHUNK = 1024 * 1024
# Indexes may nest (an index.json pointing at a multi-platform index); deeper is an attack.
MAX_INDEX_DEPTH = 4
MAX_LINK_HOPS = 16
_BLOCK = 512

_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_MANIFEST_TYPES = frozenset([_DOCKER_MANIFEST, _OCI_MANIFEST])
_INDEX_TYPES = frozenset([_DOCKER_LIST, _OCI_INDEX])
_REF_NAME = "org.opencontainers.image.ref.name"
_CONTAINERD_NAME = "io.containerd.image.name"
# BuildKit stores provenance and SBOMs as manifests of the index; they are not images.
_REFERENCE_TYPE = "vnd.docker.reference.type"
_TOP_LEVEL = frozenset(["manifest.json", "index.json", "oci-layout", "repositories"])

_DIGEST = re.compile(r"(?P<algorithm>sha256|sha512):(?P<hex>[0-9a-f]+)")
_HEX_LENGTH = {"sha256": 64, "sha512": 128}
# How `docker save` and `podman save` name blobs in manifest.json: blobs/sha256/<hex>
# (docker 25+), <hex>.json and <hex>.tar (podman); docker's older <id>/layer.tar names none.
_NAMED_BY_DIGEST = re.compile(r"(?:blobs/(?P<algorithm>sha256|sha512)/)?(?P<hex>[0-9a-f]{64,128})")
_NAMED_FILE = re.compile(r"(?P<hex>[0-9a-f]{64})\.(?:json|tar)")
_WHITESPACE = b" \t\r\n"

_GZIP_MAGIC = b"\x1f\x8b"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# The errors reading a tar or a compressed stream can raise, whatever is wrong with it.
_READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


def read_image(
    name: ArchiveName, platform: str | None = None, *, with_history: bool = True
) -> Image:
    """The one image of the archive the name names (platform: normalize_platform's text), with
    its history when asked; ArchiveError, ArchiveChoiceNeeded or ImageNotFound if there is not
    exactly one, or the archive is not sound."""
    check_source(name)
    where = name.text
    directory = Path(name.path).is_dir()
    store = _DirectoryStore(Path(name.path), where) if directory else _scan(name.path, where)
    layout = _Layout(store, where, name.kind)
    if layout.uses_index:
        kind = "OCI layout" if directory else "oci-archive"
    else:
        kind = "docker save directory" if directory else "docker-archive"
    candidate = _choose(layout, name, platform)
    inspect, history, stored_size = layout.image(candidate, with_history=with_history)
    return Image(
        asked=name.text,
        inspect=inspect,
        history=history,
        origin=Origin(kind, name.path, stored_size),
    )


# -- reading streams ------------------------------------------------------------------------


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _SourceBroken(Exception):
    """The archive itself failed under a layer being measured: not the layer's problem."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Counted:
    """A read-only stream that counts and (optionally) hashes what passes through it."""

    def __init__(
        self, source: _Readable, algorithm: str | None = "sha256", *, outer: bool = False
    ) -> None:
        self._source = source
        self._pending = b""
        self._hash = hashlib.new(algorithm) if algorithm else None
        self._outer = outer
        self.count = 0

    def _pull(self, size: int) -> bytes:
        try:
            return self._source.read(size)
        except _READ_ERRORS as exc:
            if self._outer:
                raise _SourceBroken(exc) from exc
            raise

    def peek(self, size: int) -> bytes:
        while len(self._pending) < size:
            chunk = self._pull(size - len(self._pending))
            if not chunk:
                break
            self._pending += chunk
        return self._pending[:size]

    def read(self, size: int = -1, /) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(CHUNK), b""))
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
        else:
            data = self._pull(size)
        self.count += len(data)
        if self._hash is not None:
            self._hash.update(data)
        return data

    def seek(self, offset: int, whence: int = 0, /) -> int:
        raise io.UnsupportedOperation("a stream read once cannot seek")

    def seekable(self) -> bool:
        return False

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    @property
    def digest(self) -> str:
        assert self._hash is not None
        return f"{self._hash.name}:{self._hash.hexdigest()}"


def _compression(magic: bytes) -> str | None:
    for name, prefix in (
        ("gzip", _GZIP_MAGIC),
        ("bzip2", _BZIP2_MAGIC),
        ("xz", _XZ_MAGIC),
        ("zstd", _ZSTD_MAGIC),
    ):
        if magic.startswith(prefix):
            return name
    return None


def _decompressed(stream: _Counted, compression: str) -> _Readable:
    if compression == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if compression == "bzip2":
        return bz2.BZ2File(stream)
    return lzma.LZMAFile(cast(BinaryIO, stream))


@dataclass(frozen=True, slots=True)
class _LayerFacts:
    """What one pass over a layer blob learned: enough to check it and to size it."""

    stored_size: int
    digest: str  # of the bytes as stored
    diff_id: str | None = None  # of the uncompressed tar; None: compressed with zstd
    unpacked_size: int | None = None  # what docker counts: the sizes in its tar headers
    problem: str | None = None  # why it is not a readable layer


def _measure(stream: _Counted) -> _LayerFacts:
    """Read a layer blob to its end: digests, and the sum of its files' sizes."""
    compression = _compression(stream.peek(8))
    if compression == "zstd":
        # Python reads zstd from 3.14 on: until then such a layer is checked against its
        # digest, but neither against its diff-ID nor sized (so the image has no Size).
        stream.drain()
        return _LayerFacts(stream.count, stream.digest)
    try:
        plain = stream if compression is None else _Counted(_decompressed(stream, compression))
        unpacked = _tar_content_size(plain)
        plain.drain()
        stream.drain()
    except _READ_ERRORS as exc:
        stream.drain()
        what = f"{compression} data" if compression else "tar"
        return _LayerFacts(stream.count, stream.digest, problem=f"not a readable {what}: {exc}")
    return _LayerFacts(stream.count, stream.digest, plain.digest, unpacked)


def _tar_content_size(plain: _Counted) -> int:
    """The sum of the sizes in a tar's headers: docker's size of a layer (its `hdr.Size`s)."""
    if not plain.peek(1):
        return 0
    total = 0
    with tarfile.open(fileobj=plain, mode="r|", bufsize=CHUNK) as tar:  # type: ignore[call-overload]
        while (member := tar.next()) is not None:
            _forget_headers(tar)
            total += member.size
    return total


# -- where blobs are: a tar read once, or a directory ---------------------------------------


class _Store(Protocol):
    where: str

    def has(self, path: str) -> bool: ...

    def small(self, path: str, what: str) -> bytes: ...

    def layer(self, path: str) -> _LayerFacts: ...


@dataclass
class _TarStore:
    """What one pass over a tar found: small JSON members, and facts about the others."""

    where: str
    files: dict[str, bytes] = field(default_factory=dict)
    too_large: dict[str, int] = field(default_factory=dict)
    measured: dict[str, _LayerFacts] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    kept: int = 0

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

    def layer(self, path: str) -> _LayerFacts:
        found = self._follow(path)
        if found in self.measured:
            return self.measured[found]
        if found in self.files:
            return _measure(_Counted(_BytesReader(self.files[found])))
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
        name = _member_name(member.name, self.where)
        if name is None or member.isdir():
            return
        if member.issym():
            self.links[name] = _link_target(name, member.linkname, self.where, relative=True)
        elif member.islnk():
            self.links[name] = _link_target(name, member.linkname, self.where, relative=False)
        elif member.isreg():
            content = tar.extractfile(member)
            assert content is not None  # a regular file always has content
            reader = _Counted(content, _algorithm_for(name), outer=True)
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
                self.measured[name] = _measure(reader)


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)

    def read(self, size: int = -1, /) -> bytes:
        size = len(self._view) if size < 0 else size
        data, self._view = bytes(self._view[:size]), self._view[size:]
        return data


def _scan(path: str, where: str) -> _TarStore:
    """One pass over the tar (or compressed tar) at path."""
    store = _TarStore(where)
    member_name = ""
    try:
        with Path(path).open("rb") as file:
            raw = _Counted(file, None)
            magic = raw.peek(8)
            if not magic:
                raise ArchiveError(f"{where}: the file is empty")
            compression = _compression(magic)
            if compression == "zstd":
                raise ArchiveError(
                    f"{where}: zstd-compressed archives are not supported; decompress it first "
                    "(zstd -d)"
                )
            stream = raw if compression is None else _Counted(_decompressed(raw, compression), None)
            with _open_tar(stream, where, compression) as tar:
                while (member := tar.next()) is not None:
                    _forget_headers(tar)
                    member_name = member.name
                    store.add(tar, member)
                member_name = ""
            # The rest of the stream: a gzip trailer (with its CRC) comes after the tar's end.
            stream.drain()
            raw.drain()
            if stream.count % _BLOCK:
                raise ArchiveError(f"{where}: the archive is truncated (it ends mid-block)")
    except _SourceBroken as exc:
        raise ArchiveError(_broken(where, exc.cause, member_name)) from exc.cause
    except _READ_ERRORS as exc:
        raise ArchiveError(_broken(where, exc, member_name)) from exc
    return store


def _forget_headers(tar: tarfile.TarFile) -> None:
    # Stream mode keeps every header it has read, for nothing: a layer may hold millions.
    tar.members.clear()  # type: ignore[attr-defined]


def _open_tar(stream: _Counted, where: str, compression: str | None) -> tarfile.TarFile:
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


def _member_name(name: str, where: str) -> str | None:
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
class _DirectoryStore:
    """An OCI layout (or an unpacked docker save) in a directory; blobs read when needed."""

    root: Path
    where: str
    measured: dict[str, _LayerFacts] = field(default_factory=dict)

    def _file(self, path: str) -> Path:
        name = _member_name(path, self.where) or "."
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

    def layer(self, path: str) -> _LayerFacts:
        if path not in self.measured:
            file = self._file(path)
            try:
                with file.open("rb") as handle:
                    self.measured[path] = _measure(
                        _Counted(handle, _algorithm_for(path), outer=True)
                    )
            except FileNotFoundError as exc:
                raise ArchiveError(f"{self.where}: the layer {path} is missing") from exc
            except _SourceBroken as exc:
                raise ArchiveError(_broken(self.where, exc.cause, path)) from exc.cause
            except OSError as exc:
                raise ArchiveError(
                    f"{self.where}: cannot read {path}: {exc.strerror or exc}"
                ) from exc
        return self.measured[path]


# -- the images an archive holds ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LayerRef:
    path: str
    digest: str | None  # the digest the archive names the blob by, if it does
    size: int | None  # the size a descriptor promises, if one does


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An image the archive lists, before its blobs are read."""

    position: int
    names: tuple[str, ...]  # every name the archive gives it: tags, annotations
    repo_tags: tuple[str, ...]
    config_path: str
    config_digest: str | None
    config_size: int | None
    layers: tuple[_LayerRef, ...]
    platform: str | None = None  # from the index's descriptor, if it says
    present: bool = True  # False: listed by an index, but its blobs are not in the archive


class _Layout:
    """The archive's table of contents (manifest.json or index.json), and blob access."""

    def __init__(self, store: _Store, where: str, kind: str | None) -> None:
        self.store = store
        self.where = where
        has_index, has_manifest = store.has("index.json"), store.has("manifest.json")
        if kind == "docker-archive" and not has_manifest:
            raise ArchiveError(f"{where}: no manifest.json: not a docker-archive (docker save)")
        if kind in ("oci", "oci-archive") and not has_index:
            raise ArchiveError(f"{where}: no index.json: not an OCI layout")
        if not has_index and not has_manifest:
            raise ArchiveError(
                f"{where}: neither manifest.json nor index.json: not a docker save or OCI archive"
            )
        # docker 25+ writes both; the index knows every platform, manifest.json the tags.
        self.uses_index = has_index and kind != "docker-archive"
        self.kind = kind or ("oci-archive" if self.uses_index else "docker-archive")
        self._configs: dict[str, tuple[bytes, Mapping[str, Any]]] = {}
        docker = self._docker_candidates() if has_manifest else []
        if self.uses_index:
            tags_by_config: dict[str, tuple[str, ...]] = {}
            for candidate in docker:
                if candidate.config_digest:
                    tags_by_config[candidate.config_digest] = candidate.repo_tags
            self.candidates = self._index_candidates(tags_by_config)
        else:
            self.candidates = docker

    # -- manifest.json ----------------------------------------------------------------------

    def _docker_candidates(self) -> list[_Candidate]:
        manifest = self.json("manifest.json", "manifest.json")
        if not isinstance(manifest, list):
            raise ArchiveError(f"{self.where}: manifest.json is not a list")
        candidates = []
        for position, entry in enumerate(manifest):
            if not isinstance(entry, dict):
                raise ArchiveError(f"{self.where}: manifest.json entry {position} is not an object")
            config = _string(entry.get("Config"), self.where, f"entry {position}'s Config")
            layer_paths = entry.get("Layers") or []
            if not isinstance(layer_paths, list):
                raise ArchiveError(f"{self.where}: manifest.json entry {position}'s Layers")
            tags = _strings(entry.get("RepoTags"))
            candidates.append(
                _Candidate(
                    position=position,
                    names=tags,
                    repo_tags=_repo_tags(tags),
                    config_path=_clean(config, self.where),
                    config_digest=_digest_in_name(config),
                    config_size=None,
                    layers=tuple(
                        _LayerRef(
                            _clean(_string(path, self.where, "a layer path"), self.where),
                            _digest_in_name(path),
                            None,
                        )
                        for path in layer_paths
                    ),
                )
            )
        return candidates

    # -- index.json -------------------------------------------------------------------------

    def _index_candidates(self, tags_by_config: Mapping[str, tuple[str, ...]]) -> list[_Candidate]:
        found: list[_Candidate] = []
        index = self.json("index.json", "index.json")
        self._walk(index, "index.json", (), found, tags_by_config, depth=0)
        # docker 25 lists an image once for each tag it was saved with: one image, all names.
        merged: dict[tuple[str, str | None], _Candidate] = {}
        for candidate in found:
            key = (candidate.config_path, candidate.platform)
            if candidate.present and key in merged:
                first = merged[key]
                merged[key] = dataclasses.replace(
                    first,
                    names=tuple(dict.fromkeys(first.names + candidate.names)),
                    repo_tags=_repo_tags([*first.repo_tags, *candidate.repo_tags]),
                )
            else:
                merged[key if candidate.present else ("", str(candidate.position))] = candidate
        return [
            dataclasses.replace(candidate, position=position)
            for position, candidate in enumerate(merged.values())
        ]

    def _walk(
        self,
        index: object,
        what: str,
        names: tuple[str, ...],
        found: list[_Candidate],
        tags_by_config: Mapping[str, tuple[str, ...]],
        depth: int,
    ) -> None:
        if depth > MAX_INDEX_DEPTH:
            raise ArchiveError(f"{self.where}: indexes nested more than {MAX_INDEX_DEPTH} deep")
        manifests = index.get("manifests") if isinstance(index, dict) else None
        if not isinstance(manifests, list):
            raise ArchiveError(f"{self.where}: {what} has no list of manifests")
        for descriptor in manifests:
            if not isinstance(descriptor, dict):
                raise ArchiveError(f"{self.where}: {what} lists a manifest that is not an object")
            annotations = descriptor.get("annotations")
            annotations = annotations if isinstance(annotations, dict) else {}
            if annotations.get(_REFERENCE_TYPE):
                continue  # an attestation, not an image
            own_names = tuple(
                value
                for key in (_CONTAINERD_NAME, _REF_NAME)
                if isinstance(value := annotations.get(key), str) and value
            )
            digest, path, size = self._descriptor(descriptor, what)
            media_type = descriptor.get("mediaType")
            platform = _descriptor_platform(descriptor.get("platform"))
            if platform == "unknown/unknown":
                continue
            if not self.store.has(path):
                if media_type in _INDEX_TYPES:
                    continue
                # A multi-platform save keeps only some platforms' blobs: list the others.
                found.append(
                    _Candidate(
                        len(found), names + own_names, (), "", None, None, (), platform, False
                    )
                )
                continue
            blob = self.verified(path, digest, size, f"the manifest {digest}")
            document = self.parse(blob, f"the manifest {digest}")
            if media_type in _INDEX_TYPES or (
                isinstance(document, dict) and "manifests" in document and "layers" not in document
            ):
                self._walk(
                    document,
                    f"the index {digest}",
                    names + own_names,
                    found,
                    tags_by_config,
                    depth + 1,
                )
                continue
            if media_type not in _MANIFEST_TYPES | {None}:
                continue  # an artifact of some other kind
            found.append(
                self._manifest_candidate(
                    document, digest, names + own_names, platform, len(found), tags_by_config
                )
            )

    def _descriptor(self, descriptor: Mapping[str, Any], what: str) -> tuple[str, str, int | None]:
        digest = descriptor.get("digest")
        match = _DIGEST.fullmatch(digest) if isinstance(digest, str) else None
        if match is None or len(match["hex"]) != _HEX_LENGTH[match["algorithm"]]:
            raise ArchiveError(
                f"{self.where}: {what} has a descriptor with a bad digest {digest!r}"
            )
        size = descriptor.get("size")
        promised = size if isinstance(size, int) and not isinstance(size, bool) else None
        return match[0], f"blobs/{match['algorithm']}/{match['hex']}", promised

    def _manifest_candidate(
        self,
        manifest: object,
        digest: str,
        names: tuple[str, ...],
        platform: str | None,
        position: int,
        tags_by_config: Mapping[str, tuple[str, ...]],
    ) -> _Candidate:
        what = f"the manifest {digest}"
        if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), dict):
            raise ArchiveError(f"{self.where}: {what} has no config descriptor")
        config_digest, config_path, config_size = self._descriptor(manifest["config"], what)
        layers = manifest.get("layers") or []
        if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
            raise ArchiveError(f"{self.where}: {what} has a bad list of layers")
        refs = []
        for layer in layers:
            layer_digest, layer_path, layer_size = self._descriptor(layer, what)
            refs.append(_LayerRef(layer_path, layer_digest, layer_size))
        tagged = [name for name in names if _is_tagged_reference(name)]
        return _Candidate(
            position=position,
            names=names + tags_by_config.get(config_digest, ()),
            repo_tags=_repo_tags([*tagged, *tags_by_config.get(config_digest, ())]),
            config_path=config_path,
            config_digest=config_digest,
            config_size=config_size,
            layers=tuple(refs),
            platform=platform,
        )

    # -- blobs ------------------------------------------------------------------------------

    def json(self, path: str, what: str) -> Any:
        return self.parse(self.store.small(path, what), what)

    def parse(self, data: bytes, what: str) -> Any:
        try:
            return json.loads(data, parse_constant=_no_constants)
        except (ValueError, RecursionError) as exc:
            raise ArchiveError(f"{self.where}: {what} is not valid JSON ({exc})") from exc

    def verified(self, path: str, digest: str | None, size: int | None, what: str) -> bytes:
        data = self.store.small(path, what)
        if digest is not None:
            algorithm = digest.partition(":")[0]
            actual = f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
            if actual != digest:
                raise ArchiveError(
                    f"{self.where}: {what} does not match its digest (it is {actual})"
                )
        if size is not None and size != len(data):
            raise ArchiveError(
                f"{self.where}: {what} is {len(data)} bytes, not the {size} its descriptor says"
            )
        return data

    def config(self, candidate: _Candidate) -> tuple[bytes, Mapping[str, Any]]:
        """The config blob, checked against its digest, and what it says."""
        if candidate.config_path not in self._configs:
            what = f"the config {candidate.config_path}"
            data = self.verified(
                candidate.config_path, candidate.config_digest, candidate.config_size, what
            )
            config = self.parse(data, what)
            if not isinstance(config, dict):
                raise ArchiveError(f"{self.where}: {what} is not a JSON object")
            self._configs[candidate.config_path] = (data, config)
        return self._configs[candidate.config_path]

    def platform(self, candidate: _Candidate) -> str:
        if not candidate.present:
            return candidate.platform or "?"
        _, config = self.config(candidate)
        return platform_text(
            _plain(config.get("os")),
            _plain(config.get("architecture")),
            _plain(config.get("variant")),
        )

    # -- the chosen image -------------------------------------------------------------------

    def image(
        self, candidate: _Candidate, *, with_history: bool
    ) -> tuple[bytes, bytes | None, int]:
        """The inspect object, the history if asked, and the layers' stored size, every blob
        checked."""
        data, config = self.config(candidate)
        image_id = candidate.config_digest or f"sha256:{hashlib.sha256(data).hexdigest()}"
        rootfs = config.get("rootfs")
        diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
            raise ArchiveError(f"{self.where}: the config of {image_id} has no list of diff_ids")
        if len(diff_ids) != len(candidate.layers):
            raise ArchiveError(
                f"{self.where}: the config of {image_id} lists {len(diff_ids)} layers, "
                f"its manifest {len(candidate.layers)}"
            )
        sizes: list[int | None] = []
        stored = 0
        for number, (ref, diff_id) in enumerate(zip(candidate.layers, diff_ids, strict=True), 1):
            facts = self.store.layer(ref.path)
            what = f"layer {number} ({ref.path})"
            if ref.digest is not None and facts.digest != ref.digest:
                raise ArchiveError(
                    f"{self.where}: {what} does not match its digest (it is {facts.digest})"
                )
            if ref.size is not None and facts.stored_size != ref.size:
                raise ArchiveError(
                    f"{self.where}: {what} is {facts.stored_size} bytes, "
                    f"not the {ref.size} its descriptor says"
                )
            if facts.problem is not None:
                raise ArchiveError(f"{self.where}: {what} is {facts.problem}")
            if facts.diff_id is not None and facts.diff_id != diff_id:
                raise ArchiveError(
                    f"{self.where}: {what} does not match the config's diff-ID {diff_id} "
                    f"(it is {facts.diff_id})"
                )
            sizes.append(facts.unpacked_size)
            stored += facts.stored_size
        size = None if None in sizes else sum(s for s in sizes if s is not None)
        inspect = _inspect_object(config, image_id, candidate.repo_tags, size)
        if not with_history:
            return go_json(inspect), None, stored
        history = _history(config, image_id, candidate.repo_tags, sizes)
        return go_json(inspect), go_json(history), stored


def _choose(layout: _Layout, source: ArchiveName, platform: str | None) -> _Candidate:
    """The one image the source and --platform pick, or why there is not exactly one."""
    candidates = layout.candidates
    if not candidates:
        raise ArchiveError(f"{layout.where}: the archive holds no images")
    chosen = list(candidates)
    wanted: list[str] = []
    if source.selector is not None:
        wanted.append(source.selector)
        chosen = [c for c in chosen if _selected(c, source.selector)]
    if platform is not None:
        wanted.append(platform)
        chosen = [c for c in chosen if _platform_matches(layout.platform(c), platform)]
    present = [c for c in chosen if c.present]
    if len(present) == 1:
        return present[0]
    listing = tuple(_describe(layout, c) for c in candidates)
    prefix = layout.kind if source.kind is None else source.kind
    if not present:
        if chosen:  # listed, but a multi-platform save left its blobs out
            raise ArchiveError(
                f"{layout.where}: {' and '.join(wanted)} is listed, "
                "but its blobs are not in the archive"
            )
        if not wanted:
            raise ArchiveError(f"{layout.where}: none of the images it lists is in the archive")
        raise ImageNotFound(
            f"{layout.where}: no image matches {' and '.join(wanted)}; it holds: "
            + "; ".join(line.strip() for line in listing)
        )
    raise ArchiveChoiceNeeded(
        f"{layout.where} holds {len(present)} images; choose one with "
        f"{prefix}:{source.path}:NAME, {prefix}:{source.path}:@N or --platform:",
        choices=listing,
    )


def _describe(layout: _Layout, candidate: _Candidate) -> str:
    names = ", ".join(candidate.repo_tags or candidate.names) or "(no name)"
    platform = layout.platform(candidate)
    if not candidate.present:
        return f"@{candidate.position}  {names}  {platform}  (blobs not in the archive)"
    short = (candidate.config_digest or "").partition(":")[2][:12]
    return f"@{candidate.position}  {names}  {platform}  {short}".rstrip()


def _selected(candidate: _Candidate, selector: str) -> bool:
    if selector.startswith("@") and selector[1:].isdigit():
        return candidate.position == int(selector[1:])
    wanted = _normalized(selector)
    return any(name == selector or _normalized(name) == wanted for name in candidate.names)


def _platform_matches(actual: str, wanted: str) -> bool:
    a_os, a_arch, a_variant = [*actual.split("/"), "", ""][:3]
    w_os, w_arch, w_variant = [*wanted.split("/"), "", ""][:3]
    return (a_os, a_arch) == (w_os, w_arch) and (not w_variant or a_variant == w_variant)


def _descriptor_platform(value: object) -> str | None:
    if not isinstance(value, dict):
        return None
    return platform_text(
        _plain(value.get("os")), _plain(value.get("architecture")), _plain(value.get("variant"))
    )


# -- names ----------------------------------------------------------------------------------


def _repo_tags(names: Sequence[str]) -> tuple[str, ...]:
    """As the daemon lists them: each once, sorted by the full name, shown in the familiar."""
    by_full_name = {_normalized(name): _familiar(name) for name in names}
    return tuple(by_full_name[full] for full in sorted(by_full_name))


def _familiar(name: str) -> str:
    """`docker.io/library/x:1` as docker shows it: `x:1`."""
    for prefix in (
        "docker.io/library/",
        "index.docker.io/library/",
        "docker.io/",
        "index.docker.io/",
    ):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if prefix.endswith("library/") and "/" in rest.split(":")[0]:
                continue
            return rest
    return name


def _normalized(name: str) -> str:
    """The full form of a reference, for matching: `x` is `docker.io/library/x:latest`."""
    if "@" in name:
        return name
    repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    first = repository.split("/", 1)[0]
    if "/" not in repository:
        repository = f"docker.io/library/{repository}"
    elif "." not in first and ":" not in first and first != "localhost":
        repository = f"docker.io/{repository}"
    return f"{repository}:{tag or 'latest'}"


def _is_tagged_reference(name: str) -> bool:
    """A full reference with a tag (`localhost/app:1`), not a bare OCI tag name (`1.0`)."""
    last = name.rsplit("/", 1)[-1]
    return "/" in name and ":" in last and "@" not in name


def _digest_in_name(path: object) -> str | None:
    if not isinstance(path, str):
        return None
    match = _NAMED_BY_DIGEST.fullmatch(path) or _NAMED_FILE.fullmatch(path)
    if match is None:
        return None
    algorithm = match.groupdict().get("algorithm") or "sha256"
    if len(match["hex"]) != _HEX_LENGTH[algorithm]:
        return None
    return f"{algorithm}:{match['hex']}"


def _clean(path: str, where: str) -> str:
    name = _member_name(path, where)
    if name is None:
        raise ArchiveError(f"{where}: manifest.json names an empty path")
    return name


def _string(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ArchiveError(f"{where}: manifest.json has no {what}")
    return value


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _plain(value: object) -> str:
    return value if isinstance(value, str) else ""


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# -- the daemon-shaped answers --------------------------------------------------------------

# The inspect object's fields in the daemon's order (docker's ImageInspect), and the config
# fields each comes from; RepoDigests, Parent, GraphDriver, Metadata are the daemon's own.
_CONFIG_FIELDS = (
    ("Container", "container"),
    ("ContainerConfig", "container_config"),
    ("DockerVersion", "docker_version"),
)


def _inspect_object(
    config: Mapping[str, Any], image_id: str, repo_tags: Sequence[str], size: int | None
) -> dict[str, Any]:
    inspect: dict[str, Any] = {"Id": image_id, "RepoTags": list(repo_tags)}
    # docker shows the last history step's comment when the image has none of its own.
    comment = config.get("comment")
    history = config.get("history")
    if not comment and isinstance(history, list) and history and isinstance(history[-1], dict):
        comment = history[-1].get("comment")
    inspect["Comment"] = comment if isinstance(comment, str) else ""
    if "created" in config:
        inspect["Created"] = config["created"]
    for name, key in _CONFIG_FIELDS:
        if key in config:
            inspect[name] = config[key]
    inspect["Author"] = config.get("author") if isinstance(config.get("author"), str) else ""
    if "config" in config:
        inspect["Config"] = config["config"]
    for name, key in (("Architecture", "architecture"), ("Variant", "variant")):
        if config.get(key):
            inspect[name] = config[key]
    if "os" in config:
        inspect["Os"] = config["os"]
    if config.get("os.version"):
        inspect["OsVersion"] = config["os.version"]
    if size is not None:
        inspect["Size"] = size
    rootfs = config.get("rootfs")
    if isinstance(rootfs, dict):
        inspect["RootFS"] = {"Type": rootfs.get("type", ""), "Layers": rootfs.get("diff_ids")}
    return inspect


def _history(
    config: Mapping[str, Any], image_id: str, repo_tags: Sequence[str], sizes: Sequence[int | None]
) -> list[dict[str, Any]]:
    """The history API's answer, newest first, built from the config's history."""
    steps = config.get("history")
    if not isinstance(steps, list) or not steps:
        # No history recorded: one step for each layer, so the sizes are still shown.
        steps = [{} for _ in sizes]
    layers = iter(sizes)
    answer = []
    for step in steps:
        step = step if isinstance(step, dict) else {}
        made_layer = not step.get("empty_layer")
        size = (next(layers, None) if made_layer else 0) or 0
        answer.append(
            {
                "Comment": _plain(step.get("comment")),
                "Created": _unix_time(step.get("created")),
                "CreatedBy": _plain(step.get("created_by")),
                "Id": "<missing>",
                "Size": size,
                "Tags": None,
                # Not in the daemon's answer, which drops it: it tells the view (layers.py)
                # which steps made a layer, where Size 0 cannot.
                "empty_layer": not made_layer,
            }
        )
    answer.reverse()
    answer[0]["Id"] = image_id
    answer[0]["Tags"] = list(repo_tags) or None
    return answer


def _unix_time(value: object) -> int:
    if not isinstance(value, str):
        return 0
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except (ValueError, OverflowError, OSError):
        return 0


_GO_ESCAPES = {
    0x3C: "\\u003c",
    0x3E: "\\u003e",
    0x26: "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
_SURROGATE = re.compile("[\ud800-\udfff]")


def go_json(value: object) -> bytes:
    """Compact JSON as Go's encoding/json writes it (so `--json` reads like the daemon's)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # <, >, & and the two line separators can only occur inside strings: escape them as Go does.
    text = _SURROGATE.sub("\\\\ufffd", text.translate(_GO_ESCAPES))
    return text.encode()
