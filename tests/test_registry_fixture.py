"""Self-test of the registry fixtures and the modern dockerd: each registry answers as its
set-up says, the token server's tokens are ones distribution accepts, the images have the media
types the catalogue claims in every registry, and docker 28 pulls from all four."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests import archive_builder as builder
from tests.modern_daemon_fixture import (
    MIN_MODERN_API,
    MIN_MODERN_VERSION,
    SID_TOOLS_ENV,
    ModernDaemon,
    _version_tuple,
    require_sid_tools,
)
from tests.registry_fixture import (
    DOCKER_CERTS_D,
    DOCKER_FULL,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    DOCKER_TINY,
    MULTI,
    MULTI_DOCKER,
    OCI_FULL,
    OCI_LAYER_ZSTD,
    PUBLIC_TINY,
    TOKEN_ISSUER,
    TOKEN_SERVICE,
    ZSTD_FULL,
    RegistryImages,
    RegistryServer,
    RegistryServers,
    bearer_token,
    get_manifest,
    http_get,
)
from tests.token_server import b64url

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("plain", "tls", "basic", "token")


def server_named(servers: RegistryServers, name: str) -> RegistryServer:
    server: RegistryServer = getattr(servers, name)
    return server


def jwt_part(token: str, index: int) -> dict[str, object]:
    part = token.split(".")[index]
    data: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


# -- the registries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "challenge"),
    [
        ("plain", 200, None),
        ("tls", 200, None),
        ("basic", 401, r'^Basic realm="imginspect-basic"$'),
        (
            "token",
            401,
            rf'^Bearer realm="http://127\.0\.0\.1:\d+/token",service="{TOKEN_SERVICE}"$',
        ),
    ],
)
def test_v2_answers_as_the_set_up_says(
    registry_servers: RegistryServers, name: str, status: int, challenge: str | None
) -> None:
    server = server_named(registry_servers, name)
    answer = http_get(server, "/v2/")
    assert answer.status == status, answer.body
    assert answer.header("Docker-Distribution-Api-Version") == "registry/2.0"
    if challenge is None:
        assert answer.header("WWW-Authenticate") is None
    else:
        assert re.match(challenge, answer.header("WWW-Authenticate") or "")


def test_the_https_registries_have_their_ca_where_docker_looks(
    registry_servers: RegistryServers,
) -> None:
    assert registry_servers.plain.scheme == "http" and registry_servers.plain.certs_d is None
    for server in registry_servers.all()[1:]:
        assert server.scheme == "https" and server.ca_file is not None
        assert server.cert_dir is not None
        ca = server.ca_file.read_bytes()
        assert (server.cert_dir / "ca.crt").read_bytes() == ca
        if os.geteuid() == 0:
            assert (DOCKER_CERTS_D / server.host / "ca.crt").read_bytes() == ca


def test_an_https_registry_refuses_plain_http(tls_registry: RegistryServer) -> None:
    plain = dataclasses.replace(tls_registry, scheme="http")
    assert http_get(plain, "/v2/").status == 400


@pytest.mark.parametrize("name", SERVERS)
def test_docker_config_holds_the_credentials_as_docker_login_writes_them(
    registry_servers: RegistryServers, name: str
) -> None:
    server = server_named(registry_servers, name)
    config = json.loads((server.docker_config / "config.json").read_text())
    if server.username is None:
        assert config == {"auths": {}}
    else:
        auth = base64.b64decode(config["auths"][server.host]["auth"]).decode()
        assert auth == f"{server.username}:{server.password}"


def test_basic_auth_accepts_its_user_and_no_other(basic_registry: RegistryServer) -> None:
    good = {"Authorization": basic_registry.basic_authorization()}
    assert http_get(basic_registry, "/v2/", good).status == 200
    wrong = dataclasses.replace(basic_registry, password="wrong")
    assert (
        http_get(basic_registry, "/v2/", {"Authorization": wrong.basic_authorization()}).status
        == 401
    )


# -- the token server -----------------------------------------------------------------------


def test_a_token_is_a_jwt_the_registry_accepts(
    token_registry: RegistryServer, registry_images: RegistryImages
) -> None:
    image = registry_images[DOCKER_TINY]
    scope = f"repository:{image.repository}:pull"
    token = bearer_token(token_registry, scope)
    header, claims = jwt_part(token, 0), jwt_part(token, 1)
    assert header["alg"] == "RS256" and isinstance(header["kid"], str)
    assert claims["iss"] == TOKEN_ISSUER and claims["aud"] == TOKEN_SERVICE
    assert claims["access"] == [
        {"type": "repository", "name": image.repository, "actions": ["pull"]}
    ]
    path = f"/v2/{image.repository}/manifests/{image.tag}"
    headers = {"Accept": DOCKER_MANIFEST, "Authorization": f"Bearer {token}"}
    answer = http_get(token_registry, path, headers)
    assert answer.status == 200 and answer.header("Docker-Content-Digest") == image.digest


def test_the_registry_refuses_a_token_for_another_repository_or_with_a_bad_signature(
    token_registry: RegistryServer, registry_images: RegistryImages
) -> None:
    image = registry_images[DOCKER_TINY]
    path = f"/v2/{image.repository}/manifests/{image.tag}"
    other = bearer_token(token_registry, "repository:lab/other:pull")
    answer = http_get(token_registry, path, {"Authorization": f"Bearer {other}"})
    challenge = answer.header("WWW-Authenticate") or ""
    assert answer.status == 401 and 'error="insufficient_scope"' in challenge
    assert f'scope="repository:{image.repository}:pull"' in challenge

    good = bearer_token(token_registry, f"repository:{image.repository}:pull")
    head, claims, _ = good.split(".")
    forged = f"{head}.{claims}.{b64url(b'not a signature')}"
    assert http_get(token_registry, path, {"Authorization": f"Bearer {forged}"}).status == 401


def test_anonymous_pull_is_allowed_on_public_repositories_only(
    token_registry: RegistryServer, registry_images: RegistryImages
) -> None:
    for name, status in ((PUBLIC_TINY, 200), (DOCKER_TINY, 401)):
        image = registry_images[name]
        token = bearer_token(token_registry, f"repository:{image.repository}:pull", anonymous=True)
        path = f"/v2/{image.repository}/manifests/{image.tag}"
        headers = {"Accept": DOCKER_MANIFEST, "Authorization": f"Bearer {token}"}
        assert http_get(token_registry, path, headers).status == status, name


def test_the_token_server_refuses_a_wrong_password_and_counts_what_it_issues(
    token_registry: RegistryServer,
) -> None:
    token_server = token_registry.token_server
    assert token_server is not None
    token_server.reset()
    scope = "repository:lab/tiny:pull"
    bearer_token(token_registry, scope)
    bearer_token(token_registry, scope)
    bearer_token(token_registry, "repository:lab/full:pull")
    assert token_server.count(scope) == 2 and token_server.count() == 3
    wrong = dataclasses.replace(token_registry, password="wrong")
    with pytest.raises(OSError, match="401"):
        bearer_token(wrong, scope)
    requests = token_server.requests()
    assert [r.status for r in requests] == [200, 200, 200, 401]
    assert requests[0].account == token_registry.username
    assert requests[0].granted == (scope,)
    assert token_server.count() == 3
    token_server.reset()


# -- the images -----------------------------------------------------------------------------


EXPECTED = {
    DOCKER_FULL: (DOCKER_MANIFEST, {DOCKER_LAYER_GZIP}),
    DOCKER_TINY: (DOCKER_MANIFEST, {DOCKER_LAYER_GZIP}),
    PUBLIC_TINY: (DOCKER_MANIFEST, {DOCKER_LAYER_GZIP}),
    OCI_FULL: (builder.OCI_MANIFEST, {builder.OCI_LAYER_GZIP}),
    ZSTD_FULL: (builder.OCI_MANIFEST, {OCI_LAYER_ZSTD}),
    MULTI: (builder.OCI_INDEX, set()),
    MULTI_DOCKER: (DOCKER_MANIFEST_LIST, set()),
}


def test_the_catalogue_claims_the_expected_media_types(registry_images: RegistryImages) -> None:
    assert set(registry_images.images) == set(EXPECTED)
    for name, (media_type, layer_types) in EXPECTED.items():
        image = registry_images[name]
        assert image.media_type == media_type, name
        assert set(image.layer_media_types) == layer_types, name
    assert registry_images[DOCKER_TINY].digest == registry_images[PUBLIC_TINY].digest
    multi = registry_images[MULTI]
    assert [platform for platform, _ in multi.platforms] == ["linux/amd64", "linux/arm64/v8"]
    amd64 = multi.platforms[0][1]
    assert [subject for _, subject in multi.attestations] == [amd64]
    docker_list = registry_images[MULTI_DOCKER]
    assert [p for p, _ in docker_list.platforms] == ["linux/amd64", "linux/arm64/v8"]
    assert docker_list.attestations == ()


@pytest.mark.parametrize("server_name", SERVERS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_registry_serves_each_image_with_its_media_type_and_digest(
    registry_images: RegistryImages, server_name: str, name: str
) -> None:
    server = server_named(registry_images.servers, server_name)
    image = registry_images[name]
    for reference in (image.tag, image.digest):
        answer = get_manifest(server, image.repository, reference)
        assert answer.status == 200, answer.body
        assert answer.header("Content-Type") == image.media_type
        assert answer.header("Docker-Content-Digest") == image.digest
        assert builder.sha256(answer.body) == image.digest
    for _, digest in (*image.platforms, *image.attestations):
        answer = get_manifest(server, image.repository, digest)
        expected = (
            DOCKER_MANIFEST if image.media_type == DOCKER_MANIFEST_LIST else builder.OCI_MANIFEST
        )
        assert answer.status == 200 and answer.header("Content-Type") == expected


def test_the_attestation_is_listed_as_buildkit_lists_it(
    plain_registry: RegistryServer, registry_images: RegistryImages
) -> None:
    image = registry_images[MULTI]
    index = get_manifest(plain_registry, image.repository, image.digest).json()
    entry = index["manifests"][-1]
    ((attestation, subject),) = image.attestations
    assert entry["digest"] == attestation
    assert entry["platform"] == {"architecture": "unknown", "os": "unknown"}
    assert entry["annotations"] == {
        "vnd.docker.reference.digest": subject,
        "vnd.docker.reference.type": "attestation-manifest",
    }
    manifest = get_manifest(plain_registry, image.repository, attestation).json()
    assert [layer["mediaType"] for layer in manifest["layers"]] == [builder.IN_TOTO]


def test_the_zstd_layers_are_zstd(
    plain_registry: RegistryServer, registry_images: RegistryImages
) -> None:
    image = registry_images[ZSTD_FULL]
    manifest = get_manifest(plain_registry, image.repository, image.digest).json()
    digest = manifest["layers"][0]["digest"]
    blob = http_get(plain_registry, f"/v2/{image.repository}/blobs/{digest}")
    assert blob.status == 200 and blob.body[:4] == b"\x28\xb5\x2f\xfd"


# -- the modern dockerd ---------------------------------------------------------------------


def test_the_modern_dockerd_is_docker_28_5_or_newer(modern_docker: ModernDaemon) -> None:
    assert _version_tuple(modern_docker.version) >= MIN_MODERN_VERSION
    assert _version_tuple(modern_docker.api_version) >= MIN_MODERN_API
    info = json.loads(modern_docker.docker("info", "--format", "{{json .}}").stdout)
    assert info["Driver"] == "vfs" and info["DockerRootDir"] == str(modern_docker.root / "data")
    client = modern_docker.docker("version", "--format", "{{.Client.Version}}").stdout
    assert _version_tuple(client.decode().strip()) >= (28,)


@pytest.mark.parametrize("server_name", SERVERS)
def test_the_modern_dockerd_pulls_from_every_registry(
    modern_docker: ModernDaemon, registry_images: RegistryImages, server_name: str
) -> None:
    server = server_named(registry_images.servers, server_name)
    image = registry_images[DOCKER_TINY]
    # The registry's credentials, as `docker login` would have left them.
    cli = dataclasses.replace(modern_docker, config_dir=str(server.docker_config))
    cli.docker("pull", "--quiet", image.ref(server))
    try:
        inspect = json.loads(cli.docker("image", "inspect", image.ref(server)).stdout)[0]
        assert inspect["RepoDigests"] == [image.digest_ref(server)]
        assert inspect["Id"] == image.config_digest
    finally:
        cli.docker("rmi", image.ref(server))


def test_the_containerd_store_keeps_the_whole_index(
    modern_docker_containerd: ModernDaemon,
    plain_registry: RegistryServer,
    registry_images: RegistryImages,
) -> None:
    daemon = modern_docker_containerd
    info = json.loads(daemon.docker("info", "--format", "{{json .}}").stdout)
    assert info["Driver"] == "native"
    image = registry_images[MULTI]
    daemon.docker("pull", "--quiet", "--platform", "linux/amd64", image.ref(plain_registry))
    try:
        inspect = json.loads(daemon.docker("image", "inspect", image.ref(plain_registry)).stdout)[0]
        # The containerd store names an image by its index.
        assert inspect["Id"] == image.digest
        assert inspect["RepoDigests"] == [image.digest_ref(plain_registry)]
    finally:
        daemon.docker("rmi", image.ref(plain_registry))


# -- scripts/sid-tools ----------------------------------------------------------------------


def test_sid_tools_does_nothing_when_the_tools_are_there() -> None:
    tools = require_sid_tools()
    before = sorted(path.name for path in tools.root.iterdir())
    proc = subprocess.run(
        [str(REPO_ROOT / "scripts" / "sid-tools")],
        env={**os.environ, SID_TOOLS_ENV: str(tools.root)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert proc.stdout.decode() == f"{tools.root}\n" and proc.stderr == b""
    assert sorted(path.name for path in tools.root.iterdir()) == before
