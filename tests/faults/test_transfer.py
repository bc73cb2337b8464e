"""How an answer arrives: every framing of a body, a connection closed without an answer,
a daemon that never answers, and answers dribbled a byte at a time, whose head and body
share the one deadline of --timeout."""

import time

import pytest

from tests.fake_daemon import (
    CLOSE,
    HANG,
    FakeDaemon,
    Framing,
    Response,
    inspect_path,
    json_response,
    ping,
)
from tests.helpers import (
    DOCKER_OUTPUT_A,
    EMPTY_ARRAY,
    IMAGE_A,
    STARTUP_ALLOWANCE,
    Run,
    run_cli,
    the_error_line,
)


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
