"""Answers the daemon gives: a 404, a 500, a redirect, a body that is not a JSON object,
hostile answers (cut short, reset, informational, bare statuses), answers docker takes, one
larger than 64 MiB, and answers nested too deeply. Each failure is one error line with its
exit status, and the array printed is never broken or wrong."""

import pytest

from tests.fake_daemon import (
    FakeDaemon,
    Framing,
    Response,
    inspect_path,
    json_response,
    not_found,
    ping,
)
from tests.helpers import (
    B_ID,
    DOCKER_OUTPUT_A,
    DOCKER_OUTPUT_A_B,
    EMPTY_ARRAY,
    IMAGE_A,
    IMAGE_B,
    assert_no_traceback,
    json_array,
    run_cli,
    the_error_line,
)


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
        assert [document["Id"] for document in json_array(run.stdout)] == [B_ID]
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
    assert [document["Id"] for document in json_array(run.stdout)] == [B_ID]


# -- nested too deeply ----------------------------------------------------------------------


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
