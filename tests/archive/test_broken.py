"""Broken archives: each refused in one line with exit 2, nothing extracted, the other
arguments still read; a blob whose size lies, a layout whose blobs lead outside it; and links
inside an archive, which are followed (tests/archive/test_docker_load.py has the links docker
load follows and refuses)."""

from __future__ import annotations

import gzip
import json
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
import zstandard

from inspector.errors import ArchiveError, ExitCode
from tests.archive_builder import (
    OCI_MANIFEST,
    Member,
    blob_path,
    compact,
    docker_archive,
    hex_of,
    make_image,
    make_layer,
    oci_layout,
    sha256,
    tar_of,
    write,
    write_dir,
)
from tests.helpers import read, run_bare


def _good(tmp_path: Path) -> Mapping[str, bytes]:
    del tmp_path
    return docker_archive([make_image([{"a": b"a" * 100}, {"b": b"b"}])])


def _oci(tmp_path: Path) -> dict[str, bytes]:
    del tmp_path
    return oci_layout([make_image([{"a": b"a" * 100}])])


def _corrupt(
    files: Mapping[str, bytes], match: Callable[[str], bool], data: bytes
) -> dict[str, bytes]:
    return {name: (data if match(name) else content) for name, content in files.items()}


def _without(files: Mapping[str, bytes], match: Callable[[str], bool]) -> dict[str, bytes]:
    return {name: content for name, content in files.items() if not match(name)}


def _is_config(name: str) -> bool:
    return name.endswith(".json") and name != "manifest.json"


def _is_manifest(files: Mapping[str, bytes], name: str) -> bool:
    if not name.startswith("blobs/"):
        return False
    try:
        return bool(json.loads(files[name]).get("mediaType") == OCI_MANIFEST)
    except ValueError:
        return False


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2 + 100]


def _gzip_with(data: bytes, *, crc: bool = True, size: bool = True) -> bytes:
    packed = bytearray(gzip.compress(data, mtime=0))
    if not crc:
        packed[-8] ^= 0xFF
    if not size:
        packed[-1] ^= 0x01
    return bytes(packed)


# Each case: what to write (a function of the temporary directory), the exit status, and
# what the one line says.
BROKEN: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "empty file": (lambda tmp: b"", "the file is empty"),
    "not a tar": (lambda tmp: b"hello, I am a text file\n" * 100, "not a tar archive"),
    "gzip of a text": (lambda tmp: gzip.compress(b"text " * 999), "a gzip file, but not of a tar"),
    "truncated": (lambda tmp: _truncated(tar_of(_good(tmp))), "the archive is truncated"),
    "truncated at a block": (
        lambda tmp: tar_of(_good(tmp))[:3072],
        "truncated",
    ),
    "truncated gzip": (
        lambda tmp: _truncated(tar_of(_good(tmp), compress="gzip")),
        "the compressed data is truncated",
    ),
    "gzip with a wrong CRC": (
        lambda tmp: _gzip_with(tar_of(_good(tmp)), crc=False),
        "the compressed data is corrupt",
    ),
    "gzip with a wrong length": (
        lambda tmp: _gzip_with(tar_of(_good(tmp)), size=False),
        "the compressed data is corrupt",
    ),
    "zstd of a text": (
        lambda tmp: zstandard.ZstdCompressor().compress(b"text " * 999),
        "a zstd file, but not of a tar",
    ),
    "zstd frames that never end": (
        lambda tmp: b"\x28\xb5\x2f\xfd" + b"\0" * 600,
        "the compressed data is truncated",
    ),
    "truncated zstd": (
        lambda tmp: _truncated(zstandard.ZstdCompressor().compress(tar_of(_good(tmp)))),
        "the compressed data is truncated",
    ),
    "corrupt zstd": (
        lambda tmp: (
            zstandard.ZstdCompressor(write_checksum=True).compress(tar_of(_good(tmp)))[:-4]
            + b"\0\0\0\0"
        ),
        "the compressed data is corrupt",
    ),
    "no manifest": (
        lambda tmp: tar_of({"hello.txt": b"hi"}),
        "neither manifest.json nor index.json",
    ),
    "manifest not JSON": (
        lambda tmp: tar_of({"manifest.json": b"[{"}),
        "manifest.json is not valid JSON",
    ),
    "manifest not a list": (
        lambda tmp: tar_of({"manifest.json": b"{}"}),
        "manifest.json is not a list",
    ),
    "no images": (lambda tmp: tar_of({"manifest.json": b"[]"}), "the archive holds no images"),
    "missing config": (
        lambda tmp: tar_of(_without(_good(tmp), _is_config)),
        "is missing from the archive",
    ),
    "missing layer": (
        lambda tmp: tar_of(_without(_good(tmp), lambda n: n.endswith("layer.tar"))),
        "is missing from the archive",
    ),
    "config digest mismatch": (
        lambda tmp: tar_of(_corrupt(_good(tmp), _is_config, compact({"os": "linux"}))),
        "does not match its digest",
    ),
    "layer diff-ID mismatch": (
        lambda tmp: tar_of(
            _corrupt(_good(tmp), lambda n: n.endswith("layer.tar"), make_layer({"x": b"evil"}))
        ),
        "does not match the config's diff-ID",
    ),
    "layer not a tar": (
        lambda tmp: tar_of(
            _corrupt(_good(tmp), lambda n: n.endswith("layer.tar"), b"not a tar\n" * 64)
        ),
        "not a readable tar",
    ),
    "OCI layer digest mismatch": (
        lambda tmp: tar_of(
            _corrupt(
                _oci(tmp),
                lambda n: n == blob_path(make_layer({"a": b"a" * 100})),
                make_layer({"a": b"b" * 100}),
            )
        ),
        "does not match its digest",
    ),
    "OCI manifest digest mismatch": (
        lambda tmp: tar_of(
            _corrupt(_oci(tmp), lambda n: _is_manifest(_oci(tmp), n), b'{"layers": []}')
        ),
        "does not match its digest",
    ),
    "OCI descriptor with a bad digest": (
        lambda tmp: tar_of(
            {"index.json": compact({"manifests": [{"digest": "sha256:../../etc/passwd"}]})}
        ),
        "a bad digest",
    ),
    "OCI index without manifests": (
        lambda tmp: tar_of({"index.json": b"{}"}),
        "index.json has no list of manifests",
    ),
    "path traversal": (
        lambda tmp: tar_of(_good(tmp), extra=[("../escape.txt", b"x")]),
        "refusing the member '../escape.txt': its name leaves the archive",
    ),
    "hard link out": (
        lambda tmp: tar_of(_good(tmp), extra=[("a", b"x"), Member("h", "hardlink", "../a")]),
        "refusing the hard link 'h' -> '../a': it leads out of the archive",
    ),
    "hard link to nothing": (
        lambda tmp: tar_of(_good(tmp), extra=[Member("h", "hardlink", "nothere")]),
        "the hard link 'h' names 'nothere', which no member before it is",
    ),
    "traversal inside": (
        lambda tmp: tar_of(_good(tmp), extra=[("blobs/../../x", b"x")]),
        "its name leaves the archive",
    ),
    "manifest.json a link to itself": (
        lambda tmp: tar_of(
            _without(_good(tmp), lambda n: n == "manifest.json"),
            extra=[Member("manifest.json", "symlink", "./manifest.json")],
        ),
        "manifest.json leads into a symlink loop",
    ),
    "config not an object": (
        lambda tmp: tar_of(
            {
                "manifest.json": compact(
                    [{"Config": f"{hex_of(b'[1]')}.json", "RepoTags": [], "Layers": []}]
                ),
                f"{hex_of(b'[1]')}.json": b"[1]",
            }
        ),
        "is not a JSON object",
    ),
    # Extended headers are held in memory until their member: many small ones count as one.
    "local extended headers too big together": (
        lambda tmp: _extended(b"x", 3) + tar_of(_good(tmp)),
        "an extended tar header of 1228800 bytes",
    ),
    # Global ones hold for the rest of the tar: they count together across members.
    "global extended headers too big together": (
        lambda tmp: (
            _extended(b"g", 2) + _member("a", b"a") + _extended(b"g", 1) + tar_of(_good(tmp))
        ),
        "an extended tar header of 1228800 bytes",
    ),
}


def _extended(kind: bytes, count: int) -> bytes:
    """count PAX headers of that kind (x: for the next member, g: global), 400 KiB each."""
    size = 400 * 1024
    record = f"{size} comment=".encode() + b"c" * (size - 16) + b"\n"  # its length counts itself
    assert len(record) == size
    info = tarfile.TarInfo("././@PaxHeader")
    info.type, info.size = kind, size
    return (info.tobuf(tarfile.USTAR_FORMAT) + record) * count


def _member(name: str, data: bytes) -> bytes:
    """A file's header and data, padded to whole blocks."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info.tobuf(tarfile.USTAR_FORMAT) + data + b"\0" * (-len(data) % 512)


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_archive_is_one_line_and_exit_2_and_nothing_is_extracted(
    tmp_path: Path, case: tuple[Callable[[Path], bytes], str]
) -> None:
    make, message = case
    source = write(tmp_path / "broken.tar", make(tmp_path))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    result = run_bare(str(source), cwd=workdir)
    assert result.code == ExitCode.USAGE, result.stderr
    assert result.stdout == b""
    assert result.stderr.startswith(f"Error: {source}")
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert list(workdir.iterdir()) == []
    assert not Path("/tmp/imginspect-escape").exists()


def test_a_broken_archive_does_not_stop_the_others(tmp_path: Path) -> None:
    good = write(tmp_path / "good.tar", tar_of(docker_archive([make_image()])))
    bad = write(tmp_path / "bad.tar", b"nope" * 200)
    result = run_bare("-f", "{{.Id}}", str(bad), str(good))
    assert result.code == ExitCode.USAGE
    assert result.stdout == f"{make_image().id}\n".encode()


def test_a_layer_blob_whose_size_lies_is_refused(tmp_path: Path) -> None:
    files = oci_layout([make_image()])
    manifest_name = next(name for name in files if _is_manifest(files, name))
    manifest = json.loads(files[manifest_name])
    manifest["layers"][0]["size"] += 1
    files[manifest_name] = compact(manifest)
    index = json.loads(files["index.json"])
    index["manifests"][0] |= {
        "digest": sha256(files[manifest_name]),
        "size": len(files[manifest_name]),
    }
    changed = files.pop(manifest_name)
    files[blob_path(changed)] = changed
    files["index.json"] = compact(index)
    with pytest.raises(ArchiveError, match="not the 10241 its descriptor says"):
        read(write(tmp_path / "a.tar", tar_of(files)))


def test_a_directory_layout_refuses_blobs_that_lead_outside_it(tmp_path: Path) -> None:
    layout = write_dir(oci_layout([make_image()]), tmp_path / "layout")
    outside = tmp_path / "secret"
    outside.write_bytes(b"secret")
    config = layout / blob_path(make_image().config_bytes)
    config.unlink()
    config.symlink_to(outside)
    with pytest.raises(ArchiveError, match="it leads outside the directory"):
        read(layout)


def test_links_inside_the_archive_are_followed(tmp_path: Path) -> None:
    # podman's docker-archive: <id>/layer.tar -> ../<diff-id>.tar
    image = make_image()
    files = docker_archive([image])
    layer_name = next(name for name in files if name.endswith("layer.tar"))
    layer = files.pop(layer_name)
    files[f"{hex_of(layer)}.tar"] = layer
    link = Member(layer_name, "symlink", f"../{hex_of(layer)}.tar")
    source = write(tmp_path / "a.tar", tar_of(files, extra=[link]))
    assert read(source)["Id"] == image.id
