"""Running the command with its wall time and peak memory measured, for the tests that bound
them.

The peak RSS comes from wait4() in a small runner process (`python -I -S`), as in
bench/benchlib.py: Linux carries a parent's peak over fork and exec, so a command started
straight from pytest would report at least pytest's own memory. The runner kills the command
when its time is up, so that a hang fails the test instead of hanging it.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.helpers import REPO, Run

MIB = 1024 * 1024

_RUNNER = r"""
import json, os, signal, sys, time
argv, env, stdout, stderr, timeout = json.loads(sys.argv[1])
actions = [
    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
    (os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_TRUNC, 0),
    (os.POSIX_SPAWN_OPEN, 2, stderr, os.O_WRONLY | os.O_TRUNC, 0),
]
start = time.monotonic()
pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
timed_out = False
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    if time.monotonic() - start > timeout:
        timed_out = True
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.005)
seconds = time.monotonic() - start
code = -1 if timed_out else os.waitstatus_to_exitcode(status)
print(json.dumps([code, seconds, usage.ru_maxrss * 1024, timed_out]))
"""


@dataclasses.dataclass(frozen=True)
class Measured:
    run: Run
    seconds: float
    peak_rss: int  # bytes
    timed_out: bool


def measured_cli(*args: str, env: Mapping[str, str], timeout: float) -> Measured:
    """`python -m inspector ARGS` in env, from the repository, measured."""
    return measured([sys.executable, "-m", "inspector", *args], env=env, timeout=timeout)


def measured(argv: Sequence[str], *, env: Mapping[str, str], timeout: float) -> Measured:
    with tempfile.TemporaryDirectory(prefix="imgi-measure-") as scratch:
        stdout, stderr = Path(scratch, "stdout"), Path(scratch, "stderr")
        stdout.touch()
        stderr.touch()
        job = [list(argv), {**env, "PYTHONPATH": str(REPO)}, str(stdout), str(stderr), timeout]
        answer = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _RUNNER, json.dumps(job)],
            capture_output=True,
            text=True,
            timeout=timeout + 30,
            check=True,
        ).stdout
        code, seconds, rss, timed_out = json.loads(answer)
        run = Run(int(code), stdout.read_bytes(), stderr.read_text(errors="replace"))
    return Measured(run, float(seconds), int(rss), bool(timed_out))
