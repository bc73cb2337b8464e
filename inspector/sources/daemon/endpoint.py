"""Decide which daemon to talk to, and how: flags, environment, docker's config and contexts.

No I/O beyond reading docker's own configuration files: nothing here opens a socket.
TAB completion resolves the daemon too, so paths are os.path strings and urllib.parse is
loaded only for the addresses that need it: pathlib, urllib.parse and the ipaddress module
they bring would be a noticeable share of every TAB.
"""

import json
import os
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from inspector.errors import UsageError
from inspector.sources.api_version import parse_api_version
from inspector.sources.daemon import DaemonFlags

DEFAULT_HOST = "unix:///var/run/docker.sock"
# Where docker goes when TLS is on and no host is given (DefaultTLSHost in docker/cli opts).
DEFAULT_TLS_HOST = "tcp://localhost:2376"
# docker's default port for plain-HTTP tcp:// hosts (DefaultHTTPPort in docker/cli opts).
DEFAULT_TCP_PORT = 2375
# The context that means "no context": the daemon comes from --host, DOCKER_HOST or the default.
DEFAULT_CONTEXT = "default"
# Podman's Docker-compatible sockets: the user's own (rootless), then the system's (root).
PODMAN_USER_SOCKET = "podman/podman.sock"  # in $XDG_RUNTIME_DIR
PODMAN_SYSTEM_SOCKET = "/run/podman/podman.sock"
# What docker's ssh connection helper (cli/connhelper) passes to ssh before the host, one
# argument each, "-o ConnectTimeout=30" included; and the command it runs on the other side.
SSH_OPTIONS = ("-o ConnectTimeout=30", "-T")
DIAL_STDIO = ("system", "dial-stdio")


class TLSFiles(NamedTuple):
    """TLS for a tcp:// daemon: whether to verify it, and the files, read when connecting."""

    verify: bool
    ca: str | None
    cert: str | None
    key: str | None
    origin: str  # where the settings came from, for --debug


class Endpoint(NamedTuple):
    """A daemon address: where it came from, and the base URL requests should use."""

    host: str
    scheme: Literal["unix", "tcp", "ssh"]
    address: str  # the socket's path, host:port, or the ssh host
    source: str
    tls: TLSFiles | None = None  # only ever set for tcp://
    ssh_args: tuple[str, ...] = ()  # for ssh://: what follows `ssh` on its command line

    @property
    def base_url(self) -> str:
        if self.scheme == "unix":
            from urllib.parse import quote

            return "http+unix://" + quote(self.address, safe="")
        if self.scheme == "ssh":  # the ssh process carries every request to this one daemon
            return "http+ssh://docker"
        return ("https://" if self.tls else "http://") + self.address


class Connection(NamedTuple):
    """Everything the daemon client needs to know before it opens a socket."""

    endpoint: Endpoint
    timeout: float
    api_version: str | None  # pinned by DOCKER_API_VERSION; None means negotiate
    # Podman sockets to try, in order, when the default docker socket does not exist.
    fallbacks: tuple[Endpoint, ...] = ()
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
    config_file = os.path.join(config_dir, "config.json")
    current, warnings = _current_context(config_file)

    ranked = [
        ("--context", flags.context),
        ("--host", flags.host),
        ("DOCKER_HOST", environ.get("DOCKER_HOST")),
        ("DOCKER_CONTEXT", environ.get("DOCKER_CONTEXT")),
        (f"currentContext in {config_file}", current),
    ]
    given = [(setting, value) for setting, value in ranked if value]
    if not given or given[0][0] in ("--host", "DOCKER_HOST") or given[0][1] == DEFAULT_CONTEXT:
        endpoint, tls_reasons = _default_endpoint(flags, environ, config_dir)
        meta_path = None
    else:
        endpoint, meta_path, tls_reasons = _context_endpoint(given[0][1], given[0][0], config_dir)

    if not given:
        why = (
            f"{endpoint.source}: none of --context, --host, DOCKER_HOST, DOCKER_CONTEXT or "
            f"currentContext in {config_file} is set"
        )
    else:
        (setting, value), beaten = given[0], given[1:]
        why = f"chosen by {_shown(setting, value)}"
        if beaten:
            why += ", which wins over " + " and ".join(_shown(s, v) for s, v in beaten)
        if value == DEFAULT_CONTEXT:
            why += f"; the {DEFAULT_CONTEXT!r} context uses {endpoint.source}"
        elif meta_path is not None:
            why = f"from {endpoint.source} ({meta_path}), {why}"
    reasons = [f"daemon {endpoint.host}: {why}", *tls_reasons]
    fallbacks = podman_sockets(environ) if endpoint.source == "the default" else ()
    if fallbacks:
        reasons.append(
            f"if {endpoint.address} does not exist: the first Podman socket that answers of "
            + ", ".join(fallback.address for fallback in fallbacks)
        )
    return Connection(
        endpoint, flags.timeout, api_version, fallbacks, tuple(reasons), tuple(warnings)
    )


def podman_sockets(environ: Mapping[str, str]) -> tuple[Endpoint, ...]:
    """Where Podman's Docker-compatible service listens: rootless first, then the system's."""
    paths = []
    runtime_dir = environ.get("XDG_RUNTIME_DIR", "")
    if runtime_dir.startswith("/"):
        paths.append(
            ("XDG_RUNTIME_DIR's Podman socket", f"{runtime_dir.rstrip('/')}/{PODMAN_USER_SOCKET}")
        )
    paths.append(("the system's Podman socket", PODMAN_SYSTEM_SOCKET))
    seen: set[str] = set()
    sockets = []
    for source, path in paths:
        if path not in seen and not any(ord(c) <= 0x20 or ord(c) == 0x7F for c in path):
            seen.add(path)
            sockets.append(Endpoint(f"unix://{path}", "unix", path, source))
    return tuple(sockets)


def docker_config_dir(environ: Mapping[str, str]) -> str:
    """$DOCKER_CONFIG, else ~/.docker (HOME, else the password database, as docker does)."""
    if environ.get("DOCKER_CONFIG"):
        return environ["DOCKER_CONFIG"]
    home = environ.get("HOME")
    if not home:
        import pwd

        home = pwd.getpwuid(os.getuid()).pw_dir
    return os.path.join(home, ".docker")


def context_dir_name(name: str) -> str:
    """The directory docker keeps a context's files in: the sha256 of its name."""
    import hashlib  # only a context needs it; loading OpenSSL would slow every other run

    return hashlib.sha256(name.encode()).hexdigest()


def parse_host(value: str, source: str, tls: TLSFiles | None = None) -> Endpoint:
    """Parse `unix:///path`, `tcp://host[:port]`, a bare `host:port` (which means tcp) or
    `ssh://[user@]host[:port][/socket path]`.

    TLS settings apply to tcp:// only: docker, too, speaks plain HTTP on a unix socket.
    """
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
        return Endpoint(value, "tcp", _tcp_address(value, rest, source), source, tls)
    if scheme == "ssh":
        host, args = _ssh_command(value, rest, source)
        return Endpoint(value, "ssh", host, source, ssh_args=args)
    if scheme in ("npipe", "fd", "http", "https"):
        raise _invalid(
            value, source, f"{scheme}:// is not supported; use unix://, tcp:// or ssh://"
        )
    raise _invalid(
        value, source, "expected unix:///path, tcp://host:port, host:port or ssh://[user@]host"
    )


def _ssh_command(value: str, rest: str, source: str) -> tuple[str, tuple[str, ...]]:
    """The host, and ssh's arguments, as docker's connhelper builds them (cli/connhelper/ssh)."""
    authority, slash, path = rest.partition("/")
    path = slash + path
    if "?" in rest or "#" in rest:
        raise _invalid(value, source, "nothing may follow the host and socket path (? or #)")
    userinfo, at, hostport = authority.rpartition("@")
    if at and ":" in userinfo:
        raise _invalid(value, source, "a plain-text password is not supported; use a key")
    from urllib.parse import unquote

    user = unquote(userinfo) if at else ""
    host, port = hostport, ""
    # As Go's url.URL.Hostname and Port: the port is what follows the last colon, if digits.
    colon = hostport.rfind(":")
    if colon != -1 and not hostport.endswith("]") and hostport[colon + 1 :].isdigit():
        host, port = hostport[:colon], hostport[colon + 1 :]
    elif colon != -1 and not hostport.endswith("]") and not hostport.startswith("["):
        raise _invalid(value, source, f"bad port {hostport[colon + 1 :]!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise _invalid(value, source, "no host to ssh to")
    args = list(SSH_OPTIONS)
    if user:
        args += ["-l", user]
    if port:
        args += ["-p", port]
    args += ["--", host, "docker"]
    if path.strip("/"):
        args += ["--host", f"unix://{unquote(path)}"]
    return host, (*args, *DIAL_STDIO)


def _default_endpoint(
    flags: DaemonFlags, environ: Mapping[str, str], config_dir: str
) -> tuple[Endpoint, list[str]]:
    """The `default` context: --host, else DOCKER_HOST, else the default; TLS from flags/env."""
    tls, reasons = _tls_settings(flags, environ, config_dir)
    if flags.host:
        endpoint = parse_host(flags.host, "--host", tls)
    elif environ.get("DOCKER_HOST"):
        endpoint = parse_host(environ["DOCKER_HOST"], "DOCKER_HOST", tls)
    elif tls is not None:
        endpoint = parse_host(DEFAULT_TLS_HOST, "the default with TLS", tls)
    else:
        endpoint = parse_host(DEFAULT_HOST, "the default")
    if tls is not None and endpoint.tls is None:
        reasons = [
            f"TLS: not used: {endpoint.host} is not a tcp:// address (docker ignores it too)"
        ]
    return endpoint, reasons


def _tls_settings(
    flags: DaemonFlags, environ: Mapping[str, str], config_dir: str
) -> tuple[TLSFiles | None, list[str]]:
    """TLS as docker's flags and variables set it up (cli/flags.ClientOptions)."""
    # Any non-empty value turns them on, "0" and "false" included, as in docker.
    tls_env = [name for name in ("DOCKER_TLS", "DOCKER_TLS_VERIFY") if environ.get(name)]
    tls_flags = [
        name for name, on in (("--tls", flags.tls), ("--tlsverify", flags.tlsverify)) if on
    ]
    file_flags = [
        name
        for name, value in (
            ("--tlscacert", flags.tlscacert),
            ("--tlscert", flags.tlscert),
            ("--tlskey", flags.tlskey),
        )
        if value
    ]
    if not tls_env and not tls_flags:
        if file_flags:
            return None, [f"TLS: off, so {', '.join(file_flags)} unused (as in docker)"]
        return None, []
    verify = flags.tlsverify or bool(environ.get("DOCKER_TLS_VERIFY"))
    cert_path = environ.get("DOCKER_CERT_PATH") or config_dir
    # ca.pem is always read (docker fails without it); cert.pem and key.pem only if there.
    ca = flags.tlscacert or os.path.join(cert_path, "ca.pem")
    cert = flags.tlscert or _if_file(os.path.join(cert_path, "cert.pem"))
    key = flags.tlskey or _if_file(os.path.join(cert_path, "key.pem"))
    origin = " and ".join(
        [
            ", ".join(tls_flags + [f"{name}={environ[name]!r}" for name in tls_env]),
            *(
                [f"DOCKER_CERT_PATH={environ['DOCKER_CERT_PATH']!r}"]
                if environ.get("DOCKER_CERT_PATH")
                else []
            ),
            *([", ".join(file_flags)] if file_flags else []),
        ]
    )
    tls = TLSFiles(verify, ca, cert, key, origin)
    return tls, [_describe_tls(tls)]


def _describe_tls(tls: TLSFiles) -> str:
    trust = (
        f"verify the daemon's certificate against {tls.ca or 'the system CAs'}"
        if tls.verify
        else "do not verify the daemon's certificate"
    )
    if tls.cert and tls.key:
        client = f"client certificate {tls.cert} with key {tls.key}"
    elif tls.cert or tls.key:
        client = f"no client certificate ({tls.cert or tls.key} lacks its other half)"
    else:
        client = "no client certificate"
    return f"TLS: {trust}; {client} (from {tls.origin})"


def _if_file(path: str) -> str | None:
    return path if os.path.isfile(path) else None


def _context_endpoint(name: str, setting: str, config_dir: str) -> tuple[Endpoint, str, list[str]]:
    """The docker endpoint of a context in docker's context store, with its TLS files."""
    directory = context_dir_name(name)
    meta_path = os.path.join(config_dir, "contexts", "meta", directory, "meta.json")
    where = f"context {name!r} (from {setting})"
    try:
        meta: Any = json.loads(_read(meta_path))
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
    skip_verify = isinstance(docker, dict) and docker.get("SkipTLSVerify") is True
    # docker's context store: TLS material in contexts/tls/<sha256 of name>/docker/.
    tls_dir = os.path.join(config_dir, "contexts", "tls", directory, "docker")
    ca, cert, key = (_if_file(os.path.join(tls_dir, f)) for f in ("ca.pem", "cert.pem", "key.pem"))
    tls = None
    if ca or cert or key or skip_verify:
        tls = TLSFiles(not skip_verify, ca, cert, key, f"context {name!r}: {tls_dir}")
    endpoint = parse_host(host, f"context {name!r}", tls)
    return endpoint, meta_path, [_describe_tls(endpoint.tls)] if endpoint.tls else []


def _current_context(config_file: str) -> tuple[str | None, list[str]]:
    """`currentContext` from docker's config.json; a file docker cannot read is ignored."""
    try:
        raw = _read(config_file)
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


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _shown(setting: str, value: str) -> str:
    if setting.startswith("currentContext"):
        return setting.replace("currentContext", f"currentContext {value!r}", 1)
    return f"{setting}={value!r}" if setting.isupper() else f"{setting} {value!r}"


def _tcp_address(value: str, rest: str, source: str) -> str:
    try:
        from urllib.parse import urlsplit

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
