"""The contents tar reader: every header format read as tar writes it, paths cleaned, markers
recognised, and every hostile layer refused with a message that says why, quickly and without
holding what the headers declare."""

import gzip
import hashlib
import io
import tarfile
import time
import tracemalloc

import pytest
import zstandard

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
from inspector.contents.tarformat import TarBroken
from inspector.contents.tarstream import TarReader, clean
from inspector.sources.archive.streams import Counted, measure
from tests.contents.layers import (
    EPOCH,
    Member,
    directory,
    file,
    hardlink,
    layer,
    opaque,
    read,
    symlink,
    tar_bytes,
    whiteout,
)

FORMATS = {"ustar": tarfile.USTAR_FORMAT, "gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT}


def _every_kind() -> list[Member]:
    return [
        directory("etc"),
        file("etc/passwd", b"root:x:0:0\n", mode=0o4755, uid=1000, gid=50, uname="me", gname=""),
        symlink("etc/alias", "passwd"),
        hardlink("etc/again", "etc/passwd"),
        Member("dev/null", type=tarfile.CHRTYPE, device=(1, 3), mode=0o666),
        Member("dev/sda", type=tarfile.BLKTYPE, device=(8, 0), mode=0o660),
        Member("run/pipe", type=tarfile.FIFOTYPE, mode=0o600),
    ]


@pytest.mark.parametrize("format_name", sorted(FORMATS))
def test_every_kind_of_entry_reads_the_same_in_every_format(format_name: str) -> None:
    got = read(tar_bytes(_every_kind(), FORMATS[format_name]))
    owner = ("root", "root")
    assert got.entries == (
        Entry("etc", DIRECTORY, 0o755, 0, 0, 0, EPOCH, owner=owner),
        Entry("etc/passwd", FILE, 0o4755, 1000, 50, 11, EPOCH, owner=("me", "")),
        Entry("etc/alias", SYMLINK, 0o777, 0, 0, 0, EPOCH, "passwd", owner),
        Entry("etc/again", HARDLINK, 0o644, 0, 0, 0, EPOCH, "etc/passwd", owner),
        Entry("dev/null", CHAR_DEVICE, 0o666, 0, 0, 0, EPOCH, owner=owner, device=(1, 3)),
        Entry("dev/sda", BLOCK_DEVICE, 0o660, 0, 0, 0, EPOCH, owner=owner, device=(8, 0)),
        Entry("run/pipe", FIFO, 0o600, 0, 0, 0, EPOCH, owner=owner),
    )
    assert got.size == 11


def test_an_entry_without_owner_names_has_none() -> None:
    got = layer(file("a", uname="", gname=""))
    assert got.entries[0].owner is None


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("./a//b/", "a/b"),
        ("a/./b", "a/b"),
        ("./x", "x"),
        ("é" * 127, "é" * 127),  # 254 bytes in UTF-8
        ("d/" + "n" * 255, "d/" + "n" * 255),
        ("/".join(["p" * 200] * 20), "/".join(["p" * 200] * 20)),  # 4019 bytes
    ],
)
def test_paths_are_cleaned_and_long_names_kept(name: str, path: str) -> None:
    for format_name in ("gnu", "pax"):
        assert read(tar_bytes([file(name)], FORMATS[format_name])).entries[0].path == path


def test_a_ustar_name_split_into_prefix_and_name_is_joined() -> None:
    name = "p" * 120 + "/" + "n" * 90
    assert read(tar_bytes([file(name)], tarfile.USTAR_FORMAT)).entries[0].path == name


def test_long_link_targets_are_read_from_gnu_and_pax_headers() -> None:
    target = "t/" * 100 + "end"
    for format_name in ("gnu", "pax"):
        data = tar_bytes([symlink("s", target)], FORMATS[format_name])
        assert read(data).entries[0].link == target


def test_pax_records_override_the_header() -> None:
    member = file(
        "short",
        b"abc",
        pax={"path": "long/path", "uid": "4000000", "uname": "ünï", "mtime": "1700000001.5"},
    )
    entry = layer(member).entries[0]
    assert (entry.path, entry.uid, entry.owner, entry.mtime) == (
        "long/path",
        4_000_000,
        ("ünï", "root"),
        1_700_000_001,
    )


def test_a_pax_sparse_file_has_its_real_name_and_size() -> None:
    sparse = {
        "GNU.sparse.major": "1",
        "GNU.sparse.minor": "0",
        "GNU.sparse.name": "var/lib/sparse.db",
        "GNU.sparse.realsize": "1000000",
    }
    got = layer(file("./GNUSparseFile.0/sparse.db", b"1\n0\n512\n" + b"d" * 600, pax=sparse))
    assert [(entry.path, entry.size) for entry in got.entries] == [("var/lib/sparse.db", 1000000)]
    assert got.size == 1000000


def test_base_256_numbers_are_read() -> None:
    data = tar_bytes([file("big-ids", uid=3_000_000_000, gid=2**40)], tarfile.GNU_FORMAT)
    entry = read(data).entries[0]
    assert (entry.uid, entry.gid) == (3_000_000_000, 2**40)


def test_whiteouts_and_opaque_markers_are_entries_and_aufs_metadata_is_skipped() -> None:
    got = layer(
        whiteout("etc/old"),
        whiteout("gone"),
        opaque("var/cache"),
        file(".wh..wh.plnk/123.456", b"x"),
        file("etc/.wh..wh.aufs"),
    )
    assert [(entry.path, entry.kind) for entry in got.entries] == [
        ("etc/old", WHITEOUT),
        ("gone", WHITEOUT),
        ("var/cache", OPAQUE),
    ]
    assert got.size == 1  # docker counts the skipped members' sizes too


def test_the_layers_root_is_not_an_entry() -> None:
    got = layer(directory("./"), directory("."), file("./a", b"1"))
    assert [entry.path for entry in got.entries] == ["a"]


def test_an_empty_stream_is_an_empty_layer() -> None:
    assert read(b"") == read(tar_bytes([]))
    assert read(b"").entries == () and read(b"").size == 0


def test_a_tar_without_its_end_of_archive_blocks_is_read_whole() -> None:
    data = tar_bytes([file("a", b"x" * 600), file("b")])
    ends = data.rstrip(b"\0")
    whole = len(ends) + (-len(ends)) % 512
    assert [entry.path for entry in read(data[:whole]).entries] == ["a", "b"]


@pytest.mark.parametrize(
    ("cut", "message"),
    [(512 + 100, "inside a member's data"), (300, "inside a header")],
)
def test_a_stream_that_ends_inside_a_member_is_broken(cut: int, message: str) -> None:
    data = tar_bytes([file("a", b"x" * 600)], tarfile.GNU_FORMAT)
    with pytest.raises(TarBroken, match=message):
        read(data[:cut])


def test_a_stream_that_is_not_a_tar_is_broken() -> None:
    with pytest.raises(TarBroken, match="checksum"):
        read(b"{" + b"not a tar" * 100)


def _pax_header(key: str, length: int) -> bytes:
    record = f" {key}={'v' * length}\n"
    total = len(record) + len(str(len(record)))
    total = len(record) + len(str(total))  # the length counts its own digits
    data = f"{total}{record}".encode()
    return _header("pax", len(data), tarfile.XHDTYPE) + data + b"\0" * (-len(data) % 512)


def _header(name: str, size: int, kind: bytes = tarfile.REGTYPE) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    return info.tobuf(tarfile.GNU_FORMAT)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (tar_bytes([file("/etc/passwd")], tarfile.GNU_FORMAT), "escapes the layer: it is absolute"),
        (tar_bytes([file("a/../../etc")]), "escapes the layer: it holds '..'"),
        (tar_bytes([file("../x")]), "escapes"),
        (tar_bytes([hardlink("a", "../../etc/shadow")]), "hard link target .* escapes"),
        (tar_bytes([hardlink("a", "/etc/shadow")]), "hard link target .* escapes"),
        (tar_bytes([file("a/.wh..")]), r"a whiteout of '\.'"),
        (tar_bytes([file("a/.wh...")]), r"a whiteout of '\.\.'"),
        (tar_bytes([file(".wh.")]), "a whiteout of 'nothing'"),
        (tar_bytes([file(".wh..wh..opq")]), "an opaque marker at the layer's root"),
        (tar_bytes([file("d/" + "n" * 256)]), "a name longer than 255 bytes"),
        (tar_bytes([file("é" * 128)]), "a name longer than 255 bytes"),
        (tar_bytes([file("/".join(["p" * 200] * 21))]), "longer than 4096 bytes"),
        (tar_bytes([hardlink("h", "./")]), "points to the layer's root"),
        (
            tar_bytes([file("a", pax={"comment": "c" * (1024 * 1024)})]),
            "an extended tar header of 1048[0-9]+ bytes",
        ),
        (
            tar_bytes([file("n" * (1024 * 1024 + 1))], tarfile.GNU_FORMAT),
            "an extended tar header of 1048[0-9]+ bytes",
        ),
        # Many PAX headers before one member, each under the cap.
        (
            b"".join(_pax_header(f"k{n}", 300_000) for n in range(4)),
            "an extended tar header of 12[0-9]{5} bytes",
        ),
        # A PAX header declaring 10 GiB, with nothing behind it.
        (_header("x", 10 * 2**30, tarfile.XHDTYPE), "an extended tar header of 10737418240"),
    ],
)
def test_hostile_layers_are_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(LayerRefused, match=message):
        read(data)


def test_more_entries_than_the_image_may_keep_are_refused() -> None:
    reader = TarReader(io.BytesIO(tar_bytes([file(str(n)) for n in range(5)])), limit=4)
    with pytest.raises(LayerRefused, match="more than 4000000 entries"):
        reader.read()


def test_a_tar_bomb_is_read_quickly_without_holding_what_it_declares() -> None:
    """A header declaring a 1 TiB file with no data behind it, and a real 64 MiB file: the
    first ends the stream inside a member, the second is stepped over."""
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(TarBroken, match="inside a member's data"):
        read(_header("bomb", 2**40))
    big = tar_bytes([file("big", b"\0" * (64 * 1024 * 1024)), file("after")])
    baseline = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    reader = TarReader(io.BytesIO(big))
    reader.read()
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    assert [entry.path for entry in reader.entries] == ["big", "after"]
    assert time.monotonic() - started < 5
    assert peak < 8 * 1024 * 1024


@pytest.mark.parametrize(
    "compress",
    [
        lambda data: data,
        lambda data: gzip.compress(data, mtime=0),
        lambda data: zstandard.ZstdCompressor().compress(data),
    ],
    ids=["plain", "gzip", "zstd"],
)
def test_measure_gives_the_digests_the_size_and_the_entries_in_one_pass(compress: object) -> None:
    plain = tar_bytes([file("a", b"a" * 70_000), directory("d"), file("d/b", b"b" * 3)])
    blob = compress(plain)  # type: ignore[operator]
    facts = measure(Counted(io.BytesIO(blob)), contents=True)
    assert facts.digest == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert facts.diff_id == "sha256:" + hashlib.sha256(plain).hexdigest()
    assert facts.unpacked_size == 70_003 and facts.problem is None
    assert facts.contents is not None
    assert [entry.path for entry in facts.contents.entries] == ["a", "d", "d/b"]
    assert (facts.contents.digest, facts.contents.diff_id) == (facts.digest, facts.diff_id)
    assert measure(Counted(io.BytesIO(blob))).contents is None


def test_measure_says_why_a_layer_is_refused_or_unreadable() -> None:
    refused = measure(Counted(io.BytesIO(tar_bytes([file("/abs")]))), contents=True)
    assert refused.problem is not None and refused.problem.startswith("refused: the path")
    broken = measure(Counted(io.BytesIO(gzip.compress(b"garbage" * 100))))
    assert broken.problem is not None and broken.problem.startswith("not a readable gzip data")


def test_clean_refuses_what_leaves_the_layer() -> None:
    assert clean("./usr//lib/") == "usr/lib"
    with pytest.raises(LayerRefused, match="escapes"):
        clean("a/../../b")


def test_a_layer_in_several_gzip_members_with_padding_is_one_tar() -> None:
    plain = tar_bytes([file("a", b"a" * 5000), file("b", b"b" * 7000)])
    blob = gzip.compress(plain[:3000]) + b"\0" * 1000 + gzip.compress(plain[3000:])
    facts = measure(Counted(io.BytesIO(blob)), contents=True)
    assert facts.diff_id == "sha256:" + hashlib.sha256(plain).hexdigest()
    assert facts.contents is not None and len(facts.contents.entries) == 2


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda blob: blob[: len(blob) // 2], "Compressed file ended"),
        (lambda blob: blob[:-8] + bytes([blob[-8] ^ 1]) + blob[-7:], "incorrect data check"),
        (lambda blob: blob + b"trailing garbage", "incorrect header check"),
    ],
    ids=["truncated", "wrong CRC", "garbage after"],
)
def test_a_damaged_gzip_layer_is_unreadable(damage: object, message: str) -> None:
    blob = gzip.compress(tar_bytes([file("a", b"a" * 50_000)]))
    facts = measure(Counted(io.BytesIO(damage(blob))))  # type: ignore[operator]
    assert facts.problem is not None
    assert facts.problem.startswith("not a readable gzip data") and message in facts.problem
