"""The daemon is chosen as the docker CLI chooses it: --host, then DOCKER_HOST, then the default."""

import pytest

from inspector.connection import parse_api_version, parse_host, resolve_connection
from inspector.errors import ExitCode, UsageError


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


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("unix://relative.sock", "absolute path"),
        ("unix://", "absolute path"),
        ("tcp://host:notaport", "bad host or port"),
        ("tcp://host:99999", "bad host or port"),
        ("tcp://host:2375/some/path", "nothing after it"),
        ("tcp://user@host:2375", "nothing after it"),
        ("ssh://me@host", "not supported yet"),
        ("npipe:////./pipe/docker_engine", "not supported yet"),
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
    flag: str | None, environ: dict[str, str], host: str, source: str
) -> None:
    endpoint = resolve_connection(flag, 5.0, environ).endpoint
    assert (endpoint.host, endpoint.source) == (host, source)


@pytest.mark.parametrize(
    ("value", "pinned"), [(None, None), ("", None), ("1.41", "1.41"), ("1.9", "1.9")]
)
def test_api_version_pin(value: str | None, pinned: str | None) -> None:
    assert parse_api_version(value) == pinned


@pytest.mark.parametrize("value", ["abc", "1", "1.41.0", "v1.41", "2.0", "1.41\n"])
def test_bad_api_version_pin_is_a_usage_error(value: str) -> None:
    with pytest.raises(UsageError, match="DOCKER_API_VERSION"):
        parse_api_version(value)
