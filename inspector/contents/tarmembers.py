"""The members of the archive that holds an image's files (a `docker save` tar, an OCI
layout's), one after another, each one's data read as a stream: tarfile would pass every byte
through a buffer of its own, and in stream mode keeps every header it has read."""

from typing import NamedTuple

from inspector.contents.tarformat import (
    BLOCK,
    EXTENDED,
    HEADER,
    MAX_EXTENDED,
    PAX_GLOBAL,
    USTAR,
    Chunks,
    Readable,
    TarBroken,
    checksum_matches,
    header_number,
    header_text,
    keep_extended,
    pax_int,
)


class TarMember(NamedTuple):
    """A member of a tar read as a stream: its name, type flag, link target and data size."""

    name: str
    flag: bytes
    linkname: str
    size: int

    def is_file(self) -> bool:
        return self.flag in _REGULAR

    def is_directory(self) -> bool:
        return self.flag == b"5" or (self.flag == b"\x00" and self.name.endswith("/"))


_REGULAR = frozenset([b"0", b"\x00", b"7"])


class TarMembers:
    """A tar's members one after another, each one's data read as a stream (`read`): the
    archive that holds an image's files, where tarfile would pass every byte through a
    buffer of its own. The data comes in the source's own chunks, whole where a member spans
    them, so a layer's bytes are not copied on their way. TarBroken where it is not a tar or
    ends inside a member; the end is the first zero block or the stream's end."""

    def __init__(self, source: Readable) -> None:
        self._chunks = Chunks(source, None)
        self._left = 0  # the current member's data not read yet
        self._padding = 0
        self._global: dict[str, str] = {}  # PAX global records: they hold for the rest
        self._global_size = 0
        self.started = False  # a header was read: it is a tar

    def next(self) -> TarMember | None:
        """The next member (the rest of the current one's data skipped), or None at the end."""
        chunks = self._chunks
        if self._left and not chunks.skip(self._left):
            raise TarBroken("the tar ends inside a member's data")
        padding, self._left, self._padding = self._padding, 0, 0
        if padding and not chunks.skip(padding):
            return None  # the stream's end in the last member's padding
        extended: dict[str, str] = {}
        pending_size = 0
        while True:
            block = chunks.take(BLOCK)
            if not block.strip(b"\x00"):
                if self.started:
                    return None  # the end-of-archive marker, or the stream's end
                raise TarBroken("empty file")
            if len(block) < BLOCK:
                raise TarBroken("the tar ends inside a header")
            fields = HEADER.unpack(block)
            if not checksum_matches(block, fields[6]):
                raise TarBroken(f"a header's checksum does not match at byte {self.offset - BLOCK}")
            self.started = True
            flag = fields[7]
            size = header_number(fields[4])
            if size < 0:
                raise TarBroken("a header declares a negative size")
            if flag in EXTENDED:
                # As in a layer: the headers before one member count together, and the
                # global ones of the whole tar.
                if flag == PAX_GLOBAL:
                    self._global_size += size
                else:
                    pending_size += size
                if max(pending_size, self._global_size) > MAX_EXTENDED:
                    raise TarBroken(
                        f"an extended tar header of {max(pending_size, self._global_size)} bytes"
                    )
                data = chunks.take((size + BLOCK - 1) & -BLOCK)
                if len(data) < size:
                    raise TarBroken("the tar ends inside an extended header")
                keep_extended(flag, data[:size], extended, self._global)
                continue
            records = {**self._global, **extended}
            if "path" in records:
                name = records["path"]
            else:
                name = header_text(fields[0])
                if fields[9] == USTAR and fields[14][:1] != b"\x00":
                    name = header_text(fields[14]) + "/" + name
            if "size" in records:
                size = pax_int(records["size"], "size")
            linkname = records["linkpath"] if "linkpath" in records else header_text(fields[8])
            # Links and directories carry no data, whatever their size field says.
            stored = size if flag not in (b"1", b"2", b"3", b"4", b"5", b"6") else 0
            self._left = stored
            self._padding = -stored % BLOCK
            return TarMember(name, flag, linkname, stored)

    def read(self, size: int = -1, /) -> bytes:
        """The current member's data: at most size bytes, and at most the rest of a chunk."""
        left = self._left
        if left <= 0:
            return b""
        wanted = left if size < 0 else min(size, left)
        chunks = self._chunks
        buffer, start = chunks.buffer, chunks.position
        if start >= len(buffer):
            buffer, start = chunks.more(), 0
            chunks.buffer, chunks.position = buffer, 0
            if not buffer:
                raise TarBroken("the tar ends inside a member's data")
        end = min(len(buffer), start + wanted)
        data = buffer if start == 0 and end == len(buffer) else buffer[start:end]
        chunks.position = end
        self._left = left - len(data)
        return data

    @property
    def offset(self) -> int:
        """The bytes of the stream read so far and used: where the reader is in the tar."""
        chunks = self._chunks
        return chunks.total - len(chunks.buffer) + chunks.position
