"""Authorization as docker does it: the challenge in a registry's 401 to `GET /v2/`, then a
bearer token for the repository's pull scope (anonymous, or with credentials), or basic auth.

One token per scope per run: images of the same repository, asked at once, wait for the first
one's token rather than each asking for it. A token is used until its `expires_in` has passed
(60 seconds when the service says nothing, docker's default), then asked for again once; so is a
token the registry refuses with a 401.
"""

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlencode, urlsplit

from inspector.errors import RegistryBadResponse, RegistryDenied, RegistryErrorResponse
from inspector.sources.registry.memo import Memo
from inspector.sources.registry.transport import Deadline, Transport

if TYPE_CHECKING:
    from inspector.sources.registry.credentials import Credentials

MAX_TOKEN_BYTES = 1024 * 1024
# docker's client ID for its OAuth token requests.
CLIENT_ID = "docker"
# docker's lifetime for a token whose service gives none.
DEFAULT_TOKEN_LIFETIME = 60.0

# RFC 7235: a scheme, then auth-params `name=token` or `name="quoted string"`, comma-separated.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|{_TOKEN})\s*(?:,|$)')
_SCHEME = re.compile(rf"\s*,?\s*({_TOKEN})(?:\s+|$)")


class Challenge(NamedTuple):
    scheme: str  # lowercase: `bearer`, `basic`
    params: Mapping[str, str]  # names lowercase


def parse_challenges(header: str) -> list[Challenge]:
    """The challenges of a WWW-Authenticate header, as docker's challenge manager reads them."""
    challenges: list[Challenge] = []
    position = 0
    while position < len(header):
        scheme = _SCHEME.match(header, position)
        if scheme is None:
            break
        position = scheme.end()
        params: dict[str, str] = {}
        while True:
            param = _PARAM.match(header, position)
            if param is None:
                break
            value = param[2]
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[param[1].lower()] = value
            position = param.end()
        challenges.append(Challenge(scheme[1].lower(), params))
        if not params:  # a scheme alone, or something unreadable after it
            break
    return challenges


class Token(NamedTuple):
    value: str
    expires: float  # on time.monotonic()'s clock


class Authorizer:
    """The Authorization header each request to a registry needs, from its challenge."""

    def __init__(
        self,
        transport: Transport,
        find: "Callable[[str], Credentials | None] | None" = None,
        log: "Callable[[str], None] | None" = None,
    ) -> None:
        self._transport = transport
        self._find = find or (lambda registry: _find_credentials(registry, log))
        self._credentials: Memo[str, Credentials | None] = Memo()
        # By (registry, scope, generation): a new generation is a new token, asked once.
        self._tokens: Memo[tuple[str, str, int], Token] = Memo()
        self._generations: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def renew(self, registry: str, scope: str, header: Mapping[str, str]) -> bool:
        """Forget the token sent in header (the registry refused it): the next header() asks
        for another, once for all the threads that were using it. False if header held no
        token of this authorizer's, so that asking again would change nothing."""
        sent = header.get("Authorization", "")
        if not sent.startswith("Bearer "):
            return False
        key = (registry, scope)
        with self._lock:
            generation = self._generations.get(key, 0)
        current = self._tokens.peek((registry, scope, generation))
        if current is not None and current.value != sent.removeprefix("Bearer "):
            return True  # another thread has renewed it already
        with self._lock:
            if self._generations.get(key, 0) == generation:
                self._generations[key] = generation + 1
        return True

    def header(
        self,
        registry: str,
        challenge: Challenge | None,
        scope: str,
        deadline: Deadline,
    ) -> dict[str, str]:
        """What to send for the scope (`repository:library/nginx:pull`); {} for nothing."""
        if challenge is None:
            return {}
        credentials = self._credentials.get(registry, lambda: self._find(registry), deadline)
        if challenge.scheme == "basic":
            if credentials is None or not credentials.secret:
                return {}
            return {"Authorization": _basic(credentials)}
        if challenge.scheme != "bearer":
            return {}
        key = (registry, scope)
        with self._lock:
            generation = self._generations.get(key, 0)
        token = self._tokens.get(
            (registry, scope, generation),
            lambda: self._token(registry, challenge, scope, credentials, deadline),
            deadline,
        )
        if token.expires <= time.monotonic():
            # Expired during the run: one new token for every thread that finds it so.
            with self._lock:
                if self._generations.get(key, 0) == generation:
                    self._generations[key] = generation + 1
                generation = self._generations[key]
            token = self._tokens.get(
                (registry, scope, generation),
                lambda: self._token(registry, challenge, scope, credentials, deadline),
                deadline,
            )
        return {"Authorization": f"Bearer {token.value}"}

    def _token(
        self,
        registry: str,
        challenge: Challenge,
        scope: str,
        credentials: "Credentials | None",
        deadline: Deadline,
    ) -> Token:
        asked = time.monotonic()  # the lifetime counts from the asking: never too late
        realm = challenge.params.get("realm", "")
        if urlsplit(realm).scheme not in ("http", "https") or not urlsplit(realm).netloc:
            raise RegistryBadResponse(
                f"registry {registry}: its bearer challenge names no usable token service "
                f"({realm[:100]!r})"
            )
        service = challenge.params.get("service")
        session = self._transport.session(urlsplit(realm).netloc, verify=True)
        if credentials is not None and credentials.identity_token:
            # docker's OAuth flow: the identity token is a refresh token, POSTed for a token.
            form = {
                "grant_type": "refresh_token",
                "refresh_token": credentials.identity_token,
                "client_id": CLIENT_ID,
                "scope": scope,
            }
            if service:
                form["service"] = service
            answer = self._transport.get(
                session,
                realm,
                registry=registry,
                deadline=deadline,
                cap=MAX_TOKEN_BYTES,
                method="POST",
                data=form,
                redirects=True,
            )
        else:
            query = {"scope": scope, **({"service": service} if service else {})}
            headers = {}
            if credentials is not None and credentials.secret:
                query["account"] = credentials.username
                headers["Authorization"] = _basic(credentials)
            separator = "&" if urlsplit(realm).query else "?"
            answer = self._transport.get(
                session,
                f"{realm}{separator}{urlencode(query)}",
                registry=registry,
                deadline=deadline,
                cap=MAX_TOKEN_BYTES,
                headers=headers,
                redirects=True,
            )
        if answer.status in (401, 403):
            raise RegistryDenied(
                f"registry {registry}: the token service refused "
                f"{'the credentials' if credentials else 'an anonymous pull'} for {scope}: "
                f"{error_message(answer.body) or answer.status}"
            )
        if answer.status != 200:
            raise RegistryErrorResponse(
                f"registry {registry}: the token service answered {answer.status}"
                + (f": {error_message(answer.body)}" if error_message(answer.body) else "")
            )
        try:
            value = json.loads(answer.body)
        except (ValueError, RecursionError) as exc:
            raise RegistryBadResponse(
                f"registry {registry}: the token service answered no JSON"
            ) from exc
        token = value.get("token") or value.get("access_token") if isinstance(value, dict) else None
        if not isinstance(token, str) or not token or not token.isprintable():
            raise RegistryBadResponse(f"registry {registry}: the token service answered no token")
        return Token(token, asked + _lifetime(value))


def _lifetime(answer: Mapping[str, object]) -> float:
    """The seconds a token answer says it lasts. docker raises an `expires_in` under 60 to 60;
    a shorter one is honoured here, as it costs one more token request at worst, where using a
    token past its time costs the image."""
    expires_in = answer.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)):
        return DEFAULT_TOKEN_LIFETIME
    if expires_in <= 0:
        return DEFAULT_TOKEN_LIFETIME
    return float(min(expires_in, 24 * 3600))


def _find_credentials(registry: str, log: "Callable[[str], None] | None") -> "Credentials | None":
    """docker's credentials for the registry: read only once a registry challenges."""
    import os

    from inspector.sources.registry.credentials import find_credentials

    return find_credentials(registry, os.environ, log)


def _basic(credentials: "Credentials") -> str:
    pair = f"{credentials.username}:{credentials.secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def error_message(body: bytes) -> str:
    """The registry's own words for an error: `errors[].message` (with its code), or a token
    service's `details`/`error`; at most 200 characters."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(value, dict):
        return ""
    errors = value.get("errors")
    if isinstance(errors, list):
        said = []
        for error in errors:
            if isinstance(error, dict):
                message = error.get("message")
                code = error.get("code")
                said.append(
                    " ".join(
                        part
                        for part in (
                            message if isinstance(message, str) else "",
                            f"({code})" if isinstance(code, str) else "",
                        )
                        if part
                    )
                )
        return "; ".join(part for part in said if part)[:200]
    for key in ("details", "error_description", "error", "message"):
        if isinstance(value.get(key), str):
            return str(value[key])[:200]
    return ""


def error_codes(body: bytes) -> set[str]:
    """The `errors[].code` of a registry's error answer."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return set()
    errors = value.get("errors") if isinstance(value, dict) else None
    if not isinstance(errors, list):
        return set()
    return {
        error["code"]
        for error in errors
        if isinstance(error, dict) and isinstance(error.get("code"), str)
    }
