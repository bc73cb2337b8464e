"""The daemon is chosen as the docker CLI chooses it, from flags, environment and contexts."""

from pathlib import Path

import pytest

from inspector.errors import ExitCode, UsageError
from inspector.sources.api_version import parse_api_version
from inspector.sources.daemon import DaemonFlags
from inspector.sources.daemon.endpoint import (
    DEFAULT_HOST,
    DEFAULT_TLS_HOST,
    TLSFiles,
    parse_host,
    resolve_connection,
)
from tests.docker_config import context_dir_name, use_context, write_context


@pytest.mark.parametrize(
    ("value", "scheme", "address", "base_url"),
    [
        (
            "unix:///var/run/docker.sock",
            "unix",
            "/var/run/docker.sock",
            "http+unix://%2Fvar%2Frun%2Fdocker.sock",
        ),
        (
            "unix:///tmp/a_b%/d.sock",
            "unix",
            "/tmp/a_b%/d.sock",
            "http+unix://%2Ftmp%2Fa_b%25%2Fd.sock",
        ),
        ("tcp://127.0.0.1:2376", "tcp", "127.0.0.1:2376", "http://127.0.0.1:2376"),
        ("tcp://docker.example", "tcp", "docker.example:2375", "http://docker.example:2375"),
        ("tcp://:2375", "tcp", "localhost:2375", "http://localhost:2375"),
        ("tcp://[::1]:2375", "tcp", "[::1]:2375", "http://[::1]:2375"),
        ("10.0.0.5:2375", "tcp", "10.0.0.5:2375", "http://10.0.0.5:2375"),
    ],
)
def test_host_forms_map_to_a_base_url(value: str, scheme: str, address: str, base_url: str) -> None:
    endpoint = parse_host(value, "--host")
    assert (endpoint.scheme, endpoint.address, endpoint.base_url) == (scheme, address, base_url)


SSH = ("-o ConnectTimeout=30", "-T")
DIAL = ("docker", "system", "dial-stdio")


@pytest.mark.parametrize(
    ("value", "host", "args"),
    [
        ("ssh://box", "box", (*SSH, "--", "box", *DIAL)),
        ("ssh://me@box", "box", (*SSH, "-l", "me", "--", "box", *DIAL)),
        ("ssh://me@box:2222", "box", (*SSH, "-l", "me", "-p", "2222", "--", "box", *DIAL)),
        ("ssh://[::1]:22", "::1", (*SSH, "-p", "22", "--", "::1", *DIAL)),
        ("ssh://Box.Example", "Box.Example", (*SSH, "--", "Box.Example", *DIAL)),
        ("ssh://a%40b@box", "box", (*SSH, "-l", "a@b", "--", "box", *DIAL)),
        ("ssh://@box", "box", (*SSH, "--", "box", *DIAL)),
        ("ssh://box/", "box", (*SSH, "--", "box", *DIAL)),
        (
            "ssh://box/run/user/1000/docker.sock",
            "box",
            (*SSH, "--", "box", "docker", "--host", "unix:///run/user/1000/docker.sock",
             "system", "dial-stdio"),
        ),
        # After `--`, a host that looks like an option is still only a host name.
        ("ssh://-oProxyCommand=x", "-oProxyCommand=x", (*SSH, "--", "-oProxyCommand=x", *DIAL)),
    ],
)  # fmt: skip
def test_ssh_urls_become_the_ssh_command_docker_runs(
    value: str, host: str, args: tuple[str, ...]
) -> None:
    endpoint = parse_host(value, "DOCKER_HOST")
    assert (endpoint.scheme, endpoint.address, endpoint.ssh_args) == ("ssh", host, args)
    assert endpoint.base_url == "http+ssh://docker"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("unix://relative.sock", "absolute path"),
        ("unix://", "absolute path"),
        ("tcp://host:notaport", "bad host or port"),
        ("tcp://host:99999", "bad host or port"),
        ("tcp://host:2375/some/path", "nothing after it"),
        ("tcp://user@host:2375", "nothing after it"),
        ("ssh://me:secret@host", "plain-text password is not supported"),
        ("ssh://", "no host to ssh to"),
        ("ssh://me@:22", "no host to ssh to"),
        ("ssh://host?x=1", "nothing may follow"),
        ("ssh://host#f", "nothing may follow"),
        ("ssh://host:ssh", "bad port"),
        ("npipe:////./pipe/docker_engine", "npipe:// is not supported"),
        ("https://host:2376", "https:// is not supported"),
        ("gopher://host", "expected unix"),
        ("unix:///tmp/x\n.sock", "control characters"),
    ],
)
def test_bad_hosts_are_usage_errors_naming_the_value_and_its_source(
    value: str, reason: str
) -> None:
    with pytest.raises(UsageError) as caught:
        parse_host(value, "DOCKER_HOST")
    assert caught.value.exit_code == ExitCode.USAGE
    assert reason in str(caught.value)
    assert repr(value) in str(caught.value)
    assert "DOCKER_HOST" in str(caught.value)


@pytest.mark.parametrize(
    ("flag", "environ", "host", "source"),
    [
        ("tcp://a:1", {"DOCKER_HOST": "tcp://b:2"}, "tcp://a:1", "--host"),
        (None, {"DOCKER_HOST": "tcp://b:2"}, "tcp://b:2", "DOCKER_HOST"),
        (None, {"DOCKER_HOST": ""}, "unix:///var/run/docker.sock", "the default"),
        (None, {}, "unix:///var/run/docker.sock", "the default"),
    ],
)
def test_flag_beats_environment_beats_default(
    flag: str | None, environ: dict[str, str], host: str, source: str, tmp_path: Path
) -> None:
    environ = {**environ, "DOCKER_CONFIG": str(tmp_path)}
    endpoint = resolve_connection(DaemonFlags(host=flag), environ).endpoint
    assert (endpoint.host, endpoint.source) == (host, source)


# -- contexts and the order docker picks the daemon in ----------------------------------------

A_SOCK = "unix:///run/ctx-a.sock"
B_SOCK = "unix:///run/ctx-b.sock"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A DOCKER_CONFIG with contexts ctx-a and ctx-b, and no currentContext."""
    config = tmp_path / "docker-config"
    write_context(config, "ctx-a", A_SOCK)
    write_context(config, "ctx-b", B_SOCK)
    use_context(config, None)
    return config


# (--context, --host, DOCKER_HOST, DOCKER_CONTEXT, currentContext) -> the daemon and its source
PRECEDENCE = [
    pytest.param(None, None, None, None, None, DEFAULT_HOST, "the default", id="nothing-set"),
    pytest.param(None, None, None, None, "ctx-b", B_SOCK, "context 'ctx-b'", id="current"),
    pytest.param(
        None, None, None, "ctx-a", "ctx-b", A_SOCK, "context 'ctx-a'", id="env-ctx>current"
    ),
    pytest.param(
        None, None, "tcp://h:1", "ctx-a", "ctx-b", "tcp://h:1", "DOCKER_HOST", id="host>env-ctx"
    ),
    pytest.param(
        None, "tcp://f:1", "tcp://h:1", "ctx-a", "ctx-b", "tcp://f:1", "--host", id="-H>host"
    ),
    pytest.param(
        "ctx-b", None, "tcp://h:1", "ctx-a", None, B_SOCK, "context 'ctx-b'", id="--context>all"
    ),
    pytest.param(
        "default", None, "tcp://h:1", "ctx-a", "ctx-b", "tcp://h:1", "DOCKER_HOST",
        id="--context-default-is-DOCKER_HOST",
    ),
    pytest.param(
        None, None, None, "default", "ctx-b", DEFAULT_HOST, "the default", id="env-ctx-default"
    ),
    pytest.param(
        None, None, None, None, "default", DEFAULT_HOST, "the default", id="current-default"
    ),
    pytest.param(
        None, None, "", "", "ctx-b", B_SOCK, "context 'ctx-b'", id="empty-env-is-unset"
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("context", "host", "docker_host", "docker_context", "current", "chosen", "source"),
    PRECEDENCE,
)
def test_the_daemon_is_chosen_in_dockers_order(
    config_dir: Path,
    context: str | None,
    host: str | None,
    docker_host: str | None,
    docker_context: str | None,
    current: str | None,
    chosen: str,
    source: str,
) -> None:
    use_context(config_dir, current)
    environ = {"DOCKER_CONFIG": str(config_dir)}
    if docker_host is not None:
        environ["DOCKER_HOST"] = docker_host
    if docker_context is not None:
        environ["DOCKER_CONTEXT"] = docker_context

    connection = resolve_connection(DaemonFlags(host=host, context=context), environ)

    assert (connection.endpoint.host, connection.endpoint.source) == (chosen, source)
    assert connection.warnings == ()


def test_the_reasons_name_the_winner_and_what_it_beat(config_dir: Path) -> None:
    use_context(config_dir, "ctx-b")
    environ = {"DOCKER_CONFIG": str(config_dir), "DOCKER_CONTEXT": "ctx-a"}

    (reason,) = resolve_connection(DaemonFlags(), environ).reasons

    assert reason.startswith(f"daemon {A_SOCK}: from context 'ctx-a' (")
    assert "chosen by DOCKER_CONTEXT='ctx-a'" in reason
    assert f"wins over currentContext 'ctx-b' in {config_dir / 'config.json'}" in reason


def test_the_default_reason_lists_every_setting_that_was_not_set(config_dir: Path) -> None:
    reason = resolve_connection(DaemonFlags(), {"DOCKER_CONFIG": str(config_dir)}).reasons[0]

    assert reason.startswith(f"daemon {DEFAULT_HOST}: the default: none of --context, --host")
    assert str(config_dir / "config.json") in reason


def test_docker_config_defaults_to_dot_docker_in_home(tmp_path: Path) -> None:
    write_context(tmp_path / ".docker", "home-ctx", A_SOCK)
    use_context(tmp_path / ".docker", "home-ctx")

    endpoint = resolve_connection(DaemonFlags(), {"HOME": str(tmp_path)}).endpoint

    assert (endpoint.host, endpoint.source) == (A_SOCK, "context 'home-ctx'")


def test_context_and_host_together_are_a_usage_error(config_dir: Path) -> None:
    with pytest.raises(UsageError, match="either --context or --host"):
        resolve_connection(
            DaemonFlags(host="tcp://a:1", context="ctx-a"), {"DOCKER_CONFIG": str(config_dir)}
        )


@pytest.mark.parametrize(
    ("flags", "environ", "named"),
    [
        (DaemonFlags(context="ghost"), {}, "context 'ghost' (from --context)"),
        (DaemonFlags(), {"DOCKER_CONTEXT": "ghost"}, "context 'ghost' (from DOCKER_CONTEXT)"),
        (DaemonFlags(context="../ctx-a"), {}, "context '../ctx-a' (from --context)"),
    ],
)
def test_a_context_that_does_not_exist_is_a_usage_error_naming_it(
    config_dir: Path, flags: DaemonFlags, environ: dict[str, str], named: str
) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_connection(flags, {**environ, "DOCKER_CONFIG": str(config_dir)})
    assert named in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_a_current_context_that_does_not_exist_names_the_config_file(config_dir: Path) -> None:
    use_context(config_dir, "ghost")
    with pytest.raises(UsageError) as caught:
        resolve_connection(DaemonFlags(), {"DOCKER_CONFIG": str(config_dir)})
    assert f"context 'ghost' (from currentContext in {config_dir}/config.json)" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"currentContext":', "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"currentContext": 5}', "currentContext is not a string"),
    ],
)
def test_a_config_file_docker_cannot_parse_is_ignored_with_a_warning(
    config_dir: Path, content: bytes, why: str
) -> None:
    """docker warns and goes on with an empty configuration: so does imginspect."""
    (config_dir / "config.json").write_bytes(content)

    connection = resolve_connection(DaemonFlags(), {"DOCKER_CONFIG": str(config_dir)})

    assert connection.endpoint.host == DEFAULT_HOST
    (warning,) = connection.warnings
    assert str(config_dir / "config.json") in warning and why in warning


@pytest.mark.parametrize(
    ("meta", "why"),
    [
        (b"{", "is not valid JSON"),
        (b'{"Name":"ctx-a","Endpoints":{}}', "has no docker endpoint host"),
        (b'{"Name":"ctx-a","Endpoints":{"docker":{"Host":""}}}', "has no docker endpoint host"),
        (b'{"Endpoints":{"docker":{"Host":"gopher://x"}}}', "invalid daemon address"),
    ],
)
def test_a_broken_context_is_a_usage_error_naming_its_file(
    config_dir: Path, meta: bytes, why: str
) -> None:
    meta_path = write_context(config_dir, "ctx-a", A_SOCK)
    meta_path.write_bytes(meta)
    with pytest.raises(UsageError) as caught:
        resolve_connection(DaemonFlags(context="ctx-a"), {"DOCKER_CONFIG": str(config_dir)})
    assert why in str(caught.value)
    assert "ctx-a" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "pinned"), [(None, None), ("", None), ("1.41", "1.41"), ("1.9", "1.9")]
)
def test_api_version_pin(value: str | None, pinned: str | None) -> None:
    assert parse_api_version(value) == pinned


@pytest.mark.parametrize("value", ["abc", "1", "1.41.0", "v1.41", "2.0", "1.41\n"])
def test_bad_api_version_pin_is_a_usage_error(value: str) -> None:
    with pytest.raises(UsageError, match="DOCKER_API_VERSION"):
        parse_api_version(value)


def test_a_config_file_that_cannot_be_read_is_a_warning_as_in_docker(config_dir: Path) -> None:
    (config_dir / "config.json").unlink()
    (config_dir / "config.json").mkdir()

    connection = resolve_connection(DaemonFlags(), {"DOCKER_CONFIG": str(config_dir)})

    assert connection.endpoint.host == DEFAULT_HOST
    assert connection.warnings == (
        f"cannot read the config file {config_dir / 'config.json'}: Is a directory",
    )


# -- TLS settings, as docker's flags and variables make them ------------------------------------


@pytest.fixture
def cert_dir(tmp_path: Path) -> Path:
    """A DOCKER_CERT_PATH with all three files (their contents do not matter here)."""
    directory = tmp_path / "certs"
    directory.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (directory / name).write_text(name)
    return directory


def _tls(flags: DaemonFlags, environ: dict[str, str], config_dir: Path) -> tuple[str, TLSFiles]:
    connection = resolve_connection(flags, {"DOCKER_CONFIG": str(config_dir), **environ})
    assert connection.endpoint.tls is not None
    return connection.endpoint.base_url, connection.endpoint.tls


def test_docker_tls_verify_with_no_host_means_localhost_2376(config_dir: Path) -> None:
    url, tls = _tls(DaemonFlags(), {"DOCKER_TLS_VERIFY": "1"}, config_dir)
    assert url == "https://localhost:2376"
    # ca.pem is always named (reading it fails later, as in docker); the others only if there.
    assert (tls.verify, tls.ca, tls.cert, tls.key) == (
        True,
        str(config_dir / "ca.pem"),
        None,
        None,
    )


@pytest.mark.parametrize("value", ["1", "0", "false", "no"])
def test_any_non_empty_docker_tls_verify_turns_verification_on(
    config_dir: Path, value: str
) -> None:
    assert _tls(DaemonFlags(), {"DOCKER_TLS_VERIFY": value}, config_dir)[1].verify


def test_an_empty_docker_tls_verify_is_unset(config_dir: Path) -> None:
    endpoint = resolve_connection(
        DaemonFlags(), {"DOCKER_CONFIG": str(config_dir), "DOCKER_TLS_VERIFY": ""}
    ).endpoint
    assert (endpoint.host, endpoint.tls) == (DEFAULT_HOST, None)


@pytest.mark.parametrize(
    ("flags", "environ", "url", "verify"),
    [
        (DaemonFlags(tls=True), {}, "https://localhost:2376", False),
        (DaemonFlags(), {"DOCKER_TLS": "1"}, "https://localhost:2376", False),
        (DaemonFlags(tls=True), {"DOCKER_TLS_VERIFY": "1"}, "https://localhost:2376", True),
        (DaemonFlags(tlsverify=True, host="tcp://h"), {}, "https://h:2375", True),
        (DaemonFlags(tlsverify=True), {"DOCKER_HOST": "h:2376"}, "https://h:2376", True),
    ],
)
def test_tls_flags_and_variables(
    config_dir: Path, flags: DaemonFlags, environ: dict[str, str], url: str, verify: bool
) -> None:
    """`tcp://h` keeps port 2375 even with TLS: docker does the same (DefaultHTTPPort)."""
    got_url, tls = _tls(flags, environ, config_dir)
    assert (got_url, tls.verify) == (url, verify)


def test_docker_cert_path_supplies_all_three_files(config_dir: Path, cert_dir: Path) -> None:
    _, tls = _tls(DaemonFlags(tlsverify=True), {"DOCKER_CERT_PATH": str(cert_dir)}, config_dir)
    assert (tls.ca, tls.cert, tls.key) == tuple(
        str(cert_dir / name) for name in ("ca.pem", "cert.pem", "key.pem")
    )
    assert "DOCKER_CERT_PATH" in tls.origin


def test_tls_file_flags_win_over_docker_cert_path(config_dir: Path, cert_dir: Path) -> None:
    flags = DaemonFlags(tlsverify=True, tlscacert="/x/ca", tlscert="/x/c", tlskey="/x/k")
    _, tls = _tls(flags, {"DOCKER_CERT_PATH": str(cert_dir)}, config_dir)
    assert (tls.ca, tls.cert, tls.key) == ("/x/ca", "/x/c", "/x/k")


def test_tls_file_flags_alone_do_not_turn_tls_on(config_dir: Path) -> None:
    connection = resolve_connection(
        DaemonFlags(tlscacert="/x/ca", tlscert="/x/c"), {"DOCKER_CONFIG": str(config_dir)}
    )
    assert (connection.endpoint.host, connection.endpoint.tls) == (DEFAULT_HOST, None)
    assert "TLS: off, so --tlscacert, --tlscert unused (as in docker)" in connection.reasons


def test_tls_settings_do_not_apply_to_a_unix_socket(config_dir: Path) -> None:
    connection = resolve_connection(
        DaemonFlags(tlsverify=True, host=A_SOCK), {"DOCKER_CONFIG": str(config_dir)}
    )
    assert (connection.endpoint.base_url.split(":")[0], connection.endpoint.tls) == (
        "http+unix",
        None,
    )
    assert any("TLS: not used" in reason for reason in connection.reasons)


def test_a_context_carries_its_own_tls_and_ignores_the_variables(config_dir: Path) -> None:
    write_context(config_dir, "secure", "tcp://d:2376", tls={"ca.pem": b"x", "cert.pem": b"y"})
    environ = {"DOCKER_TLS": "1", "DOCKER_CERT_PATH": "/elsewhere"}

    url, tls = _tls(DaemonFlags(context="secure"), environ, config_dir)

    tls_dir = config_dir / "contexts" / "tls" / context_dir_name("secure") / "docker"
    assert url == "https://d:2376"
    assert (tls.verify, tls.ca, tls.cert, tls.key) == (
        True,
        str(tls_dir / "ca.pem"),
        str(tls_dir / "cert.pem"),
        None,
    )


def test_a_context_that_skips_verification_has_tls_without_files(config_dir: Path) -> None:
    write_context(config_dir, "insecure", "tcp://d:2376", skip_tls_verify=True)
    url, tls = _tls(DaemonFlags(context="insecure"), {}, config_dir)
    assert (url, tls.verify, tls.ca, tls.cert, tls.key) == (
        "https://d:2376",
        False,
        None,
        None,
        None,
    )


def test_a_context_without_tls_material_is_plain_http(config_dir: Path) -> None:
    write_context(config_dir, "plain", "tcp://d:2375")
    endpoint = resolve_connection(
        DaemonFlags(context="plain"), {"DOCKER_CONFIG": str(config_dir), "DOCKER_TLS": "1"}
    ).endpoint
    assert (endpoint.base_url, endpoint.tls) == ("http://d:2375", None)


def test_the_tls_reason_says_what_is_verified_and_which_files(
    config_dir: Path, cert_dir: Path
) -> None:
    connection = resolve_connection(
        DaemonFlags(tlsverify=True, host="tcp://d:2376"),
        {"DOCKER_CONFIG": str(config_dir), "DOCKER_CERT_PATH": str(cert_dir)},
    )
    assert connection.reasons[1] == (
        f"TLS: verify the daemon's certificate against {cert_dir}/ca.pem; client certificate "
        f"{cert_dir}/cert.pem with key {cert_dir}/key.pem "
        f"(from --tlsverify and DOCKER_CERT_PATH={str(cert_dir)!r})"
    )
    assert DEFAULT_TLS_HOST == "tcp://localhost:2376"


# -- Podman's sockets, tried when nothing is configured ----------------------------------------


@pytest.mark.parametrize(
    ("runtime_dir", "sockets"),
    [
        ("/run/user/1000", ["/run/user/1000/podman/podman.sock", "/run/podman/podman.sock"]),
        ("/run/user/1000/", ["/run/user/1000/podman/podman.sock", "/run/podman/podman.sock"]),
        (None, ["/run/podman/podman.sock"]),
        ("", ["/run/podman/podman.sock"]),
        ("relative/dir", ["/run/podman/podman.sock"]),
        ("/run", ["/run/podman/podman.sock"]),
    ],
)
def test_podman_sockets_rootless_first_then_the_systems(
    config_dir: Path, runtime_dir: str | None, sockets: list[str]
) -> None:
    environ = {"DOCKER_CONFIG": str(config_dir)}
    if runtime_dir is not None:
        environ["XDG_RUNTIME_DIR"] = runtime_dir

    connection = resolve_connection(DaemonFlags(), environ)

    assert [fallback.address for fallback in connection.fallbacks] == sockets
    assert {fallback.scheme for fallback in connection.fallbacks} == {"unix"}
    assert connection.reasons[-1].endswith("answers of " + ", ".join(sockets))


@pytest.mark.parametrize(
    ("flags", "environ"),
    [
        (DaemonFlags(host=DEFAULT_HOST), {}),
        (DaemonFlags(), {"DOCKER_HOST": DEFAULT_HOST}),
        (DaemonFlags(context="ctx-a"), {}),
        (DaemonFlags(), {"DOCKER_TLS_VERIFY": "1"}),
    ],
)
def test_podman_is_never_tried_for_a_daemon_that_was_asked_for(
    config_dir: Path, flags: DaemonFlags, environ: dict[str, str]
) -> None:
    environ = {**environ, "DOCKER_CONFIG": str(config_dir), "XDG_RUNTIME_DIR": "/run/user/0"}
    assert resolve_connection(flags, environ).fallbacks == ()


@pytest.mark.parametrize("context", ["default", None])
def test_the_default_context_by_name_still_falls_back(
    config_dir: Path, context: str | None
) -> None:
    use_context(config_dir, "default")
    connection = resolve_connection(
        DaemonFlags(context=context), {"DOCKER_CONFIG": str(config_dir)}
    )
    assert [fallback.address for fallback in connection.fallbacks] == ["/run/podman/podman.sock"]
