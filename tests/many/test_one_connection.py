"""Many images over one connection: the requests go out ahead of the answers, which come in
the order asked; a failing image among them is one line after the others; a daemon that
stops, closes or breaks off mid-run leaves the images before it printed, and what was in
flight on a dropped connection is asked again, once."""

import json
import socket
import threading

import pytest

from inspector.sources.daemon.pipeline import Pipeline
from tests.fake_daemon import (
    CLOSE,
    HANG,
    Behaviour,
    FakeDaemon,
    Request,
    Response,
    inspect_path,
    json_response,
    not_found,
    ping,
)
from tests.helpers import (
    A_ID,
    B_ID,
    C_ID,
    DOCKER_OUTPUT_A_B,
    IMAGE_A,
    IMAGE_B,
    IMAGE_C,
    body,
    read_body,
    run_cli,
    the_error_line,
)
from tests.json_arrays import indented_array


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_many_images_come_over_one_connection_in_the_order_asked(transport: str) -> None:
    images = [{"Id": f"sha256:{number:064x}", "N": number} for number in range(300)]
    names = [f"i{number}" for number in range(300)]
    routes = {
        inspect_path(name): json_response(image) for name, image in zip(names, images, strict=True)
    }
    with FakeDaemon({"/_ping": ping("1.50"), **routes}, tcp=transport == "tcp") as fake:
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        run = run_cli("--json", *names, host=host)

        assert (run.code, run.stderr) == (0, "")
        assert run.stdout == indented_array([body(image) for image in images])
        assert fake.paths == ["/_ping", *(inspect_path(name) for name in names)]
        assert fake.connections == 1
        assert {request.transport for request in fake.requests} == {transport}


def _three_hundred(fake: FakeDaemon) -> list[str]:
    names = [f"i{number}" for number in range(300)]
    for number, name in enumerate(names):
        fake.routes[inspect_path(name)] = json_response({"Id": f"sha256:{number:064x}"})
    return names


def _ids(stdout: bytes) -> list[str]:
    return [str(image["Id"]) for image in json.loads(stdout)]


@pytest.mark.parametrize(
    ("answer", "code", "said"),
    [
        (not_found("i150:latest"), 1, "Error: No such image: i150:latest"),
        (json_response({"message": "boom"}, 500), 3, "Error: boom"),
        (Response(200, b"<html>garbage"), 3, "the inspect answer for 'i150' is not valid JSON"),
        (Response(500), 3, "answered 500 Internal Server Error with no message"),
    ],
    ids=["404", "500", "garbage", "500-bare"],
)
def test_a_failing_image_among_300_is_one_line_after_the_others(
    fake: FakeDaemon, answer: Response, code: int, said: str
) -> None:
    names = _three_hundred(fake)
    fake.routes[inspect_path("i150")] = answer

    run = run_cli("--json", *names, host=fake.docker_host)

    assert run.code == code
    assert said in the_error_line(run)
    assert _ids(run.stdout) == [f"sha256:{n:064x}" for n in range(300) if n != 150]
    assert fake.paths[1:] == [inspect_path(name) for name in names]


def test_a_daemon_that_stops_answering_mid_run_times_out_with_the_images_before_it_printed(
    fake: FakeDaemon,
) -> None:
    names = _three_hundred(fake)
    fake.routes[inspect_path("i150")] = HANG

    run = run_cli("--json", "--timeout", "1", *names, host=fake.docker_host)

    assert run.code == 3
    assert "did not answer within 1s" in the_error_line(run)
    assert _ids(run.stdout) == [f"sha256:{n:064x}" for n in range(150)]  # the array is closed
    assert inspect_path("i151") not in fake.paths[fake.paths.index(inspect_path("i150")) + 1 :]


def test_a_daemon_that_closes_mid_run_ends_it_with_the_images_before_it_printed(
    fake: FakeDaemon,
) -> None:
    names = _three_hundred(fake)
    fake.routes[inspect_path("i150")] = CLOSE

    run = run_cli("-f", "json", *names, host=fake.docker_host)

    assert run.code == 3
    assert "closed the connection without answering" in the_error_line(run)
    assert _ids(run.stdout) == [f"sha256:{n:064x}" for n in range(150)]


class _SocketPairSource:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def reuse(self) -> socket.socket | None:
        return None

    def open(self) -> socket.socket:
        return self.sock

    def park(self, sock: socket.socket) -> None:
        sock.close()


def test_the_next_requests_go_out_before_the_answers_to_the_last_come() -> None:
    ours, theirs = socket.socketpair()
    ours.settimeout(5)
    theirs.settimeout(5)
    seen: list[bytes] = []

    def daemon() -> None:
        received = b""
        for answer, wanted in (
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA", 2),
            # b is not answered before c has come: c went out while b was in flight
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nB\r\n0\r\n\r\n", 3),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nC", 3),
        ):
            while received.count(b"\r\n\r\n") < wanted:
                received += theirs.recv(4096)
            seen.append(received)
            theirs.sendall(answer)

    with ours, theirs:
        thread = threading.Thread(target=daemon)
        thread.start()
        pipeline = Pipeline(_SocketPairSource(ours), "Host: docker\r\n")
        answers = []
        for path in ("/a", "/b"):
            pipeline.send(path)
        for ahead in ("/c", None, None):
            path, _, response = pipeline.receive()
            answers.append((path, read_body(response)))
            pipeline.finish(response, whole=True)
            if ahead:
                pipeline.send(ahead)
        thread.join(5)

    assert answers == [("/a", b"A"), ("/b", b"B"), ("/c", b"C")]
    assert (
        seen[0] == b"GET /a HTTP/1.1\r\nHost: docker\r\n\r\nGET /b HTTP/1.1\r\nHost: docker\r\n\r\n"
    )
    assert seen[1].endswith(b"GET /c HTTP/1.1\r\nHost: docker\r\n\r\n")


def test_a_daemon_that_closes_after_an_answer_is_asked_the_rest_again(fake: FakeDaemon) -> None:
    fake.routes[inspect_path("a")] = Response(200, body(IMAGE_A), framing="close")
    fake.routes[inspect_path("b")] = json_response(IMAGE_B)

    run = run_cli("--json", "a", "b", host=fake.docker_host)

    assert (run.code, run.stderr) == (0, "")
    assert run.stdout == DOCKER_OUTPUT_A_B
    assert fake.connections == 2
    assert fake.paths.count(inspect_path("b")) == 1  # read once: the first copy died unread


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_a_kept_alive_connection_the_daemon_drops_between_answers_is_asked_again(
    transport: str,
) -> None:
    """A daemon (or a proxy) may close a keep-alive connection after some answers, with no
    `Connection: close`: what was in flight is asked again on a new one, once."""
    closed: list[str] = []

    def close_once(request: Request) -> Response | Behaviour:
        if not closed:
            closed.append(request.path)
            return CLOSE
        return json_response(IMAGE_C)

    with FakeDaemon({"/_ping": ping("1.50")}, tcp=transport == "tcp") as fake:
        fake.routes[inspect_path("a")] = json_response(IMAGE_A)
        fake.routes[inspect_path("b")] = json_response(IMAGE_B)
        fake.routes[inspect_path("c")] = close_once
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        run = run_cli("-f", "{{.Id}}", "a", "b", "c", "a", host=host)
        paths = fake.paths

    assert (run.code, run.stderr) == (0, "")
    assert run.stdout == f"{A_ID}\n{B_ID}\n{C_ID}\n{A_ID}\n".encode()
    assert paths.count(inspect_path("c")) == 2
    assert fake.connections == 2


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_the_connection_the_ping_was_answered_on_is_asked_again_if_the_daemon_drops_it(
    transport: str,
) -> None:
    """The pipeline takes over the connection /_ping was answered on: a kept-alive one, which
    the daemon may close as the first inspect goes out."""
    closed: list[str] = []

    def close_once(request: Request) -> Response | Behaviour:
        if not closed:
            closed.append(request.path)
            return CLOSE
        return json_response(IMAGE_A)

    with FakeDaemon(
        {"/_ping": ping("1.50"), inspect_path("a"): close_once}, tcp=transport == "tcp"
    ) as fake:
        host = fake.tcp_host if transport == "tcp" else fake.docker_host
        run = run_cli("-f", "{{.Id}}", "a", host=host)

    assert (run.code, run.stdout, run.stderr) == (0, f"{A_ID}\n".encode(), "")
    assert fake.paths == ["/_ping", inspect_path("a"), inspect_path("a")]
    assert fake.connections == 2


@pytest.mark.parametrize(
    "ping_answer",
    [
        pytest.param(
            Response(200, b"OK", (("Api-Version", "1.50"),), framing="close"), id="connection-close"
        ),
        # The whole answer, then the daemon closes the idle connection with no word about it.
        pytest.param(
            Response(200, b"OK", (("Api-Version", "1.50"),), cut_after=2), id="closed-when-idle"
        ),
    ],
)
def test_a_ping_whose_connection_ends_leaves_the_images_a_new_one(ping_answer: Response) -> None:
    routes = {"/_ping": ping_answer, inspect_path("a"): json_response(IMAGE_A)}
    with FakeDaemon(routes) as fake:
        run = run_cli("-f", "{{.Id}}", "a", "a", host=fake.docker_host)

    assert (run.code, run.stdout, run.stderr) == (0, f"{A_ID}\n{A_ID}\n".encode(), "")
    assert fake.paths == ["/_ping", inspect_path("a"), inspect_path("a")]
    assert fake.connections == 2


def test_a_new_connection_that_closes_without_answering_is_not_asked_again(
    fake: FakeDaemon,
) -> None:
    fake.routes[inspect_path("a")] = json_response(IMAGE_A)
    fake.routes[inspect_path("c")] = CLOSE  # on the kept-alive connection, and on the new one

    run = run_cli("--json", "a", "c", "b", host=fake.docker_host)

    assert run.code == 3
    assert "closed the connection without answering" in the_error_line(run)
    assert json.loads(run.stdout) == [IMAGE_A]  # the array is closed
    assert fake.paths.count(inspect_path("c")) == 2  # once again, not more
    assert fake.connections == 2


def test_an_answer_broken_off_is_an_error_and_the_images_after_it_still_come(
    fake: FakeDaemon,
) -> None:
    broken = Response(200, b'{"Id": "sha', headers=(("Content-Length", "500"),), framing="close")
    fake.routes[inspect_path("a")] = json_response(IMAGE_A)
    fake.routes[inspect_path("broken")] = broken
    fake.routes[inspect_path("b")] = json_response(IMAGE_B)

    run = run_cli("--json", "a", "broken", "b", host=fake.docker_host)

    assert run.code == 3
    assert "broke off its answer to /v1.50/images/broken/json" in the_error_line(run)
    assert run.stdout == DOCKER_OUTPUT_A_B
