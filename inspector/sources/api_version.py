"""DOCKER_API_VERSION, checked one way for every source: the daemon's pins the version it
asks in, and the sources that have no daemon to ask (archives, registries) build their answers
in that version's shape."""

import re
from collections.abc import Mapping

from inspector.errors import UsageError

_API_VERSION = re.compile(r"1\.[0-9]{1,3}")


def parse_api_version(value: str | None) -> str | None:
    """Validate a pinned API version such as `1.41`; empty means not pinned."""
    if not value:
        return None
    if not _API_VERSION.fullmatch(value):
        raise UsageError(f"invalid DOCKER_API_VERSION {value!r}: expected a version like 1.41")
    return value


def shaped_api_version(environ: Mapping[str, str]) -> str:
    """The API version whose answers a source without a daemon builds: DOCKER_API_VERSION's,
    else the newest the shape builder knows (docker 28.5's)."""
    pinned = parse_api_version(environ.get("DOCKER_API_VERSION"))
    if pinned is not None:
        return pinned
    # Loaded only here: a TAB on an image name checks DOCKER_API_VERSION through this module.
    from inspector.sources.shape.answers import DEFAULT_API_VERSION

    return DEFAULT_API_VERSION
