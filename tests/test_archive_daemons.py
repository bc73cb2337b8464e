"""Archives saved by real tools: `docker save` from the test dockerd, `podman save` in its three
formats, and the sample archive. What imginspect prints for each must be what `docker image
inspect` prints after `docker load` of it: dockerd 28.5 (classic image store) by default, and
the suite's dockerd 20.10 with DOCKER_API_VERSION=1.41, byte for byte but for the fields only a
daemon knows."""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from inspector.errors import ExitCode
from inspector.reference import parse_reference
from inspector.sources.archive import reader as archive
from inspector.sources.archive.names import parse_source
from inspector.sources.daemon import DaemonFlags
from inspector.sources.daemon.client import Daemon
from inspector.sources.daemon.endpoint import resolve_connection
from tests.archive_builder import docker_archive, make_image, tar_of
from tests.daemon_fixture import DockerCli, DockerDaemon
from tests.helpers import EXAMPLE, Run, run_bare
from tests.json_arrays import members
from tests.modern_daemon_fixture import ModernDaemon
from tests.podman_fixture import PodmanService

# Fields the daemon keeps about an image of its own, which no archive records: what it was
# pulled as, its build's parent, where it keeps the layers, when it was tagged.
DAEMON_ONLY = frozenset({"RepoDigests", "Parent", "GraphDriver", "Metadata"})
SAVED_REFS = {"full": "lab-full:2.4.1", "tiny": "lab-tiny:1", "hostile": "lab-hostile:1"}
# -f templates over the fields an archive has; the archive must print what the daemon prints.
TEMPLATES = [
    "{{.Id}} {{.RepoTags}} {{.Created}} {{.Size}}",
    "{{.Os}}/{{.Architecture}} {{json .RootFS}}",
    "{{json .Config}}",
    "{{.Config.User}} {{.Config.Healthcheck}} {{range .Config.Env}}{{.}};{{end}}",
]


@pytest.fixture(scope="module")
def saved(docker_daemon: DockerDaemon, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture images saved once each, every tag an image has saved with it."""
    images = docker_daemon.images
    directory = tmp_path_factory.mktemp("saved")
    for name, refs in {
        "full": list(images.full_tags),
        "tiny": [images.tiny, images.pushed_ref],
        "hostile": [images.hostile],
        "untagged": [images.untagged_id],
        "two": [images.full_tags[0], images.tiny],
    }.items():
        docker_daemon.docker("save", "-o", str(directory / f"{name}.tar"), *refs)
    return directory


def inspect(run_result: Run) -> dict[str, Any]:
    assert run_result.code == 0, run_result.stderr
    documents = run_result.json
    assert isinstance(documents, list) and len(documents) == 1
    document = documents[0]
    assert isinstance(document, dict)
    return document


def daemon_history(host: str, reference: str) -> list[dict[str, Any]]:
    connection = resolve_connection(DaemonFlags(host=host, timeout=30.0), {})
    with Daemon(connection) as daemon:
        value = json.loads(daemon.history(parse_reference(reference)))
    assert isinstance(value, list)
    return value


@contextlib.contextmanager
def loaded(cli: DockerCli, archive: Path) -> Iterator[list[str]]:
    """`docker load` of the archive: what it loaded, by name (or ID, for an untagged image),
    removed again afterwards."""
    done = cli.docker("load", "-i", str(archive))
    names = [
        line.split(": ", 1)[1].strip()
        for line in done.stdout.decode().splitlines()
        if line.startswith(("Loaded image: ", "Loaded image ID: "))
    ]
    try:
        yield names
    finally:
        for name in names:
            cli.docker("image", "rm", name, check=False)


def left_for_an_archive(answer: bytes) -> list[tuple[str, str]]:
    """Each member of `docker image inspect`'s answer (or imginspect's) with its text exactly
    as printed, but for the fields only a daemon knows."""
    return [(key, value) for key, value in members(answer) if key not in DAEMON_ONLY]


def json_of(path: Path | str, env: Mapping[str, str] | None = None) -> bytes:
    done = run_bare("--json", str(path), env=env)
    assert (done.code, done.stderr) == (0, ""), done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def loaded_into_modern(modern_docker: ModernDaemon, saved: Path) -> Iterator[dict[str, bytes]]:
    """`docker image inspect` on dockerd 28.5 of each saved image, after `docker load`."""
    answers: dict[str, bytes] = {}
    with contextlib.ExitStack() as stack:
        for name in ("full", "tiny", "hostile", "untagged"):
            [*_, ref] = stack.enter_context(loaded(modern_docker, saved / f"{name}.tar"))
            answers[name] = modern_docker.docker(
                "image", "inspect", SAVED_REFS.get(name, ref)
            ).stdout
        yield answers


@pytest.mark.parametrize("name", ["full", "tiny", "hostile", "untagged"])
def test_json_of_docker_save_is_docker_28s_after_docker_load_byte_for_byte(
    loaded_into_modern: dict[str, bytes], saved: Path, name: str
) -> None:
    ours = json_of(saved / f"{name}.tar")
    assert not {key for key, _ in members(ours)} & DAEMON_ONLY
    assert left_for_an_archive(ours) == left_for_an_archive(loaded_into_modern[name])


@pytest.mark.parametrize("name", ["full", "tiny", "hostile", "untagged"])
def test_with_api_1_41_json_of_docker_save_is_docker_20_10s_byte_for_byte(
    docker_daemon: DockerDaemon, saved: Path, name: str
) -> None:
    # The images were built on the suite's dockerd 20.10 and saved from it: it has them.
    ref = SAVED_REFS.get(name, docker_daemon.images.untagged_id)
    theirs = docker_daemon.docker("image", "inspect", ref).stdout
    ours = json_of(saved / f"{name}.tar", env={"DOCKER_API_VERSION": "1.41"})
    assert left_for_an_archive(ours) == left_for_an_archive(theirs)


@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_print_the_same_on_the_archive_as_on_the_daemon(
    modern_docker: ModernDaemon,
    loaded_into_modern: dict[str, bytes],
    saved: Path,
    template: str,
) -> None:
    from_archive = run_bare("-f", template, str(saved / "full.tar"))
    from_daemon = run_bare(
        "-f", template, "lab-full:2.4.1", env={"DOCKER_HOST": modern_docker.host}
    )
    assert (from_archive.code, from_archive.stdout) == (0, from_daemon.stdout)


def test_history_of_docker_save_is_the_daemons(docker_daemon: DockerDaemon, saved: Path) -> None:
    image = archive.read_image(parse_source(str(saved / "full.tar")))
    assert image.history is not None
    ours = json.loads(image.history)
    theirs = daemon_history(docker_daemon.host, "lab-full:2.4.1")
    keys = ("Created", "CreatedBy", "Size", "Comment")
    assert [{k: step[k] for k in keys} for step in ours] == [
        {k: step[k] for k in keys} for step in theirs
    ]
    assert ours[0]["Id"] == theirs[0]["Id"]


@pytest.mark.parametrize("version", [None, "1.41"])
def test_an_image_without_layers_or_history_is_the_daemons_size_0_and_empty_history(
    modern_docker: ModernDaemon, docker_daemon: DockerDaemon, tmp_path: Path, version: str | None
) -> None:
    image = make_image([], tags=["lab-empty:1"], history=[])
    path = tmp_path / "empty.tar"
    path.write_bytes(tar_of(docker_archive([image])))
    daemon: DockerCli = docker_daemon if version else modern_docker
    with loaded(daemon, path):
        inspected = daemon.docker("image", "inspect", "lab-empty:1").stdout
        theirs = daemon_history(daemon.host, "lab-empty:1")
    env = {"DOCKER_API_VERSION": version} if version else {}
    ours = json_of(path, env=env)
    assert left_for_an_archive(ours) == left_for_an_archive(inspected)
    printed = dict(members(ours))
    assert json.loads(printed["Size"]) == 0
    assert json.loads(printed["RootFS"]) == {"Type": "layers"}
    got = archive.read_image(parse_source(str(path)))
    assert got.history is not None
    assert json.loads(got.history) == theirs == []
    view = run_bare(str(path), env={"COLUMNS": "100", **env})
    assert view.code == 0, view.stderr
    assert "Size            0 B unpacked, as docker counts" in view.stdout.decode()


def test_an_image_with_layers_but_no_history_has_the_daemons_empty_history(
    modern_docker: ModernDaemon, tmp_path: Path
) -> None:
    image = make_image([{"a": b"aaaa"}, {"b": b"bb"}], tags=["lab-no-history:1"], history=[])
    path = tmp_path / "no-history.tar"
    path.write_bytes(tar_of(docker_archive([image])))
    with loaded(modern_docker, path):
        inspected = modern_docker.docker("image", "inspect", "lab-no-history:1").stdout
        theirs = daemon_history(modern_docker.host, "lab-no-history:1")
    assert left_for_an_archive(json_of(path)) == left_for_an_archive(inspected)
    got = archive.read_image(parse_source(str(path)))
    assert got.history is not None
    # The daemon answers no steps at all, not one for each layer.
    assert json.loads(got.history) == theirs == []


def test_a_gzipped_docker_save_reads_the_same(saved: Path, tmp_path: Path) -> None:
    packed = tmp_path / "full.tar.gz"
    with (saved / "full.tar").open("rb") as source, gzip.open(packed, "wb") as sink:
        shutil.copyfileobj(source, sink)
    assert (
        run_bare("--json", str(packed)).stdout == run_bare("--json", str(saved / "full.tar")).stdout
    )


def test_the_view_of_docker_save_shows_where_it_came_from(saved: Path) -> None:
    result = run_bare(str(saved / "full.tar"), env={"COLUMNS": "100"})
    assert result.code == 0, result.stderr
    text = result.stdout.decode()
    assert f"Source          docker-archive {saved / 'full.tar'}" in text
    assert "1.98 MB (1,982,303 bytes) unpacked, as docker counts" in text
    assert "mkdir -p /var/lib/lab" in text
    assert "Note:" not in text  # the history matched the layers


def test_docker_save_of_two_images_lists_them_until_one_is_chosen(
    docker_daemon: DockerDaemon, saved: Path
) -> None:
    path = saved / "two.tar"
    listed = run_bare(str(path))
    assert listed.code == ExitCode.USAGE
    # In the archive's order, which docker save does not promise.
    assert sorted(line.split("  ")[2] for line in listed.stderr.splitlines()[1:]) == [
        "lab-full:2.4.1",
        "lab-tiny:1",
    ]
    chosen = run_bare("-f", "{{.Id}}", f"docker-archive:{path}:lab-tiny:1")
    assert chosen.stdout.decode().strip() == docker_daemon.images.tiny_id


def test_the_sample_archive_loaded_into_docker_is_what_imginspect_reads(
    modern_docker: ModernDaemon,
) -> None:
    with loaded(modern_docker, EXAMPLE):
        theirs = modern_docker.docker("image", "inspect", "imginspect-hello:1").stdout
    ours = json_of(EXAMPLE)
    assert left_for_an_archive(ours) == left_for_an_archive(theirs)
    assert ("Size", "78") in members(ours)


# -- podman save ------------------------------------------------------------------------------

PODMAN_LAYOUTS = {"oci-archive": "image.tar", "oci-dir": "layout", "docker-archive": "docker.tar"}


@pytest.fixture(scope="module")
def podman_saved(
    podman_service: PodmanService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Path]]:
    directory = tmp_path_factory.mktemp("podman-saved")
    paths = {}
    for layout, name in PODMAN_LAYOUTS.items():
        podman_service.save(layout, directory / name)
        paths[layout] = directory / name
    yield paths


def _zero(value: object) -> bool:
    return value in (None, "", False, [], {}, 0)


def _without_zeros(config: Mapping[str, Any]) -> dict[str, Any]:
    # Podman's answer fills docker's Config struct (Hostname "", Tty false, ...); an OCI
    # config leaves out what is not set. The same settings either way.
    return {key: value for key, value in config.items() if not _zero(value)}


@pytest.mark.parametrize("layout", PODMAN_LAYOUTS)
def test_podman_save_in_each_format_reads_as_podman_describes_the_image(
    podman_service: PodmanService, podman_saved: dict[str, Path], layout: str
) -> None:
    from_archive = inspect(run_bare("--json", str(podman_saved[layout])))
    from_podman = inspect(
        run_bare("--json", podman_service.images.full, env={"DOCKER_HOST": podman_service.host})
    )
    assert from_archive["Id"] == podman_service.images.full_id
    for key in ("Id", "RepoTags", "Created", "Author", "Architecture", "Os", "RootFS"):
        assert from_archive[key] == from_podman[key], key
    assert _without_zeros(from_archive["Config"]) == _without_zeros(from_podman["Config"])
    # Where the two differ, the archive says what docker would: the last history step's
    # comment (podman shows none), and the layers' file sizes (podman counts its own way).
    assert from_archive["Comment"].startswith("FROM ")
    assert from_archive["Size"] == 1982256  # /bin/busybox; the other layer is a directory


def test_podman_save_as_docker_archive_is_docker_28s_after_docker_load(
    modern_docker: ModernDaemon, podman_saved: dict[str, Path]
) -> None:
    with loaded(modern_docker, podman_saved["docker-archive"]) as names:
        theirs = modern_docker.docker("image", "inspect", names[-1]).stdout
    ours = json_of(podman_saved["docker-archive"])
    assert left_for_an_archive(ours) == left_for_an_archive(theirs)


def test_the_three_podman_formats_read_the_same(podman_saved: dict[str, Path]) -> None:
    outputs = {
        layout: run_bare("--json", str(path)).stdout for layout, path in podman_saved.items()
    }
    assert len(set(outputs.values())) == 1, outputs


def test_podman_oci_archive_has_gzipped_layers_that_are_checked(
    podman_saved: dict[str, Path],
) -> None:
    image = archive.read_image(parse_source(str(podman_saved["oci-archive"])))
    # podman compresses the layers of an oci-archive: stored smaller than unpacked.
    assert image.inspect is not None and image.origin is not None
    assert image.origin.stored_size is not None
    assert image.origin.stored_size < json.loads(image.inspect)["Size"]
    view = run_bare(str(podman_saved["oci-dir"]), env={"COLUMNS": "100"})
    assert f"Source          OCI layout {podman_saved['oci-dir']}" in view.stdout.decode()


# -- --diff against the daemon ------------------------------------------------------------------


def test_diff_of_an_image_and_its_docker_save_is_no_difference(
    docker_daemon: DockerDaemon, saved: Path
) -> None:
    env = {"DOCKER_HOST": docker_daemon.host}
    result = run_bare("--diff", "--json", "lab-full:2.4.1", str(saved / "full.tar"), env=env)
    assert result.code == 0, result.stderr
    document = result.json
    assert document["same"] is True
    assert document["changes"] == []
    assert [layer["size"] for layer in document["layers"]["shared"]] == [1982256, 47, 0]
    view = run_bare("--diff", "lab-full:2.4.1", str(saved / "full.tar"), env=env)
    assert view.code == 0
    assert "No differences: the same image." in view.stdout.decode()


def test_diff_of_two_daemon_images_exits_1_with_what_differs(docker_daemon: DockerDaemon) -> None:
    env = {"DOCKER_HOST": docker_daemon.host}
    result = run_bare("--diff", "--json", "lab-full:2.4.1", "lab-tiny:1", env=env)
    assert result.code == 1, result.stderr
    document = result.json
    changes = {(c["field"], c["change"], c["key"]) for c in document["changes"]}
    assert {
        ("id", "changed", None),
        ("size", "changed", None),
        ("user", "removed", None),
        ("workdir", "removed", None),
        ("entrypoint", "removed", None),
        ("cmd", "removed", None),
        ("healthcheck", "removed", None),
        ("env", "removed", "LAB_MODE"),
        ("labels", "removed", "maintainer"),
        ("ports", "removed", "80/tcp"),
        ("volumes", "removed", "/data"),
    } <= changes
    size = next(c for c in document["changes"] if c["field"] == "size")
    assert (size["a"], size["b"], size["delta"]) == (1982303, 1982256, -47)
    layers = document["layers"]
    # The two may share the busybox layer; either way each image's layers add up to its size.
    assert layers["shared_size"] + layers["only_a_size"] == 1982303
    assert layers["shared_size"] + layers["only_b_size"] == 1982256


def test_diff_with_an_image_that_is_not_there_exits_2(docker_daemon: DockerDaemon) -> None:
    env = {"DOCKER_HOST": docker_daemon.host}
    result = run_bare("--diff", "lab-full:2.4.1", "lab-nope:1", env=env)
    assert result.code == ExitCode.USAGE
    assert result.stdout == b""
    assert result.stderr.count("\n") == 1
    assert "lab-nope:1" in result.stderr
