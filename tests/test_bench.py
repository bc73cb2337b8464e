"""bench/run, the README's performance measure, still runs every case on a real daemon."""

import re
import subprocess
import sys
from pathlib import Path

from tests.daemon_fixture import DockerDaemon

REPO = Path(__file__).resolve().parent.parent
CASES = ("F1", "F0", "1", "2", "3", "4", "5", "6", "7")


def test_bench_run_measures_every_case_against_its_reference(docker_daemon: DockerDaemon) -> None:
    """A few images and runs only: this checks that each command runs and is compared, not
    how fast anything is (the figures are for bench/run itself, on a quiet machine)."""
    done = subprocess.run(
        [sys.executable, "bench/run", "--images", "3", "--runs", "2", "--warmup", "0"],
        env=docker_daemon.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "did not run" not in done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line[:3].strip()}
    for case in CASES:
        assert case in rows, done.stdout
    for case in CASES[2:]:  # each measured case has a ratio and a verdict on its target
        verdict = r"\d+\.\d\d +\d+\.\d\d x .* <= [\d.]+ (ok|MISSED)$"
        assert re.search(verdict, rows[case]), rows[case]
    assert "peak RSS of case 4:" in done.stdout
    # The bench's images are the daemon's no longer: the rest of the suite sees its own.
    listed = docker_daemon.docker("image", "ls", "--format", "{{.Repository}}").stdout
    assert b"imginspect-bench" not in listed
