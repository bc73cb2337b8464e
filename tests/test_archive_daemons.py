"""Archives saved by real tools: `docker save` from the test dockerd, `podman save` in its three
formats, and the sample archive loaded into the dockerd. What imginspect reads from each must
be what the daemon itself says about the same image."""

from __future__ import annotations

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
from tests.daemon_fixture import DockerDaemon
from tests.helpers import EXAMPLE, Run, run_bare
from tests.podman_fixture import PodmanService

# Fields the daemon keeps about an image of its own, which no archive records.
DAEMON_ONLY = {"RepoDigests", "Parent", "VirtualSize", "GraphDriver", "Metadata"}
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


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("full", "lab-full:2.4.1"),
        ("tiny", "lab-tiny:1"),
        ("hostile", "lab-hostile:1"),
        ("untagged", "untagged"),
    ],
)
def test_json_of_docker_save_is_the_daemons_answer_in_every_field_both_have(
    docker_daemon: DockerDaemon, saved: Path, name: str, reference: str
) -> None:
    if reference == "untagged":
        reference = docker_daemon.images.untagged_id
    from_archive = inspect(run_bare("--json", str(saved / f"{name}.tar")))
    from_daemon = inspect(run_bare("--json", reference, env={"DOCKER_HOST": docker_daemon.host}))
    assert set(from_archive) == set(from_daemon) - DAEMON_ONLY - _empty_keys(from_daemon)
    for key, value in from_archive.items():
        assert value == from_daemon[key], key
    # ... and in the daemon's order.
    assert list(from_archive) == [key for key in from_daemon if key in from_archive]


def _empty_keys(document: Mapping[str, Any]) -> set[str]:
    # docker 20.10 shows `"Container": ""` for an image whose config has no container.
    return {key for key in ("Container",) if document.get(key) == ""}


@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_print_the_same_on_the_archive_as_on_the_daemon(
    docker_daemon: DockerDaemon, saved: Path, template: str
) -> None:
    from_archive = run_bare("-f", template, str(saved / "full.tar"))
    from_daemon = run_bare(
        "-f", template, "lab-full:2.4.1", env={"DOCKER_HOST": docker_daemon.host}
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


def test_an_image_without_layers_or_history_has_the_daemons_empty_history(
    docker_daemon: DockerDaemon, tmp_path: Path
) -> None:
    image = make_image([], tags=["lab-empty:1"], history=[])
    path = tmp_path / "empty.tar"
    path.write_bytes(tar_of(docker_archive([image])))
    docker_daemon.docker("load", "-i", str(path))
    try:
        theirs = daemon_history(docker_daemon.host, "lab-empty:1")
    finally:
        docker_daemon.docker("rmi", "lab-empty:1")
    got = archive.read_image(parse_source(str(path)))
    assert got.history is not None
    assert json.loads(got.history) == theirs == []
    view = run_bare(str(path), env={"COLUMNS": "100"})
    assert view.code == 0, view.stderr
    assert "Size            0 B unpacked, as docker counts" in view.stdout.decode()


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
    docker_daemon: DockerDaemon,
) -> None:
    docker_daemon.docker("load", "-i", str(EXAMPLE))
    try:
        from_daemon = inspect(
            run_bare("--json", "imginspect-hello:1", env={"DOCKER_HOST": docker_daemon.host})
        )
    finally:
        docker_daemon.docker("rmi", "imginspect-hello:1")
    from_archive = inspect(run_bare("--json", str(EXAMPLE)))
    for key, value in from_archive.items():
        if key == "Config":  # the daemon fills in docker's struct: Hostname "", Tty false...
            assert _without_zeros(value) == _without_zeros(from_daemon[key])
        else:
            assert value == from_daemon[key], key
    assert from_archive["Size"] == 78


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
