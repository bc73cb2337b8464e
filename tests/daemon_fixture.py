"""A Docker daemon, a local registry and fixture images for one test session.

The daemon is $IMGINSPECT_TEST_DOCKER_HOST if set, else a private dockerd
started as root in a fresh /tmp/imgi-* dir; otherwise the tests skip, or fail
when $IMGINSPECT_REQUIRE_DOCKER=1 (CI: nothing may skip silently there).
The registry listens on 127.0.0.1, so an external daemon must run on this host.
A private dockerd also listens on tcp://127.0.0.1:<port> with TLS (client certificates
required) when openssl is there to make the certificates: `DockerDaemon.tls`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal, NoReturn

import pytest

from tests.registry_server import start_registry
from tests.tls_certs import CertSet, make_cert_set, openssl_path

HOST_ENV = "IMGINSPECT_TEST_DOCKER_HOST"
REQUIRE_ENV = "IMGINSPECT_REQUIRE_DOCKER"
NO_DAEMON_REASON = (
    "no docker daemon: set IMGINSPECT_TEST_DOCKER_HOST or run as root with dockerd installed"
)
MIN_CLI_MAJOR = 28
# Settings that would let the user's environment redirect or break the CLI.
CLEARED_ENV = ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_API_VERSION")

DAEMON_START_TIMEOUT = 60.0
DAEMON_STOP_TIMEOUT = 20.0
COMMAND_TIMEOUT = 600.0

FULL_TAGS = ("lab-full:2.4.1", "lab-full:latest", "lab-full:stable")
TINY = "lab-tiny:1"
WORKDIR = "lab-workdir:1"
HOSTILE = "lab-hostile:1"
HOSTILE_LABELS: Mapping[str, str] = {
    "evil.esc": "\x1b]0;pwned\x07",
    "evil.markup": "[link=http://evil]x[/link]",
    "evil.unicode": "héllo ☃ 漢字 \u2028 \u202e",
    "evil.quote": '"q" \\ back',
    "evil.html": "<script>&amp;</script>",
}
HOSTILE_ENV_VALUE = "\x1b[31mred"

# The classic builder spends ~1 s on every step, so instructions are merged where
# Dockerfile syntax allows; rootfs/ holds /etc/lab.conf and /srv/app/README.
_FULL_DOCKERFILE = """\
FROM scratch
SHELL ["/bin/busybox", "sh", "-c"]
COPY busybox /bin/busybox
COPY rootfs/ /
RUN ["/bin/busybox", "mkdir", "-p", "/var/lib/lab"]
LABEL org.opencontainers.image.title="Lab Full" \\
      org.opencontainers.image.version="2.4.1" \\
      org.opencontainers.image.description="imginspect fixture with every config field" \\
      maintainer="lab@example.com" \\
      com.example.note="a <b> & c"
ENV LAB_MODE=full LAB_EMPTY="" LAB_EQ=a=b=c
EXPOSE 80/tcp 53/udp 8443
VOLUME ["/data", "/var/log/lab"]
WORKDIR /srv/app
USER 1000:1000
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --timeout=5s --start-period=1m30s --retries=3 \\
  CMD ["/bin/busybox", "true"]
ENTRYPOINT ["/bin/busybox"]
CMD ["sh", "-c", "echo 'hello world'"]
ONBUILD RUN echo built
"""
_TINY_DOCKERFILE = "FROM scratch\nCOPY busybox /bin/busybox\n"
# Steps that make a layer of 0 bytes or none, which the history cannot tell apart: WORKDIR
# makes one (it creates /app), the RUN none (/bin is there). The step image after WORKDIR is
# COPY + WORKDIR, whose history does tell.
_WORKDIR_DOCKERFILE = (
    "FROM scratch\nCOPY busybox /bin/busybox\nWORKDIR /app\n"
    'RUN ["/bin/busybox", "mkdir", "-p", "/bin"]\nCMD ["/bin/busybox", "true"]\n'
)
_UNTAGGED_DOCKERFILE = "FROM scratch\nCOPY untagged.txt /untagged.txt\n"
# The raw ESC byte goes into the Dockerfile itself: there is no escape syntax for it.
_HOSTILE_DOCKERFILE = (
    f'FROM scratch\nCOPY hostile.txt /hostile.txt\nENV HOSTILE="{HOSTILE_ENV_VALUE}"\n'
)


def skip_or_fail(reason: str) -> NoReturn:
    """Skip, unless CI demands a daemon: then a missing one is an error."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason)


@dataclasses.dataclass(frozen=True)
class FixtureImages:
    full_tags: tuple[str, ...]
    full_id: str
    tiny: str
    tiny_id: str
    workdir: str
    workdir_id: str
    hostile: str
    untagged_id: str
    pushed_ref: str
    pushed_digest_ref: str
    registry: str


class DockerCommandError(subprocess.CalledProcessError):
    """CalledProcessError whose message shows the CLI's stderr."""

    def __str__(self) -> str:
        err = self.stderr if isinstance(self.stderr, bytes) else b""
        return f"{super().__str__()}\nstderr:\n{err.decode(errors='replace')[-4000:]}"


@dataclasses.dataclass(frozen=True)
class DockerCli:
    """The >= 28 CLI bound to one daemon and isolated from the user's config."""

    host: str
    cli: str
    config_dir: str

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in CLEARED_ENV:
            env.pop(name, None)
        env["DOCKER_HOST"] = self.host
        env["DOCKER_CONFIG"] = self.config_dir
        return env

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return self._run(args, check=check, extra_env={})

    def _run(
        self, args: Sequence[str], *, check: bool, extra_env: Mapping[str, str]
    ) -> subprocess.CompletedProcess[bytes]:
        argv = [self.cli, *args]
        proc = subprocess.run(
            argv,
            env={**self.env(), **extra_env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if check and proc.returncode != 0:
            raise DockerCommandError(proc.returncode, argv, proc.stdout, proc.stderr)
        return proc


@dataclasses.dataclass(frozen=True)
class TLSListener:
    """The same daemon on tcp://127.0.0.1:<port>, verifying client certificates (--tlsverify)."""

    host: str
    # ca.pem, cert.pem and key.pem for a client (a DOCKER_CERT_PATH), and the CA to issue more.
    certs: CertSet


@dataclasses.dataclass(frozen=True)
class DockerDaemon(DockerCli):
    images: FixtureImages
    tls: TLSListener | None = None


# --- discovery ---------------------------------------------------------------


# A tool the fixtures run (podman, skopeo, umoci) that takes longer has hung.
TOOL_TIMEOUT = 300.0


def run_tool(*argv: str, env: Mapping[str, str] | None = None) -> str:
    """A fixture's tool run to its end: its stdout, or the test failed with its stderr's tail."""
    done = subprocess.run(
        list(argv),
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TOOL_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(argv)} exited with {done.returncode}:\n"
            f"{done.stderr.decode(errors='replace')[-3000:]}",
            pytrace=False,
        )
    return done.stdout.decode()


def _cli_major(path: str, config_dir: str) -> int:
    # A dead DOCKER_HOST: `docker version` still prints the client version.
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    env["DOCKER_HOST"] = f"unix://{config_dir}/no-daemon.sock"
    env["DOCKER_CONFIG"] = config_dir
    try:
        out = subprocess.run(
            [path, "version", "--format", "{{.Client.Version}}"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        ).stdout
        return int(out.decode().strip().split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return -1


def find_docker_cli(config_dir: str) -> str | None:
    """First docker CLI with major version >= 28 on PATH or in the usual places."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    candidates = [Path(d, "docker") for d in dirs]
    candidates += [Path("/usr/local/bin/docker"), Path("/usr/bin/docker")]
    seen: set[Path] = set()
    for cand in candidates:
        path = cand.absolute()
        real = path.resolve()
        # os.access first: is_file() raises on dirs we may not search (non-root).
        if real in seen or not os.access(real, os.X_OK) or not real.is_file():
            continue
        seen.add(real)
        if _cli_major(str(path), config_dir) >= MIN_CLI_MAJOR:
            return str(path)
    return None


def _which(name: str, *fallbacks: str) -> str | None:
    found = shutil.which(name)
    if found:
        return str(Path(found).absolute())
    return next((f for f in fallbacks if os.access(f, os.X_OK)), None)


def _is_static_elf(path: str) -> bool:
    """True unless the ELF file asks for a dynamic loader (FROM scratch has none)."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF":
        return False
    is64 = data[4] == 2
    order: Literal["little", "big"] = "little" if data[5] == 1 else "big"

    def num(off: int, size: int) -> int:
        return int.from_bytes(data[off : off + size], order)

    phoff = num(0x20, 8) if is64 else num(0x1C, 4)
    phentsize, phnum = (num(0x36, 2), num(0x38, 2)) if is64 else (num(0x2A, 2), num(0x2C, 2))
    pt_interp = 3
    return all(num(phoff + i * phentsize, 4) != pt_interp for i in range(phnum))


# --- processes ---------------------------------------------------------------


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._unix_path)
        self.sock = sock


def _get_status(conn: http.client.HTTPConnection, path: str) -> int:
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):
        return -1
    finally:
        conn.close()


def pings(socket_path: Path) -> bool:
    """Whether a daemon (dockerd, podman's service) answers /_ping on its unix socket."""
    return _get_status(_UnixHTTPConnection(str(socket_path), timeout=2.0), "/_ping") == 200


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_service(
    name: str,
    argv: Sequence[str],
    log: Path,
    stack: contextlib.ExitStack,
    *,
    answers: Callable[[], bool],
    timeout: float,
    grace: float,
    env: Mapping[str, str] | None = None,
    silent: str = "timed out",
) -> subprocess.Popen[bytes]:
    """argv with its output in log, stopped (SIGTERM, then after grace SIGKILL) when stack
    closes; returned once answers() is true. Fails the test with the log's last lines if it
    exits first, or is still `silent` after timeout seconds."""
    with log.open("wb") as fh:
        # Own session: a Ctrl-C on pytest must not kill the server before teardown.
        proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack.callback(_stop, proc, grace)
    deadline = time.monotonic() + timeout
    while not answers():
        if proc.poll() is not None or time.monotonic() > deadline:
            state = f"exited with {proc.returncode}" if proc.poll() is not None else silent
            pytest.fail(f"{name} {state}; last lines of {log}:\n{_tail(log)}", pytrace=False)
        time.sleep(0.1)
    return proc


def _pids_using(root: Path) -> list[int]:
    """Live processes naming our exec-root: dockerd's managed containerd and its shims."""
    needle = str(root / "exec").encode() + b"/"
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "cmdline").read_bytes():
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    pids.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return pids


def _cleanup_dir(root: Path) -> None:
    # dockerd normally stops its containerd; a SIGKILLed one leaves it behind.
    for sig, pause in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 1.0)):
        pids = _pids_using(root)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + pause
        while pids and _pids_using(root) and time.monotonic() < deadline:
            time.sleep(0.1)
    # Never rmtree through a mount that still points elsewhere.
    prefix = str(root) + "/"
    mounts = [
        line.split()[4]
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if line.split()[4].startswith(prefix)
    ]
    for mount in sorted(mounts, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True, check=False)
    shutil.rmtree(root, ignore_errors=True)


def _start_dockerd(
    dockerd: str,
    root: Path,
    stack: contextlib.ExitStack,
    tls: TLSListener | None = None,
    *,
    storage_driver: str = "vfs",
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> str:
    sock = root / "docker.sock"
    if len(str(sock).encode()) >= 108:
        pytest.fail(f"unix socket path too long: {sock}", pytrace=False)
    log = root / "dockerd.log"
    argv = [
        dockerd,
        "--host",
        f"unix://{sock}",
        "--data-root",
        str(root / "data"),
        "--exec-root",
        str(root / "exec"),
        "--pidfile",
        str(root / "pid"),
        f"--storage-driver={storage_driver}",
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
    ]
    if tls is not None:
        argv += [
            "--host",
            tls.host,
            "--tlsverify",
            "--tlscacert",
            str(tls.certs.ca.cert),
            "--tlscert",
            str(tls.certs.server.cert),
            "--tlskey",
            str(tls.certs.server.key),
        ]
    argv += extra_args
    start_service(
        "dockerd",
        argv,
        log,
        stack,
        answers=lambda: pings(sock),
        timeout=DAEMON_START_TIMEOUT,
        grace=DAEMON_STOP_TIMEOUT,
        env=env,
    )
    return f"unix://{sock}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- images ------------------------------------------------------------------


def _inspect(cli: DockerCli, ref: str) -> dict[str, object]:
    data: object = json.loads(cli.docker("image", "inspect", ref).stdout)
    if not (isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict)):
        raise AssertionError(f"unexpected `docker image inspect {ref}` output: {data!r}")
    return {str(k): v for k, v in data[0].items()}


def _build(
    cli: DockerCli,
    ctx: Path,
    dockerfile: str,
    tags: Sequence[str],
    labels: Mapping[str, str] | None = None,
) -> str:
    # Outside the context: the parallel builds tar it while others write their iidfile.
    iidfile = ctx.parent / f"{dockerfile}.iid"
    args = ["build", "--network=none", "--iidfile", str(iidfile), "-f", str(ctx / dockerfile)]
    for tag in tags:
        args += ["-t", tag]
    for key, value in (labels or {}).items():
        args += ["--label", f"{key}={value}"]
    # No buildx here: ask for the classic builder rather than relying on the fallback.
    cli._run([*args, str(ctx)], check=True, extra_env={"DOCKER_BUILDKIT": "0"})
    image_id = iidfile.read_text().strip()
    if not image_id.startswith("sha256:"):
        raise AssertionError(f"bad image id {image_id!r} from building {dockerfile}")
    return image_id


def build_fixture_images(
    cli: DockerCli, workdir: Path, registry: str, busybox: str
) -> FixtureImages:
    ctx = workdir / "ctx"
    ctx.mkdir()
    shutil.copyfile(busybox, ctx / "busybox")
    (ctx / "busybox").chmod(0o755)
    (ctx / "rootfs/etc").mkdir(parents=True)
    (ctx / "rootfs/srv/app").mkdir(parents=True)
    (ctx / "rootfs/etc/lab.conf").write_text("mode = full\n")
    (ctx / "rootfs/srv/app/README").write_text("Lab Full: imginspect fixture image\n")
    (ctx / "untagged.txt").write_text("untagged imginspect fixture\n")
    (ctx / "hostile.txt").write_text("hostile imginspect fixture\n")
    for name, text in (
        ("Dockerfile.full", _FULL_DOCKERFILE),
        ("Dockerfile.tiny", _TINY_DOCKERFILE),
        ("Dockerfile.workdir", _WORKDIR_DOCKERFILE),
        ("Dockerfile.untagged", _UNTAGGED_DOCKERFILE),
        ("Dockerfile.hostile", _HOSTILE_DOCKERFILE),
    ):
        (ctx / name).write_text(text)

    # Builds mostly wait on the classic builder's per-step pause: run them side by side.
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        full = pool.submit(_build, cli, ctx, "Dockerfile.full", FULL_TAGS)
        tiny = pool.submit(_build, cli, ctx, "Dockerfile.tiny", (TINY,))
        workdir_build = pool.submit(_build, cli, ctx, "Dockerfile.workdir", (WORKDIR,))
        untagged = pool.submit(_build, cli, ctx, "Dockerfile.untagged", ())
        hostile = pool.submit(_build, cli, ctx, "Dockerfile.hostile", (HOSTILE,), HOSTILE_LABELS)
        full_id, tiny_id, untagged_id = full.result(), tiny.result(), untagged.result()
        workdir_id = workdir_build.result()
        hostile.result()

    if _inspect(cli, untagged_id).get("RepoTags"):
        raise AssertionError(f"{untagged_id} should be untagged")
    config = _inspect(cli, HOSTILE).get("Config")
    labels = config.get("Labels") if isinstance(config, dict) else None
    env = config.get("Env") if isinstance(config, dict) else None
    if labels != dict(HOSTILE_LABELS) or f"HOSTILE={HOSTILE_ENV_VALUE}" not in (env or []):
        raise AssertionError(f"{HOSTILE} lost raw bytes: labels={labels!r} env={env!r}")

    pushed_ref = f"{registry}/lab/pushed:1"
    cli.docker("tag", TINY, pushed_ref)
    cli.docker("push", pushed_ref)
    repo_digests = _inspect(cli, pushed_ref).get("RepoDigests")
    prefix = f"{registry}/lab/pushed@sha256:"
    digests = repo_digests if isinstance(repo_digests, list) else []
    digest_refs = [d for d in digests if isinstance(d, str) and d.startswith(prefix)]
    if not digest_refs:
        raise AssertionError(f"no {prefix}* in RepoDigests of {pushed_ref}: {repo_digests!r}")

    return FixtureImages(
        full_tags=FULL_TAGS,
        full_id=full_id,
        tiny=TINY,
        tiny_id=tiny_id,
        workdir=WORKDIR,
        workdir_id=workdir_id,
        hostile=HOSTILE,
        untagged_id=untagged_id,
        pushed_ref=pushed_ref,
        pushed_digest_ref=digest_refs[0],
        registry=registry,
    )


# --- the session -------------------------------------------------------------


@contextlib.contextmanager
def docker_daemon_session() -> Iterator[DockerDaemon]:
    """Daemon + registry + images; everything started here is stopped on exit."""
    with contextlib.ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="imgi-", dir="/tmp"))
        stack.callback(_cleanup_dir, root)
        config_dir = root / "config"
        config_dir.mkdir()

        cli_path = find_docker_cli(str(config_dir))
        if cli_path is None:
            skip_or_fail(
                f"no docker CLI >= {MIN_CLI_MAJOR} found on PATH or in /usr/local/bin, /usr/bin"
            )
        external = os.environ.get(HOST_ENV)
        dockerd = _which("dockerd", "/usr/sbin/dockerd")
        if not external and (dockerd is None or os.geteuid() != 0):
            skip_or_fail(NO_DAEMON_REASON)
        registry_bin = _which("docker-registry", "/usr/bin/docker-registry")
        if registry_bin is None:
            skip_or_fail("docker-registry not installed (Debian package docker-registry)")
        busybox = _which("busybox", "/usr/bin/busybox")
        if busybox is None or not _is_static_elf(busybox):
            skip_or_fail("a static busybox is needed for FROM scratch images (busybox-static)")

        tls = None
        if external:
            host = external
            probe = DockerCli(host, cli_path, str(config_dir)).docker("version", check=False)
            if probe.returncode != 0:
                pytest.fail(
                    f"{HOST_ENV}={host} does not answer:\n{probe.stderr.decode(errors='replace')}",
                    pytrace=False,
                )
        else:
            assert dockerd is not None
            if openssl_path() is not None:
                tls = TLSListener(f"tcp://127.0.0.1:{_free_port()}", make_cert_set(root / "tls"))
            host = _start_dockerd(dockerd, root, stack, tls)
        registry = start_registry(registry_bin, root / "registry", stack).address
        cli = DockerCli(host, cli_path, str(config_dir))
        images = build_fixture_images(cli, root, registry, busybox)
        yield DockerDaemon(host, cli_path, str(config_dir), images, tls)
