"""Registries as a source: `docker://` names in, records out, in order, fetched concurrently.

Several images are asked at once, by a few threads sharing one client: each registry's
connections are kept alive, and what one image asked (a registry's challenge, a token, a
manifest, a config) is not asked again for another. Each image is given in its turn, as soon
as it and those before it are ready. With contents, each image's layer blobs are read through
too (layers.py).
"""

import json
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from inspector import untrusted
from inspector.errors import ImageNotFound, ImginspectError, RegistryUnsupported, UsageError
from inspector.image import Image, Origin
from inspector.sources.api_version import shaped_api_version
from inspector.sources.interface import Request, Say
from inspector.sources.registry import RegistryFlags
from inspector.sources.registry.answers import ManifestFacts, describe, stored_size
from inspector.sources.registry.client import Manifest, RegistryClient
from inspector.sources.registry.names import RegistryName
from inspector.sources.registry.platforms import (
    choose,
    config_platform,
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
# The API version from which the daemon lists an image's manifests.
MANIFESTS_API_VERSION = "1.48"
# Indexes within indexes that --manifests walks into, as deep as the daemon does.
MAX_NESTING = 8


class RegistrySource:
    """The registries that `docker://` names name; nothing is asked before an image is."""

    def __init__(
        self, flags: RegistryFlags, request: Request, *, log: Say | None, warn: Say | None
    ) -> None:
        self._request = request
        self._timeout = flags.timeout
        self._api_version = shaped_api_version(os.environ)
        if request.manifests and _version(self._api_version) < _version(MANIFESTS_API_VERSION):
            raise UsageError(
                f"--manifests needs API {MANIFESTS_API_VERSION}, "
                f"DOCKER_API_VERSION pins {self._api_version}"
            )
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
        index, facts, nested = (
            self._manifests(name, top, chosen, config, document, deadline)
            if self._request.manifests
            else (None, None, None)
        )
        image_id = untrusted.plain(untrusted.member(chosen.document, "config").get("digest"))
        inspect, history = describe(
            config,
            image_id=image_id,
            repo_tags=[f"{name.familiar}:{name.tag}"] if name.tag else [],
            repo_digests=[f"{name.familiar}@{top.digest}"],
            with_history=self._request.with_history,
            api_version=self._api_version,
            where=f"registry {name.registry}: {name.canonical}",
            index=index,
            facts=facts,
            nested=nested,
        )
        origin = Origin(
            "registry", f"{name.registry}/{name.repository}", stored_size(chosen.document)
        )
        contents = None
        if self._request.contents:
            from inspector.sources.registry.layers import layer_contents  # the archive's reader

            contents = layer_contents(self._client, name, chosen.document, document, self._timeout)
        return Image(name.text, inspect, history=history, origin=origin, contents=contents)

    def _manifests(
        self,
        name: RegistryName,
        top: Manifest,
        chosen: Manifest,
        config: bytes,
        document: Mapping[str, Any],
        deadline: Deadline,
    ) -> tuple[bytes, dict[str, ManifestFacts], dict[str, bytes]]:
        """The index to list (a lone manifest: an index of it alone, its platform from its
        config), what the registry holds of each manifest it reaches, and the bytes of the
        indexes nested in it, by digest."""
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
            return json.dumps({"manifests": [lone]}).encode(), {top.digest: _facts(top, config)}, {}
        facts: dict[str, ManifestFacts] = {}
        nested: dict[str, bytes] = {}
        indexes = [(top, 0)]
        while indexes:
            index, depth = indexes.pop()
            for entry in _entries(index):
                digest = untrusted.plain(entry.get("digest"))
                if not digest or digest in facts or digest in nested:
                    continue
                child = self._client.manifest(name, digest, deadline)
                if not child.is_index:
                    facts[digest] = _facts(child, None)
                elif depth < MAX_NESTING:
                    nested[digest] = child.body
                    indexes.append((child, depth + 1))
        return top.body, facts, nested


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _facts(manifest: Manifest, config: bytes | None) -> ManifestFacts:
    """A manifest as the registry holds it: not here (a registry's image is never pulled);
    its content, what it and its blobs take in the registry."""
    return ManifestFacts(
        manifest=manifest.body, config=config, content_size=_content(manifest) or 0
    )


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
