"""Local image names for shell completion: one GET /images/json, quick, and silent on failure;
and the transports a name may start with (`docker://`, `oci:`...), which need no daemon.

A TAB waits for this, so it speaks HTTP/1.0 itself rather than through requests: importing
requests costs more than the whole answer, and even http.client brings email and ssl along.
Its socket is the connector's (connector.py), as every client's is, but a plain _socket one:
socket.py's enums, selectors and array are more than a TAB can afford. It gives up quietly: a
daemon that is unreachable, slow or strange completes nothing and prints nothing.
"""

import _socket
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from inspector import __version__
from inspector.errors import DaemonError, UsageError
from inspector.sources.daemon import DaemonFlags
from inspector.sources.daemon.connector import Connector
from inspector.sources.daemon.endpoint import Connection, docker_config_dir, resolve_connection

# For the whole answer: a TAB that hangs is worse than a TAB that offers nothing.
COMPLETION_TIMEOUT = 1.0
MAX_ANSWER_BYTES = 16 * 1024 * 1024
SHORT_ID_LENGTH = 12  # as `docker images` shows IDs
_ID_PREFIX = re.compile(r"(?P<algorithm>sha256:)?(?P<hex>[0-9a-f]*)")
_FULL_ID = re.compile(r"sha256:[0-9a-f]{64}")


# The transports a name may start with, offered for a TAB on a word that begins one. The shells
# add no space after them (the `nospace` kind): the rest of the name follows.
TRANSPORTS = (
    ("docker://", "an image in its registry"),
    ("docker-archive:", "an archive docker save wrote"),
    ("oci-archive:", "an OCI image archive"),
    ("oci:", "an OCI layout directory"),
)
# Click's CompletionItem types this module answers with.
PLAIN, NOSPACE = "plain", "nospace"


def complete_name(
    host_flag: str | None,
    incomplete: str,
    environ: Mapping[str, str],
    context_flag: str | None = None,
) -> list[tuple[str, str, str]]:
    """(candidate, description, kind) for a partly typed IMAGE: the daemon's image names, then
    the transports the word begins. A word already past a transport's prefix asks no daemon and
    no registry: a TAB never reaches the network for `docker://`, and paths are the shell's."""
    if any(incomplete.startswith(prefix) for prefix, _ in TRANSPORTS):
        return []
    images = complete_image(host_flag, incomplete, environ, context_flag)
    candidates = [(value, description, PLAIN) for value, description in images]
    if incomplete:  # an empty word is for local names: the transports are offered once begun
        candidates += [
            (prefix, description, NOSPACE)
            for prefix, description in TRANSPORTS
            if prefix.startswith(incomplete)
        ]
    return candidates


def complete_image(
    host_flag: str | None,
    incomplete: str,
    environ: Mapping[str, str],
    context_flag: str | None = None,
) -> list[tuple[str, str]]:
    """(candidate, description) for a partly typed IMAGE; none when the daemon cannot say."""
    try:
        flags = DaemonFlags(host=host_flag, context=context_flag, timeout=COMPLETION_TIMEOUT)
        connection = resolve_connection(flags, environ)
    except (UsageError, DaemonError, OSError, ValueError):
        return []
    for endpoint in (connection.endpoint, *connection.fallbacks):
        # Plain sockets only: TLS and ssh would cost a TAB more than it is worth.
        if endpoint.scheme == "ssh" or endpoint.tls is not None:
            return []
        try:
            images = list_images(connection._replace(endpoint=endpoint))
        except (DaemonError, OSError, ValueError, RecursionError):
            continue  # the next Podman socket, if any; else nothing
        return image_candidates(images, incomplete)
    return []


def list_images(connection: Connection) -> list[Any]:
    """The daemon's answer to GET /images/json: a list of image summaries."""
    version = f"/v{connection.api_version}" if connection.api_version else ""
    connector = Connector(connection.endpoint, connection.timeout, _socket.socket)
    # HTTP/1.0: the daemon answers with a Content-Length or by closing, never in chunks.
    request = (
        f"GET {version}/images/json HTTP/1.0\r\nHost: {connector.host_header}\r\n"
        f"User-Agent: imginspect/{__version__}\r\n\r\n"
    )
    deadline = time.monotonic() + connection.timeout
    sock = connector.connect()
    try:
        sock.sendall(request.encode())
        # The daemon takes a moment to list a few hundred images: load the parser their names
        # go through (compiling its regular expressions takes one too) while it does, not after.
        import inspector.reference  # noqa: F401

        head, body = _receive(sock, deadline)
    finally:
        sock.close()
    status_line, *header_lines = head.split(b"\r\n")
    if not re.fullmatch(rb"HTTP/1\.[01] 200(?: .*)?", status_line):
        raise DaemonError(f"GET /images/json answered {status_line[:40]!r}")
    if any(line.lower().startswith(b"transfer-encoding:") for line in header_lines):
        raise DaemonError("GET /images/json answered in an encoding HTTP/1.0 does not have")
    images = json.loads(body)
    if not isinstance(images, list):
        raise DaemonError("the answer to GET /images/json is not a list")
    return images


def _receive(sock: _socket.socket, deadline: float) -> tuple[bytes, bytes]:
    """The head and the body of the answer: Content-Length bytes of it, else all until EOF."""
    data = bytearray()
    while (end := data.find(b"\r\n\r\n")) < 0:
        if not _receive_more(sock, data, deadline):
            raise DaemonError("the daemon closed the connection before its answer's head")
    head, body = bytes(data[:end]), data[end + 4 :]
    length = re.search(rb"(?im)^content-length:[ \t]*([0-9]+)[ \t]*$", head)
    while length is None or len(body) < int(length[1]):
        if not _receive_more(sock, body, deadline):
            if length is not None:
                raise DaemonError("the daemon closed the connection before the end of its answer")
            break
    return head, bytes(body)


def _receive_more(sock: _socket.socket, data: bytearray, deadline: float) -> bool:
    """Append what the socket has to data; False at its end. Bounded in time and size."""
    left = deadline - time.monotonic()
    if left <= 0 or len(data) > MAX_ANSWER_BYTES:
        raise DaemonError("the answer to GET /images/json is too slow or too large")
    sock.settimeout(left)
    chunk = sock.recv(65536)
    data += chunk
    return bool(chunk)


def image_candidates(images: Sequence[Any], incomplete: str) -> list[tuple[str, str]]:
    """repo:tag names that start with the word; IDs too when the word is hex.

    Only what the command accepts is offered: a daemon's odd tag never reaches the shell.
    """
    from inspector.reference import parse_reference  # loaded while the daemon answered

    def is_reference(tag: object) -> bool:
        if not isinstance(tag, str) or tag == "<none>:<none>":
            return False
        try:
            parse_reference(tag)
        except UsageError:
            return False
        return True

    names: dict[str, str] = {}
    ids: dict[str, str] = {}
    id_prefix = _ID_PREFIX.fullmatch(incomplete)
    want_ids = id_prefix is not None and bool(id_prefix["algorithm"] or id_prefix["hex"])
    for image in images:
        if not isinstance(image, Mapping):
            continue
        image_id = image.get("Id")
        all_tags = image.get("RepoTags")
        if not isinstance(all_tags, list):  # null for an untagged image, or a daemon's oddity
            all_tags = []
        # Most of the images fit no word: parsing every tag would slow a TAB down for nothing.
        fitting = [tag for tag in all_tags if isinstance(tag, str) and tag.startswith(incomplete)]
        if not fitting and not want_ids:
            continue
        short_id = ""
        if isinstance(image_id, str) and _FULL_ID.fullmatch(image_id):
            short_id = image_id.removeprefix("sha256:")[:SHORT_ID_LENGTH]
        for tag in fitting:
            if is_reference(tag):
                names[tag] = short_id
        if want_ids and short_id and isinstance(image_id, str):
            candidate = _id_candidate(image_id, incomplete)
            if candidate.startswith(incomplete):
                tags = [tag for tag in all_tags if is_reference(tag)]
                ids[candidate] = " ".join(tags) or "untagged"
    return sorted(names.items()) + sorted(ids.items())


def _id_candidate(image_id: str, incomplete: str) -> str:
    """The ID in the form the word has begun: sha256:<hex>, a short ID, or the full hex."""
    if incomplete.startswith("sha256:"):
        return image_id
    full = image_id.removeprefix("sha256:")
    return full[:SHORT_ID_LENGTH] if len(incomplete) < SHORT_ID_LENGTH else full


def complete_context(incomplete: str, environ: Mapping[str, str]) -> list[str]:
    """The names of docker's contexts (and `default`) that start with what is typed."""
    import contextlib  # a TAB on an image name does without these
    from pathlib import Path

    names = {"default"}
    with contextlib.suppress(OSError):
        for meta in Path(docker_config_dir(environ), "contexts", "meta").glob("*/meta.json"):
            with contextlib.suppress(OSError, ValueError):
                name = json.loads(meta.read_bytes()).get("Name")
                if isinstance(name, str) and name.isprintable():
                    names.add(name)
    return sorted(name for name in names if name.startswith(incomplete))
