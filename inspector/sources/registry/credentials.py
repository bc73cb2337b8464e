"""Credentials where docker keeps them: `$DOCKER_CONFIG/config.json` (`auths`, `credsStore`,
`credHelpers`), and credential helpers run through the docker-credential-helpers protocol.

As docker's CLI looks them up: a registry's `credHelpers` entry first, else `credsStore`,
else `auths`, whose keys may be `host[:port]` or a URL of it. Docker Hub's key is
`https://index.docker.io/v1/`. A helper that has nothing for the registry means anonymous; so
does a helper that fails (not installed, an error, no answer, an answer that is not JSON), as
`docker pull` goes on anonymously then: its ResolveAuthConfig ignores GetAuthConfig's error.
`--debug` says which helper failed and how; a registry that then refuses the anonymous pull is
the error the run reports.

A secret read here goes into a request's Authorization header or a token request's form, and
nowhere else: no message, no --debug line, no repr shows it.
"""

import base64
import binascii
import json
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from inspector.sources.registry.names import DOCKER_HUB, DOCKER_HUB_CREDENTIALS

# A helper that does not answer in this time is a helper that failed.
HELPER_TIMEOUT = 30.0
_HELPER_OUTPUT_LIMIT = 64 * 1024
# What docker-credential-helpers print when they have nothing for the server.
_NOT_FOUND = "credentials not found"


class Credentials(NamedTuple):
    """A user name and password, or an identity token (an OAuth refresh token)."""

    username: str
    secret: str = ""  # the password
    identity_token: str = ""

    def __repr__(self) -> str:  # no secret in a traceback or a log
        return f"Credentials(username={self.username!r}, secret=<hidden>)"


def server_key(registry: str) -> str:
    """The key docker keeps a registry's credentials under."""
    return DOCKER_HUB_CREDENTIALS if registry == DOCKER_HUB else registry


class HelperFailed(Exception):
    """A credential helper that could not say: docker goes on anonymously."""


def find_credentials(
    registry: str, environ: Mapping[str, str], log: Callable[[str], None] | None = None
) -> Credentials | None:
    """The credentials docker would use for the registry (`docker.io` or host[:port]); None
    for anonymous. A config.json docker cannot read is ignored, as docker warns and goes on;
    so is a helper that fails (said on log)."""
    # docker's config directory, found as the daemon's endpoint finds it for currentContext.
    from inspector.sources.daemon.endpoint import docker_config_dir

    config = _read_config(Path(docker_config_dir(environ), "config.json"))
    key = server_key(registry)
    helpers = config.get("credHelpers")
    helper = helpers.get(registry) if isinstance(helpers, dict) else None
    if not isinstance(helper, str) or not helper:
        store = config.get("credsStore")
        helper = store if isinstance(store, str) and store else None
    if helper:
        try:
            return _from_helper(helper, key, registry)
        except HelperFailed as failure:
            if log is not None:
                log(f"{failure}; going on without credentials, as docker does")
            return None
    return _from_auths(config.get("auths"), key)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            value = json.loads(file.read(4 * 1024 * 1024))
    except (OSError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _from_auths(auths: object, key: str) -> Credentials | None:
    if not isinstance(auths, dict):
        return None
    entry = auths.get(key)
    if entry is None:  # a key spelled as a URL: https://host:port/v2/, http://host
        for other, value in auths.items():
            if isinstance(other, str) and _hostname(other) == _hostname(key):
                entry = value
                break
    if not isinstance(entry, dict):
        return None
    identity = entry.get("identitytoken")
    username, secret = "", ""
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=False).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        username, _, secret = decoded.partition(":")
    if isinstance(identity, str) and identity:
        return Credentials(username, "", identity)
    if username and secret:
        return Credentials(username, secret)
    return None


def _hostname(key: str) -> str:
    """docker's ConvertToHostname: no scheme, nothing after the first `/`."""
    for scheme in ("http://", "https://"):
        key = key.removeprefix(scheme)
    return key.partition("/")[0]


def _from_helper(helper: str, key: str, registry: str) -> Credentials | None:
    """`docker-credential-NAME get`: the server URL on stdin, JSON on stdout."""
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run(
            [program, "get"],
            input=key.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise HelperFailed(
            f"registry {registry}: the credential helper {program} (named in docker's config.json) "
            "is not installed"
        ) from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HelperFailed(
            f"registry {registry}: the credential helper {program} failed: {exc}"
        ) from exc
    output = done.stdout[:_HELPER_OUTPUT_LIMIT].decode("utf-8", "replace")
    if done.returncode != 0:
        if _NOT_FOUND in output.lower():
            return None
        # Helpers write their error on stdout; its first line says what failed.
        first = (output.strip() or done.stderr.decode("utf-8", "replace").strip()).split("\n")[0]
        raise HelperFailed(
            f"registry {registry}: the credential helper {program} failed "
            f"(exit status {done.returncode}): {first[:200]}"
        )
    try:
        answer = json.loads(output)
    except ValueError as exc:
        raise HelperFailed(
            f"registry {registry}: the credential helper {program} did not answer with JSON"
        ) from exc
    if not isinstance(answer, dict):
        raise HelperFailed(
            f"registry {registry}: the credential helper {program} answered no object"
        )
    username, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(username, str) or not isinstance(secret, str) or not secret:
        return None
    if username == "<token>":  # how helpers hand over an identity token
        return Credentials("", "", secret)
    return Credentials(username, secret)
