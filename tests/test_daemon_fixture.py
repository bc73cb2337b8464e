"""Self-test of the docker fixtures: the images have the properties tests rely on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.daemon_fixture import HOSTILE_ENV_VALUE, HOSTILE_LABELS, DockerDaemon


def inspect(daemon: DockerDaemon, ref: str) -> dict[str, Any]:
    data = json.loads(daemon.docker("image", "inspect", ref).stdout)
    assert isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict)
    return data[0]


def test_full_and_tiny_images(docker_daemon: DockerDaemon) -> None:
    images = docker_daemon.images
    full = inspect(docker_daemon, images.full_tags[0])
    assert full["Id"] == images.full_id
    assert sorted(full["RepoTags"]) == sorted(images.full_tags)
    assert len(full["RootFS"]["Layers"]) >= 3
    config = full["Config"]
    assert config["Labels"]["org.opencontainers.image.title"] == "Lab Full"
    assert {"LAB_MODE=full", "LAB_EMPTY=", "LAB_EQ=a=b=c"} <= set(config["Env"])
    assert config["User"] == "1000:1000" and config["StopSignal"] == "SIGINT"
    assert config["Healthcheck"]["StartPeriod"] == 90 * 10**9
    tiny = inspect(docker_daemon, images.tiny)
    assert tiny["Id"] == images.tiny_id and len(tiny["RootFS"]["Layers"]) == 1


def test_the_workdir_image_has_a_layer_from_workdir_and_none_from_run(
    docker_daemon: DockerDaemon,
) -> None:
    images = docker_daemon.images
    workdir = inspect(docker_daemon, images.workdir)
    assert workdir["Id"] == images.workdir_id and len(workdir["RootFS"]["Layers"]) == 2
    # The step images, newest first: CMD, RUN, WORKDIR, COPY.
    ids = docker_daemon.docker("history", "-q", "--no-trunc", images.workdir).stdout.split()
    counts = [len(inspect(docker_daemon, i.decode())["RootFS"]["Layers"]) for i in ids]
    assert counts == [2, 2, 2, 1]


def test_pushed_and_untagged_images(docker_daemon: DockerDaemon) -> None:
    images = docker_daemon.images
    assert images.pushed_digest_ref.startswith(f"{images.registry}/lab/pushed@sha256:")
    assert images.pushed_digest_ref in inspect(docker_daemon, images.pushed_ref)["RepoDigests"]
    assert inspect(docker_daemon, images.pushed_digest_ref)["Id"] == images.tiny_id
    untagged = inspect(docker_daemon, images.untagged_id)
    assert untagged["RepoTags"] == [] and untagged["Id"] == images.untagged_id


def test_hostile_bytes_and_env_isolation(
    docker_daemon: DockerDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = docker_daemon.docker("image", "inspect", docker_daemon.images.hostile).stdout
    # The daemon's JSON escapes control characters; json.loads makes them real again.
    assert b"\\u001b" in raw and b"\x1b" not in raw
    config = inspect(docker_daemon, docker_daemon.images.hostile)["Config"]
    assert config["Labels"] == dict(HOSTILE_LABELS)
    assert "\x1b" in config["Labels"]["evil.esc"]
    assert f"HOSTILE={HOSTILE_ENV_VALUE}" in config["Env"]

    # Settings in the caller's environment must not leak into the fixture's CLI.
    monkeypatch.setenv("DOCKER_CONTEXT", "no-such-context")
    monkeypatch.setenv("DOCKER_API_VERSION", "1.0")
    env = docker_daemon.env()
    assert env["DOCKER_HOST"] == docker_daemon.host and "DOCKER_CONTEXT" not in env
    version = docker_daemon.docker("version", "--format", "{{.Client.Version}}").stdout
    assert int(version.split(b".")[0]) >= 28
