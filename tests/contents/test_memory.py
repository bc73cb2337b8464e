"""What an entry costs held in memory: an image of a hundred thousand files is read and
merged in tens of megabytes, not hundreds."""

import gc
import io
import tarfile
import tracemalloc

from inspector.contents.analysis import merge
from inspector.contents.model import LayerContents
from inspector.contents.tarstream import TarReader

ENTRIES = 100_000
# An entry read costs its path (about a hundred bytes here), its slotted record and its
# place in the layer's tuple; the values entries share (modes, owners, times) are held once.
READ_BUDGET = 400
# The merge adds the tree's slot and one change record per entry.
MERGE_BUDGET = 200


def _many_files() -> bytes:
    """A tar of ENTRIES empty files, its headers written from one that tarfile made (tarfile
    itself takes seconds for as many)."""
    info = tarfile.TarInfo("x")
    info.uname = info.gname = "root"
    template = bytearray(info.tobuf(tarfile.GNU_FORMAT))
    blocks = []
    for number in range(ENTRIES):
        block = bytearray(template)
        name = f"usr/share/doc/package-{number // 100:04d}/file-{number:06d}.txt".encode()
        block[0:100] = name.ljust(100, b"\0")
        block[136:148] = b"%011o\0" % (1_700_000_000 + number % 7)
        block[148:156] = b" " * 8
        block[148:156] = b"%06o\0 " % sum(block)
        blocks.append(bytes(block))
    return b"".join(blocks) + b"\0" * 1024


def test_an_entry_costs_a_few_hundred_bytes_read_and_merged() -> None:
    data = _many_files()
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        reader = TarReader(io.BytesIO(data))
        reader.read()
        layer = LayerContents(tuple(reader.entries), reader.size)
        del reader
        gc.collect()
        read = tracemalloc.get_traced_memory()[0]
        merged = merge([layer])
        gc.collect()
        done = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(merged.tree) == ENTRIES + 1_000 + 3  # the implied package directories too
    per_entry = (read - start) / ENTRIES
    merge_per_entry = (done - read) / ENTRIES
    assert per_entry < READ_BUDGET, f"{per_entry:.0f} bytes an entry read"
    assert merge_per_entry < MERGE_BUDGET, f"{merge_per_entry:.0f} bytes an entry merged"
