"""Archives read as docker load reads them: each one docker 28 loads is read, each one it
refuses is refused in one line with exit 2, and dockerd 28 is asked to agree on every case.

The archives are made by hand: what docker 25+, BuildKit and umoci write that the common
writers do not (a null list of manifests, null diff_ids and history, no layers, layer tars
without their end), links inside the archive, and zstd.
"""

from __future__ import annotations

import copy
import gzip
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from inspector.errors import ArchiveError, ExitCode, ImginspectError
from inspector.render.view import render_view
from inspector.sources.archive import reader as archive
from inspector.sources.archive.names import parse_source
from tests.archive_builder import (
    OCI_INDEX,
    OCI_MANIFEST,
    Image,
    Member,
    blob_path,
    compact,
    descriptor,
    docker_archive,
    make_image,
    make_layer,
    oci_layout,
    oci_manifest,
    sha256,
    tar_bytes,
    tar_of,
    write,
)
from tests.fuzzing import budget
from tests.helpers import NOW, read, run_bare
from tests.modern_daemon_fixture import ModernDaemon

# -- the archives ---------------------------------------------------------------------------


def _untagged_docker25() -> bytes:
    # docker 25+ `docker save` of an image without a tag: index.json lists nothing.
    files = oci_layout([make_image(tags=["load/untagged:1"])], with_docker_manifest=True)
    index = json.loads(files["index.json"])
    index["manifests"] = None
    files["index.json"] = compact(index)
    manifest = json.loads(files["manifest.json"])
    manifest[0]["RepoTags"] = None
    files["manifest.json"] = compact(manifest)
    return tar_of(files)


def _scratch(tag: str, *, drop: bool = False) -> Image:
    """A BuildKit `FROM scratch` image with no layer: null diff_ids and history (or none)."""
    image = make_image([], tags=[tag])
    if drop:
        del image.config["rootfs"]["diff_ids"], image.config["history"]
    else:
        image.config["rootfs"]["diff_ids"] = image.config["history"] = None
    return image


def _empty_umoci() -> bytes:
    # What `umoci init` and `umoci new` make: no layer, no history, an empty config.
    image = make_image([], tags=["load/umoci-empty:1"], config={})
    del image.config["history"]
    return tar_of(docker_archive([image]))


_CUT_FILES = {"a/b.txt": b"x" * 700}


def _cut_layer(end: int, tag: str, *, gzipped: bool = False) -> bytes:
    """An image whose one layer's tar is cut `end` bytes after its last member's data begins
    (the tar: a directory, a file header, 700 bytes of data, padding, the end blocks)."""
    layer = make_layer(_CUT_FILES)[: 2 * 512 + end]
    image = make_image([_CUT_FILES], tags=[tag])
    image.config["rootfs"]["diff_ids"] = [sha256(layer)]
    stored = gzip.compress(layer, mtime=0) if gzipped else layer
    return tar_of(docker_archive([Image([stored], image.config, [tag])]))


def _linked(layer: str, links: Callable[[str], list[Member]], tag: str) -> bytes:
    """A docker-archive whose manifest.json names its one layer `layer` (a file of 100 bytes,
    in a directory named `{dir}`), with the links links(that directory's name) after it."""
    image = make_image([{"a": b"a" * 100}], tags=[tag])
    files = docker_archive([image])
    real = next(name for name in files if name.endswith("/layer.tar"))
    directory = real.partition("/")[0]
    manifest = json.loads(files["manifest.json"])
    manifest[0]["Layers"] = [layer.format(dir=directory)]
    files["manifest.json"] = compact(manifest)
    return tar_bytes([*files.items(), *links(directory)])


def _through(target: str, tag: str) -> bytes:
    """The layer named through `via`, a symlink to target (`{dir}`: the layer's directory)."""
    return _linked(
        "via/layer.tar",
        lambda directory: [Member("via", "symlink", target.format(dir=directory))],
        tag,
    )


def _zstd_layers(tag: str, *, swapped: bool = False) -> bytes:
    image = make_image([{"a": b"a" * 100}, {"b": b"b"}], tags=[tag])
    packed = [zstandard.ZstdCompressor().compress(layer) for layer in image.layers]
    if swapped:  # each layer carries the other's content: both diff-IDs are wrong
        packed.reverse()
    return tar_of(docker_archive([Image(packed, image.config, [tag], image.layers)]))


def _rootfs_null() -> bytes:
    image = make_image([], tags=["load/no-rootfs:1"])
    image.config["rootfs"] = None
    return tar_of(docker_archive([image]))


@dataclass(frozen=True)
class Case:
    make: Callable[[], bytes]
    size: int | None = None  # what docker counts, for an archive it loads
    refused: str | None = None  # what the one line says, for an archive it refuses


_SIZE_A = 100  # the one layer of _linked and _through: a file of 100 bytes
CASES: dict[str, Case] = {
    "docker 25 save of an untagged image (null manifests)": Case(_untagged_docker25, 6),
    "BuildKit scratch image (null diff_ids and history)": Case(
        lambda: tar_of(docker_archive([_scratch("load/scratch:1")])), 0
    ),
    "BuildKit scratch image as docker 25 saves it": Case(
        lambda: tar_of(oci_layout([_scratch("load/scratch:2")], with_docker_manifest=True)), 0
    ),
    "a config without diff_ids or history": Case(
        lambda: tar_of(docker_archive([_scratch("load/scratch:3", drop=True)])), 0
    ),
    "no layers and no history (umoci init, new)": Case(_empty_umoci, 0),
    "a layer tar without padding or end blocks": Case(lambda: _cut_layer(700, "load/cut:1"), 700),
    "a gzipped layer tar without its end": Case(
        lambda: _cut_layer(700, "load/cut:2", gzipped=True), 700
    ),
    "a layer tar that stops in its padding": Case(lambda: _cut_layer(800, "load/cut:3"), 700),
    "the layer through a symlinked directory": Case(
        lambda: _through("{dir}", "load/link:1"), _SIZE_A
    ),
    "the layer through a symlink from the archive's root": Case(
        lambda: _through("/{dir}", "load/link:2"), _SIZE_A
    ),
    # docker follows links in the directory it unpacks into, as if it were the root: `..`
    # stops there, so even this link leads inside.
    "the layer through a symlink that climbs above the root": Case(
        lambda: _through("../../../{dir}", "load/link:3"), _SIZE_A
    ),
    "the layer through a chain of symlinks": Case(
        lambda: _linked(
            "one/layer.tar",
            lambda d: [Member("one", "symlink", "x/../two"), Member("two", "symlink", f"./{d}/")],
            "load/link:4",
        ),
        _SIZE_A,
    ),
    "unused symlinks out of the archive": Case(
        lambda: _linked(
            "{dir}/layer.tar",
            lambda d: [
                Member("out", "symlink", "../../etc/passwd"),
                Member("abs", "symlink", "/etc/passwd"),
            ],
            "load/link:5",
        ),
        _SIZE_A,
    ),
    # docker reads a member named /x as the archive's x, and a name or hard link with a ..
    # that stays inside as what it leads to.
    "members named from the root or through a ..": Case(
        lambda: tar_of(
            docker_archive([make_image(tags=["load/names:1"])]),
            extra=[
                ("/tmp/imginspect-escape", b"x"),
                ("blobs/../x", b"x"),
                Member("h", "hardlink", "/x"),
                Member("i", "hardlink", "q/../x"),
            ],
        ),
        6,
    ),
    "zstd layers": Case(lambda: _zstd_layers("load/zstd:1"), 101),
    "a zstd-compressed archive": Case(
        lambda: zstandard.ZstdCompressor().compress(
            tar_of(docker_archive([make_image(tags=["load/zstd:2"])]))
        ),
        6,
    ),
    # Refused by both.
    "a symlink loop": Case(
        lambda: _linked(
            "loop/layer.tar",
            lambda d: [Member("loop", "symlink", "ring"), Member("ring", "symlink", "loop")],
            "load/loop:1",
        ),
        refused="loop/layer.tar leads into a symlink loop at loop",
    ),
    "a symlink to a path below itself": Case(
        lambda: _linked(
            "deep/layer.tar", lambda d: [Member("deep", "symlink", "deep/x")], "load/loop:2"
        ),
        refused="deep/layer.tar leads into a symlink loop at deep",
    ),
    "a member whose name climbs out": Case(
        lambda: tar_of(docker_archive([make_image()]), extra=[Member("x/../../s", "symlink", "a")]),
        refused="refusing the member 'x/../../s': its name leaves the archive",
    ),
    "a hard link that climbs out": Case(
        lambda: tar_of(
            docker_archive([make_image()]), extra=[("a", b"x"), Member("h", "hardlink", "../a")]
        ),
        refused="refusing the hard link 'h' -> '../a'",
    ),
    "a hard link to no member": Case(
        lambda: tar_of(docker_archive([make_image()]), extra=[Member("h", "hardlink", "a")]),
        refused="the hard link 'h' names 'a', which no member before it is",
    ),
    "zstd layers carrying each other's content": Case(
        lambda: _zstd_layers("load/zstd:3", swapped=True),
        refused="does not match the config's diff-ID",
    ),
    "a config whose rootfs is null": Case(_rootfs_null, refused="has no rootfs"),
    "a layer tar that stops inside a file's data": Case(
        lambda: _cut_layer(600, "load/cut:4"), refused="the tar ends inside a member's data"
    ),
    "a corrupt zstd-compressed archive": Case(
        lambda: (
            zstandard.ZstdCompressor().compress(tar_of(docker_archive([make_image()])))[:-9]
            + b"\x00" * 9
        ),
        refused="the compressed data",
    ),
}
LOADED = {name: case for name, case in CASES.items() if case.refused is None}
REFUSED = {name: case for name, case in CASES.items() if case.refused is not None}


@pytest.mark.parametrize("case", LOADED.values(), ids=LOADED.keys())
def test_an_archive_docker_loads_is_read_with_its_size(case: Case, tmp_path: Path) -> None:
    source = write(tmp_path / "a.tar", case.make())
    result = run_bare("-f", "{{.Size}}", str(source))
    assert result.code == ExitCode.OK, result.stderr
    assert result.stdout == f"{case.size}\n".encode()


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
def test_an_archive_docker_refuses_is_refused_in_one_line(case: Case, tmp_path: Path) -> None:
    source = write(tmp_path / "a.tar", case.make())
    result = run_bare(str(source))
    assert result.code == ExitCode.USAGE, result.stderr
    assert result.stdout == b""
    assert result.stderr.startswith(f"Error: {source}: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert case.refused is not None and case.refused in result.stderr


@pytest.mark.parametrize("name", CASES.keys())
def test_dockerd_28_loads_or_refuses_each_as_imginspect_does(
    modern_docker: ModernDaemon, name: str, tmp_path: Path
) -> None:
    case = CASES[name]
    source = write(tmp_path / "a.tar", case.make())
    before = set(modern_docker.docker("image", "ls", "-aq", "--no-trunc").stdout.split())
    loaded = modern_docker.docker("load", "-i", str(source), check=False)
    after = set(modern_docker.docker("image", "ls", "-aq", "--no-trunc").stdout.split())
    new = sorted(image.decode() for image in after - before)
    try:
        if case.refused is not None:
            assert loaded.returncode != 0, loaded.stdout
            assert new == []
            return
        assert loaded.returncode == 0, loaded.stderr
        ours = read(source)
        theirs = json.loads(modern_docker.docker("image", "inspect", ours["Id"]).stdout)[0]
        assert theirs["Size"] == ours["Size"] == case.size
        assert (theirs["RootFS"].get("Layers") or []) == (ours["RootFS"].get("Layers") or [])
        assert theirs["RepoTags"] == ours["RepoTags"]
    finally:
        for image in new:
            modern_docker.docker("rmi", "-f", image, check=False)


def test_a_symlink_loop_in_a_directory_layout_is_called_a_loop(tmp_path: Path) -> None:
    root = tmp_path / "unpacked"
    root.mkdir()
    image = make_image(tags=["load/loop:3"])
    files = docker_archive([image])
    manifest = json.loads(files["manifest.json"])
    manifest[0]["Layers"] = ["loop/layer.tar"]
    files["manifest.json"] = compact(manifest)
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "loop").symlink_to("ring")
    (root / "ring").symlink_to("loop")
    with pytest.raises(ArchiveError, match=r"loop/layer\.tar leads into a symlink loop"):
        read(root)


def test_a_buildkit_scratch_oci_layout_has_no_layers(tmp_path: Path) -> None:
    source = write(tmp_path / "a.tar", tar_of(oci_layout([_scratch("load/scratch:4")])))
    got = read(source)
    assert got["Size"] == 0
    assert not got["RootFS"].get("Layers")


# -- what the messages name -----------------------------------------------------------------


def test_entries_without_blobs_are_named_by_their_ref_name_or_their_digest(
    tmp_path: Path,
) -> None:
    named, bare = make_image(tags=["example/app:1"]), make_image([{"b": b"b"}], tags=[])
    files = oci_layout([named, bare])
    index = json.loads(files["index.json"])
    for entry in index["manifests"]:
        del files[f"blobs/sha256/{entry['digest'].partition(':')[2]}"]
    result = run_bare(str(write(tmp_path / "a.tar", tar_of(files))))
    assert result.code == ExitCode.USAGE, result.stderr
    unnamed = index["manifests"][1]["digest"]
    assert result.stderr.count("\n") == 1
    assert (
        f"docker.io/example/app:1, 1 for linux/amd64; {unnamed} for linux/amd64 are listed, "
        "but their blobs are not in the archive"
    ) in result.stderr


def _regclient_like() -> tuple[dict[str, bytes], list[str]]:
    """A layout shaped like regclient's testrepo: a named index of two platforms (one's blobs
    left out), two image manifests sharing one config, an artifact, an index of artifacts, and
    an attestation-like artifact naming an image as its subject. Also: the lines the listing
    should hold, by name and platform."""
    files: dict[str, bytes] = {"oci-layout": compact({"imageLayoutVersion": "1.0.0"})}
    amd = make_image([{"amd": b"1"}], tags=[])
    arm = make_image([{"arm": b"2"}], tags=[], architecture="arm64")
    platforms = []
    for image in (amd, arm):
        manifest = oci_manifest(image, files)
        files[blob_path(manifest)] = manifest
        platform = {"architecture": image.config["architecture"], "os": "linux"}
        platforms.append(descriptor(OCI_MANIFEST, manifest, platform=platform))
    del files[blob_path(oci_manifest(arm, {}))]  # the arm64 image's blobs are left out
    inner = compact({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": platforms})
    files[blob_path(inner)] = inner
    top = [descriptor(OCI_INDEX, inner, annotations={"org.opencontainers.image.ref.name": "b1"})]
    shared = make_image([{"s": b"s"}], tags=[])
    for name in ("a-docker", "a-oci"):
        # Two manifests of one config: the second differs by an annotation only.
        document = json.loads(oci_manifest(shared, files))
        if name == "a-oci":
            document["annotations"] = {"made-by": "another writer"}
        manifest = compact(document)
        files[blob_path(manifest)] = manifest
        ref = {"org.opencontainers.image.ref.name": name}
        top.append(descriptor(OCI_MANIFEST, manifest, annotations=ref))
    empty = b"{}"
    files[blob_path(empty)] = empty
    artifact = compact(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/example.sbom",
            "config": descriptor("application/vnd.oci.empty.v1+json", empty),
            "layers": [descriptor("application/example.sbom.breakfast", empty)],
            "subject": top[1] | {"annotations": {}},
        }
    )
    files[blob_path(artifact)] = artifact
    top.append(
        descriptor(OCI_MANIFEST, artifact, annotations={"org.opencontainers.image.ref.name": "a1"})
    )
    artifacts = compact(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "artifactType": "application/example.artifacts",
            "manifests": [descriptor(OCI_MANIFEST, artifact)],
        }
    )
    files[blob_path(artifacts)] = artifacts
    top.append(
        descriptor(OCI_INDEX, artifacts, annotations={"org.opencontainers.image.ref.name": "ai"})
    )
    top.append(
        descriptor(
            OCI_INDEX,
            compact({"manifests": [descriptor(OCI_MANIFEST, artifact, artifactType="x/y")]}),
            artifactType="application/example.referrers",
        )
    )
    files["index.json"] = compact({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": top})
    return files, [
        "b1  linux/amd64",
        "b1  linux/arm64",
        "a-docker  linux/amd64",
        "a-oci  linux/amd64",
    ]


def test_a_layout_of_images_and_artifacts_lists_the_images_it_counts(tmp_path: Path) -> None:
    files, expected = _regclient_like()
    result = run_bare(str(write(tmp_path / "a.tar", tar_of(files))))
    assert result.code == ExitCode.USAGE, result.stderr
    header, *listing = result.stderr.splitlines()
    assert "lists 4 images, 3 of them with their blobs; choose one" in header
    assert len(listing) == 4
    for line, (position, wanted) in zip(listing, enumerate(expected), strict=True):
        assert line.strip().startswith(f"@{position}  {wanted}")
    assert listing[1].endswith("(blobs not in the archive)")
    assert "a1" not in result.stderr and "ai" not in result.stderr


def test_two_manifests_sharing_a_config_are_two_images(tmp_path: Path) -> None:
    files, _ = _regclient_like()
    source = write(tmp_path / "a.tar", tar_of(files))
    assert read(f"oci-archive:{source}:a-docker")["Id"] == read(f"oci-archive:{source}:a-oci")["Id"]
    with pytest.raises(ImginspectError, match="is listed, but its blobs are not in the archive"):
        read(f"oci-archive:{source}:b1", platform="linux/arm64")


# -- nulls and empty lists anywhere ---------------------------------------------------------

_ODD: st.SearchStrategy[object] = st.sampled_from([None, [], {}, "", 0, "absent"])
_CONFIG_KEYS = ("history", "rootfs", "config", "created", "os", "architecture", "author")


def _put(document: dict[str, Any], key: str, value: object) -> None:
    if value == "absent":
        document.pop(key, None)
    else:
        document[key] = copy.deepcopy(value)  # never one object in two places


@budget(60, 3000)
@given(
    layers=st.integers(0, 2),
    config=st.dictionaries(st.sampled_from(_CONFIG_KEYS), _ODD, max_size=4),
    rootfs=st.dictionaries(st.sampled_from(["type", "diff_ids"]), _ODD, max_size=2),
    index=st.sampled_from(["keep", None, [], "absent"]),
    manifest_layers=st.sampled_from(["keep", None, []]),
)
def test_nulls_and_empty_lists_are_read_or_refused_never_a_crash(
    layers: int,
    config: dict[str, object],
    rootfs: dict[str, object],
    index: object,
    manifest_layers: object,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    image = make_image([{f"f{n}": b"x" * n} for n in range(layers)], tags=["fuzz/odd:1"])
    document = copy.deepcopy(image.config)
    for key, value in config.items():
        _put(document, key, value)
    if isinstance(document.get("rootfs"), dict):
        for key, value in rootfs.items():
            _put(document["rootfs"], key, value)
    odd = Image(image.layers, document, image.tags)
    # An OCI index names the platform from the config: without one, only a docker save.
    oci = not {"os", "architecture"} & config.keys()
    files = oci_layout([odd], with_docker_manifest=True) if oci else docker_archive([odd])
    if index != "keep" and oci:
        listing = json.loads(files["index.json"])
        _put(listing, "manifests", index)
        files["index.json"] = compact(listing)
    if manifest_layers != "keep":
        manifest = json.loads(files["manifest.json"])
        manifest[0]["Layers"] = manifest_layers
        files["manifest.json"] = compact(manifest)
    source = write(tmp_path_factory.mktemp("odd") / "a.tar", tar_of(files))
    try:
        image_read = archive.read_image(parse_source(str(source)))
    except ArchiveError as exc:
        assert "\n" not in str(exc)
        return
    assert image_read.inspect is not None
    assert image_read.history is not None
    render_view([image_read], width=100, color=False, now=NOW, tz=UTC)


def test_a_umoci_insert_layer_without_its_tar_end_reads_as_docker_loads_it(
    modern_docker: ModernDaemon, tmp_path: Path
) -> None:
    # umoci insert writes a layer tar that stops after its file's data: no padding, no end.
    layout, added = tmp_path / "layout", tmp_path / "x"
    added.write_bytes(b"hi\n")
    for argv in (
        ["umoci", "init", "--layout", str(layout)],
        ["umoci", "new", "--image", f"{layout}:t"],
        ["umoci", "insert", "--image", f"{layout}:t", str(added), "/etc/x"],
        ["skopeo", "copy", "-q", f"oci:{layout}:t", f"docker-archive:{tmp_path / 'x.tar'}:u/i:1"],
    ):
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
    blobs = [path.read_bytes() for path in (layout / "blobs" / "sha256").iterdir()]
    layer = next(gzip.decompress(blob) for blob in blobs if blob[:2] == b"\x1f\x8b")
    assert len(layer) % 512 != 0  # the premise: the tar is cut short
    assert read(f"oci:{layout}:t")["Size"] == read(tmp_path / "x.tar")["Size"] == 3
    modern_docker.docker("load", "-i", str(tmp_path / "x.tar"))
    try:
        theirs = json.loads(modern_docker.docker("image", "inspect", "u/i:1").stdout)[0]
    finally:
        modern_docker.docker("rmi", "u/i:1")
    assert theirs["Size"] == 3
