"""The daemon client: one connection, a negotiated API version, and HTTP failures as errors."""

import errno
import http.client
import itertools
import json
import re
import socket
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, cast
from urllib.parse import urlencode

import requests
import urllib3

from inspector import __version__
from inspector.errors import (
    DaemonBadResponse,
    DaemonError,
    DaemonErrorResponse,
    DaemonTimeout,
    DaemonUnreachable,
    ImageNotFound,
    ImginspectError,
    UsageError,
)
from inspector.reference import ImageReference, Platform, parse_reference
from inspector.sources.daemon.endpoint import Connection, Endpoint
from inspector.sources.daemon.pipeline import Pipeline
from inspector.sources.daemon.transport import Log, causes, no_log, open_transport, request_deadline

# The newest API this tool speaks: the version docker CLI 28.2 speaks, so both ask for the same.
MAX_API_VERSION = "1.50"
# What the docker client assumes when /_ping carries no Api-Version header.
FALLBACK_API_VERSION = "1.24"
# The first API versions that know inspect's `platform` and `manifests` parameters.
PLATFORM_API_VERSION = "1.49"
MANIFESTS_API_VERSION = "1.48"
# Refuse answers larger than this rather than exhaust memory on a runaway body.
MAX_BODY_BYTES = 64 * 1024 * 1024
# How many inspect requests may wait in the connection for the daemon. Issue 8, 300 images on
# 2 cores: one at a time took 64 ms, 8 ahead 50, 32 ahead 38.
# One connection, not K: K pipelines read in turn (image i on connection i % K) let dockerd
# answer on both cores, but on this 2-core machine the fetch loop alone (75 shuffled turns,
# medians) took 58 ms for 300 images on 1, 52 on 2, 53 on 4 (the quartiles overlap), and
# 194 / 160 / 156 ms for 1000: ~3% of a whole 300-image run and ~6% of a 1000-image one, for
# a second TLS handshake or ssh process and a connection count that grows with the run.
PIPELINE_DEPTH = 32


class Inspection(NamedTuple):
    """One image as asked: the daemon's JSON object or why there is none; the view's history."""

    reference: ImageReference
    document: bytes | ImginspectError
    # Asked for only with_history, and only for an image that was found.
    history: bytes | ImginspectError | None = None


class ListedImage(NamedTuple):
    """An image of the daemon's list: its full ID to ask by, and its first tag or the ID."""

    reference: ImageReference
    name: str


class Daemon:
    """A client for one daemon; use it as a context manager so its connection is closed."""

    def __init__(self, connection: Connection, log: Log | None = None) -> None:
        self._connection = connection
        self._log = log or no_log
        self._timeout = connection.timeout
        self._api_version = connection.api_version
        self._endpoint = connection.endpoint
        self._transport = open_transport(connection.endpoint, self._log)
        self._base = self._transport.base_url
        self._fallbacks = connection.fallbacks
        self._tried: tuple[Endpoint, ...] = ()
        self._session = requests.Session()
        # No proxies, .netrc or CA bundles from the environment: this is a local API socket.
        self._session.trust_env = False
        self._session.headers.update(
            {"User-Agent": f"imginspect/{__version__}", "Accept-Encoding": "identity"}
        )
        self._transport.mount(self._session)
        self._pipeline: Pipeline | None = None
        self._checkout: _Checkout | None = None
        if self._api_version is not None:
            self._log(f"API version {self._api_version}: pinned by DOCKER_API_VERSION (no /_ping)")

    def __enter__(self) -> "Daemon":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._checkout is not None and self._pipeline is not None:
            self._checkout.give_back(reusable=self._pipeline.close())
        self._session.close()
        self._transport.close()

    @property
    def api_version(self) -> str:
        """The API version in use, asking the daemon once if it is not pinned."""
        if self._fallbacks:  # first of all: which daemon
            self._fall_back_to_podman()
        if self._api_version is None:
            self._api_version = self._negotiate()
        return self._api_version

    def check_inspect_options(self, *, platform: bool = False, manifests: bool = False) -> None:
        """A usage error if the API version in use predates an option asked for."""
        for wanted, option, minimum in (
            (platform, "--platform", PLATFORM_API_VERSION),
            (manifests, "--manifests", MANIFESTS_API_VERSION),
        ):
            if wanted and _version_tuple(self.api_version) < _version_tuple(minimum):
                speaks = (
                    f"DOCKER_API_VERSION pins {self.api_version}"
                    if self._connection.api_version
                    else f"the daemon speaks {self.api_version}"
                )
                raise UsageError(f"{option} needs API {minimum}, {speaks}")

    def inspect(
        self,
        reference: ImageReference,
        *,
        platform: Platform | None = None,
        manifests: bool = False,
    ) -> bytes:
        """The daemon's JSON object for one image, as the exact bytes it sent."""
        [inspection] = self.inspect_many([reference], platform=platform, manifests=manifests)
        if isinstance(inspection.document, ImginspectError):
            raise inspection.document
        return inspection.document

    def history(self, reference: ImageReference) -> bytes:
        """The daemon's JSON list of one image's build steps, newest first, as it sent them."""
        pipeline = self._pipe()
        self._send(pipeline, f"/v{self.api_version}{reference.history_api_path}")
        return self._answer(pipeline, list, f"the history answer for {reference.text!r}")

    # -- many images over one pipelined connection (issue 8) --------------------------------

    def inspect_many(
        self,
        references: Iterable[ImageReference],
        *,
        platform: Platform | None = None,
        manifests: bool = False,
        with_history: bool = False,
    ) -> Generator[Inspection, None, None]:
        """Each image's answer, in order, several requests ahead on one connection.

        References are taken from the iterable only as requests go out, so it may be lazy.
        An image that fails does not stop the others; a daemon that cannot be asked again
        (unreachable, timed out) ends the run with that error. With history (the view), each
        image's history is asked right after its answer, one request at a time.
        """
        self.check_inspect_options(platform=platform is not None, manifests=manifests)
        prefix = f"/v{self.api_version}"
        # In docker's order (url.Values.Encode sorts the keys) and with its escaping.
        query = [("manifests", "1")] if manifests else []
        if platform is not None:
            query.append(("platform", platform.query_value))
        suffix = "?" + urlencode(query) if query else ""
        pipeline = self._pipe()
        # The first request goes out alone: an answer that ends the run (an informational
        # status, a daemon that is not one) leaves nothing else asked of it.
        depth = 1
        waiting: deque[ImageReference] = deque()
        upcoming = iter(references)
        while True:
            if len(waiting) <= depth // 2:  # top up in one write: fewer wake-ups on both sides
                ahead = list(itertools.islice(upcoming, depth - len(waiting)))
                self._send(pipeline, *(prefix + ref.api_path + suffix for ref in ahead))
                waiting.extend(ahead)
            if not waiting:
                return
            reference = waiting.popleft()
            what = f"the inspect answer for {reference.text!r}"
            try:
                document: bytes | ImginspectError = self._answer(pipeline, dict, what)
            except ImginspectError as exc:
                document = exc
            history: bytes | ImginspectError | None = None
            if with_history and isinstance(document, bytes):
                try:
                    history = self.history(reference)
                except ImginspectError as exc:
                    history = exc
            yield Inspection(reference, document, history)
            if _is_fatal(document) or _is_fatal(history):
                return
            depth = 1 if with_history else PIPELINE_DEPTH

    def list_images(self, filters: Mapping[str, Sequence[str]]) -> list[ListedImage]:
        """Every image the daemon lists (`GET /images/json`), in its order."""
        path = f"/v{self.api_version}/images/json"
        if filters:
            # As docker sends them (filters.ToJSON): each name maps its values to true.
            wanted = {name: dict.fromkeys(values, True) for name, values in filters.items()}
            path += "?" + urlencode({"filters": json.dumps(wanted, separators=(",", ":"))})
        pipeline = self._pipe()
        self._send(pipeline, path)
        try:
            body = self._answer(pipeline, list, "the image list")
        except DaemonErrorResponse as exc:
            if exc.status == 400:  # a filter the daemon does not take: the user's to fix
                raise UsageError(str(exc)) from exc
            raise
        return [_listed(entry) for entry in json.loads(body)]

    def _pipe(self) -> Pipeline:
        """The pipeline on the session's connection (the one /_ping used, if it is still up)."""
        if self._pipeline is None:
            self.api_version  # noqa: B018 -- which daemon, first: Podman's socket may answer
            self._checkout = _Checkout(self._session, self._base, self._timeout)
            headers = (
                f"Host: {self._checkout.host_header}\r\n"
                f"User-Agent: imginspect/{__version__}\r\n"
                "Accept-Encoding: identity\r\nAccept: */*\r\nConnection: keep-alive\r\n"
            )
            self._pipeline = Pipeline(self._checkout, headers)
        return self._pipeline

    def _send(self, pipeline: Pipeline, *paths: str) -> None:
        if paths:
            with request_deadline(self._timeout):
                pipeline.send(*paths)

    def _answer(self, pipeline: Pipeline, shape: type, what: str) -> bytes:
        """The body of the oldest answer in flight, if it is a 200 with JSON of that shape.

        Within --timeout from when it is awaited: connecting again if need be, the status
        line and headers, and the body (the transport's sockets keep the deadline).
        """
        path, sent = pipeline.oldest
        with request_deadline(self._timeout):
            try:
                try:
                    path, sent, response = pipeline.receive()
                except ConnectionError:  # RemoteDisconnected is one, a reset another
                    if not pipeline.reused:
                        raise
                    # Closed between answers, as a keep-alive connection may be: ask again,
                    # once, on a new one (as Go's client does for a GET on a reused one).
                    self._log(f"GET {path} -> the connection was closed; asking again")
                    pipeline.disconnect()
                    path, sent, response = pipeline.receive()
            except (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError) as exc:
                pipeline.disconnect()
                self._log(f"GET {path} -> no answer after {_elapsed(sent)}")
                # urllib3's NewConnectionError is a ConnectTimeoutError too: a refusal is no
                # timeout.
                if isinstance(
                    exc, TimeoutError | urllib3.exceptions.TimeoutError
                ) and not isinstance(exc, urllib3.exceptions.NewConnectionError):
                    raise self._timeout_error() from exc
                raise self._connection_error(exc) from exc
            self._log(
                f"GET {path} -> {response.status} {response.reason or ''}".rstrip()
                + f" after {_elapsed(sent)}"
            )
            whole = False
            try:
                body = self._read_body(response.read1, path)
                whole = True
            finally:
                pipeline.finish(response, whole=whole)
        if response.status < 200:
            raise self._informational(path, response.status, response.reason)
        if response.status == 200:
            _check_shape(body, shape, what)
            return body
        message = self._message(body)
        if response.status == 404 and message is not None:
            raise ImageNotFound(message)
        raise self._status_error(
            response.status, response.reason, response.header("Location"), message
        )

    def _negotiate(self) -> str:
        response, body = self._ping()
        offered = response.headers.get("Api-Version")
        if not offered:
            if not response.ok:
                raise self._requests_status_error(response, self._message(body))
            self._log(
                f"API version {FALLBACK_API_VERSION}: the daemon sent no Api-Version header, "
                "so it is spoken to as docker does"
            )
            return FALLBACK_API_VERSION
        if not _version_tuple(offered):
            raise DaemonBadResponse(
                f"the daemon at {self._where} sent an unreadable Api-Version: {offered!r}"
            )
        chosen = min(offered, MAX_API_VERSION, key=_version_tuple)
        self._log(
            f"API version {chosen}: the daemon offers {offered}, "
            f"imginspect speaks up to {MAX_API_VERSION}"
        )
        return chosen

    def _ping(self) -> tuple[requests.Response, bytes]:
        return self._exchange("/_ping")

    def _exchange(self, path: str) -> tuple[requests.Response, bytes]:
        """One request and its whole answer within --timeout: connection, headers and body."""
        with request_deadline(self._timeout):
            response = self._get(path)
            try:
                body = self._read_body(
                    lambda size: response.raw.read1(size, decode_content=True), path
                )
            finally:
                response.close()
        if response.status_code < 200:
            raise self._informational(path, response.status_code, response.reason)
        return response, body

    def _informational(self, path: str, status_code: int, reason: str | None) -> DaemonError:
        # http.client skips only 100 Continue: after any other 1xx the real answer is still
        # on the connection, and the next request would take it for its own.
        status = f"{status_code} {reason or ''}".strip()
        error = DaemonBadResponse(
            f"the daemon at {self._where} answered {path} with {status}, an informational "
            "status, instead of an answer"
        )
        error.fatal = True
        return error

    def _fall_back_to_podman(self) -> None:
        """Podman's socket, if the default docker socket is not there and one answers."""
        fallbacks, self._fallbacks = self._fallbacks, ()
        default = self._endpoint
        if Path(default.address).exists():
            return
        self._log(f"{default.address} does not exist: trying Podman's sockets")
        for candidate in fallbacks:
            self._endpoint, self._base = candidate, candidate.base_url  # one adapter, any socket
            try:
                if self._api_version is None:
                    self._api_version = self._negotiate()
                else:
                    response, _ = self._ping()
                    if not response.ok:
                        raise self._requests_status_error(response, None)
            except DaemonError as exc:
                self._log(f"no answer from {candidate.address}: {exc}")
                continue
            self._log(f"daemon {candidate.host}: {candidate.source}, which answered")
            return
        self._endpoint, self._base, self._tried = default, default.base_url, fallbacks

    def _get(self, path: str) -> requests.Response:
        started = time.monotonic()
        try:
            response = self._session.get(
                self._base + path,
                timeout=self._timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            self._log(f"GET {path} -> no answer after {_elapsed(started)}")
            raise self._request_error(exc) from exc
        self._log(
            f"GET {path} -> {response.status_code} {response.reason or ''}".rstrip()
            + f" after {_elapsed(started)}"
        )
        return response

    def _request_error(self, exc: requests.RequestException) -> DaemonError:
        if isinstance(exc, requests.Timeout):
            return self._timeout_error()
        if isinstance(exc, requests.ConnectionError):
            return self._connection_error(exc)
        return DaemonError(f"cannot talk to the daemon at {self._where}: {exc}")

    def _read_body(self, read1: Callable[[int], bytes], path: str) -> bytes:
        """A whole body, read with read1 until b"", at most MAX_BODY_BYTES.

        The request's deadline (see request_deadline) bounds the reads: a daemon that
        dribbles a byte at a time cannot hold the call open for ever.
        """
        try:
            chunks: list[bytes] = []
            size = 0
            while chunk := read1(65536):
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise DaemonBadResponse(
                        f"the daemon's answer to {path} is larger than "
                        f"{MAX_BODY_BYTES // (1024 * 1024)} MiB: refusing it"
                    )
                chunks.append(chunk)
            return b"".join(chunks)
        except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError) as exc:
            raise self._timeout_error() from exc
        except (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            http.client.HTTPException,
            OSError,
        ) as exc:
            raise DaemonError(
                f"the daemon at {self._where} broke off its answer to {path}: {_breakage(exc)}"
            ) from exc

    def _message(self, body: bytes) -> str | None:
        """The daemon's message in an error answer; Go's own for plain HTTP to a TLS port."""
        if body.startswith(b"Client sent an HTTP request to an HTTPS server"):
            return (
                f"the daemon at {self._where} speaks TLS: use --tlsverify (or DOCKER_TLS_VERIFY=1) "
                "and its certificates (--tlscacert, --tlscert, --tlskey or DOCKER_CERT_PATH)"
            )
        return _error_message(body)

    def _requests_status_error(
        self, response: requests.Response, message: str | None
    ) -> DaemonError:
        return self._status_error(
            response.status_code, response.reason, response.headers.get("Location"), message
        )

    def _status_error(
        self, status_code: int, reason: str | None, location: str | None, message: str | None
    ) -> DaemonError:
        status = f"{status_code} {reason or ''}".strip()
        if 300 <= status_code < 400:
            target = location or "elsewhere"
            return DaemonBadResponse(
                f"the daemon at {self._where} answered {status} (to {target!r}); "
                "redirects are not followed"
            )
        if message is not None:
            return DaemonErrorResponse(message, status_code)
        return DaemonErrorResponse(
            f"the daemon at {self._where} answered {status} with no message", status_code
        )

    def _timeout_error(self) -> DaemonTimeout:
        return DaemonTimeout(
            f"the daemon at {self._where} did not answer within {self._timeout:g}s "
            "(use --timeout to wait longer)"
        )

    def _connection_error(self, exc: BaseException) -> DaemonError:
        explained = self._transport.explain(exc)
        if explained is not None:
            return explained
        code = _errno_of(exc)
        endpoint = self._endpoint
        where = self._where
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
        if code in (errno.ECONNRESET, errno.EPIPE) or any(
            isinstance(inner, http.client.HTTPException) for inner in causes(exc)
        ):
            return DaemonUnreachable(
                f"the daemon at {where} closed the connection without answering"
            )
        return DaemonUnreachable(f"cannot connect to the daemon at {where}: {_innermost(exc)}")

    @property
    def _where(self) -> str:
        return self._endpoint.host


class _Checkout:
    """The session's connection to the daemon, taken out of its pool for the pipeline.

    The pool is the one requests would use for the daemon's URL (a unix socket, TCP with or
    without TLS, ssh), so connecting, TLS and their failures stay the transport's, and so do
    the deadline sockets; the connection /_ping used is taken if it is still up: one
    connection for the whole run.
    """

    def __init__(self, session: requests.Session, base_url: str, timeout: float) -> None:
        request = requests.Request("GET", base_url + "/").prepare()
        adapter = cast(requests.adapters.HTTPAdapter, session.get_adapter(base_url))
        pool = adapter.get_connection_with_tls_context(request, verify=True)
        self._pool = cast(urllib3.HTTPConnectionPool, pool)
        self._connection = cast(urllib3.connection.HTTPConnection, self._pool._get_conn())
        self._timeout = timeout

    @property
    def host_header(self) -> str:
        """The Host header http.client would send on this connection."""
        connection = self._connection
        host = f"[{connection.host}]" if ":" in connection.host else connection.host
        if connection.port is not None and connection.port != connection.default_port:
            host += f":{connection.port}"
        return host

    def connect(self) -> socket.socket:
        connection = self._connection
        if connection.sock is not None and urllib3.util.wait_for_read(connection.sock, 0):
            connection.close()  # the daemon closed it while idle (or sent what nobody asked)
        if connection.sock is None:
            connection.timeout = self._timeout
            connection.connect()
        sock = cast(socket.socket, connection.sock)
        sock.settimeout(self._timeout)
        return sock

    def close(self) -> None:
        self._connection.close()

    def give_back(self, *, reusable: bool) -> None:
        if not reusable:
            self._connection.close()
        self._pool._put_conn(self._connection)


def _listed(entry: object) -> ListedImage:
    """An entry of the image list, which must carry a full image ID to ask by."""
    fields = entry if isinstance(entry, dict) else {}
    identifier = fields.get("Id")
    if not isinstance(identifier, str) or not _IMAGE_ID.fullmatch(identifier):
        raise DaemonBadResponse(
            f"the image list holds an image without a usable ID: {identifier!r:.80}"
        )
    tags = fields.get("RepoTags")
    named = [
        tag
        for tag in (tags if isinstance(tags, list) else ())
        if isinstance(tag, str) and tag and tag != "<none>:<none>"
    ]
    return ListedImage(parse_reference(identifier), named[0] if named else identifier)


_IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")


def _is_fatal(result: bytes | ImginspectError | None) -> bool:
    return isinstance(result, DaemonError) and result.fatal


def _check_shape(body: bytes, shape: type, what: str) -> None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise DaemonBadResponse(f"{what} is not valid JSON ({_short(exc)})") from exc
    if not isinstance(value, shape):
        raise DaemonBadResponse(f"{what} is JSON but not {_SHAPE_NAMES[shape]}")


_SHAPE_NAMES: dict[type, str] = {dict: "an object", list: "a list"}


def _error_message(body: bytes) -> str | None:
    """The daemon's own `message`, if the body carries one."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict) and isinstance(value.get("message"), str) and value["message"]:
        return str(value["message"])
    return None


def _breakage(exc: BaseException) -> str:
    """How an answer was broken off, in words: how much came, or the system's reason."""
    for inner in causes(exc):
        if isinstance(inner, http.client.IncompleteRead):
            partial = inner.partial
            got = partial if isinstance(partial, int) else len(partial)
            if inner.expected is None:
                return "the connection ended in the middle of a chunk of the body"
            return f"the connection ended after {got} of {got + inner.expected} bytes of the body"
    for inner in causes(exc):
        if isinstance(inner, OSError) and inner.strerror:
            return inner.strerror
    return _short(exc)


def _version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return ()


def _errno_of(exc: BaseException) -> int | None:
    for inner in causes(exc):
        if isinstance(inner, OSError) and inner.errno is not None:
            return inner.errno
    return None


def _innermost(exc: BaseException) -> str:
    for inner in causes(exc):
        if isinstance(inner, OSError) and inner.strerror:
            return inner.strerror
    return _short(exc)


def _elapsed(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
