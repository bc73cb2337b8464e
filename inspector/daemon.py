"""The daemon client: one connection, a negotiated API version, and HTTP failures as errors."""

import errno
import http.client
import json
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode

import requests
import urllib3

from inspector import __version__
from inspector.connection import Connection, Endpoint
from inspector.errors import (
    DaemonBadResponse,
    DaemonError,
    DaemonErrorResponse,
    DaemonTimeout,
    DaemonUnreachable,
    ImageNotFound,
    UsageError,
)
from inspector.reference import ImageReference, Platform
from inspector.transport import Log, causes, no_log, open_transport, request_deadline

# The newest API this tool speaks: the version docker CLI 28.2 speaks, so both ask for the same.
MAX_API_VERSION = "1.50"
# What the docker client assumes when /_ping carries no Api-Version header.
FALLBACK_API_VERSION = "1.24"
# The first API versions that know inspect's `platform` and `manifests` parameters.
PLATFORM_API_VERSION = "1.49"
MANIFESTS_API_VERSION = "1.48"
# Refuse answers larger than this rather than exhaust memory on a runaway body.
MAX_BODY_BYTES = 64 * 1024 * 1024


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
        self.check_inspect_options(platform=platform is not None, manifests=manifests)
        path = reference.api_path
        # In docker's order (url.Values.Encode sorts the keys) and with its escaping.
        query = [("manifests", "1")] if manifests else []
        if platform is not None:
            query.append(("platform", platform.query_value))
        if query:
            path += "?" + urlencode(query)
        return self._image_answer(path, dict, f"the inspect answer for {reference.text!r}")

    def history(self, reference: ImageReference) -> bytes:
        """The daemon's JSON list of one image's build steps, newest first, as it sent them."""
        return self._image_answer(
            reference.history_api_path, list, f"the history answer for {reference.text!r}"
        )

    def _image_answer(self, api_path: str, shape: type, what: str) -> bytes:
        path = f"/v{self.api_version}{api_path}"
        response, body = self._exchange(path)
        if response.status_code == 200:
            _check_shape(body, shape, what)
            return body
        message = self._message(body)
        if response.status_code == 404 and message is not None:
            raise ImageNotFound(message)
        raise self._status_error(response, message)

    def _negotiate(self) -> str:
        response, body = self._ping()
        offered = response.headers.get("Api-Version")
        if not offered:
            if not response.ok:
                raise self._status_error(response, self._message(body))
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
            body = self._read(response, path)
        if response.status_code < 200:
            # http.client skips only 100 Continue: after any other 1xx the real answer is still
            # on the connection, and the next request would take it for its own.
            status = f"{response.status_code} {response.reason or ''}".strip()
            error = DaemonBadResponse(
                f"the daemon at {self._where} answered {path} with {status}, an informational "
                "status, instead of an answer"
            )
            error.fatal = True
            raise error
        return response, body

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
                        raise self._status_error(response, None)
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

    def _read(self, response: requests.Response, path: str) -> bytes:
        # The request's deadline (see _exchange) bounds the reads: a daemon that dribbles a
        # byte at a time cannot hold the call open for ever.
        try:
            chunks: list[bytes] = []
            size = 0
            while chunk := response.raw.read1(65536, decode_content=True):
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
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise DaemonError(
                f"the daemon at {self._where} broke off its answer to {path}: {_breakage(exc)}"
            ) from exc
        finally:
            response.close()

    def _message(self, body: bytes) -> str | None:
        """The daemon's message in an error answer; Go's own for plain HTTP to a TLS port."""
        if body.startswith(b"Client sent an HTTP request to an HTTPS server"):
            return (
                f"the daemon at {self._where} speaks TLS: use --tlsverify (or DOCKER_TLS_VERIFY=1) "
                "and its certificates (--tlscacert, --tlscert, --tlskey or DOCKER_CERT_PATH)"
            )
        return _error_message(body)

    def _status_error(self, response: requests.Response, message: str | None) -> DaemonError:
        status = f"{response.status_code} {response.reason or ''}".strip()
        if response.is_redirect or 300 <= response.status_code < 400:
            target = response.headers.get("Location", "elsewhere")
            return DaemonBadResponse(
                f"the daemon at {self._where} answered {status} (to {target!r}); "
                "redirects are not followed"
            )
        if message is not None:
            return DaemonErrorResponse(message)
        return DaemonErrorResponse(f"the daemon at {self._where} answered {status} with no message")

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
        if any(isinstance(inner, http.client.HTTPException) for inner in causes(exc)):
            return DaemonUnreachable(
                f"the daemon at {where} closed the connection without answering"
            )
        return DaemonUnreachable(f"cannot connect to the daemon at {where}: {_innermost(exc)}")

    @property
    def _where(self) -> str:
        return self._endpoint.host


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
