"""The Registry HTTP API v2, as a pull reads it: where a registry answers (HTTPS, or plain
HTTP where docker allows it), its challenge, manifests and config blobs, each checked against
the digest it was asked by, and each answer that is no manifest read into the error it means.

Each registry is first asked `GET /v2/`, as docker asks it: the answer says which scheme
reaches it and which challenge (bearer, basic, none) its requests must meet. Some registries
let `/v2/` through and challenge only a repository's requests: the challenge of such a 401 is
learnt for the registry and met, once per request. A bearer token the registry refuses with a
401 is asked for again, once. Nothing the run
has answered is asked twice: one `GET /v2/` per registry, one manifest per digest or tag, one
config per digest.
"""

import hashlib
import json
import re
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

from inspector.errors import (
    ImageNotFound,
    RegistryBadResponse,
    RegistryDenied,
    RegistryError,
    RegistryErrorResponse,
    RegistryUnreachable,
    RegistryUnsupported,
)
from inspector.sources.interface import Say
from inspector.sources.registry import RegistryFlags
from inspector.sources.registry.auth import (
    Authorizer,
    Challenge,
    error_codes,
    error_message,
    parse_challenges,
)
from inspector.sources.registry.memo import Memo
from inspector.sources.registry.names import RegistryName
from inspector.sources.registry.transport import (
    Answer,
    BodyStream,
    Deadline,
    Transport,
    is_default_insecure,
)

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
INDEXES = (DOCKER_LIST, OCI_INDEX)
MANIFESTS = (DOCKER_MANIFEST, OCI_MANIFEST)
ACCEPT = ", ".join((*INDEXES, *MANIFESTS))
CONFIGS = (
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.image.config.v1+json",
)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_CONFIG_BYTES = 8 * 1024 * 1024
MAX_PING_BYTES = 64 * 1024
# What a registry says of a repository, tag or digest it does not have.
_UNKNOWN = {"NAME_UNKNOWN", "MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "NOT_FOUND"}
_DIGEST = re.compile(r"(sha256|sha384|sha512):([a-f0-9]+)")
_HASH_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


class Manifest(NamedTuple):
    """A manifest or index as the registry sent it, with its digest (checked)."""

    digest: str
    media_type: str
    body: bytes
    document: Mapping[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEXES


class Endpoint(NamedTuple):
    """Where a registry answers, and what its requests must carry."""

    base: str  # `https://host:port`
    verify: bool
    challenge: Challenge | None


class RegistryClient:
    """Every registry of one run, shared by the threads that fetch its images."""

    def __init__(self, flags: RegistryFlags, log: Say | None, *, pool_size: int) -> None:
        self._insecure = frozenset(flags.insecure)
        self._transport = Transport(flags.timeout, log, pool_size=pool_size)
        self._auth = Authorizer(self._transport, log=log)
        self._log = log
        self._endpoints: Memo[str, Endpoint] = Memo()
        # Challenges learnt from a 401 to a request, for registries whose /v2/ set none.
        self._learnt: dict[str, Challenge] = {}
        self._learnt_lock = threading.Lock()
        self._manifests: Memo[tuple[str, str, str], Manifest] = Memo()
        self._configs: Memo[tuple[str, str, str], bytes] = Memo()

    def close(self) -> None:
        self._transport.close()

    def manifest(self, name: RegistryName, reference: str, deadline: Deadline) -> Manifest:
        """The manifest or index a tag or digest names in the image's repository."""
        key = (name.api_host, name.repository, reference)
        return self._manifests.get(key, lambda: self._manifest(name, reference, deadline), deadline)

    def layer(
        self, name: RegistryName, descriptor: Mapping[str, Any], deadline: Deadline
    ) -> BodyStream:
        """The layer blob a manifest's descriptor names, to read as it arrives (its request
        within the deadline); the caller checks it against its digest. Nothing is kept."""
        digest = descriptor.get("digest")
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise RegistryBadResponse(
                f"registry {name.registry}: {name.canonical}: its manifest names a layer "
                "without a digest"
            )
        path = f"/v2/{name.repository}/blobs/{digest}"
        answer = self._get(name, path, deadline, cap=MAX_CONFIG_BYTES, redirects=True, stream=True)
        if answer.stream is None:
            if answer.status == 404 or error_codes(answer.body) & _UNKNOWN:
                raise RegistryBadResponse(
                    f"registry {name.registry}: {name.canonical}: the layer blob {digest} its "
                    "manifest names is not in the registry"
                )
            self._check_status(name, answer, f"the layer blob {digest}")
        assert answer.stream is not None  # only a 200 passes, and a 200 is left to stream
        return answer.stream

    def config(
        self, name: RegistryName, descriptor: Mapping[str, Any], deadline: Deadline
    ) -> bytes:
        """The config blob a manifest's descriptor names, checked against its digest and size."""
        digest = descriptor.get("digest")
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise RegistryBadResponse(
                f"registry {name.registry}: {name.canonical}: its manifest names no config digest"
            )
        key = (name.api_host, name.repository, digest)
        return self._configs.get(
            key, lambda: self._config(name, descriptor, digest, deadline), deadline
        )

    # -- the requests ----------------------------------------------------------------------

    def _manifest(self, name: RegistryName, reference: str, deadline: Deadline) -> Manifest:
        path = f"/v2/{name.repository}/manifests/{reference}"
        answer = self._get(name, path, deadline, cap=MAX_MANIFEST_BYTES, accept=ACCEPT)
        shown = f"{name.registry}/{name.repository}{'@' if ':' in reference else ':'}{reference}"
        self._check_status(name, answer, shown)
        media_type = answer.headers.get("Content-Type", "").partition(";")[0].strip()
        try:
            document = json.loads(answer.body)
        except (ValueError, RecursionError) as exc:
            if media_type in SCHEMA1:
                raise _schema1(name, shown) from exc
            raise RegistryBadResponse(
                f"registry {name.registry}: the manifest of {shown} is not JSON"
            ) from exc
        if not isinstance(document, dict):
            raise RegistryBadResponse(
                f"registry {name.registry}: the manifest of {shown} is not a JSON object"
            )
        media_type = _media_type(media_type, document)
        if media_type in SCHEMA1 or document.get("schemaVersion") == 1:
            raise _schema1(name, shown)
        if media_type not in (*INDEXES, *MANIFESTS):
            raise RegistryUnsupported(
                f"registry {name.registry}: {shown} is a "
                f"{media_type[:100] or 'manifest of no known type'}, not an image manifest or index"
            )
        digest = _checked_digest(name, answer, reference, shown)
        return Manifest(digest, media_type, answer.body, document)

    def _config(
        self, name: RegistryName, descriptor: Mapping[str, Any], digest: str, deadline: Deadline
    ) -> bytes:
        media_type = descriptor.get("mediaType")
        if isinstance(media_type, str) and media_type not in CONFIGS:
            raise RegistryUnsupported(
                f"registry {name.registry}: {name.canonical} is not a container image: its "
                f"config is {media_type[:100]}"
            )
        path = f"/v2/{name.repository}/blobs/{digest}"
        # Registries send blobs to storage elsewhere: a blob, and only a blob, follows redirects.
        answer = self._get(name, path, deadline, cap=MAX_CONFIG_BYTES, redirects=True)
        if answer.status == 404 or error_codes(answer.body) & _UNKNOWN:
            raise RegistryBadResponse(
                f"registry {name.registry}: {name.canonical}: the config blob {digest} its "
                "manifest names is not in the registry"
            )
        self._check_status(name, answer, f"the config blob {digest}")
        if _digest_of(answer.body, digest.partition(":")[0]) != digest:
            raise RegistryBadResponse(
                f"registry {name.registry}: the config blob sent for {digest} does not have "
                "that digest"
            )
        size = descriptor.get("size")
        if isinstance(size, int) and size != len(answer.body):
            raise RegistryBadResponse(
                f"registry {name.registry}: the config blob {digest} is {len(answer.body)} "
                f"bytes; its manifest says {size}"
            )
        return answer.body

    def _get(
        self,
        name: RegistryName,
        path: str,
        deadline: Deadline,
        *,
        cap: int,
        accept: str | None = None,
        redirects: bool = False,
        stream: bool = False,
    ) -> Answer:
        """A request to the image's registry, with the authorization its challenge asks for;
        with stream, a 200's body left to read from the answer's stream."""
        endpoint = self._endpoints.get(
            name.api_host, lambda: self._find_endpoint(name, deadline), deadline
        )
        scope = f"repository:{name.repository}:pull"
        session = self._transport.session(name.api_host, verify=endpoint.verify)
        retried = False
        while True:
            with self._learnt_lock:
                challenge = endpoint.challenge or self._learnt.get(name.api_host)
            authorization = self._auth.header(name.registry, challenge, scope, deadline)
            headers = {**authorization, **({"Accept": accept} if accept else {})}
            answer = self._transport.get(
                session,
                endpoint.base + path,
                registry=name.registry,
                deadline=deadline,
                cap=cap,
                headers=headers,
                redirects=redirects,
                verify=endpoint.verify,
                stream=stream,
            )
            if answer.status != 401 or retried:
                return answer
            retried = True
            if authorization:
                # A token that expired early, or that the registry no longer takes: another.
                if not self._auth.renew(name.registry, scope, authorization):
                    return answer
                continue
            learnt = _challenge(answer)
            if learnt is None:
                return answer
            with self._learnt_lock:
                self._learnt.setdefault(name.api_host, learnt)
            if self._log is not None:
                self._log(
                    f"registry {name.registry}: GET /v2/ set no challenge; following the "
                    f"{learnt.scheme} challenge of a 401 to {path}"
                )

    def _find_endpoint(self, name: RegistryName, deadline: Deadline) -> Endpoint:
        """`GET /v2/` over HTTPS; for an insecure registry, as docker reaches one, over HTTPS
        without verification, then over plain HTTP if that fails."""
        host = name.api_host
        insecure = host in self._insecure or is_default_insecure(host)
        candidates = [("https", not insecure)] + ([("http", False)] if insecure else [])
        failure: RegistryError | None = None
        for scheme, verify in candidates:
            base = f"{scheme}://{host}"
            session = self._transport.session(host, verify=verify)
            try:
                answer = self._transport.get(
                    session,
                    f"{base}/v2/",
                    registry=name.registry,
                    deadline=deadline,
                    cap=MAX_PING_BYTES,
                    verify=verify,
                )
            except RegistryUnreachable as exc:  # TLS included: an HTTP server refuses a handshake
                failure = exc
                continue
            if answer.status >= 500:
                raise RegistryErrorResponse(
                    f"registry {name.registry}: GET /v2/ answered {answer.status}"
                    + _said(answer.body)
                )
            return Endpoint(base, verify, _challenge(answer))
        assert failure is not None
        raise failure

    def _check_status(self, name: RegistryName, answer: Answer, shown: str) -> None:
        """Nothing for a 200; else the error the answer means."""
        status = answer.status
        if status == 200:
            return
        codes = error_codes(answer.body)
        if status == 404 or codes & _UNKNOWN:
            raise ImageNotFound(
                f"{name.text}: not found in registry {name.registry}{_said(answer.body)}"
            )
        if status in (401, 403) or codes & {"UNAUTHORIZED", "DENIED"}:
            raise RegistryDenied(
                f"registry {name.registry}: pull of {name.registry}/{name.repository} denied"
                f"{_said(answer.body)} (does the repository exist, and does it need docker login?)"
            )
        if 300 <= status < 400:
            raise RegistryBadResponse(
                f"registry {name.registry}: {shown} was redirected (to "
                f"{answer.headers.get('Location', 'nowhere')[:100]}); only blobs may be"
            )
        raise RegistryErrorResponse(
            f"registry {name.registry}: {shown}: it answered {status}{_said(answer.body)}"
        )


def _said(body: bytes) -> str:
    message = error_message(body)
    return f": {message}" if message else ""


def _challenge(answer: Answer) -> Challenge | None:
    """The challenge a 401 to `GET /v2/` sets: bearer if offered, else basic; None for none."""
    if answer.status != 401:
        return None
    challenges = parse_challenges(answer.headers.get("WWW-Authenticate", ""))
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def _media_type(content_type: str, document: Mapping[str, Any]) -> str:
    """The manifest's media type: its own mediaType field, else the Content-Type, else what
    its fields say (an OCI manifest or index may name none)."""
    field = document.get("mediaType")
    if isinstance(field, str) and field:
        return field
    if content_type in (*INDEXES, *MANIFESTS, *SCHEMA1):
        return content_type
    if isinstance(document.get("manifests"), list):
        return OCI_INDEX
    if isinstance(document.get("config"), dict):
        return OCI_MANIFEST
    return content_type


def _checked_digest(name: RegistryName, answer: Answer, reference: str, shown: str) -> str:
    """The manifest's digest, checked against the digest asked for and the one the registry
    says it sent (Docker-Content-Digest)."""
    asked = _DIGEST.fullmatch(reference)
    algorithm = asked[1] if asked else "sha256"
    digest = _digest_of(answer.body, algorithm)
    if asked and digest != reference:
        raise RegistryBadResponse(
            f"registry {name.registry}: the manifest sent for {shown} does not have that digest"
        )
    said = answer.headers.get("Docker-Content-Digest", "")
    said_match = _DIGEST.fullmatch(said)
    if said_match and _digest_of(answer.body, said_match[1]) != said:
        raise RegistryBadResponse(
            f"registry {name.registry}: the manifest sent for {shown} does not have the digest its "
            f"Docker-Content-Digest says ({said[:80]})"
        )
    return digest


def _digest_of(body: bytes, algorithm: str) -> str:
    if algorithm not in _HASH_LENGTHS:
        algorithm = "sha256"
    return f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


def _schema1(name: RegistryName, shown: str) -> RegistryUnsupported:
    return RegistryUnsupported(
        f"registry {name.registry}: {shown} has only a Docker schema 1 manifest, which docker "
        "no longer pulls and imginspect does not read"
    )
