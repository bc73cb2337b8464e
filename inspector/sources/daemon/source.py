"""The daemon as a source: references in, records out, asked ahead over one connection."""

import os
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from inspector.errors import DaemonError, ImginspectError
from inspector.image import Image
from inspector.reference import ImageReference, Platform, parse_reference
from inspector.sources.daemon import DaemonFlags
from inspector.sources.daemon.endpoint import resolve_connection
from inspector.sources.interface import Request, Say

if TYPE_CHECKING:
    from inspector.sources.daemon.client import Daemon
    from inspector.sources.names import ImageName


class DaemonSource:
    """The daemon the flags and environment choose, as docker chooses it.

    The choice is made at once (no socket: only docker's configuration and TLS files are
    read), so a wrong flag is a usage error before any image; the daemon is first asked when
    an image is.
    """

    def __init__(
        self, flags: DaemonFlags, request: Request, *, log: Say | None, warn: Say | None
    ) -> None:
        self._connection = resolve_connection(flags, os.environ)
        for warning in self._connection.warnings:
            if warn is not None:
                warn(warning)
        if log is not None:
            for reason in self._connection.reasons:
                log(reason)
        self._log = log
        self._request = request
        from inspector.sources.daemon.client import Daemon  # requests: only when asking

        # TLS files are read here: one that cannot be used ends the run before any image, as
        # it does docker's (a refused handshake, later, is each image's failure).
        self._daemon: Daemon | None = Daemon(self._connection, log)
        # For --all: the name the view heads each listed image with, by its ID.
        self._shown_as: dict[str, str] = {}

    def listed(self, filters: Mapping[str, Sequence[str]]) -> list["ImageName"]:
        """Every image the daemon lists (`docker image ls`, filtered), by its ID, in its order."""
        daemon = self._ready()
        listed = daemon.list_images(filters)
        self._shown_as = {reference.text: shown for reference, shown in listed}
        return [reference for reference, _ in listed]

    def images(self, names: Iterator["ImageName"]) -> Generator[Image, None, None]:
        """Each image's record, in order; the daemon is asked several images ahead.

        With history (the view, --diff), each image's history follows its answer, and where
        the history leaves open which step made a layer, the step images that settle it.
        """
        daemon = self._ready()
        references = (name for name in names if isinstance(name, ImageReference))
        request = self._request
        inspections = daemon.inspect_many(
            references,
            platform=request.platform,
            manifests=request.manifests,
            with_history=request.with_history,
            alone=request.contents,
        )
        try:
            for image in inspections:
                inspected_as = image.asked
                image = image._replace(asked=self._shown_as.get(image.asked, image.asked))
                if image.inspect is None:
                    yield image
                    continue
                # Nothing else is in flight: with history or contents, the daemon is asked one
                # thing at a time.
                if image.history is not None:
                    counts, lost = _layer_counts(daemon, image.inspect, image.history)
                    image = image._replace(layer_counts=counts, source_error=lost)
                if request.contents and image.source_error is None:
                    image = _with_contents(daemon, image, inspected_as, request.platform)
                yield image
                if image.source_error is not None or (image.error and image.error.fatal):
                    return
        finally:
            inspections.close()

    def close(self) -> None:
        if self._daemon is not None:
            self._daemon.close()
            self._daemon = None

    def _ready(self) -> "Daemon":
        """The client, once it knows which daemon answers, which API it speaks, and that the
        API has the options asked for (an option it lacks is a usage error)."""
        daemon = self._daemon
        assert daemon is not None, "asked after close()"
        daemon.api_version  # noqa: B018 -- asks the daemon once, before any image
        daemon.check_inspect_options(
            platform=self._request.platform is not None, manifests=self._request.manifests
        )
        return daemon


def _with_contents(
    daemon: "Daemon", image: Image, inspected_as: str, platform: Platform | None
) -> Image:
    """The image with its layers' entries, read from the daemon's `docker save` of the
    reference it was inspected by; or, if they cannot be had, its error instead: a run that
    asks for contents shows none without them."""
    from inspector.sources.daemon.save import layer_contents  # tarfile and the archive's reader

    assert image.inspect is not None
    try:
        reference = parse_reference(inspected_as)  # it was parsed before, to inspect it
        contents = layer_contents(daemon, reference, image.inspect, platform, shown=image.asked)
        return image._replace(contents=contents)
    except ImginspectError as exc:
        return Image(image.asked, error=exc)


def _layer_counts(
    daemon: "Daemon", inspect: bytes, history: bytes
) -> tuple[dict[str, int] | None, DaemonError | None]:
    """Where the history leaves open which step made a layer, ask for the step images it
    names (at most layers.MAX_ASKED): their numbers of layers settle it. None when nothing
    was open; and the error when the daemon stopped answering.

    A step image that is missing or fails is no error: the view lists the possible steps.
    """
    from inspector.layers import image_ids_to_ask, layer_count
    from inspector.reference import parse_reference

    wanted = image_ids_to_ask(inspect, history)
    if not wanted:
        return None, None
    counts: dict[str, int] = {}
    for image_id in wanted:
        try:
            count = layer_count(daemon.inspect(parse_reference(image_id)))
        except ImginspectError as exc:  # pruned, an Id that is no reference, a 500: left out
            if isinstance(exc, DaemonError) and exc.fatal:
                return counts, exc
            continue
        if count is not None:
            counts[image_id] = count
    return counts, None
