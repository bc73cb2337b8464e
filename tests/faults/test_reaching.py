"""Reaching the daemon: a missing socket, one nobody listens on, a port that refuses, a
daemon that closes at once (each read the same by requests and by the pipeline), a socket
without permission; and several images asked over one connection, over unix and tcp."""

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.daemon_fixture import skip_or_fail
from tests.fake_daemon import CLOSE, FakeDaemon, inspect_path, json_response, ping, refusing_socket
from tests.helpers import (
    A_ID,
    B_ID,
    C_ID,
    DOCKER_OUTPUT_A,
    DOCKER_OUTPUT_A_B,
    EMPTY_ARRAY,
    IMAGE_A,
    IMAGE_B,
    IMAGE_C,
    RUN_TIMEOUT,
    Run,
    as_user,
    cli_env,
    json_array,
    run_cli,
    the_error_line,
)


def test_a_missing_socket_exits_3_and_says_where_to_point_the_tool(scratch: Path) -> None:
    socket_path = scratch / "no-daemon-here.sock"

    run = run_cli("--json", "a", host=f"unix://{socket_path}")

    assert run.code == 3
    line = the_error_line(run)
    assert str(socket_path) in line
    assert "DOCKER_HOST or use --host" in line
    assert run.stdout == EMPTY_ARRAY


def test_a_socket_nobody_listens_on_is_refused_and_exits_3(scratch: Path) -> None:
    socket_path = refusing_socket(scratch / "dead.sock")

    run = run_cli("--json", "a", host=f"unix://{socket_path}")

    assert run.code == 3
    line = the_error_line(run)
    assert "refused" in line
    assert str(socket_path) in line
    assert run.stdout == EMPTY_ARRAY


# The first request of a run, and the client that sends it: /_ping through requests, or, with
# the API version pinned (no /_ping), the first inspect through the pipeline. Both take their
# socket from the one connector, so a daemon that cannot be reached reads the same either way.
FIRST_REQUEST = {
    "requests": ({}, "debug: GET /_ping -> no answer after "),
    "pipeline": ({"DOCKER_API_VERSION": "1.50"}, f"debug: GET {inspect_path('a')} -> no answer"),
}


@pytest.fixture
def unreachable(request: pytest.FixtureRequest, scratch: Path) -> Iterator[tuple[str, str]]:
    """A daemon address that cannot be asked, named by the test's parameter; and what the
    error line says about it."""
    kind: str = request.param
    if kind == "missing-socket":
        path = scratch / "nobody.sock"
        yield f"unix://{path}", f"cannot connect to the daemon: {path} does not exist. Is"
    elif kind == "refusing-socket":
        path = refusing_socket(scratch / "refusing.sock")
        yield f"unix://{path}", f"connection refused by unix://{path}: is the daemon running"
    elif kind == "refusing-port":
        with socket.socket() as bound:  # bound, never listening: a connection is refused
            bound.bind(("127.0.0.1", 0))
            host = f"tcp://127.0.0.1:{bound.getsockname()[1]}"
            yield host, f"connection refused by {host}: is the daemon running"
    else:
        with FakeDaemon({"/_ping": CLOSE}, default=CLOSE) as fake:
            yield fake.docker_host, "closed the connection without answering"


@pytest.mark.parametrize(
    "unreachable",
    ["missing-socket", "refusing-socket", "refusing-port", "closing"],
    indirect=True,
)
def test_a_daemon_that_cannot_be_asked_reads_the_same_from_requests_and_from_the_pipeline(
    unreachable: tuple[str, str],
) -> None:
    host, said = unreachable
    errors = {}
    for way, (env, first) in FIRST_REQUEST.items():
        run = run_cli("--json", "--debug", "a", host=host, env=env)

        assert (run.code, run.stdout) == (3, EMPTY_ARRAY), way
        lines = run.stderr.splitlines()
        assert any(line.startswith(first) for line in lines), (way, run.stderr)
        errors[way] = [line for line in lines if not line.startswith("debug: ")]

    assert errors["requests"] == errors["pipeline"]
    [line] = errors["requests"]
    assert line.startswith("Error: ")
    assert said in line


@dataclass(frozen=True)
class Unprivileged:
    """How to run the CLI as a user that file permissions apply to."""

    python: str
    user: str | None
    env: Mapping[str, str]


# What the CLI imports at run time, copied where an unprivileged user can read it.
_RUNTIME_PACKAGES = (
    "inspector",
    "click",
    "requests",
    "requests_unixsocket",
    "urllib3",
    "idna",
    "certifi",
    "charset_normalizer",
)


@pytest.fixture(scope="module")
def unprivileged() -> Iterator[Unprivileged]:
    """Root ignores file modes, so drop to `nobody` with an interpreter `nobody` may run.

    Neither the venv's interpreter (a pyenv build under /root, mode 700) nor the checkout
    need be readable by `nobody`; so the system's build of the same Python version runs
    copies of the package and its dependencies from a world-readable folder.
    """
    if os.geteuid() != 0:
        yield Unprivileged(sys.executable, None, {})
        return
    shared = Path(tempfile.mkdtemp(prefix="imgi-nobody-", dir="/tmp"))
    try:
        shared.chmod(0o755)
        for name in _RUNTIME_PACKAGES:
            spec = importlib.util.find_spec(name)
            assert spec is not None and spec.submodule_search_locations, name
            shutil.copytree(
                next(iter(spec.submodule_search_locations)),
                shared / name,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        for path in (shared, *shared.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        # HOME too: root's, inherited, is unreadable to `nobody`, and docker (so imginspect)
        # warns that it cannot read the config.json in it.
        env = {"PYTHONPATH": str(shared), "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(shared)}
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        probe = "import inspector, click, requests, requests_unixsocket; print(inspector.__file__)"
        tried: list[str] = []
        for python in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
            try:
                found = subprocess.run(
                    [python, "-c", probe],
                    env=cli_env(None, env),
                    capture_output=True,
                    text=True,
                    cwd="/",
                    **as_user("nobody"),
                    timeout=RUN_TIMEOUT,
                    check=False,
                )
            except OSError as exc:
                tried.append(f"{python}: {exc}")
                continue
            if found.returncode == 0 and found.stdout.startswith(str(shared)):
                yield Unprivileged(python, "nobody", env)
                return
            tried.append(f"{python}: exit {found.returncode}: {found.stderr.strip()[-200:]}")
        skip_or_fail("no Python interpreter the 'nobody' user can run: " + "; ".join(tried))
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def _run_as_unprivileged(unprivileged: Unprivileged, fake: FakeDaemon, socket_mode: int) -> Run:
    fake.routes[inspect_path("a")] = json_response(IMAGE_A)
    fake.directory.chmod(0o755)  # only the socket's own mode may stand in the way
    fake.socket_path.chmod(socket_mode)
    return run_cli(
        "--json",
        "a",
        host=fake.docker_host,
        python=unprivileged.python,
        user=unprivileged.user,
        env=unprivileged.env,
    )


def test_a_socket_without_permission_exits_3_and_says_permission_denied(
    unprivileged: Unprivileged, fake: FakeDaemon
) -> None:
    run = _run_as_unprivileged(unprivileged, fake, 0o000)

    assert run.code == 3
    line = the_error_line(run)
    assert "permission denied" in line.lower()
    assert str(fake.socket_path) in line
    assert run.stdout == EMPTY_ARRAY
    assert fake.connections == 0


def test_the_same_unprivileged_user_gets_through_once_the_socket_allows_it(
    unprivileged: Unprivileged, fake: FakeDaemon
) -> None:
    """The control for the test above: the drop of privileges, not the setup, is what fails."""
    run = _run_as_unprivileged(unprivileged, fake, 0o666)

    assert (run.code, run.stdout, run.stderr) == (0, DOCKER_OUTPUT_A, "")
    assert fake.paths == ["/_ping", inspect_path("a")]


def test_several_images_are_asked_over_one_connection(fake: FakeDaemon) -> None:
    for name, image in (("a", IMAGE_A), ("b", IMAGE_B), ("c", IMAGE_C)):
        fake.routes[inspect_path(name)] = json_response(image)

    run = run_cli("--json", "a", "b", "c", host=fake.docker_host)

    assert (run.code, run.stderr) == (0, "")
    assert [document["Id"] for document in json_array(run.stdout)] == [A_ID, B_ID, C_ID]
    assert fake.connections == 1
    assert fake.paths == ["/_ping", inspect_path("a"), inspect_path("b"), inspect_path("c")]
    assert {request.method for request in fake.requests} == {"GET"}


def test_json_over_tcp_prints_the_found_objects(fake: FakeDaemon) -> None:
    with FakeDaemon({"/_ping": ping()}, tcp=True) as tcp_fake:
        tcp_fake.routes[inspect_path("a")] = json_response(IMAGE_A)
        tcp_fake.routes[inspect_path("b")] = json_response(IMAGE_B)

        # DOCKER_HOST names the other fake: -H must win over it.
        run = run_cli("--json", "-H", tcp_fake.tcp_host, "a", "b", host=fake.docker_host)

        assert (run.code, run.stdout, run.stderr) == (0, DOCKER_OUTPUT_A_B, "")
        assert tcp_fake.paths == ["/_ping", inspect_path("a"), inspect_path("b")]
        assert {request.transport for request in tcp_fake.requests} == {"tcp"}
        assert tcp_fake.connections == 1
    assert fake.requests == []
