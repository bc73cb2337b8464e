"""TLS to a tcp:// daemon, as docker's tlsconfig.ClientDefault sets it up from the endpoint's
files: the context, the handshake under the request's deadline, and what a failure means.

Loaded only for a daemon reached with TLS: the ssl module costs every other run its import.
"""

import base64
import re
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.errors import DaemonError, DaemonTLSError
from inspector.sources.daemon.connector import Connector, Log, causes, no_log
from inspector.sources.daemon.deadline import wait_at_most_until_the_deadline
from inspector.sources.daemon.endpoint import Endpoint, TLSFiles

if TYPE_CHECKING:
    from collections.abc import Callable

    from _typeshed import ReadableBuffer, WriteableBuffer

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


class TLSConnector(Connector[socket.socket]):
    """TCP, then a TLS handshake with docker's trust rules (not requests' certifi)."""

    default_port = 443

    def __init__(
        self,
        endpoint: Endpoint,
        timeout: float,
        socket_class: "Callable[[int, int, int], socket.socket]",
        log: Log = no_log,
        tried: tuple[Endpoint, ...] = (),
    ) -> None:
        super().__init__(endpoint, timeout, socket_class, log, tried)
        assert endpoint.tls is not None
        self.tls: TLSFiles = endpoint.tls
        self._context = tls_context(self.tls)

    def _open(self) -> socket.socket:
        sock = self._open_tcp()
        # The name checked against the daemon's certificate (an IP address too), and sent as
        # SNI when it is a name, as Go's crypto/tls does.
        name = self.endpoint.address.rpartition(":")[0].strip("[]")
        try:
            return self._context.wrap_socket(sock, server_hostname=name)
        except BaseException:
            sock.close()
            raise

    def _is_idle(self, sock: socket.socket) -> bool:
        pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
        return not pending and super()._is_idle(sock)

    def _explain(self, exc: BaseException) -> DaemonError | None:
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


class _DeadlineSSLSocket(ssl.SSLSocket):
    """A TLS socket whose every wait, the handshake's included, ends at the request's deadline
    (the SSLContext makes these: see tls_context)."""

    def do_handshake(self, block: bool = False) -> None:
        wait_at_most_until_the_deadline(self)
        super().do_handshake(block)

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        wait_at_most_until_the_deadline(self)
        return super().recv(buflen, flags)

    def recv_into(
        self, buffer: "WriteableBuffer", nbytes: int | None = None, flags: int = 0
    ) -> int:
        wait_at_most_until_the_deadline(self)
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: "ReadableBuffer", flags: int = 0) -> int:
        wait_at_most_until_the_deadline(self)
        return super().send(data, flags)


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
