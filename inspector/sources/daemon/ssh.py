"""ssh://: HTTP through the stdin and stdout of `ssh ... -- host docker system dial-stdio`.

docker's ssh connection helper does the same. ssh gets one end of a socket pair as its stdin and
stdout, so the clients see an ordinary socket, deadlines included; ssh's own words (what it
wrote to stderr, its exit status) say why a connection ended without an answer.

Loaded only for an ssh:// daemon: subprocess costs every other run its import.
"""

import errno
import socket
import subprocess
import tempfile
from collections.abc import Callable
from typing import IO

from inspector.errors import DaemonError, DaemonUnreachable
from inspector.sources.daemon.connector import Connector, Log, no_log
from inspector.sources.daemon.deadline import under_deadline
from inspector.sources.daemon.endpoint import Endpoint

# How long a finished ssh may take to exit on its own before it is stopped.
SSH_EXIT_GRACE = 2.0


class SSHConnector(Connector[socket.socket]):
    """Each connection is an ssh process; its socket is the other end of ssh's stdin and stdout."""

    def __init__(
        self,
        endpoint: Endpoint,
        timeout: float,
        socket_class: Callable[[int, int, int], socket.socket],
        log: Log = no_log,
        tried: tuple[Endpoint, ...] = (),
    ) -> None:
        super().__init__(endpoint, timeout, socket_class, log, tried)
        self._running: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
        self._spawn_error: OSError | None = None

    @property
    def host_header(self) -> str:
        return "docker"

    def _open(self) -> socket.socket:
        argv = ("ssh", *self.endpoint.ssh_args)
        ours, theirs = socket.socketpair()
        errors = tempfile.TemporaryFile()  # noqa: SIM115 -- open until ssh is done, see close()
        try:
            process = subprocess.Popen(
                argv, stdin=theirs.fileno(), stdout=theirs.fileno(), stderr=errors
            )
        except OSError as exc:
            ours.close()
            errors.close()
            self._spawn_error = exc
            raise
        finally:
            theirs.close()
        self._running.append((process, errors))
        self._log(f"started {' '.join(argv)} (pid {process.pid})")
        ours.settimeout(self.timeout)
        return under_deadline(ours)

    def _explain(self, exc: BaseException) -> DaemonError | None:
        where = self.endpoint.host
        if self._spawn_error is not None:
            problem = self._spawn_error
            if problem.errno == errno.ENOENT:
                return DaemonUnreachable(
                    f"cannot reach {where}: there is no ssh command on PATH (install OpenSSH's "
                    "client)"
                )
            return DaemonUnreachable(f"cannot run ssh to reach {where}: {problem.strerror}")
        if not self._running:
            return None
        process, errors = self._running[-1]
        try:  # a connection that ended without an answer: ssh has exited, or is about to
            code = process.wait(SSH_EXIT_GRACE)
        except subprocess.TimeoutExpired:
            return None
        errors.seek(0)
        said = [line.strip() for line in errors.read().decode(errors="replace").splitlines()]
        last = next((line for line in reversed(said) if line), "")
        message = f"ssh to {where} ended (exit status {code})"
        if last:
            message += f": {last}"
        if code == 127:
            message += (
                f" (is docker 18.09 or newer installed, and on the PATH of ssh sessions, on "
                f"{self.endpoint.address}?)"
            )
        return DaemonUnreachable(message)

    def close(self) -> None:
        super().close()
        for process, errors in self._running:
            # Its socket is closed: ssh sees the end of its input and exits on its own.
            try:
                process.wait(SSH_EXIT_GRACE)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(SSH_EXIT_GRACE)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            self._log(f"ssh (pid {process.pid}) exited with status {process.returncode}")
            errors.close()
        self._running.clear()
