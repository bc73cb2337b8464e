"""ssh://: through a real sshd on 127.0.0.1 whose `docker system dial-stdio` reaches the test
daemon (see tests/ssh_fixture.py for what is real and what is arranged), with docker CLI 28
going the same way as the oracle.
"""

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from inspector.sources.daemon.ssh import SSH_EXIT_GRACE
from tests.daemon_fixture import DockerDaemon
from tests.fake_daemon import FakeDaemon, Response, inspect_path, json_response, ping
from tests.helpers import (
    IMAGE_A,
    STARTUP_ALLOWANCE,
    Run,
    cli_env,
    the_error_line,
)
from tests.ssh_fixture import SSHServer, sshd_session

RUN_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def sshd(docker_daemon: DockerDaemon) -> Iterator[SSHServer]:
    with sshd_session(docker_daemon.host, docker_daemon.cli) as server:
        yield server


def env_for(
    bin_dir: Path | None, config_dir: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = cli_env(None, {"DOCKER_CONFIG": str(config_dir), **(extra or {})})
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def run(argv: Sequence[str], env: Mapping[str, str]) -> Run:
    done = subprocess.run(
        list(argv),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr.decode(errors="replace"))


def imginspect(*args: str) -> list[str]:
    """The command with --json: these tests compare the daemon's bytes, not the view."""
    return [sys.executable, "-m", "inspector", "--json", *args]


def ssh_processes_of(sshd: SSHServer) -> list[str]:
    """Live processes whose command line names this test's ssh config: none may outlive a run."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(sshd.directory).encode() + b"/ssh_config" in cmdline and b"sshd" not in cmdline:
                found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


# -- the daemon is reached, as docker reaches it ------------------------------------------------


def test_json_over_ssh_is_the_same_as_over_the_socket_and_as_dockers(
    docker_daemon: DockerDaemon, sshd: SSHServer, tmp_path: Path
) -> None:
    images = docker_daemon.images
    names = [images.full_tags[0], images.tiny, images.hostile, "lab-missing:1", images.untagged_id]
    env = env_for(sshd.bin_dir, tmp_path, {"DOCKER_HOST": sshd.host})
    sshd.started()

    docker = run([docker_daemon.cli, "image", "inspect", *names], env)
    docker_started = sshd.started()
    ours = run(imginspect(*names), env)
    ours_started = sshd.started()
    over_unix = run(imginspect(*names), docker_daemon.env())

    assert docker.code == 1 and docker.stdout.startswith(b"[\n"), docker.stderr
    assert (ours.code, ours.stdout, ours.stderr) == (1, docker.stdout, over_unix.stderr)
    assert ours.stdout == over_unix.stdout
    # The same ssh command line as docker's; and one ssh for all the images.
    assert ours_started == docker_started[:1]
    assert ours_started == [
        ["-o ConnectTimeout=30", "-T", "-l", sshd.user, "-p", str(sshd.port), "--",
         "127.0.0.1", "docker", "system", "dial-stdio"],
    ]  # fmt: skip
    assert ssh_processes_of(sshd) == []


def test_a_socket_path_in_the_url_is_the_remote_dockers_host(
    docker_daemon: DockerDaemon, sshd: SSHServer, tmp_path: Path
) -> None:
    socket_path = docker_daemon.host.removeprefix("unix://")
    url = f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{socket_path}"
    # This key's sessions have no DOCKER_HOST: only the path in the URL leads to the daemon.
    env = env_for(sshd.bin_dir, tmp_path, {"DOCKER_HOST": url})
    sshd.started()

    docker = run([docker_daemon.cli, "image", "inspect", docker_daemon.images.tiny], env)
    docker_started = sshd.started()
    ours = run(imginspect("--json", docker_daemon.images.tiny), env)

    assert docker.code == 0, docker.stderr
    assert (ours.code, ours.stdout, ours.stderr) == (0, docker.stdout, "")
    assert sshd.started() == docker_started[:1]
    assert docker_started[0][-4:] == ["--host", f"unix://{socket_path}", "system", "dial-stdio"]


def test_an_ssh_context_made_by_docker_context_create(
    docker_daemon: DockerDaemon, sshd: SSHServer, tmp_path: Path
) -> None:
    env = env_for(sshd.bin_dir, tmp_path)
    created = run(
        [docker_daemon.cli, "context", "create", "remote", "--docker", f"host={sshd.host}"], env
    )
    assert created.code == 0, created.stderr
    image = docker_daemon.images.full_tags[0]

    docker = run([docker_daemon.cli, "--context", "remote", "image", "inspect", image], env)
    ours = run(imginspect("--context", "remote", image), env)

    assert docker.code == 0, docker.stderr
    assert (ours.code, ours.stdout, ours.stderr) == (0, docker.stdout, "")


def test_debug_shows_the_ssh_command_and_its_exit(
    docker_daemon: DockerDaemon, sshd: SSHServer, tmp_path: Path
) -> None:
    env = env_for(sshd.bin_dir, tmp_path, {"DOCKER_HOST": sshd.host})

    ours = run(imginspect("--debug", docker_daemon.images.tiny), env)

    assert ours.code == 0
    assert f"debug: daemon {sshd.host}: chosen by DOCKER_HOST=" in ours.stderr
    assert (
        f"debug: started ssh -o ConnectTimeout=30 -T -l {sshd.user} -p {sshd.port} -- 127.0.0.1 "
        "docker system dial-stdio (pid "
    ) in ours.stderr
    assert "debug: API version 1.41: the daemon offers 1.41" in ours.stderr
    assert "exited with status 0" in ours.stderr.splitlines()[-1]


# -- and when it cannot be, ssh's own words say why ---------------------------------------------


def test_a_key_the_server_does_not_accept_exits_3_with_sshs_message(
    docker_daemon: DockerDaemon, sshd: SSHServer, tmp_path: Path
) -> None:
    env = env_for(sshd.stranger_bin_dir, tmp_path, {"DOCKER_HOST": sshd.host})

    docker = run([docker_daemon.cli, "image", "inspect", "x"], env)
    ours = run(imginspect("x"), env)

    assert docker.code != 0 and "Permission denied (publickey)" in docker.stderr
    assert ours.code == 3
    assert the_error_line(ours) == (
        f"Error: ssh to {sshd.host} ended (exit status 255): "
        f"{sshd.user}@127.0.0.1: Permission denied (publickey)."
    )
    assert ours.stdout == docker.stdout
    assert ssh_processes_of(sshd) == []


def test_no_sshd_listening_exits_3_with_sshs_message(sshd: SSHServer, tmp_path: Path) -> None:
    from tests.daemon_fixture import _free_port

    port = _free_port()
    env = env_for(sshd.bin_dir, tmp_path, {"DOCKER_HOST": f"ssh://127.0.0.1:{port}"})

    ours = run(imginspect("x"), env)

    assert ours.code == 3
    assert the_error_line(ours) == (
        f"Error: ssh to ssh://127.0.0.1:{port} ended (exit status 255): "
        f"ssh: connect to host 127.0.0.1 port {port}: Connection refused"
    )


def test_no_docker_on_the_remote_host_exits_3_and_says_so(
    docker_daemon: DockerDaemon, sshd: SSHServer, tmp_path: Path
) -> None:
    env = env_for(sshd.nodocker_bin_dir, tmp_path, {"DOCKER_HOST": sshd.host})

    docker = run([docker_daemon.cli, "image", "inspect", "x"], env)
    ours = run(imginspect("x"), env)

    assert docker.code != 0
    assert ours.code == 3
    line = the_error_line(ours)
    assert line.startswith(f"Error: ssh to {sshd.host} ended (exit status 127): ")
    assert "docker: not found" in line or "docker: command not found" in line
    assert "is docker 18.09 or newer installed" in line


def test_a_remote_daemon_that_does_not_answer_exits_3_with_the_remote_dockers_message(
    docker_daemon: DockerDaemon, sshd: SSHServer, tmp_path: Path
) -> None:
    url = f"{sshd.host}/nonexistent/docker.sock"
    env = env_for(sshd.bin_dir, tmp_path, {"DOCKER_HOST": url})

    ours = run(imginspect("x"), env)

    assert ours.code == 3
    line = the_error_line(ours)
    assert line.startswith(f"Error: ssh to {url} ended (exit status 1): ")
    assert "/nonexistent/docker.sock" in line


def test_headers_dribbled_through_ssh_are_cut_off_by_the_timeout(
    sshd: SSHServer, tmp_path: Path
) -> None:
    """The remote dial-stdio reaches a fake daemon whose answer's head comes a byte at a time."""
    answer = Response(200, json_response(IMAGE_A).body, header_pace=0.2)
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): answer}) as fake:
        url = f"{sshd.host}{fake.socket_path}"
        env = env_for(sshd.bin_dir, tmp_path, {"DOCKER_HOST": url})
        started = time.monotonic()
        ours = run(imginspect("--timeout", "3", "a"), env)
        elapsed = time.monotonic() - started
        paths = fake.paths

    assert ours.code == 3
    assert "did not answer within 3s" in the_error_line(ours)
    assert ours.stdout == b"[]\n"
    assert paths[-1] == inspect_path("a")  # (the remote docker CLI pings first, too)
    # ssh's own start, and its exit once its socket is closed (SSH_EXIT_GRACE), come on top.
    assert elapsed < 3 + STARTUP_ALLOWANCE + SSH_EXIT_GRACE


def test_no_ssh_command_exits_3_and_says_so(sshd: SSHServer, tmp_path: Path) -> None:
    env = env_for(None, tmp_path, {"DOCKER_HOST": sshd.host, "PATH": str(tmp_path)})

    ours = run(imginspect("x"), env)

    assert ours.code == 3
    assert the_error_line(ours) == (
        f"Error: cannot reach {sshd.host}: there is no ssh command on PATH (install OpenSSH's "
        "client)"
    )
