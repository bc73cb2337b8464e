"""`docker://REF` names: resolved as docker resolves references, refused before any I/O."""

import pytest

from inspector.errors import InvalidReference
from inspector.reference import is_registry_host
from inspector.sources.names import parse_name
from inspector.sources.registry.names import RegistryName, parse_registry_name

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "api_host", "repository", "tag", "digest", "familiar"),
    [
        ("nginx", "docker.io", "registry-1.docker.io", "library/nginx", "latest", None, "nginx"),
        ("nginx:1.27", "docker.io", "registry-1.docker.io", "library/nginx", "1.27", None, "nginx"),
        ("me/app", "docker.io", "registry-1.docker.io", "me/app", "latest", None, "me/app"),
        ("docker.io/nginx", "docker.io", "registry-1.docker.io", "library/nginx", "latest", None,
         "nginx"),
        ("index.docker.io/me/app:2", "docker.io", "registry-1.docker.io", "me/app", "2", None,
         "me/app"),
        ("docker.io/library/nginx", "docker.io", "registry-1.docker.io", "library/nginx",
         "latest", None, "nginx"),
        (f"nginx@{DIGEST}", "docker.io", "registry-1.docker.io", "library/nginx", None, DIGEST,
         "nginx"),
        # docker pulls by the digest when both are given, and records no tag.
        (f"nginx:1@{DIGEST}", "docker.io", "registry-1.docker.io", "library/nginx", None, DIGEST,
         "nginx"),
        ("localhost/app", "localhost", "localhost", "app", "latest", None, "localhost/app"),
        ("localhost:5000/a/b:c", "localhost:5000", "localhost:5000", "a/b", "c", None,
         "localhost:5000/a/b"),
        ("127.0.0.1:5000/x:1", "127.0.0.1:5000", "127.0.0.1:5000", "x", "1", None,
         "127.0.0.1:5000/x"),
        ("ghcr.io/o/r", "ghcr.io", "ghcr.io", "o/r", "latest", None, "ghcr.io/o/r"),
        ("[::1]:5000/x", "[::1]:5000", "[::1]:5000", "x", "latest", None, "[::1]:5000/x"),
        # A capital in the first component makes it a registry, as in docker.
        ("Registry/app", "Registry", "Registry", "app", "latest", None, "Registry/app"),
        ("quay/app", "docker.io", "registry-1.docker.io", "quay/app", "latest", None, "quay/app"),
    ],
)  # fmt: skip
def test_a_reference_resolves_as_docker_resolves_it(
    text: str,
    registry: str,
    api_host: str,
    repository: str,
    tag: str | None,
    digest: str | None,
    familiar: str,
) -> None:
    name = parse_registry_name(f"docker://{text}")
    assert name == RegistryName(f"docker://{text}", registry, api_host, repository, tag, digest)
    assert name.familiar == familiar
    assert parse_name(f"docker://{text}") == name


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Nginx",
        "nginx:",
        "nginx:a b",
        "nginx@sha256:abc",
        "a/../b",
        "nginx?x=1",
        "nginx#x",
        "-nginx",
        "ab" * 32,  # an image ID, which no registry knows
        "host:5000/UPPER",
        "x" * 256,
        "nginx\n",
        "//nginx",
    ],
)
def test_an_invalid_reference_is_a_usage_error_before_any_io(text: str) -> None:
    with pytest.raises(InvalidReference):
        parse_name(f"docker://{text}")


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("registry.lan", True),
        ("registry.lan:5000", True),
        ("127.0.0.1:5000", True),
        ("[::1]:5000", True),
        ("localhost", True),
        ("https://registry.lan", False),
        ("registry.lan/path", False),
        ("registry.lan:port", False),
        ("", False),
    ],
)
def test_an_insecure_registry_is_host_and_port_only(text: str, valid: bool) -> None:
    assert is_registry_host(text) is valid
