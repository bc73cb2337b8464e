"""Which image an argument names: a name or a position inside an archive, a platform in a
multi-platform index, an image listed once for each tag; and which arguments name a file at
all, or still go to the daemon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.errors import ArchiveChoiceNeeded, ArchiveError, ExitCode, ImageNotFound
from inspector.reference import parse_platform
from inspector.sources.archive.names import platform_text
from tests.archive_builder import (
    Image,
    compact,
    docker_archive,
    hex_of,
    make_image,
    oci_layout,
    tar_of,
    write,
)
from tests.helpers import read, run_bare

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
    # As the archive source takes --platform: parsed as docker parses it, in the archive's names.
    wanted = parse_platform(platform)
    got = read(path, platform_text(wanted.os, wanted.architecture, wanted.variant))
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
        assert result.code == ExitCode.SOURCE, (name, result.stderr)
        assert "does not exist" in result.stderr


def test_an_existing_file_is_read_as_an_archive_even_without_a_slash(tmp_path: Path) -> None:
    write(tmp_path / "app.tar", tar_of(docker_archive([make_image()])))
    assert run_bare("-f", "{{.RepoTags}}", "app.tar", cwd=tmp_path).stdout == b"[example/app:1]\n"
