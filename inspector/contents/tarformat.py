"""The tar format as this project's readers need it: the 512-byte header and its numbers, the
checksum, PAX and GNU extended headers, and a stream taken in large chunks (hashed as they
arrive) from which headers are sliced and data is skipped. tarstream.py reads a layer with it,
tarmembers.py the archive that holds an image's files."""

import struct
import zlib
from collections.abc import Callable
from typing import Protocol

# The reads from the stream.
CHUNK = 1024 * 1024
BLOCK = 512
# The cap on the extended headers (PAX, GNU long names) held at once: those before one member
# together, and the PAX global ones of the whole tar.
MAX_EXTENDED = 1024 * 1024

HEADER = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s12s")
ADLER = 65521
USTAR = b"ustar\x0000"
PAX_LOCAL = b"x"
PAX_GLOBAL = b"g"
GNU_LONGNAME = b"L"
GNU_LONGLINK = b"K"
GNU_SPARSE = b"S"
EXTENDED = frozenset([PAX_LOCAL, PAX_GLOBAL, GNU_LONGNAME, GNU_LONGLINK])


class TarBroken(Exception):
    """The stream is not a tar, or ends inside a member: the text says where."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Sink(Protocol):
    def update(self, data: bytes, /) -> None: ...


class Chunks:
    """The stream's bytes, chunk by chunk: every chunk is hashed as it arrives, and only the
    unread rest of the current one is kept."""

    __slots__ = ("_hash", "_read", "buffer", "position", "total")

    def __init__(self, source: Readable, hasher: Sink | None) -> None:
        self._read = source.read
        self._hash = hasher.update if hasher is not None else None
        self.buffer = b""
        self.position = 0
        self.total = 0  # the bytes read from the stream

    def more(self) -> bytes:
        chunk = self._read(CHUNK)
        if chunk:
            self.total += len(chunk)
            if self._hash is not None:
                self._hash(chunk)
        return chunk

    def take(self, count: int) -> bytes:
        """The next count bytes, or fewer where the stream ends."""
        end = self.position + count
        if end <= len(self.buffer):
            data = self.buffer[self.position : end]
            self.position = end
            return data
        parts = [self.buffer[self.position :]]
        have = len(parts[0])
        while have < count:
            chunk = self.more()
            if not chunk:
                self.buffer, self.position = b"", 0
                return b"".join(parts)
            parts.append(chunk)
            have += len(chunk)
        joined = b"".join(parts)
        self.buffer, self.position = joined, count
        return joined[:count]

    def skip(self, count: int) -> bool:
        """Steps over count bytes without keeping them; False where the stream ends first."""
        end = self.position + count
        if end <= len(self.buffer):
            self.position = end
            return True
        count = end - len(self.buffer)
        while True:
            chunk = self.more()
            if not chunk:
                self.buffer, self.position = b"", 0
                return False
            if len(chunk) >= count:
                self.buffer, self.position = chunk, count
                return True
            count -= len(chunk)

    def drain(self) -> None:
        self.buffer, self.position = b"", 0
        while self.more():
            pass


def checksum_matches(block: bytes, field: bytes) -> bool:
    """Whether the header's bytes sum to its checksum, the checksum field counting as eight
    spaces. Adler-32's low half is 1 + that sum modulo 65521, in C: a sum off by exactly
    65521 passes too, which no corruption worth catching is."""
    try:
        expected = header_number(field)
    except TarBroken:
        return False
    fields = sum(field)
    if ((zlib.adler32(block) & 0xFFFF) - 1 - fields + 256 - expected) % ADLER == 0:
        return True
    # Old tars summed the bytes as signed.
    signed: int = sum(struct.unpack("512b", block)) - sum(struct.unpack("8b", field)) + 256
    return signed == expected


def header_number(field: bytes) -> int:
    """A header's number: octal digits, or base-256 (GNU) when the first bit is set."""
    if field and field[0] & 0x80:
        if field[0] == 0xFF:
            return int.from_bytes(field, "big", signed=True)
        return int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
    digits = field.split(b"\x00", 1)[0].strip()
    if not digits:
        return 0
    try:
        return int(digits, 8)
    except ValueError:
        raise TarBroken(f"a header holds {digits!r} where a number belongs") from None


def header_text(field: bytes) -> str:
    return field.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def keep_extended(
    flag: bytes, data: bytes, extended: dict[str, str], global_records: dict[str, str]
) -> None:
    """Keep what an extended header says: for the next member, or (PAX global) for the rest
    of the tar. A GNU long name or link stands only where no PAX record gives one."""
    if flag == PAX_LOCAL:
        extended.update(pax_records(data))
    elif flag == PAX_GLOBAL:
        global_records.update(pax_records(data))
    elif flag == GNU_LONGNAME:
        extended.setdefault("path", header_text(data))
    else:
        extended.setdefault("linkpath", header_text(data))


def pax_records(data: bytes) -> dict[str, str]:
    """`LENGTH KEY=VALUE\\n` records, each length counting its whole record."""
    records: dict[str, str] = {}
    position = 0
    while position < len(data):
        if data[position] == 0:
            break  # some writers pad the records with NULs
        space = data.find(b" ", position)
        try:
            length = int(data[position:space]) if space > position else 0
        except ValueError:
            length = 0
        record = data[space + 1 : position + length]
        if length <= 0 or position + length > len(data) or not record.endswith(b"\n"):
            raise TarBroken("a PAX header holds a malformed record")
        key, equals, value = record[:-1].partition(b"=")
        if not equals:
            raise TarBroken("a PAX header holds a record without a value")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        position += length
    return records


def pax_int(value: str, what: str) -> int:
    try:
        number = int(value, 10)
    except ValueError:
        raise TarBroken(f"a PAX header's {what} is not a number: {value!r}") from None
    if number < 0:
        raise TarBroken(f"a PAX header's {what} is negative: {value!r}")
    return number


def pax_time(value: str) -> int:
    seconds, _, _ = value.partition(".")
    try:
        return int(seconds or "0", 10)
    except ValueError:
        raise TarBroken(f"a PAX header's mtime is not a time: {value!r}") from None


def sparse_extensions(block: bytes, take: Callable[[int], bytes]) -> int:
    """A GNU sparse member's real size; the extension headers that follow it are read."""
    extended = block[482]
    while extended:
        more = take(BLOCK)
        if len(more) < BLOCK:
            raise TarBroken("the tar ends inside a sparse file's headers")
        extended = more[504]
    return header_number(block[483:495])
