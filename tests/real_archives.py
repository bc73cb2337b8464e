"""Archives for the `docker load` oracle: written by the real tools, and made by hand.

Every image starts small and hand-made (`base_image`: two tiny layers, a config with the
fields people set), so nothing is pulled. The tools then write it their own way: `docker save`
of dockerd 20.10 and of dockerd 28 (classic and containerd stores), `podman save` in its three
formats, skopeo to an OCI layout (gzip and zstd), an oci-archive and a docker-archive, and
umoci building images of its own. The hand-made cases are the odd archives real tools write
(null lists, tars without end blocks, zstd, `created` spelt other ways) in the smallest form.

An `Archive` says where the archive is, which image docker should load from it (its config's
digest), and whether docker loads it at all.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import shutil
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import zstandard

from tests.archive_builder import (
    CREATED,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Image,
    Member,
    blob_path,
    compact,
    descriptor,
    docker_archive,
    make_image,
    multi_platform_layout,
    oci_layout,
    sha256,
    tar_of,
)
from tests.daemon_fixture import DockerCli, run_tool, skip_or_fail

OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
SKOPEO = "/usr/bin/skopeo"
UMOCI = "/usr/bin/umoci"
# The tag every tool-written archive gives the base image.
BASE_TAG = "imgi-oracle/base:1"


@dataclasses.dataclass(frozen=True)
class Archive:
    """An archive to read, and what docker makes of it."""

    name: str
    path: Path
    # The config's digest: the ID the classic store gives the loaded image.
    image_id: str
    # Whether `docker load` takes it (the refusals are the others).
    loads: bool = True
    # An OCI layout without manifest.json: the classic store cannot load it as it is.
    oci_only: bool = False
    # The name to read inside an archive holding several images, as imginspect spells it.
    reference: str | None = None
    # The platform to pick from a multi-platform archive.
    platform: str | None = None

    @property
    def argument(self) -> str:
        """The archive as imginspect is given it."""
        if self.reference is None:
            return str(self.path)
        transport = "oci" if self.path.is_dir() else "oci-archive"
        return f"{transport}:{self.path}:{self.reference}"


def require_tool(path: str, package: str) -> None:
    if not os.access(path, os.X_OK):
        skip_or_fail(f"{path} is not installed (Debian package {package})")


# -- the base image -----------------------------------------------------------------------


def base_config() -> dict[str, Any]:
    return {
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "APP_MODE=oracle"],
        "Entrypoint": ["/bin/app"],
        "Cmd": ["--serve"],
        "WorkingDir": "/srv",
        "User": "1000:1000",
        "ExposedPorts": {"8080/tcp": {}},
        "Volumes": {"/data": {}},
        "Labels": {"org.opencontainers.image.title": "oracle <base> & co"},
        "StopSignal": "SIGTERM",
    }


BASE_HISTORY: list[dict[str, Any]] = [
    {"created": CREATED, "created_by": "COPY app /bin/app"},
    {"created": CREATED, "created_by": 'ENV APP_MODE="oracle"', "empty_layer": True},
    {"created": CREATED, "created_by": "COPY app.conf /etc/app.conf", "comment": "buildkit"},
]
BASE_FILES = ({"bin/app": b"#!/bin/sh\necho app\n"}, {"etc/app.conf": b"mode=oracle\n"})


def base_image(tags: Sequence[str] = (BASE_TAG,), salt: str = "", **changes: Any) -> Image:
    """Two tiny layers and a full config; `changes` replace or (as None) drop config keys.

    A salt makes the layers the image's own: docker reads (and checks) only the layers it
    does not hold yet, so a case whose layers it already has would load unchecked."""
    files = [{name: data + salt.encode() for name, data in layer.items()} for layer in BASE_FILES]
    image = make_image(files, tags=tags, config=base_config(), history=list(BASE_HISTORY))
    image.config["author"] = "oracle@example.com"
    for key, value in changes.items():
        if value is None:
            image.config.pop(key, None)
        else:
            image.config[key] = value
    return image


def without_end_blocks(layer: bytes, *, padded: bool = True) -> bytes:
    """The tar cut after its last member's data: no zero blocks, and (not padded) not even the
    rest of the data's last block, as umoci's `insert` writes them. The last byte of data is
    not a zero."""
    end = len(layer.rstrip(b"\0"))
    return layer[: -(-end // 512) * 512] if padded else layer[:end]


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def write_archive(directory: Path, name: str, files: Mapping[str, bytes], **options: Any) -> Path:
    path = directory / f"{name}.tar"
    path.write_bytes(tar_of(files, **options))
    return path


def tar_directory(root: Path, path: Path) -> Path:
    """A tar of the directory's contents, as `docker load` takes an OCI layout."""
    with tarfile.open(path, "w") as tar:
        for child in sorted(root.iterdir()):
            tar.add(child, arcname=child.name)
    return path


# -- hand-made cases ------------------------------------------------------------------------


def docker25_layout(image: Image, stored: Sequence[bytes], media_type: str) -> dict[str, bytes]:
    """docker 25's save layout (an OCI layout and manifest.json) of an image whose layers are
    stored as `stored` (compressed), each with `media_type`."""
    config = image.config_bytes
    files = {"oci-layout": compact({"imageLayoutVersion": "1.0.0"}), blob_path(config): config}
    layers = []
    for data in stored:
        files[blob_path(data)] = data
        layers.append(descriptor(media_type, data))
    manifest = compact(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": layers,
        }
    )
    files[blob_path(manifest)] = manifest
    annotations = {}
    if image.tags:
        annotations = {
            "io.containerd.image.name": f"docker.io/{image.tags[0]}",
            "org.opencontainers.image.ref.name": image.tags[0].rpartition(":")[2],
        }
    entry = descriptor(
        OCI_MANIFEST, manifest, **({"annotations": annotations} if annotations else {})
    )
    files["index.json"] = compact(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
    )
    files["manifest.json"] = compact(
        [
            {
                "Config": blob_path(config),
                "RepoTags": image.tags,
                "Layers": [blob_path(data) for data in stored],
            }
        ]
    )
    return files


def handmade_archives(directory: Path) -> list[Archive]:
    archives = []

    def case_image(name: str, **changes: Any) -> Image:
        return base_image(tags=[f"imgi-oracle/{name}:1"], salt=name, **changes)

    def add(name: str, image: Image, files: Mapping[str, bytes], **options: Any) -> None:
        loads = options.pop("loads", True)
        path = write_archive(directory, name, files, **options)
        archives.append(Archive(name, path, image.id, loads))

    base = case_image("handmade")
    add("handmade-docker-archive", base, docker_archive([base]))

    untagged = base_image(tags=(), salt="untagged")
    files = oci_layout([untagged], with_docker_manifest=True)
    index = json.loads(files["index.json"])
    index["manifests"] = None
    files["index.json"] = compact(index)
    manifest = json.loads(files["manifest.json"])
    manifest[0]["RepoTags"] = None
    files["manifest.json"] = compact(manifest)
    add("index-manifests-null", untagged, files)

    scratch = make_image([], tags=["imgi-oracle/scratch-null:1"], config={"Cmd": ["/x"]})
    scratch.config["rootfs"]["diff_ids"] = None
    scratch.config["history"] = None
    add("diff-ids-and-history-null", scratch, docker_archive([scratch]))

    # BuildKit's OCI exporter writes the same scratch image as an OCI layout.
    oci_scratch = make_image([], tags=["imgi-oracle/oci-scratch-null:1"], config={"Cmd": ["/y"]})
    oci_scratch.config["rootfs"]["diff_ids"] = None
    oci_scratch.config["history"] = None
    add(
        "oci-layout-diff-ids-and-history-null",
        oci_scratch,
        docker25_layout(oci_scratch, [], OCI_LAYER_GZIP),
    )

    empty = make_image([], tags=["imgi-oracle/no-layers:1"], config={}, history=[])
    add("no-layers", empty, docker_archive([empty]))

    cut = case_image("no-end-blocks")
    cut.layers = [without_end_blocks(layer) for layer in cut.layers]
    cut.config["rootfs"]["diff_ids"] = [sha256(layer) for layer in cut.layers]
    add("layer-tar-without-end-blocks", cut, docker_archive([cut]))

    unpadded = case_image("unpadded")
    unpadded.layers = [without_end_blocks(layer, padded=False) for layer in unpadded.layers]
    unpadded.config["rootfs"]["diff_ids"] = [sha256(layer) for layer in unpadded.layers]
    add("layer-tar-ending-inside-its-last-block", unpadded, docker_archive([unpadded]))

    gz = case_image("gzip-no-end-blocks")
    plain = [without_end_blocks(layer) for layer in gz.layers]
    gz.config["rootfs"]["diff_ids"] = [sha256(layer) for layer in plain]
    packed = [gzip.compress(layer, mtime=0) for layer in plain]
    add("gzip-layer-tar-without-end-blocks", gz, docker25_layout(gz, packed, OCI_LAYER_GZIP))

    zs = case_image("zstd-layers")
    add(
        "zstd-layers", zs, docker25_layout(zs, [zstd(layer) for layer in zs.layers], OCI_LAYER_ZSTD)
    )

    wrong = case_image("zstd-wrong")
    swapped = [zstd(wrong.layers[1]), zstd(wrong.layers[0])]
    add(
        "zstd-layer-with-another-layers-content",
        wrong,
        docker25_layout(wrong, swapped, OCI_LAYER_ZSTD),
        loads=False,
    )

    packed_image = case_image("zstd-archive")
    path = directory / "zstd-archive.tar.zst"
    path.write_bytes(zstd(tar_of(docker_archive([packed_image]))))
    archives.append(Archive("zstd-compressed-archive", path, packed_image.id))

    for name, created in (
        ("created-100000000Z", "2023-11-14T22:13:20.100000000Z"),
        ("created-500+02:00", "2023-11-14T22:13:20.500+02:00"),
    ):
        name = name.replace(":", "-")
        image = case_image(name.replace("+", "-").lower())
        image.config["created"] = created
        add(name, image, docker_archive([image]))

    null_created = case_image("created-null")
    null_created.config["created"] = None
    add("created-null", null_created, docker_archive([null_created]))

    bare = case_image("no-platform", architecture=None, os=None)
    add("no-architecture-or-os", bare, docker_archive([bare]))

    unknown = case_image("unknown-keys")
    unknown.config["config"] = {
        "Hostname": "builder",
        "X-Custom": {"a": 1},
        **unknown.config["config"],
        "ArgsEscaped": True,
    }
    unknown.config["x-tool"] = {"version": "1.0"}
    unknown.config["container"] = "0123456789ab"
    unknown.config["docker_version"] = "24.0.7"
    add("unknown-config-keys", unknown, docker_archive([unknown]))

    linked = case_image("symlinked-dir")
    files = docker_archive([linked])
    moved: dict[str, bytes] = {}
    for name, data in files.items():
        moved[f"store/{name}" if name.endswith(("layer.tar", "VERSION")) else name] = data
    manifest = json.loads(moved["manifest.json"])
    manifest[0]["Layers"] = [f"layers/{layer}" for layer in manifest[0]["Layers"]]
    moved["manifest.json"] = compact(manifest)
    add(
        "layer-path-through-symlinked-directory",
        linked,
        moved,
        extra=[Member("layers", "symlink", "store")],
    )

    return archives


def multi_platform_archive(directory: Path) -> Archive:
    """An OCI layout of one index: linux/amd64 and linux/arm64/v8, and an attestation."""
    amd64 = base_image(tags=[], salt="multi")
    arm64 = base_image(tags=[], salt="multi", architecture="arm64", variant="v8")
    layout = multi_platform_layout([amd64, arm64], ref_name="multi", attest=(0,))
    index = json.loads(layout.files["index.json"])
    index["manifests"][0]["annotations"]["io.containerd.image.name"] = (
        "docker.io/imgi-oracle/multi:1"
    )
    layout.files["index.json"] = compact(index)
    path = write_archive(directory, "multi-platform-index", layout.files)
    return Archive(
        "oci-index-two-platforms-and-attestation",
        path,
        amd64.id,
        oci_only=True,
        platform="linux/amd64",
    )


# -- what the real tools write --------------------------------------------------------------


def load_base(cli: DockerCli, directory: Path) -> tuple[str, str]:
    """Load the base image (tagged) and an untagged one; give the untagged one's config
    digest, and its ID as the daemon says it (the containerd store's is its manifest's)."""
    path = write_archive(directory, "base-docker-archive", docker_archive([base_image()]))
    cli.docker("load", "-i", str(path))
    untagged = base_image(tags=(), salt="untagged")
    untagged.config["author"] = "untagged@example.com"
    path = write_archive(directory, "untagged-docker-archive", docker_archive([untagged]))
    said = cli.docker("load", "-i", str(path)).stdout.decode()
    (loaded,) = [
        line.removeprefix("Loaded image ID: ")
        for line in said.splitlines()
        if line.startswith("Loaded image ID: ")
    ]
    return untagged.id, loaded


def docker_saves(cli: DockerCli, directory: Path, prefix: str) -> list[Archive]:
    """`docker save` of the base image by its tag, and of an untagged image by its ID."""
    untagged_id, loaded_id = load_base(cli, directory)
    tagged = directory / f"{prefix}-save.tar"
    cli.docker("save", "-o", str(tagged), BASE_TAG)
    bare = directory / f"{prefix}-save-untagged.tar"
    cli.docker("save", "-o", str(bare), loaded_id)
    return [
        Archive(f"{prefix}-save", tagged, base_image().id),
        Archive(f"{prefix}-save-untagged", bare, untagged_id),
    ]


def podman_saves(command: Sequence[str], env: Mapping[str, str], directory: Path) -> list[Archive]:
    """`podman load` of the base image, then `podman save` in each of its three formats."""
    path = write_archive(directory, "base-docker-archive", docker_archive([base_image()]))
    run_tool(*command, "load", "-i", str(path), env=env)
    archives = []
    for layout, name, oci_only in (
        ("docker-archive", "podman-docker-archive.tar", False),
        ("oci-archive", "podman-oci-archive.tar", True),
        ("oci-dir", "podman-oci-dir", True),
    ):
        target = directory / name
        run_tool(*command, "save", "--format", layout, "-o", str(target), BASE_TAG, env=env)
        archives.append(
            Archive(f"podman-save-{layout}", target, config_digest(target), oci_only=oci_only)
        )
    return archives


def skopeo_copies(directory: Path) -> list[Archive]:
    """skopeo copy of the base image's docker-archive to each destination it writes."""
    require_tool(SKOPEO, "skopeo")
    source = write_archive(directory, "base-docker-archive", docker_archive([base_image()]))
    archives = []
    for name, destination, options, oci_only in (
        ("skopeo-oci", f"oci:{directory / 'skopeo-oci'}:base", (), True),
        (
            "skopeo-oci-zstd",
            f"oci:{directory / 'skopeo-oci-zstd'}:base",
            ("--dest-compress-format", "zstd"),
            True,
        ),
        ("skopeo-oci-archive", f"oci-archive:{directory / 'skopeo-oci.tar'}:base", (), True),
        (
            "skopeo-docker-archive",
            f"docker-archive:{directory / 'skopeo-docker.tar'}:{BASE_TAG}",
            (),
            False,
        ),
    ):
        run_tool(SKOPEO, "copy", "--quiet", *options, f"docker-archive:{source}", destination)
        path = Path(destination.split(":")[1])
        archives.append(Archive(name, path, config_digest(path), oci_only=oci_only))
    return archives


def umoci_layouts(directory: Path) -> list[Archive]:
    """umoci's own images: `init` and `new` (no layers at all), and `insert` of a file then
    `repack` of an unpacked bundle with another one (two layers umoci wrote)."""
    require_tool(UMOCI, "umoci")
    empty = directory / "umoci-new"
    run_tool(UMOCI, "init", "--layout", str(empty))
    run_tool(UMOCI, "new", "--image", f"{empty}:empty")
    built = directory / "umoci-repacked"
    run_tool(UMOCI, "init", "--layout", str(built))
    run_tool(UMOCI, "new", "--image", f"{built}:start")
    payload = directory / "umoci-payload.txt"
    payload.write_text("inserted by umoci\n")
    run_tool(UMOCI, "insert", "--image", f"{built}:start", str(payload), "/etc/payload.txt")
    bundle = directory / "umoci-bundle"
    run_tool(UMOCI, "unpack", "--image", f"{built}:start", str(bundle))
    (bundle / "rootfs" / "srv").mkdir()
    (bundle / "rootfs" / "srv" / "repacked.txt").write_text("repacked\n")
    run_tool(UMOCI, "repack", "--image", f"{built}:repacked", str(bundle))
    run_tool(UMOCI, "rm", "--image", f"{built}:start")
    run_tool(UMOCI, "gc", "--layout", str(built))
    shutil.rmtree(bundle)
    return [
        Archive("umoci-init-new-no-layers", empty, config_digest(empty), oci_only=True),
        Archive("umoci-insert-repack", built, config_digest(built), oci_only=True),
    ]


def member_of(archive: Path, name: str) -> bytes:
    """A file of an archive, whether a directory or a tar."""
    if archive.is_dir():
        return (archive / name).read_bytes()
    with tarfile.open(archive) as tar:
        member = tar.extractfile(name)
        assert member is not None, name
        return member.read()


def blob_of(archive: Path, digest: str) -> bytes:
    return member_of(archive, blob_name(digest))


def target_digest(archive: Path) -> str:
    """The digest of the one manifest or index an OCI layout's index.json lists."""
    (entry,) = json.loads(member_of(archive, "index.json"))["manifests"]
    digest = entry["digest"]
    assert isinstance(digest, str)
    return digest


def bare_ref_name(archive: Path) -> str | None:
    """The name an OCI layout gives its one image when that is a bare tag ("base"), with no
    repository: no io.containerd.image.name, and a ref.name without "/" or ":"."""
    (entry,) = json.loads(member_of(archive, "index.json"))["manifests"]
    annotations = entry.get("annotations") or {}
    name = annotations.get("org.opencontainers.image.ref.name")
    if "io.containerd.image.name" in annotations or not isinstance(name, str):
        return None
    return None if "/" in name or ":" in name else name


def config_digest(archive: Path) -> str:
    """The config digest (the image ID) of the one image in an archive, as its tool wrote it:
    through manifest.json when there is one, else through index.json and the manifest."""
    try:
        (entry,) = json.loads(member_of(archive, "manifest.json"))
        return sha256(member_of(archive, entry["Config"]))
    except (KeyError, FileNotFoundError):
        manifest = json.loads(blob_of(archive, target_digest(archive)))
        digest = manifest["config"]["digest"]
        assert isinstance(digest, str)
        return digest


def loadable(archive: Archive, directory: Path) -> Path:
    """The archive as the classic store loads it: itself when it has a manifest.json, else the
    layout with the manifest.json docker 25+ writes beside one (the image's config and layers
    as they are: skopeo's conversion to a docker-archive would rewrite zstd layers, and
    refuses to). Its RepoTags are null: the tags come from the layout's names otherwise."""
    if not archive.oci_only:
        return archive.path
    target = directory / f"{archive.name}-with-manifest-json.tar"
    if target.exists():
        return target
    manifest = json.loads(blob_of(archive.path, target_digest(archive.path)))
    if "config" not in manifest:  # an index: the platform asked for
        system, _, architecture = (archive.platform or "linux/amd64").partition("/")
        (entry,) = [
            entry
            for entry in manifest["manifests"]
            if entry.get("platform", {}).get("os") == system
            and entry["platform"].get("architecture") == architecture.partition("/")[0]
        ]
        manifest = json.loads(blob_of(archive.path, entry["digest"]))
    docker_manifest = compact(
        [
            {
                "Config": blob_name(manifest["config"]["digest"]),
                "RepoTags": None,
                "Layers": [blob_name(layer["digest"]) for layer in manifest["layers"]],
            }
        ]
    )
    source = as_tar(archive, directory)
    with tarfile.open(source) as original, tarfile.open(target, "w") as tar:
        for member in original.getmembers():
            tar.addfile(member, original.extractfile(member) if member.isfile() else None)
        info = tarfile.TarInfo("manifest.json")
        info.size = len(docker_manifest)
        tar.addfile(info, io.BytesIO(docker_manifest))
    return target


def blob_name(digest: str) -> str:
    algorithm, _, hex_digest = digest.partition(":")
    return f"blobs/{algorithm}/{hex_digest}"


def as_tar(archive: Archive, directory: Path) -> Path:
    """The archive as `docker load` reads it: a directory layout is tarred."""
    if not archive.path.is_dir():
        return archive.path
    target = directory / f"{archive.name}.tar"
    if not target.exists():
        tar_directory(archive.path, target)
    return target
