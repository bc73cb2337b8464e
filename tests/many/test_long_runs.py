"""A long run of images: Ctrl-C keeps the images printed so far, whole, and closes the
output (an ignored Ctrl-C stays ignored); a progress line on a terminal, erased at the end;
memory that does not grow with the number of images."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.fake_daemon import (
    HANG,
    FakeDaemon,
    Request,
    Response,
    inspect_path,
    json_response,
    not_found,
)
from tests.helpers import (
    A_ID,
    B_ID,
    C_ID,
    DOCKER_OUTPUT_A_B,
    IMAGE_A,
    IMAGE_B,
    IMAGE_C,
    REPO,
    RUN_TIMEOUT,
    body,
    cli_env,
    run_at_terminal,
    run_cli,
    start_cli,
)
from tests.json_arrays import compact_array

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


# -- the progress line ----------------------------------------------------------------------


def test_progress_shows_on_a_terminal_for_a_long_run_and_is_erased(fake: FakeDaemon) -> None:
    def slowly(request: Request) -> Response:
        time.sleep(0.25)
        return json_response(IMAGE_A)

    fake.default = slowly
    code, said, stdout = run_at_terminal(
        "-f", "{{.Id}}", *"abcdef", env=cli_env(fake.docker_host, {"TERM": "xterm"}), at="stderr"
    )

    assert code == 0
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
