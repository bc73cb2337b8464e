"""`imginspect --json docker://REF` against `docker pull REF` then `docker image inspect REF`,
for each fixture image of the registries (tests/registry_fixture.py), pulled by tag and by
digest: on dockerd 28.5 (classic image store) byte for byte, and on Debian's dockerd 20.10
with DOCKER_API_VERSION=1.41 byte for byte too (the shape of API 1.41 is 20.10's own). Only the
keys a registry cannot know are left out of the comparison."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

import pytest

from tests.daemon_fixture import DockerCli, DockerDaemon
from tests.helpers import run_cli
from tests.json_arrays import members
from tests.modern_daemon_fixture import ModernDaemon
from tests.registry_fixture import (
    DOCKER_FULL,
    DOCKER_TINY,
    MULTI,
    MULTI_DOCKER,
    OCI_FULL,
    ZSTD_FULL,
    RegistryImage,
    RegistryImages,
    RegistryServer,
)

NO_DAEMON = "unix:///nonexistent/imginspect-test.sock"

# What only a pull tells, so the registry's answer leaves it out: the layers' size unpacked
# (and its copy VirtualSize, before API 1.44), where the daemon keeps them, and when the image
# was tagged here.
PULL_ONLY = frozenset({"Size", "VirtualSize", "GraphDriver", "Metadata"})

IMAGES = (DOCKER_FULL, DOCKER_TINY, OCI_FULL, ZSTD_FULL, MULTI, MULTI_DOCKER)
# (registry, image, pulled by): every image by tag and by digest from the plain registry, and
# from each registry that needs TLS, basic auth or a token at least one by each.
CASES = (
    *(("plain", name, by) for name in IMAGES for by in ("tag", "digest")),
    ("tls", DOCKER_FULL, "tag"),
    ("tls", MULTI, "digest"),
    ("basic", OCI_FULL, "tag"),
    ("basic", MULTI_DOCKER, "digest"),
    ("token", ZSTD_FULL, "tag"),
    ("token", MULTI, "digest"),
)

# dockerd 20.10 cannot pull zstd layers ("archive/tar: invalid tar header" as it unpacks one).
OLD_DAEMON_CASES = tuple(case for case in CASES if case[1] != ZSTD_FULL)


def case_id(case: tuple[str, str, str]) -> str:
    return "-".join(case)


def reference(image: RegistryImage, server: RegistryServer, by: str) -> str:
    return image.ref(server) if by == "tag" else image.digest_ref(server)


def refs_of(cli: DockerCli, image_id: str) -> set[str]:
    """The names the daemon has for an image (none if it has no such image)."""
    done = cli.docker("image", "inspect", image_id, check=False)
    if done.returncode != 0:
        return set()
    [inspect] = json.loads(done.stdout)
    return {*(inspect["RepoTags"] or ()), *(inspect["RepoDigests"] or ())}


def pulled(cli: DockerCli, server: RegistryServer, image: RegistryImage, ref: str) -> bytes:
    """`docker image inspect` after `docker pull` of ref; afterwards the names the pull gave
    the image are removed again (and the image with them, unless the daemon had it before)."""
    before = refs_of(cli, image.config_digest) if image.config_digest else set()
    cli.docker("pull", "--quiet", ref)
    try:
        theirs = cli.docker("image", "inspect", ref).stdout
    finally:
        [inspect] = json.loads(cli.docker("image", "inspect", ref).stdout)
        added = refs_of(cli, inspect["Id"]) - before
        for name in sorted(added):
            if name.startswith(f"{server.host}/"):
                cli.docker("image", "rm", name, check=False)
    return theirs


def ours(server: RegistryServer, ref: str, env: Mapping[str, str] | None = None) -> bytes:
    done = run_cli(
        "--json",
        f"docker://{ref}",
        host=NO_DAEMON,
        env={"DOCKER_CONFIG": str(server.docker_config), **(env or {})},
    )
    assert (done.code, done.stderr) == (0, ""), done.stderr
    return done.stdout


@dataclasses.dataclass(frozen=True)
class Answers:
    """The daemon's answer after a pull and ours, for one case, and what the case pulled."""

    server: RegistryServer
    image: RegistryImage
    theirs: bytes
    mine: bytes


def both_answers(
    daemon: DockerCli,
    registry_images: RegistryImages,
    case: tuple[str, str, str],
    env: Mapping[str, str] | None = None,
) -> Answers:
    server_name, name, by = case
    server: RegistryServer = getattr(registry_images.servers, server_name)
    image = registry_images[name]
    ref = reference(image, server, by)
    # The registry's credentials, as `docker login` would have left them.
    cli = dataclasses.replace(daemon, config_dir=str(server.docker_config))
    return Answers(server, image, pulled(cli, server, image, ref), ours(server, ref, env))


def left_for_a_registry(answer: bytes) -> list[tuple[str, str]]:
    return [(key, value) for key, value in members(answer) if key not in PULL_ONLY]


@pytest.mark.parametrize(("server_name", "name", "by"), CASES, ids=map(case_id, CASES))
def test_the_answer_is_docker_28s_after_a_pull_byte_for_byte(
    modern_docker: ModernDaemon,
    registry_images: RegistryImages,
    server_name: str,
    name: str,
    by: str,
) -> None:
    answers = both_answers(modern_docker, registry_images, (server_name, name, by))
    assert not {key for key, _ in members(answers.mine)} & PULL_ONLY
    assert left_for_a_registry(answers.mine) == left_for_a_registry(answers.theirs)


def as_old_daemon_compares(
    answer: bytes, server: RegistryServer, image: RegistryImage
) -> list[tuple[str, str]]:
    """Each member's text, as written, but for what a registry cannot know. RepoTags and
    RepoDigests keep only the names of the repository pulled: the suite's dockerd already has
    the images pushed from it under names of its own (lab-full:2.4.1). The Parent of an image
    the suite's dockerd built is its build's parent, which no registry records."""
    prefix = f"{server.host}/{image.repository}"
    kept: list[tuple[str, str]] = []
    for key, value in left_for_a_registry(answer):
        if key in ("RepoTags", "RepoDigests"):
            names = json.loads(value) or []
            value = json.dumps([n for n in names if n.startswith((f"{prefix}:", f"{prefix}@"))])
        elif key == "Parent" and image.local is not None:
            continue
        kept.append((key, value))
    return kept


@pytest.mark.parametrize(
    ("server_name", "name", "by"), OLD_DAEMON_CASES, ids=map(case_id, OLD_DAEMON_CASES)
)
def test_with_api_1_41_the_answer_is_docker_20_10s_after_a_pull(
    docker_daemon: DockerDaemon,
    registry_images: RegistryImages,
    server_name: str,
    name: str,
    by: str,
) -> None:
    answers = both_answers(
        docker_daemon, registry_images, (server_name, name, by), {"DOCKER_API_VERSION": "1.41"}
    )
    assert not {key for key, _ in members(answers.mine)} & PULL_ONLY
    theirs = as_old_daemon_compares(answers.theirs, answers.server, answers.image)
    mine = as_old_daemon_compares(answers.mine, answers.server, answers.image)
    assert mine == theirs
