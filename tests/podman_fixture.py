"""A real `podman system service` with fixture images built by `podman build`, as root.

Everything is private to one /tmp/imgi-podman-* directory: storage (vfs), run root, tmp dir,
and the service's socket, which sits where rootless Podman puts it relative to
XDG_RUNTIME_DIR (`<dir>/podman/podman.sock`), so the fallback can be tested by pointing
XDG_RUNTIME_DIR there. Without podman, root or a static busybox the tests skip, or fail under
IMGINSPECT_REQUIRE_DOCKER=1.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.daemon_fixture import (
    _is_static_elf,
    _which,
    pings,
    run_tool,
    skip_or_fail,
    start_service,
)

SERVICE_START_TIMEOUT = 60.0

POD_FULL = "lab-pod-full:1"
POD_TINY = "lab-pod-tiny:1"
# Podman builds OCI images by default: HEALTHCHECK is dropped (with a warning), which is one
# of the quirks the tests look at.
_FULL_CONTAINERFILE = """\
FROM scratch
COPY busybox /bin/busybox
LABEL org.opencontainers.image.title="Lab Pod" com.example.note="a <b> & c"
ENV LAB_MODE=pod LAB_EMPTY=""
EXPOSE 80/tcp 53/udp
VOLUME ["/data"]
WORKDIR /srv/app
USER 1000:1000
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s CMD ["/bin/busybox", "true"]
ENTRYPOINT ["/bin/busybox"]
CMD ["sh"]
"""
_TINY_CONTAINERFILE = "FROM scratch\nCOPY busybox /bin/busybox\n"


@dataclasses.dataclass(frozen=True)
class PodmanImages:
    full: str
    full_id: str
    tiny: str
    tiny_id: str


@dataclasses.dataclass(frozen=True)
class PodmanService:
    socket: Path
    runtime_dir: Path  # XDG_RUNTIME_DIR under which `podman/podman.sock` is the socket
    images: PodmanImages
    # The podman command line pointed at the private root, and its environment.
    command: tuple[str, ...]
    command_env: dict[str, str]

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def save(self, layout: str, path: Path, image: str | None = None) -> None:
        """`podman save --format LAYOUT -o PATH` of an image (the full one by default)."""
        image = image or self.images.full
        run_tool(
            *self.command, "save", "--format", layout, "-o", str(path), image, env=self.command_env
        )


def _podman_base(podman: str, root: Path) -> list[str]:
    return [
        podman,
        "--root",
        str(root / "storage"),
        "--runroot",
        str(root / "run"),
        "--tmpdir",
        str(root / "tmp"),
        "--storage-driver",
        "vfs",
        "--cgroup-manager",
        "cgroupfs",
        "--events-backend",
        "file",
    ]


def _build(base: list[str], env: dict[str, str], ctx: Path, file: str, tag: str) -> str:
    iidfile = ctx.parent / f"{file}.iid"
    run_tool(
        *base,
        "build",
        "--iidfile",
        str(iidfile),
        "-f",
        str(ctx / file),
        "-t",
        tag,
        str(ctx),
        env=env,
    )
    image_id = iidfile.read_text().strip()
    return image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"


@contextlib.contextmanager
def podman_service_session() -> Iterator[PodmanService]:
    podman = _which("podman", "/usr/bin/podman")
    if podman is None:
        skip_or_fail("podman is not installed (Debian package podman)")
    if os.geteuid() != 0:
        skip_or_fail("the podman tests run a private podman service as root")
    busybox = _which("busybox", "/usr/bin/busybox")
    if busybox is None or not _is_static_elf(busybox):
        skip_or_fail("a static busybox is needed for FROM scratch images (busybox-static)")

    with contextlib.ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="imgi-podman-", dir="/tmp"))
        stack.callback(shutil.rmtree, root, True)
        for name in ("storage", "run", "tmp", "xdg/podman"):
            (root / name).mkdir(parents=True)
        # Podman reads containers.conf, storage.conf and registries.conf from /etc; the flags
        # above override everything that would touch shared state.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "CONTAINERS_"))}
        env["XDG_RUNTIME_DIR"] = str(root / "xdg")
        base = _podman_base(podman, root)

        ctx = root / "ctx"
        ctx.mkdir()
        shutil.copyfile(busybox, ctx / "busybox")
        (ctx / "busybox").chmod(0o755)
        (ctx / "Containerfile.full").write_text(_FULL_CONTAINERFILE)
        (ctx / "Containerfile.tiny").write_text(_TINY_CONTAINERFILE)
        full_id = _build(base, env, ctx, "Containerfile.full", POD_FULL)
        tiny_id = _build(base, env, ctx, "Containerfile.tiny", POD_TINY)

        socket_path = root / "xdg" / "podman" / "podman.sock"
        start_service(
            "podman system service",
            [*base, "system", "service", "--time=0", f"unix://{socket_path}"],
            root / "service.log",
            stack,
            answers=lambda: pings(socket_path),
            timeout=SERVICE_START_TIMEOUT,
            grace=20.0,
            env=env,
            silent="hung",
        )

        yield PodmanService(
            socket_path,
            root / "xdg",
            PodmanImages(POD_FULL, full_id, POD_TINY, tiny_id),
            tuple(base),
            env,
        )
