"""A real `podman system service`: its answers, docker CLI 28 as the oracle, and the fallback
to Podman's socket when the default docker socket does not exist.
"""

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from inspector.errors import DaemonUnreachable
from inspector.reference import parse_reference
from inspector.sources.daemon.client import Daemon
from inspector.sources.daemon.endpoint import Connection, Endpoint, parse_host
from tests.daemon_fixture import skip_or_fail
from tests.fake_daemon import FakeDaemon, inspect_path, json_response, ping, refusing_socket
from tests.helpers import IMAGE_A, Run, cli_env, the_error_line
from tests.podman_fixture import PodmanService

RUN_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def podman(podman_service: PodmanService) -> PodmanService:
    return podman_service


def run(argv: Sequence[str], env: dict[str, str], wrapper: Sequence[str] = ()) -> Run:
    done = subprocess.run(
        [*wrapper, *argv],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr.decode(errors="replace"))


def imginspect(*args: str) -> list[str]:
    return [sys.executable, "-m", "inspector", *args]


CASES: dict[str, Callable[[PodmanService], list[str]]] = {
    "tag": lambda p: [p.images.full],
    "with localhost/": lambda p: [f"localhost/{p.images.full}"],
    "full id": lambda p: [p.images.full_id],
    "short id": lambda p: [p.images.tiny_id.removeprefix("sha256:")[:12]],
    "several, one missing": lambda p: [p.images.tiny, "lab-missing:1", p.images.full],
}
FORMS = [(["--json"], []), (["-f", "json"], ["-f", "json"])]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("form", "docker_form"), FORMS)
def test_output_against_podman_matches_docker_byte_for_byte(
    podman: PodmanService,
    docker_cli: str,
    tmp_path: Path,
    case: str,
    form: list[str],
    docker_form: list[str],
) -> None:
    names = CASES[case](podman)
    env = cli_env(podman.host, {"DOCKER_CONFIG": str(tmp_path)})

    docker = run([docker_cli, "image", "inspect", *docker_form, *names], env)
    ours = run(imginspect(*form, *names), env)

    assert docker.stdout.startswith(b"[")
    assert (ours.code, ours.stdout) == (docker.code, docker.stdout)
    if docker.code:
        message = docker.stderr.strip().removeprefix("Error response from daemon: ")
        assert ours.stderr == f"Error: {message}\n"


def test_podmans_quirks_come_through_untouched(podman: PodmanService, tmp_path: Path) -> None:
    """localhost/ in RepoTags, no Healthcheck (OCI images), a zero LastTagTime."""
    env = cli_env(podman.host, {"DOCKER_CONFIG": str(tmp_path)})

    ours = run(imginspect("--json", podman.images.full), env)

    assert (ours.code, ours.stderr) == (0, "")
    (image,) = json.loads(ours.stdout)
    assert image["Id"] == podman.images.full_id
    assert image["RepoTags"] == [f"localhost/{podman.images.full}"]
    assert "Healthcheck" not in image["Config"]
    assert image["Metadata"]["LastTagTime"] == "0001-01-01T00:00:00Z"
    assert image["Config"]["Labels"]["org.opencontainers.image.title"] == "Lab Pod"
    assert image["Config"]["User"] == "1000:1000"


def test_debug_shows_podmans_api_version(podman: PodmanService, tmp_path: Path) -> None:
    env = cli_env(podman.host, {"DOCKER_CONFIG": str(tmp_path)})

    ours = run(imginspect("--json", "--debug", podman.images.tiny), env)

    assert ours.code == 0
    assert "debug: API version 1.41: the daemon offers 1.41" in ours.stderr


# -- the fallback ------------------------------------------------------------------------------


def hide_run() -> list[str]:
    """Run in a mount namespace with an empty /run: no /var/run/docker.sock, no system Podman
    socket, whatever this machine has, so the fallback is tested the same everywhere."""
    unshare = shutil.which("unshare")
    if unshare is None:
        skip_or_fail("unshare (util-linux) is needed to hide /run for the fallback tests")
    return [unshare, "--mount", "--propagation", "private", "sh", "-c",
            'mount -t tmpfs imgi-empty-run /run && exec "$@"', "sh"]  # fmt: skip


def test_with_nothing_configured_and_no_docker_socket_podman_answers(
    podman: PodmanService, tmp_path: Path
) -> None:
    env = cli_env(
        None, {"DOCKER_CONFIG": str(tmp_path), "XDG_RUNTIME_DIR": str(podman.runtime_dir)}
    )
    direct = run(
        imginspect("--json", podman.images.full),
        cli_env(podman.host, {"DOCKER_CONFIG": str(tmp_path)}),
    )

    fallen_back = run(imginspect("--json", "--debug", podman.images.full), env, hide_run())

    assert (fallen_back.code, fallen_back.stdout) == (0, direct.stdout)
    debug = fallen_back.stderr
    assert "debug: daemon unix:///var/run/docker.sock: the default" in debug
    assert (
        f"the first Podman socket that answers of {podman.socket}, /run/podman/podman.sock" in debug
    )
    assert "debug: /var/run/docker.sock does not exist: trying Podman's sockets" in debug
    assert f"debug: daemon {podman.host}: XDG_RUNTIME_DIR's Podman socket, which answered" in debug
    assert "debug: GET /v1.41/images/lab-pod-full:1/json -> 200 OK" in debug


def test_when_no_podman_socket_answers_the_error_names_every_socket_tried(
    tmp_path: Path,
) -> None:
    runtime_dir = tmp_path / "xdg"
    (runtime_dir / "podman").mkdir(parents=True)
    refusing_socket(runtime_dir / "podman" / "podman.sock")
    env = cli_env(None, {"DOCKER_CONFIG": str(tmp_path), "XDG_RUNTIME_DIR": str(runtime_dir)})

    failed = run(imginspect("--json", "a"), env, hide_run())

    assert failed.code == 3
    assert the_error_line(failed) == (
        "Error: cannot connect to the daemon: /var/run/docker.sock does not exist, and no "
        f"Podman socket answered ({runtime_dir}/podman/podman.sock, /run/podman/podman.sock). "
        "Is the daemon running? Set DOCKER_HOST or use --host"
    )
    assert failed.stdout == b"[]\n"


def test_a_configured_daemon_never_falls_back_to_podman(
    podman: PodmanService, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.sock"
    env = cli_env(
        f"unix://{missing}",
        {"DOCKER_CONFIG": str(tmp_path), "XDG_RUNTIME_DIR": str(podman.runtime_dir)},
    )

    failed = run(imginspect("--json", "--debug", podman.images.full), env, hide_run())

    assert failed.code == 3
    assert "Podman" not in failed.stderr
    assert f"{missing} does not exist. Is the daemon running?" in failed.stderr


@pytest.mark.parametrize("pinned", [None, "1.43"], ids=["negotiated", "pinned"])
def test_the_fallback_skips_a_socket_that_refuses_and_uses_the_next(
    tmp_path: Path, pinned: str | None
) -> None:
    """In-process, so the default socket can be one that certainly does not exist; a pinned
    API version still pings, to know which socket answers."""
    refusing = refusing_socket(tmp_path / "refusing.sock")
    with FakeDaemon(
        {"/_ping": ping("1.43"), inspect_path("a", "1.43"): json_response(IMAGE_A)}
    ) as fake:
        connection = Connection(
            endpoint=parse_host(f"unix://{tmp_path}/no-docker.sock", "the default"),
            timeout=5.0,
            api_version=pinned,
            fallbacks=(
                Endpoint(f"unix://{refusing}", "unix", str(refusing), "first"),
                Endpoint(fake.docker_host, "unix", str(fake.socket_path), "second"),
            ),
        )
        lines: list[str] = []
        with Daemon(connection, lines.append) as daemon:
            body = daemon.inspect(parse_reference("a"))

        assert json.loads(body) == IMAGE_A
        assert fake.paths == ["/_ping", inspect_path("a", "1.43")]
        assert fake.connections == 1
        assert any(line.startswith(f"no answer from {refusing}: ") for line in lines)
        assert f"daemon {fake.docker_host}: second, which answered" in lines


def test_the_fallback_is_not_tried_when_the_default_socket_exists(tmp_path: Path) -> None:
    with (
        FakeDaemon({"/_ping": ping()}) as default,
        FakeDaemon({"/_ping": ping()}, default=json_response(IMAGE_A)) as podman,
    ):
        connection = Connection(
            endpoint=parse_host(default.docker_host, "the default"),
            timeout=5.0,
            api_version=None,
            fallbacks=(Endpoint(podman.docker_host, "unix", str(podman.socket_path), "podman"),),
        )
        with Daemon(connection) as daemon, pytest.raises(Exception) as caught:
            daemon.inspect(parse_reference("a"))

        assert "page not found" in str(caught.value)
        assert podman.requests == []
        assert default.paths == ["/_ping", inspect_path("a")]
        assert not isinstance(caught.value, DaemonUnreachable)
