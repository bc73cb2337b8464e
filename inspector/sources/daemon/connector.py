"""The one way to the daemon: a connected socket for an endpoint, and one reading of failures.

Every client of the daemon takes its socket from a Connector: requests (adapter.py), the
pipeline (pipeline.py) and TAB completion (completion.py). So connecting, and what a failure
means (a missing socket, a refusal, a reset, a timeout, a TLS check, an ssh that exited), is
said the same way whichever client met it.

A unix socket or plain TCP is opened here. TLS (tls.py) and ssh (ssh.py) are loaded only for
the endpoints that need them, and the deadline sockets (deadline.py) only by the daemon
client: a TAB imports neither ssl nor subprocess, nor even socket.py (its enums alone are a
noticeable share of a TAB), only _socket.

A connector also keeps one idle socket. A client done with a socket that is still open, with
nothing left unread on it, hands it back (park), and the next connect() takes it: /_ping,
asked through requests, and the pipelined requests after it share one connection, which over
TLS is one handshake, and over ssh one ssh process.
"""

import _socket
import sys
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from inspector.errors import DaemonError, DaemonTimeout, DaemonUnreachable
from inspector.sources.daemon.endpoint import Endpoint

# Where --debug lines go: one line each, written by the caller.
Log = Callable[[str], None]

_Socket = TypeVar("_Socket", bound=_socket.socket)


def no_log(line: str) -> None:
    """The log of a run without --debug."""


class Connector(Generic[_Socket]):
    """Sockets to one daemon over a unix socket or plain TCP, made by socket_class.

    TLS (tls.py) and ssh (ssh.py) are subclasses; the daemon client picks the one for its
    endpoint. A failure to connect is raised as the DaemonError failure() makes of it.
    """

    # The port a Host header leaves out, as http.client leaves it out.
    default_port = 80

    def __init__(
        self,
        endpoint: Endpoint,
        timeout: float,
        socket_class: Callable[[int, int, int], _Socket],
        log: Log = no_log,
        tried: tuple[Endpoint, ...] = (),
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._socket_class = socket_class
        self._log = log
        # The Podman sockets tried before this one, which a missing socket's message names.
        self._tried = tried
        self._parked: _Socket | None = None

    @property
    def host_header(self) -> str:
        """The Host header of every request, whichever client sends it."""
        if self.endpoint.scheme == "unix":
            return "localhost"
        host, _, port = self.endpoint.address.rpartition(":")
        return host if int(port) == self.default_port else self.endpoint.address

    def connect(self) -> _Socket:
        """A connected socket: the one handed back, if it is still idle, else a new one."""
        return self.reuse() or self.open()

    def reuse(self) -> _Socket | None:
        """The socket handed back (it has answered before), if it is still idle."""
        parked, self._parked = self._parked, None
        if parked is not None and not self._is_idle(parked):
            parked.close()  # the daemon closed it meanwhile (or sent what nobody asked)
            return None
        return parked

    def open(self) -> _Socket:
        """A new connection."""
        try:
            return self._open()
        except OSError as exc:
            raise self.failure(exc) from exc

    def park(self, sock: _Socket) -> None:
        """Take back a socket that is open, idle and has nothing unread, for the next client."""
        if self._parked is not None:
            self._parked.close()
        self._parked = sock

    def close(self) -> None:
        """Close the socket handed back, and release what the connector holds."""
        if self._parked is not None:
            self._parked.close()
            self._parked = None

    def failure(self, exc: BaseException) -> DaemonError:
        """The error to report for a failed request: connecting, sending or awaiting an answer."""
        if isinstance(exc, DaemonError):
            return exc
        import errno  # a failure's alone: a TAB that connects never needs it

        if any(isinstance(inner, TimeoutError) for inner in causes(exc)):
            return self.timed_out()
        explained = self._explain(exc)
        if explained is not None:
            return explained
        code = _errno_of(exc)
        endpoint = self.endpoint
        where = endpoint.host
        if code == errno.ENOENT and endpoint.scheme == "unix":
            tried = ", ".join(fallback.address for fallback in self._tried)
            return DaemonUnreachable(
                f"cannot connect to the daemon: {endpoint.address} does not exist"
                + (f", and no Podman socket answered ({tried})" if tried else "")
                + ". Is the daemon running? Set DOCKER_HOST or use --host"
            )
        if code in (errno.EACCES, errno.EPERM):
            return DaemonUnreachable(
                f"permission denied on {endpoint.address}: add your user to the group that owns "
                "the socket (usually 'docker') and log in again, or use a socket you may open"
            )
        if code == errno.ECONNREFUSED:
            return DaemonUnreachable(
                f"connection refused by {where}: is the daemon running and listening there?"
            )
        # A reset: requests sent ahead were still unread when the daemon closed the connection.
        if code in (errno.ECONNRESET, errno.EPIPE) or any(map(_is_http_error, causes(exc))):
            return DaemonUnreachable(
                f"the daemon at {where} closed the connection without answering"
            )
        return DaemonUnreachable(f"cannot connect to the daemon at {where}: {_innermost(exc)}")

    def timed_out(self) -> DaemonTimeout:
        return DaemonTimeout(
            f"the daemon at {self.endpoint.host} did not answer within {self.timeout:g}s "
            "(use --timeout to wait longer)"
        )

    def _explain(self, exc: BaseException) -> DaemonError | None:
        """A more precise error than failure()'s, when the way in knows the cause (TLS, ssh)."""
        return None

    def _open(self) -> _Socket:
        if self.endpoint.scheme == "unix":
            sock = self._socket_class(_socket.AF_UNIX, _socket.SOCK_STREAM, 0)
            try:
                sock.settimeout(self.timeout)
                sock.connect(self.endpoint.address)
            except BaseException:
                sock.close()
                raise
            return sock
        return self._open_tcp()

    def _open_tcp(self) -> _Socket:
        """As socket.create_connection: each address the name resolves to, in turn."""
        host, _, port = self.endpoint.address.rpartition(":")
        last: OSError | None = None
        for family, kind, proto, _, address in _socket.getaddrinfo(
            host.strip("[]"), int(port), 0, _socket.SOCK_STREAM
        ):
            sock = self._socket_class(family, kind, proto)
            try:
                sock.settimeout(self.timeout)
                # Requests go out as soon as they are written: the pipeline writes the next ones
                # while answers to the last are still coming.
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
                sock.connect(address)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            except BaseException:
                sock.close()
                raise
            return sock
        raise last or OSError(f"{host} has no address to connect to")

    def _is_idle(self, sock: _Socket) -> bool:
        """Nothing to read: neither the end of the connection nor bytes nobody asked for."""
        import select

        readable, _, _ = select.select([sock], [], [], 0)
        return not readable


def causes(exc: BaseException) -> Iterator[BaseException]:
    """exc and every exception wrapped inside it (requests and urllib3 nest them several deep)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))
        for linked in (getattr(current, "reason", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                todo.append(linked)


def _is_http_error(exc: BaseException) -> bool:
    """An http.client exception (the status line never came, or was not HTTP). Only the
    clients that speak HTTP through http.client's exceptions load it; a TAB does not."""
    client = sys.modules.get("http.client")
    return client is not None and isinstance(exc, client.HTTPException)


def _errno_of(exc: BaseException) -> int | None:
    for inner in causes(exc):
        if isinstance(inner, OSError) and inner.errno is not None:
            return inner.errno
    return None


def _innermost(exc: BaseException) -> str:
    for inner in causes(exc):
        if isinstance(inner, OSError) and inner.strerror:
            return inner.strerror
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
