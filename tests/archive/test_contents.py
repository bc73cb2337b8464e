"""An archive's contents: the chosen image's layers, bottom first, each with its diff-ID and
the entries GNU `tar -tv` lists, whatever the layout and compression (a real `docker save`,
and skopeo's OCI copies of it, gzip and zstd); and a layer no daemon would unpack, refused in
one line with exit 2 when the image asked for has it, and only then."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from inspector.errors import ArchiveError, ExitCode
from inspector.sources.archive import reader as archive
from inspector.sources.archive.names import parse_source
from inspector.sources.archive.source import ArchiveSource
from inspector.sources.interface import Request
from tests.archive_builder import (
    Image,
    docker_archive,
    make_image,
    oci_layout,
    sha256,
    tar_bytes,
    tar_of,
    write,
    write_dir,
)
from tests.daemon_fixture import DockerDaemon, skip_or_fail
from tests.tar_listing import assert_contents_match, saved_layers


@pytest.fixture(scope="module")
def saved_full(docker_daemon: DockerDaemon, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("saved") / "full.tar"
    docker_daemon.docker("save", "-o", str(path), docker_daemon.images.full_tags[0])
    return path


def skopeo_copy(source: str, destination: str, *options: str) -> None:
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        skip_or_fail("skopeo is needed for the OCI copies of a docker save (Debian skopeo)")
    subprocess.run(
        [skopeo, "--insecure-policy", "copy", "--quiet", *options, source, destination],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=300,
        check=True,
    )


def test_a_docker_saves_contents_are_its_layers(saved_full: Path, tmp_path: Path) -> None:
    image = archive.read_image(parse_source(str(saved_full)), contents=True)
    assert_contents_match(image.contents, saved_layers(saved_full), tmp_path)
    # docker 20.10's save names its layers <id>/layer.tar: by no digest.
    assert all(layer.digest is None for layer in image.contents or ())


@pytest.mark.parametrize(
    ("form", "options"),
    [
        ("oci", ()),
        ("oci", ("--dest-compress-format", "zstd")),
        ("oci-archive", ("--dest-compress-format", "gzip")),
        ("oci-archive", ("--dest-compress-format", "zstd")),
    ],
    ids=["oci-gzip", "oci-zstd", "oci-archive-gzip", "oci-archive-zstd"],
)
def test_skopeos_oci_copies_have_the_saves_contents(
    saved_full: Path, tmp_path: Path, form: str, options: tuple[str, ...]
) -> None:
    copy = tmp_path / ("layout" if form == "oci" else "copy.tar")
    skopeo_copy(f"docker-archive:{saved_full}", f"{form}:{copy}:lab", *options)
    image = archive.read_image(parse_source(f"{form}:{copy}"), contents=True)
    assert_contents_match(image.contents, saved_layers(saved_full), tmp_path)
    assert all(layer.digest is not None for layer in image.contents or ())
    assert [layer.digest for layer in image.contents or ()] != [
        layer.diff_id for layer in image.contents or ()
    ]


def test_the_archive_source_gives_contents_only_when_asked(saved_full: Path) -> None:
    name = parse_source(str(saved_full))
    for asked in (False, True):
        [image] = ArchiveSource(Request(contents=asked)).images(iter([name]))
        assert image.error is None
        assert (image.contents is not None) == asked


def test_a_multi_platform_layout_gives_the_chosen_platforms_layers(tmp_path: Path) -> None:
    amd = make_image([{"amd.txt": b"amd64\n"}], architecture="amd64")
    arm = make_image([{"arm.txt": b"arm64\n"}, {"more.txt": b"!"}], architecture="arm64")
    path = write(tmp_path / "multi.tar", tar_of(oci_layout([amd, arm], as_one_index=True)))
    image = archive.read_image(parse_source(str(path)), "linux/arm64", contents=True)
    assert image.contents is not None
    assert [[entry.path for entry in layer.entries] for layer in image.contents] == [
        ["arm.txt"],
        ["more.txt"],
    ]
    assert [layer.diff_id for layer in image.contents] == arm.config["rootfs"]["diff_ids"]
    assert [layer.size for layer in image.contents] == [len(b"arm64\n"), 1]


# -- a layer no daemon would unpack ----------------------------------------------------------

ESCAPING = tar_bytes([("../escaped.txt", b"out of the root\n")])


def hostile(**tags: str) -> Image:
    image = make_image([{"fine.txt": b"fine\n"}], tags=list(tags.values()) or ["lab/bad:1"])
    image.layers.append(ESCAPING)
    image.config["rootfs"]["diff_ids"].append(sha256(ESCAPING))
    image.config["history"].append({"created": "2023-11-14T22:13:20Z", "created_by": "COPY"})
    return image


WRITERS: dict[str, Callable[[list[Image], Path], str]] = {
    "docker-archive": lambda images, tmp: str(write(tmp / "a.tar", tar_of(docker_archive(images)))),
    "oci-archive": lambda images, tmp: str(write(tmp / "o.tar", tar_of(oci_layout(images)))),
    "oci-dir": lambda images, tmp: str(write_dir(oci_layout(images), tmp / "layout")),
}


@pytest.mark.parametrize("form", sorted(WRITERS))
def test_a_layer_that_escapes_the_root_is_one_line_exit_2_naming_archive_and_layer(
    tmp_path: Path, form: str
) -> None:
    path = WRITERS[form]([hostile()], tmp_path)
    with pytest.raises(ArchiveError) as caught:
        archive.read_image(parse_source(path), contents=True)
    message = str(caught.value)
    assert caught.value.exit_code == ExitCode.USAGE
    assert "\n" not in message
    assert message.startswith(f"{path}: layer 2 (")
    assert "refused" in message
    [image] = ArchiveSource(Request(contents=True)).images(iter([parse_source(path)]))
    assert image.error is not None and str(image.error) == message


@pytest.mark.parametrize("form", sorted(WRITERS))
def test_a_hostile_layer_is_read_as_before_when_contents_are_not_asked(
    tmp_path: Path, form: str
) -> None:
    path = WRITERS[form]([hostile()], tmp_path)
    image = archive.read_image(parse_source(path))
    assert image.inspect is not None and image.contents is None


@pytest.mark.parametrize("form", ["docker-archive", "oci-archive"])
def test_another_images_hostile_layer_does_not_refuse_the_one_asked_for(
    tmp_path: Path, form: str
) -> None:
    good = make_image([{"good.txt": b"good\n"}], tags=["lab/good:1"])
    path = WRITERS[form]([hostile(tag="lab/bad:1"), good], tmp_path)
    image = archive.read_image(parse_source(f"{form}:{path}:@1"), contents=True)
    assert image.contents is not None
    assert [entry.path for entry in image.contents[0].entries] == ["good.txt"]
    with pytest.raises(ArchiveError, match=r"layer 2 .* refused"):
        archive.read_image(parse_source(f"{form}:{path}:@0"), contents=True)


@pytest.mark.parametrize("form", sorted(WRITERS))
def test_the_entries_kept_are_bounded_for_all_the_layers_together(
    tmp_path: Path, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("inspector.sources.archive.stores.MAX_ENTRIES", 5)
    image = make_image([{"a/1": b"1", "a/2": b"2"}, {"b/1": b"1", "b/2": b"2"}])
    path = WRITERS[form]([image], tmp_path)
    with pytest.raises(ArchiveError, match=r"layer 2 \(.*\) is refused: more than") as caught:
        archive.read_image(parse_source(path), contents=True)
    assert "\n" not in str(caught.value)
