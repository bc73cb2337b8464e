"""Decide which daemon to talk to, and how: flags, environment, docker's config and contexts.

No I/O beyond reading docker's own configuration files: nothing here opens a socket.
"""

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from inspector.errors import UsageError

DEFAULT_HOST = "unix:///var/run/docker.sock"
# docker's default port for plain-HTTP tcp:// hosts (DefaultHTTPPort in docker/cli opts).
DEFAULT_TCP_PORT = 2375
DEFAULT_TIMEOUT = 30.0
# The context that means "no context": the daemon comes from --host, DOCKER_HOST or the default.
DEFAULT_CONTEXT = "default"

_API_VERSION = re.compile(r"1\.[0-9]{1,3}")


@dataclass(frozen=True, slots=True)
class DaemonFlags:
    """What the command line says about the daemon."""

    host: str | None = None
    context: str | None = None
    timeout: float = DEFAULT_TIMEOUT


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
    # Why this daemon, one line per decision, for --debug.
    reasons: tuple[str, ...] = ()
    # What docker only warns about and then ignores (an unreadable config.json).
    warnings: tuple[str, ...] = ()


def resolve_connection(flags: DaemonFlags, environ: Mapping[str, str]) -> Connection:
    """Pick the daemon as the docker CLI does.

    --context, then --host, then DOCKER_HOST, then DOCKER_CONTEXT, then `currentContext` in
    $DOCKER_CONFIG/config.json, then the default socket. The context named `default` is the
    one made of --host, DOCKER_HOST and the default socket.
    """
    if flags.context and flags.host:
        raise UsageError("use either --context or --host, not both: a context names its own daemon")
    api_version = parse_api_version(environ.get("DOCKER_API_VERSION"))
    config_dir = docker_config_dir(environ)
    config_file = config_dir / "config.json"
    current, warnings = _current_context(config_file)

    ranked = [
        ("--context", flags.context),
        ("--host", flags.host),
        ("DOCKER_HOST", environ.get("DOCKER_HOST")),
        ("DOCKER_CONTEXT", environ.get("DOCKER_CONTEXT")),
        (f"currentContext in {config_file}", current),
    ]
    given = [(setting, value) for setting, value in ranked if value]
    if not given:
        endpoint = parse_host(DEFAULT_HOST, "the default")
        why = (
            "the default: none of --context, --host, DOCKER_HOST, DOCKER_CONTEXT or "
            f"currentContext in {config_file} is set"
        )
    else:
        (setting, value), beaten = given[0], given[1:]
        why = f"chosen by {_shown(setting, value)}"
        if beaten:
            why += ", which wins over " + " and ".join(_shown(s, v) for s, v in beaten)
        if setting in ("--host", "DOCKER_HOST"):
            endpoint = parse_host(value, setting)
        elif value == DEFAULT_CONTEXT:
            endpoint = _default_endpoint(flags, environ)
            why += f"; the {DEFAULT_CONTEXT!r} context uses " + (
                "the default socket" if endpoint.source == "the default" else endpoint.source
            )
        else:
            endpoint, meta = _context_endpoint(value, setting, config_dir)
            why = f"from context {value!r} ({meta}), {why}"
    reasons = (f"daemon {endpoint.host}: {why}",)
    return Connection(endpoint, flags.timeout, api_version, reasons, tuple(warnings))


def docker_config_dir(environ: Mapping[str, str]) -> Path:
    """$DOCKER_CONFIG, else ~/.docker (HOME, else the password database, as docker does)."""
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"])
    home = environ.get("HOME")
    if not home:
        import pwd

        home = pwd.getpwuid(os.getuid()).pw_dir
    return Path(home, ".docker")


def context_dir_name(name: str) -> str:
    """The directory docker keeps a context's files in: the sha256 of its name."""
    return hashlib.sha256(name.encode()).hexdigest()


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


def _default_endpoint(flags: DaemonFlags, environ: Mapping[str, str]) -> Endpoint:
    """The `default` context: --host, else DOCKER_HOST, else the default socket."""
    if flags.host:
        return parse_host(flags.host, "--host")
    if environ.get("DOCKER_HOST"):
        return parse_host(environ["DOCKER_HOST"], "DOCKER_HOST")
    return parse_host(DEFAULT_HOST, "the default")


def _context_endpoint(name: str, setting: str, config_dir: Path) -> tuple[Endpoint, Path]:
    """The docker endpoint of a context in docker's context store, and its meta.json."""
    meta_path = config_dir / "contexts" / "meta" / context_dir_name(name) / "meta.json"
    where = f"context {name!r} (from {setting})"
    try:
        meta: Any = json.loads(meta_path.read_bytes())
    except FileNotFoundError:
        raise UsageError(
            f"{where} does not exist: there is no {meta_path}; `docker context ls` lists them"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read {where}: {meta_path}: {exc.strerror or exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{where}: {meta_path} is not valid JSON ({exc})") from exc
    endpoints = meta.get("Endpoints") if isinstance(meta, dict) else None
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    host = docker.get("Host") if isinstance(docker, dict) else None
    if not isinstance(host, str) or not host:
        raise UsageError(f"{where} has no docker endpoint host in {meta_path}")
    return parse_host(host, f"context {name!r}"), meta_path


def _current_context(config_file: Path) -> tuple[str | None, list[str]]:
    """`currentContext` from docker's config.json; a file docker cannot read is ignored."""
    try:
        raw = config_file.read_bytes()
    except FileNotFoundError:
        return None, []
    except OSError as exc:
        return None, [f"cannot read the config file {config_file}: {exc.strerror or exc}"]
    # docker warns about a config.json it cannot parse and goes on as if it were empty.
    try:
        config: Any = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return None, [f"ignoring the config file {config_file}: it is not valid JSON ({exc})"]
    if not isinstance(config, dict):
        return None, [f"ignoring the config file {config_file}: it is not a JSON object"]
    current = config.get("currentContext")
    if current is not None and not isinstance(current, str):
        return None, [f"ignoring the config file {config_file}: currentContext is not a string"]
    return current or None, []


def _shown(setting: str, value: str) -> str:
    if setting.startswith("currentContext"):
        return setting.replace("currentContext", f"currentContext {value!r}", 1)
    return f"{setting}={value!r}" if setting.isupper() else f"{setting} {value!r}"


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
