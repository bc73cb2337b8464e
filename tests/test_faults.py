"""Faults between the CLI and the daemon: the real CLI, in a subprocess, against a fake daemon.

Every test runs `python -m inspector` with DOCKER_HOST at a FakeDaemon (tests/fake_daemon.py)
and checks the exit status, the exact stdout bytes and the stderr text. Those that check the
output ask for --json; the view's own faults are tested in test_view.py.
"""

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_fixture import DockerDaemon, skip_or_fail
from tests.fake_daemon import (
    CLOSE,
    HANG,
    Answer,
    FakeDaemon,
    Framing,
    Request,
    Response,
    inspect_path,
    json_response,
    not_found,
    ping,
    refusing_socket,
)
from tests.helpers import (
    A_ID,
    B_ID,
    C_ID,
    DOCKER_OUTPUT_A_B,
    EMPTY_ARRAY,
    IMAGE_A,
    IMAGE_B,
    IMAGE_C,
    REPO,
    RUN_TIMEOUT,
    STARTUP_ALLOWANCE,
    Run,
    as_user,
    assert_no_traceback,
    cli_env,
    run_cli,
    start_cli,
    the_error_line,
)

# What `docker image inspect a` (docker 28.2) prints for IMAGE_A.
DOCKER_OUTPUT_A = f"""\
[
    {{
        "Id": "{A_ID}",
        "RepoTags": [
            "a:1"
        ],
        "Config": {{
            "Env": [],
            "Labels": {{}}
        }}
    }}
]
""".encode()


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [thread for thread in threading.enumerate() if thread not in before]
    assert leaked == [], f"threads left running: {leaked}"


@pytest.fixture
def fake() -> Iterator[FakeDaemon]:
    """A daemon speaking API 1.50 that knows no images until the test adds routes."""
    with FakeDaemon({"/_ping": ping("1.50")}) as daemon:
        yield daemon


@pytest.fixture
def scratch() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="imginspect-test-", dir="/tmp"))
    yield directory
    for child in directory.iterdir():
        child.unlink()
    directory.rmdir()


# -- answers the daemon gives ---------------------------------------------------------------


def test_404_with_message_exits_1_and_shows_the_daemons_message(fake: FakeDaemon) -> None:
    fake.routes[inspect_path("nope:latest")] = not_found("nope:latest")

    run = run_cli("--json", "nope:latest", host=fake.docker_host)

    assert run.code == 1
    assert run.stderr == "Error: No such image: nope:latest\n"
    assert run.stdout == EMPTY_ARRAY


def test_missing_image_between_found_ones_prints_the_found_in_order_and_exits_1(
    fake: FakeDaemon,
) -> None:
    fake.routes[inspect_path("a")] = json_response(IMAGE_A)
    fake.routes[inspect_path("missing")] = not_found("missing:latest")
    fake.routes[inspect_path("b")] = json_response(IMAGE_B)

    run = run_cli("--json", "a", "missing", "b", host=fake.docker_host)

    assert run.code == 1
    assert run.stdout == DOCKER_OUTPUT_A_B
    assert run.stderr == "Error: No such image: missing:latest\n"
    assert fake.paths == ["/_ping", inspect_path("a"), inspect_path("missing"), inspect_path("b")]


@pytest.mark.parametrize(
    ("answer", "expected_in_error"),
    [
        pytest.param(
            json_response({"message": "boom: disk on fire"}, 500),
            "boom: disk on fire",
            id="json-message",
        ),
        pytest.param(Response(500), "500", id="no-body"),
        pytest.param(Response(500, b"<html>oops</html>"), "500", id="non-json-body"),
        pytest.param(json_response({"message": ""}, 500), "500", id="empty-message"),
        pytest.param(
            json_response({"message": "boom\nsecond line\x1b[31m"}, 500),
            "boom",
            id="multi-line-message",
        ),
    ],
)
def test_500_exits_3_with_the_daemons_message_or_else_the_status(
    fake: FakeDaemon, answer: Response, expected_in_error: str
) -> None:
    fake.routes[inspect_path("a")] = answer

    run = run_cli("--json", "a", host=fake.docker_host)

    assert run.code == 3
    assert expected_in_error in the_error_line(run)
    assert run.stdout == EMPTY_ARRAY


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(Response(200, b"this is not json"), id="not-json"),
        pytest.param(Response(200, b'{"Id": "sha256:aa'), id="truncated-json"),
        pytest.param(json_response([]), id="json-array"),
        pytest.param(json_response("a string"), id="json-string"),
        pytest.param(Response(200, b'{"Id":"sha256:\xff\xfe"}'), id="invalid-utf8"),
        pytest.param(Response(200, b""), id="empty-body"),
    ],
)
def test_200_with_a_body_that_is_not_a_json_object_exits_3_without_broken_output(
    fake: FakeDaemon, answer: Response
) -> None:
    fake.routes[inspect_path("a")] = answer

    run = run_cli("--json", "a", host=fake.docker_host)

    assert run.code == 3
    assert "'a'" in the_error_line(run)
    assert run.stdout == EMPTY_ARRAY


def test_a_bad_answer_between_good_ones_still_prints_a_valid_array_of_the_good_ones(
    fake: FakeDaemon,
) -> None:
    fake.routes[inspect_path("a")] = json_response(IMAGE_A)
    fake.routes[inspect_path("broken")] = Response(200, b'{"Id": ')
    fake.routes[inspect_path("b")] = json_response(IMAGE_B)

    run = run_cli("--json", "a", "broken", "b", host=fake.docker_host)

    assert run.code == 3
    assert "'broken'" in the_error_line(run)
    assert run.stdout == DOCKER_OUTPUT_A_B


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
def test_redirect_exits_3_and_is_never_followed(status: int, absolute: bool) -> None:
    with FakeDaemon({"/_ping": ping()}, tcp=True) as fake:
        target = inspect_path("elsewhere")
        # Following either Location would reach this fake (the absolute one over TCP) and succeed.
        location = f"http://127.0.0.1:{fake.tcp_port}{target}" if absolute else target
        fake.routes[target] = json_response(IMAGE_B)
        fake.routes[inspect_path("a")] = Response(status, headers=(("Location", location),))

        run = run_cli("--json", "a", host=fake.docker_host)

        assert run.code == 3
        line = the_error_line(run)
        assert str(status) in line
        assert location in line
        assert run.stdout == EMPTY_ARRAY
        assert fake.paths == ["/_ping", inspect_path("a")]
        assert target not in fake.paths


@pytest.mark.parametrize("transport", ["unix", "tcp"])
@pytest.mark.parametrize("stuck", ["/_ping", inspect_path("a")], ids=["ping", "inspect"])
def test_a_daemon_that_never_answers_times_out_and_exits_3(stuck: str, transport: str) -> None:
    with FakeDaemon({"/_ping": ping(), stuck: HANG}, tcp=transport == "tcp") as fake:
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        # The bound is run_cli's subprocess timeout; --timeout 0.5 should end it far sooner.
        run = run_cli("--json", "--timeout", "0.5", "a", host=host)

        assert run.code == 3
        line = the_error_line(run)
        assert "0.5s" in line
        assert "timeout" in line
        assert run.stdout == EMPTY_ARRAY
        assert fake.paths[-1] == stuck


@pytest.mark.parametrize("transport", ["unix", "tcp"])
@pytest.mark.parametrize("closing", ["/_ping", inspect_path("a")], ids=["ping", "inspect"])
def test_a_connection_closed_without_an_answer_exits_3(closing: str, transport: str) -> None:
    with FakeDaemon({"/_ping": ping(), closing: CLOSE}, tcp=transport == "tcp") as fake:
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        run = run_cli("--json", "a", host=host)

        assert run.code == 3
        line = the_error_line(run)
        assert host in line
        assert "closed the connection without answering" in line
        assert run.stdout == EMPTY_ARRAY
        assert fake.paths[-1] == closing


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_every_way_of_ending_a_body_gives_the_whole_answer(framing: Framing) -> None:
    body = json_response(IMAGE_A).body
    answer = Response(200, body, (("Content-Type", "application/json"),), framing=framing)
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): answer}) as fake:
        run = run_cli("--json", "a", host=fake.docker_host)

    assert (run.code, run.stdout, run.stderr) == (0, DOCKER_OUTPUT_A, "")


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_body_dribbled_a_byte_at_a_time_is_cut_off_by_the_timeout(framing: Framing) -> None:
    body = json_response(IMAGE_A).body
    answer = Response(200, body, framing=framing, pace=0.2)
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): answer}) as fake:
        run = run_cli("--json", "--timeout", "1", "a", host=fake.docker_host)

    # Each byte comes well within the timeout; only a deadline for the whole answer stops it.
    assert run.code == 3
    assert "did not answer within 1s" in the_error_line(run)
    assert run.stdout == EMPTY_ARRAY


# Head of an answer as the fake daemon sends it without extra headers: 39 bytes.
_BARE_HEAD = len(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")


def timed_run(*args: str, host: str) -> tuple[Run, float]:
    started = time.monotonic()
    run = run_cli(*args, host=host)
    return run, time.monotonic() - started


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_a_status_line_and_headers_dribbled_a_byte_at_a_time_are_cut_off_by_the_timeout(
    transport: str,
) -> None:
    """Each byte comes well within the timeout; the request as a whole does not."""
    answer = Response(200, json_response(IMAGE_A).body, header_pace=0.1)
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): answer}, tcp=transport == "tcp") as fake:
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        run, elapsed = timed_run("--json", "--timeout", "1", "a", host=host)

    assert run.code == 3
    assert "did not answer within 1s" in the_error_line(run)
    assert run.stdout == EMPTY_ARRAY
    assert elapsed < 1 + STARTUP_ALLOWANCE


@pytest.mark.parametrize("transport", ["unix", "tcp"])
@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_slow_headers_then_a_slow_body_share_one_deadline(transport: str, framing: Framing) -> None:
    """~0.75 s of head and ~0.75 s of body: each under --timeout 1, together over it."""
    body = json_response(IMAGE_A).body
    answer = Response(
        200, body, framing=framing, header_pace=0.75 / _BARE_HEAD, pace=0.75 / len(body)
    )
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): answer}, tcp=transport == "tcp") as fake:
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        run, elapsed = timed_run("--json", "--timeout", "1", "a", host=host)

    assert run.code == 3
    assert "did not answer within 1s" in the_error_line(run)
    assert run.stdout == EMPTY_ARRAY
    assert elapsed < 1 + STARTUP_ALLOWANCE


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_a_slow_answer_within_the_timeout_is_taken_whole(transport: str) -> None:
    """The control for the two tests above: the same dribble, with time to spare."""
    body = json_response(IMAGE_A).body
    answer = Response(200, body, header_pace=0.3 / _BARE_HEAD, pace=0.3 / len(body))
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): answer}, tcp=transport == "tcp") as fake:
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        run, _ = timed_run("--json", "--timeout", "5", "a", host=host)

    assert (run.code, run.stdout, run.stderr) == (0, DOCKER_OUTPUT_A, "")


_BODY_A = json_response(IMAGE_A).body
# (answer for `a`, what the error line says, whether `b` is still asked afterwards)
HOSTILE_ANSWERS = [
    pytest.param(
        Response(200, _BODY_A, cut_after=10),
        "broke off its answer to /v1.50/images/a/json: the connection ended after 10 of "
        f"{len(_BODY_A)} bytes of the body",
        True,
        id="truncated-body",
    ),
    pytest.param(
        Response(200, _BODY_A, framing="chunked", cut_after=10),
        "broke off its answer to /v1.50/images/a/json: the connection ended in the middle of a "
        "chunk of the body",
        True,
        id="truncated-chunk",
    ),
    pytest.param(
        Response(200, _BODY_A, cut_after=10, reset=True),
        "broke off its answer to /v1.50/images/a/json: ",
        True,
        id="reset-mid-answer",
    ),
    pytest.param(
        Response(200, _BODY_A, framing="chunked", cut_after=10, reset=True),
        "broke off its answer to /v1.50/images/a/json: ",
        True,
        id="reset-mid-chunk",
    ),
    # After a 1xx other than 100, the real answer is still on the connection: asking `b` over
    # it would take a's answer for b's. The run stops there.
    pytest.param(
        Response(200, _BODY_A, interim=(102,)),
        "answered /v1.50/images/a/json with 102 Interim, an informational status, instead of "
        "an answer",
        False,
        id="102-then-200",
    ),
    pytest.param(
        Response(101),
        "answered /v1.50/images/a/json with 101 Switching Protocols, an informational status",
        False,
        id="101",
    ),
    # A 400 with the daemon's message is a usage error (test_an_input_the_daemon_refuses...).
    pytest.param(Response(400), "answered 400 Bad Request with no message", True, id="400-bare"),
    pytest.param(Response(403), "answered 403 Forbidden with no message", True, id="403-bare"),
    pytest.param(Response(404), "answered 404 Not Found with no message", True, id="404-bare"),
    pytest.param(
        json_response({"message": "boom"}, 503), "Error: boom", True, id="503-with-message"
    ),
    pytest.param(Response(502), "answered 502 Bad Gateway with no message", True, id="502-bare"),
    pytest.param(
        Response(200, b"<html>hello</html>", (("Content-Type", "text/html"),)),
        "the inspect answer for 'a' is not valid JSON",
        True,
        id="html-content-type-and-body",
    ),
]


@pytest.mark.parametrize("transport", ["unix", "tcp"])
@pytest.mark.parametrize(("answer", "said", "b_asked"), HOSTILE_ANSWERS)
def test_a_hostile_answer_is_one_line_exit_3_and_never_a_broken_or_wrong_array(
    transport: str, answer: Response, said: str, b_asked: bool
) -> None:
    routes = {
        "/_ping": ping(),
        inspect_path("a"): answer,
        inspect_path("b"): json_response(IMAGE_B),
    }
    with FakeDaemon(routes, tcp=transport == "tcp") as fake:
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        run = run_cli("--json", "--timeout", "5", "a", "b", host=host)
        paths = fake.paths

    assert run.code == 3
    assert said in the_error_line(run)
    if b_asked:
        assert paths[1:] == [inspect_path("a"), inspect_path("b")]
        assert [document["Id"] for document in _json_array(run.stdout)] == [B_ID]
    else:
        assert paths[1:] == [inspect_path("a")]
        assert run.stdout == EMPTY_ARRAY


def test_an_informational_answer_to_the_ping_stops_the_run_before_any_image() -> None:
    ping_102 = Response(200, b"OK", (("Api-Version", "1.50"),), interim=(102,))
    routes = {"/_ping": ping_102, inspect_path("a"): json_response(IMAGE_A)}
    with FakeDaemon(routes, tcp=True) as fake:
        run = run_cli("--json", "a", host=fake.tcp_host)
        paths = fake.paths

    assert run.code == 3
    assert "answered /_ping with 102 Interim, an informational status" in the_error_line(run)
    assert run.stdout == EMPTY_ARRAY
    assert paths == ["/_ping"]


@pytest.mark.parametrize("transport", ["unix", "tcp"])
@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(Response(200, _BODY_A, interim=(100,)), id="100-continue-first"),
        pytest.param(Response(200, _BODY_A, (("Content-Type", "text/html"),)), id="text/html"),
        pytest.param(Response(200, _BODY_A), id="no-content-type"),
    ],
)
def test_answers_docker_takes_are_taken(transport: str, answer: Response) -> None:
    """docker's client skips 100 Continue and does not check a 200's content type."""
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): answer}, tcp=transport == "tcp") as fake:
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        run = run_cli("--json", "a", host=host)

    assert (run.code, run.stdout, run.stderr) == (0, DOCKER_OUTPUT_A, "")


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_an_answer_larger_than_64_mib_is_refused(framing: Framing) -> None:
    padding = b"x" * (64 * 1024 * 1024)
    body = b'{"Id":"' + padding + b'"}'
    answer = Response(200, body, framing=framing)
    routes = {
        "/_ping": ping(),
        inspect_path("a"): answer,
        inspect_path("b"): json_response(IMAGE_B),
    }
    with FakeDaemon(routes) as fake:
        run = run_cli("--json", "a", "b", host=fake.docker_host)

    assert run.code == 3
    assert (
        "the daemon's answer to /v1.50/images/a/json is larger than 64 MiB: refusing it"
        in the_error_line(run)
    )
    assert [document["Id"] for document in _json_array(run.stdout)] == [B_ID]


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


# -- reaching the daemon --------------------------------------------------------------------


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
    assert [document["Id"] for document in _json_array(run.stdout)] == [A_ID, B_ID, C_ID]
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


# -- where the output goes ------------------------------------------------------------------


# Python's stdout is a BufferedWriter, or with PYTHONUNBUFFERED a raw FileIO whose write()
# may write only part of what it is given; both are common where the tool runs.
STDOUT_MODES = [
    pytest.param({}, id="buffered-stdout"),
    pytest.param({"PYTHONUNBUFFERED": "1"}, id="PYTHONUNBUFFERED"),
]
BIG_IMAGE = json_response({"Id": C_ID, "Padding": "x" * 10_000})
# ~2 MB of output: far beyond a pipe buffer (64 KiB) and the file size limit below.
MANY_NAMES = [f"img{number}" for number in range(200)]


@pytest.mark.parametrize("stdout_mode", STDOUT_MODES)
def test_output_to_a_full_device_exits_74_with_one_error_line(
    fake: FakeDaemon, stdout_mode: Mapping[str, str]
) -> None:
    fake.routes[inspect_path("a")] = json_response(IMAGE_A)

    with Path("/dev/full").open("wb") as full:
        run = run_cli("--json", "a", host=fake.docker_host, stdout=full, env=stdout_mode)

    assert run.code == 74
    assert "No space left on device" in the_error_line(run)
    assert fake.paths == ["/_ping", inspect_path("a")]


# Every output form: the view, --json, -f json and a template.
OUTPUT_FORMS = [
    pytest.param([], id="view"),
    pytest.param(["--json"], id="json"),
    pytest.param(["-f", "json"], id="format-json"),
    pytest.param(["-f", "{{.Id}}"], id="format"),
]
CLOSED_STDOUT = ("sh", "-c", 'exec "$@" >&-', "sh")


@pytest.mark.parametrize("form", OUTPUT_FORMS)
def test_a_closed_stdout_exits_74_with_one_error_line(fake: FakeDaemon, form: list[str]) -> None:
    """`imginspect ... >&-`: Python starts with no sys.stdout at all."""
    fake.routes[inspect_path("a")] = json_response(IMAGE_A)

    run = run_cli(*form, "a", host=fake.docker_host, wrapper=CLOSED_STDOUT)

    assert run.code == 74
    assert the_error_line(run) == "Error: cannot write the output: stdout is closed"


@pytest.mark.parametrize(
    ("target", "write_error"),
    [
        pytest.param("full", "No space left on device", id="dev-full"),
        pytest.param("closed", "stdout is closed", id="closed"),
    ],
)
@pytest.mark.parametrize("form", OUTPUT_FORMS)
def test_when_the_output_cannot_be_written_the_images_errors_are_still_said(
    fake: FakeDaemon, form: list[str], target: str, write_error: str
) -> None:
    """Each failure gets its line, the write error last; the highest status wins."""
    fake.routes[inspect_path("a")] = json_response(IMAGE_A)
    fake.routes[inspect_path("nope")] = not_found("nope:latest")
    fake.routes[inspect_path("broken")] = Response(200, b"{")

    with Path("/dev/full").open("wb") as full:
        run = run_cli(
            *form,
            "a",
            "nope",
            "broken",
            host=fake.docker_host,
            stdout=full if target == "full" else subprocess.PIPE,
            wrapper=CLOSED_STDOUT if target == "closed" else (),
        )

    assert_no_traceback(run)
    assert run.code == 74
    lines = run.stderr.splitlines()
    assert len(lines) == 3, run.stderr
    assert lines[0] == "Error: No such image: nope:latest"
    assert lines[1].startswith("Error: the inspect answer for 'broken' is not valid JSON")
    assert lines[2] == f"Error: cannot write the output: {write_error}"


@pytest.mark.parametrize("stdout_mode", STDOUT_MODES)
def test_output_cut_short_by_the_file_size_limit_exits_74(
    fake: FakeDaemon, scratch: Path, stdout_mode: Mapping[str, str]
) -> None:
    """A write that stops part way (disk full, quota, size limit) must not look like success."""
    fake.default = BIG_IMAGE
    output = scratch / "output.json"

    with output.open("wb") as target:
        run = run_cli(
            "--json",
            *MANY_NAMES,
            host=fake.docker_host,
            stdout=target,
            env=stdout_mode,
            # The shell's ulimit -f (blocks of 512 or 1024 bytes): well under the ~2 MB output.
            wrapper=("sh", "-c", 'ulimit -f 200 && exec "$@"', "sh"),
        )

    assert 0 < output.stat().st_size <= 200 * 1024  # the limit did cut the output short
    assert run.code == 74
    assert "File too large" in the_error_line(run)


@pytest.mark.parametrize("stdout_mode", STDOUT_MODES)
def test_a_reader_that_stops_early_is_not_an_error(
    fake: FakeDaemon, stdout_mode: Mapping[str, str]
) -> None:
    """`imginspect ... | head -c1`: the tool treats a closed pipe as not an error (exit 0)."""
    fake.default = BIG_IMAGE

    process = subprocess.Popen(
        [sys.executable, "-m", "inspector", "--json", *MANY_NAMES],
        env=cli_env(fake.docker_host, stdout_mode),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.read(1)
        process.stdout.close()
        _, stderr_bytes = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        _reap(process)

    stderr = stderr_bytes.decode("utf-8", "backslashreplace")
    assert first == b"["
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    assert stderr == ""
    assert process.returncode == 0
    # Every image was fetched: the pipe closed while the output was being written.
    assert len(fake.paths) == 1 + len(MANY_NAMES)


def test_ctrl_c_while_waiting_for_the_daemon_exits_130_quietly() -> None:
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): HANG}) as fake:
        process = start_cli("a", host=fake.docker_host)
        try:
            assert fake.wait_for_requests(2, timeout=RUN_TIMEOUT), fake.paths
            assert fake.paths == ["/_ping", inspect_path("a")]
            process.send_signal(signal.SIGINT)
            stdout, stderr_bytes = process.communicate(timeout=RUN_TIMEOUT)
        finally:
            _reap(process)

    stderr = stderr_bytes.decode("utf-8", "backslashreplace")
    assert process.returncode == 130
    assert stdout == b""
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert "internal error" not in stderr


FIVE_HUNDRED = [f"img{number}" for number in range(500)]


def _slowly(request: Request) -> Answer:
    """Every image exists, and each answer takes a moment: 500 of them take seconds."""
    time.sleep(0.01)
    if request.path.endswith("/history"):
        return json_response([])
    name = request.path.split("/")[3]
    return json_response({"Id": "sha256:" + name.encode().hex().ljust(64, "0"), "Name": name})


@pytest.mark.parametrize("form", OUTPUT_FORMS)
def test_ctrl_c_in_the_middle_of_a_500_image_run_exits_130_and_prints_no_half_answer(
    form: list[str],
) -> None:
    """The images printed so far stay, whole; a JSON array is closed (output is streamed)."""
    with FakeDaemon({"/_ping": ping()}, default=_slowly) as fake:
        process = start_cli(*form, *FIVE_HUNDRED, host=fake.docker_host)
        try:
            assert fake.wait_for_requests(100, timeout=RUN_TIMEOUT), fake.paths
            process.send_signal(signal.SIGINT)
            stdout, stderr_bytes = process.communicate(timeout=RUN_TIMEOUT)
        finally:
            _reap(process)
        asked = len(fake.paths)

    stderr = stderr_bytes.decode("utf-8", "backslashreplace")
    assert process.returncode == 130
    assert 100 <= asked < 1 + 2 * len(FIVE_HUNDRED)  # interrupted mid-run, not at the end
    assert stderr.strip() == ""  # click's newline after the ^C, and nothing else
    assert "Traceback" not in stderr
    printed = _whole_images(stdout, form)
    assert 0 < printed < len(FIVE_HUNDRED)
    assert printed <= asked


def _padded(request: Request) -> Answer:
    if request.path.endswith("/history"):
        return json_response([])
    name = request.path.split("/")[3]
    return json_response({"Id": "sha256:" + name.encode().hex().ljust(64, "0"), "Pad": "x" * 1000})


@pytest.mark.parametrize(
    "form",
    [[], ["--json"], ["-f", "json"], ["-f", "{{.Id}} {{.Pad}}"]],
    ids=["view", "json", "format-json", "format"],
)
def test_ctrl_c_while_the_output_is_written_lets_it_finish_whole_then_exits_130(
    form: list[str],
) -> None:
    """~500 KB to a pipe nobody reads yet: the write of an image blocks, Ctrl-C comes, then
    the reader; that image is finished and the output closed (output is streamed)."""
    with FakeDaemon({"/_ping": ping()}, default=_padded) as fake:
        process = start_cli(
            *form,
            *FIVE_HUNDRED,
            host=fake.docker_host,
            bufsize=0,  # read(1) reads one byte, and communicate() all the others
        )
        try:
            assert process.stdout is not None
            first = process.stdout.read(1)  # the output has begun
            _wait_until_asked_nothing_more(fake)  # the pipe is full: a write is blocked
            process.send_signal(signal.SIGINT)
            rest, stderr_bytes = process.communicate(timeout=RUN_TIMEOUT)
        finally:
            _reap(process)
    stdout = first + rest

    assert process.returncode == 130
    assert stderr_bytes.decode("utf-8", "backslashreplace").strip() == ""
    assert len(stdout) > 40_000  # the pipe was full (a write blocked) when Ctrl-C came
    assert 0 < _whole_images(stdout, form) < len(FIVE_HUNDRED)


def _whole_images(stdout: bytes, form: list[str]) -> int:
    """How many images the output holds, each of them whole (a JSON array: closed)."""
    if form in (["--json"], ["-f", "json"]):
        return len(_json_array(stdout))
    assert stdout.endswith(b"\n")
    if form:  # a template: one line per image, each with its ID
        lines = stdout.decode().splitlines()
        assert all(line.startswith("sha256:") for line in lines), lines[-1]
        return len(lines)
    # The view: each block starts with a heading and ends with the image's Run section.
    text = stdout.decode()
    headings = [line for line in text.splitlines() if line.startswith("img") and " ─" in line]
    assert text.endswith("  User            root (no user set)\n"), text[-200:]
    assert text.count("  User ") == len(headings)
    return len(headings)


def _wait_until_asked_nothing_more(fake: FakeDaemon) -> None:
    """Until the daemon has been asked nothing new for a while: the command is blocked."""
    deadline = time.monotonic() + RUN_TIMEOUT
    asked = -1
    while len(fake.paths) != asked and time.monotonic() < deadline:
        asked = len(fake.paths)
        time.sleep(0.3)


# -- helpers --------------------------------------------------------------------------------


def _usage_error_line(run: Run) -> str:
    """The `Error: ...` line of a usage error (click puts its usage lines above it)."""
    assert_no_traceback(run)
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, run.stderr
    return errors[0]


def _json_array(stdout: bytes) -> Sequence[Mapping[str, Any]]:
    value = json.loads(stdout)
    assert isinstance(value, list)
    return value


def _reap(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    "form", [["--json"], ["-f", "{{.Id}}"], []], ids=["json", "format", "view"]
)
def test_a_deeply_nested_answer_never_crashes_any_output_form(form: list[str]) -> None:
    depth = 900
    body = ('{"Id":"sha256:aa","X":' + "[" * depth + "1" + "]" * depth + "}").encode()
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): Response(200, body)}) as fake:
        run = run_cli(*form, "a", host=fake.docker_host)

    assert_no_traceback(run)
    # Printed whole (the JSON is valid), or refused as a daemon problem in one line.
    if run.code == 3:
        assert "nested too deeply" in the_error_line(run)
    else:
        assert (run.code, run.stderr) == (0, "")


@pytest.mark.parametrize("inner", ["{{json .}}", "{{.}}", "{{printf `%#v` .}}"])
def test_the_deepest_template_over_the_deepest_value_never_crashes(inner: str) -> None:
    """Blocks nested to the limit over a value nested past the printing limit: ~710 frames
    of Python's stack (found by fuzzing), which the command has."""
    depth = 150
    body = ('{"Id":"sha256:aa","X":' + "[" * depth + '"leaf"' + "]" * depth + "}").encode()
    template = "{{with .X}}" + "{{range .}}" * 98 + inner + "{{end}}" * 98 + "{{end}}"
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): Response(200, body)}) as fake:
        run = run_cli("-f", template, "a", host=fake.docker_host)

    assert_no_traceback(run)
    assert run.code in (0, 4), run.stderr
    if run.code == 4:
        assert "nested too deeply" in the_error_line(run)
