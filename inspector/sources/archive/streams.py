"""Blobs read once, as streams: counted, hashed, decompressed, and a layer measured.

A layer passes through in chunks; only its own tar headers are read, for the sizes docker
counts (and, when a run asks for them, the entries they describe), so memory does not grow
with the layer's data.
"""

import bz2
import gzip
import hashlib
import io
import lzma
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Protocol, cast

from inspector.contents.model import LayerContents, LayerRefused
from inspector.contents.tarformat import TarBroken
from inspector.contents.tarstream import MAX_ENTRIES, TarReader

# Reads from the archive and from layers.
CHUNK = 1024 * 1024

_GZIP_MAGIC = b"\x1f\x8b"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# zlib's window size for a gzip wrapper (its header and its CRC checked).
_GZIP_WBITS = 16 + zlib.MAX_WBITS

# The errors reading a compressed stream can raise, whatever is wrong with it (a tar's own are
# TarBroken).
READ_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class SourceBroken(Exception):
    """The archive itself failed under a layer being measured: not the layer's problem."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class Counted:
    """A read-only stream that counts and (optionally) hashes what passes through it."""

    def __init__(
        self, source: Readable, algorithm: str | None = "sha256", *, outer: bool = False
    ) -> None:
        self._source = source
        self._pending = b""
        self._hash = hashlib.new(algorithm) if algorithm else None
        self._outer = outer
        self.count = 0

    def _pull(self, size: int) -> bytes:
        try:
            return self._source.read(size)
        except (*READ_ERRORS, TarBroken) as exc:
            # The archive's own failures under a blob, told from the blob's.
            if self._outer:
                raise SourceBroken(exc) from exc
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


def compression_of(magic: bytes) -> str | None:
    for name, prefix in (
        ("gzip", _GZIP_MAGIC),
        ("bzip2", _BZIP2_MAGIC),
        ("xz", _XZ_MAGIC),
        ("zstd", _ZSTD_MAGIC),
    ):
        if magic.startswith(prefix):
            return name
    return None


def decompressed(stream: Counted, compression: str) -> Readable:
    if compression == "zstd":
        return Unzstd(stream)
    if compression == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if compression == "bzip2":
        return bz2.BZ2File(stream)
    return lzma.LZMAFile(cast(BinaryIO, stream))


class Unzstd:
    """zstd frames one after another, decompressed; EOFError where the data stops inside a
    frame. zstandard's reader ends quietly there, so the frames' own headers are followed as
    the compressed bytes pass (ZstdFrames) to tell a stream that ends from one cut short."""

    def __init__(self, source: Readable) -> None:
        # Loaded only for zstd data: most images have none.
        import zstandard

        self._frames = ZstdFrames(source)
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            cast(BinaryIO, self._frames), read_size=CHUNK, read_across_frames=True
        )

    def read(self, size: int = -1, /) -> bytes:
        data = self._reader.read(size)
        if not data and not self._frames.complete:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        return data


_ZSTD_FRAME = 0xFD2FB528
_SKIPPABLE_FRAMES = range(0x184D2A50, 0x184D2A60)


class ZstdFrames:
    """zstd data passed through unchanged, its frames followed (RFC 8878: a frame header,
    blocks each with a 3-byte header, an optional checksum; or a skippable frame), so that at
    the end `complete` says whether the last frame was whole."""

    def __init__(self, source: Readable) -> None:
        self._source = source
        self._state = "magic"
        self._need = 4  # header bytes the state waits for
        self._header = b""
        self._skip = 0  # bytes to pass over: a block's content, a checksum, a skippable frame
        self._checksum = 0
        self._unknown = False  # not zstd: the decompressor says why

    @property
    def complete(self) -> bool:
        return self._unknown or (self._state == "magic" and not self._header and not self._skip)

    def read(self, size: int = -1, /) -> bytes:
        data = self._source.read(size)
        position = 0
        while position < len(data) and not self._unknown:
            if self._skip:
                step = min(self._skip, len(data) - position)
                self._skip -= step
                position += step
                continue
            wanted = self._need - len(self._header)
            self._header += data[position : position + wanted]
            position += wanted
            if len(self._header) == self._need:
                self._advance(self._header)
                self._header = b""
        return data

    def _advance(self, header: bytes) -> None:
        value = int.from_bytes(header, "little")
        if self._state == "magic":
            if value == _ZSTD_FRAME:
                self._state, self._need = "descriptor", 1
            elif value in _SKIPPABLE_FRAMES:
                self._state, self._need = "skippable", 4
            else:
                self._unknown = True
        elif self._state == "skippable":
            self._skip = value
            self._state, self._need = "magic", 4
        elif self._state == "descriptor":
            single_segment = bool(value & 0x20)
            self._checksum = 4 if value & 0x04 else 0
            content_size = (1 if single_segment else 0, 2, 4, 8)[value >> 6]
            rest = (0 if single_segment else 1) + (0, 1, 2, 4)[value & 0x03] + content_size
            self._state, self._need = "block", 3
            self._skip = rest
        else:  # a block header: last-block bit, type (raw, RLE, compressed), size
            kind, size = (value >> 1) & 0x03, value >> 3
            self._skip = 1 if kind == 1 else size
            if value & 0x01:
                self._skip += self._checksum
                self._state, self._need = "magic", 4


class Gunzip:
    """gzip members one after another, inflated by zlib straight into the reader's chunks:
    GzipFile passes each through a buffer of its own, which costs a third of a layer's time.
    Its errors: EOFError where the data stops short, zlib.error where it is not gzip or its
    checksum fails; zero bytes after a member are padding, as gzip reads them."""

    def __init__(self, source: Readable) -> None:
        self._source = source
        self._inflate = zlib.decompressobj(wbits=_GZIP_WBITS)
        self._input = b""

    def read(self, size: int = -1, /) -> bytes:
        limit = size if size > 0 else CHUNK
        while True:
            if self._inflate.eof:
                rest = self._inflate.unused_data.lstrip(b"\0")
                while not rest:
                    chunk = self._source.read(CHUNK)
                    if not chunk:
                        return b""
                    rest = chunk.lstrip(b"\0")
                self._inflate = zlib.decompressobj(wbits=_GZIP_WBITS)
                self._input = rest
            if not self._input:
                self._input = self._source.read(CHUNK)
                if not self._input:
                    raise EOFError(
                        "Compressed file ended before the end-of-stream marker was reached"
                    )
            data = self._inflate.decompress(self._input, limit)
            self._input = self._inflate.unconsumed_tail
            if data:
                return data


@dataclass(frozen=True, slots=True)
class LayerFacts:
    """What one pass over a layer blob learned: enough to check it and to size it."""

    stored_size: int
    digest: str  # of the bytes as stored
    diff_id: str | None = None  # of the uncompressed tar
    unpacked_size: int | None = None  # what docker counts: the sizes in its tar headers
    problem: str | None = None  # why it is not a readable layer
    contents: LayerContents | None = None  # its entries, when they were asked for


def measure(stream: Counted, *, contents: bool = False, limit: int = MAX_ENTRIES) -> LayerFacts:
    """Read a layer blob to its end: digests, the sum of its files' sizes and, with contents,
    its entries (at most limit of them: what the image may still keep)."""
    compression = compression_of(stream.peek(8))
    errors: tuple[type[Exception], ...] = (*READ_ERRORS, TarBroken, *codec_errors(compression))
    try:
        if compression is None:
            reader = TarReader(stream, keep=contents, limit=limit)
            reader.read()
            diff_id = stream.digest
        else:
            # The uncompressed tar is hashed in the reader's chunks, as it decompresses.
            hasher = hashlib.sha256()
            plain = Gunzip(stream) if compression == "gzip" else decompressed(stream, compression)
            reader = TarReader(plain, hasher, keep=contents, limit=limit)
            reader.read()
            diff_id = f"sha256:{hasher.hexdigest()}"
        stream.drain()
    except LayerRefused as exc:
        stream.drain()
        return LayerFacts(stream.count, stream.digest, problem=f"refused: {exc}")
    except errors as exc:
        stream.drain()
        what = f"{compression} data" if compression else "tar"
        return LayerFacts(stream.count, stream.digest, problem=f"not a readable {what}: {exc}")
    found = None
    if contents:
        found = LayerContents(tuple(reader.entries), reader.size, stream.digest, diff_id)
    return LayerFacts(stream.count, stream.digest, diff_id, reader.size, contents=found)


def codec_errors(compression: str | None) -> tuple[type[Exception], ...]:
    """The errors of the codec that compression needs, beyond READ_ERRORS."""
    if compression != "zstd":
        return ()
    import zstandard

    return (zstandard.ZstdError,)
