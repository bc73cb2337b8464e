"""`docker://REF`: an image in a registry, named as skopeo names it and resolved as docker
resolves it (`nginx` is `docker.io/library/nginx:latest`). Checked locally, no I/O."""

import re
from typing import NamedTuple

from inspector.errors import InvalidReference
from inspector.reference import split_reference

PREFIX = "docker://"
# Docker Hub: how references name it, what its API host is, and the key docker keeps its
# credentials under.
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_CREDENTIALS = "https://index.docker.io/v1/"
_LEGACY_HUB = "index.docker.io"
_HEX_ID = re.compile(r"[a-f0-9]{64}")


class RegistryName(NamedTuple):
    """An image in a registry: what was typed, and what docker reads it as."""

    text: str  # as typed, `docker://` included
    registry: str  # host[:port] as references spell it: `docker.io`, `127.0.0.1:5000`
    api_host: str  # host[:port] the API is asked at: `registry-1.docker.io` for Docker Hub
    repository: str  # `library/nginx`
    tag: str | None  # `latest` when neither a tag nor a digest was given
    digest: str | None  # `sha256:...`

    @property
    def reference(self) -> str:
        """What the manifest is asked by: the digest if there is one, else the tag."""
        reference = self.digest or self.tag
        assert reference is not None
        return reference

    @property
    def familiar(self) -> str:
        """The repository as docker shows it: `nginx`, `me/app`, `127.0.0.1:5000/lab/app`."""
        if self.registry != DOCKER_HUB:
            return f"{self.registry}/{self.repository}"
        return self.repository.removeprefix("library/")

    @property
    def canonical(self) -> str:
        """`docker.io/library/nginx:latest`, `...@sha256:...`: the full name, for messages."""
        if self.digest:
            return f"{self.registry}/{self.repository}@{self.digest}"
        return f"{self.registry}/{self.repository}:{self.tag}"


def parse_registry_name(text: str) -> RegistryName:
    """`docker://REF` as docker's ParseNormalizedNamed reads REF; InvalidReference if not."""
    reference = text.removeprefix(PREFIX)
    if not reference:
        raise InvalidReference(f"invalid reference {text!r}: nothing after {PREFIX}")
    if _HEX_ID.fullmatch(reference):
        # docker refuses it too: an image ID is no name a registry knows.
        raise InvalidReference(
            f"invalid reference {text!r}: a 64-character hexadecimal name is an image ID, "
            "which a registry does not know"
        )
    try:
        name, tag, digest = split_reference(reference)
    except InvalidReference as exc:
        raise InvalidReference(f"{exc} (in {text!r})") from exc
    registry, repository = split_registry(name)
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if repository.lower() != repository:  # only the registry part may have capitals
        raise InvalidReference(f"invalid reference {text!r}: repository name must be lowercase")
    api_host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
    # docker pulls by the digest when both are given, and records no tag.
    return RegistryName(
        text, registry, api_host, repository, None if digest else tag or "latest", digest
    )


def split_registry(name: str) -> tuple[str, str]:
    """docker's splitDockerDomain: a first component with `.` or `:`, `localhost`, or a
    capital letter names the registry; anything else is on Docker Hub."""
    first, slash, rest = name.partition("/")
    if not slash or (
        not any(c in first for c in ".:") and first != "localhost" and first.lower() == first
    ):
        return DOCKER_HUB, name
    if first == _LEGACY_HUB:
        return DOCKER_HUB, rest
    return first, rest
