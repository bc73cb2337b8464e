"""Registries as a source: `docker://` names in, records out, in order, fetched concurrently.

Several images are asked at once, by a few threads sharing one client: each registry's
connections are kept alive, and what one image asked (a registry's challenge, a token, a
manifest, a config) is not asked again for another. Each image is given in its turn, as soon
as it and those before it are ready.
"""

import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from inspector import untrusted
from inspector.errors import ImageNotFound, ImginspectError, RegistryUnsupported
from inspector.image import Image, Origin
from inspector.sources.interface import Request, Say
from inspector.sources.registry import RegistryFlags
from inspector.sources.registry.answers import describe, manifest_summary, stored_size
from inspector.sources.registry.client import Manifest, RegistryClient
from inspector.sources.registry.names import RegistryName
from inspector.sources.registry.platforms import (
    choose,
    config_platform,
    is_attestation,
    listed,
    matches,
    this_machine,
)
from inspector.sources.registry.transport import Deadline

if TYPE_CHECKING:
    from inspector.sources.names import ImageName

# Images asked at once: enough to hide a registry's latency, few enough for its rate limits.
WORKERS = 8
# Images named ahead of the one being printed: what waits in memory is bounded.
AHEAD = 32


class RegistrySource:
    """The registries that `docker://` names name; nothing is asked before an image is."""

    def __init__(
        self, flags: RegistryFlags, request: Request, *, log: Say | None, warn: Say | None
    ) -> None:
        self._request = request
        self._timeout = flags.timeout
        self._client = RegistryClient(flags, log, pool_size=WORKERS)
        self._workers = _Workers(WORKERS)

    def images(self, names: Iterator["ImageName"]) -> Generator[Image, None, None]:
        pending: deque[Future[Image]] = deque()
        ours = (name for name in names if isinstance(name, RegistryName))
        try:
            while True:
                while len(pending) < AHEAD:
                    name = next(ours, None)
                    if name is None:
                        break
                    pending.append(self._workers.submit(self._image, name))
                if not pending:
                    return
                image = pending.popleft().result()
                if image.error is not None and image.error.fatal:
                    raise image.error  # a rate limit: nothing more is asked
                yield image
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._workers.close()
        self._client.close()

    def _image(self, name: RegistryName) -> Image:
        try:
            return self._describe(name, Deadline.after(self._timeout))
        except ImginspectError as exc:
            return Image(name.text, error=exc)

    def _describe(self, name: RegistryName, deadline: Deadline) -> Image:
        client = self._client
        top = client.manifest(name, name.reference, deadline)
        wanted = self._request.platform or this_machine()
        chosen = top
        if top.is_index:
            entries = _entries(top)
            entry = choose(entries, wanted)
            if entry is None:
                raise ImageNotFound(
                    f"{name.text}: no image for {wanted} in {name.registry}; it has "
                    f"{listed(entries)}"
                )
            chosen = client.manifest(name, untrusted.plain(entry.get("digest")), deadline)
            if chosen.is_index:
                raise RegistryUnsupported(
                    f"registry {name.registry}: {name.canonical}: the index names another "
                    f"index for {wanted}, which docker does not pull"
                )
        config = client.config(name, untrusted.member(chosen.document, "config"), deadline)
        document = untrusted.parse(config)
        if not top.is_index and self._request.platform and not matches(document, wanted):
            raise ImageNotFound(
                f"{name.text}: its image is for {config_platform(document)}, not {wanted}"
            )
        manifests = (
            self._manifests(name, top, document, deadline) if self._request.manifests else None
        )
        inspect, history = describe(
            config,
            chosen.document,
            image_id=untrusted.plain(untrusted.member(chosen.document, "config").get("digest")),
            repo_tags=[f"{name.familiar}:{name.tag}"] if name.tag else [],
            repo_digests=[f"{name.familiar}@{top.digest}"],
            with_history=self._request.with_history,
            manifests=manifests,
        )
        origin = Origin(
            "registry", f"{name.registry}/{name.repository}", stored_size(chosen.document)
        )
        return Image(name.text, inspect, history=history, origin=origin)

    def _manifests(
        self, name: RegistryName, top: Manifest, document: Mapping[str, Any], deadline: Deadline
    ) -> list[dict[str, Any]]:
        """Every entry of the index (one, for a lone manifest), with what its blobs take."""
        if not top.is_index:
            platform = {
                key: document[key]
                for key in ("architecture", "os", "os.version", "variant")
                if isinstance(document.get(key), str) and document[key]
            }
            lone = {
                "mediaType": top.media_type,
                "digest": top.digest,
                "size": len(top.body),
                "platform": platform,
            }
            return [manifest_summary(lone, kind="image", content_size=_content(top))]
        summaries = []
        for entry in _entries(top):
            digest = untrusted.plain(entry.get("digest"))
            child = self._client.manifest(name, digest, deadline) if digest else None
            kind = (
                "attestation"
                if is_attestation(entry)
                else "image"
                if child is not None and not child.is_index
                else "unknown"
            )
            content = _content(child) if child is not None else None
            summaries.append(manifest_summary(entry, kind=kind, content_size=content))
        return summaries


def _entries(index: Manifest) -> list[Mapping[str, Any]]:
    manifests = index.document.get("manifests")
    if not isinstance(manifests, list):
        return []
    return [entry for entry in manifests if isinstance(entry, dict)]


def _content(manifest: Manifest) -> int | None:
    """The bytes of a manifest and every blob it names, as the registry stores them."""
    if manifest.is_index:
        return None
    config = untrusted.member(manifest.document, "config").get("size")
    layers = stored_size(manifest.document)
    if not isinstance(config, int) or layers is None:
        return None
    return len(manifest.body) + config + layers


class _Workers:
    """A few daemon threads running what is submitted: a Ctrl-C or the end of the run does
    not wait for a request in flight (each has its own timeout besides)."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], Any] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []

    def submit(self, work: Callable[[RegistryName], Image], name: RegistryName) -> Future[Image]:
        future: Future[Image] = Future()
        self._queue.put((future, work, name))
        if len(self._threads) < self._count:
            thread = threading.Thread(target=self._run, name="registry", daemon=True)
            thread.start()
            self._threads.append(thread)
        return future

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, work, argument = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work(argument))
            except BaseException as exc:  # handed to the thread that waits for it
                future.set_exception(exc)
