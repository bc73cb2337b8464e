"""A private sshd (Debian's openssh-server) on 127.0.0.1, and an ssh client set up to use it.

What is real: sshd, the ssh client, key authentication, and on the far side the docker CLI's
`docker system dial-stdio` reaching the test daemon. What is arranged for the test:

- The remote `docker` finds the test daemon through the key's line in authorized_keys:
  `environment="DOCKER_HOST=..."` (allowed by `PermitUserEnvironment yes` in this sshd's
  config), with DOCKER_CONFIG pointed at an empty directory and PATH putting docker CLI 28
  first.
- A second key's line sets `PATH=/nonexistent`: a host where `docker` is not installed.
- The client is the real ssh, reached through an `ssh` wrapper first on PATH that adds
  `-F <config>` (the throwaway key, a known_hosts file holding this sshd's key, BatchMode)
  and records each command line. ssh reads ~/.ssh from the password database, not $HOME, so
  the wrapper is the only way to leave root's own ~/.ssh alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.daemon_fixture import _free_port, _which, skip_or_fail, start_service

SSHD_START_TIMEOUT = 30.0


@dataclasses.dataclass(frozen=True)
class SSHServer:
    port: int
    user: str
    directory: Path
    # Directories to put first on PATH: the ssh wrapper for each of the client's keys.
    bin_dir: Path  # the key whose sessions reach the test daemon
    nodocker_bin_dir: Path  # the key whose sessions have no docker on PATH
    stranger_bin_dir: Path  # a key sshd does not know
    argv_log: Path  # one line per ssh started through a wrapper: its arguments, shell-quoted

    @property
    def host(self) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}"

    def started(self) -> list[list[str]]:
        """The argument lists of the ssh commands run so far; the log is then emptied."""
        if not self.argv_log.exists():
            return []
        lines = self.argv_log.read_text().splitlines()
        self.argv_log.write_text("")
        return [shlex.split(line) for line in lines if line]


def _keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path.with_suffix(".pub").read_text().strip()


def _wrapper(bin_dir: Path, ssh: str, config: Path, argv_log: Path) -> None:
    bin_dir.mkdir()
    wrapper = bin_dir / "ssh"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# Records the arguments, then runs the real ssh with this test's client config.\n"
        f"printf '%s\\n' \"$(for a in \"$@\"; do printf '%s ' \"'$a'\"; done)\" >> {argv_log}\n"
        f'exec {ssh} -F {config} "$@"\n'
    )
    wrapper.chmod(0o755)


def _client_config(path: Path, key: Path, known_hosts: Path) -> None:
    path.write_text(
        "Host *\n"
        f"  IdentityFile {key}\n"
        "  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {known_hosts}\n"
        "  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n"
        "  BatchMode yes\n"
        "  LogLevel ERROR\n"
    )


def _greets(port: int) -> bool:
    """Whether sshd on port sends its banner."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as conn:
            return conn.recv(64).startswith(b"SSH-2.0-")
    except OSError:
        return False


@contextlib.contextmanager
def sshd_session(docker_host: str, docker_cli: str) -> Iterator[SSHServer]:
    """sshd whose sessions (for the main key) run `docker` against docker_host."""
    sshd = _which("sshd", "/usr/sbin/sshd")
    ssh = _which("ssh", "/usr/bin/ssh")
    if sshd is None or ssh is None or shutil.which("ssh-keygen") is None:
        skip_or_fail("sshd, ssh and ssh-keygen are needed (Debian openssh-server)")
    if os.geteuid() != 0:
        skip_or_fail("the ssh tests run a private sshd as root")
    user = pwd.getpwuid(os.geteuid()).pw_name

    with contextlib.ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="imgi-ssh-", dir="/tmp"))
        stack.callback(shutil.rmtree, root, True)
        # sshd insists on its privilege separation directory (the package makes it at boot).
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)

        host_key = root / "host_ed25519"
        host_public = _keygen(host_key)
        keys = {name: root / f"{name}_ed25519" for name in ("client", "nodocker", "stranger")}
        public = {name: _keygen(path) for name, path in keys.items()}
        remote_config = root / "remote-docker-config"
        remote_config.mkdir()
        docker_dir = str(Path(docker_cli).parent)
        (root / "authorized_keys").write_text(
            f'environment="DOCKER_HOST={docker_host}",'
            f'environment="DOCKER_CONFIG={remote_config}",'
            f'environment="PATH={docker_dir}:/usr/bin:/bin" {public["client"]}\n'
            f'environment="PATH=/nonexistent" {public["nodocker"]}\n'
        )
        port = _free_port()
        config = root / "sshd_config"
        config.write_text(
            f"Port {port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {host_key}\n"
            "PidFile none\n"
            f"AuthorizedKeysFile {root}/authorized_keys\n"
            f"AllowUsers {user}\n"
            "PermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            # The files are in /tmp (mode 1777), which StrictModes would refuse.
            "StrictModes no\n"
            "PermitUserEnvironment yes\n"
            "X11Forwarding no\n"
            "LogLevel VERBOSE\n"
        )
        start_service(
            "sshd",
            [sshd, "-D", "-e", "-f", str(config)],
            root / "sshd.log",
            stack,
            answers=lambda: _greets(port),
            timeout=SSHD_START_TIMEOUT,
            grace=10.0,
            silent="is silent",
        )

        known_hosts = root / "known_hosts"
        known_hosts.write_text(f"[127.0.0.1]:{port} {host_public}\n")
        argv_log = root / "ssh-argv.log"
        bins = {}
        for name, key in keys.items():
            client_config = root / f"ssh_config_{name}"
            _client_config(client_config, key, known_hosts)
            bins[name] = root / f"bin-{name}"
            _wrapper(bins[name], ssh, client_config, argv_log)

        yield SSHServer(
            port,
            user,
            root,
            bins["client"],
            bins["nodocker"],
            bins["stranger"],
            argv_log,
        )
