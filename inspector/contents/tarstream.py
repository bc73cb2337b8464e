"""A layer's tar read as it streams past: its headers parsed, its files' data skipped unread.

tarfile does not fit a layer: in stream mode it reads a PAX or GNU long-name header of any
declared size into memory, and it costs tens of microseconds a member. This reader takes the
decompressed tar in large chunks, hands each chunk to a hash as it arrives (the diff-ID is
the digest of exactly these bytes), parses the 512-byte headers out of the chunk, and steps
over the data in between, so the only bytes it keeps are the chunk in hand and the headers it
caps.

What no daemon would unpack, or what could exhaust memory, is LayerRefused; a stream that is
not a tar, or that ends inside a member, is TarBroken.
"""

import struct
import zlib
from collections.abc import Callable
from typing import NamedTuple, Protocol

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
    LayerRefused,
)

CHUNK = 1024 * 1024
BLOCK = 512
# The caps on what one layer may make the reader hold: an extended header (PAX or a GNU long
# name), a path and one of its names (Linux's PATH_MAX and NAME_MAX), and the entries kept
# for one image (its layers together).
MAX_EXTENDED = 1024 * 1024
MAX_PATH = 4096
MAX_NAME = 255
MAX_ENTRIES = 4_000_000

WHITEOUT_PREFIX = ".wh."
OPAQUE_NAME = ".wh..wh..opq"
# aufs keeps its own bookkeeping under this prefix (hard-link bases, ...): docker skips it.
AUFS_META_PREFIX = ".wh..wh."

# How many distinct values of each kind are kept to be shared.
_SHARED = 1 << 16
_ADLER = 65521
_HEADER = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s12s")
_GNU_MAGIC = b"ustar  \x00"
_KINDS = {
    b"0": FILE,
    b"\x00": FILE,
    b"7": FILE,
    b"1": HARDLINK,
    b"2": SYMLINK,
    b"3": CHAR_DEVICE,
    b"4": BLOCK_DEVICE,
    b"5": DIRECTORY,
    b"6": FIFO,
    # GNU tar's dump directory: a directory whose data lists its names.
    b"D": DIRECTORY,
    b"S": FILE,
}
# The members the reader's fast path makes entries of: plain files and directories.
_FAST_KINDS = {b"0": FILE, b"\x00": FILE, b"7": FILE, b"5": DIRECTORY}
_USTAR = b"ustar\x0000"
_PAX_LOCAL = b"x"
_PAX_GLOBAL = b"g"
_GNU_LONGNAME = b"L"
_GNU_LONGLINK = b"K"
_GNU_SPARSE = b"S"
_VOLUME = b"V"
_EXTENDED = frozenset([_PAX_LOCAL, _PAX_GLOBAL, _GNU_LONGNAME, _GNU_LONGLINK])


class TarBroken(Exception):
    """The stream is not a tar, or ends inside a member: the text says where."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Sink(Protocol):
    def update(self, data: bytes, /) -> None: ...


class _Chunks:
    """The stream's bytes, chunk by chunk: every chunk is hashed as it arrives, and only the
    unread rest of the current one is kept."""

    __slots__ = ("_hash", "_read", "buffer", "position", "total")

    def __init__(self, source: Readable, hasher: _Sink | None) -> None:
        self._read = source.read
        self._hash = hasher.update if hasher is not None else None
        self.buffer = b""
        self.position = 0
        self.total = 0  # the bytes read from the stream

    def _more(self) -> bytes:
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
            chunk = self._more()
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
            chunk = self._more()
            if not chunk:
                self.buffer, self.position = b"", 0
                return False
            if len(chunk) >= count:
                self.buffer, self.position = chunk, count
                return True
            count -= len(chunk)

    def drain(self) -> None:
        self.buffer, self.position = b"", 0
        while self._more():
            pass


class TarReader:
    """One layer's tar, read to its end: its entries (when kept) and the sum of its header
    sizes. `limit` is how many entries the image may still keep."""

    def __init__(
        self,
        source: Readable,
        hasher: _Sink | None = None,
        *,
        keep: bool = True,
        limit: int = MAX_ENTRIES,
    ) -> None:
        self._chunks = _Chunks(source, hasher)
        self._keep = keep
        self._limit = limit
        self.entries: list[Entry] = []
        self.size = 0
        # Values many entries share, each kept once.
        self._ints: dict[int, int] = {}
        self._numbers: dict[bytes, int] = {}
        self._modes: dict[bytes, int] = {}
        self._owners: dict[tuple[str, str], tuple[str, str]] = {}
        self._raw_owners: dict[bytes, tuple[str, str] | None] = {}
        self._ids: dict[bytes, tuple[int, int, int]] = {}

    @property
    def total(self) -> int:
        return self._chunks.total

    def read(self) -> None:
        """Reads the whole stream (the bytes after the tar's end too: they are hashed)."""
        chunks = self._chunks
        try:
            self._walk(chunks)
        finally:
            chunks.buffer, chunks.position = b"", 0
        chunks.drain()

    def _walk(self, chunks: _Chunks) -> None:
        # The loop runs once a member: the chunk in hand is sliced here, and the chunks'
        # methods are called (their position set first, and read back after) only where a
        # header or a member's data runs past it. Everything it calls a member is a local.
        take, skip = chunks.take, chunks.skip
        unpack = _HEADER.unpack
        adler32 = zlib.adler32
        fast_kinds = _FAST_KINDS
        numbers, ints = self._numbers, self._ints
        owners, ids = self._raw_owners, self._ids
        number, once, owner_of = self._number, self._once, self._owner
        keep, limit = self._keep, self._limit
        append = self.entries.append
        extended: dict[str, str] = {}
        global_records: dict[str, str] = {}
        pending_size = global_size = 0
        count = 0
        buffer, position = chunks.buffer, chunks.position
        while True:
            end = position + BLOCK
            if end <= len(buffer):
                block = buffer[position:end]
                position = end
            else:
                chunks.position = position
                block = take(BLOCK)
                buffer, position = chunks.buffer, chunks.position
                if len(block) < BLOCK:
                    if block.strip(b"\x00"):
                        raise TarBroken("the tar ends inside a header")
                    break
            checksum = block[148:156]
            try:
                # Plain octal, as nearly every writer leaves it; anything else is _number's.
                expected = int(checksum.rstrip(b" \x00"), 8)
            except ValueError:
                expected = -1
            if (
                expected < 0
                or ((adler32(block) & 0xFFFF) - 1 - sum(checksum) + 256 - expected) % _ADLER
            ) and not _checksum_matches(block, checksum):
                if not block.strip(b"\x00"):
                    break  # the end-of-archive marker
                raise TarBroken(f"a header's checksum does not match at byte {self.total}")
            flag = block[156:157]
            size_field = block[124:136]
            length = numbers.get(size_field)
            if length is None:
                length = number(size_field)
            if length < 0:
                raise TarBroken("a header declares a negative size")
            stored = length
            if flag == _GNU_SPARSE:
                chunks.position = position
                length = _sparse_extensions(block, take)
                buffer, position = chunks.buffer, chunks.position
            padded = (stored + BLOCK - 1) & -BLOCK
            if flag in _EXTENDED:
                # The headers before one member count together, and the global ones of the
                # whole tar: many small ones hold as much as one large one.
                if flag == _PAX_GLOBAL:
                    global_size += stored
                else:
                    pending_size += stored
                if max(stored, pending_size, global_size) > MAX_EXTENDED:
                    raise LayerRefused(
                        f"an extended tar header of {max(stored, pending_size, global_size)} "
                        f"bytes (more than {MAX_EXTENDED // (1024 * 1024)} MiB)"
                    )
                chunks.position = position
                data = take(padded)
                buffer, position = chunks.buffer, chunks.position
                if len(data) < padded:
                    raise TarBroken("the tar ends inside an extended header")
                _record(flag, data[:stored], extended, global_records)
                continue
            pending_size = 0
            if extended or global_records:
                records = {**global_records, **extended} if global_records else extended
                extended = {}
                if "size" in records:
                    length = _pax_int(records["size"], "size")
                    if flag != _GNU_SPARSE:
                        stored = length
                        padded = (stored + BLOCK - 1) & -BLOCK
                # A PAX sparse file: its data is its map and its pieces, its size the file's.
                for key in ("GNU.sparse.realsize", "GNU.sparse.size"):
                    if key in records:
                        length = _pax_int(records[key], key)
                        break
            else:
                records = extended
            if flag == _VOLUME:
                pass
            elif keep:
                self.size += length
                kind = fast_kinds.get(flag)
                entry: Entry | None
                if kind is not None and not records:
                    # A file or a directory with its header's own fields, nothing to unmake:
                    # what _entry would make, without its steps for the other members.
                    raw = block[:100].partition(b"\x00")[0]
                    if block[257:265] == _USTAR and block[345]:
                        raw = block[345:500].partition(b"\x00")[0] + b"/" + raw
                    if b".wh." in raw or (flag == b"\x00" and raw.endswith(b"/")):
                        entry = self._entry(unpack(block), records, flag, length)
                    else:
                        text = raw.decode("utf-8", "surrogateescape")
                        if (
                            raw.startswith((b".", b"/"))
                            or raw.endswith(b"/")
                            or b"//" in raw
                            or b"/." in raw
                            or len(raw) > MAX_NAME
                        ):
                            text = clean(text)
                        if text:
                            known = ids.get(block[100:124])
                            if known is None:
                                known = self._known_ids(block)
                            mtime_field = block[136:148]
                            mtime = numbers.get(mtime_field)
                            if mtime is None:
                                mtime = number(mtime_field)
                            raw_owner = block[265:329]
                            if raw_owner in owners:
                                owner = owners[raw_owner]
                            else:
                                owner = owner_of(raw_owner)
                            shared_size = ints.get(length)
                            entry = Entry(
                                text,
                                kind,
                                known[0],
                                known[1],
                                known[2],
                                once(length) if shared_size is None else shared_size,
                                mtime,
                                "",
                                owner,
                                None,
                            )
                        else:
                            entry = None
                else:
                    entry = self._entry(unpack(block), records, flag, length)
                if entry is not None:
                    count += 1
                    if count > limit:
                        raise LayerRefused(f"more than {MAX_ENTRIES} entries in the image's layers")
                    append(entry)
            else:
                self.size += length
            if padded:
                end = position + padded
                if end <= len(buffer):
                    position = end
                else:
                    chunks.position = position
                    if not skip(stored):
                        raise TarBroken("the tar ends inside a member's data")
                    if not skip(padded - stored):
                        # docker takes a tar that stops after a member's data, in its padding
                        # or before its end-of-archive blocks, as ended: umoci writes such.
                        break
                    buffer, position = chunks.buffer, chunks.position

    def _entry(
        self, fields: tuple[bytes, ...], records: dict[str, str], flag: bytes, size: int
    ) -> Entry | None:
        if "GNU.sparse.name" in records:
            raw = records["GNU.sparse.name"]
        elif "path" in records:
            raw = records["path"]
        else:
            raw = _text(fields[0])
            if fields[9] == b"ustar\x0000" and fields[14][:1] != b"\x00":
                raw = _text(fields[14]) + "/" + raw
        kind = _KINDS.get(flag, FILE)
        if flag == b"\x00" and raw.endswith("/"):
            kind = DIRECTORY  # pre-POSIX tars mark a directory by its trailing slash
        path = clean(raw)
        if not path:
            return None  # the layer's root (`./`): docker sets its times, nothing is added
        if path.startswith(AUFS_META_PREFIX) and path != OPAQUE_NAME:
            return None  # aufs's directories of hard-link bases and the like, at the root
        base = path.rpartition("/")[2]
        if base.startswith(WHITEOUT_PREFIX):
            if base == OPAQUE_NAME:
                directory = path.rpartition("/")[0]
                if not directory:
                    raise LayerRefused(f"an opaque marker at the layer's root: {raw!r}")
                path, kind = directory, OPAQUE
            elif base.startswith(AUFS_META_PREFIX):
                return None
            else:
                removed = base[len(WHITEOUT_PREFIX) :]
                if removed in ("", ".", ".."):
                    raise LayerRefused(f"a whiteout of {removed or 'nothing'!r}: {raw!r}")
                path, kind = path[: len(path) - len(base)] + removed, WHITEOUT
        target = ""
        if kind in (SYMLINK, HARDLINK):
            target = records["linkpath"] if "linkpath" in records else _text(fields[8])
            if kind == HARDLINK and not clean(target, "the hard link target"):
                raise LayerRefused(f"the hard link {raw!r} points to the layer's root")
        device = None
        if kind in (CHAR_DEVICE, BLOCK_DEVICE):
            device = (_number(fields[12]), _number(fields[13]))
        number = self._number
        mode_field = fields[1]
        mode = self._modes.get(mode_field)
        if mode is None:
            mode = self._modes.setdefault(mode_field, _number(mode_field) & 0o7777)
        if not records:
            return Entry(
                path,
                kind,
                mode,
                number(fields[2]),
                number(fields[3]),
                self._once(size),
                number(fields[5]),
                target,
                self._owner(fields[10] + fields[11]),
                device,
            )
        once = self._once
        uname = records["uname"] if "uname" in records else _text(fields[10])
        gname = records["gname"] if "gname" in records else _text(fields[11])
        owner = None
        if uname or gname:
            pair = (uname, gname)
            owner = self._owners.setdefault(pair, pair)
        uid = _pax_int(records["uid"], "uid") if "uid" in records else number(fields[2])
        gid = _pax_int(records["gid"], "gid") if "gid" in records else number(fields[3])
        mtime = _pax_time(records["mtime"]) if "mtime" in records else number(fields[5])
        return Entry(
            path, kind, mode, once(uid), once(gid), once(size), once(mtime), target, owner, device
        )

    def _known_ids(self, block: bytes) -> tuple[int, int, int]:
        """A header's mode (its permission bits), uid and gid, kept for the headers that hold
        the same bytes in those fields, up to a bound."""
        mode_field = block[100:108]
        mode = self._modes.get(mode_field)
        if mode is None:
            mode = self._modes.setdefault(mode_field, _number(mode_field) & 0o7777)
        known = (mode, self._number(block[108:116]), self._number(block[116:124]))
        if len(self._ids) < _SHARED:
            self._ids[block[100:124]] = known
        return known

    def _number(self, field: bytes) -> int:
        """A header's number, decoded once for all the headers that hold the same bytes (and
        kept as one int object: an int costs 28 bytes), up to a bound."""
        numbers = self._numbers
        found = numbers.get(field)
        if found is None:
            found = _number(field)
            if len(numbers) < _SHARED:
                numbers[field] = found
        return found

    def _owner(self, key: bytes) -> tuple[str, str] | None:
        """The owner of a header's user and group name fields (their 64 bytes together)."""
        if key in self._raw_owners:
            return self._raw_owners[key]
        pair = (_text(key[:32]), _text(key[32:]))
        owner = self._owners.setdefault(pair, pair) if pair[0] or pair[1] else None
        if len(self._raw_owners) < _SHARED:
            self._raw_owners[key] = owner
        return owner

    def _once(self, number: int) -> int:
        """The one int object kept for this value, up to a bound: entries share ids, times
        and sizes."""
        ints = self._ints
        if number in ints:
            return ints[number]
        if len(ints) < _SHARED:
            ints[number] = number
        return number


def _checksum_matches(block: bytes, field: bytes) -> bool:
    """Whether the header's bytes sum to its checksum, the checksum field counting as eight
    spaces. Adler-32's low half is 1 + that sum modulo 65521, in C: a sum off by exactly
    65521 passes too, which no corruption worth catching is."""
    try:
        expected = _number(field)
    except TarBroken:
        return False
    fields = sum(field)
    if ((zlib.adler32(block) & 0xFFFF) - 1 - fields + 256 - expected) % _ADLER == 0:
        return True
    # Old tars summed the bytes as signed.
    signed: int = sum(struct.unpack("512b", block)) - sum(struct.unpack("8b", field)) + 256
    return signed == expected


def _number(field: bytes) -> int:
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


def _text(field: bytes) -> str:
    return field.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def _record(
    flag: bytes, data: bytes, extended: dict[str, str], global_records: dict[str, str]
) -> None:
    """Keep what an extended header says: for the next member, or (PAX global) for the rest
    of the tar. A GNU long name or link stands only where no PAX record gives one."""
    if flag == _PAX_LOCAL:
        extended.update(_pax_records(data))
    elif flag == _PAX_GLOBAL:
        global_records.update(_pax_records(data))
    elif flag == _GNU_LONGNAME:
        extended.setdefault("path", _text(data))
    else:
        extended.setdefault("linkpath", _text(data))


def _pax_records(data: bytes) -> dict[str, str]:
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


def _pax_int(value: str, what: str) -> int:
    try:
        number = int(value, 10)
    except ValueError:
        raise TarBroken(f"a PAX header's {what} is not a number: {value!r}") from None
    if number < 0:
        raise TarBroken(f"a PAX header's {what} is negative: {value!r}")
    return number


def _pax_time(value: str) -> int:
    seconds, _, _ = value.partition(".")
    try:
        return int(seconds or "0", 10)
    except ValueError:
        raise TarBroken(f"a PAX header's mtime is not a time: {value!r}") from None


def _sparse_extensions(block: bytes, take: Callable[[int], bytes]) -> int:
    """A GNU sparse member's real size; the extension headers that follow it are read."""
    extended = block[482]
    while extended:
        more = take(BLOCK)
        if len(more) < BLOCK:
            raise TarBroken("the tar ends inside a sparse file's headers")
        extended = more[504]
    return _number(block[483:495])


def clean(raw: str, what: str = "the path") -> str:
    """A tar name as a clean relative path (`./a//b/` -> `a/b`, `./` -> ``); LayerRefused for
    one that leaves the layer or that no filesystem would hold."""
    if not (raw.startswith((".", "/")) or raw.endswith("/") or "//" in raw or "/." in raw) and (
        len(raw) <= MAX_NAME // 4 or _fits(raw)
    ):
        return raw  # already clean: no empty name, none that starts with a dot
    if raw.startswith("/"):
        raise LayerRefused(f"{what} {raw!r} escapes the layer: it is absolute")
    parts = [part for part in raw.split("/") if part and part != "."]
    for part in parts:
        if part == "..":
            raise LayerRefused(f"{what} {raw!r} escapes the layer: it holds '..'")
        if len(part) > MAX_NAME // 4 and len(part.encode("utf-8", "surrogateescape")) > MAX_NAME:
            raise LayerRefused(f"{what} {raw[:80]!r}... has a name longer than {MAX_NAME} bytes")
    path = "/".join(parts)
    if len(path) > MAX_PATH // 4 and len(path.encode("utf-8", "surrogateescape")) > MAX_PATH:
        raise LayerRefused(f"{what} {raw[:80]!r}... is longer than {MAX_PATH} bytes")
    return path


def _fits(path: str) -> bool:
    """Whether a path is within the length caps, its names and in all."""
    if len(path.encode("utf-8", "surrogateescape")) > MAX_PATH:
        return False
    return all(
        len(part) <= MAX_NAME // 4 or len(part.encode("utf-8", "surrogateescape")) <= MAX_NAME
        for part in path.split("/")
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
        self._chunks = _Chunks(source, None)
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
            fields = _HEADER.unpack(block)
            if not _checksum_matches(block, fields[6]):
                raise TarBroken(f"a header's checksum does not match at byte {self.offset - BLOCK}")
            self.started = True
            flag = fields[7]
            size = _number(fields[4])
            if size < 0:
                raise TarBroken("a header declares a negative size")
            if flag in _EXTENDED:
                # As in a layer: the headers before one member count together, and the
                # global ones of the whole tar.
                if flag == _PAX_GLOBAL:
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
                _record(flag, data[:size], extended, self._global)
                continue
            records = {**self._global, **extended}
            if "path" in records:
                name = records["path"]
            else:
                name = _text(fields[0])
                if fields[9] == _USTAR and fields[14][:1] != b"\x00":
                    name = _text(fields[14]) + "/" + name
            if "size" in records:
                size = _pax_int(records["size"], "size")
            linkname = records["linkpath"] if "linkpath" in records else _text(fields[8])
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
            buffer, start = chunks._more(), 0
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
