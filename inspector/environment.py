"""The environment variables imginspect reads: one table for --help, the man page and the tests."""

from typing import NamedTuple


class Variable(NamedTuple):
    """One variable: a line for --help, a paragraph for the man page."""

    name: str
    summary: str
    description: str
    # Empty when imginspect's own code reads it (a test checks); else who reads it for us.
    read_by: str = ""


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "DOCKER_HOST",
        "daemon address (unix:///path, tcp://host:port, ssh://host)",
        "The daemon to ask when neither --context nor --host is given: unix:///path, "
        "tcp://host:port, host:port (which means tcp) or ssh://[user@]host[:port]. The "
        "default comes from DOCKER_CONTEXT, then the current context, then "
        "unix:///var/run/docker.sock.",
    ),
    Variable(
        "DOCKER_CONTEXT",
        "docker context to use (see `docker context ls`)",
        "The docker context to use when neither --context, --host nor DOCKER_HOST is given.",
    ),
    Variable(
        "DOCKER_CONFIG",
        "docker's config directory (default ~/.docker)",
        "docker's client configuration directory, holding config.json (its currentContext, "
        "and registry credentials: auths, credsStore, credHelpers) and contexts/. The default "
        "is ~/.docker.",
    ),
    Variable(
        "HOME",
        "where ~/.docker is",
        "Where ~/.docker is; the password database is asked when HOME is empty.",
    ),
    Variable(
        "DOCKER_TLS_VERIFY",
        "any value: as --tlsverify",
        "Any non-empty value (even 0): as --tlsverify, TLS checking the daemon's certificate.",
    ),
    Variable(
        "DOCKER_TLS",
        "any value: as --tls",
        "Any non-empty value: as --tls, TLS without checking the daemon's certificate.",
    ),
    Variable(
        "DOCKER_CERT_PATH",
        "directory of ca.pem, cert.pem, key.pem (default DOCKER_CONFIG)",
        "The directory of ca.pem, cert.pem and key.pem for TLS. The default is DOCKER_CONFIG.",
    ),
    Variable(
        "XDG_RUNTIME_DIR",
        "where rootless Podman's socket is looked for",
        "Where rootless Podman's socket (podman/podman.sock in it) is looked for when no "
        "daemon is configured and /var/run/docker.sock does not exist; /run/podman/podman.sock "
        "is tried next.",
    ),
    Variable(
        "DOCKER_API_VERSION",
        "pin the API version instead of asking the daemon",
        "Pin the API version (for example 1.41) instead of asking the daemon for it with "
        "GET /_ping. An archive's or a registry's image is described as a daemon of that "
        "version describes it (1.41 and older: docker 20.10's shape; unpinned: docker 28.5's, "
        "API 1.51). Empty means not pinned; anything but a version is a usage error.",
    ),
    Variable(
        "HTTPS_PROXY",
        "proxy for HTTPS to registries (also https_proxy, ALL_PROXY)",
        "The proxy that requests to registries over HTTPS go through (also https_proxy, and "
        "ALL_PROXY for any scheme). The daemon is never reached through a proxy.",
        read_by="requests (get_environ_proxies), for registries",
    ),
    Variable(
        "HTTP_PROXY",
        "proxy for plain HTTP to registries (also http_proxy)",
        "The proxy that requests to registries over plain HTTP go through (also http_proxy).",
        read_by="requests (get_environ_proxies), for registries",
    ),
    Variable(
        "NO_PROXY",
        "registries reached without a proxy (also no_proxy)",
        "Comma-separated hosts, domains and addresses (CIDR too) of registries reached "
        "directly, without HTTPS_PROXY or HTTP_PROXY (also no_proxy).",
        read_by="requests (get_environ_proxies), for registries",
    ),
    Variable(
        "IMGINSPECT_CERTS_D",
        "per-registry certificates instead of /etc/docker/certs.d",
        "The directory of per-registry certificates to use instead of /etc/docker/certs.d: "
        "HOST[:PORT]/ in it holds *.crt CAs, and a client.cert with its client.key, as "
        "docker's certs.d does (for a rootless docker's ~/.config/docker/certs.d, or tests).",
    ),
    Variable(
        "IMGINSPECT_DEBUG",
        "1: as --debug, and show tracebacks of internal errors",
        "1: as --debug (which daemon was chosen and why, the API version, each request), "
        "and an internal error (exit status 70) prints its traceback before its one line.",
    ),
    Variable(
        "NO_COLOR",
        "non-empty: no colour in the view (--color beats it)",
        "Non-empty: no colour in the view. --color beats it; it beats FORCE_COLOR.",
    ),
    Variable(
        "FORCE_COLOR",
        "non-empty: colour in the view even when piped",
        "Non-empty (any value): colour in the view even when the output is not a terminal.",
    ),
    Variable(
        "TERM",
        "dumb: no colour in the view",
        "dumb: no colour in the view.",
    ),
    Variable(
        "COLUMNS",
        "the width of the view (default: the terminal's, or 80)",
        "The width of the view, from 40 to 1000 columns. The default is the terminal's "
        "width, or 80 when the output is not a terminal.",
    ),
    Variable(
        "TZ",
        "the time zone of the times in the view and of -f's .Local",
        "The time zone of the times in the view, and of `.Local` in templates (read as Go "
        "reads it). The default is the system's.",
    ),
    Variable(
        "_IMGINSPECT_COMPLETE",
        "set by the shell completion scripts",
        "Set by the shell completion scripts (with COMP_WORDS and COMP_CWORD): imginspect "
        "then prints the candidates for the word being completed instead of running.",
        read_by="click, and by imginspect itself before click for a TAB on an image name",
    ),
    Variable(
        "COMP_WORDS",
        "set by the shell completion scripts: the words typed",
        "Set by the shell completion scripts, with _IMGINSPECT_COMPLETE: the words of the line "
        "being completed.",
    ),
    Variable(
        "COMP_CWORD",
        "set by the shell completion scripts: the word to complete",
        "Set by the shell completion scripts, with _IMGINSPECT_COMPLETE: which word is being "
        "completed (its index; fish gives the word itself).",
    ),
)


def help_section() -> str:
    """The lines of --help's Environment section, names aligned."""
    width = max(len(variable.name) for variable in VARIABLES) + 3
    return "\n".join(f"  {variable.name:<{width}}{variable.summary}" for variable in VARIABLES)
