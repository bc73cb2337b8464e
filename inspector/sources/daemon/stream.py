"""An answer's body read as it arrives, for answers too large to hold (an image's `docker
save`): each read within --timeout, the whole taking as long as the daemon takes, and every
failure the daemon's error."""

import http.client
from collections.abc import Callable

import requests
import urllib3

from inspector.errors import DaemonError
from inspector.sources.daemon.deadline import request_deadline

# The most one read asks the connection for: what memory holds of the body is bounded.
CHUNK = 1024 * 1024
# What reading a body can raise, whichever client reads it.
BODY_FAILURES = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


class BodyStream:
    """A 200 answer's body: read() as a file's, close() when done with it.

    `failure` turns what a read raised into the daemon's error; `finish` hands the
    connection back, told whether the body was read to its end (if not, it is dropped).
    """

    def __init__(
        self,
        read1: Callable[[int], bytes],
        timeout: float,
        failure: Callable[[BaseException], DaemonError],
        finish: Callable[..., None],
    ) -> None:
        self._read1 = read1
        self._timeout = timeout
        self._failure = failure
        self._finish: Callable[..., None] | None = finish
        self._ended = False

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            return b"".join(iter(lambda: self.read(CHUNK), b""))
        # A deadline for each read, not for the body: a stalled daemon is stopped, a large
        # image is not.
        with request_deadline(self._timeout):
            try:
                data = self._read1(min(size, CHUNK))
            except BODY_FAILURES as exc:
                raise self._failure(exc) from exc
        self._ended = not data
        return data

    def close(self) -> None:
        if self._finish is not None:
            self._finish(whole=self._ended)
            self._finish = None

    def __enter__(self) -> "BodyStream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
