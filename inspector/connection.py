"""Decide which daemon to talk to, and how, from the flags and the environment (no I/O)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from inspector.errors import UsageError

DEFAULT_HOST = "unix:///var/run/docker.sock"
# docker's default port for plain-HTTP tcp:// hosts (DefaultHTTPPort in docker/cli opts).
DEFAULT_TCP_PORT = 2375
DEFAULT_TIMEOUT = 30.0

_API_VERSION = re.compile(r"1\.[0-9]{1,3}")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A daemon address: where it came from, and the base URL requests should use."""

    host: str
    scheme: Literal["unix", "tcp"]
    address: str
    source: str

    @property
    def base_url(self) -> str:
        if self.scheme == "unix":
            return "http+unix://" + quote(self.address, safe="")
        return "http://" + self.address


@dataclass(frozen=True, slots=True)
class Connection:
    """Everything the daemon client needs to know before it opens a socket."""

    endpoint: Endpoint
    timeout: float
    api_version: str | None  # pinned by DOCKER_API_VERSION; None means negotiate


def resolve_connection(
    host_flag: str | None, timeout: float, environ: Mapping[str, str]
) -> Connection:
    """Pick the daemon as the docker CLI does: --host, then DOCKER_HOST, then the default."""
    if host_flag:
        endpoint = parse_host(host_flag, "--host")
    elif environ.get("DOCKER_HOST"):
        endpoint = parse_host(environ["DOCKER_HOST"], "DOCKER_HOST")
    else:
        endpoint = parse_host(DEFAULT_HOST, "the default")
    return Connection(endpoint, timeout, parse_api_version(environ.get("DOCKER_API_VERSION")))


def parse_api_version(value: str | None) -> str | None:
    """Validate a pinned API version such as `1.41`; empty means not pinned."""
    if not value:
        return None
    if not _API_VERSION.fullmatch(value):
        raise UsageError(f"invalid DOCKER_API_VERSION {value!r}: expected a version like 1.41")
    return value


def parse_host(value: str, source: str) -> Endpoint:
    """Parse `unix:///path`, `tcp://host[:port]` or a bare `host:port` (which means tcp)."""
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        raise _invalid(value, source, "it contains white space or control characters")
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "tcp", value
    if scheme == "unix":
        if not rest.startswith("/"):
            raise _invalid(value, source, "a unix socket needs an absolute path")
        return Endpoint(value, "unix", rest, source)
    if scheme == "tcp":
        return Endpoint(value, "tcp", _tcp_address(value, rest, source), source)
    if scheme in ("ssh", "npipe", "fd", "http", "https"):
        raise _invalid(value, source, f"{scheme}:// is not supported yet; use unix:// or tcp://")
    raise _invalid(value, source, "expected unix:///path, tcp://host:port or host:port")


def _tcp_address(value: str, rest: str, source: str) -> str:
    try:
        parts = urlsplit("//" + rest)
        port = parts.port
    except ValueError as exc:
        raise _invalid(value, source, f"bad host or port ({exc})") from exc
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise _invalid(value, source, "a tcp address is host:port, with nothing after it")
    hostname = parts.hostname or "localhost"
    if ":" in hostname:  # an IPv6 literal keeps its brackets in the URL
        hostname = f"[{hostname}]"
    return f"{hostname}:{port if port is not None else DEFAULT_TCP_PORT}"


def _invalid(value: str, source: str, why: str) -> UsageError:
    return UsageError(f"invalid daemon address {value!r} (from {source}): {why}")
