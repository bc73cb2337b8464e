"""Images from every source a run names, each as a record, in the order they were named.

Each source turns its names into records behind the same small interface (`Source`): the
daemon asks ahead of each image's turn over one connection, registries are asked several
images at once, an archive is read in its turn.
One image that fails stops no other; a source that cannot be asked any more (a daemon gone)
says so once and is asked nothing more.
"""

from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, cast

from inspector.errors import SourceError
from inspector.image import Image
from inspector.sources.interface import ListingSource, Request, Say, Source

if TYPE_CHECKING:
    from inspector.sources.daemon import DaemonFlags
    from inspector.sources.names import ImageName


def fetch_images(
    names: Sequence["ImageName"] | None,
    request: Request,
    *,
    daemon: "DaemonFlags",
    insecure_registries: Sequence[str] = (),
    filters: Mapping[str, Sequence[str]] | None = None,
    log: Say | None = None,
    warn: Say | None = None,
    counted: Callable[[int], None] | None = None,
) -> Generator[Image, None, None]:
    """A record for each name, in order; with names None, for every image the daemon lists
    (filtered as `docker image ls --filter` does). insecure_registries are the registries
    (HOST[:PORT]) to reach as docker reaches those its --insecure-registry names.

    Every source the names need is opened first, so a wrong flag or environment variable is
    a usage error before any image. A source that cannot be asked (SourceError) gets one
    record with its error, and is asked nothing more; any other error about no one image (a
    usage error, such as an option the source cannot honour) is raised.
    """
    from inspector.reference import ImageReference

    kinds = {ImageReference} if names is None else {type(name) for name in names}
    with ExitStack() as stack:
        sources: dict[type, Source] = {}
        for kind in sorted(kinds, key=lambda kind: kind.__name__):  # the same order every run
            source = _open(kind, request, daemon, tuple(insecure_registries), log, warn)
            stack.callback(source.close)
            sources[kind] = source
        if names is None:
            lister = cast(ListingSource, sources[ImageReference])  # the daemon lists its images
            try:
                names = lister.listed(filters or {})
            except SourceError as exc:
                yield Image("", error=exc)
                return
        if counted is not None:
            counted(len(names))
        yield from _in_order(names, sources)


def _open(
    kind: type,
    request: Request,
    daemon: "DaemonFlags",
    insecure_registries: tuple[str, ...],
    log: Say | None,
    warn: Say | None,
) -> Source:
    """The source for one kind of name; its modules are loaded only for a run that needs it."""
    from inspector.reference import ImageReference
    from inspector.sources.archive.names import ArchiveName

    if kind is ImageReference:
        from inspector.sources.daemon.source import DaemonSource

        return DaemonSource(daemon, request, log=log, warn=warn)
    if kind is ArchiveName:
        from inspector.sources.archive.source import ArchiveSource

        return ArchiveSource(request)
    from inspector.sources.registry import RegistryFlags
    from inspector.sources.registry.source import RegistrySource

    flags = RegistryFlags(insecure_registries, daemon.timeout)
    return RegistrySource(flags, request, log=log, warn=warn)


def _in_order(names: Sequence["ImageName"], sources: Mapping[type, Source]) -> Iterator[Image]:
    """Each name's record from its source, in the order of names.

    Each source is given its own names lazily, so one that asks ahead (the daemon) runs ahead
    of the others while they are read in turn.
    """
    records: dict[type, Generator[Image, None, None] | None] = {
        kind: source.images(_of_kind(names, kind)) for kind, source in sources.items()
    }
    try:
        for name in names:
            those = records[type(name)]
            if those is None:  # the source could not be asked any more
                continue
            try:
                record = next(those, None)
            except SourceError as exc:  # about the source, not this image: said once
                records[type(name)] = None
                yield Image("", error=exc)
                continue
            if record is None:
                records[type(name)] = None
                continue
            yield record
    finally:  # what a source has in flight is let go of, even when the run is cut short
        for those in records.values():
            if those is not None:
                those.close()


def _of_kind(names: Sequence["ImageName"], kind: type) -> Iterator["ImageName"]:
    return (name for name in names if type(name) is kind)
