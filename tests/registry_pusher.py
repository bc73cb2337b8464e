"""Images pushed to a registry over its API (stdlib only), in any shape a test needs:
Docker v2 or OCI manifests, multi-platform indexes with attestation manifests, and the odd ones
(schema 1, an artifact, an index naming an index) that docker and skopeo will not make.

    pusher = Pusher(start_registry(registry_bin, root, stack).address)  # tests/registry_server.py
    image = pusher.image("lab/app", "1", config={...}, layers=[b"..."])
    pusher.index("lab/multi", "1", [image_amd64, image_arm64], attestations=True)
"""

import gzip
import hashlib
import http.client
import io
import json
import ssl
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def layer_tar(files: Mapping[str, bytes]) -> bytes:
    """An uncompressed layer tar holding these files, with fixed times."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, content in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@dataclass(frozen=True)
class Pushed:
    """A manifest pushed: its digest, media type, size and bytes, and its config's digest."""

    repository: str
    digest: str
    media_type: str
    body: bytes
    config_digest: str = ""
    platform: Mapping[str, str] | None = None

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        found: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.body),
        }
        found.update(extra)
        return found


class Pusher:
    """Pushes to a registry at host:port (loopback): plain HTTP, or HTTPS with a context."""

    def __init__(self, address: str, context: ssl.SSLContext | None = None) -> None:
        self.address = address
        self.host, _, port = address.rpartition(":")
        self.port = int(port)
        self.context = context

    def _request(
        self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> http.client.HTTPResponse:
        connection = (
            http.client.HTTPSConnection(
                self.host.strip("[]"), self.port, timeout=30, context=self.context
            )
            if self.context is not None
            else http.client.HTTPConnection(self.host.strip("[]"), self.port, timeout=30)
        )
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    def blob(self, repository: str, data: bytes) -> str:
        digest = digest_of(data)
        started = self._request("POST", f"/v2/{repository}/blobs/uploads/")
        assert started.status == 202, started.status
        location = started.getheader("Location") or ""
        path = location.split(self.address, 1)[-1] if "://" in location else location
        separator = "&" if "?" in path else "?"
        done = self._request(
            "PUT",
            f"{path}{separator}digest={digest}",
            data,
            {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))},
        )
        assert done.status == 201, (done.status, path)
        return digest

    def manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        done = self._request(
            "PUT", f"/v2/{repository}/manifests/{reference}", body, {"Content-Type": media_type}
        )
        assert done.status == 201, (done.status, repository, reference)
        return digest_of(body)

    def image(
        self,
        repository: str,
        tag: str | None,
        *,
        config: Mapping[str, Any],
        layers: Sequence[bytes] = (),
        oci: bool = False,
        history: Sequence[Mapping[str, Any]] | None = None,
    ) -> Pushed:
        """An image of gzipped layers (each an uncompressed tar) and a config built from
        config (its `architecture`, `os`, ... and `config`), its rootfs filled in."""
        compressed = [gzip.compress(layer, mtime=0) for layer in layers]
        document = dict(config)
        document["rootfs"] = {"type": "layers", "diff_ids": [digest_of(layer) for layer in layers]}
        if history is not None:
            document["history"] = list(history)
        config_bytes = compact(document)
        config_digest = self.blob(repository, config_bytes)
        for blob in compressed:
            self.blob(repository, blob)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG if oci else DOCKER_CONFIG,
                "size": len(config_bytes),
                "digest": config_digest,
            },
            "layers": [
                {
                    "mediaType": OCI_LAYER if oci else DOCKER_LAYER,
                    "size": len(blob),
                    "digest": digest_of(blob),
                }
                for blob in compressed
            ],
        }
        body = compact(manifest)
        media_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
        digest = self.manifest(repository, tag or digest_of(body), body, media_type)
        platform = {key: config[key] for key in ("os", "architecture", "variant") if key in config}
        return Pushed(repository, digest, media_type, body, config_digest, platform)

    def attestation(self, repository: str, subject: Pushed) -> Pushed:
        """An attestation manifest for subject, as buildx makes one (an in-toto layer)."""
        config_bytes = compact({"architecture": "unknown", "os": "unknown", "rootfs": {}})
        config_digest = self.blob(repository, config_bytes)
        statement = compact(
            {
                "_type": "https://in-toto.io/Statement/v0.1",
                "subject": [{"digest": {"sha256": subject.digest.removeprefix("sha256:")}}],
            }
        )
        self.blob(repository, statement)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "size": len(config_bytes), "digest": config_digest},
            "layers": [
                {
                    "mediaType": "application/vnd.in-toto+json",
                    "size": len(statement),
                    "digest": digest_of(statement),
                    "annotations": {
                        "in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"
                    },
                }
            ],
        }
        body = compact(manifest)
        digest = self.manifest(repository, digest_of(body), body, OCI_MANIFEST)
        return Pushed(repository, digest, OCI_MANIFEST, body, config_digest)

    def index(
        self,
        repository: str,
        tag: str,
        images: Sequence[Pushed],
        *,
        attestations: bool = False,
        oci: bool = True,
    ) -> Pushed:
        """An index of images (each with its platform), and an attestation for each if asked,
        annotated as buildx annotates them."""
        entries = [image.descriptor(platform=dict(image.platform or {})) for image in images]
        if attestations:
            for image in images:
                made = self.attestation(repository, image)
                entries.append(
                    made.descriptor(
                        platform={"architecture": "unknown", "os": "unknown"},
                        annotations={
                            "vnd.docker.reference.digest": image.digest,
                            "vnd.docker.reference.type": "attestation-manifest",
                        },
                    )
                )
        media_type = OCI_INDEX if oci else DOCKER_LIST
        body = compact({"schemaVersion": 2, "mediaType": media_type, "manifests": entries})
        digest = self.manifest(repository, tag, body, media_type)
        return Pushed(repository, digest, media_type, body)
