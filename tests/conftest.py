"""Shared fixtures; the machinery is in daemon_fixture (the suite's dockerd), podman_fixture,
modern_daemon_fixture (dockerd 28) and registry_fixture (the registries and their images)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest

from tests.daemon_fixture import DockerDaemon, docker_daemon_session, find_docker_cli, skip_or_fail
from tests.modern_daemon_fixture import ModernDaemon, modern_daemon_session
from tests.podman_fixture import PodmanService, podman_service_session
from tests.registry_fixture import (
    RegistryImages,
    RegistryServer,
    RegistryServers,
    push_registry_images,
    registry_servers_session,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files in tests/golden/ from what the code renders now",
    )


@pytest.fixture(scope="session")
def docker_daemon() -> Iterator[DockerDaemon]:
    with docker_daemon_session() as daemon:
        yield daemon


@pytest.fixture(scope="session")
def docker_env(docker_daemon: DockerDaemon) -> dict[str, str]:
    return docker_daemon.env()


@pytest.fixture(scope="session")
def podman_service() -> Iterator[PodmanService]:
    with podman_service_session() as service:
        yield service


@pytest.fixture(scope="session")
def docker_cli() -> str:
    """The docker CLI 28 (the oracle), for tests that need no daemon of the suite's own."""
    with tempfile.TemporaryDirectory(prefix="imgi-cli-") as config_dir:
        found = find_docker_cli(config_dir)
    if found is None:
        skip_or_fail("no docker CLI >= 28 to compare with")
    return found


@pytest.fixture(scope="session")
def modern_docker() -> Iterator[ModernDaemon]:
    """dockerd 28 with the classic image store, and the docker CLI 28 to drive it."""
    with modern_daemon_session("classic") as daemon:
        yield daemon


@pytest.fixture(scope="session")
def modern_docker_containerd() -> Iterator[ModernDaemon]:
    """dockerd 28 with the containerd image store."""
    with modern_daemon_session("containerd") as daemon:
        yield daemon


@pytest.fixture(scope="session")
def registry_servers() -> Iterator[RegistryServers]:
    with registry_servers_session() as servers:
        yield servers


@pytest.fixture(scope="session")
def plain_registry(registry_servers: RegistryServers) -> RegistryServer:
    return registry_servers.plain


@pytest.fixture(scope="session")
def tls_registry(registry_servers: RegistryServers) -> RegistryServer:
    return registry_servers.tls


@pytest.fixture(scope="session")
def basic_registry(registry_servers: RegistryServers) -> RegistryServer:
    return registry_servers.basic


@pytest.fixture(scope="session")
def token_registry(registry_servers: RegistryServers) -> RegistryServer:
    return registry_servers.token


@pytest.fixture(scope="session")
def registry_images(
    registry_servers: RegistryServers,
    docker_daemon: DockerDaemon,
    tmp_path_factory: pytest.TempPathFactory,
) -> RegistryImages:
    """The fixture images, the same in every registry (see registry_fixture)."""
    workdir = tmp_path_factory.mktemp("registry-images")
    return push_registry_images(registry_servers, docker_daemon, workdir)
