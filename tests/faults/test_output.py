"""Where the output goes, and what Ctrl-C leaves there: a full device, a closed stdout and
a file size limit exit 74, the images' own errors still said; a reader that stops early is
not an error; Ctrl-C exits 130 and never leaves half an answer."""

import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.fake_daemon import (
    HANG,
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
    C_ID,
    IMAGE_A,
    REPO,
    RUN_TIMEOUT,
    assert_no_traceback,
    cli_env,
    json_array,
    run_cli,
    start_cli,
    the_error_line,
)

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


# -- Ctrl-C ---------------------------------------------------------------------------------


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
        return len(json_array(stdout))
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


def _reap(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
