"""A Podman service (Docker-compatible API) with one fixture image, for one test session.

Podman is not a daemon: `podman system service` serves the API on a socket for as long as
it runs. It is started as root, like dockerd in daemon_fixture, with its root, runroot, tmp
and network-config dirs in a fresh /tmp/imgi-podman-* dir and vfs storage; and it runs in
a private mount namespace whose /run and /var/lib are empty tmpfs, so the state podman keeps
in fixed places (runc's /run/runc, the blob-info cache in /var/lib/containers) stays private
too. Without podman, unshare or root the tests skip, or fail when $IMGINSPECT_REQUIRE_DOCKER=1.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.daemon_fixture import (
    COMMAND_TIMEOUT,
    DAEMON_START_TIMEOUT,
    DAEMON_STOP_TIMEOUT,
    _cleanup_dir,
    _get_status,
    _is_static_elf,
    _stop,
    _tail,
    _UnixHTTPConnection,
    _which,
    skip_or_fail,
)

IMAGE = "lab-podman:1"
# Podman names a local image with no registry `localhost/...`.
IMAGE_TAG = "localhost/lab-podman:1"
# Podman's default image format is OCI, which has no HEALTHCHECK, ONBUILD or SHELL: the
# image shows what Podman's answers look like, not every field (lab-full does that).
_CONTAINERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "mkdir", "-p", "/var/lib/lab"]
LABEL org.opencontainers.image.title="Lab Podman" org.opencontainers.image.version="1.0"
ENV LAB_MODE=podman
EXPOSE 8080/tcp
VOLUME ["/data"]
WORKDIR /srv
USER 1000:1000
ENTRYPOINT ["/bin/busybox"]
CMD ["sh"]
"""
# Runs its arguments with empty /run and /var/lib of their own (see the module docstring).
_PRIVATE_MOUNTS = (
    "mount -t tmpfs -o mode=755 imgi-run /run && "
    'mount -t tmpfs -o mode=755 imgi-varlib /var/lib && exec "$@"'
)


class _Podman:
    """The podman command line, pointed at one private root."""

    def __init__(self, podman: str, unshare: str, root: Path) -> None:
        self.root = root
        self.prefix = [
            unshare,
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            _PRIVATE_MOUNTS,
            "sh",
            podman,
            "--root",
            str(root / "storage"),
            "--runroot",
            str(root / "run"),
            "--tmpdir",
            str(root / "tmp"),
            "--network-config-dir",
            str(root / "networks"),
            "--volumepath",
            str(root / "volumes"),
            "--storage-driver",
            "vfs",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "none",
        ]
        (root / "vartmp").mkdir()
        self.env = {**os.environ, "TMPDIR": str(root / "vartmp")}

    def run(self, *args: str) -> str:
        argv = [*self.prefix, *args]
        proc = subprocess.run(
            argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace")[-4000:]
            pytest.fail(f"podman {' '.join(args)} exited {proc.returncode}:\n{err}", pytrace=False)
        return proc.stdout.decode()

    def serve(self, socket_path: Path, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as fh:
            return subprocess.Popen(
                [*self.prefix, "system", "service", "--time=0", f"unix://{socket_path}"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


@dataclasses.dataclass(frozen=True)
class PodmanService:
    host: str
    image: str
    image_id: str
    version: str
    podman: _Podman

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["DOCKER_HOST"] = self.host
        return env

    def save(self, layout: str, path: Path) -> None:
        """`podman save --format LAYOUT -o PATH` of the fixture image (PATH outside /run)."""
        self.podman.run("save", "--format", layout, "-o", str(path), self.image)


def _build(podman: _Podman, busybox: str) -> str:
    ctx = podman.root / "ctx"
    ctx.mkdir()
    shutil.copyfile(busybox, ctx / "busybox")
    (ctx / "busybox").chmod(0o755)
    (ctx / "Containerfile").write_text(_CONTAINERFILE)
    iidfile = podman.root / "iid"
    args: Sequence[str] = ("build", "--network", "none", "--iidfile", str(iidfile), "-t", IMAGE)
    podman.run(*args, "-f", str(ctx / "Containerfile"), str(ctx))
    return "sha256:" + iidfile.read_text().strip().removeprefix("sha256:")


@contextlib.contextmanager
def podman_session() -> Iterator[PodmanService]:
    """The service, answering on its socket, with lab-podman:1 built; stopped on exit."""
    podman_bin = _which("podman", "/usr/bin/podman")
    unshare = _which("unshare", "/usr/bin/unshare")
    if podman_bin is None or unshare is None or os.geteuid() != 0:
        skip_or_fail("no podman service: run as root with podman installed (Debian package podman)")
    busybox = _which("busybox", "/usr/bin/busybox")
    if busybox is None or not _is_static_elf(busybox):
        skip_or_fail("a static busybox is needed for FROM scratch images (busybox-static)")
    assert podman_bin is not None and unshare is not None and busybox is not None
    with contextlib.ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="imgi-podman-", dir="/tmp"))
        stack.callback(_cleanup_dir, root)
        podman = _Podman(podman_bin, unshare, root)
        version = podman.run("version", "--format", "{{.Client.Version}}").strip()
        image_id = _build(podman, busybox)

        socket_path = root / "podman.sock"
        log = root / "service.log"
        proc = podman.serve(socket_path, log)
        stack.callback(_stop, proc, DAEMON_STOP_TIMEOUT)
        deadline = time.monotonic() + DAEMON_START_TIMEOUT
        while _get_status(_UnixHTTPConnection(str(socket_path), timeout=2.0), "/_ping") != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                state = f"exited with {proc.returncode}" if proc.poll() is not None else "timed out"
                pytest.fail(
                    f"podman system service {state}; last lines of {log}:\n{_tail(log)}",
                    pytrace=False,
                )
            time.sleep(0.1)
        yield PodmanService(f"unix://{socket_path}", IMAGE, image_id, version, podman)
