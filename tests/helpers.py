"""What the tests share for running imginspect and reading what it says.

The command runs as it does for a person, `python -m inspector` in a subprocess: against a
daemon given by its DOCKER_HOST (`run_cli`), in an environment of the test's choosing
(`run_in_env`, `run_bare`), with stdout or stderr at a pseudo-terminal (`run_on_terminal`,
`run_at_terminal`), or started, to be interrupted (`start_cli`). Then the images the fake
daemons serve and what docker prints for them, the pinned clock the view is rendered with, and
archives read directly. The daemons' paths and answers are in fake_daemon.py, the archives in
archive_builder.py.
"""

import fcntl
import json
import os
import pty
import pwd
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import IO, Any, Literal

from inspector.image import Image
from inspector.render.view import render_view
from inspector.sources.archive import reader as archive
from inspector.sources.archive.names import parse_source
from inspector.sources.daemon.pipeline import Answer
from tests.daemon_fixture import DockerDaemon
from tests.fake_daemon import Response, inspect_path, json_response

REPO = Path(__file__).resolve().parent.parent
# The example archive the README uses (examples/make_hello.py builds it).
EXAMPLE = REPO / "examples" / "hello.tar"
# Generous: a run takes a fraction of a second; this only stops a hung CLI from hanging pytest.
RUN_TIMEOUT = 10.0
# What a run may take beyond its --timeout: starting Python, importing requests, exiting.
STARTUP_ALLOWANCE = 2.5


# -- running the command --------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    stdout: bytes
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


# Settings of this environment that would change what the CLI does (PYTHONUNBUFFERED makes
# sys.stdout.buffer a raw FileIO: the output tests choose it explicitly, see STDOUT_MODES in
# faults/test_output.py).
_UNSET = ("IMGINSPECT_DEBUG", "PYTHONUNBUFFERED")
# Settings of the environment that change the view; each view test sets its own.
_VIEW_SETTINGS = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LINES", "TZ")
# Nothing may reach a daemon when every image is an archive: there is none here.
NO_DAEMON = {"DOCKER_HOST": "unix:///nonexistent/imginspect-test.sock", "PATH": "/usr/bin:/bin"}


def cli_env(docker_host: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without docker settings or debug switches, then the test's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DOCKER_") and key not in _UNSET
    }
    if docker_host is not None:
        env["DOCKER_HOST"] = docker_host
    env.update(extra or {})
    return env


def run_cli(
    *args: str,
    host: str | None,
    env: Mapping[str, str] | None = None,
    stdout: int | IO[Any] = subprocess.PIPE,
    python: str = sys.executable,
    user: str | None = None,
    wrapper: Sequence[str] = (),
) -> Run:
    completed = subprocess.run(
        [*wrapper, python, "-m", "inspector", *args],
        env=cli_env(host, env),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=RUN_TIMEOUT,
        cwd="/" if user else REPO,
        **as_user(user),
        check=False,
    )
    return Run(
        completed.returncode,
        completed.stdout if completed.stdout is not None else b"",
        completed.stderr.decode("utf-8", "backslashreplace"),
    )


def as_user(user: str | None) -> dict[str, Any]:
    """subprocess arguments that run as user, with its own group and no supplementary ones."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def view_env(extra: Mapping[str, str] | None = None, *, host: str | None = None) -> dict[str, str]:
    """This environment without docker settings, debug switches or anything that changes the
    view (colour, terminal, size, time zone), then the test's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DOCKER_") and key not in _VIEW_SETTINGS
    }
    env.pop("PYTHONUNBUFFERED", None)
    env.pop("IMGINSPECT_DEBUG", None)
    if host is not None:
        env["DOCKER_HOST"] = host
    env.update(extra or {})
    return env


def run_in_env(*args: str, env: Mapping[str, str]) -> Run:
    """Run with exactly this environment, stdout and stderr pipes."""
    completed = subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr.decode(errors="replace"))


def run_bare(*args: str, cwd: Path = REPO, env: Mapping[str, str] | None = None) -> Run:
    """Run with nothing of this environment: a PATH, and a DOCKER_HOST where no daemon answers
    unless env gives one."""
    completed = subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        capture_output=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env={**NO_DAEMON, **(env or {}), "PYTHONPATH": str(REPO)},
    )
    return Run(completed.returncode, completed.stdout, completed.stderr.decode(errors="replace"))


@cache
def help_text(columns: int = 80) -> str:
    """What `--help` prints at this width, with nothing of this environment."""
    run = run_bare("--help", env={"COLUMNS": str(columns)})
    assert run.code == 0, run.stderr
    return run.stdout.decode()


def imginspect(daemon: DockerDaemon, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run against a real daemon, with the environment its docker CLI gets."""
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        env=daemon.env(),
        capture_output=True,
        timeout=60,
        check=False,
    )


# -- what it says ---------------------------------------------------------------------------


def assert_no_traceback(run: Run) -> None:
    for text in (run.stderr, run.stdout.decode("utf-8", "replace")):
        assert "Traceback" not in text
        assert "Exception ignored" not in text


def the_error_line(run: Run) -> str:
    """The one line on stderr, which must read `Error: ...`."""
    assert_no_traceback(run)
    assert run.stderr.endswith("\n"), run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("Error: "), run.stderr
    return lines[0]


def json_array(stdout: bytes) -> Sequence[Mapping[str, Any]]:
    """The JSON array the command printed."""
    value = json.loads(stdout)
    assert isinstance(value, list)
    return value


# -- interrupting it ------------------------------------------------------------------------


def start_cli(
    *args: str,
    host: str | None,
    env: Mapping[str, str] | None = None,
    sigint: signal.Handlers = signal.SIG_DFL,
    bufsize: int = -1,
) -> "subprocess.Popen[bytes]":
    """Start the command (stdin empty, stdout and stderr pipes) with SIGINT at `sigint`: its
    default action unless told otherwise, whatever this process does with SIGINT.

    Tests that send the command SIGINT start it here (test_test_suite.py checks), so that it
    takes a Ctrl-C as it does when started at a terminal. A suite started in the background by
    a non-interactive shell (`make check &` in a script) has SIGINT ignored; its children would
    inherit that, and a Python started so installs no KeyboardInterrupt handler: the test's
    SIGINT would do nothing. Popen's restore_signals resets only SIGPIPE, SIGXFZ and SIGXFSZ.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "inspector", *args],
        env=cli_env(host, env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        bufsize=bufsize,
        # preexec_fn runs between fork and exec, where waiting on a lock that another thread
        # (a fake daemon's) held at the fork would hang: setting a signal's action takes none.
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
    )


# -- at a terminal --------------------------------------------------------------------------


def read_terminal(leader: int) -> bytes:
    """What a command writes to a pseudo-terminal until every writer has closed it (or
    RUN_TIMEOUT passes): the leader's side, as a terminal would show it."""
    said = b""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        if not select.select([leader], [], [], 0.1)[0]:
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not chunk:
            break
        said += chunk
    return said


def run_at_terminal(
    *args: str, env: Mapping[str, str], at: Literal["stdout", "stderr"], columns: int = 100
) -> tuple[int, bytes, bytes]:
    """Run with stdout or stderr (`at`) on a pseudo-terminal of the given width and the other
    on a pipe: the exit status, what the terminal showed (each newline as CR LF), and what the
    pipe got."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "inspector", *args],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=follower if at == "stdout" else subprocess.PIPE,
        stderr=follower if at == "stderr" else subprocess.PIPE,
        cwd=REPO,
    )
    os.close(follower)
    try:
        shown = read_terminal(leader)
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, shown, stdout if at == "stderr" else stderr


def run_on_terminal(*args: str, env: Mapping[str, str], columns: int = 100) -> Run:
    """Run with stdout on a pseudo-terminal of the given width (stderr stays a pipe)."""
    code, shown, stderr = run_at_terminal(*args, env=env, at="stdout", columns=columns)
    # The terminal turns each \n into \r\n.
    return Run(code, shown.replace(b"\r\n", b"\n"), stderr.decode(errors="replace"))


# -- images the fake daemons serve, and what docker prints for them -------------------------

A_ID = "sha256:" + "a" * 64
B_ID = "sha256:" + "b" * 64
C_ID = "sha256:" + "c" * 64
IMAGE_A = {"Id": A_ID, "RepoTags": ["a:1"], "Config": {"Env": [], "Labels": {}}}
IMAGE_B = {"Id": B_ID}
IMAGE_C = {"Id": C_ID, "Size": 1982256}

# What `docker image inspect` (docker 28.2) prints for IMAGE_A and IMAGE_B, alone and together:
# each image indented by 4 spaces inside the array.
_DOCKER_SHOWS_A = f"""\
    {{
        "Id": "{A_ID}",
        "RepoTags": [
            "a:1"
        ],
        "Config": {{
            "Env": [],
            "Labels": {{}}
        }}
    }}"""
_DOCKER_SHOWS_B = f"""\
    {{
        "Id": "{B_ID}"
    }}"""
DOCKER_OUTPUT_A = f"[\n{_DOCKER_SHOWS_A}\n]\n".encode()
DOCKER_OUTPUT_A_B = f"[\n{_DOCKER_SHOWS_A},\n{_DOCKER_SHOWS_B}\n]\n".encode()
EMPTY_ARRAY = b"[]\n"


def body(value: object) -> bytes:
    """The body a fake daemon sends for value (json_response's)."""
    return json_response(value).body


# -- the view, rendered directly --------------------------------------------------------------

INPUTS = Path(__file__).resolve().parent / "golden" / "inputs"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# What colour looks like: rich's SGR sequences, and nothing else may start with ESC.
SGR = re.compile(r"\x1b\[[0-9;]*m")


def real(case: str) -> tuple[bytes, bytes]:
    """The test daemons' captured answers for a golden case: inspect and history."""
    return (
        (INPUTS / f"{case}.inspect.json").read_bytes(),
        (INPUTS / f"{case}.history.json").read_bytes(),
    )


def view(*images: Image, width: int = 80, color: bool = False) -> str:
    return render_view(images, width=width, color=color, now=NOW, tz=UTC)


def step_images(case: str) -> dict[str, Response]:
    """The step images a captured case's history leaves open, with as many layers as the
    test dockerd gave them (`<case>.layers.json`)."""
    counts: dict[str, int] = json.loads((INPUTS / f"{case}.layers.json").read_text())
    return {
        inspect_path(image_id): json_response(
            {"Id": image_id, "RootFS": {"Layers": [f"sha256:{n:064x}" for n in range(count)]}}
        )
        for image_id, count in counts.items()
    }


# -- archives, read directly ----------------------------------------------------------------


def read(source: str | Path, platform: str | None = None) -> dict[str, Any]:
    """The inspect object imginspect builds from the archive."""
    image = archive.read_image(parse_source(str(source)), platform)
    assert image.inspect is not None
    value = json.loads(image.inspect)
    assert isinstance(value, dict)
    return value


# -- the pipeline's answers -----------------------------------------------------------------


def read_body(answer: Answer) -> bytes:
    chunks = []
    while chunk := answer.read1(7):  # small reads: chunk and buffer edges get crossed
        chunks.append(chunk)
    return b"".join(chunks)
