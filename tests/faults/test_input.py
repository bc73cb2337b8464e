"""Input at fault, not the daemon (exit 2): an input the daemon refuses with a 400 and its
message, the other images still printed (a 400 without its message is a daemon problem);
references with path tricks and an invalid pinned API version, refused before any request;
and the API version, negotiated with /_ping unless pinned."""

import re
import subprocess
import sys
from collections.abc import Mapping

import pytest

from tests.daemon_fixture import DockerDaemon
from tests.fake_daemon import (
    Answer,
    FakeDaemon,
    Request,
    Response,
    inspect_path,
    json_response,
    not_found,
    ping,
)
from tests.helpers import (
    DOCKER_OUTPUT_A,
    DOCKER_OUTPUT_A_B,
    EMPTY_ARRAY,
    IMAGE_A,
    IMAGE_B,
    RUN_TIMEOUT,
    Run,
    assert_no_traceback,
    run_cli,
    the_error_line,
)

# -- input the daemon refuses --------------------------------------------------------------

# What dockerd 20.10 answers for a digest of the wrong length, which the local grammar (any
# algorithm, 32 hex digits or more) lets through.
REFUSED = json_response(
    {"message": "no such image: bad@sha256:0123: invalid checksum digest length"}, 400
)


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_an_input_the_daemon_refuses_with_400_exits_2_and_the_others_are_printed(
    transport: str,
) -> None:
    """The daemon is fine and the input is at fault: a usage error with the daemon's message,
    the other images printed, as for a missing one."""
    routes = {
        "/_ping": ping(),
        inspect_path("a"): json_response(IMAGE_A),
        inspect_path("bad"): REFUSED,
        inspect_path("b"): json_response(IMAGE_B),
    }
    with FakeDaemon(routes, tcp=transport == "tcp") as fake:
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        run = run_cli("--json", "a", "bad", "b", host=host)
        paths = fake.paths

    assert (run.code, run.stdout) == (2, DOCKER_OUTPUT_A_B)
    assert the_error_line(run) == (
        "Error: no such image: bad@sha256:0123: invalid checksum digest length"
    )
    assert paths == ["/_ping", inspect_path("a"), inspect_path("bad"), inspect_path("b")]


@pytest.mark.parametrize(
    ("others", "code"),
    [
        pytest.param({"missing": not_found("missing:latest")}, 2, id="with-a-404"),
        pytest.param({"boom": json_response({"message": "boom"}, 500)}, 3, id="with-a-500"),
    ],
)
def test_a_refused_input_among_other_failures_the_highest_status_wins(
    fake: FakeDaemon, others: Mapping[str, Response], code: int
) -> None:
    fake.routes[inspect_path("bad")] = REFUSED
    fake.routes.update({inspect_path(name): answer for name, answer in others.items()})

    run = run_cli("--json", "bad", *others, host=fake.docker_host)

    assert (run.code, run.stdout) == (code, EMPTY_ARRAY)
    assert len(run.stderr.splitlines()) == 2
    assert "invalid checksum digest length" in run.stderr.splitlines()[0]


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        pytest.param(Response(400), "answered 400 Bad Request with no message", id="bare"),
        # Go's answer to plain HTTP on a TLS port: the daemon is not the one meant.
        pytest.param(
            Response(400, b"Client sent an HTTP request to an HTTPS server.\n"),
            "speaks TLS: use --tlsverify",
            id="plain-http-to-a-tls-port",
        ),
    ],
)
def test_a_400_without_the_daemons_own_message_is_a_daemon_problem(
    fake: FakeDaemon, answer: Response, said: str
) -> None:
    fake.routes[inspect_path("a")] = answer

    # Pinned, so that the first request is the inspect (no /_ping to meet the answer first).
    run = run_cli("--json", "a", host=fake.docker_host, env={"DOCKER_API_VERSION": "1.50"})

    assert (run.code, run.stdout) == (3, EMPTY_ARRAY)
    assert said in the_error_line(run)


def test_a_reference_dockerd_refuses_exits_2_with_its_message_where_docker_exits_1(
    docker_daemon: DockerDaemon,
) -> None:
    """docker exits 1 for every failure; imginspect says whose fault it is: the input's."""
    images = docker_daemon.images
    refused = "lab-tiny@sha256:" + "0" * 32  # sha256 wants 64 hex digits
    names = [images.tiny, refused, images.full_tags[0]]
    docker = docker_daemon.docker("image", "inspect", *names, check=False)

    ours = subprocess.run(
        [sys.executable, "-m", "inspector", "--json", *names],
        env=docker_daemon.env(),
        capture_output=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )

    assert docker.returncode == 1
    said = docker.stderr.decode().strip().removeprefix("Error response from daemon: ")
    assert said.endswith(f"{refused}: invalid checksum digest length")
    assert (ours.returncode, ours.stdout, ours.stderr.decode()) == (
        2,
        docker.stdout,
        f"Error: {said}\n",
    )


# -- API version ----------------------------------------------------------------------------


def _any_version_of_image_a(request: Request) -> Answer:
    if re.fullmatch(r"/v1\.[0-9]+/images/a/json", request.path):
        return json_response(IMAGE_A)
    return json_response({"message": "page not found"}, status=404)


@pytest.mark.parametrize(
    ("offered", "pinned", "expected_paths"),
    [
        pytest.param("1.41", None, ["/_ping", inspect_path("a", "1.41")], id="older-daemon"),
        pytest.param("1.99", None, ["/_ping", inspect_path("a", "1.50")], id="newer-daemon"),
        pytest.param("1.50", None, ["/_ping", inspect_path("a", "1.50")], id="same"),
        pytest.param(None, None, ["/_ping", inspect_path("a", "1.24")], id="no-header"),
        pytest.param("1.50", "1.43", [inspect_path("a", "1.43")], id="pinned-no-ping"),
    ],
)
def test_the_api_version_is_negotiated_with_ping_unless_pinned(
    offered: str | None, pinned: str | None, expected_paths: list[str]
) -> None:
    with FakeDaemon({"/_ping": ping(offered)}, default=_any_version_of_image_a) as fake:
        env = {"DOCKER_API_VERSION": pinned} if pinned else {}

        run = run_cli("--json", "a", host=fake.docker_host, env=env)

        assert (run.code, run.stdout, run.stderr) == (0, DOCKER_OUTPUT_A, "")
        assert fake.paths == expected_paths


def test_an_invalid_pinned_api_version_exits_2_before_any_request(fake: FakeDaemon) -> None:
    run = run_cli("a", host=fake.docker_host, env={"DOCKER_API_VERSION": "abc"})

    assert run.code == 2
    assert run.stdout == b""
    assert "'abc'" in _usage_error_line(run)
    assert "DOCKER_API_VERSION" in _usage_error_line(run)
    assert (fake.requests, fake.connections) == ([], 0)


# -- references that must never reach the daemon ------------------------------------------


@pytest.mark.parametrize(
    ("reference", "named_as"),
    [
        ("../x", "'../x'"),
        ("a/../b", "'a/../b'"),
        ("%2e%2e", "'%2e%2e'"),
        ("x?y", "'x?y'"),
        ("x#y", "'x#y'"),
        ("a b", "'a b'"),
        ("A", "'A'"),
        ("x\n", "'x\\n'"),
        ("", "image name is empty"),
    ],
    ids=repr,
)
def test_a_reference_with_path_tricks_exits_2_and_never_reaches_the_daemon(
    reference: str, named_as: str
) -> None:
    # Every path answers 200, so a reference that slipped through would be seen, and succeed.
    with FakeDaemon({"/_ping": ping()}, default=json_response(IMAGE_A)) as fake:
        run = run_cli("a", reference, host=fake.docker_host)

        assert run.code == 2
        assert run.stdout == b""
        assert named_as in _usage_error_line(run)
        assert (fake.requests, fake.connections) == ([], 0)


# -- helpers --------------------------------------------------------------------------------


def _usage_error_line(run: Run) -> str:
    """The `Error: ...` line of a usage error (click puts its usage lines above it)."""
    assert_no_traceback(run)
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, run.stderr
    return errors[0]
