"""The interface every source of images implements, and what a run asks of each image."""

from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

from inspector.image import Image

if TYPE_CHECKING:
    from inspector.reference import Platform
    from inspector.sources.names import ImageName

# Where --debug lines and warnings go: one line each, written by the command.
Say = Callable[[str], None]


class Request(NamedTuple):
    """What the run wants of every image, whatever its source."""

    platform: "Platform | None" = None  # one platform of a multi-platform image
    manifests: bool = False  # the daemon's list of the image's manifests
    with_history: bool = False  # the build history, for the view and --diff
    contents: bool = False  # every layer read through, its entries kept (--contents, --files)


class Source(Protocol):
    """Names in, one record out for each, in order, lazily: a source may ask ahead.

    A failure that is about no one image (the source cannot be reached) is raised; the
    iterator ends early when the source cannot be asked any more.
    """

    def images(self, names: Iterator["ImageName"]) -> Generator[Image, None, None]: ...

    def close(self) -> None: ...


class ListingSource(Source, Protocol):
    """A source that can also name every image it has, as `docker image ls` does."""

    def listed(self, filters: Mapping[str, Sequence[str]]) -> list["ImageName"]:
        """Every image, in the source's order, kept by filters as the source's own list
        keeps them."""
        ...
