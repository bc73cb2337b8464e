"""Every layout and compression reads the same: the inspect object, the record of what was
read from where, layer digests and sizes, the history shaped like the daemon's, the three
outputs; and the sample archive the README starts with."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zstandard

from inspector.errors import ExitCode
from inspector.sources.archive import reader as archive
from inspector.sources.archive.names import parse_source
from tests.archive_builder import (
    Image,
    docker_archive,
    make_image,
    oci_layout,
    tar_of,
    write,
    write_dir,
)
from tests.helpers import EXAMPLE, REPO, read, run_bare


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
    # docker 28.5's answer after `docker load`, at API 1.51, but for what only the daemon
    # knows (RepoDigests, Parent, GraphDriver, Metadata).
    expected: dict[str, Any] = {
        "Id": image.id,
        "RepoTags": ["example/app:1"],
        "Comment": "",
        "Created": "2023-11-14T22:13:20Z",
        "DockerVersion": "",
        "Author": "",
        "Architecture": "amd64",
        "Os": "linux",
        # docker's Size: the sum of the sizes in the layers' tar headers.
        "Size": 1007,
        "RootFS": {"Type": "layers", "Layers": image.config["rootfs"]["diff_ids"]},
        # The image-spec fields, keys sorted, those docker always writes as null or "".
        "Config": {
            "Cmd": ["/bin/app", "--serve"],
            "Entrypoint": None,
            "Env": ["PATH=/usr/bin:/bin", "MODE=test"],
            "ExposedPorts": {"8080/tcp": {}},
            "Labels": {"org.opencontainers.image.title": "Example <app> & co"},
            "OnBuild": None,
            "User": "1000",
            "Volumes": None,
            "WorkingDir": "/srv",
        },
    }
    assert got == expected
    assert list(got) == list(expected) and list(got["Config"]) == list(expected["Config"])


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


def test_a_zstd_layer_is_checked_against_its_diff_id_and_sized(tmp_path: Path) -> None:
    image = make_image([{"a": b"a" * 5000}])
    image.layers = [zstandard.ZstdCompressor().compress(image.layers[0])]
    source = write(tmp_path / "oci.tar", tar_of(oci_layout([image])))
    assert read(source)["Size"] == 5000


def test_a_zstd_layer_that_does_not_decompress_is_refused(tmp_path: Path) -> None:
    image = make_image()
    image.layers = [b"\x28\xb5\x2f\xfd" + b"compressed bytes"]
    source = write(tmp_path / "oci.tar", tar_of(oci_layout([image])))
    result = run_bare(str(source))
    assert result.code == ExitCode.USAGE, result.stderr
    assert "is not a readable zstd data" in result.stderr


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


def test_with_api_1_41_strings_are_written_as_docker_20_10_writes_them(tmp_path: Path) -> None:
    config = {"Labels": {"x": "<b> & \u2028 é \x1b"}}
    source = write(tmp_path / "a.tar", tar_of(docker_archive([make_image(config=config)])))
    result = run_bare("--json", str(source), env={"DOCKER_API_VERSION": "1.41"})
    assert result.code == 0, result.stderr
    assert b'"x": "<b> & \\u2028 \xc3\xa9 \\u001b"' in result.stdout


# Configs `docker load` refuses (docker 28.5 and 20.10 alike), each as an edit of a sound one.
REFUSED_CONFIGS = {
    "a string for a list": lambda config: config["config"].__setitem__("Env", "A=1"),
    "a time Go cannot parse": lambda config: config.__setitem__("created", "yesterday"),
    "more layer steps than layers": lambda config: config.__setitem__(
        "history", [{"created_by": "COPY a /"}, {"created_by": "COPY b /"}]
    ),
    "a number for a string": lambda config: config.__setitem__("author", 5),
}


@pytest.mark.parametrize("version", [None, "1.41"])
@pytest.mark.parametrize("edit", REFUSED_CONFIGS.values(), ids=REFUSED_CONFIGS.keys())
def test_a_config_docker_load_refuses_exits_2_in_one_line_naming_the_archive(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], version: str | None
) -> None:
    image = make_image()
    edit(image.config)
    source = str(write(tmp_path / "a.tar", tar_of(docker_archive([image]))))
    env = {"DOCKER_API_VERSION": version} if version else {}
    # As docker image inspect does for an image it cannot inspect: an empty array for --json,
    # an empty line for -f.
    for args, printed in ((["--json"], b"[]\n"), (["-f", "{{.Id}}"], b"\n"), ([], b"")):
        result = run_bare(*args, source, env=env)
        assert (result.code, result.stdout) == (ExitCode.USAGE, printed), result.stderr
        [line] = result.stderr.splitlines()
        assert line.startswith(f"Error: {source}: docker would refuse the config of {image.id}: ")


@pytest.mark.parametrize("value", ["1", "v1.41", "latest"])
def test_an_invalid_docker_api_version_is_a_usage_error_before_the_archive_is_read(
    tmp_path: Path, value: str
) -> None:
    source = str(write(tmp_path / "a.tar", tar_of(docker_archive([make_image()]))))
    result = run_bare("--json", source, env={"DOCKER_API_VERSION": value})
    assert (result.code, result.stdout) == (ExitCode.USAGE, b"")
    assert result.stderr == (
        f"Error: invalid DOCKER_API_VERSION {value!r}: expected a version like 1.41\n"
    )


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
    assert result.code == ExitCode.SOURCE
    assert result.stdout.decode().splitlines() == [make_image().id] * 2


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


@pytest.mark.parametrize(
    "tar_format", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]
)
def test_long_member_and_link_names_are_read_in_every_tar_format(
    tar_format: int, tmp_path: Path
) -> None:
    # Past 100 bytes a name takes the ustar prefix field, a GNU long-name member or a PAX
    # record, and a link target a GNU long-link member or a PAX record (ustar has none).
    image = make_image([{"a": b"a" * 100}, {"b": b"b" * 7}])
    files = docker_archive([image])
    deep = "/".join(["d" * 60] * 2)  # with the layer's own path, over 100 bytes
    manifest = json.loads(files["manifest.json"])
    renamed: dict[str, bytes] = {}
    for name, data in files.items():
        renamed[f"{deep}/{name}" if name.endswith("/layer.tar") else name] = data
    manifest[0]["Layers"] = [f"{deep}/{path}" for path in manifest[0]["Layers"]]
    if tar_format != tarfile.USTAR_FORMAT:  # the second layer through a long symlink
        second = manifest[0]["Layers"][1]
        manifest[0]["Layers"][1] = "short/layer.tar"
    renamed["manifest.json"] = json.dumps(manifest).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format) as tar:
        for name, data in renamed.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if tar_format != tarfile.USTAR_FORMAT:
            link = tarfile.TarInfo("short/layer.tar")
            link.type, link.linkname = tarfile.SYMTYPE, f"../{second}"
            tar.addfile(link)
    source = write(tmp_path / "long.tar", buffer.getvalue())
    got = read(source)
    assert got["Id"] == image.id
    assert got["Size"] == 107
