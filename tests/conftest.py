"""Shared fixtures; the daemon, registry and image machinery is in daemon_fixture."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest

from tests.daemon_fixture import DockerDaemon, docker_daemon_session, find_docker_cli, skip_or_fail
from tests.podman_fixture import PodmanService, podman_service_session


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
