"""--files and --contents against GNU tar on what the daemon itself writes.

The images are written layer by layer (tests/layer_images.py) and loaded into each test
daemon (DAEMONS); no container runs. The final filesystem's oracle is `docker create` then `docker
export`, listed by `tar -tv`: `--files` must list the same paths with the same types, modes,
owners, sizes and link targets. Each layer's oracle is the layer tar `docker save` writes:
`--contents --json`, of the image in the daemon and of the archive docker save wrote, must report
its members as the layer's entries and its whiteouts as removals (tests/layer_changes.py).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.daemon_fixture import DockerCli
from tests.layer_changes import expectations, layer_entries, layer_problems
from tests.layer_images import MANY_FILES, LayerImage, archive, every_image
from tests.measure import MIB, measured_cli
from tests.tar_listing import (
    LISTING_ENV,
    Listed,
    differences,
    final_tree,
    parse_listing,
    tar_list,
    under,
)

NAMES = [image.name for image in every_image()]
# Each daemon applies layers and writes them back its own way: dockerd 20.10 (vfs), dockerd 28
# with the classic image store (vfs), and dockerd 28 with containerd's (which saves an OCI
# layout, and unpacks through a containerd snapshotter).
DAEMONS = {
    "dockerd-20.10": "docker_daemon",
    "dockerd-28": "modern_docker",
    "dockerd-28-containerd": "modern_docker_containerd",
}
# What docker adds to every container's filesystem, whatever the image holds.
DOCKER_ADDS = (".dockerenv", "etc/hosts", "etc/hostname", "etc/resolv.conf", "etc/mtab")
DOCKER_MOUNTS = ("dev", "proc", "sys")
# The 100,000-file image takes seconds to read, not minutes.
LARGE_TIMEOUT = 120.0
# What an entry may cost in memory, over a run on an image of three files: a slotted record,
# its path and its place in the merged tree, which every form keeps, with room for the
# allocator's slack. A dict an entry, or a form's output held whole as text, goes over it.
BYTES_PER_ENTRY = 1200
# The many image's entries: its files, their 1,000 directories and the one above them.
MANY_ENTRIES = MANY_FILES + MANY_FILES // 100 + 1


@pytest.fixture(scope="module", params=DAEMONS)
def daemon(request: pytest.FixtureRequest) -> DockerCli:
    """Each daemon in turn, with the docker CLI 28 that drives it."""
    daemon = request.getfixturevalue(DAEMONS[request.param])
    assert isinstance(daemon, DockerCli)
    return daemon


@pytest.fixture(scope="module")
def loaded(
    daemon: DockerCli, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, LayerImage]]:
    """Every image of layer_images in the daemon, removed again after the daemon's tests."""
    images = every_image()
    path = tmp_path_factory.mktemp("layer-images") / "images.tar"
    path.write_bytes(archive(images))
    daemon.docker("load", "-i", str(path))
    path.unlink()
    yield {image.name: image for image in images}
    daemon.docker("image", "rm", *(image.tag for image in images), check=False)


def run(daemon: DockerCli, *args: str) -> subprocess.CompletedProcess[bytes]:
    """imginspect on the test daemon, listing as tar lists (UTF-8 names, UTC)."""
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        env={**daemon.env(), **LISTING_ENV},
        capture_output=True,
        timeout=LARGE_TIMEOUT,
        check=False,
    )


def listed_by_imginspect(daemon: DockerCli, *args: str) -> list[Listed]:
    done = run(daemon, *args)
    assert done.returncode == 0 and not done.stderr, done.stderr.decode(errors="replace")
    return parse_listing(done.stdout.decode())


@pytest.fixture(scope="module")
def exported(
    daemon: DockerCli,
    loaded: dict[str, LayerImage],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], list[Listed]]:
    """An image's filesystem as `docker export` writes it from a created container, listed by
    tar, without what docker adds to every container."""
    scratch = tmp_path_factory.mktemp("exported")

    @cache
    def listing(name: str) -> list[Listed]:
        image = loaded[name]
        container = daemon.docker("create", image.tag).stdout.decode().strip()
        path = scratch / f"{name}.tar"
        try:
            daemon.docker("export", "-o", str(path), container)
        finally:
            daemon.docker("rm", container)
        held = image_paths(image)
        added = {*DOCKER_ADDS, *(parent for parent in ("etc",) if parent not in held)}
        entries = [
            entry
            for entry in tar_list(path)
            if entry.path not in added
            and not any(under([entry.path], mount) for mount in DOCKER_MOUNTS)
        ]
        path.unlink()
        return entries

    return listing


def image_paths(image: LayerImage) -> set[str]:
    """Every path the image's layers name, and every directory above one."""
    paths: set[str] = set()
    for data in image.layers:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for name in tar.getnames():
                parts = name.strip("/").split("/")
                paths.update("/".join(parts[: n + 1]) for n in range(len(parts)))
    return paths


@pytest.mark.parametrize("name", NAMES)
def test_files_lists_the_filesystem_docker_exports(
    daemon: DockerCli,
    loaded: dict[str, LayerImage],
    exported: Callable[[str], list[Listed]],
    name: str,
) -> None:
    theirs = final_tree(exported(name))
    ours = final_tree(listed_by_imginspect(daemon, "--files", loaded[name].tag))
    problems = differences(ours, theirs)
    assert not problems, f"{len(problems)} paths differ:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize(
    ("name", "prefix"),
    [("opaque", "/opt/app"), ("whiteouts", "/var"), ("names", "/données"), ("links", "/bin")],
)
def test_files_with_a_prefix_lists_only_what_is_under_it(
    daemon: DockerCli,
    loaded: dict[str, LayerImage],
    exported: Callable[[str], list[Listed]],
    name: str,
    prefix: str,
) -> None:
    """A prefix is a whole path: /opt/app holds /opt/app/new, not /opt/app-data."""
    every = final_tree(exported(name))
    theirs = {path: every[path] for path in under(every, prefix.strip("/"))}
    assert theirs, f"nothing under {prefix} in {name}: the case tests nothing"
    ours = final_tree(listed_by_imginspect(daemon, f"--files={prefix}", loaded[name].tag))
    assert sorted(ours) == sorted(theirs)
    # A hard link's group may reach outside the prefix: the whole-tree test compares those.
    alone = [path for path in theirs if "same file as" not in str(theirs[path])]
    problems = differences({p: ours[p] for p in alone}, {p: theirs[p] for p in alone})
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("name", NAMES)
def test_contents_json_reports_each_saved_layer_as_tar_lists_it(
    daemon: DockerCli,
    loaded: dict[str, LayerImage],
    tmp_path: Path,
    name: str,
) -> None:
    saved = tmp_path / "saved.tar"
    daemon.docker("save", "-o", str(saved), loaded[name].tag)
    with tarfile.open(saved) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        layer_names = manifest[0]["Layers"]
        tar.extractall(tmp_path / "saved", members=[tar.getmember(n) for n in layer_names])
    listings = [tar_list(tmp_path / "saved" / layer_name) for layer_name in layer_names]
    assert len(listings) == len(loaded[name].layers)

    # The image as the daemon streams it, and the archive docker save wrote, read as an archive.
    problems = []
    for source in (loaded[name].tag, str(saved)):
        done = run(daemon, "--contents", "--json", source)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        layers = layer_entries(json.loads(done.stdout))
        assert len(layers) == len(listings), source
        problems += [
            f"{source}: layer {index}: {problem}"
            for index, (expected, entries) in enumerate(
                zip(expectations(listings), layers, strict=True)
            )
            for problem in layer_problems(expected, entries)
        ]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize(
    "form", [["--contents"], ["--contents", "--json"], ["--files"]], ids=["text", "json", "files"]
)
def test_contents_of_100000_files_costs_little_memory_per_entry(
    daemon: DockerCli, loaded: dict[str, LayerImage], form: list[str]
) -> None:
    """The entries are kept, not the files' bytes, and the output is not held whole: the peak
    over a run on an image of three files grows by less than BYTES_PER_ENTRY an entry."""
    env = {**daemon.env(), **LISTING_ENV}
    base = measured_cli(*form, loaded["overwrite"].tag, env=env, timeout=LARGE_TIMEOUT)
    large = measured_cli(*form, loaded["many"].tag, env=env, timeout=LARGE_TIMEOUT)
    assert base.run.code == 0 and large.run.code == 0, (base.run.stderr, large.run.stderr)
    per_entry = (large.peak_rss - base.peak_rss) / MANY_ENTRIES
    assert per_entry < BYTES_PER_ENTRY, (
        f"{' '.join(form)}: {per_entry:.0f} bytes an entry "
        f"(peak {large.peak_rss / MIB:.0f} MiB, {base.peak_rss / MIB:.0f} MiB for three files)"
    )
