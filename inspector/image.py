"""The one record an image travels as, from whichever source, to whichever output form."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from inspector.errors import ImginspectError

if TYPE_CHECKING:
    from inspector.contents.model import LayerContents


class Origin(NamedTuple):
    """Where an image was read without a daemon: the kind of file and its path, or the registry
    and repository.

    `stored_size` is what its layer blobs take there, compressed or not; the inspect object's
    Size is what docker counts: the layers' files, unpacked (absent for a registry's image).
    """

    # `docker-archive`, `oci-archive`, `OCI layout`, `docker save directory`, `registry`
    kind: str
    path: str
    stored_size: int | None = None

    @property
    def description(self) -> str:
        return f"{self.kind} {self.path}"


class Image(NamedTuple):
    """One image of a run, in the order asked: what the source said of it, or why nothing.

    `inspect` is the inspect object (`GET /images/{name}/json`) as the exact JSON bytes the
    source gave; `history` the history list, newest first, when the view or --diff asked for
    it. `layer_counts` holds, by history `Id`, the number of layers of the build's step images,
    where they settle which step made a layer (see layers.py). `origin` is None for an image a
    daemon described.
    """

    asked: str
    inspect: bytes | None = None
    error: ImginspectError | None = None
    history: bytes | None = None
    history_error: ImginspectError | None = None
    origin: Origin | None = None
    layer_counts: Mapping[str, int] | None = None
    # Each layer's entries, bottom first, when the run asked for the image's contents.
    contents: "tuple[LayerContents, ...] | None" = None
    # The source stopped answering after this image's answer (asked for its history or its
    # step images): the image is still shown, and the run fails with this error.
    source_error: ImginspectError | None = None
