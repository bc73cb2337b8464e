"""The registry source's contents: each layer blob streamed and read through, gzip and zstd,
from the test registries (plain, TLS, basic auth, tokens), against GNU `tar -tv` of the same
layers in the suite dockerd's `docker save` of the image they were pushed from; and, from a
fake registry, blobs no real registry sends: not matching their digest, their size or the
config's diff-ID, escaping the root, missing, broken off, stalled, or redirected to storage."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from inspector.errors import ExitCode, RegistryBadResponse
from inspector.image import Image
from inspector.reference import parse_platform
from inspector.sources.interface import Request
from inspector.sources.registry import RegistryFlags
from inspector.sources.registry.names import parse_registry_name
from inspector.sources.registry.source import RegistrySource
from tests.archive_builder import make_image, sha256, tar_bytes
from tests.daemon_fixture import DockerDaemon
from tests.fake_daemon import FakeDaemon, Response, json_response
from tests.helpers import run_bare, the_error_line
from tests.registry_fixture import (
    DOCKER_FULL,
    DOCKER_TINY,
    MULTI,
    OCI_FULL,
    ZSTD_FULL,
    RegistryImages,
)
from tests.tar_listing import assert_contents_match, saved_layers


def contents_of(*refs: str, platform: str | None = None, timeout: float = 60.0) -> list[Image]:
    request = Request(platform=parse_platform(platform) if platform else None, contents=True)
    source = RegistrySource(RegistryFlags(timeout=timeout), request, log=None, warn=None)
    try:
        return list(source.images(iter([parse_registry_name(ref) for ref in refs])))
    finally:
        source.close()


@pytest.fixture(scope="module")
def local_saves(
    docker_daemon: DockerDaemon, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """The suite dockerd's `docker save` of each local image the registries' images came from."""
    directory = tmp_path_factory.mktemp("local-saves")
    saves = {}
    for local in (docker_daemon.images.full_tags[0], docker_daemon.images.tiny):
        path = directory / f"{local.replace(':', '-')}.tar"
        docker_daemon.docker("save", "-o", str(path), local)
        saves[local] = path
    return saves


@pytest.mark.parametrize(
    ("server_name", "name"),
    [
        ("plain", DOCKER_FULL),
        ("plain", DOCKER_TINY),
        ("plain", OCI_FULL),
        ("plain", ZSTD_FULL),
        ("tls", DOCKER_FULL),
        ("basic", OCI_FULL),
        ("token", ZSTD_FULL),
    ],
)
def test_a_registrys_contents_are_the_layers_of_the_image_pushed(
    registry_images: RegistryImages,
    local_saves: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    server_name: str,
    name: str,
) -> None:
    server = getattr(registry_images.servers, server_name)
    monkeypatch.setenv("DOCKER_CONFIG", str(server.docker_config))
    if server.certs_d is not None:
        monkeypatch.setenv("IMGINSPECT_CERTS_D", str(server.certs_d))
    image = registry_images[name]
    [got] = contents_of(f"docker://{image.ref(server)}")
    assert got.error is None, got.error
    assert image.local is not None
    assert_contents_match(got.contents, saved_layers(local_saves[image.local]), tmp_path)
    # Each layer is named by its blob's digest, compressed: not its diff-ID.
    for layer in got.contents or ():
        assert layer.digest is not None and layer.digest != layer.diff_id


def test_a_platform_of_an_index_gives_that_platforms_layers(
    registry_images: RegistryImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = registry_images.servers.plain
    monkeypatch.setenv("DOCKER_CONFIG", str(server.docker_config))
    ref = f"docker://{registry_images[MULTI].ref(server)}"
    for platform in ("linux/amd64", "linux/arm64/v8"):
        [got] = contents_of(ref, platform=platform)
        assert got.error is None and got.contents is not None
        [layer] = got.contents
        assert [(entry.path, entry.size) for entry in layer.entries] == [
            ("platform.txt", len(f"{platform}\n"))
        ]


# -- a fake registry -------------------------------------------------------------------------

IMAGE = make_image([{"etc/app.conf": b"conf\n"}, {"bin/app": b"\x7fELF" * 100}], gzipped=True)
LAYERS = [(layer, sha256(layer)) for layer in IMAGE.layers]
GZIP_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def manifest_of(config: bytes, layers: list[tuple[bytes, str]], sizes: Mapping[str, int]) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": sha256(config),
            },
            "layers": [
                {"mediaType": GZIP_LAYER, "size": sizes.get(digest, len(data)), "digest": digest}
                for data, digest in layers
            ],
        }
    ).encode()


def routes_for(
    config: bytes = IMAGE.config_bytes,
    layers: list[tuple[bytes, str]] = LAYERS,
    sizes: Mapping[str, int] | None = None,
) -> dict[str, Response]:
    """An image at x:1: its manifest (saying sizes where given), its config and each layer
    blob, served as stored."""
    manifest = manifest_of(config, layers, sizes or {})
    media = (("Content-Type", "application/vnd.docker.distribution.manifest.v2+json"),)
    return {
        "/v2/": json_response({}),
        "/v2/x/manifests/1": Response(200, manifest, media),
        f"/v2/x/blobs/{sha256(config)}": Response(200, config),
        **{f"/v2/x/blobs/{digest}": Response(200, data) for data, digest in layers},
    }


@pytest.fixture
def fake_registry() -> Iterator[FakeDaemon]:
    with FakeDaemon(tcp=True) as registry:
        yield registry


def fake_contents(registry: FakeDaemon, routes: dict[str, Any], timeout: float = 10.0) -> Image:
    registry.routes.update(routes)
    [image] = contents_of(f"docker://127.0.0.1:{registry.tcp_port}/x:1", timeout=timeout)
    return image


def test_a_fake_registrys_image_reads_as_stored(fake_registry: FakeDaemon) -> None:
    image = fake_contents(fake_registry, routes_for())
    assert image.error is None and image.contents is not None
    assert [layer.digest for layer in image.contents] == [digest for _, digest in LAYERS]
    assert [layer.diff_id for layer in image.contents] == IMAGE.config["rootfs"]["diff_ids"]
    assert [[entry.path for entry in layer.entries] for layer in image.contents] == [
        ["etc", "etc/app.conf"],
        ["bin", "bin/app"],
    ]


def test_a_blob_is_followed_to_storage(fake_registry: FakeDaemon) -> None:
    routes = routes_for()
    data, digest = LAYERS[1]
    routes[f"/v2/x/blobs/{digest}"] = Response(307, b"", (("Location", "/storage/layer"),))
    routes["/storage/layer"] = Response(200, data)
    image = fake_contents(fake_registry, routes)
    assert image.error is None and image.contents is not None
    assert "/storage/layer" in fake_registry.paths


def _other_diff_id_config() -> bytes:
    config = json.loads(IMAGE.config_bytes)
    config["rootfs"]["diff_ids"][1] = "sha256:" + "0" * 64
    return json.dumps(config).encode()


ESCAPING = gzip.compress(tar_bytes([("../../etc/shadow", b"root:x:\n")]), mtime=0)


def _escaping_routes() -> dict[str, Response]:
    config = json.loads(IMAGE.config_bytes)
    config["rootfs"]["diff_ids"].append(sha256(gzip.decompress(ESCAPING)))
    return routes_for(json.dumps(config).encode(), [*LAYERS, (ESCAPING, sha256(ESCAPING))])


def _replaced(path_digest: str, answer: Response) -> dict[str, Response]:
    routes = routes_for()
    routes[f"/v2/x/blobs/{path_digest}"] = answer
    return routes


FIRST, SECOND = LAYERS[0][1], LAYERS[1][1]
FAULTS: dict[str, tuple[dict[str, Response], str]] = {
    "content not its digest": (
        _replaced(SECOND, Response(200, LAYERS[0][0])),
        f"the layer blob sent for {SECOND} does not have that digest",
    ),
    "size not the manifest's": (
        routes_for(sizes={SECOND: len(LAYERS[1][0]) + 1}),
        f"layer 2 ({SECOND}) is {len(LAYERS[1][0])} bytes; its manifest says",
    ),
    "diff-ID not the config's": (
        routes_for(_other_diff_id_config()),
        f"layer 2 ({SECOND}) does not match the config's diff-ID sha256:{'0' * 64}",
    ),
    "escaping the root": (_escaping_routes(), "layer 3 (sha256:"),
    "missing": (
        _replaced(FIRST, json_response({"errors": [{"code": "BLOB_UNKNOWN"}]}, 404)),
        f"the layer blob {FIRST} its manifest names is not in the registry",
    ),
    "broken off": (
        _replaced(SECOND, Response(200, LAYERS[1][0], cut_after=100)),
        "was broken off",
    ),
    "an error status": (
        _replaced(FIRST, json_response({"errors": [{"code": "UNKNOWN", "message": "s3"}]}, 500)),
        "answered 500: s3",
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_bad_layer_blob_is_one_line_and_exit_3(fake_registry: FakeDaemon, fault: str) -> None:
    routes, says = FAULTS[fault]
    image = fake_contents(fake_registry, routes)
    assert image.error is not None and image.contents is None
    assert image.error.exit_code == ExitCode.SOURCE
    message = str(image.error)
    assert "\n" not in message and says in message, message
    assert message.startswith(f"registry 127.0.0.1:{fake_registry.tcp_port}")


def test_a_layer_that_escapes_the_root_is_refused(fake_registry: FakeDaemon) -> None:
    image = fake_contents(fake_registry, _escaping_routes())
    assert isinstance(image.error, RegistryBadResponse)
    assert "is refused:" in str(image.error)


def test_a_layer_blob_that_stalls_times_out(fake_registry: FakeDaemon) -> None:
    routes = _replaced(SECOND, Response(200, LAYERS[1][0], pace=2.0))
    image = fake_contents(fake_registry, routes, timeout=0.5)
    assert image.error is not None and image.error.exit_code == ExitCode.SOURCE
    assert "stopped coming within 0.5 seconds" in str(image.error)


def test_the_entries_kept_are_bounded_for_the_images_layers_together(
    fake_registry: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("inspector.sources.registry.layers.MAX_ENTRIES", 3)
    image = fake_contents(fake_registry, routes_for())
    assert isinstance(image.error, RegistryBadResponse)
    assert f"layer 2 ({SECOND}) is refused: more than" in str(image.error)


def _unmergeable_routes() -> dict[str, Response]:
    """A layer that reads as a tar, but holds a hard link to a path no layer has: only merging
    the layers finds it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        link = tarfile.TarInfo("bin/alias")
        link.type, link.linkname = tarfile.LNKTYPE, "bin/nothing"
        tar.addfile(link)
    plain = buffer.getvalue()
    stored = gzip.compress(plain, mtime=0)
    config = json.loads(IMAGE.config_bytes)
    config["rootfs"]["diff_ids"].append(sha256(plain))
    return routes_for(json.dumps(config).encode(), [*LAYERS, (stored, sha256(stored))])


@pytest.mark.parametrize("form", ["--files", "--contents"])
def test_layers_that_cannot_be_merged_are_the_registrys_fault(
    fake_registry: FakeDaemon, form: str
) -> None:
    fake_registry.routes.update(_unmergeable_routes())
    ref = f"docker://127.0.0.1:{fake_registry.tcp_port}/x:1"
    run = run_bare(form, ref)
    assert run.code == ExitCode.SOURCE, run.stderr
    assert run.stdout in (b"", b"[]\n")
    line = the_error_line(run)
    assert line == (
        f"Error: {ref}: the hard link 'bin/alias' points to 'bin/nothing', which neither the "
        "layer nor the layers below hold"
    )
