"""bench/run, bench/registry and bench/contents, the performance measures of
docs/performance.md, still run every case on real servers."""

import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.daemon_fixture import DockerDaemon, _which, skip_or_fail
from tests.modern_daemon_fixture import SID_TOOLS_ENV, sid_tools_root

REPO = Path(__file__).resolve().parent.parent
CASES = ("F1", "F0", "1", "2", "3", "4", "5", "6", "7")
REGISTRY_CASES = ("F1", "1", "2", "3", "4")
# A measured case's row ends with its ratio (wall, cpu) against its reference and the verdict.
VERDICT = r"\d+\.\d\d +\d+\.\d\d x .* <= [\d.]+ (ok|MISSED)$"


def run_bench(
    script: str,
    cases: Sequence[str],
    measured: Sequence[str],
    docker_daemon: DockerDaemon,
    size: Sequence[str] = ("--images", "3"),
) -> str:
    """Runs script on a few images (or what size says) and runs; checks that it ran every
    case, that each measured case has a ratio and a verdict, and that its images are gone from
    the daemon. Returns what it printed."""
    done = subprocess.run(
        [sys.executable, script, *size, "--runs", "2", "--warmup", "0"],
        env={**docker_daemon.env(), SID_TOOLS_ENV: str(sid_tools_root())},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "did not run" not in done.stderr, done.stderr[-2000:]
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line[:3].strip()}
    for case in cases:
        assert case in rows, done.stdout
    for case in measured:
        assert re.search(VERDICT, rows[case]), rows[case]
    # The bench's images are the daemon's no longer: the rest of the suite sees its own.
    listed = docker_daemon.docker("image", "ls", "--format", "{{.Repository}}").stdout
    assert b"imginspect-bench" not in listed
    return done.stdout


def test_bench_run_measures_every_case_against_its_reference(docker_daemon: DockerDaemon) -> None:
    """A few images and runs only: this checks that each command runs and is compared, not
    how fast anything is (the figures are for bench/run itself, on a quiet machine)."""
    out = run_bench("bench/run", CASES, CASES[2:], docker_daemon)
    assert "peak RSS of case 4:" in out


def test_bench_registry_measures_every_case_against_its_peer(docker_daemon: DockerDaemon) -> None:
    """Three images and two runs: each case of bench/registry (the loopback registry, the
    delaying proxy, skopeo and crane) runs and is compared, whatever the figures."""
    for tool, fallback, package in (
        ("docker-registry", "/usr/bin/docker-registry", "docker-registry"),
        ("skopeo", "/usr/bin/skopeo", "skopeo"),
    ):
        if _which(tool, fallback) is None:
            skip_or_fail(f"bench/registry needs {tool} (Debian package {package})")
    crane = sid_tools_root() / "usr" / "bin" / "crane"
    if not crane.exists() and _which("crane") is None:
        skip_or_fail(f"bench/registry needs crane: run scripts/sid-tools, or set {SID_TOOLS_ENV}")
    run_bench("bench/registry", REGISTRY_CASES, REGISTRY_CASES[1:], docker_daemon)


def test_bench_contents_measures_every_case_against_tar(docker_daemon: DockerDaemon) -> None:
    """A small image and few files: each case of bench/contents (the archive against tar -tzvf,
    the daemon's image against docker save | tar -t, the many-file image) runs and is
    compared, and the memory an entry costs is said."""
    size = ("--megabytes", "4", "--many", "2000")
    out = run_bench("bench/contents", ("1", "2", "M1", "M2", "M0"), ("1", "2"), docker_daemon, size)
    for form in ("--contents", "--contents --json"):
        line = rf"memory per entry of {re.escape(form)}: (\d+ bytes|too small to measure) \("
        assert re.search(line, out), out
