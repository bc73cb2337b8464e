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

import zlib

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
from inspector.contents.tarformat import (
    ADLER,
    BLOCK,
    EXTENDED,
    GNU_SPARSE,
    HEADER,
    MAX_EXTENDED,
    PAX_GLOBAL,
    USTAR,
    Chunks,
    Readable,
    Sink,
    TarBroken,
    checksum_matches,
    header_number,
    header_text,
    keep_extended,
    pax_int,
    pax_time,
    sparse_extensions,
)

# The caps on what one layer may make the reader hold, besides an extended header (tarformat's
# MAX_EXTENDED): a path and one of its names (Linux's PATH_MAX and NAME_MAX), and the entries
# kept for one image (its layers together).
MAX_PATH = 4096
MAX_NAME = 255
MAX_ENTRIES = 4_000_000

WHITEOUT_PREFIX = ".wh."
OPAQUE_NAME = ".wh..wh..opq"
# aufs keeps its own bookkeeping under this prefix (hard-link bases, ...): docker skips it.
AUFS_META_PREFIX = ".wh..wh."

# How many distinct values of each kind are kept to be shared.
_SHARED = 1 << 16
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
_VOLUME = b"V"


class TarReader:
    """One layer's tar, read to its end: its entries (when kept) and the sum of its header
    sizes. `limit` is how many entries the image may still keep."""

    def __init__(
        self,
        source: Readable,
        hasher: Sink | None = None,
        *,
        keep: bool = True,
        limit: int = MAX_ENTRIES,
    ) -> None:
        self._chunks = Chunks(source, hasher)
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

    def _walk(self, chunks: Chunks) -> None:
        # The loop runs once a member: the chunk in hand is sliced here, and the chunks'
        # methods are called (their position set first, and read back after) only where a
        # header or a member's data runs past it. Everything it calls a member is a local.
        take, skip = chunks.take, chunks.skip
        unpack = HEADER.unpack
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
                # Plain octal, as nearly every writer leaves it; anything else is header_number's.
                expected = int(checksum.rstrip(b" \x00"), 8)
            except ValueError:
                expected = -1
            if (
                expected < 0
                or ((adler32(block) & 0xFFFF) - 1 - sum(checksum) + 256 - expected) % ADLER
            ) and not checksum_matches(block, checksum):
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
            if flag == GNU_SPARSE:
                chunks.position = position
                length = sparse_extensions(block, take)
                buffer, position = chunks.buffer, chunks.position
            padded = (stored + BLOCK - 1) & -BLOCK
            if flag in EXTENDED:
                # The headers before one member count together, and the global ones of the
                # whole tar: many small ones hold as much as one large one.
                if flag == PAX_GLOBAL:
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
                keep_extended(flag, data[:stored], extended, global_records)
                continue
            pending_size = 0
            if extended or global_records:
                records = {**global_records, **extended} if global_records else extended
                extended = {}
                if "size" in records:
                    length = pax_int(records["size"], "size")
                    if flag != GNU_SPARSE:
                        stored = length
                        padded = (stored + BLOCK - 1) & -BLOCK
                # A PAX sparse file: its data is its map and its pieces, its size the file's.
                for key in ("GNU.sparse.realsize", "GNU.sparse.size"):
                    if key in records:
                        length = pax_int(records[key], key)
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
                    if block[257:265] == USTAR and block[345]:
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
            raw = header_text(fields[0])
            if fields[9] == b"ustar\x0000" and fields[14][:1] != b"\x00":
                raw = header_text(fields[14]) + "/" + raw
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
            target = records["linkpath"] if "linkpath" in records else header_text(fields[8])
            if kind == HARDLINK and not clean(target, "the hard link target"):
                raise LayerRefused(f"the hard link {raw!r} points to the layer's root")
        device = None
        if kind in (CHAR_DEVICE, BLOCK_DEVICE):
            device = (header_number(fields[12]), header_number(fields[13]))
        number = self._number
        mode_field = fields[1]
        mode = self._modes.get(mode_field)
        if mode is None:
            mode = self._modes.setdefault(mode_field, header_number(mode_field) & 0o7777)
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
        uname = records["uname"] if "uname" in records else header_text(fields[10])
        gname = records["gname"] if "gname" in records else header_text(fields[11])
        owner = None
        if uname or gname:
            pair = (uname, gname)
            owner = self._owners.setdefault(pair, pair)
        uid = pax_int(records["uid"], "uid") if "uid" in records else number(fields[2])
        gid = pax_int(records["gid"], "gid") if "gid" in records else number(fields[3])
        mtime = pax_time(records["mtime"]) if "mtime" in records else number(fields[5])
        return Entry(
            path, kind, mode, once(uid), once(gid), once(size), once(mtime), target, owner, device
        )

    def _known_ids(self, block: bytes) -> tuple[int, int, int]:
        """A header's mode (its permission bits), uid and gid, kept for the headers that hold
        the same bytes in those fields, up to a bound."""
        mode_field = block[100:108]
        mode = self._modes.get(mode_field)
        if mode is None:
            mode = self._modes.setdefault(mode_field, header_number(mode_field) & 0o7777)
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
            found = header_number(field)
            if len(numbers) < _SHARED:
                numbers[field] = found
        return found

    def _owner(self, key: bytes) -> tuple[str, str] | None:
        """The owner of a header's user and group name fields (their 64 bytes together)."""
        if key in self._raw_owners:
            return self._raw_owners[key]
        pair = (header_text(key[:32]), header_text(key[32:]))
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
