"""The daemon client: one connection, a negotiated API version, and HTTP failures as errors.

/_ping goes through requests, every image through the pipeline (pipeline.py), and both take
their socket from the one connector (connector.py): the pipeline takes the very socket /_ping
was answered on, and a failure to reach the daemon reads the same either way.
"""

import functools
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
from urllib.parse import urlencode

import requests
import urllib3

from inspector import __version__
from inspector.errors import (
    DaemonBadResponse,
    DaemonError,
    DaemonErrorResponse,
    ImageNotFound,
    ImginspectError,
    UsageError,
)
from inspector.image import Image
from inspector.reference import ImageReference, Platform, parse_reference
from inspector.sources.daemon.adapter import give_back, open_session
from inspector.sources.daemon.connector import Connector, Log, causes, no_log
from inspector.sources.daemon.deadline import DeadlineSocket, request_deadline
from inspector.sources.daemon.endpoint import Connection, Endpoint
from inspector.sources.daemon.pipeline import Answer, Pipeline
from inspector.sources.daemon.stream import BODY_FAILURES, BodyStream

# The newest API this tool speaks: the version docker CLI 28.2 speaks, so both ask for the same.
MAX_API_VERSION = "1.50"
# What the docker client assumes when /_ping carries no Api-Version header.
FALLBACK_API_VERSION = "1.24"
# The first API versions that know inspect's `platform` and `manifests` parameters.
PLATFORM_API_VERSION = "1.49"
MANIFESTS_API_VERSION = "1.48"
# Refuse answers larger than this rather than exhaust memory on a runaway body.
MAX_BODY_BYTES = 64 * 1024 * 1024
# How many inspect requests may wait in the connection for the daemon, so that it always has
# the next one while this side reads and prints the last. One connection, not several read in
# turn: more would let dockerd answer on more cores, but gain too little to pay a TLS handshake
# or an ssh process each (docs/performance.md has the measurements).
PIPELINE_DEPTH = 32


class Daemon:
    """A client for one daemon; use it as a context manager so its connection is closed."""

    def __init__(self, connection: Connection, log: Log | None = None) -> None:
        self._connection = connection
        self._log = log or no_log
        self._timeout = connection.timeout
        self._api_version = connection.api_version
        self._fallbacks = connection.fallbacks
        # TLS files are read here: one that cannot be used fails before anything is asked.
        self._connector = open_connector(connection.endpoint, self._timeout, self._log)
        self._session = open_session(self._connector)
        self._pipeline: Pipeline | None = None
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
        self.close()

    def close(self) -> None:
        """Close the connection and what the connector holds (an ssh process)."""
        if self._pipeline is not None:
            self._pipeline.close()
        self._session.close()
        self._connector.close()

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
        [image] = self.inspect_many([reference], platform=platform, manifests=manifests)
        if image.inspect is None:
            assert image.error is not None
            raise image.error
        return image.inspect

    def history(self, reference: ImageReference) -> bytes:
        """The daemon's JSON list of one image's build steps, newest first, as it sent them."""
        pipeline = self._pipe()
        self._send(pipeline, f"/v{self.api_version}{reference.history_api_path}")
        return self._answer(pipeline, list, f"the history answer for {reference.text!r}")

    # -- many images over one pipelined connection -------------------------------------------

    def inspect_many(
        self,
        references: Iterable[ImageReference],
        *,
        platform: Platform | None = None,
        manifests: bool = False,
        with_history: bool = False,
        alone: bool = False,
    ) -> Generator[Image, None, None]:
        """Each image's record, in order, several requests ahead on one connection.

        References are taken from the iterable only as requests go out, so it may be lazy.
        An image that fails does not stop the others; a daemon that cannot be asked again
        (unreachable, timed out) ends the run with that error. With history (the view), each
        image's history is asked right after its answer, one request at a time. Alone, or
        with history, nothing is in flight when an image is given: the caller may ask more
        about it on the connection (its step images, its `docker save`).
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
                image = Image(reference.text, self._answer(pipeline, dict, what))
            except ImginspectError as exc:
                image = Image(reference.text, error=exc)
            if with_history and image.inspect is not None:
                try:
                    image = image._replace(history=self.history(reference))
                except ImginspectError as exc:
                    # The image is still shown; a daemon gone fails the run.
                    fatal = exc if exc.fatal else None
                    image = image._replace(history_error=exc, source_error=fatal)
            yield image
            if _is_fatal(image.error) or _is_fatal(image.history_error):
                return
            depth = 1 if with_history or alone else PIPELINE_DEPTH

    def list_images(self, filters: Mapping[str, Sequence[str]]) -> list[tuple[ImageReference, str]]:
        """Every image the daemon lists (`GET /images/json`), in its order: its full ID to ask
        by, and its first tag (or the ID) to show it by."""
        path = f"/v{self.api_version}/images/json"
        if filters:
            # As docker sends them (filters.ToJSON): each name maps its values to true.
            wanted = {name: dict.fromkeys(values, True) for name, values in filters.items()}
            path += "?" + urlencode({"filters": json.dumps(wanted, separators=(",", ":"))})
        pipeline = self._pipe()
        self._send(pipeline, path)
        body = self._answer(pipeline, list, "the image list")
        return [_listed(entry) for entry in json.loads(body)]

    def _pipe(self) -> Pipeline:
        """The pipeline, on the connector's socket (the one /_ping used, if it is still up)."""
        if self._pipeline is None:
            self.api_version  # noqa: B018 -- which daemon, first: Podman's socket may answer
            headers = (
                f"Host: {self._connector.host_header}\r\n"
                f"User-Agent: imginspect/{__version__}\r\n"
                "Accept-Encoding: identity\r\nAccept: */*\r\nConnection: keep-alive\r\n"
            )
            self._pipeline = Pipeline(self._connector, headers)
        return self._pipeline

    def _send(self, pipeline: Pipeline, *paths: str) -> None:
        if paths:
            with request_deadline(self._timeout):
                pipeline.send(*paths)

    def stream(self, path: str) -> "BodyStream":
        """The body of the daemon's 200 answer to path, to read as it arrives (on the pipeline:
        nothing else may be in flight); the error the answer means if it is no 200.

        The head comes within --timeout; then each read does, but not the whole body: an
        image's `docker save` may take longer than --timeout in all, never stall for longer.
        """
        pipeline = self._pipe()
        self._send(pipeline, path)
        with request_deadline(self._timeout):
            path, answer = self._head(pipeline)
            if answer.status == 200:
                finish = functools.partial(pipeline.finish, answer)
                failure = functools.partial(self.broken_off, path=path)
                return BodyStream(answer.read1, self._timeout, failure, finish)
            body = self._whole_body(pipeline, answer, path)
        raise self._refusal(path, answer, body)

    def _answer(self, pipeline: Pipeline, shape: type, what: str) -> bytes:
        """The body of the oldest answer in flight, if it is a 200 with JSON of that shape.

        Within --timeout from when it is awaited: connecting again if need be, the status
        line and headers, and the body (the connector's sockets keep the deadline).
        """
        with request_deadline(self._timeout):
            path, response = self._head(pipeline)
            body = self._whole_body(pipeline, response, path)
        if response.status != 200:
            raise self._refusal(path, response, body)
        _check_shape(body, shape, what)
        return body

    def _head(self, pipeline: Pipeline) -> tuple[str, Answer]:
        """The oldest request in flight, and its answer's status line and headers."""
        path, sent = pipeline.oldest
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
        except DaemonError:  # the connector could not connect
            pipeline.disconnect()
            self._log(f"GET {path} -> no answer after {_elapsed(sent)}")
            raise
        except (OSError, http.client.HTTPException) as exc:
            pipeline.disconnect()
            self._log(f"GET {path} -> no answer after {_elapsed(sent)}")
            raise self._connector.failure(exc) from exc
        self._log(
            f"GET {path} -> {response.status} {response.reason or ''}".rstrip()
            + f" after {_elapsed(sent)}"
        )
        return path, response

    def _whole_body(self, pipeline: Pipeline, response: Answer, path: str) -> bytes:
        whole = False
        try:
            body = self._read_body(response.read1, path)
            whole = True
        finally:
            pipeline.finish(response, whole=whole)
        return body

    def _refusal(self, path: str, response: Answer, body: bytes) -> ImginspectError:
        """The error an answer other than a 200 means. A 400 with the daemon's message is the
        input's fault (a reference, a filter or a platform it refuses): a usage error, as a
        404 with its message is a missing image."""
        if response.status < 200:
            return self._informational(path, response.status, response.reason)
        own = _error_message(body)
        if response.status == 404 and own is not None:
            return ImageNotFound(own)
        if response.status == 400 and own is not None:
            return UsageError(own)
        return self._status_error(
            response.status, response.reason, response.header("Location"), body
        )

    def _negotiate(self) -> str:
        response, body = self._ping()
        offered = response.headers.get("Api-Version")
        if not offered:
            if not response.ok:
                raise self._requests_status_error(response, body)
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
        """/_ping and its whole answer within --timeout: connection, headers and body."""
        path = "/_ping"
        with request_deadline(self._timeout):
            response = self._get(path)
            connection = response.raw.connection  # urllib3 forgets it once the body is read
            try:
                body = self._read_body(
                    lambda size: response.raw.read1(size, decode_content=True), path
                )
            finally:
                response.close()
        if response.status_code < 200:
            raise self._informational(path, response.status_code, response.reason)
        give_back(connection)  # for the pipeline: one connection for the run
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
        default = self._connector.endpoint
        if Path(default.address).exists():
            return
        self._log(f"{default.address} does not exist: trying Podman's sockets")
        for candidate in fallbacks:
            self._reach(candidate)
            try:
                if self._api_version is None:
                    self._api_version = self._negotiate()
                else:
                    response, _ = self._ping()
                    if not response.ok:  # only --debug shows it: the status alone
                        raise self._requests_status_error(response, b"")
            except DaemonError as exc:
                self._log(f"no answer from {candidate.address}: {exc}")
                continue
            self._log(f"daemon {candidate.host}: {candidate.source}, which answered")
            return
        self._reach(default, tried=fallbacks)

    def _reach(self, endpoint: Endpoint, tried: tuple[Endpoint, ...] = ()) -> None:
        """Ask another daemon from now on (a Podman socket, or the default again)."""
        self._session.close()
        self._connector.close()
        self._connector = open_connector(endpoint, self._timeout, self._log, tried)
        self._session = open_session(self._connector)

    def _get(self, path: str) -> requests.Response:
        started = time.monotonic()
        try:
            response = self._session.get(
                self._connector.endpoint.base_url + path,
                timeout=self._timeout,
                allow_redirects=False,
                stream=True,
            )
        except DaemonError:  # the connector could not connect
            self._log(f"GET {path} -> no answer after {_elapsed(started)}")
            raise
        except requests.RequestException as exc:
            self._log(f"GET {path} -> no answer after {_elapsed(started)}")
            raise self._connector.failure(exc) from exc
        self._log(
            f"GET {path} -> {response.status_code} {response.reason or ''}".rstrip()
            + f" after {_elapsed(started)}"
        )
        return response

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
        except BODY_FAILURES as exc:
            raise self.broken_off(exc, path) from exc

    def broken_off(self, exc: BaseException, path: str) -> DaemonError:
        """The error for an answer's body that stopped coming: a timeout, or its reason."""
        if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
            return self._connector.timed_out()
        return DaemonError(
            f"the daemon at {self._where} broke off its answer to {path}: {_breakage(exc)}"
        )

    def _message(self, body: bytes) -> str | None:
        """The daemon's message in an error answer; Go's own for plain HTTP to a TLS port."""
        if body.startswith(b"Client sent an HTTP request to an HTTPS server"):
            return (
                f"the daemon at {self._where} speaks TLS: use --tlsverify (or DOCKER_TLS_VERIFY=1) "
                "and its certificates (--tlscacert, --tlscert, --tlskey or DOCKER_CERT_PATH)"
            )
        return _error_message(body)

    def _requests_status_error(self, response: requests.Response, body: bytes) -> DaemonError:
        return self._status_error(
            response.status_code, response.reason, response.headers.get("Location"), body
        )

    def _status_error(
        self, status_code: int, reason: str | None, location: str | None, body: bytes
    ) -> DaemonError:
        """The error for an answer that is neither a 200 nor informational, whichever client
        read it: a redirect, else the daemon's own message, else its status."""
        status = f"{status_code} {reason or ''}".strip()
        if 300 <= status_code < 400:
            target = location or "elsewhere"
            return DaemonBadResponse(
                f"the daemon at {self._where} answered {status} (to {target!r}); "
                "redirects are not followed"
            )
        message = self._message(body)
        if message is not None:
            return DaemonErrorResponse(message, status_code)
        return DaemonErrorResponse(
            f"the daemon at {self._where} answered {status} with no message", status_code
        )

    @property
    def _where(self) -> str:
        return self._connector.endpoint.host

    @property
    def host(self) -> str:
        """The daemon's address, as errors name it."""
        return self._connector.endpoint.host


def open_connector(
    endpoint: Endpoint, timeout: float, log: Log = no_log, tried: tuple[Endpoint, ...] = ()
) -> Connector[socket.socket]:
    """The connector for an endpoint, its sockets under each request's deadline; TLS and ssh
    are loaded only for the endpoints that need them.

    TLS files are read here: one that cannot be used raises DaemonTLSError.
    """
    if endpoint.scheme == "ssh":
        from inspector.sources.daemon.ssh import SSHConnector

        return SSHConnector(endpoint, timeout, DeadlineSocket, log, tried)
    if endpoint.tls is not None:
        from inspector.sources.daemon.tls import TLSConnector

        return TLSConnector(endpoint, timeout, DeadlineSocket, log, tried)
    return Connector(endpoint, timeout, DeadlineSocket, log, tried)


def _listed(entry: object) -> tuple[ImageReference, str]:
    """An entry of the image list, which must carry a full image ID to ask by."""
    fields = entry if isinstance(entry, dict) else {}
    identifier = fields.get("Id")
    if not isinstance(identifier, str) or not _IMAGE_ID.fullmatch(identifier):
        raise DaemonBadResponse(
            f"the image list holds an image without a usable ID: {identifier!r:.80}"
        )
    from inspector import untrusted  # only --all lists images

    named = [
        tag
        for tag in untrusted.only_strings(fields.get("RepoTags"))
        if tag and tag != "<none>:<none>"
    ]
    return parse_reference(identifier), named[0] if named else identifier


_IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")


def _is_fatal(error: ImginspectError | None) -> bool:
    return error is not None and error.fatal


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


def _elapsed(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
