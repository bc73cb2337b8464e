"""A modern dockerd (28.x, from Debian sid) beside the suite's 20.10 one, as root.

Debian stable ships dockerd 20.10; the registry source must answer as docker 28 does, so the
tests also run docker 28's daemon, unpacked from sid's packages by `scripts/sid-tools` into
$IMGINSPECT_SID_TOOLS (default /var/cache/imginspect-sid), never installed. Two set-ups:

- `classic`: the graph-driver image store (vfs), what `docker pull` gives on most machines;
- `containerd`: the containerd image store (`features.containerd-snapshotter`, the `native`
  snapshotter), where a pull keeps the whole index and its attestations.

Each daemon has its own containerd 2.x, started here on a private socket and state, so that
neither a system containerd (which dockerd would otherwise adopt at
/run/containerd/containerd.sock) nor the 20.10 daemon's one is shared. Everything lives in one
/tmp/imgi-modern-* directory. Without the tools or root the tests skip, or fail under
IMGINSPECT_REQUIRE_DOCKER=1.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from tests.daemon_fixture import (
    DockerCli,
    _cleanup_dir,
    _start_dockerd,
    _which,
    find_docker_cli,
    skip_or_fail,
    start_service,
)

SID_TOOLS_ENV = "IMGINSPECT_SID_TOOLS"
DEFAULT_SID_TOOLS = "/var/cache/imginspect-sid"
# What the tests run from the tree; scripts/sid-tools checks for the same files.
SID_BINARIES = (
    "usr/sbin/dockerd",
    "usr/bin/containerd",
    "usr/bin/containerd-shim-runc-v2",
    "usr/bin/crane",
)
# The oldest daemon the modern tests accept: docker 28.5 speaks API 1.51.
MIN_MODERN_VERSION = (28, 5)
MIN_MODERN_API = (1, 51)

CONTAINERD_START_TIMEOUT = 30.0
ImageStore = Literal["classic", "containerd"]


@dataclasses.dataclass(frozen=True)
class SidTools:
    """The unpacked sid packages: `root/usr/sbin/dockerd` and the rest."""

    root: Path

    def binary(self, name: str) -> Path:
        for directory in ("usr/bin", "usr/sbin"):
            path = self.root / directory / name
            if os.access(path, os.X_OK):
                return path
        raise FileNotFoundError(f"{name} is not in {self.root}/usr/bin or usr/sbin")

    @property
    def crane(self) -> Path:
        return self.binary("crane")


def sid_tools_root() -> Path:
    return Path(os.environ.get(SID_TOOLS_ENV) or DEFAULT_SID_TOOLS)


def find_sid_tools() -> SidTools | None:
    root = sid_tools_root()
    if all(os.access(root / binary, os.X_OK) for binary in SID_BINARIES):
        return SidTools(root)
    return None


def require_sid_tools() -> SidTools:
    tools = find_sid_tools()
    if tools is None:
        skip_or_fail(
            f"no docker 28 tools in {sid_tools_root()} (run scripts/sid-tools, "
            f"or set {SID_TOOLS_ENV} to where they are)"
        )
    return tools


@dataclasses.dataclass(frozen=True)
class ModernDaemon(DockerCli):
    """dockerd 28 and the docker CLI 28 that drives it (`docker()`, `env()` from DockerCli)."""

    image_store: ImageStore
    # What the daemon says of itself: `docker version`'s Server.Version and APIVersion.
    version: str
    api_version: str
    root: Path
    tools: SidTools


def _runs(binary: Path) -> bool:
    """Whether binary starts on this machine: sid builds may need a newer glibc than stable's."""
    try:
        proc = subprocess.run(
            [str(binary), "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return proc.returncode == 0


def _path_with_tools(tools: SidTools, bin_dir: Path) -> str:
    """sid's binaries first (containerd 2, its shim, docker-proxy), so that dockerd 28 never
    runs the system's; bin_dir before them for the ones sid builds that do not run here.

    sid's runc needs glibc 2.38, which Debian stable lacks, and sid's docker-init points at a
    tini-static from another package: the system's runc and docker-init stand in for them.
    Pulls, inspects and the differential tests never run a container.
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, fallback in (("runc", "/usr/sbin/runc"), ("docker-init", "/usr/bin/docker-init")):
        sid = tools.root / "usr/sbin" / name
        if not sid.exists():
            sid = tools.root / "usr/bin" / name
        if not _runs(sid):
            system = _which(name, fallback)
            if system is not None:
                (bin_dir / name).symlink_to(system)
    dirs = [str(bin_dir), str(tools.root / "usr/bin"), str(tools.root / "usr/sbin")]
    return os.pathsep.join([*dirs, os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")])


def _containerd_config(state: Path, data: Path) -> str:
    # The CRI plugins would look for CNI, and NRI listens on a socket of its own under
    # /var/run: neither serves docker, and a socket shared between daemons would clash.
    return (
        "version = 3\n"
        f"root = {json.dumps(str(data))}\n"
        f"state = {json.dumps(str(state / 'daemon'))}\n"
        "disabled_plugins = [\n"
        '  "io.containerd.grpc.v1.cri",\n'
        '  "io.containerd.cri.v1.images",\n'
        '  "io.containerd.cri.v1.runtime",\n'
        '  "io.containerd.nri.v1.nri",\n'
        "]\n"
        "[grpc]\n"
        f"  address = {json.dumps(str(state / 'containerd.sock'))}\n"
        "[ttrpc]\n"
        f"  address = {json.dumps(str(state / 'containerd.sock.ttrpc'))}\n"
        "[debug]\n"
        '  address = ""\n'
        "[metrics]\n"
        '  address = ""\n'
    )


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
        return True


def _start_containerd(
    tools: SidTools, root: Path, env: dict[str, str], stack: contextlib.ExitStack
) -> Path:
    """containerd 2 on a private socket; under root/exec, so that _cleanup_dir finds it."""
    state = root / "exec" / "containerd"
    state.mkdir(parents=True)
    config = state / "containerd.toml"
    config.write_text(_containerd_config(state, root / "data" / "containerd"))
    address = state / "containerd.sock"
    start_service(
        "containerd",
        [str(tools.binary("containerd")), "--config", str(config)],
        root / "containerd.log",
        stack,
        answers=lambda: _answers(address),
        timeout=CONTAINERD_START_TIMEOUT,
        grace=20.0,
        env=env,
    )
    return address


def _version_tuple(text: str) -> tuple[int, ...]:
    numbers = []
    for part in text.split("+")[0].split("-")[0].split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers)


@contextlib.contextmanager
def modern_daemon_session(image_store: ImageStore = "classic") -> Iterator[ModernDaemon]:
    """dockerd 28 with its own containerd, in a fresh /tmp/imgi-modern-* directory."""
    tools = require_sid_tools()
    if os.geteuid() != 0:
        skip_or_fail("the modern dockerd runs as root")
    with contextlib.ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="imgi-modern-", dir="/tmp"))
        stack.callback(_cleanup_dir, root)
        config_dir = root / "config"
        config_dir.mkdir()
        cli = find_docker_cli(str(config_dir))
        if cli is None:
            skip_or_fail("no docker CLI >= 28 found on PATH or in /usr/local/bin, /usr/bin")

        env = {**os.environ, "PATH": _path_with_tools(tools, root / "bin")}
        containerd = _start_containerd(tools, root, env, stack)
        # A config file of its own: /etc/docker/daemon.json belongs to the machine.
        daemon_config: dict[str, object] = {}
        storage_driver = "vfs"
        if image_store == "containerd":
            daemon_config = {"features": {"containerd-snapshotter": True}}
            storage_driver = "native"
        config_file = root / "daemon.json"
        config_file.write_text(json.dumps(daemon_config))
        host = _start_dockerd(
            str(tools.binary("dockerd")),
            root,
            stack,
            storage_driver=storage_driver,
            extra_args=(
                f"--config-file={config_file}",
                f"--containerd={containerd}",
            ),
            env=env,
        )
        driver = DockerCli(host, cli, str(config_dir))
        answer = driver.docker("version", "--format", "{{json .Server}}").stdout
        server = json.loads(answer)
        version, api = str(server.get("Version", "")), str(server.get("ApiVersion", ""))
        if _version_tuple(version) < MIN_MODERN_VERSION or _version_tuple(api) < MIN_MODERN_API:
            pytest.fail(
                f"{tools.binary('dockerd')} is docker {version} (API {api}); the modern tests "
                f"need {'.'.join(map(str, MIN_MODERN_VERSION))} or newer",
                pytrace=False,
            )
        yield ModernDaemon(host, cli, str(config_dir), image_store, version, api, root, tools)
