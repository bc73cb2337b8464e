"""Local image names for shell completion: one GET /images/json, quick, and silent on failure.

A TAB waits for this, so it uses the standard library's http.client rather than the requests
stack of daemon.py (importing requests costs more than the whole answer), and it gives up
quietly: a daemon that is unreachable, slow or strange completes nothing and prints nothing.
"""

import http.client
import json
import re
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

from inspector import __version__
from inspector.connection import Connection, resolve_connection
from inspector.errors import DaemonError, UsageError
from inspector.reference import parse_reference

# For the whole answer: a TAB that hangs is worse than a TAB that offers nothing.
COMPLETION_TIMEOUT = 1.0
MAX_ANSWER_BYTES = 16 * 1024 * 1024
SHORT_ID_LENGTH = 12  # as `docker images` shows IDs
_ID_PREFIX = re.compile(r"(?P<algorithm>sha256:)?(?P<hex>[0-9a-f]*)")
_FULL_ID = re.compile(r"sha256:[0-9a-f]{64}")


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def complete_image(
    host_flag: str | None, incomplete: str, environ: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(candidate, description) for a partly typed IMAGE; none when the daemon cannot say."""
    try:
        connection = resolve_connection(host_flag, COMPLETION_TIMEOUT, environ)
        images = list_images(connection)
    except (UsageError, DaemonError, OSError, http.client.HTTPException, ValueError):
        return []
    except RecursionError:  # JSON nested too deep to decode
        return []
    return image_candidates(images, incomplete)


def list_images(connection: Connection) -> list[Any]:
    """The daemon's answer to GET /images/json: a list of image summaries."""
    endpoint = connection.endpoint
    conn: http.client.HTTPConnection
    if endpoint.scheme == "unix":
        conn = _UnixHTTPConnection(endpoint.address, connection.timeout)
    else:
        conn = http.client.HTTPConnection(endpoint.address, timeout=connection.timeout)
    version = f"/v{connection.api_version}" if connection.api_version else ""
    deadline = time.monotonic() + connection.timeout
    try:
        conn.request(
            "GET",
            f"{version}/images/json",
            headers={"User-Agent": f"imginspect/{__version__}", "Accept-Encoding": "identity"},
        )
        response = conn.getresponse()
        if response.status != 200:
            raise DaemonError(f"GET /images/json answered {response.status}")
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read1(65536):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES or time.monotonic() > deadline:
                raise DaemonError("the answer to GET /images/json is too large or too slow")
            chunks.append(chunk)
    finally:
        conn.close()
    images = json.loads(b"".join(chunks))
    if not isinstance(images, list):
        raise DaemonError("the answer to GET /images/json is not a list")
    return images


def image_candidates(images: Sequence[Any], incomplete: str) -> list[tuple[str, str]]:
    """repo:tag names that start with the word; IDs too when the word is hex.

    Only what the command accepts is offered: a daemon's odd tag never reaches the shell.
    """
    names: dict[str, str] = {}
    ids: dict[str, str] = {}
    id_prefix = _ID_PREFIX.fullmatch(incomplete)
    want_ids = id_prefix is not None and bool(id_prefix["algorithm"] or id_prefix["hex"])
    for image in images:
        if not isinstance(image, Mapping):
            continue
        image_id = image.get("Id")
        tags = [tag for tag in image.get("RepoTags") or () if _is_reference(tag)]
        short_id = ""
        if isinstance(image_id, str) and _FULL_ID.fullmatch(image_id):
            short_id = image_id.removeprefix("sha256:")[:SHORT_ID_LENGTH]
        for tag in tags:
            if tag.startswith(incomplete):
                names[tag] = short_id
        if want_ids and short_id and isinstance(image_id, str):
            candidate = _id_candidate(image_id, incomplete)
            if candidate.startswith(incomplete):
                ids[candidate] = " ".join(tags) or "untagged"
    return sorted(names.items()) + sorted(ids.items())


def _is_reference(tag: object) -> bool:
    if not isinstance(tag, str) or tag == "<none>:<none>":
        return False
    try:
        parse_reference(tag)
    except UsageError:
        return False
    return True


def _id_candidate(image_id: str, incomplete: str) -> str:
    """The ID in the form the word has begun: sha256:<hex>, a short ID, or the full hex."""
    if incomplete.startswith("sha256:"):
        return image_id
    full = image_id.removeprefix("sha256:")
    return full[:SHORT_ID_LENGTH] if len(incomplete) < SHORT_ID_LENGTH else full
