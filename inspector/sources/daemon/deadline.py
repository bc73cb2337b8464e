"""One deadline per request, kept by the sockets themselves.

A socket timeout bounds each operation, so a daemon that sends a byte now and then could hold a
request for ever. Every socket the connector makes for the daemon client gives each of its
operations only the time left before the deadline of the request its thread is making:
--timeout covers connecting, the TLS handshake, the status line and headers and the body
together, whichever way the daemon is reached and whichever HTTP client asks.
"""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer


class _Deadline(threading.local):
    at: float | None = None


_DEADLINE = _Deadline()


@contextlib.contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Within this block, this thread's requests time out `seconds` from now, all told."""
    previous, _DEADLINE.at = _DEADLINE.at, time.monotonic() + seconds
    try:
        yield
    finally:
        _DEADLINE.at = previous


def wait_at_most_until_the_deadline(sock: socket.socket) -> None:
    """Give the socket's next operation the time left, or raise TimeoutError if none is."""
    at = _DEADLINE.at
    if at is None:  # not within a request: the socket keeps the timeout it has
        return
    left = at - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")  # what the socket itself raises (socket.timeout)
    sock.settimeout(left)


class DeadlineSocket(socket.socket):
    """A socket whose every wait ends at the deadline of the request being made."""

    def connect(self, address: "socket._Address") -> None:
        wait_at_most_until_the_deadline(self)
        super().connect(address)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        wait_at_most_until_the_deadline(self)
        return super().recv(bufsize, flags)

    def recv_into(self, buffer: "WriteableBuffer", nbytes: int = 0, flags: int = 0) -> int:
        wait_at_most_until_the_deadline(self)
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: "ReadableBuffer", flags: int = 0) -> int:
        wait_at_most_until_the_deadline(self)
        return super().send(data, flags)

    def sendall(self, data: "ReadableBuffer", flags: int = 0) -> None:
        wait_at_most_until_the_deadline(self)
        super().sendall(data, flags)


def under_deadline(sock: socket.socket) -> DeadlineSocket:
    """The same connected socket (its descriptor, its timeout) as a DeadlineSocket."""
    timeout = sock.gettimeout()
    bound = DeadlineSocket(sock.family, sock.type, sock.proto, sock.detach())
    bound.settimeout(timeout)
    return bound
