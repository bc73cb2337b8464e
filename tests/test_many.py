"""Many images: requests sent ahead on one connection, output streamed image by image
and never left broken (Ctrl-C, a daemon that closes or breaks off), --all and its filters, the
progress line, and memory that does not grow with the number of images."""

import json
import os
import pty
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from urllib.parse import parse_qs, urlsplit

import pytest

from inspector.sources.daemon.pipeline import Pipeline
from tests.daemon_fixture import DockerDaemon
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
    EMPTY_ARRAY,
    IMAGE_A,
    IMAGE_B,
    IMAGE_C,
    REPO,
    RUN_TIMEOUT,
    Run,
    cli_env,
    read_body,
    read_terminal,
    run_cli,
    start_cli,
    the_error_line,
)
from tests.json_arrays import compact_array, indented_array

LIST_PATH = "/v1.50/images/json"


def body(value: object) -> bytes:
    return json_response(value).body


@pytest.fixture
def fake() -> Iterator[FakeDaemon]:
    with FakeDaemon({"/_ping": ping("1.50")}) as daemon:
        yield daemon


# -- one connection, requests ahead of the answers ------------------------------------------


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


# -- interrupted ----------------------------------------------------------------------------


FORMS = {
    "json": (["--json"], DOCKER_OUTPUT_A_B),
    "compact": (["-f", "json"], compact_array([body(IMAGE_A), body(IMAGE_B)])),
    "format": (["-f", "{{.Id}}"], f"{A_ID}\n{B_ID}\n".encode()),
}


@pytest.mark.parametrize("form", FORMS)
def test_ctrl_c_mid_run_keeps_the_images_printed_and_closes_the_output(
    fake: FakeDaemon, form: str
) -> None:
    args, expected = FORMS[form]
    fake.routes[inspect_path("a")] = json_response(IMAGE_A)
    fake.routes[inspect_path("b")] = json_response(IMAGE_B)
    fake.routes[inspect_path("c")] = HANG

    code, stdout, stderr = _interrupt(fake, [*args, "a", "b", "c", "d"], wait_for=B_ID.encode())

    assert code == 130
    assert stdout == expected
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert "internal error" not in stderr


def test_ctrl_c_still_says_what_failed_before_it(fake: FakeDaemon) -> None:
    fake.routes[inspect_path("a")] = not_found("a:latest")
    fake.routes[inspect_path("b")] = json_response(IMAGE_B)
    fake.routes[inspect_path("c")] = HANG

    code, stdout, stderr = _interrupt(fake, ["--json", "a", "b", "c"], wait_for=B_ID.encode())

    assert code == 130
    assert json.loads(stdout) == [IMAGE_B]
    assert "Error: No such image: a:latest" in stderr
    assert "Traceback" not in stderr


def test_ctrl_c_mid_run_keeps_whole_blocks_of_the_view(fake: FakeDaemon) -> None:
    for name, image in (("a", IMAGE_A), ("b", IMAGE_B)):
        fake.routes[inspect_path(name)] = json_response(image)
        fake.routes[f"/v1.50/images/{name}/history"] = json_response([])
    whole = run_cli("a", "b", host=fake.docker_host, env={"COLUMNS": "80"})
    fake.routes[inspect_path("c")] = HANG

    code, stdout, _ = _interrupt(fake, ["a", "b", "c"], wait_for=b"\nb \xe2\x94\x80")

    assert (whole.code, code) == (0, 130)
    assert stdout == whole.stdout


def test_an_ignored_ctrl_c_stays_ignored(fake: FakeDaemon) -> None:
    """A command started with SIGINT ignored (`nohup`, a background job) runs to its end."""
    answered = threading.Event()

    def late(request: Request) -> Response:
        answered.wait(RUN_TIMEOUT)
        return json_response(IMAGE_C)

    fake.routes[inspect_path("a")] = json_response(IMAGE_A)
    fake.routes[inspect_path("b")] = json_response(IMAGE_B)
    fake.routes[inspect_path("c")] = late
    process = start_cli(
        "-f", "{{.Id}}", "a", "b", "c", host=fake.docker_host, sigint=signal.SIG_IGN
    )
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while inspect_path("c") not in fake.paths and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        time.sleep(0.2)
        answered.set()
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        answered.set()
        if process.poll() is None:
            process.kill()
            process.wait()

    assert (process.returncode, stderr) == (0, b"")
    assert stdout == f"{A_ID}\n{B_ID}\n{C_ID}\n".encode()


def _interrupt(fake: FakeDaemon, args: list[str], *, wait_for: bytes) -> tuple[int, bytes, str]:
    """Run until stdout shows wait_for and the daemon holds the answer for c, then Ctrl-C."""
    process = start_cli(*args, host=fake.docker_host, env={"COLUMNS": "80"})
    try:
        assert process.stdout is not None
        seen = b""
        deadline = time.monotonic() + RUN_TIMEOUT
        while wait_for not in seen and time.monotonic() < deadline:
            seen += os.read(process.stdout.fileno(), 65536)
        while inspect_path("c") not in fake.paths and time.monotonic() < deadline:
            time.sleep(0.02)
        assert wait_for in seen and inspect_path("c") in fake.paths, (seen, fake.paths)
        time.sleep(0.2)  # it is waiting for c's answer now
        process.send_signal(signal.SIGINT)
        rest, stderr = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, seen + rest, stderr.decode("utf-8", "backslashreplace")


# -- --all ----------------------------------------------------------------------------------


def _listing(*entries: tuple[str, list[str]]) -> Response:
    return json_response([{"Id": image_id, "RepoTags": tags} for image_id, tags in entries])


def test_all_inspects_every_listed_image_by_id_in_the_daemons_order(fake: FakeDaemon) -> None:
    fake.routes[LIST_PATH] = _listing((C_ID, ["c:1"]), (A_ID, ["a:1"]), (B_ID, []))
    for image in (IMAGE_A, IMAGE_B, IMAGE_C):
        fake.routes[inspect_path(str(image["Id"]))] = json_response(image)

    run = run_cli("--all", "--json", host=fake.docker_host)

    assert (run.code, run.stderr) == (0, "")
    assert run.stdout == indented_array([body(IMAGE_C), body(IMAGE_A), body(IMAGE_B)])
    assert fake.paths == ["/_ping", LIST_PATH, *(inspect_path(i) for i in (C_ID, A_ID, B_ID))]


def test_all_in_the_view_heads_each_image_with_its_first_tag_or_its_id(fake: FakeDaemon) -> None:
    fake.routes[LIST_PATH] = _listing((A_ID, ["a:1", "a:2"]), (B_ID, ["<none>:<none>"]))
    for image in (IMAGE_A, IMAGE_B):
        fake.routes[inspect_path(str(image["Id"]))] = json_response(image)
        fake.routes[f"/v1.50/images/{image['Id']}/history"] = json_response([])

    run = run_cli("--all", host=fake.docker_host, env={"COLUMNS": "200"})

    assert (run.code, run.stderr) == (0, "")
    headers = [line for line in run.stdout.decode().splitlines() if line.endswith("─")]
    assert [header.split(" ")[0] for header in headers] == ["a:1", B_ID]


@pytest.mark.parametrize(
    ("filters", "sent"),
    [
        (["dangling=true"], {"dangling": {"true": True}}),
        (
            ["label=a=b", " LABEL = c ", "reference=lab-*"],
            {"label": {"a=b": True, "c": True}, "reference": {"lab-*": True}},
        ),
        ([""], None),  # empty: no filter, as in docker
    ],
)
def test_filters_go_to_the_daemon_as_docker_sends_them(
    fake: FakeDaemon, filters: list[str], sent: Mapping[str, object] | None
) -> None:
    asked: list[Request] = []

    def listing(request: Request) -> Response:
        asked.append(request)
        return json_response([])

    fake.routes[LIST_PATH] = listing
    fake.default = listing  # the path carries the query

    run = run_cli("--all", *(f"--filter={value}" for value in filters), host=fake.docker_host)

    assert (run.code, run.stdout, run.stderr) == (0, b"", "")  # the view of nothing is nothing
    [request] = asked
    url = urlsplit(request.path)
    assert url.path == LIST_PATH
    query = parse_qs(url.query)
    assert (json.loads(query["filters"][0]) if query else None) == sent


def test_all_with_quiet_says_by_its_status_whether_every_listed_image_is_there(
    fake: FakeDaemon,
) -> None:
    fake.routes[LIST_PATH] = _listing((A_ID, ["a:1"]), (B_ID, ["b:1"]))
    fake.routes[inspect_path(A_ID)] = json_response(IMAGE_A)
    fake.routes[inspect_path(B_ID)] = json_response(IMAGE_B)
    assert run_cli("--all", "-q", host=fake.docker_host) == Run(0, b"", "")

    fake.routes[inspect_path(B_ID)] = not_found(B_ID)
    assert run_cli("--all", "-q", host=fake.docker_host) == Run(1, b"", "")


def test_an_empty_list_prints_what_docker_prints_for_no_image(fake: FakeDaemon) -> None:
    fake.routes[LIST_PATH] = json_response([])
    assert run_cli("--all", "--json", host=fake.docker_host).stdout == EMPTY_ARRAY
    assert run_cli("--all", "-f", "{{.Id}}", host=fake.docker_host).stdout == b"\n"


def test_a_filter_the_daemon_refuses_is_a_usage_error_with_its_message(fake: FakeDaemon) -> None:
    fake.default = json_response({"message": "Invalid filter 'colour'"}, 400)

    run = run_cli("--all", "--json", "--filter", "colour=red", host=fake.docker_host)

    assert (run.code, run.stdout) == (2, b"")
    assert the_error_line(run) == "Error: Invalid filter 'colour'"


def test_an_image_removed_after_the_list_is_not_found(fake: FakeDaemon) -> None:
    fake.routes[LIST_PATH] = _listing((A_ID, ["a:1"]), (B_ID, ["b:1"]))
    fake.routes[inspect_path(A_ID)] = not_found(A_ID)
    fake.routes[inspect_path(B_ID)] = json_response(IMAGE_B)

    run = run_cli("--all", "-f", "{{.Id}}", host=fake.docker_host)

    assert (run.code, run.stdout) == (1, f"{B_ID}\n".encode())
    assert the_error_line(run) == f"Error: No such image: {A_ID}"


@pytest.mark.parametrize(
    ("listing", "said"),
    [
        ([{"Id": "../../etc"}], "without a usable ID"),
        ([{"Id": "nginx", "RepoTags": ["nginx:1"]}], "without a usable ID"),
        ([{"Id": 5}], "without a usable ID"),
        (["sha256:" + "a" * 64], "without a usable ID"),
        ({"Id": A_ID}, "is JSON but not a list"),
    ],
)
def test_a_list_that_is_not_a_list_of_images_is_a_daemon_problem(
    fake: FakeDaemon, listing: object, said: str
) -> None:
    fake.routes[LIST_PATH] = json_response(listing)

    run = run_cli("--all", "--json", host=fake.docker_host)

    assert (run.code, run.stdout) == (3, EMPTY_ARRAY)
    assert said in the_error_line(run)
    assert fake.paths == ["/_ping", LIST_PATH]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "a"], "either --all or IMAGE arguments"),
        (["--filter", "dangling=true", "a"], "--filter works with --all only"),
        (["--all", "--filter", "dangling"], "bad format of filter 'dangling'"),
    ],
)
def test_all_and_filter_usage_errors_exit_2_before_any_request(
    fake: FakeDaemon, args: list[str], message: str
) -> None:
    run = run_cli(*args, host=fake.docker_host)

    assert (run.code, run.stdout) == (2, b"")
    assert message in run.stderr
    assert fake.requests == []


@pytest.mark.parametrize(
    "filters",
    [[], ["reference=lab-full"], ["dangling=true"], ["label=org.opencontainers.image.version"]],
    ids=["no filter", "reference", "dangling", "label"],
)
@pytest.mark.parametrize(
    ("form", "docker_form"),
    [(["--json"], []), (["-f", "json"], ["-f", "json"]), (["-f", "{{.Id}} {{.RepoTags}}"],) * 2],
    ids=["json", "compact", "format"],
)
def test_all_prints_what_docker_prints_for_every_image_it_lists(
    docker_daemon: DockerDaemon, filters: list[str], form: list[str], docker_form: list[str]
) -> None:
    flags = [f"--filter={value}" for value in filters]
    listed = docker_daemon.docker("image", "ls", "-q", "--no-trunc", *flags).stdout.split()
    unique = {image.decode() for image in listed}  # docker lists an image once per tag

    def imginspect(*args: str) -> bytes:
        done = subprocess.run(
            [sys.executable, "-m", "inspector", "--all", *flags, *args],
            env=docker_daemon.env(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stderr) == (0, b"")
        return done.stdout

    got = imginspect(*form)
    # The daemon's order (it breaks ties of Created differently each time), read from the output.
    if "{{" in form[-1]:
        order = [line.split()[0] for line in got.decode().splitlines() if line]
    else:
        order = [image["Id"] for image in json.loads(got)]
    assert sorted(order) == sorted(unique)
    assert unique or filters == ["dangling=true"]
    if order:
        expected = docker_daemon.docker("image", "inspect", *docker_form, *order).stdout
    else:
        expected = b"\n" if "{{" in form[-1] else b"[]\n"
    assert got == expected


def test_all_json_is_docker_image_inspect_of_docker_image_ls_q(
    docker_daemon: DockerDaemon,
) -> None:
    """Issue 8's case 5, byte for byte: `docker image inspect $(docker image ls -q)`."""
    short = docker_daemon.docker("image", "ls", "-q").stdout.decode().split()
    unique = list(dict.fromkeys(short))  # docker lists an image once per tag
    got = subprocess.run(
        [sys.executable, "-m", "inspector", "--all", "--json"],
        env=docker_daemon.env(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (got.returncode, got.stderr) == (0, b"")
    ids = [str(image["Id"]) for image in json.loads(got.stdout)]
    # The same images; the order is the daemon's, which breaks ties of Created differently
    # from one list to the next, so docker is asked in the order imginspect printed.
    order = [image_id.removeprefix("sha256:")[:12] for image_id in ids]
    assert sorted(order) == sorted(unique)

    expected = docker_daemon.docker("image", "inspect", *order)

    assert got.stdout == expected.stdout


def test_a_long_run_of_images_matches_docker(docker_daemon: DockerDaemon) -> None:
    images = docker_daemon.images
    names = [images.full_tags[0], images.tiny, "lab-missing:1", images.hostile] * 60
    expected = docker_daemon.docker("image", "inspect", *names, check=False)

    got = subprocess.run(
        [sys.executable, "-m", "inspector", "--json", *names],
        env=docker_daemon.env(),
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert (got.returncode, got.stdout) == (expected.returncode, expected.stdout)
    assert got.stderr.decode().count("\n") == 60


# -- the progress line ----------------------------------------------------------------------


def test_progress_shows_on_a_terminal_for_a_long_run_and_is_erased(fake: FakeDaemon) -> None:
    def slowly(request: Request) -> Response:
        time.sleep(0.25)
        return json_response(IMAGE_A)

    fake.default = slowly
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "inspector", "-f", "{{.Id}}", *"abcdef"],
        env=cli_env(fake.docker_host, {"TERM": "xterm"}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        cwd=REPO,
    )
    os.close(follower)
    try:
        said = read_terminal(leader)
        stdout, _ = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0
    assert stdout == f"{A_ID}\n".encode() * 6
    assert b"imginspect: 4/6 images" in said or b"imginspect: 5/6 images" in said
    assert said.endswith(b"\r\x1b[K")  # nothing left on the line


def test_no_progress_when_stderr_is_not_a_terminal(fake: FakeDaemon) -> None:
    def slowly(request: Request) -> Response:
        time.sleep(0.2)
        return json_response(IMAGE_A)

    fake.default = slowly
    run = run_cli("-f", "{{.Id}}", *"abcd", host=fake.docker_host)
    assert (run.code, run.stderr) == (0, "")


# -- memory ---------------------------------------------------------------------------------

_PEAK_OF_A_RUN = """\
import sys, tracemalloc
from inspector.cli import main as cli
tracemalloc.start()
code = cli.run(sys.argv[1:])
print(code, tracemalloc.get_traced_memory()[1], file=sys.stderr)
"""


@pytest.mark.parametrize("form", [["--json"], ["-f", "json"], ["-f", "{{.Id}}"]])
def test_memory_does_not_grow_with_the_number_of_images(fake: FakeDaemon, form: list[str]) -> None:
    fake.default = json_response({"Id": A_ID, "Padding": "x" * 20_000})

    def peak(count: int) -> int:
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_OF_A_RUN, *form, *(f"i{n}" for n in range(count))],
            env=cli_env(fake.docker_host),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
            check=True,
            cwd=REPO,
        )
        code, size = done.stderr.decode().split()[-2:]
        assert code == "0"
        return int(size)

    few, many = peak(50), peak(1000)  # ~1 MB and ~20 MB of answers

    assert many < few + 2_000_000, (few, many)
