"""Image archives built in the tests: docker save's layouts, OCI layouts, and broken ones.

A layout is a dict of path -> bytes (the files of the archive, in order); `tar_of` makes a
tar of one (optionally compressed, optionally with hostile members added), and `write_dir`
writes it as a directory. Images are small and made of real tars and real digests, so the
reader has to check everything it would check on a real one.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import hashlib
import io
import json
import lzma
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

EPOCH = 1_700_000_000
CREATED = "2023-11-14T22:13:20Z"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
IN_TOTO = "application/vnd.in-toto+json"
# How BuildKit marks an attestation manifest in an index, and names the manifest it describes.
ATTESTATION_TYPE_KEY = "vnd.docker.reference.type"
ATTESTATION_TYPE = "attestation-manifest"
ATTESTATION_DIGEST_KEY = "vnd.docker.reference.digest"
UNKNOWN_PLATFORM = {"architecture": "unknown", "os": "unknown"}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hex_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclasses.dataclass(frozen=True)
class Member:
    """A tar member other than a regular file: a directory, a symlink or a hard link."""

    name: str
    kind: str = "dir"  # "dir", "symlink", "hardlink"
    target: str = ""


def tar_bytes(entries: Iterable[tuple[str, bytes] | Member]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            if isinstance(entry, Member):
                info = tarfile.TarInfo(entry.name)
                info.mtime = EPOCH
                info.type = {
                    "dir": tarfile.DIRTYPE,
                    "symlink": tarfile.SYMTYPE,
                    "hardlink": tarfile.LNKTYPE,
                }[entry.kind]
                info.linkname = entry.target
                info.mode = 0o755
                tar.addfile(info)
                continue
            name, data = entry
            info = tarfile.TarInfo(name)
            info.mtime = EPOCH
            info.mode = 0o644
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_layer(files: Mapping[str, bytes]) -> bytes:
    """A layer: a tar of these files (with their parent directories)."""
    entries: list[tuple[str, bytes] | Member] = []
    seen: set[str] = set()
    for name, data in files.items():
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directory = "/".join(parts[:depth])
            if directory not in seen:
                seen.add(directory)
                entries.append(Member(directory))
        entries.append((name, data))
    return tar_bytes(entries)


@dataclasses.dataclass
class Image:
    """An image to put in an archive: its layers (as stored) and its config."""

    layers: list[bytes]
    config: dict[str, Any]
    tags: list[str] = dataclasses.field(default_factory=list)
    # The uncompressed layers, when `layers` holds gzipped ones (for the diff-IDs).
    plain_layers: list[bytes] | None = None

    @property
    def config_bytes(self) -> bytes:
        return compact(self.config)

    @property
    def id(self) -> str:
        return sha256(self.config_bytes)


def make_image(
    files: Sequence[Mapping[str, bytes]] = ({"hello.txt": b"hello\n"},),
    *,
    tags: Sequence[str] = ("example/app:1",),
    architecture: str = "amd64",
    os: str = "linux",
    variant: str | None = None,
    config: Mapping[str, Any] | None = None,
    gzipped: bool = False,
    history: list[dict[str, Any]] | None = None,
) -> Image:
    plain = [make_layer(layer_files) for layer_files in files]
    layers = [gzip.compress(layer, mtime=0) for layer in plain] if gzipped else plain
    document: dict[str, Any] = {"architecture": architecture}
    if variant:
        document["variant"] = variant
    document["config"] = dict(
        config
        if config is not None
        else {
            "Env": ["PATH=/usr/bin:/bin", "MODE=test"],
            "Cmd": ["/bin/app", "--serve"],
            "WorkingDir": "/srv",
            "User": "1000",
            "ExposedPorts": {"8080/tcp": {}},
            "Labels": {"org.opencontainers.image.title": "Example <app> & co"},
        }
    )
    document["created"] = CREATED
    document["history"] = (
        history
        if history is not None
        else [{"created": CREATED, "created_by": f"COPY layer{n} /"} for n in range(len(plain))]
    )
    document["os"] = os
    document["rootfs"] = {"type": "layers", "diff_ids": [sha256(layer) for layer in plain]}
    return Image(layers, document, list(tags), plain if gzipped else None)


# -- layouts --------------------------------------------------------------------------------


def docker_archive(images: Sequence[Image]) -> dict[str, bytes]:
    """`docker save` before docker 25: <id>.json configs, <id>/layer.tar, manifest.json."""
    files: dict[str, bytes] = {}
    manifest = []
    for image in images:
        layer_paths = []
        for layer in image.layers:
            directory = hex_of(b"layer-id:" + layer)
            files[f"{directory}/VERSION"] = b"1.0"
            files[f"{directory}/layer.tar"] = layer
            layer_paths.append(f"{directory}/layer.tar")
        config_path = f"{hex_of(image.config_bytes)}.json"
        files[config_path] = image.config_bytes
        manifest.append({"Config": config_path, "RepoTags": image.tags, "Layers": layer_paths})
    files["manifest.json"] = compact(manifest)
    return files


def oci_manifest(image: Image, files: dict[str, bytes]) -> bytes:
    """Put the image's blobs in files; return its OCI manifest."""
    files[blob_path(image.config_bytes)] = image.config_bytes
    layers = []
    for layer in image.layers:
        files[blob_path(layer)] = layer
        media_type = OCI_LAYER_GZIP if image.plain_layers else OCI_LAYER
        layers.append({"mediaType": media_type, "digest": sha256(layer), "size": len(layer)})
    return compact(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": image.id,
                "size": len(image.config_bytes),
            },
            "layers": layers,
        }
    )


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data), **extra}


def oci_layout(
    images: Sequence[Image], *, with_docker_manifest: bool = False, as_one_index: bool = False
) -> dict[str, bytes]:
    """An OCI image layout; as_one_index: the images are the platforms of one image index
    (docker 25's multi-platform save); with_docker_manifest: manifest.json too (docker 25)."""
    files: dict[str, bytes] = {"oci-layout": compact({"imageLayoutVersion": "1.0.0"})}
    descriptors = []
    for image in images:
        manifest = oci_manifest(image, files)
        files[blob_path(manifest)] = manifest
        platform = platform_of(image)
        annotations = {}
        if image.tags and not as_one_index:
            annotations = {
                "io.containerd.image.name": f"docker.io/{image.tags[0]}",
                "org.opencontainers.image.ref.name": image.tags[0].rpartition(":")[2],
            }
        descriptors.append(
            descriptor(OCI_MANIFEST, manifest, platform=platform)
            | ({"annotations": annotations} if annotations else {})
        )
    if as_one_index:
        inner = compact({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors})
        files[blob_path(inner)] = inner
        annotations = {"org.opencontainers.image.ref.name": "multi"}
        descriptors = [descriptor(OCI_INDEX, inner, annotations=annotations)]
    files["index.json"] = compact(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    )
    if with_docker_manifest:
        files["manifest.json"] = compact(
            [
                {
                    "Config": blob_path(image.config_bytes),
                    "RepoTags": image.tags,
                    "Layers": [blob_path(layer) for layer in image.layers],
                }
                for image in images
            ]
        )
    return files


def platform_of(image: Image) -> dict[str, str]:
    platform = {"architecture": image.config["architecture"], "os": image.config["os"]}
    if "variant" in image.config:
        platform["variant"] = image.config["variant"]
    return platform


def attestation_manifest(subject: bytes, files: dict[str, bytes]) -> bytes:
    """An attestation manifest as BuildKit writes one for the manifest `subject`: an in-toto
    statement (here an empty SPDX document) as its one layer, and an unknown/unknown config."""
    statement = compact(
        {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://spdx.dev/Document",
            "subject": [{"name": "pkg:docker/lab/multi@1", "digest": {"sha256": hex_of(subject)}}],
            "predicate": {"spdxVersion": "SPDX-2.3", "name": "lab/multi", "packages": []},
        }
    )
    files[blob_path(statement)] = statement
    config = compact(
        {
            **UNKNOWN_PLATFORM,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [sha256(statement)]},
        }
    )
    files[blob_path(config)] = config
    annotations = {"in-toto.io/predicate-type": "https://spdx.dev/Document"}
    return compact(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [descriptor(IN_TOTO, statement, annotations=annotations)],
        }
    )


@dataclasses.dataclass(frozen=True)
class IndexLayout:
    """An OCI layout holding one image index under `ref_name`, and what that index holds."""

    files: dict[str, bytes]
    ref_name: str
    index_digest: str
    # Each platform ("linux/arm64/v8") and its manifest's digest, in the index's order.
    manifests: tuple[tuple[str, str], ...]
    # Each attestation manifest's digest and the digest of the manifest it describes.
    attestations: tuple[tuple[str, str], ...]


def multi_platform_layout(
    images: Sequence[Image], *, ref_name: str, attest: Sequence[int] = (0,)
) -> IndexLayout:
    """One image index of these images (one per platform), plus an attestation manifest for
    each image whose position is in `attest`, listed after the platforms as BuildKit does."""
    files: dict[str, bytes] = {"oci-layout": compact({"imageLayoutVersion": "1.0.0"})}
    descriptors = []
    manifests = []
    for image in images:
        manifest = oci_manifest(image, files)
        files[blob_path(manifest)] = manifest
        descriptors.append(descriptor(OCI_MANIFEST, manifest, platform=platform_of(image)))
        spelled = platform_of(image)
        keys = ("os", "architecture", "variant")
        platform = "/".join(spelled[key] for key in keys if key in spelled)
        manifests.append((manifest, platform))
    attestations = []
    for position in attest:
        subject = manifests[position][0]
        manifest = attestation_manifest(subject, files)
        files[blob_path(manifest)] = manifest
        annotations = {
            ATTESTATION_DIGEST_KEY: sha256(subject),
            ATTESTATION_TYPE_KEY: ATTESTATION_TYPE,
        }
        descriptors.append(
            descriptor(OCI_MANIFEST, manifest, annotations=annotations, platform=UNKNOWN_PLATFORM)
        )
        attestations.append((sha256(manifest), sha256(subject)))
    index = compact({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors})
    files[blob_path(index)] = index
    top = descriptor(OCI_INDEX, index, annotations={"org.opencontainers.image.ref.name": ref_name})
    files["index.json"] = compact({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]})
    return IndexLayout(
        files,
        ref_name,
        sha256(index),
        tuple((platform, sha256(manifest)) for manifest, platform in manifests),
        tuple(attestations),
    )


def blob_path(data: bytes) -> str:
    return f"blobs/sha256/{hex_of(data)}"


# -- writing them ---------------------------------------------------------------------------


def tar_of(
    files: Mapping[str, bytes],
    *,
    extra: Sequence[tuple[str, bytes] | Member] = (),
    compress: str | None = None,
) -> bytes:
    """The layout as a tar (extra members first), compressed with gzip, bzip2 or xz if said."""
    data = tar_bytes([*extra, *files.items()])
    if compress == "gzip":
        return gzip.compress(data, mtime=0)
    if compress == "bzip2":
        return bz2.compress(data)
    if compress == "xz":
        return lzma.compress(data)
    return data


def write(path: Path, data: bytes) -> Path:
    """Write an archive (or any file) at path, and give the path."""
    path.write_bytes(data)
    return path


def write_dir(files: Mapping[str, bytes], root: Path) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root
