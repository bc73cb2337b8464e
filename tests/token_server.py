"""A registry token server, as Docker Hub's auth service answers `docker login` and pulls.

distribution's `auth: token` sends a client without a token to the realm with a
`WWW-Authenticate: Bearer realm=...,service=...,scope=...` challenge; the client asks the realm
(`GET ?service=S&scope=repository:NAME:pull`, with basic credentials or none) for a JWT and
shows it to the registry. The registry trusts a token whose `iss` is its `issuer`, whose `aud`
is its `service`, and whose signing key it finds: the `kid` header is the libtrust key ID of a
public key in its `rootcertbundle`. Tokens are RS256, signed with `openssl dgst -sha256 -sign`.

Anyone may pull a repository under `public/`; the one user may push and pull everything.
Every request is recorded, so that tests can count the tokens a run asks for.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import http.server
import json
import secrets
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from tests.tls_certs import OPENSSL_TIMEOUT

TOKEN_LIFETIME = 300
PUBLIC_PREFIX = "public/"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def libtrust_key_id(public_key_der: bytes) -> str:
    """docker/libtrust's key ID: the SHA-256 of the DER SubjectPublicKeyInfo, cut to 240
    bits, in base32, in groups of four joined by colons (distribution's `kid`)."""
    encoded = base64.b32encode(hashlib.sha256(public_key_der).digest()[:30]).decode()
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def _pem_body(pem: str) -> bytes:
    lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    return base64.b64decode("".join(lines))


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(
        ["openssl", *args],
        input=data,
        stdin=None if data is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=OPENSSL_TIMEOUT,
        check=True,
    ).stdout


@dataclasses.dataclass(frozen=True)
class SigningKey:
    """An RSA key and its self-signed certificate: the registry's `rootcertbundle`."""

    key: Path
    cert: Path
    key_id: str

    def sign(self, claims: dict[str, object]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "kid": self.key_id}
        signing_input = f"{b64url(compact(header))}.{b64url(compact(claims))}"
        signature = _openssl("dgst", "-sha256", "-sign", str(self.key), data=signing_input.encode())
        return f"{signing_input}.{b64url(signature)}"


def make_signing_key(directory: Path) -> SigningKey:
    directory.mkdir(parents=True, exist_ok=True)
    key, cert = directory / "token-key.pem", directory / "token.pem"
    _openssl(
        "req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048",
        "-keyout", str(key), "-out", str(cert), "-days", "30",
        "-subj", "/CN=imginspect test token issuer",
    )  # fmt: skip
    public_pem = _openssl("x509", "-in", str(cert), "-noout", "-pubkey").decode()
    return SigningKey(key, cert, libtrust_key_id(_pem_body(public_pem)))


@dataclasses.dataclass(frozen=True)
class TokenRequest:
    """One request to the realm: who asked (None: anonymous), for what, and what it got."""

    account: str | None
    service: str
    scopes: tuple[str, ...]
    # The scopes the token grants, as `repository:NAME:ACTIONS`; empty when refused.
    granted: tuple[str, ...]
    status: int


class TokenServer:
    """The realm on http://127.0.0.1:PORT/token, on a thread of the test process."""

    def __init__(
        self, key: SigningKey, *, service: str, issuer: str, users: dict[str, str]
    ) -> None:
        self.key = key
        self.service = service
        self.issuer = issuer
        self.users = dict(users)
        # Seconds each token lasts (`exp` and `expires_in`); tests of expiry shorten it.
        self.lifetime = TOKEN_LIFETIME
        self._lock = threading.Lock()
        self._requests: list[TokenRequest] = []
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"

    # -- what tests read ---------------------------------------------------------------------

    def requests(self) -> list[TokenRequest]:
        with self._lock:
            return list(self._requests)

    def count(self, scope: str | None = None) -> int:
        """Tokens issued (status 200), or those that asked for scope among theirs."""
        return sum(
            1
            for request in self.requests()
            if request.status == 200 and (scope is None or scope in request.scopes)
        )

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- answering ---------------------------------------------------------------------------

    def grant(self, account: str | None, scope: str) -> tuple[str, str, list[str]] | None:
        """(type, name, actions) that scope is granted, or None for a scope not understood."""
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind != "repository" or not name:
            return None
        wanted = [action for action in actions.split(",") if action]
        if account is not None:
            allowed = {"pull", "push", "delete", "*"}
        elif name.startswith(PUBLIC_PREFIX):
            allowed = {"pull"}
        else:
            allowed = set()
        return kind, name, [action for action in wanted if action in allowed]

    def answer(
        self, query: dict[str, list[str]], authorization: str | None
    ) -> tuple[int, dict[str, object]]:
        service = (query.get("service") or [""])[0]
        scopes = tuple(scope for value in query.get("scope", []) for scope in value.split(" "))
        account: str | None = None
        status = 200
        body: dict[str, object] = {}
        if authorization is not None:
            account = self._check_basic(authorization)
            if account is None:
                status, body = 401, {"details": "incorrect username or password"}
        if status == 200 and service != self.service:
            status, body = 400, {"details": f"unknown service {service!r}"}
        access: list[dict[str, str | list[str]]] = []
        if status == 200:
            for scope in scopes:
                granted = self.grant(account, scope)
                if granted is not None and granted[2]:
                    kind, name, actions = granted
                    access.append({"type": kind, "name": name, "actions": actions})
            now = int(time.time())
            token = self.key.sign(
                {
                    "iss": self.issuer,
                    "sub": account or "",
                    "aud": self.service,
                    "exp": now + self.lifetime,
                    "nbf": now - 10,
                    "iat": now,
                    "jti": secrets.token_hex(16),
                    "access": access,
                }
            )
            issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
            body = {
                "token": token,
                "access_token": token,
                "expires_in": self.lifetime,
                "issued_at": issued,
            }
        granted_scopes = tuple(
            f"{entry['type']}:{entry['name']}:{','.join(entry['actions'])}" for entry in access
        )
        with self._lock:
            self._requests.append(TokenRequest(account, service, scopes, granted_scopes, status))
        return status, body

    def _check_basic(self, authorization: str) -> str | None:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        known = self.users.get(user)
        if known is None or not secrets.compare_digest(known, password):
            return None
        return user

    @contextlib.contextmanager
    def running(self) -> Iterator[TokenServer]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join(10.0)


def _handler(server: TokenServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/token":
                self._send(404, {"details": "not found"})
                return
            query = urllib.parse.parse_qs(url.query)
            status, body = server.answer(query, self.headers.get("Authorization"))
            self._send(status, body)

        def _send(self, status: int, body: dict[str, object]) -> None:
            data = compact(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            # The requests are recorded; stderr stays for the tests' own output.
            return

    return Handler
