"""`imginspect --json ARCHIVE` against what docker prints after `docker load` of it.

The archives are written by the real tools and by hand (tests/real_archives.py). For each one
docker loads, the JSON must be the daemon's, byte for byte, but for the fields only a daemon
knows (DAEMON_ONLY): by default as dockerd 28 (classic store) prints it, and with
DOCKER_API_VERSION=1.41 as dockerd 20.10 does. OCI layouts without a manifest.json are loaded
into the classic stores with the manifest.json docker 25+ writes added beside them (the same
config and layers, so the same image), and as they are into dockerd 28's containerd store.
For each archive docker refuses, imginspect refuses it too: exit 2, one line on stderr,
and nothing on stdout but --json's empty array.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from inspector.errors import ExitCode
from tests.daemon_fixture import DockerCli, DockerDaemon
from tests.helpers import Run, run_bare
from tests.json_arrays import members
from tests.modern_daemon_fixture import ModernDaemon
from tests.podman_fixture import PodmanService
from tests.real_archives import (
    Archive,
    as_tar,
    bare_ref_name,
    docker_saves,
    handmade_archives,
    loadable,
    multi_platform_archive,
    podman_saves,
    skopeo_copies,
    target_digest,
    umoci_layouts,
)

# What only the daemon that holds an image knows: digests from registries it pulled from, the
# image it was built on here, its storage, when it last tagged the image.
DAEMON_ONLY = frozenset({"RepoDigests", "Parent", "GraphDriver", "Metadata"})
# The containerd store also says which descriptor (index or manifest) the image is, and takes
# that descriptor's digest as the image's ID (the classic store's ID is the config's digest,
# checked in the classic stores); its Size adds the image's blobs in the content store to the
# unpacked layers, where the classic store's counts the unpacked layers only.
CONTAINERD_ONLY = frozenset({"Descriptor", "Id", "Size"})
# An OCI layout reaches the classic stores with a manifest.json added beside it, whose tags
# are the test's choice, not the layout's: the names are compared on the containerd store
# (when the layout gives a repository, see below).
CONVERTED = frozenset({"RepoTags"})

GROUPS = {
    "handmade": [
        "handmade-docker-archive",
        "index-manifests-null",
        "diff-ids-and-history-null",
        "oci-layout-diff-ids-and-history-null",
        "no-layers",
        "layer-tar-without-end-blocks",
        "layer-tar-ending-inside-its-last-block",
        "gzip-layer-tar-without-end-blocks",
        "zstd-layers",
        "zstd-compressed-archive",
        "created-100000000Z",
        "created-500+02-00",
        "created-null",
        "no-architecture-or-os",
        "unknown-config-keys",
        "layer-path-through-symlinked-directory",
        "oci-index-two-platforms-and-attestation",
    ],
    "docker20_saved": ["docker20-save", "docker20-save-untagged"],
    "docker28_saved": ["docker28-save", "docker28-save-untagged"],
    "docker28_containerd_saved": ["docker28-containerd-save", "docker28-containerd-save-untagged"],
    "podman_saved": [
        "podman-save-docker-archive",
        "podman-save-oci-archive",
        "podman-save-oci-dir",
    ],
    "skopeo_copied": [
        "skopeo-oci",
        "skopeo-oci-zstd",
        "skopeo-oci-archive",
        "skopeo-docker-archive",
    ],
    "umoci_built": ["umoci-init-new-no-layers", "umoci-insert-repack"],
}
REFUSED = {"handmade": ["zstd-layer-with-another-layers-content"]}
CASES = [pytest.param(group, name, id=name) for group, names in GROUPS.items() for name in names]
# What dockerd 20.10 refuses and dockerd 28 loads: a zstd-compressed archive ("archive/tar:
# invalid tar header") and zstd layers ("ApplyLayer exit status 1 stdout:  stderr: unexpected
# EOF"). There is no 20.10 answer to compare with.
REFUSED_BY_20_10 = {
    "zstd-compressed-archive": "handmade",
    "zstd-layers": "handmade",
    "skopeo-oci-zstd": "skopeo_copied",
}
CASES_20_10 = [case for case in CASES if case.id not in REFUSED_BY_20_10]
OCI_ONLY = [
    "oci-index-two-platforms-and-attestation",
    "podman-save-oci-archive",
    "podman-save-oci-dir",
    "skopeo-oci",
    "skopeo-oci-zstd",
    "skopeo-oci-archive",
    "umoci-init-new-no-layers",
    "umoci-insert-repack",
]
OCI_CASES = [
    pytest.param(group, name, id=name)
    for group, names in GROUPS.items()
    for name in names
    if name in OCI_ONLY
]


# -- the archives, each written once -----------------------------------------------------------


def by_name(archives: Sequence[Archive]) -> dict[str, Archive]:
    return {archive.name: archive for archive in archives}


@pytest.fixture(scope="session")
def handmade(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Archive]:
    directory = tmp_path_factory.mktemp("oracle-handmade")
    return by_name([*handmade_archives(directory), multi_platform_archive(directory)])


@pytest.fixture(scope="session")
def docker20_saved(
    docker_daemon: DockerDaemon, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Archive]:
    return by_name(docker_saves(docker_daemon, tmp_path_factory.mktemp("oracle-d20"), "docker20"))


@pytest.fixture(scope="session")
def docker28_saved(
    modern_docker: ModernDaemon, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Archive]:
    return by_name(docker_saves(modern_docker, tmp_path_factory.mktemp("oracle-d28"), "docker28"))


@pytest.fixture(scope="session")
def docker28_containerd_saved(
    modern_docker_containerd: ModernDaemon, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Archive]:
    directory = tmp_path_factory.mktemp("oracle-d28c")
    return by_name(docker_saves(modern_docker_containerd, directory, "docker28-containerd"))


@pytest.fixture(scope="session")
def podman_saved(
    podman_service: PodmanService, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Archive]:
    directory = tmp_path_factory.mktemp("oracle-podman")
    return by_name(podman_saves(podman_service.command, podman_service.command_env, directory))


@pytest.fixture(scope="session")
def skopeo_copied(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Archive]:
    return by_name(skopeo_copies(tmp_path_factory.mktemp("oracle-skopeo")))


@pytest.fixture(scope="session")
def umoci_built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Archive]:
    return by_name(umoci_layouts(tmp_path_factory.mktemp("oracle-umoci")))


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the OCI layouts are written as the daemons load them: tarred, with manifest.json."""
    return tmp_path_factory.mktemp("oracle-converted")


def archive_of(request: pytest.FixtureRequest, group: str, name: str) -> Archive:
    archives = request.getfixturevalue(group)
    assert isinstance(archives, dict)
    archive = archives[name]
    assert isinstance(archive, Archive)
    return archive


@pytest.mark.parametrize("group", GROUPS)
def test_every_archive_written_is_a_case(request: pytest.FixtureRequest, group: str) -> None:
    archives = request.getfixturevalue(group)
    assert set(archives) == {*GROUPS[group], *REFUSED.get(group, [])}
    oci_only = {name for name, archive in archives.items() if archive.oci_only}
    assert oci_only == set(OCI_ONLY) & set(GROUPS[group])


# -- comparing ----------------------------------------------------------------------------------


def imginspect_json(archive: Archive, *, api_version: str | None = None) -> bytes:
    args = ["--json", archive.argument]
    if archive.platform:
        args[1:1] = ["--platform", archive.platform]
    env = {"DOCKER_API_VERSION": api_version} if api_version else None
    result = run_bare(*args, env=env)
    assert (result.code, result.stderr) == (0, ""), result
    return result.stdout


def loaded_answer(cli: DockerCli, path: Path, image_id: str) -> bytes:
    """`docker load` of path, then `docker image inspect` of the image by its ID; the image is
    removed before (its tags would stay) and after."""
    cli.docker("rmi", "-f", image_id, check=False)
    loaded = cli.docker("load", "-i", str(path), check=False)
    said = (loaded.stdout + loaded.stderr).decode()
    # The containerd store says "Loaded image" and exits 0 when a layer does not unpack, and
    # tells it on stderr only.
    assert (loaded.returncode, loaded.stderr) == (0, b""), f"docker load of {path.name}: {said}"
    assert loaded.stdout.startswith(b"Loaded image"), said
    try:
        return cli.docker("image", "inspect", image_id).stdout
    finally:
        cli.docker("rmi", "-f", image_id, check=False)


def difference(ours: list[tuple[str, str]], theirs: list[tuple[str, str]]) -> str:
    """What differs, member by member: missing and extra keys, values, then the order."""
    mine, docker = dict(ours), dict(theirs)
    lines = [f"imginspect lacks {key}: {docker[key]}" for key in docker if key not in mine]
    lines += [f"imginspect adds {key}: {mine[key]}" for key in mine if key not in docker]
    lines += [
        f"{key}: imginspect {mine[key]} != docker {docker[key]}"
        for key in mine
        if key in docker and mine[key] != docker[key]
    ]
    order = [key for key, _ in ours if key in docker]
    if not lines and order != [key for key, _ in theirs if key in mine]:
        lines.append(f"order: imginspect {order} != docker {[key for key, _ in theirs]}")
    return "\n".join(lines)


def assert_same(ours: bytes, theirs: bytes, dropped: frozenset[str]) -> None:
    mine = [member for member in members(ours) if member[0] not in dropped]
    docker = [member for member in members(theirs) if member[0] not in dropped]
    assert mine == docker, difference(mine, docker)


# -- archives docker loads ----------------------------------------------------------------------


@pytest.mark.parametrize(("group", "name"), CASES)
def test_json_is_what_docker_28_prints_after_loading_it(
    request: pytest.FixtureRequest,
    modern_docker: ModernDaemon,
    converted: Path,
    group: str,
    name: str,
) -> None:
    archive = archive_of(request, group, name)
    theirs = loaded_answer(modern_docker, loadable(archive, converted), archive.image_id)
    # The daemon really holds the image the archive describes.
    assert dict(members(theirs))["Id"] == f'"{archive.image_id}"'
    dropped = DAEMON_ONLY | (CONVERTED if archive.oci_only else frozenset())
    assert_same(imginspect_json(archive), theirs, dropped)


@pytest.mark.parametrize(("group", "name"), CASES_20_10)
def test_json_at_api_1_41_is_what_docker_20_10_prints_after_loading_it(
    request: pytest.FixtureRequest,
    docker_daemon: DockerDaemon,
    converted: Path,
    group: str,
    name: str,
) -> None:
    archive = archive_of(request, group, name)
    theirs = loaded_answer(docker_daemon, loadable(archive, converted), archive.image_id)
    assert dict(members(theirs))["Id"] == f'"{archive.image_id}"'
    dropped = DAEMON_ONLY | (CONVERTED if archive.oci_only else frozenset())
    assert_same(imginspect_json(archive, api_version="1.41"), theirs, dropped)


@pytest.mark.parametrize(("group", "name"), OCI_CASES)
def test_json_of_an_oci_layout_is_what_the_containerd_store_prints_after_loading_it(
    request: pytest.FixtureRequest,
    modern_docker_containerd: ModernDaemon,
    converted: Path,
    group: str,
    name: str,
) -> None:
    archive = archive_of(request, group, name)
    assert archive.oci_only
    path = as_tar(archive, converted)
    # The containerd store names an image by its index's or manifest's digest.
    target = target_digest(path)
    theirs = loaded_answer(modern_docker_containerd, path, target)
    document = dict(members(theirs))
    assert document["Id"] == f'"{target}"'
    dropped = DAEMON_ONLY | CONTAINERD_ONLY
    bare = bare_ref_name(path)
    if bare is not None:
        # A layout that names its image only by a tag ("base", as skopeo's oci:DIR:base and
        # umoci write) is stored by the containerd store under that bare word, a name no
        # classic-store load gives: the classic stores' answers are the promise.
        assert json.loads(document["RepoTags"]) == [bare]
        dropped |= CONVERTED
    assert_same(imginspect_json(archive), theirs, dropped)


# -- archives docker refuses ----------------------------------------------------------------------

REFUSED_CASES = [
    pytest.param(group, name, id=name) for group, names in REFUSED.items() for name in names
]


@pytest.mark.parametrize(("group", "name"), REFUSED_CASES)
def test_an_archive_docker_refuses_exits_2_in_one_line(
    request: pytest.FixtureRequest, modern_docker: ModernDaemon, group: str, name: str
) -> None:
    archive = archive_of(request, group, name)
    refused = modern_docker.docker("load", "-i", str(archive.path), check=False)
    assert (refused.returncode, refused.stdout) == (1, b""), refused
    assert refused.stderr.startswith(b"invalid diffID for layer 0: expected "), refused.stderr
    # With --json the array is still closed, as when no image is found (docs/reliability.md).
    for args, stdout in ((["--json"], b"[]\n"), ([], b"")):
        result: Run = run_bare(*args, archive.argument)
        assert (result.code, result.stdout) == (ExitCode.USAGE, stdout), result
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(f"Error: {archive.path}: "), result.stderr
        assert "diff" in result.stderr.lower(), result.stderr


@pytest.mark.parametrize("name", REFUSED_BY_20_10)
def test_docker_20_10_refuses_what_only_newer_docker_loads(
    request: pytest.FixtureRequest, docker_daemon: DockerDaemon, converted: Path, name: str
) -> None:
    archive = archive_of(request, REFUSED_BY_20_10[name], name)
    path = loadable(archive, converted)
    refused = docker_daemon.docker("load", "-i", str(path), check=False)
    assert refused.returncode == 1, refused
