#!/usr/bin/env python3
"""Write examples/hello.tar: a tiny image archive, the same bytes on every run and machine.

The archive is laid out as `docker save` (docker 25 and later) lays it out: an OCI image
layout (oci-layout, index.json, blobs/sha256/...) with docker's manifest.json beside it, so
`docker load`, `podman load`, skopeo and imginspect all read it. Its one layer holds one
small text file. Every timestamp, owner, mode and order is fixed, and the tars use the ustar
format, which has no fields that vary between runs.

    python examples/make_hello.py [--output PATH]
"""

import argparse
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

NAME = "docker.io/library/imginspect-hello:1"
TAG = "imginspect-hello:1"
# 2024-06-01T12:00:00Z: the image's creation time and every file's mtime.
EPOCH = 1717243200
CREATED = "2024-06-01T12:00:00Z"
HELLO = b"Hello from imginspect: this image was read from an archive, without a daemon.\n"
OUTPUT = Path(__file__).resolve().parent / "hello.tar"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def tar_bytes(entries: list[tuple[str, bytes | None]]) -> bytes:
    """A ustar archive of (name, content) in the order given; content None is a directory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            info.mtime = EPOCH
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o644
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def build() -> bytes:
    layer = tar_bytes([("hello.txt", HELLO)])
    config = compact(
        {
            "architecture": "amd64",
            "config": {
                "User": "65534:65534",
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "WorkingDir": "/",
                "Labels": {
                    "org.opencontainers.image.title": "imginspect hello",
                    "org.opencontainers.image.description": (
                        "imginspect's sample image: one text file, made by examples/make_hello.py"
                    ),
                    "org.opencontainers.image.version": "1",
                },
            },
            "created": CREATED,
            "history": [
                {"created": CREATED, "created_by": "COPY hello.txt / # buildkit"},
            ],
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [digest(layer)]},
        }
    )
    manifest = compact(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest(layer),
                    "size": len(layer),
                }
            ],
        }
    )
    index = compact(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest(manifest),
                    "size": len(manifest),
                    "annotations": {
                        "io.containerd.image.name": NAME,
                        "org.opencontainers.image.ref.name": "1",
                    },
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    )

    def blob(data: bytes) -> str:
        return "blobs/sha256/" + digest(data).removeprefix("sha256:")

    docker_manifest = compact(
        [{"Config": blob(config), "RepoTags": [TAG], "Layers": [blob(layer)]}]
    )
    blobs = sorted((blob(data), data) for data in (layer, config, manifest))
    return tar_bytes(
        [
            ("blobs", None),
            ("blobs/sha256", None),
            *blobs,
            ("index.json", index),
            ("manifest.json", docker_manifest),
            ("oci-layout", compact({"imageLayoutVersion": "1.0.0"})),
        ]
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    args.output.write_bytes(build())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
