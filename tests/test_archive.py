"""Archives and layouts as sources: every layout and compression, choosing an image, every
broken archive refused in one line, no extraction, and memory that does not grow with layers.

The archives are built here (tests/archive_builder.py); test_archive_daemons.py reads the ones
docker and podman save.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from inspector.errors import ArchiveChoiceNeeded, ArchiveError, ExitCode, ImageNotFound
from inspector.sources.archive import reader as archive
from inspector.sources.archive.names import normalize_platform, parse_source
from tests.archive_builder import (
    OCI_MANIFEST,
    Image,
    Member,
    blob_path,
    compact,
    docker_archive,
    hex_of,
    make_image,
    make_layer,
    oci_layout,
    sha256,
    tar_bytes,
    tar_of,
    write,
    write_dir,
)
from tests.helpers import EXAMPLE, NO_DAEMON, REPO, run_bare


def read(source: str | Path, platform: str | None = None) -> dict[str, Any]:
    """The inspect object imginspect builds from the archive."""
    image = archive.read_image(parse_source(str(source)), platform)
    assert image.inspect is not None
    value = json.loads(image.inspect)
    assert isinstance(value, dict)
    return value


# -- every layout reads the same --------------------------------------------------------------


def _docker(image: Image, tmp: Path) -> str:
    return str(write(tmp / "docker.tar", tar_of(docker_archive([image]))))


def _docker25(image: Image, tmp: Path) -> str:
    return str(write(tmp / "docker25.tar", tar_of(oci_layout([image], with_docker_manifest=True))))


def _oci_archive(image: Image, tmp: Path) -> str:
    return str(write(tmp / "oci.tar", tar_of(oci_layout([image]))))


def _oci_dir(image: Image, tmp: Path) -> str:
    return str(write_dir(oci_layout([image]), tmp / "layout"))


def _unpacked_docker_save(image: Image, tmp: Path) -> str:
    return str(write_dir(docker_archive([image]), tmp / "unpacked"))


def _compressed(how: str) -> Callable[[Image, Path], str]:
    def make(image: Image, tmp: Path) -> str:
        return str(write(tmp / f"a.tar.{how}", tar_of(docker_archive([image]), compress=how)))

    return make


def _prefixed(prefix: str, make: Callable[[Image, Path], str]) -> Callable[[Image, Path], str]:
    return lambda image, tmp: f"{prefix}:{make(image, tmp)}"


LAYOUTS = {
    "docker-archive": _docker,
    "docker-25": _docker25,
    "oci-archive": _oci_archive,
    "oci-dir": _oci_dir,
    "unpacked-docker-save": _unpacked_docker_save,
    "gzip": _compressed("gzip"),
    "bzip2": _compressed("bzip2"),
    "xz": _compressed("xz"),
    "docker-archive:": _prefixed("docker-archive", _docker),
    "oci-archive:": _prefixed("oci-archive", _oci_archive),
    "oci:": _prefixed("oci", _oci_dir),
}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_every_layout_gives_the_same_inspect_object(
    layout: Callable[[Image, Path], str], tmp_path: Path
) -> None:
    image = make_image([{"bin/app": b"x" * 1000}, {"etc/app.conf": b"mode=1\n"}])
    got = read(layout(image, tmp_path))
    assert got == {
        "Id": image.id,
        "RepoTags": ["example/app:1"],
        "Comment": "",
        "Created": "2023-11-14T22:13:20Z",
        "Author": "",
        "Config": image.config["config"],
        "Architecture": "amd64",
        "Os": "linux",
        # docker's Size: the sum of the sizes in the layers' tar headers.
        "Size": 1007,
        "RootFS": {"Type": "layers", "Layers": image.config["rootfs"]["diff_ids"]},
    }


# Each layout, and the kind of file the view names as its source.
ORIGINS = {
    "docker-archive": (_docker, "docker-archive"),
    "docker-25": (_docker25, "oci-archive"),  # manifest.json and index.json: the index is read
    "docker-25 as docker-archive:": (_prefixed("docker-archive", _docker25), "docker-archive"),
    "oci-archive": (_oci_archive, "oci-archive"),
    "oci-dir": (_oci_dir, "OCI layout"),
    "oci:": (_prefixed("oci", _oci_dir), "OCI layout"),
    "unpacked-docker-save": (_unpacked_docker_save, "docker save directory"),
    "gzip": (_compressed("gzip"), "docker-archive"),
}


@pytest.mark.parametrize(("layout", "kind"), ORIGINS.values(), ids=ORIGINS.keys())
def test_the_record_says_what_was_asked_and_the_kind_and_path_of_the_file(
    layout: Callable[[Image, Path], str], kind: str, tmp_path: Path
) -> None:
    image = make_image([{"a": b"a" * 3000}, {"b": b"b"}])
    asked = layout(image, tmp_path)
    name = parse_source(asked)
    got = archive.read_image(name)
    assert (got.asked, got.error, got.history_error) == (asked, None, None)
    assert got.inspect is not None
    assert got.origin is not None
    assert (got.origin.kind, got.origin.path) == (kind, name.path)
    assert got.origin.description == f"{kind} {name.path}"
    assert got.origin.stored_size == sum(len(layer) for layer in image.layers)


def test_the_history_is_read_only_when_asked(tmp_path: Path) -> None:
    source = str(write(tmp_path / "a.tar", tar_of(docker_archive([make_image()]))))
    with_history = archive.read_image(parse_source(source))
    without = archive.read_image(parse_source(source), with_history=False)
    assert with_history.history is not None and without.history is None
    assert without == with_history._replace(history=None)


def test_gzipped_layers_are_checked_and_sized_unpacked(tmp_path: Path) -> None:
    image = make_image([{"a": b"a" * 5000}], gzipped=True)
    source = write(tmp_path / "oci.tar", tar_of(oci_layout([image])))
    got = archive.read_image(parse_source(str(source)))
    assert got.inspect is not None and got.origin is not None
    assert json.loads(got.inspect)["Size"] == 5000
    assert got.origin.stored_size == len(image.layers[0]) < 5000


def test_a_zstd_layer_is_checked_by_digest_but_has_no_size(tmp_path: Path) -> None:
    image = make_image()
    zstd_blob = b"\x28\xb5\x2f\xfd" + b"compressed bytes"  # Python 3.11 cannot unpack zstd
    image.layers = [zstd_blob]
    source = write(tmp_path / "oci.tar", tar_of(oci_layout([image])))
    assert "Size" not in read(source)
    view = run_bare(str(source), env={"COLUMNS": "100"})
    assert "Size            unknown (a layer could not be unpacked)" in view.stdout.decode()


def test_history_is_shaped_like_the_daemons_newest_first_with_layer_sizes_and_empty_layer(
    tmp_path: Path,
) -> None:
    history: list[dict[str, Any]] = [
        {"created": "2023-11-14T22:13:20Z", "created_by": "COPY a /"},
        {"created": "2023-11-14T22:13:21Z", "created_by": "ENV X=1", "empty_layer": True},
        {"created": "2023-11-14T22:13:22Z", "created_by": "RUN b", "comment": "made b"},
    ]
    image = make_image([{"a": b"aa"}, {"b": b"bbb"}], history=history)
    source = write(tmp_path / "a.tar", tar_of(docker_archive([image])))
    got = archive.read_image(parse_source(str(source)))
    assert got.inspect is not None and got.history is not None
    assert json.loads(got.history) == [
        {
            "Comment": "made b",
            "Created": 1700000002,
            "CreatedBy": "RUN b",
            "Id": image.id,
            "Size": 3,
            "Tags": ["example/app:1"],
            "empty_layer": False,
        },
        {
            "Comment": "",
            "Created": 1700000001,
            "CreatedBy": "ENV X=1",
            "Id": "<missing>",
            "Size": 0,
            "Tags": None,
            "empty_layer": True,
        },
        {
            "Comment": "",
            "Created": 1700000000,
            "CreatedBy": "COPY a /",
            "Id": "<missing>",
            "Size": 2,
            "Tags": None,
            "empty_layer": False,
        },
    ]
    # docker shows the last step's comment when the image has none of its own.
    assert json.loads(got.inspect)["Comment"] == "made b"


def test_json_escapes_strings_as_go_does(tmp_path: Path) -> None:
    config = {"Labels": {"x": "<b> & \u2028 é \x1b"}}
    source = write(tmp_path / "a.tar", tar_of(docker_archive([make_image(config=config)])))
    result = run_bare("--json", str(source))
    assert result.code == 0, result.stderr
    assert b'"x": "\\u003cb\\u003e \\u0026 \\u2028 \xc3\xa9 \\u001b"' in result.stdout


def test_all_three_outputs_and_quiet_work_on_an_archive(tmp_path: Path) -> None:
    source = str(write(tmp_path / "a.tar", tar_of(docker_archive([make_image()]))))
    as_json = run_bare("--json", source)
    assert as_json.code == 0, as_json.stderr
    assert as_json.json[0]["RepoTags"] == ["example/app:1"]
    formatted = run_bare("-f", "{{.Os}}/{{.Architecture}} {{json .Config.Cmd}} {{.Size}}", source)
    assert formatted.stdout == b'linux/amd64 ["/bin/app","--serve"] 6\n'
    # Wide enough that the path (pytest's, of any length) is never wrapped.
    view = run_bare(source, env={"COLUMNS": "400"})
    assert view.code == 0, view.stderr
    text = view.stdout.decode()
    assert f"Source          docker-archive {source}" in text
    assert "6 B unpacked, as docker counts" in text
    assert "of layers, as stored" in text
    assert "COPY layer0 /" in text
    quiet = run_bare("-q", source)
    assert (quiet.code, quiet.stdout, quiet.stderr) == (0, b"", "")


def test_archives_and_daemon_images_mix_in_the_order_given(tmp_path: Path) -> None:
    source = str(write(tmp_path / "a.tar", tar_of(docker_archive([make_image()]))))
    result = run_bare("-f", "{{.Id}}", source, "some-image:1", source)
    # The daemon is unreachable (3); the archive is still read, before and after it.
    assert result.code == ExitCode.DAEMON
    assert result.stdout.decode().splitlines() == [make_image().id] * 2


# -- which image ------------------------------------------------------------------------------


def _two_images(tmp_path: Path) -> tuple[Path, Image, Image]:
    first = make_image([{"a": b"1"}], tags=["example/one:1"])
    second = make_image([{"b": b"22"}], tags=["example/two:2", "example/two:latest"])
    return write(tmp_path / "two.tar", tar_of(docker_archive([first, second]))), first, second


def test_several_images_and_no_choice_lists_them_and_exits_2(tmp_path: Path) -> None:
    path, first, second = _two_images(tmp_path)
    result = run_bare(str(path))
    assert result.code == ExitCode.USAGE
    assert result.stdout == b""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"Error: {path} holds 2 images; choose one with docker-archive:{path}:NAME, "
        f"docker-archive:{path}:@N or --platform:"
    )
    assert lines[1:] == [
        f"  @0  example/one:1  linux/amd64  {hex_of(first.config_bytes)[:12]}",
        f"  @1  example/two:2, example/two:latest  linux/amd64  {hex_of(second.config_bytes)[:12]}",
    ]


@pytest.mark.parametrize(
    ("selector", "which"),
    [
        ("example/two:2", 1),
        ("example/two", 1),  # :latest, as docker reads a name without a tag
        ("docker.io/example/one:1", 0),
        ("@0", 0),
        ("@1", 1),
    ],
)
def test_a_name_or_position_in_the_archive_chooses_the_image(
    tmp_path: Path, selector: str, which: int
) -> None:
    path, *images = _two_images(tmp_path)
    assert read(f"docker-archive:{path}:{selector}")["Id"] == images[which].id


def test_a_name_the_archive_does_not_hold_is_not_found_and_exits_1(tmp_path: Path) -> None:
    path, _, _ = _two_images(tmp_path)
    with pytest.raises(ImageNotFound, match="no image matches example/three:1; it holds: @0"):
        read(f"docker-archive:{path}:example/three:1")
    result = run_bare(f"docker-archive:{path}:example/three:1")
    assert result.code == ExitCode.NOT_FOUND
    assert result.stderr.count("\n") == 1


def _platforms(tmp_path: Path, *, missing: str | None = None) -> tuple[Path, dict[str, Image]]:
    images = {
        "linux/amd64": make_image([{"a": b"amd64"}], architecture="amd64"),
        "linux/arm64": make_image([{"a": b"arm64!"}], architecture="arm64", variant="v8"),
        "linux/arm/v7": make_image([{"a": b"arm"}], architecture="arm", variant="v7"),
    }
    files = oci_layout(list(images.values()), with_docker_manifest=False, as_one_index=True)
    if missing is not None:  # as a multi-platform save leaves out other platforms' blobs
        image = images[missing]
        for name in [n for n, data in files.items() if data == image.config_bytes]:
            del files[name]
        manifest_names = [
            name
            for name, data in files.items()
            if name.startswith("blobs/") and image.id.encode() in data and b'"layers"' in data
        ]
        for name in manifest_names:
            del files[name]
    return write(tmp_path / "multi.tar", tar_of(files)), images


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/arm64", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/v7", "linux/arm/v7"),
    ],
)
def test_platform_chooses_in_a_multi_platform_index(
    tmp_path: Path, platform: str, expected: str
) -> None:
    path, images = _platforms(tmp_path)
    got = read(path, normalize_platform(platform))
    assert got["Id"] == images[expected].id


def test_a_multi_platform_index_without_platform_lists_and_exits_2(tmp_path: Path) -> None:
    path, _ = _platforms(tmp_path)
    with pytest.raises(ArchiveChoiceNeeded) as raised:
        read(path)
    assert [line.split("  ")[2] for line in raised.value.choices] == [
        "linux/amd64",
        "linux/arm64",
        "linux/arm/v7",
    ]
    result = run_bare("--platform", "linux/s390x", str(path))
    assert result.code == ExitCode.NOT_FOUND
    assert "no image matches linux/s390x" in result.stderr


def test_platforms_whose_blobs_were_left_out_are_listed_but_not_chosen(tmp_path: Path) -> None:
    path, images = _platforms(tmp_path, missing="linux/arm64")
    with pytest.raises(ArchiveChoiceNeeded) as raised:
        read(path)
    assert "(blobs not in the archive)" in raised.value.choices[1]
    with pytest.raises(ArchiveError, match="is listed, but its blobs are not in the archive"):
        read(path, "linux/arm64")
    assert read(path, "linux/amd64")["Id"] == images["linux/amd64"].id


def test_platform_is_checked_before_anything_is_read() -> None:
    result = run_bare("--platform", "linux", "x.tar")
    assert result.code == ExitCode.USAGE
    assert "invalid platform 'linux'" in result.stderr


def test_an_image_listed_once_for_each_tag_is_one_image_with_every_tag(tmp_path: Path) -> None:
    # docker 25's save of app:1 and app:latest: two descriptors of the same manifest.
    image = make_image(tags=["example/app:1"])
    files = oci_layout([image], with_docker_manifest=True)
    index = json.loads(files["index.json"])
    again = json.loads(json.dumps(index["manifests"][0]))
    again["annotations"] = {
        "io.containerd.image.name": "docker.io/example/app:latest",
        "org.opencontainers.image.ref.name": "latest",
    }
    index["manifests"].append(again)
    files["index.json"] = compact(index)
    path = write(tmp_path / "tags.tar", tar_of(files))
    assert read(path)["RepoTags"] == ["example/app:1", "example/app:latest"]
    assert read(f"oci-archive:{path}:latest")["Id"] == image.id


# -- what names a file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("./missing.tar", "'./missing.tar': No such file or directory"),
        ("/nonexistent/x.tar", "'/nonexistent/x.tar': No such file or directory"),
        ("oci-archive:missing.tar", "No such file or directory"),
        ("docker-archive:", "the path after docker-archive: is empty"),
        ("./tests", "is a directory without index.json or manifest.json"),
        ("oci:examples/hello.tar", "an oci: layout is a directory"),
        ("oci-archive:tests", "a oci-archive is a file, not a directory"),
    ],
)
def test_a_path_that_cannot_be_an_archive_exits_2_before_anything_is_read(
    argument: str, message: str
) -> None:
    result = run_bare(argument)
    assert result.code == ExitCode.USAGE
    assert result.stdout == b""
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_image_names_still_go_to_the_daemon_even_beside_a_directory_of_that_name(
    tmp_path: Path,
) -> None:
    (tmp_path / "nginx").mkdir()  # a project directory named after its image
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "app").mkdir()
    for name in ("nginx", "team/app:1.0", "registry.example.com:5000/team/app"):
        result = run_bare(name, cwd=tmp_path)
        assert result.code == ExitCode.DAEMON, (name, result.stderr)
        assert "does not exist" in result.stderr


def test_an_existing_file_is_read_as_an_archive_even_without_a_slash(tmp_path: Path) -> None:
    write(tmp_path / "app.tar", tar_of(docker_archive([make_image()])))
    assert run_bare("-f", "{{.RepoTags}}", "app.tar", cwd=tmp_path).stdout == b"[example/app:1]\n"


# -- broken archives ----------------------------------------------------------------------------


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
    "zstd": (lambda tmp: b"\x28\xb5\x2f\xfd" + b"\0" * 600, "zstd-compressed archives"),
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
    "absolute path": (
        lambda tmp: tar_of(_good(tmp), extra=[("/tmp/imginspect-escape", b"x")]),
        "refusing the member '/tmp/imginspect-escape'",
    ),
    "traversal inside": (
        lambda tmp: tar_of(_good(tmp), extra=[("blobs/../../x", b"x")]),
        "its name leaves the archive",
    ),
    "symlink out": (
        lambda tmp: tar_of(_good(tmp), extra=[Member("link", "symlink", "../../etc/passwd")]),
        "points outside the archive",
    ),
    "absolute symlink": (
        lambda tmp: tar_of(_good(tmp), extra=[Member("link", "symlink", "/etc/passwd")]),
        "points outside the archive",
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
}


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


# -- memory ---------------------------------------------------------------------------------

LARGE = 200 * 1024 * 1024
# The interpreter, click and the archive reader take about 25 MB; streaming adds a few MB.
MAX_EXTRA_RSS_KB = 32 * 1024


def _sparse_archive(path: Path) -> str:
    """A docker-archive with one 200 MB layer of zeros, written sparse (no disk, no time)."""
    header = tarfile.TarInfo("big.bin")
    header.size = LARGE
    header.mtime = 0
    inner_header = header.tobuf(format=tarfile.USTAR_FORMAT)
    inner_tail = b"\0" * (1024 + (-LARGE % 512))
    layer_size = len(inner_header) + LARGE + len(inner_tail)
    digest = hashlib.sha256(inner_header)
    zeros = b"\0" * (1024 * 1024)
    for _ in range(LARGE // len(zeros)):
        digest.update(zeros)
    digest.update(inner_tail)
    diff_id = "sha256:" + digest.hexdigest()
    config = compact(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "big"}],
        }
    )
    manifest = compact(
        [{"Config": f"{hex_of(config)}.json", "RepoTags": ["big:1"], "Layers": ["l/layer.tar"]}]
    )
    outer = tarfile.TarInfo("l/layer.tar")
    outer.size = layer_size
    with path.open("wb") as out:
        out.write(outer.tobuf(format=tarfile.USTAR_FORMAT))
        out.write(inner_header)
        out.seek(LARGE, os.SEEK_CUR)  # a hole: reads as zeros
        out.write(inner_tail)
        out.write(b"\0" * (-layer_size % 512))
        out.write(tar_bytes([(f"{hex_of(config)}.json", config), ("manifest.json", manifest)]))
    return diff_id


@pytest.mark.parametrize("compress", [None, "gzip"])
def test_memory_stays_small_with_a_200_mb_layer(tmp_path: Path, compress: str | None) -> None:
    path = tmp_path / "big.tar"
    diff_id = _sparse_archive(path)
    if compress == "gzip":
        packed = tmp_path / "big.tar.gz"
        with path.open("rb") as source, gzip.open(packed, "wb", compresslevel=1) as sink:
            while chunk := source.read(1024 * 1024):
                sink.write(chunk)
        path = packed
    stdout, big = _peak_rss("-f", "{{.Size}} {{index .RootFS.Layers 0}}", str(path))
    assert stdout == f"{LARGE} {diff_id}\n"
    # The same run on the tiny sample: what the interpreter and the code cost whatever the
    # layers are (it varies with the machine); the 200 MB layer may add only a little to it.
    _, small = _peak_rss("-f", "{{.Size}}", str(EXAMPLE))
    assert big - small < MAX_EXTRA_RSS_KB, f"peak memory {big} kB, against {small} kB"


def _peak_rss(*args: str) -> tuple[str, int]:
    """imginspect's output for args, and its peak resident memory in kB."""
    script = (
        "import resource, sys\n"
        "from inspector.cli import main as cli\n"
        "code = cli.run(sys.argv[1:])\n"
        "print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**NO_DAEMON, "PYTHONPATH": str(REPO)},
    )
    code, max_rss_kb = map(int, completed.stderr.split()[-2:])
    assert code == 0, completed.stderr
    return completed.stdout, max_rss_kb


# -- the sample archive -----------------------------------------------------------------------


def test_the_sample_archive_is_what_its_script_makes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "make_hello.py"), "--output", str(tmp_path / "h")],
        check=True,
        timeout=60,
    )
    assert (tmp_path / "h").read_bytes() == EXAMPLE.read_bytes()


def test_the_readme_starts_with_the_sample_archive_and_it_works_without_a_daemon() -> None:
    readme = (REPO / "README.md").read_text()
    first_command = readme.split("```sh\n", 1)[1].split("\n", 1)[0]
    assert first_command.endswith("&& .venv/bin/imginspect examples/hello.tar")
    result = run_bare("examples/hello.tar", env={"COLUMNS": "80"})
    assert result.code == 0, result.stderr
    assert result.stdout.decode().startswith("examples/hello.tar ───")
    assert "imginspect-hello:1" in result.stdout.decode()
