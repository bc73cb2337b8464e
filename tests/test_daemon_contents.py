"""The daemon source's contents: each layer of an image as the daemon's `docker save` of it
holds it, read as the answer arrives, against GNU `tar -tv` of the same layers saved by the
docker CLI (or `podman save`): dockerd 20.10 and Podman (docker-archives), dockerd 28.5 with
the classic and with the containerd image store (OCI layouts, the latter's layers gzipped)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.image import Image
from inspector.reference import parse_platform, parse_reference
from inspector.sources.daemon import DaemonFlags
from inspector.sources.daemon.source import DaemonSource
from inspector.sources.interface import Request
from tests.daemon_fixture import DockerCli, DockerDaemon
from tests.modern_daemon_fixture import ModernDaemon
from tests.podman_fixture import PodmanService
from tests.registry_fixture import DOCKER_FULL, MULTI, RegistryImages, RegistryServer
from tests.tar_listing import assert_contents_match, saved_layers


def contents_of(host: str, *names: str, platform: str | None = None) -> list[Image]:
    """The daemon source's records for names, with contents (and history, as the view asks)."""
    request = Request(
        platform=parse_platform(platform) if platform else None, with_history=True, contents=True
    )
    source = DaemonSource(DaemonFlags(host=host, timeout=60.0), request, log=None, warn=None)
    try:
        return list(source.images(iter([parse_reference(name) for name in names])))
    finally:
        source.close()


def cli_save(daemon: DockerCli, reference: str, path: Path, *options: str) -> Path:
    daemon.docker("save", *options, "-o", str(path), reference)
    return path


@pytest.mark.parametrize("name", ["lab-full:2.4.1", "lab-tiny:1", "lab-workdir:1"])
def test_dockerd_20_10_contents_are_its_saves_layers(
    docker_daemon: DockerDaemon, tmp_path: Path, name: str
) -> None:
    [image] = contents_of(docker_daemon.host, name)
    assert image.error is None, image.error
    saved = saved_layers(cli_save(docker_daemon, name, tmp_path / "saved.tar"))
    assert_contents_match(image.contents, saved, tmp_path)
    inspected = json.loads(image.inspect or b"{}")
    assert [layer.diff_id for layer in image.contents or ()] == inspected["RootFS"]["Layers"]
    # A docker-archive of dockerd 20.10 names its layers by no digest.
    assert all(layer.digest is None for layer in image.contents or ())
    assert image.history is not None


def test_several_images_each_have_their_own_contents_on_one_connection(
    docker_daemon: DockerDaemon,
) -> None:
    images = contents_of(docker_daemon.host, "lab-tiny:1", "lab-full:2.4.1", "lab-tiny:1")
    assert [image.error for image in images] == [None, None, None]
    counts = [len(image.contents or ()) for image in images]
    full = json.loads(images[1].inspect or b"{}")
    assert counts == [1, len(full["RootFS"]["Layers"]), 1]
    assert images[0].contents == images[2].contents


def test_a_missing_image_is_not_found_and_asks_for_no_save(docker_daemon: DockerDaemon) -> None:
    [image] = contents_of(docker_daemon.host, "lab-missing:1")
    assert image.error is not None and image.error.exit_code == 1
    assert image.contents is None


def test_podman_contents_are_its_saves_layers(
    podman_service: PodmanService, tmp_path: Path
) -> None:
    name = podman_service.images.full
    [image] = contents_of(podman_service.host, name)
    assert image.error is None, image.error
    podman_service.save("docker-archive", tmp_path / "saved.tar", name)
    assert_contents_match(image.contents, saved_layers(tmp_path / "saved.tar"), tmp_path)


@pytest.fixture
def pulled(
    request: pytest.FixtureRequest, registry_images: RegistryImages, plain_registry: RegistryServer
) -> Iterator[tuple[ModernDaemon, str]]:
    """(daemon, reference): an image the test's modern dockerd pulled from the plain registry."""
    daemon_fixture, name, platform = request.param
    daemon: ModernDaemon = request.getfixturevalue(daemon_fixture)
    reference = registry_images[name].ref(plain_registry)
    options = ("--platform", platform) if platform else ()
    daemon.docker("pull", "--quiet", *options, reference)
    try:
        yield daemon, reference
    finally:
        daemon.docker("rmi", reference)


@pytest.mark.parametrize(
    "pulled",
    [
        ("modern_docker", DOCKER_FULL, None),
        ("modern_docker_containerd", DOCKER_FULL, None),
        ("modern_docker_containerd", MULTI, "linux/amd64"),
    ],
    indirect=True,
    ids=["classic", "containerd", "containerd-index"],
)
def test_dockerd_28_contents_are_its_saves_layers(
    pulled: tuple[ModernDaemon, str], tmp_path: Path
) -> None:
    daemon, reference = pulled
    [image] = contents_of(daemon.host, reference)
    assert image.error is None, image.error
    options = ("--platform", "linux/amd64") if daemon.image_store == "containerd" else ()
    saved = saved_layers(cli_save(daemon, reference, tmp_path / "saved.tar", *options))
    assert_contents_match(image.contents, saved, tmp_path)
    # Its save is an OCI layout: every layer is named by the digest of its blob.
    assert all(layer.digest is not None for layer in image.contents or ())


@pytest.mark.parametrize(
    "pulled",
    [("modern_docker_containerd", MULTI, "linux/amd64")],
    indirect=True,
    ids=["containerd-index"],
)
def test_a_platform_asked_for_is_the_one_saved(
    pulled: tuple[ModernDaemon, str], tmp_path: Path
) -> None:
    daemon, reference = pulled
    [image] = contents_of(daemon.host, reference, platform="linux/amd64")
    assert image.error is None, image.error
    saved = saved_layers(
        cli_save(daemon, reference, tmp_path / "saved.tar", "--platform", "linux/amd64")
    )
    assert_contents_match(image.contents, saved, tmp_path)
    [entry] = [e for layer in image.contents or () for e in layer.entries if e.kind == "file"]
    assert entry.path == "platform.txt" and entry.size == len(b"linux/amd64\n")
