"""A scripted Docker-compatible daemon for tests: real sockets, HTTP/1.1 keep-alive, stdlib only.

    with FakeDaemon({"/_ping": ping(), "/v1.50/images/a/json": json_response({"Id": "x"})}) as d:
        run the client against d.docker_host ...
        assert d.paths == ["/_ping", "/v1.50/images/a/json"]

A route is a canned `Response`, a behaviour (`HANG`: accept and never answer until the daemon
stops; `CLOSE`: close the connection without answering), or a callback that returns one of
those. Paths without a route go to `default` (docker's 404 "page not found" unless given).
"""

import contextlib
import enum
import http.server
import json
import shutil
import socket
import socketserver
import ssl
import struct
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, cast

# sockaddr_un.sun_path holds 108 bytes, the terminating NUL included.
MAX_SOCKET_PATH_BYTES = 107


class Behaviour(enum.Enum):
    HANG = "hang"
    CLOSE = "close"


HANG = Behaviour.HANG
CLOSE = Behaviour.CLOSE

Transport = Literal["unix", "tcp"]
Framing = Literal["length", "chunked", "close"]


@dataclass(frozen=True)
class Request:
    """One request as the daemon received it."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    transport: Transport

    def header(self, name: str) -> str | None:
        """The first value of a header, looked up case-insensitively."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True)
class Response:
    """A canned answer; Content-Length is added unless the headers already carry one."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    reason: str | None = None
    # How the body's end is marked: Content-Length, chunked encoding, or closing the connection.
    framing: Framing = "length"
    # Seconds between bytes of the body: a daemon that dribbles its answer.
    pace: float = 0.0
    # Seconds between bytes of the status line and headers: a daemon slow to even begin.
    header_pace: float = 0.0
    # Informational answers (1xx status codes) sent, each with no headers, before this one.
    interim: tuple[int, ...] = ()
    # Send only this many bytes of the body, then close the connection (an answer broken off).
    cut_after: int | None = None
    # With cut_after: close with a reset (RST on TCP; on a unix socket, a close), not a FIN.
    reset: bool = False


Answer = Response | Behaviour
Handler = Callable[[Request], Answer]
Route = Answer | Handler


def json_response(
    value: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    """A JSON answer, compact as the docker daemon writes it, with a trailing newline."""
    body = json.dumps(value, separators=(",", ":")).encode() + b"\n"
    return Response(status, body, (("Content-Type", "application/json"), *headers))


def ping(api_version: str | None = "1.50") -> Response:
    """A `/_ping` answer as dockerd sends it; None leaves out the Api-Version header."""
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Docker-Experimental", "false")]
    if api_version is not None:
        headers.append(("Api-Version", api_version))
    return Response(200, b"OK", tuple(headers))


NOT_FOUND = json_response({"message": "page not found"}, status=404)


def inspect_path(name: str, version: str = "1.50") -> str:
    """Where the client asks for an image's inspect object."""
    return f"/v{version}/images/{name}/json"


def history_path(name: str) -> str:
    """Where the client asks for an image's history."""
    return f"/v1.50/images/{name}/history"


def not_found(name: str) -> Response:
    """The daemon's answer for an image it does not have (NOT_FOUND is for a path it lacks)."""
    return json_response({"message": f"No such image: {name}"}, status=404)


def refusing_socket(path: Path) -> Path:
    """Leave a unix socket file at path that nobody listens on: connecting is refused."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
    return path


class FakeDaemon:
    """An HTTP/1.1 daemon on a unix socket (and optionally 127.0.0.1), served by threads."""

    def __init__(
        self,
        routes: Mapping[str, Route] | None = None,
        *,
        default: Route = NOT_FOUND,
        tcp: bool = False,
        tls: ssl.SSLContext | None = None,
        io_timeout: float = 30.0,
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.default = default
        self.io_timeout = io_timeout
        self.requests: list[Request] = []
        self.connections = 0
        self.handler_errors: list[BaseException] = []
        self.directory = Path(tempfile.mkdtemp(prefix="fakedockerd-", dir="/tmp"))
        self.socket_path = self.directory / "docker.sock"
        if len(bytes(self.socket_path)) > MAX_SOCKET_PATH_BYTES:
            shutil.rmtree(self.directory)
            raise ValueError(f"socket path too long for AF_UNIX: {self.socket_path}")
        self._tcp = tcp or tls is not None
        # With a server-side context, the TCP socket speaks TLS (the unix one stays plain).
        self._tls = tls
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._stopped = False

    # -- addresses --------------------------------------------------------------------------

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def tcp_port(self) -> int:
        for server in self._servers:
            if isinstance(server, _TCPServer):
                return int(server.server_address[1])
        raise RuntimeError("this FakeDaemon was not started with tcp=True")

    @property
    def tcp_host(self) -> str:
        return f"tcp://127.0.0.1:{self.tcp_port}"

    # -- what happened ----------------------------------------------------------------------

    @property
    def paths(self) -> list[str]:
        with self._changed:
            return [request.path for request in self.requests]

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least count requests have arrived; False if they did not in time."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.requests) >= count, timeout)

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> "FakeDaemon":
        try:
            self._serve(_UnixServer(str(self.socket_path), self))
            if self._tcp:
                self._serve(_TCPServer(("127.0.0.1", 0), self, self._tls))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop listening, release hanging handlers, close every connection, join all threads."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
        with self._changed:
            still_open = list(self._open)
        for sock in still_open:  # wakes handlers blocked reading an idle keep-alive connection
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for server in self._servers:
            server.server_close()  # joins the per-connection threads (block_on_close)
        for thread in self._threads:
            thread.join()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "FakeDaemon":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None and self.handler_errors:
            raise AssertionError(f"the fake daemon's handlers failed: {self.handler_errors!r}")

    def _serve(self, server: socketserver.BaseServer) -> None:
        self._servers.append(server)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-daemon"
        )
        thread.start()
        self._threads.append(thread)

    # -- called from the handler threads -----------------------------------------------------

    def _connected(self, sock: socket.socket) -> None:
        with self._changed:
            self.connections += 1
            self._open.add(sock)
            self._changed.notify_all()
            if self._stopping.is_set():  # accepted just as stop() looked: close it here instead
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _disconnected(self, sock: socket.socket) -> None:
        with self._changed:
            self._open.discard(sock)

    def _received(self, request: Request) -> Answer:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()
            route = self.routes.get(request.path, self.default)
        if callable(route):
            return route(request)
        return route

    def _failed(self, error: BaseException) -> None:
        with self._changed:
            self.handler_errors.append(error)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client says otherwise

    @property
    def fake(self) -> FakeDaemon:
        return cast(_ServesFake, self.server).fake

    @property
    def transport(self) -> Transport:
        return "tcp" if isinstance(self.server, _TCPServer) else "unix"

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.fake.io_timeout)  # a stuck client cannot pin a thread
        self.fake._connected(self.connection)

    def finish(self) -> None:
        self.fake._disconnected(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        request = Request(self.command, self.path, tuple(self.headers.items()), self.transport)
        try:
            answer = self.fake._received(request)
        except Exception as exc:
            self.fake._failed(exc)
            answer = json_response({"message": f"fake daemon handler failed: {exc!r}"}, 500)
        if answer is Behaviour.HANG:
            self.fake._stopping.wait()
            self.close_connection = True
        elif answer is Behaviour.CLOSE:
            self.close_connection = True
        else:
            assert isinstance(answer, Response)
            self._send(answer)

    def _send(self, response: Response) -> None:
        for status in response.interim:
            self.wfile.write(b"HTTP/1.1 %d Interim\r\n\r\n" % status)
        self.send_response_only(response.status, response.reason)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            self.send_header(name, value)
        if response.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        elif response.framing == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        elif "content-length" not in names:
            self.send_header("Content-Length", str(len(response.body)))
        if response.header_pace:
            if not self._dribble_head(response.header_pace):
                return
        else:
            self.end_headers()
        if self.command == "HEAD":
            return
        body = response.body
        if response.cut_after is not None:
            if response.framing == "chunked":  # one chunk for the whole body, cut short
                self.wfile.write(b"%x\r\n" % len(body))
            self.wfile.write(body[: response.cut_after])
            self._break_off(reset=response.reset)
            return
        pieces = [body[i : i + 1] for i in range(len(body))] if response.pace else [body]
        for index, piece in enumerate(pieces):
            if index and self.fake._stopping.wait(response.pace):
                return
            if response.framing == "chunked":
                piece = b"%x\r\n%s\r\n" % (len(piece), piece)
            self.wfile.write(piece)
            self.wfile.flush()
        if response.framing == "chunked":
            self.wfile.write(b"0\r\n\r\n")

    def _break_off(self, *, reset: bool) -> None:
        """Close the connection mid-answer; with reset, linger 0 makes TCP send a RST."""
        self.close_connection = True
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()  # now, before socketserver's shutdown sends a FIN
        else:
            self.connection.shutdown(socket.SHUT_RDWR)

    def _dribble_head(self, pace: float) -> bool:
        """Send the head buffered so far a byte at a time; False if the daemon stopped."""
        buffered: list[bytes] = getattr(self, "_headers_buffer", [])
        head = b"".join(buffered) + b"\r\n"
        buffered.clear()
        for index in range(len(head)):
            if index and self.fake._stopping.wait(pace):
                return False
            self.wfile.write(head[index : index + 1])
            self.wfile.flush()
        return True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read the recorded requests, not a log


class _ServesFake(Protocol):
    fake: FakeDaemon


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = False
    block_on_close = True

    def __init__(self, path: str, fake: FakeDaemon) -> None:
        self.fake = fake
        super().__init__(path, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        _record_error(self.fake)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], fake: FakeDaemon, tls: ssl.SSLContext | None = None
    ) -> None:
        self.fake = fake
        self.tls = tls
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            # The handshake happens on the handler's first read, in its own thread.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        _record_error(self.fake)


def _record_error(fake: FakeDaemon) -> None:
    error = sys.exc_info()[1]
    # A client that goes away mid-answer (killed, interrupted, timed out) is not a fake's bug,
    # nor is one that refuses the fake's TLS certificate.
    if error is not None and not isinstance(error, ConnectionError | TimeoutError | ssl.SSLError):
        fake._failed(error)
