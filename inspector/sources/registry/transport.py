"""HTTP to registries: one requests session per registry, TLS as docker sets it up, proxies from
the environment, every body capped, every request within its image's deadline, and every
failure read into one RegistryError that names the registry.

The session does not trust the environment (`trust_env=False`): requests would otherwise read
~/.netrc and send its passwords, and CA bundles from REQUESTS_CA_BUNDLE. Proxies are taken
from HTTPS_PROXY, HTTP_PROXY and NO_PROXY explicitly, as docker takes them.

TLS is verified against the system's CAs (not certifi's, as docker uses the system's pool),
plus, for a registry, docker's per-registry directory `/etc/docker/certs.d/HOST[:PORT]/`:
each `*.crt` a CA, each `*.cert` a client certificate with the `*.key` of the same name.
"""

import http.client
import ipaddress
import os
import ssl
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import requests
import requests.adapters
import urllib3

from inspector import __version__
from inspector.errors import (
    RegistryBadResponse,
    RegistryError,
    RegistryRateLimited,
    RegistryTimeout,
    RegistryTLSError,
    RegistryUnreachable,
)
from inspector.sources.interface import Say

CERTS_D = "/etc/docker/certs.d"
# How many redirects a blob request may take (registries send blobs to storage elsewhere).
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
# The most a streamed body's read takes at once: what memory holds of a layer is bounded.
_STREAM_CHUNK = 1024 * 1024


class Deadline(NamedTuple):
    """When the work for one image must be done, on the monotonic clock."""

    end: float
    seconds: float  # --timeout, for messages

    @classmethod
    def after(cls, seconds: float) -> "Deadline":
        return cls(time.monotonic() + seconds, seconds)

    @property
    def left(self) -> float:
        return self.end - time.monotonic()


class Answer(NamedTuple):
    """An answer read whole: its status, headers, body, and where it came from at last; or,
    for a 200 asked for as a stream, its body still to read from `stream`."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    stream: "BodyStream | None" = None


class BodyStream:
    """A 200 answer's body, read as it arrives: a layer blob, whose size nothing caps. Each
    read must come within --timeout; the whole may take longer. Its failures are the
    registry's errors; close it when done."""

    def __init__(self, response: requests.Response, registry: str, url: str, timeout: float):
        self._response = response
        self._raw: urllib3.BaseHTTPResponse = response.raw
        self._registry = registry
        self._url = url
        self._timeout = timeout

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            return b"".join(iter(lambda: self.read(_STREAM_CHUNK), b""))
        try:
            return self._raw.read1(min(size, _STREAM_CHUNK))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _broken_off(exc, self._registry, self._url, self._timeout) from exc

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> "BodyStream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def certs_directory() -> str:
    """docker's directory of per-registry certificates; IMGINSPECT_CERTS_D replaces it (a
    rootless docker keeps them elsewhere, and the tests keep theirs in a temporary directory)."""
    return os.environ.get("IMGINSPECT_CERTS_D") or CERTS_D


def is_default_insecure(host: str) -> bool:
    """What docker reaches without TLS verification (and over plain HTTP if HTTPS fails) when
    not told: 127.0.0.0/8, its default insecure-registry range, and `localhost`, which
    resolves into it. docker resolves every name; a name other than `localhost` is not
    resolved here, so that naming an image costs no DNS lookup."""
    name = host_name(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name) in ipaddress.ip_network("127.0.0.0/8")
    except ValueError:
        return False


def host_name(host: str) -> str:
    """`127.0.0.1:5000` -> `127.0.0.1`; `[::1]:5000` -> `::1`."""
    if host.startswith("["):
        return host[1 : host.index("]")]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


class _Adapter(requests.adapters.HTTPAdapter):
    """requests' adapter with an SSLContext of ours: the system's CAs and certs.d, not certifi."""

    def __init__(self, context: ssl.SSLContext, pool_size: int) -> None:
        self.tls_context = context
        super().__init__(pool_connections=4, pool_maxsize=pool_size)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, ssl_context=self.tls_context, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        return super().proxy_manager_for(proxy, ssl_context=self.tls_context, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Nothing: the context says what is trusted; requests would add certifi's bundle."""


class _Session(requests.Session):
    """A registry's session. HTTPS elsewhere (blob storage a registry redirects to) is verified
    against the system's CAs, and its adapter is made on the first such request: loading the
    system's CAs costs more than all the requests of a one-image run, and most runs never leave
    the registry."""

    def __init__(self, pool_size: int) -> None:
        super().__init__()
        self.pool_size = pool_size
        self.elsewhere: _Adapter | None = None

    def get_adapter(self, url: str) -> requests.adapters.BaseAdapter:
        adapter = super().get_adapter(url)
        if url[:8].lower() == "https://" and adapter is self.adapters.get("https://"):
            if self.elsewhere is None:
                self.elsewhere = _Adapter(system_context(), self.pool_size)
                self.mount("https://", self.elsewhere)
            return self.elsewhere
        return adapter


class Transport:
    """The sessions of one run, one for each registry, safe to share between threads."""

    def __init__(self, timeout: float, log: Say | None, *, pool_size: int) -> None:
        self.timeout = timeout
        self._log = log
        self._pool_size = pool_size
        self._sessions: dict[str, requests.Session] = {}
        self._by_origin: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()

    def session(self, host: str, *, verify: bool) -> requests.Session:
        """The session for a registry (its API host), made on first use with its TLS."""
        key = f"{host} {verify}"
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = self._new_session(host, verify=verify)
            return session

    def _new_session(self, host: str, *, verify: bool) -> requests.Session:
        session = _Session(self._pool_size)
        session.trust_env = False
        session.max_redirects = MAX_REDIRECTS
        session.headers.update(
            {"User-Agent": f"imginspect/{__version__}", "Accept-Encoding": "identity"}
        )
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=self._pool_size))
        if verify:
            context = registry_context(host)
        else:
            # An insecure registry is insecure by the user's choice (or docker's default for
            # loopback): urllib3's warning about each request would only repeat it.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            context = _unverified_context()
        session.mount(f"https://{host}/", _Adapter(context, self._pool_size))
        return session

    def get(
        self,
        session: requests.Session,
        url: str,
        *,
        registry: str,
        deadline: Deadline,
        cap: int,
        headers: Mapping[str, str] | None = None,
        redirects: bool = False,
        verify: bool = True,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> Answer:
        """One request, its answer read whole (at most cap bytes), within the deadline; with
        stream, a 200's body is left to read from the answer's stream, each read within
        --timeout (the deadline bounds its head alone).

        A 429 (Too Many Requests) whose Retry-After fits in what is left of the deadline is
        waited out, once; any other 429 is RegistryRateLimited, which ends the run's asking.
        """
        waited = False
        while True:
            left = deadline.left
            if left <= 0:
                raise RegistryTimeout(
                    f"registry {registry}: no answer within {deadline.seconds:g} seconds"
                )
            started = time.monotonic()
            try:
                response = session.request(
                    method,
                    url,
                    headers=dict(headers or {}),
                    data=data,
                    stream=True,
                    allow_redirects=redirects,
                    verify=verify,
                    proxies=self._proxies(url),
                    # Connecting within the deadline; a stream's reads each within --timeout.
                    timeout=(
                        min(left, self.timeout),
                        self.timeout if stream else min(left, self.timeout),
                    ),
                )
            except requests.RequestException as exc:
                self._say(f"{method} {_shown(url)} -> {type(exc).__name__}")
                raise _failure(exc, registry, url, deadline) from exc
            hops = "".join(
                f" -> {r.status_code} {_shown(r.headers.get('Location', ''))}"
                for r in response.history
            )
            if stream and response.status_code == 200:
                self._say(
                    f"{method} {_shown(url)}{hops} -> 200, streamed, "
                    f"{(time.monotonic() - started) * 1000:.0f} ms to its head"
                )
                body_stream = BodyStream(response, registry, response.url, self.timeout)
                return Answer(200, response.headers, b"", response.url, body_stream)
            try:
                body = _read(response, cap, registry, url, deadline)
            finally:
                response.close()
            self._say(
                f"{method} {_shown(url)}{hops} -> {response.status_code}, {len(body)} bytes, "
                f"{(time.monotonic() - started) * 1000:.0f} ms"
            )
            if response.status_code != 429:
                return Answer(response.status_code, response.headers, body, response.url)
            wait = retry_after(response.headers.get("Retry-After", ""))
            if waited or wait is None or wait >= deadline.left:
                later = f" (it says to wait {wait:g} seconds)" if wait is not None else ""
                raise RegistryRateLimited(
                    f"registry {registry}: too many requests: its rate limit is reached{later}"
                )
            self._say(f"{method} {_shown(url)} -> 429: waiting {wait:g} seconds, as it says")
            time.sleep(wait)
            waited = True

    def _proxies(self, url: str) -> dict[str, str]:
        """HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY, read by requests from the
        environment, for the URL's scheme and host. Reading them walks the whole environment, and
        they are the same for every request to a host: read once a host and run."""
        scheme, _, rest = url.partition("://")
        origin = f"{scheme}://{rest.partition('/')[0].partition('?')[0]}"
        found = self._by_origin.get(origin)
        if found is None:
            found = self._by_origin[origin] = dict(requests.utils.get_environ_proxies(origin))
        return dict(found)

    def _say(self, line: str) -> None:
        if self._log is not None:
            self._log(line)


def retry_after(value: str) -> float | None:
    """Retry-After in seconds: a number of seconds, or an HTTP date; None if it is neither."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _shown(url: str) -> str:
    """A URL for --debug: without its query, which a token service's URL may carry an account
    name in, and a storage redirect a signature."""
    return url.partition("?")[0]


def _read(
    response: requests.Response, cap: int, registry: str, url: str, deadline: Deadline
) -> bytes:
    """The body, one read of the socket at a time so that a server that dribbles its answer
    is stopped at the deadline; larger than cap is a bad answer, not a memory exhausted."""
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > cap:
        raise RegistryBadResponse(
            f"registry {registry}: the answer to {_shown(url)} is {int(length)} bytes, more "
            f"than the {cap} allowed"
        )
    raw: urllib3.BaseHTTPResponse = response.raw
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            chunk = raw.read1(_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > cap:
                raise RegistryBadResponse(
                    f"registry {registry}: the answer to {_shown(url)} is more than the {cap} "
                    "bytes allowed"
                )
            chunks.append(chunk)
            if deadline.left <= 0:
                raise RegistryTimeout(
                    f"registry {registry}: the answer to {_shown(url)} took more than "
                    f"{deadline.seconds:g} seconds"
                )
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise _broken_off(exc, registry, url, deadline.seconds) from exc
    return b"".join(chunks)


def _broken_off(exc: BaseException, registry: str, url: str, seconds: float) -> RegistryError:
    """A body that stopped coming: for longer than --timeout, or for a reason."""
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
        return RegistryTimeout(
            f"registry {registry}: the answer to {_shown(url)} stopped coming within "
            f"{seconds:g} seconds"
        )
    return RegistryUnreachable(
        f"registry {registry}: the answer to {_shown(url)} was broken off: {_cut(exc)}"
    )


def _cut(exc: BaseException) -> str:
    """How a body was cut: how much of it came, as urllib3 counts it, or the reason."""
    for inner in (exc, *_inner(exc)):
        if isinstance(inner, http.client.IncompleteRead) and isinstance(inner.partial, int):
            expected = inner.expected if isinstance(inner.expected, int) else 0
            return f"the connection ended after {inner.partial} of {inner.partial + expected} bytes"
    return _reason(exc)


def _failure(
    exc: requests.RequestException, registry: str, url: str, deadline: Deadline
) -> RegistryError:
    """A failure of requests as the error it means, naming the registry."""
    if isinstance(exc, requests.exceptions.SSLError):
        return RegistryTLSError(f"registry {registry}: TLS failed: {_reason(exc)}")
    if isinstance(exc, requests.exceptions.Timeout):
        return RegistryTimeout(
            f"registry {registry}: no answer within {deadline.seconds:g} seconds"
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return RegistryUnreachable(f"registry {registry}: the proxy failed: {_reason(exc)}")
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return RegistryBadResponse(
            f"registry {registry}: {_shown(url)} was redirected more than {MAX_REDIRECTS} times"
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return RegistryUnreachable(f"registry {registry}: cannot connect: {_reason(exc)}")
    return RegistryBadResponse(f"registry {registry}: {_shown(url)}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    """The innermost cause worth saying: an OSError's text, an SSL error's reason."""
    seen: set[int] = set()
    found: BaseException = exc
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current.verify_message or str(current)
        if isinstance(current, ssl.SSLError):
            return current.reason or str(current)
        if isinstance(current, OSError) and current.strerror:
            found = current
        pending += [current.__cause__, current.__context__, *_inner(current)]
    if isinstance(found, OSError) and found.strerror:
        return found.strerror
    return str(found).splitlines()[0] if str(found) else type(found).__name__


def _inner(exc: BaseException) -> list[BaseException]:
    """The exceptions urllib3 and requests keep in their arguments or a `reason`."""
    inner = [arg for arg in exc.args if isinstance(arg, BaseException)]
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        inner.append(reason)
    return inner


# -- TLS -------------------------------------------------------------------------------------

_contexts: dict[str, ssl.SSLContext] = {}
_contexts_lock = threading.Lock()
_system: ssl.SSLContext | None = None
_system_lock = threading.Lock()  # taken inside _contexts_lock, never the other way round


def registry_context(host: str) -> ssl.SSLContext:
    """The system's CAs, and docker's certs.d/HOST[:PORT] for this registry: its `*.crt` CAs,
    and its `*.cert` client certificate with the `*.key` of the same name."""
    with _contexts_lock:
        context = _contexts.get(host)
        if context is None:
            context = _contexts[host] = _load_certs_d(host)
        return context


def _load_certs_d(host: str) -> ssl.SSLContext:
    directory = Path(certs_directory(), host)
    try:
        entries = sorted(directory.iterdir())
    except FileNotFoundError:
        return system_context()
    except OSError as exc:
        raise RegistryTLSError(f"registry {host}: cannot read {directory}: {exc.strerror}") from exc
    context = ssl.create_default_context()
    for entry in entries:
        try:
            if entry.suffix == ".crt":
                context.load_verify_locations(cafile=str(entry))
            elif entry.suffix == ".cert":
                key = entry.with_suffix(".key")
                if not key.exists():
                    raise RegistryTLSError(
                        f"registry {host}: {entry} has no {key.name} beside it (certs.d "
                        "client certificate)"
                    )
                context.load_cert_chain(str(entry), str(key))
            elif entry.suffix == ".key" and not entry.with_suffix(".cert").exists():
                raise RegistryTLSError(
                    f"registry {host}: {entry} has no {entry.with_suffix('.cert').name} beside it "
                    "(certs.d client key)"
                )
        except (ssl.SSLError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise RegistryTLSError(f"registry {host}: cannot use {entry}: {reason}") from exc
    return context


def system_context() -> ssl.SSLContext:
    """The system's CAs, loaded once a run: for a registry without a certs.d directory, a
    token service, blob storage."""
    global _system
    with _system_lock:
        if _system is None:
            _system = ssl.create_default_context()
        return _system


def _unverified_context() -> ssl.SSLContext:
    """An insecure registry's HTTPS, as docker reaches it: encrypted, nothing verified, so no
    CAs loaded (see _Session)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
