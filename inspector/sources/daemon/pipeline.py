"""HTTP/1.1 pipelining on one connection: GETs sent ahead, their answers read back in order.

A daemon answers the requests of a connection one after the other (Go's net/http reads the next
request once it has answered the last). Sending the next requests before their answers come
lets the daemon work while this side reads and prints, instead of waiting a round trip per
image. Only GETs are sent, so a request whose connection is lost before its answer can be sent
again on a new one.

Answers are read here rather than by http.client, whose header parsing (the email package)
costs several times what everything else done for an image costs. Failures are http.client's
exceptions, as http.client would raise them, or OSError; how long each may take is the
socket's business (the connector's deadline sockets). The socket comes from the connector,
and goes back to it when the pipeline is done with it and it is idle.
"""

import http.client
import io
import socket
import time
from collections import deque
from typing import Protocol, cast

# As http.client: the longest status or header line, and the most headers, an answer may have.
_MAX_LINE = 65536
_MAX_HEADERS = 100
_LINE_ENDS = (b"\r\n", b"\n")
# Read the socket in large pieces: an inspect answer is a few KiB, often several in one read.
_READ_BUFFER = 65536


class BodyCut(http.client.IncompleteRead):
    """A body that ended early: how many bytes came (a count, as urllib3 keeps it) and how
    many more were due."""

    def __init__(self, got: int, expected: int) -> None:
        super().__init__(b"", expected)
        self.partial = got  # type: ignore[assignment]
        self.got = got

    def __repr__(self) -> str:
        return f"IncompleteRead({self.got} bytes read, {self.expected} more expected)"

    __str__ = __repr__


class SocketSource(Protocol):
    """Where the pipeline's connection comes from (connector.Connector), and goes back to."""

    def reuse(self) -> socket.socket | None:
        """A socket that has answered before and is still idle, if there is one."""

    def open(self) -> socket.socket:
        """A new connected socket, its timeout set."""

    def park(self, sock: socket.socket) -> None:
        """Take back a socket that is idle, with nothing unread, for the next client."""


class Answer:
    """One answer: its status and headers, read; its body, for the caller to read1() to b""."""

    __slots__ = (
        "_chunked",
        "_done",
        "_got",
        "_left",
        "_reader",
        "headers",
        "reason",
        "status",
        "will_close",
    )

    def __init__(self, reader: io.BufferedIOBase) -> None:
        self._reader = reader
        version, self.status, self.reason = _status_line(reader)
        while self.status == 100:  # skipped, as http.client does: the answer follows
            _headers(reader)
            version, self.status, self.reason = _status_line(reader)
        self.headers = _headers(reader)
        self._chunked = self.headers.get("transfer-encoding", "").strip().lower() == "chunked"
        length: int | None = None
        if not self._chunked and "content-length" in self.headers:
            try:
                length = int(self.headers["content-length"])
            except ValueError:
                length = None
            if length is not None and length < 0:
                length = None
        if self.status in (204, 304) or self.status < 200:
            length = 0
        connection = self.headers.get("connection", "").lower()
        self.will_close = (
            "close" in connection
            or (version == "HTTP/1.0" and "keep-alive" not in connection)
            or (length is None and not self._chunked)  # the body ends when the daemon closes
            # Any other 1xx: the real answer may follow, and would be taken for the next one's.
            or self.status < 200
        )
        self._left = 0 if self._chunked else length  # chunked: what is left of this chunk
        self._done = length == 0
        self._got = 0  # bytes of a Content-Length body read so far

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def read1(self, size: int) -> bytes:
        """Up to size bytes of the body, b"" at its end; IncompleteRead if the connection ends
        before the body does."""
        if self._done:
            return b""
        if self._chunked:
            return self._read1_chunked(size)
        if self._left is None:
            data = self._reader.read1(size)
            self._done = not data
            return data
        data = self._reader.read1(min(size, self._left))
        if not data:  # as http.client says it: how much came, and how much more was due
            raise BodyCut(self._got, self._left)
        self._got += len(data)
        self._left -= len(data)
        self._done = not self._left
        return data

    def _read1_chunked(self, size: int) -> bytes:
        assert self._left is not None
        if not self._left:
            line = _line(self._reader)
            try:
                self._left = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise http.client.IncompleteRead(b"") from None
            if self._left < 0:
                raise http.client.IncompleteRead(b"")
            if not self._left:  # the last chunk: trailers, if any, then a blank line
                while _line(self._reader) not in (*_LINE_ENDS, b""):
                    pass
                self._done = True
                return b""
        data = self._reader.read1(min(size, self._left))
        if not data:  # no `expected`: the connection ended in the middle of a chunk
            raise http.client.IncompleteRead(b"")
        self._left -= len(data)
        if not self._left and _line(self._reader) not in _LINE_ENDS:
            raise http.client.IncompleteRead(data)
        return data


def _line(reader: io.BufferedIOBase) -> bytes:
    line = reader.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise http.client.LineTooLong("header line")
    return line


def _status_line(reader: io.BufferedIOBase) -> tuple[str, int, str]:
    line = _line(reader)
    if not line:
        raise http.client.RemoteDisconnected("Remote end closed connection without response")
    parts = line.decode("iso-8859-1").rstrip("\r\n").split(None, 2)
    # isdigit() alone takes "²00", which int() refuses.
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isascii():
        raise http.client.BadStatusLine(repr(line))
    if not parts[1].isdigit():
        raise http.client.BadStatusLine(repr(line))
    status = int(parts[1])
    if not 100 <= status <= 999:
        raise http.client.BadStatusLine(repr(line))
    return parts[0], status, parts[2] if len(parts) > 2 else ""


def _headers(reader: io.BufferedIOBase) -> dict[str, str]:
    """The header lines up to the blank one, names in lower case; repeated names joined."""
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS + 1):
        line = _line(reader)
        if line in (*_LINE_ENDS, b""):
            return headers
        name, colon, value = line.decode("iso-8859-1").partition(":")
        if colon:
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")


class Pipeline:
    """GETs on one connection, answered in the order they were sent.

    When the daemon closes the connection after an answer (`Connection: close`) or an answer is
    abandoned half read, a new connection is made and whatever was in flight is sent again.
    """

    def __init__(self, source: SocketSource, headers: str) -> None:
        self._source = source
        self._headers = headers  # header lines, each ending in CRLF, sent with every request
        self._in_flight: deque[tuple[str, float]] = deque()
        self._socket: socket.socket | None = None
        self._reader: io.BufferedIOBase | None = None
        self._answered = 0  # answers read whole on this connection, before it came here too

    @property
    def reused(self) -> bool:
        """The connection has answered before: if it now ends without a word, the daemon
        closed it between answers (idle, or after as many as it serves on one), and what is
        in flight was not answered: asking again on a new one is safe for a GET."""
        return self._socket is not None and self._answered > 0

    @property
    def oldest(self) -> tuple[str, float]:
        """The oldest request in flight (its answer comes next), and when it was sent."""
        return self._in_flight[0]

    @property
    def idle(self) -> bool:
        """Connected, with nothing in flight: the connection can serve other requests."""
        return self._socket is not None and not self._in_flight

    def send(self, *paths: str) -> None:
        """Ask for each path, in one write; their answers come after those asked before.

        Nothing is raised here: a connection that fails shows in receive().
        """
        now = time.monotonic()
        self._in_flight.extend((path, now) for path in paths)
        if self._socket is not None:
            try:
                self._socket.sendall(b"".join(map(self._request, paths)))
            except OSError:  # gone: receive() connects again and sends what is in flight
                self.disconnect()

    def receive(self) -> tuple[str, float, Answer]:
        """The oldest request in flight, when it was sent, and its answer with the headers read.

        The caller reads the body, then calls finish().
        """
        if not self._in_flight:
            raise RuntimeError("no request in flight")
        if self._socket is None:
            self._open()
        assert self._reader is not None
        answer = Answer(self._reader)
        return *self.oldest, answer

    def finish(self, answer: Answer, *, whole: bool) -> None:
        """Done with the oldest answer; whole is False if its body was not read to the end."""
        self._in_flight.popleft()
        self._answered += 1
        if answer.will_close or not whole:
            self.disconnect()

    def close(self) -> None:
        """Stop using the connection: back to the source if nothing is in flight (its reader's
        buffer then holds nothing unread), else closed."""
        if not self.idle:
            self.disconnect()
            return
        assert self._reader is not None and self._socket is not None
        self._reader.close()  # the socket stays open
        self._source.park(self._socket)
        self._socket = self._reader = None

    def disconnect(self) -> None:
        """Drop the connection; requests still in flight go out again on the next one."""
        if self._reader is not None:
            self._reader.close()
        if self._socket is not None:
            self._socket.close()
        self._socket = self._reader = None
        self._answered = 0

    def _open(self) -> None:
        sock = self._source.reuse()
        # A socket handed back has answered whoever used it before (the /_ping).
        self._answered = 0 if sock is None else 1
        if sock is None:
            sock = self._source.open()
        self._socket = sock
        self._reader = cast(io.BufferedReader, sock.makefile("rb", buffering=_READ_BUFFER))
        again = [(path, time.monotonic()) for path, _ in self._in_flight]
        self._in_flight = deque(again)
        sock.sendall(b"".join(self._request(path) for path, _ in again))

    def _request(self, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\n{self._headers}\r\n".encode("ascii")
