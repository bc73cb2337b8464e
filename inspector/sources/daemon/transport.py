"""How requests reach the daemon: a unix socket, TCP (plain or TLS), or ssh; and their failures."""

import base64
import contextlib
import errno
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote

import requests
import requests.adapters
import requests_unixsocket
import urllib3

from inspector.errors import DaemonError, DaemonTLSError, DaemonUnreachable
from inspector.sources.daemon.endpoint import Endpoint, TLSFiles

if TYPE_CHECKING:
    import subprocess

    from _typeshed import ReadableBuffer, WriteableBuffer

# Where --debug lines go: one line each, written by the caller.
Log = Callable[[str], None]


def no_log(line: str) -> None:
    """The log of a run without --debug."""


class Transport:
    """One daemon's way in: the adapter a session needs, and a reading of its failures."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    @property
    def base_url(self) -> str:
        return self.endpoint.base_url

    def mount(self, session: requests.Session) -> None:
        """Give the session what it needs to reach this daemon (here: plain TCP)."""
        session.mount("http://", _TCPAdapter())

    def explain(self, exc: BaseException) -> DaemonError | None:
        """A precise error for a failed request, when this transport knows the cause."""
        return None

    def close(self) -> None:
        """Release what the transport holds beyond the session's connections."""


def open_transport(endpoint: Endpoint, log: Log | None = None) -> Transport:
    """The transport for an endpoint; TLS files are read here (a failure raises DaemonTLSError)."""
    if endpoint.scheme == "unix":
        return UnixTransport(endpoint)
    if endpoint.scheme == "ssh":
        return SSHTransport(endpoint, log or no_log)
    if endpoint.tls is not None:
        return TLSTransport(endpoint, endpoint.tls)
    return Transport(endpoint)


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


# -- one deadline per request -----------------------------------------------------------------
# A socket timeout bounds each read, so a daemon that sends a byte now and then could hold a
# request for ever. Every socket made here gives each of its operations only the time left
# before the deadline of the request its thread is making: --timeout covers the connection,
# the status line and headers and the body together, on every transport.


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


def _wait_at_most_until_the_deadline(sock: socket.socket) -> None:
    at = _DEADLINE.at
    if at is None:  # not within a request: the socket keeps the timeout it has
        return
    left = at - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")  # what the socket itself raises (socket.timeout)
    sock.settimeout(left)


class _DeadlineSocket(socket.socket):
    """A socket whose every wait ends at the deadline of the request being made."""

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        _wait_at_most_until_the_deadline(self)
        return super().recv(bufsize, flags)

    def recv_into(self, buffer: "WriteableBuffer", nbytes: int = 0, flags: int = 0) -> int:
        _wait_at_most_until_the_deadline(self)
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: "ReadableBuffer", flags: int = 0) -> int:
        _wait_at_most_until_the_deadline(self)
        return super().send(data, flags)

    def sendall(self, data: "ReadableBuffer", flags: int = 0) -> None:
        _wait_at_most_until_the_deadline(self)
        super().sendall(data, flags)


class _DeadlineSSLSocket(ssl.SSLSocket):
    """The same for TLS (the SSLContext makes these: see tls_context), handshake included."""

    def do_handshake(self, block: bool = False) -> None:
        _wait_at_most_until_the_deadline(self)
        super().do_handshake(block)

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        _wait_at_most_until_the_deadline(self)
        return super().recv(buflen, flags)

    def recv_into(
        self, buffer: "WriteableBuffer", nbytes: int | None = None, flags: int = 0
    ) -> int:
        _wait_at_most_until_the_deadline(self)
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: "ReadableBuffer", flags: int = 0) -> int:
        _wait_at_most_until_the_deadline(self)
        return super().send(data, flags)


def _under_deadline(sock: socket.socket) -> socket.socket:
    """The same connected socket (its descriptor, its timeout) as a _DeadlineSocket."""
    timeout = sock.gettimeout()
    bound = _DeadlineSocket(sock.family, sock.type, sock.proto, sock.detach())
    bound.settimeout(timeout)
    return bound


# -- plain TCP --------------------------------------------------------------------------------


class _TCPConnection(urllib3.connection.HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _under_deadline(super()._new_conn())


class _TCPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _TCPConnection


class _TCPAdapter(requests.adapters.HTTPAdapter):
    """requests' own adapter, with sockets under the request's deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            **self.poolmanager.pool_classes_by_scheme,
            "http": _TCPPool,
        }


# -- unix sockets -----------------------------------------------------------------------------


class _UnixConnection(urllib3.connection.HTTPConnection):
    """HTTP over a unix socket, as requests-unixsocket's, with the socket under the deadline."""

    def __init__(self, socket_path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)  # urllib3 sets it again for each request
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = _DeadlineSocket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class _UnixPool(urllib3.HTTPConnectionPool):
    def __init__(self, socket_path: str) -> None:
        super().__init__("localhost")
        self._socket_path = socket_path

    def _new_conn(self) -> urllib3.connection.HTTPConnection:
        timeout = urllib3.util.Timeout.resolve_default_timeout(self.timeout.connect_timeout)
        return _UnixConnection(self._socket_path, timeout)


class _SocketAdapter(requests_unixsocket.UnixAdapter):  # type: ignore[misc]
    """One pool per socket: requests-unixsocket keys them by full URL, one per image name."""

    def get_connection(self, url: str, proxies: Any = None) -> Any:
        socket_path = unquote(url.split("://", 1)[1].split("/", 1)[0])
        with self.pools.lock:
            pool = self.pools.get(socket_path)
            if pool is None:
                pool = self.pools[socket_path] = _UnixPool(socket_path)
        return pool


class UnixTransport(Transport):
    """Any unix socket: the adapter serves every `http+unix://` URL, one pool per socket."""

    def mount(self, session: requests.Session) -> None:
        session.mount("http+unix://", _SocketAdapter())


# -- TLS --------------------------------------------------------------------------------------

# Handshake alerts by which a daemon says it will not take the client certificate offered.
_REFUSED_CLIENT_CERTIFICATE = {
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "SSLV3_ALERT_CERTIFICATE_REVOKED",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
    "SSLV3_ALERT_HANDSHAKE_FAILURE",
    "TLSV1_ALERT_UNKNOWN_CA",
    "TLSV1_ALERT_ACCESS_DENIED",
    "TLSV1_ALERT_DECRYPT_ERROR",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED",
}
# What OpenSSL says when the other side answers a ClientHello with something that is not TLS.
_NOT_TLS = {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"}
# OpenSSL's X509_V_ERR_* codes for the checks of the daemon's certificate worth naming.
_UNTRUSTED_ISSUER = {18, 19, 20, 21}  # self-signed, self-signed in chain, no issuer, no leaf sig
_EXPIRED, _NOT_YET_VALID = 10, 9
_WRONG_NAME = {62, 64}  # hostname mismatch, IP address mismatch


class _TLSAdapter(requests.adapters.HTTPAdapter):
    """HTTPS with our own SSLContext: docker's trust rules, not requests' (certifi, variables)."""

    def __init__(self, context: ssl.SSLContext, verify: bool) -> None:
        self._pool_kwargs: Mapping[str, Any] = {
            "ssl_context": context,
            "cert_reqs": "CERT_REQUIRED" if verify else "CERT_NONE",
            # None: the ssl module checks the name; False: nothing is checked (--tls alone).
            "assert_hostname": None if verify else False,
        }
        super().__init__(pool_connections=1, pool_maxsize=1)

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> urllib3.HTTPConnectionPool:
        url = urllib3.util.parse_url(request.url or "")
        pool: urllib3.HTTPConnectionPool = self.poolmanager.connection_from_host(
            url.host or "", url.port, scheme="https", pool_kwargs=dict(self._pool_kwargs)
        )
        return pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Nothing: requests would add certifi's CAs to the context docker's rules built."""


class TLSTransport(Transport):
    """TCP with TLS, as docker's tlsconfig.ClientDefault sets it up from the endpoint's files."""

    def __init__(self, endpoint: Endpoint, tls: TLSFiles) -> None:
        super().__init__(endpoint)
        self.tls = tls
        self._context = tls_context(tls)
        if not tls.verify:  # asked for (--tls alone, as in docker): no warning on every request
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    def mount(self, session: requests.Session) -> None:
        session.mount("https://", _TLSAdapter(self._context, self.tls.verify))

    def explain(self, exc: BaseException) -> DaemonError | None:
        where = f"the daemon at {self.endpoint.host}"
        for inner in causes(exc):
            if isinstance(inner, ssl.SSLCertVerificationError):
                return DaemonTLSError(self._server_refused(inner, where))
            if isinstance(inner, ssl.SSLEOFError):
                # Seen from dockerd given a certificate from a CA it does not trust.
                return DaemonTLSError(self._client_refused(where, "it closed the connection"))
            if isinstance(inner, ssl.SSLError):
                reason = inner.reason or ""
                if reason in _REFUSED_CLIENT_CERTIFICATE:
                    alert = reason.split("_ALERT_", 1)[-1].lower().replace("_", " ")
                    return DaemonTLSError(self._client_refused(where, alert))
                if reason in _NOT_TLS:
                    return DaemonTLSError(
                        f"TLS: {where} does not speak TLS (is it a plain-HTTP port? then drop "
                        f"--tls, --tlsverify, DOCKER_TLS and DOCKER_TLS_VERIFY) ({reason})"
                    )
                return DaemonTLSError(f"TLS with {where} failed: {_ssl_text(inner)}")
        return None

    def _server_refused(self, error: ssl.SSLCertVerificationError, where: str) -> str:
        """Our check of the daemon's certificate failed: say which check, against which CA."""
        check = error.verify_message or _ssl_text(error)
        trusted = f"the CA in {self.tls.ca}" if self.tls.ca else "a CA this system trusts"
        if error.verify_code in _UNTRUSTED_ISSUER:
            problem = f"is not signed by {trusted}"
        elif error.verify_code == _EXPIRED:
            problem = "has expired"
        elif error.verify_code == _NOT_YET_VALID:
            problem = "is not valid yet"
        elif error.verify_code in _WRONG_NAME:
            problem = f"is not issued for {self.endpoint.address.rsplit(':', 1)[0]}"
        else:
            problem = f"does not pass the check against {trusted}"
        return f"TLS: the certificate of {where} {problem} ({check})"

    def _client_refused(self, where: str, how: str) -> str:
        """The daemon would not take our client certificate, or wanted one we did not send."""
        if self.tls.cert is not None and self.tls.key is None:
            return (
                f"TLS: {where} requires a client certificate; {self.tls.cert} was not sent "
                f"because it has no key: use --tlskey, or put key.pem in DOCKER_CERT_PATH ({how})"
            )
        if self.tls.cert is None or self.tls.key is None:
            return (
                f"TLS: {where} requires a client certificate and none was given: use "
                "--tlscert and --tlskey, or put cert.pem and key.pem in DOCKER_CERT_PATH "
                f"({how})"
            )
        why = _validity_problem(self.tls.cert)
        if why is None:
            why = f"is it signed by a CA the daemon trusts? ({how})"
        else:
            why = f"{why} ({how})"
        return f"TLS: {where} refused the client certificate {self.tls.cert}: {why}"


def tls_context(tls: TLSFiles) -> ssl.SSLContext:
    """An SSLContext from TLS files, each failure naming the file and what is wrong with it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.sslsocket_class = _DeadlineSSLSocket
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # as docker's tlsconfig.ClientDefault
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.ca is not None:
        pem = _read(tls.ca, "the CA certificate")
        try:
            context.load_verify_locations(cadata=pem.decode("ascii", "replace"))
        except (ssl.SSLError, ValueError) as exc:
            raise DaemonTLSError(
                f"TLS: the CA file {tls.ca} holds no usable certificate ({_ssl_text(exc)})"
            ) from exc
    elif tls.verify:
        context.load_default_certs()  # docker (Go) trusts the system's CAs when it has no ca.pem
    if tls.cert is not None and tls.key is not None:
        _load_client_certificate(context, tls.cert, tls.key)
    return context


def _load_client_certificate(context: ssl.SSLContext, cert: str, key: str) -> None:
    cert_pem = _read(cert, "the client certificate")
    key_pem = _read(key, "the client key")
    if b"-----BEGIN CERTIFICATE-----" not in cert_pem:
        raise DaemonTLSError(f"TLS: the client certificate {cert} is not a PEM certificate")
    if not re.search(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----", key_pem):
        raise DaemonTLSError(f"TLS: the client key {key} is not a PEM private key")
    if b"ENCRYPTED" in key_pem:
        raise DaemonTLSError(
            f"TLS: the client key {key} is encrypted; docker no longer supports encrypted keys"
        )
    try:
        # A password (empty) so that OpenSSL never stops to ask for one on the terminal.
        context.load_cert_chain(cert, key, password="")
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise DaemonTLSError(
                f"TLS: the client key {key} does not belong to the certificate {cert}"
            ) from exc
        raise DaemonTLSError(
            f"TLS: cannot use the client certificate {cert} with the key {key} ({_ssl_text(exc)})"
        ) from exc
    except OSError as exc:
        raise DaemonTLSError(
            f"TLS: cannot read the client certificate {cert} or key {key}: {exc.strerror or exc}"
        ) from exc


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DaemonTLSError(f"TLS: cannot read {what} {path}: {exc.strerror or exc}") from exc


def _ssl_text(exc: BaseException) -> str:
    """OpenSSL's words without the `[SSL: X]` prefix and the `(_ssl.c:123)` suffix."""
    text = str(exc)
    text = re.sub(r"^\[[A-Z0-9_]+: [A-Z0-9_]+\] ", "", text)
    text = re.sub(r" \(_ssl\.c:[0-9]+\)$", "", text)
    return text or type(exc).__name__


def _validity_problem(cert_path: str) -> str | None:
    """'it expired on ...' or 'it is not valid until ...' for a certificate file, else None."""
    try:
        validity = certificate_validity(Path(cert_path).read_bytes())
    except OSError:
        return None
    if validity is None:
        return None
    not_before, not_after = validity
    now = datetime.now(UTC)
    if now > not_after:
        return f"it expired on {not_after:%Y-%m-%d %H:%M:%S} UTC"
    if now < not_before:
        return f"it is not valid until {not_before:%Y-%m-%d %H:%M:%S} UTC"
    return None


def certificate_validity(pem: bytes) -> tuple[datetime, datetime] | None:
    """notBefore and notAfter of the first certificate in PEM data; None if unreadable.

    The ssl module decodes only the certificates of live connections; this walks the DER.
    """
    match = re.search(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", pem, re.S)
    if match is None:
        return None
    try:
        der = base64.b64decode(b"".join(match[1].split()), validate=True)
        certificate = _der_children(der, 0, len(der))[0]
        tbs = _der_children(der, *_der_children(der, *certificate[1:])[0][1:])
        index = 1 if tbs[0][0] == 0xA0 else 0  # [0] version is optional
        validity = tbs[index + 3]
        times = _der_children(der, *validity[1:])
        return _der_time(der, times[0]), _der_time(der, times[1])
    except (ValueError, IndexError):
        return None


def _der_children(der: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """(tag, content start, content end) of each element between start and end."""
    children = []
    at = start
    while at < end:
        tag, length = der[at], der[at + 1]
        at += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(der[at : at + count], "big")
            at += count
        if at + length > end:
            raise ValueError("truncated DER")
        children.append((tag, at, at + length))
        at += length
    return children


def _der_time(der: bytes, element: tuple[int, int, int]) -> datetime:
    tag, start, end = element
    text = der[start:end].decode("ascii")
    if tag == 0x17:  # UTCTime: YYMMDDHHMMSSZ, years 1950-2049
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18:  # GeneralizedTime: YYYYMMDDHHMMSSZ
        raise ValueError(f"not a time: tag {tag:#x}")
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)


# -- ssh --------------------------------------------------------------------------------------

# How long a finished ssh may take to exit on its own before it is stopped.
SSH_EXIT_GRACE = 2.0


class SSHTransport(Transport):
    """HTTP through the stdin and stdout of `ssh ... -- host docker system dial-stdio`.

    docker's ssh connection helper does the same. ssh gets one end of a socket pair as its
    stdin and stdout, so requests and urllib3 see an ordinary socket, timeouts included.
    """

    def __init__(self, endpoint: Endpoint, log: Log) -> None:
        super().__init__(endpoint)
        self._log = log
        self._argv = ("ssh", *endpoint.ssh_args)
        self._running: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
        self._spawn_error: OSError | None = None

    def mount(self, session: requests.Session) -> None:
        session.mount("http+ssh://", _StdioAdapter(self))

    def spawn(self) -> socket.socket:
        """Start ssh; the returned socket is its other end."""
        import subprocess  # only ssh needs it: start-up stays lean
        import tempfile

        ours, theirs = socket.socketpair()
        errors = tempfile.TemporaryFile()  # noqa: SIM115 -- open until ssh is done, see close()
        try:
            process = subprocess.Popen(
                self._argv, stdin=theirs.fileno(), stdout=theirs.fileno(), stderr=errors
            )
        except OSError as exc:
            ours.close()
            errors.close()
            self._spawn_error = exc
            raise
        finally:
            theirs.close()
        self._running.append((process, errors))
        self._log(f"started {' '.join(self._argv)} (pid {process.pid})")
        return _under_deadline(ours)

    def explain(self, exc: BaseException) -> DaemonError | None:
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
        import subprocess

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
        import subprocess

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


class _StdioConnection(urllib3.connection.HTTPConnection):
    def __init__(self, transport: SSHTransport, timeout: Any) -> None:
        super().__init__("docker", timeout=timeout)
        self._transport = transport

    def connect(self) -> None:
        sock = self._transport.spawn()
        if isinstance(self.timeout, int | float):
            sock.settimeout(self.timeout)
        self.sock = sock


class _StdioPool(urllib3.HTTPConnectionPool):
    def __init__(self, transport: SSHTransport) -> None:
        super().__init__("docker", maxsize=1)
        self._transport = transport

    def _new_conn(self) -> urllib3.connection.HTTPConnection:
        return _StdioConnection(self._transport, self.timeout.connect_timeout)


class _StdioAdapter(requests.adapters.HTTPAdapter):
    """Every request through one pool whose connections are ssh processes."""

    def __init__(self, transport: SSHTransport) -> None:
        super().__init__(pool_connections=1, pool_maxsize=1)
        self._pool = _StdioPool(transport)

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> urllib3.HTTPConnectionPool:
        return self._pool

    def close(self) -> None:
        self._pool.close()
        super().close()
